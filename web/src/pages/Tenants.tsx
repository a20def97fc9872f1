import { Badge, Box, Button, Callout, Card, Container, Flex, Grid, Heading, Link as RadixLink, Select, Table, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { Link, Navigate, useNavigate, useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { formatCents, slugify } from "../lib/format";
import { Field } from "./AuthPages";
import { TopBar, useMe } from "./Shell";
import { UsageBar, useBilling, useUsage } from "./UsageParts";

const schema = z.object({
  name: z.string().trim().min(1, "Enter a name").max(200),
  slug: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, "3-40 lower-case letters, digits and dashes"),
  plan: z.string().optional(),
});

export function NewTenantPage() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const plans = useQuery({ queryKey: ["plans"], queryFn: async () => unwrap(await api.GET("/v1/plans")) });
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema), defaultValues: { name: "", slug: "" } });
  const slugTouched = form.formState.dirtyFields.slug;
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      // A plan whose trial this user already had starts on the free plan rather than failing (ADR 0520's when_trial_unavailable).
      const tenant = unwrap(await api.POST("/v1/tenants", { body: { name: v.name, slug: v.slug, plan: v.plan || null, when_trial_unavailable: "free" } }));
      await queries.invalidateQueries({ queryKey: ["me"] });
      navigate(`/t/${tenant.id}`);
    } catch (e) {
      setError(e);
    }
  });
  return (
    <>
      <TopBar />
      <Container size="1" px="4" py="6">
        <main>
          <Card size="3">
            <Box mb="4"><Heading as="h1" size="6">Create a tenant</Heading></Box>
            <form onSubmit={submit} noValidate>
              <Flex direction="column" gap="3">
                {error ? <ProblemCallout error={error} /> : null}
                <Field id="tenant-name" label="Name" {...form.register("name", {
                  onChange: (e) => { if (!slugTouched) form.setValue("slug", slugify(e.target.value)); },
                })} error={form.formState.errors.name?.message} />
                <Field id="tenant-slug" label="Slug" {...form.register("slug")} error={form.formState.errors.slug?.message} />
                <Flex direction="column" gap="1">
                  <Text as="label" id="plan-label" size="2" weight="medium">Plan</Text>
                  {plans.isPending ? <Loading label="Loading plans" /> : plans.isError ? <ProblemCallout error={plans.error} /> : (
                    <Controller control={form.control} name="plan" render={({ field }) => (
                      <Select.Root value={field.value ?? ""} onValueChange={field.onChange}>
                        <Select.Trigger aria-labelledby="plan-label" placeholder="Default plan" />
                        <Select.Content>
                          {plans.data.data.map((p) => (
                            <Select.Item key={p.id} value={p.id}>
                              {p.name} — {formatCents(p.price_monthly_cents)}/month{p.trial_days ? `, ${p.trial_days}-day trial` : ""}
                            </Select.Item>
                          ))}
                        </Select.Content>
                      </Select.Root>
                    )} />
                  )}
                </Flex>
                <Button type="submit" loading={form.formState.isSubmitting}>Create tenant</Button>
              </Flex>
            </form>
          </Card>
        </main>
      </Container>
    </>
  );
}

