import { AlertDialog, Badge, Button, Callout, Checkbox, Code, Dialog, Flex, Heading, Table, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { Field } from "./AuthPages";

type Permission = Schemas["CreateApiKeyRequest"]["permissions"] extends (infer P)[] | null | undefined ? P : never;
const permissions: Permission[] = ["runs:read", "runs:write", "usage:read", "usage:write", "workers:read", "quota:check"];

const day = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC" : "never");

export function ApiKeysPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const queries = useQueryClient();
  const keys = useQuery({
    queryKey: ["api-keys", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/api-keys", { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
  });
  const revoke = useMutation({
    mutationFn: async (keyId: string) =>
      unwrap(await api.DELETE("/v1/tenants/{tenant_id}/api-keys/{key_id}", { params: { path: { tenant_id: tenantId, key_id: keyId } } })),
    onSettled: () => queries.invalidateQueries({ queryKey: ["api-keys", tenantId] }),
  });
  const canCreate = me.role !== "viewer";
  return (
    <Flex direction="column" gap="4">
      <Flex align="center" justify="between" wrap="wrap" gap="3">
        <Heading as="h2" size="4">API keys</Heading>
        {canCreate ? <CreateKeyDialog tenantId={tenantId} /> : null}
      </Flex>
      {revoke.isError ? <ProblemCallout error={revoke.error} /> : null}
      {keys.isPending ? <Loading label="Loading keys" /> : keys.isError ? <ProblemCallout error={keys.error} /> :
        keys.data.data.length === 0 ? <Empty>No API keys yet. Create one to admit runs from your workers.</Empty> : (
          <Table.Root variant="surface" aria-label="API keys">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Name</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Key</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Scopes</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Last used</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {keys.data.data.map((k) => (
                <Table.Row key={k.id} data-testid={`key-${k.name}`}>
                  <Table.Cell>{k.name}</Table.Cell>
                  <Table.Cell><Code>{k.prefix}…</Code></Table.Cell>
                  <Table.Cell><Flex gap="1" wrap="wrap">{k.permissions.map((p) => <Badge highContrast key={p} color="gray">{p}</Badge>)}</Flex></Table.Cell>
                  <Table.Cell><Badge highContrast color={k.status === "active" ? "green" : "red"} data-testid="key-status">{k.status}</Badge></Table.Cell>
                  <Table.Cell>{day(k.last_used_at)}</Table.Cell>
                  <Table.Cell>
                    {k.status === "active" && canCreate ? (
                      <AlertDialog.Root>
                        <AlertDialog.Trigger><Button size="1" color="red" variant="soft" aria-label={`Revoke ${k.name}`}>Revoke</Button></AlertDialog.Trigger>
                        <AlertDialog.Content maxWidth="420px">
                          <AlertDialog.Title>Revoke {k.name}?</AlertDialog.Title>
                          <AlertDialog.Description>Calls with this key are refused from now on. This cannot be undone.</AlertDialog.Description>
                          <Flex gap="3" mt="4" justify="end">
                            <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                            <AlertDialog.Action><Button color="red" onClick={() => revoke.mutate(k.id)}>Revoke key</Button></AlertDialog.Action>
                          </Flex>
                        </AlertDialog.Content>
                      </AlertDialog.Root>
                    ) : null}
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        )}
    </Flex>
  );
}

const keySchema = z.object({
  name: z.string().trim().min(1, "Enter a name").max(100),
  permissions: z.array(z.enum(["runs:read", "runs:write", "usage:read", "usage:write", "workers:read", "quota:check"])).min(1, "Choose at least one scope"),
  rate_limit_rpm: z.string().regex(/^\d*$/, "A whole number").optional(),
});

function CreateKeyDialog({ tenantId }: { tenantId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const queries = useQueryClient();
  const form = useForm<z.infer<typeof keySchema>>({ resolver: zodResolver(keySchema), defaultValues: { name: "", permissions: ["runs:read", "runs:write", "usage:read"], rate_limit_rpm: "" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const created = unwrap(await api.POST("/v1/tenants/{tenant_id}/api-keys", {
        params: { path: { tenant_id: tenantId } },
        body: { name: v.name, permissions: v.permissions, rate_limit_rpm: v.rate_limit_rpm ? Number(v.rate_limit_rpm) : null },
      }));
      setSecret(created.key);
      await queries.invalidateQueries({ queryKey: ["api-keys", tenantId] });
    } catch (e) {
      setError(e);
    }
  });
  const close = (o: boolean) => {
    setOpen(o);
    if (!o) { setSecret(null); setCopied(false); setError(null); form.reset(); }
  };
  return (
    <Dialog.Root open={open} onOpenChange={close}>
      <Dialog.Trigger><Button>Create API key</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="480px">
        <Dialog.Title>{secret ? "Your new API key" : "Create an API key"}</Dialog.Title>
        {secret ? (
          <Flex direction="column" gap="3">
            <Callout.Root color="amber"><Callout.Text>Copy it now: it is shown this once and cannot be read again.</Callout.Text></Callout.Root>
            <Code size="3" data-testid="new-key" style={{ wordBreak: "break-all" }}>{secret}</Code>
            <Flex gap="3" justify="end">
              <Button variant="soft" onClick={async () => { await navigator.clipboard.writeText(secret); setCopied(true); }}>{copied ? "Copied" : "Copy key"}</Button>
              <Dialog.Close><Button>Done</Button></Dialog.Close>
            </Flex>
          </Flex>
        ) : (
          <form onSubmit={submit} noValidate>
            <Dialog.Description size="2" mb="3">Workers send it as a bearer token.</Dialog.Description>
            <Flex direction="column" gap="3">
              {error ? <ProblemCallout error={error} /> : null}
              <Field id="key-name" label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
              <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
                <Text as="div" size="2" weight="medium" mb="1"><legend>Scopes</legend></Text>
                <Controller control={form.control} name="permissions" render={({ field }) => (
                  <Flex direction="column" gap="1">
                    {permissions.map((p) => (
                      <Text as="label" size="2" key={p}>
                        <Flex gap="2" align="center">
                          <Checkbox checked={field.value.includes(p)}
                            onCheckedChange={(c) => field.onChange(c ? [...field.value, p] : field.value.filter((x) => x !== p))} />
                          {p}
                        </Flex>
                      </Text>
                    ))}
                  </Flex>
                )} />
                {form.formState.errors.permissions ? <Text size="1" color="red">{form.formState.errors.permissions.message}</Text> : null}
              </fieldset>
              <Field id="key-rpm" label="Requests per minute (empty: the plan's)" inputMode="numeric" {...form.register("rate_limit_rpm")} error={form.formState.errors.rate_limit_rpm?.message} />
              <Flex gap="3" justify="end">
                <Dialog.Close><Button type="button" variant="soft" color="gray">Cancel</Button></Dialog.Close>
                <Button type="submit" loading={form.formState.isSubmitting}>Create key</Button>
              </Flex>
            </Flex>
          </form>
        )}
      </Dialog.Content>
    </Dialog.Root>
  );
}
