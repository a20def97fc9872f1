import { AlertDialog, Badge, Button, Card, Code, DataList, Flex, Grid, Heading, Table, Text, TextField } from "@radix-ui/themes";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useContext, useState } from "react";
import { adminApi, OperatorContext, operatorMay } from "../api/admin";
import { unwrap } from "../api/client";
import type { Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { firstPage, formatInstant, type CursorTrail } from "../lib/paging";
import { RoleBadge } from "./Members";
import { InvoiceTable } from "./InvoiceTable";
import { KeyboardScroll, Pager } from "./Pager";
import { EstimateTable, UsageBar } from "./UsageParts";

/**
 * The operator's view of one tenant's data (ADR 0745): usage, billing, invoices (mark paid), members and API keys (freeze/unfreeze),
 * each read from the /v1/admin/tenants/{id}/… routes, each row action asking for its reason in a dialog.
 */

const keyColour: Record<string, "green" | "blue" | "gray" | "red"> = { active: "green", frozen: "blue", expired: "gray", revoked: "red" };

export type Reason = { reason_code: string; reason_note: string | null };

/** Asks a founder action's reason (code and note) in a dialog and sends it on Confirm. High contrast: Radix's red and green buttons fall
 * below 4.5:1 (axe color-contrast), the more so under the dialog's overlay. */
export function ReasonDialog({ label, ariaLabel, title, description, defaultCode, color = "indigo", onConfirm }: {
  label: string; ariaLabel: string; title: string; description: string; defaultCode: string; color?: "red" | "green" | "indigo"; onConfirm(reason: Reason): void;
}) {
  const [code, setCode] = useState(defaultCode);
  const [note, setNote] = useState("");
  return (
    <AlertDialog.Root onOpenChange={(open) => { if (!open) { setCode(defaultCode); setNote(""); } }}>
      <AlertDialog.Trigger><Button size="1" variant="soft" color={color} highContrast aria-label={ariaLabel}>{label}</Button></AlertDialog.Trigger>
      <AlertDialog.Content maxWidth="440px">
        <AlertDialog.Title>{title}</AlertDialog.Title>
        <AlertDialog.Description>{description}</AlertDialog.Description>
        <Flex direction="column" gap="3" mt="3">
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="row-reason-code" size="2" weight="medium">Reason code</Text>
            <TextField.Root id="row-reason-code" value={code} onChange={(e) => setCode(e.target.value)} />
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="row-reason-note" size="2" weight="medium">Reason note</Text>
            <TextField.Root id="row-reason-note" value={note} onChange={(e) => setNote(e.target.value)} />
          </Flex>
        </Flex>
        <Flex gap="3" mt="4" justify="end">
          <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
          <AlertDialog.Action><Button color={color} highContrast disabled={!code.trim()} onClick={() => onConfirm({ reason_code: code.trim(), reason_note: note.trim() || null })}>Confirm</Button></AlertDialog.Action>
        </Flex>
      </AlertDialog.Content>
    </AlertDialog.Root>
  );
}

export function TenantUsage({ tenantId }: { tenantId: string }) {
  const usage = useQuery({
    queryKey: ["admin-tenant-usage", tenantId],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}/usage", { params: { path: { tenant_id: tenantId } } })),
  });
  return (
    <Card>
      <Heading as="h2" size="4" mb="3">Usage this month</Heading>
      {usage.isPending ? <Loading label="Loading usage" /> : usage.isError ? <ProblemCallout error={usage.error} /> : (
        <Flex direction="column" gap="3" data-testid="admin-usage">
          {usage.data.meters.map((m) => <UsageBar key={m.meter} meter={m} />)}
          <Text size="1" color="gray">Resets {formatInstant(usage.data.resets_at)}</Text>
        </Flex>
      )}
    </Card>
  );
}

