import { AlertDialog, Badge, Button, Card, Code, DataList, Flex, Heading, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { ProblemError } from "../lib/problem";
import { Field } from "./AuthPages";
import { UpgradeCallout } from "./Branding";

type Domain = Schemas["DomainResponse"];

const formatDateTime = (iso: string) => new Date(iso).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC";

const addSchema = z.object({ name: z.string().trim().min(1, "Enter a domain name").max(253) });

const statusColor = (status: string) => (status === "verified" ? "green" : status === "failed" ? "red" : "amber");

/** The tenant's custom domains: add one (the API's normalised name comes back), publish its TXT record, verify it, remove it. */
export function DomainsPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const canEdit = me.role === "owner" || me.role === "admin";
  const list = useQuery({
    queryKey: ["domains", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/domains", { params: { path: { tenant_id: tenantId } } })),
  });
  const gated = list.error instanceof ProblemError && list.error.problem.code === "feature_not_in_plan";
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Custom domains</Heading>
      {list.isPending ? <Loading label="Loading the domains" /> : gated ? <UpgradeCallout feature="custom domains" /> : list.isError ? <ProblemCallout error={list.error} /> : (
        <>
          {canEdit ? <AddDomainCard tenantId={tenantId} /> : null}
          {list.data.data.length === 0 ? <Empty>No custom domains yet.</Empty> : list.data.data.map((d) => <DomainCard key={d.id} tenantId={tenantId} domain={d} canEdit={canEdit} />)}
        </>
      )}
    </Flex>
  );
}

function AddDomainCard({ tenantId }: { tenantId: string }) {
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState<string | null>(null);
  const form = useForm<z.infer<typeof addSchema>>({ resolver: zodResolver(addSchema), defaultValues: { name: "" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setAdded(null);
    try {
      const domain = unwrap(await api.POST("/v1/tenants/{tenant_id}/domains", { params: { path: { tenant_id: tenantId } }, body: { name: v.name } }));
      setAdded(domain.name);
      form.reset({ name: "" });
      await queries.invalidateQueries({ queryKey: ["domains", tenantId] });
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Card>
      <form onSubmit={submit} noValidate aria-labelledby="add-domain-heading">
        <Flex direction="column" gap="3" maxWidth="480px">
          <Heading as="h3" size="3" id="add-domain-heading">Add a domain</Heading>
          {error ? <ProblemCallout error={error} /> : null}
          <Field id="domain-name" label="Domain name" placeholder="app.example.com" {...form.register("name")} error={form.formState.errors.name?.message} />
          {added ? <Text role="status" color="green" data-testid="domain-added">Added {added}. Publish its TXT record below, then verify it.</Text> : null}
          <Button type="submit" loading={form.formState.isSubmitting} style={{ alignSelf: "start" }}>Add domain</Button>
        </Flex>
      </form>
    </Card>
  );
}

function DomainCard({ tenantId, domain, canEdit }: { tenantId: string; domain: Domain; canEdit: boolean }) {
  const queries = useQueryClient();
  const [copied, setCopied] = useState(false);
  const path = { tenant_id: tenantId, domain_id: domain.id };
  const verify = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/domains/{domain_id}/verify", { params: { path } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["domains", tenantId] }),
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/tenants/{tenant_id}/domains/{domain_id}", { params: { path } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["domains", tenantId] }),
  });
  return (
    <Card data-testid="domain-row" aria-label={domain.name} role="region">
      <Flex direction="column" gap="3">
        <Flex align="center" gap="3" wrap="wrap">
          <Heading as="h3" size="3" data-testid="domain-name">{domain.name}</Heading>
          <Badge highContrast color={statusColor(domain.status)} data-testid="domain-status">{domain.status}</Badge>
          <Badge highContrast color="gray" variant="outline">certificate: {domain.ssl_status}</Badge>
        </Flex>
        {domain.status !== "verified" ? (
          <Text size="2">Publish this DNS record at your DNS provider, then press Verify.</Text>
        ) : null}
        <DataList.Root size="2" orientation={{ initial: "vertical", sm: "horizontal" }}>
          <DataList.Item>
            <DataList.Label>Type</DataList.Label>
            <DataList.Value><Code>{domain.verification.type}</Code></DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Name</DataList.Label>
            <DataList.Value><Code data-testid="txt-name" style={{ wordBreak: "break-all" }}>{domain.verification.name}</Code></DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Value</DataList.Label>
            <DataList.Value>
              <Flex gap="2" align="center" wrap="wrap">
                <Code data-testid="txt-value" style={{ wordBreak: "break-all" }}>{domain.verification.value}</Code>
                <Button size="1" variant="soft" data-testid="copy-token" onClick={async () => { await navigator.clipboard.writeText(domain.verification.value); setCopied(true); }}>{copied ? "Copied" : "Copy token"}</Button>
              </Flex>
            </DataList.Value>
          </DataList.Item>
          {domain.last_checked_at ? (
            <DataList.Item>
              <DataList.Label>Last checked</DataList.Label>
              <DataList.Value>{formatDateTime(domain.last_checked_at)}</DataList.Value>
            </DataList.Item>
          ) : null}
          {domain.last_error ? (
            <DataList.Item>
              <DataList.Label>Last result</DataList.Label>
              <DataList.Value><Text data-testid="domain-error">{domain.last_error}</Text></DataList.Value>
            </DataList.Item>
          ) : null}
        </DataList.Root>
        {verify.isError ? <ProblemCallout error={verify.error} /> : null}
        {verify.isSuccess ? <Text role="status" data-testid="verify-result">Checked: {verify.data.status}{verify.data.last_error ? ` (${verify.data.last_error})` : ""}.</Text> : null}
        {remove.isError ? <ProblemCallout error={remove.error} /> : null}
        {canEdit ? (
          <Flex gap="3" wrap="wrap">
            <Button loading={verify.isPending} onClick={() => verify.mutate()} aria-label={`Verify ${domain.name}`}>Verify</Button>
            <AlertDialog.Root>
              <AlertDialog.Trigger><Button color="red" variant="soft" aria-label={`Delete ${domain.name}`}>Delete</Button></AlertDialog.Trigger>
              <AlertDialog.Content maxWidth="420px">
                <AlertDialog.Title>Delete {domain.name}?</AlertDialog.Title>
                <AlertDialog.Description>It stops reaching the tenant at once and its name is free again.</AlertDialog.Description>
                <Flex gap="3" mt="4" justify="end">
                  <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                  <AlertDialog.Action><Button color="red" onClick={() => remove.mutate()}>Delete domain</Button></AlertDialog.Action>
                </Flex>
              </AlertDialog.Content>
            </AlertDialog.Root>
          </Flex>
        ) : null}
      </Flex>
    </Card>
  );
}
