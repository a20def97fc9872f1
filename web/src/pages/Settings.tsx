import { AlertDialog, Button, Card, Flex, Heading, Text, TextField } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate, useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Loading, ProblemCallout } from "../components";
import { confirmationMatches } from "../lib/paging";
import { Field } from "./AuthPages";

const settingsSchema = z.object({
  name: z.string().trim().min(1, "Enter a name").max(200),
  billing_email: z.union([z.literal(""), z.string().trim().email("Enter an email address")]),
});

/** Tenant settings: name and billing email, the data export, and deletion behind a typed confirmation. */
export function SettingsPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const tenant = useQuery({
    queryKey: ["tenant", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId } } })),
  });
  if (tenant.isPending) return <Loading label="Loading settings" />;
  if (tenant.isError) return <ProblemCallout error={tenant.error} />;
  const canEdit = me.role === "owner" || me.role === "admin";
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Settings</Heading>
      <GeneralCard tenant={tenant.data} canEdit={canEdit} />
      {canEdit ? <ExportCard tenantId={tenantId} slug={tenant.data.slug} /> : null}
      {me.role === "owner" ? <DeleteCard tenant={tenant.data} /> : null}
    </Flex>
  );
}

function GeneralCard({ tenant, canEdit }: { tenant: Schemas["TenantResponse"]; canEdit: boolean }) {
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm<z.infer<typeof settingsSchema>>({ resolver: zodResolver(settingsSchema), defaultValues: { name: tenant.name, billing_email: tenant.billing_email ?? "" } });
  useEffect(() => form.reset({ name: tenant.name, billing_email: tenant.billing_email ?? "" }), [tenant.name, tenant.billing_email, form]);
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setSaved(false);
    try {
      const updated = unwrap(await api.PATCH("/v1/tenants/{tenant_id}", {
        params: { path: { tenant_id: tenant.id } },
        body: { name: v.name, billing_email: v.billing_email || null },
      }));
      queries.setQueryData(["tenant", tenant.id], updated);
      await queries.invalidateQueries({ queryKey: ["me"] });
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Card>
      <form onSubmit={submit} noValidate aria-labelledby="general-heading">
        <Flex direction="column" gap="3" maxWidth="480px">
          <Heading as="h3" size="3" id="general-heading">General</Heading>
          {error ? <ProblemCallout error={error} /> : null}
          <Field id="tenant-name" label="Tenant name" disabled={!canEdit} {...form.register("name")} error={form.formState.errors.name?.message} />
          <Field id="billing-email" label="Billing email" type="email" disabled={!canEdit} {...form.register("billing_email")} error={form.formState.errors.billing_email?.message} />
          <Text size="2" color="gray">Slug: {tenant.slug}</Text>
          {saved ? <Text role="status" color="green" data-testid="settings-saved">Saved.</Text> : null}
          {canEdit ? <Button type="submit" loading={form.formState.isSubmitting} style={{ alignSelf: "start" }}>Save</Button> : null}
        </Flex>
      </form>
    </Card>
  );
}

function ExportCard({ tenantId, slug }: { tenantId: string; slug: string }) {
  const [done, setDone] = useState(false);
  const exportData = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/export", { params: { path: { tenant_id: tenantId } } })),
    onSuccess: (data) => {
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${slug}-export.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      setDone(true);
    },
  });
  return (
    <Card>
      <Flex direction="column" gap="2" align="start">
        <Heading as="h3" size="3">Export data</Heading>
        <Text size="2">Download every table of this tenant as one JSON document (secrets are redacted).</Text>
        {exportData.isError ? <ProblemCallout error={exportData.error} /> : null}
        {done ? <Text role="status" color="green" data-testid="export-done">The export was downloaded.</Text> : null}
        <Button variant="soft" loading={exportData.isPending} onClick={() => exportData.mutate()}>Export data</Button>
      </Flex>
    </Card>
  );
}

function DeleteCard({ tenant }: { tenant: Schemas["TenantResponse"] }) {
  const [typed, setTyped] = useState("");
  const queries = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: tenant.id } } })),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["me"] });
      navigate("/", { replace: true });
    },
  });
  return (
    <Card>
      <Flex direction="column" gap="2" align="start">
        <Heading as="h3" size="3" color="red">Delete tenant</Heading>
        <Text size="2">The tenant and its keys stop working at once; its data is kept for the retention period, then erased.</Text>
        {remove.isError ? <ProblemCallout error={remove.error} /> : null}
        <AlertDialog.Root onOpenChange={(o) => { if (!o) setTyped(""); }}>
          <AlertDialog.Trigger><Button color="red" variant="soft">Delete tenant</Button></AlertDialog.Trigger>
          <AlertDialog.Content maxWidth="460px">
            <AlertDialog.Title>Delete {tenant.name}?</AlertDialog.Title>
            <AlertDialog.Description size="2">Type the tenant's slug <strong>{tenant.slug}</strong> to confirm.</AlertDialog.Description>
            <Flex direction="column" gap="1" mt="3">
              <Text as="label" htmlFor="delete-confirm" size="2" weight="medium">Slug</Text>
              <TextField.Root id="delete-confirm" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
            </Flex>
            <Flex gap="3" mt="4" justify="end">
              <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
              <AlertDialog.Action>
                <Button color="red" disabled={!confirmationMatches(typed, tenant.slug)} onClick={() => remove.mutate()}>Delete forever</Button>
              </AlertDialog.Action>
            </Flex>
          </AlertDialog.Content>
        </AlertDialog.Root>
      </Flex>
    </Card>
  );
}