/** Shows the tenant at a glance: status banners, usage cards, members, the estimated cost and the recent runs. */
export function OverviewPage() {
  const membership = useOutletContext<Membership>();
  const tenantId = membership.tenant_id;
  const tenant = useQuery({
    queryKey: ["tenant", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId } } })),
  });
  const usage = useUsage(tenantId);
  // The billing summary is for admins and owners; the others see no cost card.
  const isAdmin = membership.role === "owner" || membership.role === "admin";
  const billing = useBilling(tenantId, isAdmin);
  const members = useQuery({
    queryKey: ["members", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/members", { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
  });
  const runs = useQuery({
    queryKey: ["runs", tenantId, "recent"],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/runs", { params: { path: { tenant_id: tenantId }, query: { limit: 5 } } })),
  });
  if (tenant.isPending) return <Loading />;
  if (tenant.isError) return <ProblemCallout error={tenant.error} />;
  const t = tenant.data;
  const trialDays = t.trial_ends_at ? Math.max(0, Math.ceil((Date.parse(t.trial_ends_at) - Date.now()) / 86_400_000)) : null;
  return (
    <Flex direction="column" gap="4">
      {t.status === "trial" && trialDays !== null ? (
        <Callout.Root color="blue" highContrast data-testid="trial-banner">
          <Callout.Text>
            Trial of the {t.plan} plan: {trialDays} day{trialDays === 1 ? "" : "s"} left.{" "}
            <RadixLink asChild underline="always" highContrast><Link to={`/t/${tenantId}/usage`}>See usage</Link></RadixLink>
          </Callout.Text>
        </Callout.Root>
      ) : null}
      {t.status === "past_due" ? (
        <Callout.Root color="orange" highContrast role="alert" data-testid="status-banner">
          <Callout.Text>Payment is past due. Pay the open invoice before the grace period ends, or the tenant is suspended.</Callout.Text>
        </Callout.Root>
      ) : null}
      {t.status === "suspended" ? (
        <Callout.Root color="red" highContrast role="alert" data-testid="status-banner">
          <Callout.Text>This tenant is suspended{t.suspended_reason ? ` (${t.suspended_reason})` : ""}: runs are refused. Pay the open invoices or contact support.</Callout.Text>
        </Callout.Root>
      ) : null}
      <Grid columns={{ initial: "1", sm: "2", md: "3" }} gap="4">
        {usage.isPending ? <Loading label="Loading usage" /> : usage.isError ? <ProblemCallout error={usage.error} /> :
          usage.data.meters.map((m) => (
            <Card key={m.meter}><UsageBar meter={m} /></Card>
          ))}
        <Stat label="Members" value={members.isPending ? "…" : members.isError ? "—" : String(members.data.data.length)} testId="members-count" />
        {isAdmin ? (
          <Stat label="Estimated cost this month" testId="estimated-cost"
            value={billing.isPending ? "…" : billing.isError ? "—" : formatCents(billing.data.estimated_cost.total_cents, billing.data.estimated_cost.currency)} />
        ) : null}
      </Grid>
      <Card>
        <Heading as="h2" size="3" mb="2">Recent runs</Heading>
        {runs.isPending ? <Loading label="Loading runs" /> : runs.isError ? <ProblemCallout error={runs.error} /> :
          runs.data.data.length === 0 ? <Empty>No runs yet. Runs appear here when an API key admits one.</Empty> : (
            <Table.Root size="1" aria-label="Recent runs">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Task</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Worker</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Tokens</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Cost</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {runs.data.data.map((r) => (
                  <Table.Row key={r.id}>
                    <Table.Cell><Link to={`/t/${tenantId}/runs/${r.id}`}>{r.task || r.id}</Link></Table.Cell>
                    <Table.Cell>{r.worker_id}</Table.Cell>
                    <Table.Cell><Badge highContrast color={r.status === "succeeded" ? "green" : r.status === "running" ? "blue" : "red"}>{r.status}</Badge></Table.Cell>
                    <Table.Cell justify="end">{r.total_tokens?.toLocaleString("en-US") ?? "—"}</Table.Cell>
                    <Table.Cell justify="end">{r.cost_cents === null || r.cost_cents === undefined ? "—" : formatCents(r.cost_cents, r.currency)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root>
          )}
      </Card>
    </Flex>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Card>
      <Text as="p" size="1" color="gray">{label}</Text>
      <Text as="p" size="5" weight="bold" data-testid={testId}>{value}</Text>
    </Card>
  );
}

/** Opens a tenant page from a link that names no tenant (the alert emails' /usage and /billing): the default tenant's, or the first. */
export function TenantlessRedirect({ page }: { page: string }) {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <Box p="4"><ProblemCallout error={me.error} /></Box>;
  const first = me.data.memberships.find((m) => m.tenant_id === me.data.user.default_tenant_id) ?? me.data.memberships[0];
  return <Navigate to={first ? `/t/${first.tenant_id}/${page}` : "/tenants/new"} replace />;
}