export function TenantBilling({ tenantId }: { tenantId: string }) {
  const billing = useQuery({
    queryKey: ["admin-tenant-billing", tenantId],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}/billing", { params: { path: { tenant_id: tenantId } } })),
  });
  return (
    <Card>
      <Heading as="h2" size="4" mb="3">Billing</Heading>
      {billing.isPending ? <Loading label="Loading billing" /> : billing.isError ? <ProblemCallout error={billing.error} /> : (
        <Flex direction="column" gap="3" data-testid="admin-billing">
          <DataList.Root orientation={{ initial: "vertical", sm: "horizontal" }}>
            <DataList.Item><DataList.Label>Plan</DataList.Label><DataList.Value>{billing.data.plan} · {billing.data.status}</DataList.Value></DataList.Item>
            <DataList.Item><DataList.Label>Subscription</DataList.Label><DataList.Value>{billing.data.subscription
              ? `${billing.data.subscription.plan} ${billing.data.subscription.billing_cycle}, until ${formatInstant(billing.data.subscription.current_period_end)}` : "none"}</DataList.Value></DataList.Item>
            <DataList.Item><DataList.Label>Credits</DataList.Label><DataList.Value>{billing.data.credit_balance?.toLocaleString("en-US") ?? "no account"}</DataList.Value></DataList.Item>
          </DataList.Root>
          <Heading as="h3" size="3">Estimate this month</Heading>
          <EstimateTable estimate={billing.data.estimated_cost} />
        </Flex>
      )}
    </Card>
  );
}

export function TenantInvoices({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  const queries = useQueryClient();
  const { operator } = useContext(OperatorContext);
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const invoices = useQuery({
    queryKey: ["admin-tenant-invoices", tenantId, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}/invoices", { params: { path: { tenant_id: tenantId }, query: { cursor: trail.current, limit: 10 } } })),
  });
  const pay = useMutation({
    mutationFn: async ({ invoice, reason }: { invoice: Schemas["InvoiceResponse"]; reason: Reason }) => unwrap(await adminApi.POST(
      "/v1/admin/tenants/{tenant_id}/invoices/{invoice_id}/mark-paid", { params: { path: { tenant_id: tenantId, invoice_id: invoice.id } }, body: reason })),
    onSuccess: (_, { invoice }) => onDone(`Invoice ${invoice.number} marked paid.`),
    onSettled: () => Promise.all([
      queries.invalidateQueries({ queryKey: ["admin-tenant-invoices", tenantId] }),
      queries.invalidateQueries({ queryKey: ["admin-tenant-billing", tenantId] }),
      queries.invalidateQueries({ queryKey: ["admin-actions"] }),
      queries.invalidateQueries({ queryKey: ["admin-tenant", tenantId] }),
    ]),
  });
  const mayPay = operatorMay(operator?.role, "billing");
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">Invoices</Heading>
      {pay.isError ? <ProblemCallout error={pay.error} /> : null}
      {invoices.isPending ? <Loading label="Loading invoices" /> : invoices.isError ? <ProblemCallout error={invoices.error} /> :
        invoices.data.data.length === 0 ? <Empty>No invoices yet.</Empty> : (
          <>
            <InvoiceTable invoices={invoices.data.data} rowTestId={(i) => `admin-invoice-${i.number}`} lastColumn="Action" renderLast={(i) =>
              i.status === "open" && mayPay ? (
                <ReasonDialog label="Mark paid" ariaLabel={`Mark paid invoice ${i.number}`} title={`Mark invoice ${i.number} paid?`} defaultCode="offline_payment"
                  description="A payment received outside Stripe, recorded as a founder action; this cannot be reversed."
                  onConfirm={(reason) => pay.mutate({ invoice: i, reason })} />
              ) : <Text size="1" color="gray">—</Text>} />
            <Pager label="Invoices" trail={trail} nextCursor={invoices.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

export function TenantMembers({ tenantId }: { tenantId: string }) {
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const members = useQuery({
    queryKey: ["admin-tenant-members", tenantId, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}/members", { params: { path: { tenant_id: tenantId }, query: { cursor: trail.current, limit: 10 } } })),
  });
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">Members</Heading>
      {members.isPending ? <Loading label="Loading members" /> : members.isError ? <ProblemCallout error={members.error} /> :
        members.data.data.length === 0 ? <Empty>No members.</Empty> : (
          <>
            <KeyboardScroll label="Members"><Table.Root variant="surface" aria-label="Members">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Name</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Email</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Role</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Since</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {members.data.data.map((m) => (
                  <Table.Row key={m.user_id} data-testid="admin-member">
                    <Table.Cell>{m.name}</Table.Cell>
                    <Table.Cell>{m.email}</Table.Cell>
                    <Table.Cell><RoleBadge role={m.role as Parameters<typeof RoleBadge>[0]["role"]} /></Table.Cell>
                    <Table.Cell>{formatInstant(m.created_at)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Members" trail={trail} nextCursor={members.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

export function TenantKeys({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  const queries = useQueryClient();
  const { operator } = useContext(OperatorContext);
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const keys = useQuery({
    queryKey: ["admin-tenant-keys", tenantId, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}/api-keys", { params: { path: { tenant_id: tenantId }, query: { cursor: trail.current, limit: 10 } } })),
  });
  const act = useMutation({
    mutationFn: async ({ key, freeze, reason }: { key: Schemas["ApiKeyResponse"]; freeze: boolean; reason: Reason }) => {
      const params = { path: { key_id: key.id } };
      return unwrap(freeze
        ? await adminApi.POST("/v1/admin/api-keys/{key_id}/freeze", { params, body: reason })
        : await adminApi.POST("/v1/admin/api-keys/{key_id}/unfreeze", { params, body: reason }));
    },
    onSuccess: (_, { key, freeze }) => onDone(`Key ${key.name} ${freeze ? "frozen" : "unfrozen"}.`),
    onSettled: () => Promise.all([
      queries.invalidateQueries({ queryKey: ["admin-tenant-keys", tenantId] }),
      queries.invalidateQueries({ queryKey: ["admin-actions"] }),
      queries.invalidateQueries({ queryKey: ["admin-tenant", tenantId] }),
    ]),
  });
  const mayFreeze = operatorMay(operator?.role, "support");
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">API keys</Heading>
      {act.isError ? <ProblemCallout error={act.error} /> : null}
      {keys.isPending ? <Loading label="Loading API keys" /> : keys.isError ? <ProblemCallout error={keys.error} /> :
        keys.data.data.length === 0 ? <Empty>No API keys.</Empty> : (
          <>
            <KeyboardScroll label="API keys"><Table.Root variant="surface" aria-label="API keys">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Name</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Prefix</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Last used</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Action</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {keys.data.data.map((k) => (
                  <Table.Row key={k.id} data-testid={`admin-key-${k.name}`}>
                    <Table.Cell>{k.name}</Table.Cell>
                    <Table.Cell><Code>{k.prefix}</Code></Table.Cell>
                    <Table.Cell><Badge highContrast color={keyColour[k.status] ?? "gray"} data-testid="key-status">{k.status}</Badge></Table.Cell>
                    <Table.Cell>{formatInstant(k.last_used_at)}</Table.Cell>
                    <Table.Cell>
                      {!mayFreeze || k.status === "revoked" ? <Text size="1" color="gray">—</Text>
                        : k.status === "frozen" ? (
                          <ReasonDialog label="Unfreeze" ariaLabel={`Unfreeze ${k.name}`} title={`Unfreeze ${k.name}?`} defaultCode="resolved" color="green"
                            description="The key authenticates again; recorded as a reversible founder action." onConfirm={(reason) => act.mutate({ key: k, freeze: false, reason })} />
                        ) : (
                          <ReasonDialog label="Freeze" ariaLabel={`Freeze ${k.name}`} title={`Freeze ${k.name}?`} defaultCode="abuse_suspected" color="red"
                            description="It authenticates nothing until unfrozen; recorded as a reversible founder action." onConfirm={(reason) => act.mutate({ key: k, freeze: true, reason })} />
                        )}
                    </Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="API keys" trail={trail} nextCursor={keys.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

/** Lays out the tenant's data sections: usage and billing side by side, then invoices, members and keys. */
export function TenantData({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  return (
    <>
      <Grid columns={{ initial: "1", md: "2" }} gap="4">
        <TenantUsage tenantId={tenantId} />
        <TenantBilling tenantId={tenantId} />
      </Grid>
      <TenantInvoices tenantId={tenantId} onDone={onDone} />
      <TenantMembers tenantId={tenantId} />
      <TenantKeys tenantId={tenantId} onDone={onDone} />
    </>
  );
}
