import { AlertDialog, Badge, Button, Card, Code, Container, DataList, Dialog, Flex, Grid, Heading, Select, Separator, TabNav, Table, Text, TextArea, TextField } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { QueryClientProvider, keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useContext, useState, type ReactNode } from "react";
import { useForm } from "react-hook-form";
import { Link, Navigate, Route, Routes, useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { z } from "zod";
import { adminApi, adminQueries, getSignInNotice, OperatorContext, operatorMay, setOperatorToken, setSignInNotice, type FounderAction, type Operator } from "../api/admin";
import { unwrap } from "../api/client";
import { Empty, Loading, ProblemCallout } from "../components";
import { formatCents } from "../lib/format";
import { firstPage, formatInstant, type CursorTrail } from "../lib/paging";
import { Field } from "./AuthPages";
import { KeyboardScroll, Pager } from "./Pager";
import { TicketStatusBadge, TicketThread, ticketStatuses } from "./Support";
import { TenantData } from "./AdminTenantData";
import { AdminEnrol } from "./AdminEnrol";

/** The operator console at /admin: its own sign-in and token (src/api/admin.ts), its own query cache. */
export default function AdminApp() {
  const [operator, setOperator] = useState<Operator | null>(null);
  return (
    <QueryClientProvider client={adminQueries}>
      <OperatorContext.Provider value={{ operator, setOperator }}>
        <Routes>
          <Route path="signin" element={<AdminSignIn />} />
          <Route path="*" element={!operator ? <Navigate to="/admin/signin" replace /> : mustEnrol(operator) ? <AdminEnrol required /> : <AdminShell />} />
        </Routes>
      </OperatorContext.Provider>
    </QueryClientProvider>
  );
}

/** Tells whether the operator must enrol TOTP before any other route opens (after a reset, or a super_admin without TOTP), as the API decides. */
function mustEnrol(o: Operator): boolean {
  return o.totp_enrolment_required || (o.role === "super_admin" && !o.totp_enabled);
}

const signInSchema = z.object({
  email: z.string().trim().email("Enter an email address"),
  password: z.string().min(1, "Enter your password"),
  // Empty for an operator without TOTP yet (who is then asked to enrol where the API requires it).
  totp_code: z.string().trim().regex(/^(\d{6})?$/, "The 6 digits of your authenticator"),
});

function AdminSignIn() {
  const { setOperator } = useContext(OperatorContext);
  const navigate = useNavigate();
  const notice = getSignInNotice();
  const [error, setError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof signInSchema>>({ resolver: zodResolver(signInSchema) });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const r = unwrap(await adminApi.POST("/v1/admin/auth/login", { body: { ...v, totp_code: v.totp_code || null } }));
      setOperatorToken(r.access_token);
      setSignInNotice(null);
      adminQueries.clear();
      setOperator(r.operator);
      navigate(mustEnrol(r.operator) ? "/admin/enrol" : "/admin", { replace: true });
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Container size="1" px="4" py="9">
      <main>
        <Card size="3">
          <Heading as="h1" size="6" mb="4">Operator console</Heading>
          <form onSubmit={submit} noValidate>
            <Flex direction="column" gap="3">
              {notice ? <Text role="status" color="green" data-testid="enrolled-notice">{notice}</Text> : null}
              {error ? <ProblemCallout error={error} /> : null}
              <Field id="op-email" label="Email" type="email" autoComplete="username" {...form.register("email")} error={form.formState.errors.email?.message} />
              <Field id="op-password" label="Password" type="password" autoComplete="current-password" {...form.register("password")} error={form.formState.errors.password?.message} />
              <Field id="op-totp" label="Authenticator code" inputMode="numeric" autoComplete="one-time-code" {...form.register("totp_code")} error={form.formState.errors.totp_code?.message} />
              <Button type="submit" loading={form.formState.isSubmitting}>Sign in</Button>
            </Flex>
          </form>
        </Card>
      </main>
    </Container>
  );
}

function AdminShell({ children }: { children?: ReactNode }) {
  const { operator, setOperator } = useContext(OperatorContext);
  const location = useLocation();
  const sections = [
    { to: "/admin", label: "Tenants" },
    { to: "/admin/actions", label: "Founder actions" },
    { to: "/admin/support", label: "Support queue" },
    { to: "/admin/billing", label: "Billing" },
    ...(operatorMay(operator?.role, "super_admin") ? [{ to: "/admin/operators", label: "Operators" }] : []),
  ];
  return (
    <>
      <header>
        <Flex align="center" gap="4" px="4" py="3" wrap="wrap">
          <Text size="4" weight="bold"><Link to="/admin" style={{ color: "inherit", textDecoration: "none" }}>Platform operators</Link></Text>
          <Flex flexGrow="1" />
          {operator && !operator.totp_enabled ? <Link to="/admin/enrol">Set up TOTP</Link> : null}
          <Text size="2" color="gray">{operator?.email} <Badge highContrast color="gray">{operator?.role}</Badge></Text>
          <Button variant="soft" onClick={() => { setOperatorToken(null); adminQueries.clear(); setOperator(null); }}>Sign out</Button>
        </Flex>
        <TabNav.Root aria-label="Console sections">
          {sections.map((s) => (
            <TabNav.Link key={s.to} asChild active={s.to === "/admin" ? location.pathname === "/admin" || location.pathname.startsWith("/admin/tenants") : location.pathname.startsWith(s.to)}>
              <Link to={s.to}>{s.label}</Link>
            </TabNav.Link>
          ))}
        </TabNav.Root>
        <Separator size="4" />
      </header>
      <Container size="4" px="4" py="4">
        <main>
          {children ?? (
            <Routes>
              <Route index element={<TenantsList />} />
              <Route path="tenants/:tenantId" element={<TenantDetail />} />
              <Route path="actions" element={<ActionsPage />} />
              <Route path="support" element={<SupportQueue />} />
              <Route path="support/:ticketId" element={<AdminTicket />} />
              <Route path="billing" element={<BillingClose />} />
              <Route path="operators" element={<OperatorsPage />} />
              <Route path="enrol" element={<AdminEnrol required={false} />} />
            </Routes>
          )}
        </main>
      </Container>
    </>
  );
}

const statuses = ["trial", "active", "past_due", "suspended", "cancelled"] as const;

function TenantsList() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const status = params.get("status") ?? "";
  const plan = params.get("plan") ?? "";
  const [draft, setDraft] = useState(q);
  const [planDraft, setPlanDraft] = useState(plan);
  const tenants = useQuery({
    queryKey: ["admin-tenants", q, status, plan],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants", {
      params: { query: { q: q || undefined, status: (status || undefined) as (typeof statuses)[number] | undefined, plan: plan || undefined, limit: 50 } },
    })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h1" size="6">Tenants</Heading>
      <form role="search" onSubmit={(e) => { e.preventDefault(); setParams((p) => { p.set("q", draft); if (planDraft) p.set("plan", planDraft); else p.delete("plan"); return p; }); }}>
        <Flex gap="3" wrap="wrap" align="end">
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="tenant-search" size="2" weight="medium">Search</Text>
            <TextField.Root id="tenant-search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Name or slug" />
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" id="status-filter" size="2" weight="medium">Status</Text>
            <Select.Root value={status || "all"} onValueChange={(v) => setParams((p) => { if (v === "all") p.delete("status"); else p.set("status", v); return p; })}>
              <Select.Trigger aria-labelledby="status-filter" />
              <Select.Content>
                <Select.Item value="all">Any status</Select.Item>
                {statuses.map((s) => <Select.Item key={s} value={s}>{s}</Select.Item>)}
              </Select.Content>
            </Select.Root>
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="plan-filter" size="2" weight="medium">Plan</Text>
            <TextField.Root id="plan-filter" value={planDraft} onChange={(e) => setPlanDraft(e.target.value)} placeholder="Any plan" />
          </Flex>
          <Button type="submit">Search</Button>
        </Flex>
      </form>
      {tenants.isPending ? <Loading label="Loading tenants" /> : tenants.isError ? <ProblemCallout error={tenants.error} /> :
        tenants.data.data.length === 0 ? <Empty>No tenant matches.</Empty> : (
          <KeyboardScroll label="Tenants"><Table.Root variant="surface" aria-label="Tenants">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Name</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Slug</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Plan</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {tenants.data.data.map((t) => (
                <Table.Row key={t.id}>
                  <Table.Cell><Link to={`/admin/tenants/${t.id}`}>{t.name}</Link></Table.Cell>
                  <Table.Cell>{t.slug}</Table.Cell>
                  <Table.Cell>{t.plan}</Table.Cell>
                  <Table.Cell><Badge highContrast color={t.status === "suspended" ? "red" : "green"}>{t.status}</Badge></Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root></KeyboardScroll>
        )}
    </Flex>
  );
}

/** Asks the reason of a founder action: a code (required by the API where it takes one) and a note. */
function ReasonFields({ prefix, code, note, onCode, onNote, noteLabel = "Details" }: { prefix: string; code: string; note: string; onCode(v: string): void; onNote(v: string): void; noteLabel?: string }) {
  return (
    <Flex gap="3" wrap="wrap">
      <Flex direction="column" gap="1">
        <Text as="label" htmlFor={`${prefix}-reason`} size="2" weight="medium">Reason code</Text>
        <TextField.Root id={`${prefix}-reason`} value={code} onChange={(e) => onCode(e.target.value)} />
      </Flex>
      <Flex direction="column" gap="1" flexGrow="1">
        <Text as="label" htmlFor={`${prefix}-note`} size="2" weight="medium">{noteLabel}</Text>
        <TextField.Root id={`${prefix}-note`} value={note} onChange={(e) => onNote(e.target.value)} />
      </Flex>
    </Flex>
  );
}

function useReason(initial = "support_request") {
  const [code, setCode] = useState(initial);
  const [note, setNote] = useState("");
  return { code, note, setCode, setNote, body: { reason_code: code, reason_note: note || null } };
}

/** Confirms a consequential action in a dialog before it runs. */
function Confirm({ label, title, description, onConfirm, color = "indigo", disabled }: { label: string; title: string; description: string; onConfirm(): void; color?: "red" | "green" | "indigo"; disabled?: boolean }) {
  return (
    <AlertDialog.Root>
      <AlertDialog.Trigger><Button color={color} disabled={disabled} style={{ alignSelf: "start" }}>{label}</Button></AlertDialog.Trigger>
      <AlertDialog.Content maxWidth="440px">
        <AlertDialog.Title>{title}</AlertDialog.Title>
        <AlertDialog.Description>{description}</AlertDialog.Description>
        <Flex gap="3" mt="4" justify="end">
          <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
          <AlertDialog.Action><Button color={color} onClick={onConfirm}>Confirm</Button></AlertDialog.Action>
        </Flex>
      </AlertDialog.Content>
    </AlertDialog.Root>
  );
}

const quotas = ["max_workers", "max_runs_per_day", "max_concurrent_runs", "max_tokens_per_month", "max_api_keys", "members", "api_calls_per_month",
  "storage_gb", "gpu_hours_per_month", "retention_days", "credits_per_month", "webhook_endpoints"] as const;

function TenantDetail() {
  const { tenantId = "" } = useParams();
  const queries = useQueryClient();
  const suspendReason = useReason();
  const [notice, setNotice] = useState<string | null>(null);
  const detail = useQuery({
    queryKey: ["admin-tenant", tenantId],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId } } })),
  });
  const refresh = () => Promise.all([
    queries.invalidateQueries({ queryKey: ["admin-tenant", tenantId] }),
    queries.invalidateQueries({ queryKey: ["admin-actions"] }),
  ]);
  const act = useMutation({
    mutationFn: async (action: "suspend" | "unsuspend") => {
      const params = { path: { tenant_id: tenantId } };
      return unwrap(action === "suspend"
        ? await adminApi.POST("/v1/admin/tenants/{tenant_id}/suspend", { params, body: suspendReason.body })
        : await adminApi.POST("/v1/admin/tenants/{tenant_id}/unsuspend", { params, body: suspendReason.body }));
    },
    onSettled: refresh,
  });
  if (detail.isPending) return <Loading />;
  if (detail.isError) return <ProblemCallout error={detail.error} />;
  const t = detail.data.tenant;
  const suspended = t.status === "suspended";
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to="/admin">← Tenants</Link></Text>
      <Flex gap="3" align="center" wrap="wrap">
        <Heading as="h1" size="6">{t.name}</Heading>
        <Badge highContrast color={suspended ? "red" : "green"} data-testid="admin-tenant-status">{t.status}</Badge>
      </Flex>
      <Text>{t.slug} · {t.plan} · {detail.data.members} member{detail.data.members === 1 ? "" : "s"} · {detail.data.open_support_tickets} open tickets · {detail.data.founder_actions} founder actions</Text>
      {notice ? <Text role="status" color="green" data-testid="admin-notice">{notice}</Text> : null}
      <Card>
        <Heading as="h2" size="4" mb="2">Usage and limits</Heading>
        <DataList.Root orientation={{ initial: "vertical", sm: "horizontal" }}>
          <DataList.Item><DataList.Label>Runs today</DataList.Label><DataList.Value>{t.runs_today.toLocaleString("en-US")} / {t.max_runs_per_day.toLocaleString("en-US")}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Runs this month</DataList.Label><DataList.Value>{t.runs_this_month.toLocaleString("en-US")}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Tokens this month</DataList.Label><DataList.Value>{t.tokens_this_month.toLocaleString("en-US")} / {t.max_tokens_per_month.toLocaleString("en-US")}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Concurrent runs</DataList.Label><DataList.Value>{t.max_concurrent_runs}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Workers · API keys</DataList.Label><DataList.Value>{t.max_workers} · {t.max_api_keys}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Billing email</DataList.Label><DataList.Value>{t.billing_email ?? "—"}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Trial ends</DataList.Label><DataList.Value>{formatInstant(t.trial_ends_at)}</DataList.Value></DataList.Item>
          <DataList.Item><DataList.Label>Created</DataList.Label><DataList.Value>{formatInstant(t.created_at)}</DataList.Value></DataList.Item>
        </DataList.Root>
      </Card>
      <TenantData tenantId={tenantId} onDone={(m) => { setNotice(m); void refresh(); }} />
      <Heading as="h2" size="4">Actions</Heading>
      <Grid columns={{ initial: "1", md: "2" }} gap="4">
        <Card>
          <Flex direction="column" gap="3">
            <Heading as="h3" size="4">{suspended ? "Unsuspend" : "Suspend"}</Heading>
            {act.isError ? <ProblemCallout error={act.error} /> : null}
            <ReasonFields prefix="suspend" noteLabel="Note" {...{ code: suspendReason.code, note: suspendReason.note, onCode: suspendReason.setCode, onNote: suspendReason.setNote }} />
            <Confirm label={suspended ? "Unsuspend tenant" : "Suspend tenant"} color={suspended ? "green" : "red"}
              title={`${suspended ? "Unsuspend" : "Suspend"} ${t.name}?`}
              description={`Recorded as a founder action with reason “${suspendReason.code}”; it can be reversed.`}
              onConfirm={() => act.mutate(suspended ? "unsuspend" : "suspend")} />
          </Flex>
        </Card>
        <QuotaOverride tenantId={tenantId} onDone={(m) => { setNotice(m); void refresh(); }} />
        <FeatureOverride tenantId={tenantId} onDone={(m) => { setNotice(m); void refresh(); }} />
        <KeyFreeze onDone={(m) => { setNotice(m); void refresh(); }} />
        <MarkInvoicePaid tenantId={tenantId} onDone={(m) => { setNotice(m); void refresh(); }} />
      </Grid>
      <Heading as="h2" size="4">Founder actions on this tenant</Heading>
      <ActionsTable tenantId={tenantId} />
    </Flex>
  );
}

function QuotaOverride({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  const [quota, setQuota] = useState<string>("max_runs_per_day");
  const [value, setValue] = useState("");
  const reason = useReason("customer_agreement");
  const set = useMutation({
    mutationFn: async (remove: boolean) => {
      const params = { path: { tenant_id: tenantId, quota } };
      return unwrap(remove
        ? await adminApi.DELETE("/v1/admin/tenants/{tenant_id}/quotas/{quota}", { params, body: reason.body })
        : await adminApi.PUT("/v1/admin/tenants/{tenant_id}/quotas/{quota}", { params, body: { value: Number(value), ...reason.body } }));
    },
    onSuccess: (a, remove) => onDone(remove ? `The ${quota} override was removed (${a.action_type}).` : `${quota} is now ${value} (${a.action_type}).`),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Heading as="h3" size="4">Quota override</Heading>
        {set.isError ? <ProblemCallout error={set.error} /> : null}
        <Flex gap="3" wrap="wrap">
          <Flex direction="column" gap="1">
            <Text as="label" id="quota-name" size="2" weight="medium">Quota</Text>
            <Select.Root value={quota} onValueChange={setQuota}>
              <Select.Trigger aria-labelledby="quota-name" />
              <Select.Content>{quotas.map((q) => <Select.Item key={q} value={q}>{q}</Select.Item>)}</Select.Content>
            </Select.Root>
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="quota-value" size="2" weight="medium">Value (-1: unlimited)</Text>
            <TextField.Root id="quota-value" inputMode="numeric" value={value} onChange={(e) => setValue(e.target.value)} />
          </Flex>
        </Flex>
        <ReasonFields prefix="quota" code={reason.code} note={reason.note} onCode={reason.setCode} onNote={reason.setNote} />
        <Flex gap="3" wrap="wrap">
          <Confirm label="Set override" title={`Set ${quota} to ${value || "?"}?`} description="Recorded as a reversible founder action." disabled={!/^-?\d+$/.test(value)} onConfirm={() => set.mutate(false)} />
          <Button variant="soft" onClick={() => set.mutate(true)}>Remove override</Button>
        </Flex>
      </Flex>
    </Card>
  );
}

const features = ["custom_domain", "sso", "webhooks", "branding", "audit_export", "priority_support", "ip_allowlist"] as const;

function FeatureOverride({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  const [feature, setFeature] = useState("");
  const reason = useReason("customer_agreement");
  const set = useMutation({
    mutationFn: async (mode: "grant" | "revoke" | "remove") => {
      const params = { path: { tenant_id: tenantId, feature } };
      return unwrap(mode === "remove"
        ? await adminApi.DELETE("/v1/admin/tenants/{tenant_id}/features/{feature}", { params, body: reason.body })
        : await adminApi.PUT("/v1/admin/tenants/{tenant_id}/features/{feature}", { params, body: { enabled: mode === "grant", ...reason.body } }));
    },
    onSuccess: (a, mode) => onDone(`Feature ${feature}: ${mode === "remove" ? "override removed" : mode === "grant" ? "granted" : "revoked"} (${a.action_type}).`),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Heading as="h3" size="4">Feature override</Heading>
        {set.isError ? <ProblemCallout error={set.error} /> : null}
        <Flex direction="column" gap="1">
          <Text as="label" id="feature-name" size="2" weight="medium">Feature</Text>
          <Select.Root value={feature} onValueChange={setFeature}>
            <Select.Trigger aria-labelledby="feature-name" placeholder="Choose a feature" />
            <Select.Content>{features.map((f) => <Select.Item key={f} value={f}>{f}</Select.Item>)}</Select.Content>
          </Select.Root>
        </Flex>
        <ReasonFields prefix="feature" code={reason.code} note={reason.note} onCode={reason.setCode} onNote={reason.setNote} />
        <Flex gap="3" wrap="wrap">
          <Button disabled={!feature} onClick={() => set.mutate("grant")}>Grant</Button>
          <Button disabled={!feature} color="red" variant="soft" onClick={() => set.mutate("revoke")}>Revoke</Button>
          <Button disabled={!feature} variant="soft" color="gray" onClick={() => set.mutate("remove")}>Remove override</Button>
        </Flex>
      </Flex>
    </Card>
  );
}

function KeyFreeze({ onDone }: { onDone(message: string): void }) {
  const [keyId, setKeyId] = useState("");
  const reason = useReason("abuse_suspected");
  const act = useMutation({
    mutationFn: async (freeze: boolean) => {
      const params = { path: { key_id: keyId } };
      return unwrap(freeze
        ? await adminApi.POST("/v1/admin/api-keys/{key_id}/freeze", { params, body: reason.body })
        : await adminApi.POST("/v1/admin/api-keys/{key_id}/unfreeze", { params, body: reason.body }));
    },
    onSuccess: (a, freeze) => onDone(`Key ${keyId} ${freeze ? "frozen" : "unfrozen"} (${a.action_type}).`),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Heading as="h3" size="4">Freeze a key by id</Heading>
        {act.isError ? <ProblemCallout error={act.error} /> : null}
        <Flex direction="column" gap="1">
          <Text as="label" htmlFor="freeze-key" size="2" weight="medium">Key id</Text>
          <TextField.Root id="freeze-key" value={keyId} onChange={(e) => setKeyId(e.target.value.trim())} />
        </Flex>
        <ReasonFields prefix="freeze" code={reason.code} note={reason.note} onCode={reason.setCode} onNote={reason.setNote} />
        <Flex gap="3" wrap="wrap">
          <Confirm label="Freeze key" color="red" disabled={!keyId} title="Freeze this key?" description="It authenticates nothing until unfrozen." onConfirm={() => act.mutate(true)} />
          <Button variant="soft" disabled={!keyId} onClick={() => act.mutate(false)}>Unfreeze key</Button>
        </Flex>
      </Flex>
    </Card>
  );
}

function MarkInvoicePaid({ tenantId, onDone }: { tenantId: string; onDone(message: string): void }) {
  const [invoiceId, setInvoiceId] = useState("");
  const reason = useReason("offline_payment");
  const act = useMutation({
    mutationFn: async () => unwrap(await adminApi.POST("/v1/admin/tenants/{tenant_id}/invoices/{invoice_id}/mark-paid", {
      params: { path: { tenant_id: tenantId, invoice_id: invoiceId } }, body: reason.body,
    })),
    onSuccess: () => onDone(`Invoice ${invoiceId} marked paid.`),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Heading as="h3" size="4">Mark an invoice paid by id</Heading>
        {act.isError ? <ProblemCallout error={act.error} /> : null}
        <Flex direction="column" gap="1">
          <Text as="label" htmlFor="paid-invoice" size="2" weight="medium">Invoice id</Text>
          <TextField.Root id="paid-invoice" value={invoiceId} onChange={(e) => setInvoiceId(e.target.value.trim())} />
        </Flex>
        <ReasonFields prefix="paid" code={reason.code} note={reason.note} onCode={reason.setCode} onNote={reason.setNote} />
        <Confirm label="Mark paid" disabled={!invoiceId} title="Mark this invoice paid?" description="A payment received outside Stripe; this cannot be reversed." onConfirm={() => act.mutate()} />
      </Flex>
    </Card>
  );
}

function ActionsTable({ tenantId, actionType }: { tenantId?: string; actionType?: string }) {
  const queries = useQueryClient();
  const { operator } = useContext(OperatorContext);
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const [reverseNote, setReverseNote] = useState("");
  const actions = useQuery({
    queryKey: ["admin-actions", tenantId ?? "", actionType ?? "", trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/actions", { params: { query: { tenant_id: tenantId, action_type: actionType || undefined, cursor: trail.current, limit: 25 } } })),
  });
  const reverse = useMutation({
    mutationFn: async (a: FounderAction) => unwrap(await adminApi.POST("/v1/admin/actions/{id}/reverse", { params: { path: { id: a.id } }, body: { reason_code: "reversal", reason_note: reverseNote || null } })),
    onSettled: () => Promise.all([queries.invalidateQueries({ queryKey: ["admin-actions"] }), queries.invalidateQueries({ queryKey: ["admin-tenant"] })]),
  });
  const mayReverse = operatorMay(operator?.role, "super_admin");
  return (
    <Flex direction="column" gap="3">
      {reverse.isError ? <ProblemCallout error={reverse.error} /> : null}
      {actions.isPending ? <Loading label="Loading founder actions" /> : actions.isError ? <ProblemCallout error={actions.error} /> :
        actions.data.data.length === 0 ? <Empty>No founder actions.</Empty> : (
          <>
            <KeyboardScroll label="Founder actions"><Table.Root variant="surface" aria-label="Founder actions">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>When</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Action</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Target</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Reason</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>State</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {actions.data.data.map((a) => (
                  <Table.Row key={a.id} data-testid={`action-${a.action_type}`}>
                    <Table.Cell>{formatInstant(a.applied_at)}</Table.Cell>
                    <Table.Cell><Code>{a.action_type}</Code></Table.Cell>
                    <Table.Cell>{a.target_type} <Text size="1" color="gray">{a.target_id}</Text></Table.Cell>
                    <Table.Cell>{a.reason_code}{a.reason_note ? <Text size="1" color="gray"> — {a.reason_note}</Text> : null}</Table.Cell>
                    <Table.Cell>
                      {a.reversed_by_action_id ? <Badge highContrast color="gray" data-testid="action-state">reversed</Badge>
                        : a.reverses_action_id ? <Badge highContrast color="blue" data-testid="action-state">reversal</Badge>
                        : a.reversible && mayReverse ? (
                          <AlertDialog.Root onOpenChange={(o) => { if (!o) setReverseNote(""); }}>
                            <AlertDialog.Trigger><Button size="1" variant="soft" aria-label={`Reverse ${a.action_type}`}>Reverse</Button></AlertDialog.Trigger>
                            <AlertDialog.Content maxWidth="440px">
                              <AlertDialog.Title>Reverse {a.action_type}?</AlertDialog.Title>
                              <AlertDialog.Description>A new founder action undoes it, with the reason “reversal”.</AlertDialog.Description>
                              <Flex direction="column" gap="1" mt="3">
                                <Text as="label" htmlFor="reverse-note" size="2" weight="medium">Why</Text>
                                <TextField.Root id="reverse-note" value={reverseNote} onChange={(e) => setReverseNote(e.target.value)} />
                              </Flex>
                              <Flex gap="3" mt="4" justify="end">
                                <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                                <AlertDialog.Action><Button onClick={() => reverse.mutate(a)}>Reverse</Button></AlertDialog.Action>
                              </Flex>
                            </AlertDialog.Content>
                          </AlertDialog.Root>
                        ) : <Badge highContrast color="green" data-testid="action-state">applied</Badge>}
                    </Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Founder actions" trail={trail} nextCursor={actions.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

function ActionsPage() {
  const [draft, setDraft] = useState("");
  const [type, setType] = useState("");
  return (
    <Flex direction="column" gap="4">
      <Heading as="h1" size="6">Founder actions</Heading>
      <form role="search" onSubmit={(e) => { e.preventDefault(); setType(draft.trim()); }}>
        <Flex gap="3" align="end" wrap="wrap">
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="action-type" size="2" weight="medium">Action type</Text>
            <TextField.Root id="action-type" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="tenant.suspend" />
          </Flex>
          <Button type="submit">Filter</Button>
        </Flex>
      </form>
      <ActionsTable actionType={type} />
    </Flex>
  );
}

function BillingClose() {
  const [period, setPeriod] = useState(() => {
    const d = new Date();
    d.setUTCMonth(d.getUTCMonth() - 1);
    return d.toISOString().slice(0, 7);
  });
  const close = useMutation({
    mutationFn: async () => unwrap(await adminApi.POST("/v1/admin/billing/close", { body: { period } })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h1" size="6">Close a billing period</Heading>
      <Card>
        <Flex direction="column" gap="3" maxWidth="480px">
          <Text size="2">Invoices every tenant not yet invoiced for the month. Closing a month twice invoices nobody twice.</Text>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="close-period" size="2" weight="medium">Month (YYYY-MM)</Text>
            <TextField.Root id="close-period" value={period} onChange={(e) => setPeriod(e.target.value.trim())} />
          </Flex>
          {close.isError ? <ProblemCallout error={close.error} /> : null}
          <Confirm label="Close period" disabled={!/^\d{4}-\d{2}$/.test(period)} title={`Close ${period}?`} description="Invoices are created and sent for every tenant not yet invoiced." onConfirm={() => close.mutate()} />
          {close.data ? (
            <DataList.Root data-testid="close-result">
              <DataList.Item><DataList.Label>Period</DataList.Label><DataList.Value>{close.data.period}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Invoices created</DataList.Label><DataList.Value data-testid="invoices-created">{close.data.invoices_created}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Created total</DataList.Label><DataList.Value>{formatCents(close.data.created_total_cents)}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Already invoiced</DataList.Label><DataList.Value>{close.data.skipped_already_invoiced}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Nothing to bill</DataList.Label><DataList.Value>{close.data.nothing_to_bill}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Period total</DataList.Label><DataList.Value>{close.data.period_invoices} invoices, {formatCents(close.data.period_total_cents)}</DataList.Value></DataList.Item>
            </DataList.Root>
          ) : null}
        </Flex>
      </Card>
    </Flex>
  );
}

function SupportQueue() {
  const [status, setStatus] = useState("open");
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const tickets = useQuery({
    queryKey: ["admin-tickets", status, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/support-tickets", { params: { query: { status: status === "all" ? undefined : status, cursor: trail.current, limit: 25 } } })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h1" size="6">Support queue</Heading>
      <Flex direction="column" gap="1" style={{ alignSelf: "start" }}>
        <Text as="label" id="queue-status" size="2" weight="medium">Status</Text>
        <Select.Root value={status} onValueChange={(v) => { setStatus(v); setTrail(firstPage); }}>
          <Select.Trigger aria-labelledby="queue-status" />
          <Select.Content>
            <Select.Item value="all">Any status</Select.Item>
            {ticketStatuses.map((s) => <Select.Item key={s} value={s}>{s.replace(/_/g, " ")}</Select.Item>)}
          </Select.Content>
        </Select.Root>
      </Flex>
      {tickets.isPending ? <Loading label="Loading tickets" /> : tickets.isError ? <ProblemCallout error={tickets.error} /> :
        tickets.data.data.length === 0 ? <Empty>No tickets in this state.</Empty> : (
          <>
            <KeyboardScroll label="Support tickets"><Table.Root variant="surface" aria-label="Support tickets">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Subject</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Tenant</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Priority</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Opened</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {tickets.data.data.map((t) => (
                  <Table.Row key={t.id}>
                    <Table.Cell><Link to={`/admin/support/${t.id}`}>{t.subject}</Link></Table.Cell>
                    <Table.Cell><Link to={`/admin/tenants/${t.tenant_id}`} aria-label={`Tenant of ${t.subject}`}>{t.tenant_id.slice(0, 8)}</Link></Table.Cell>
                    <Table.Cell>{t.priority}</Table.Cell>
                    <Table.Cell><TicketStatusBadge status={t.status} /></Table.Cell>
                    <Table.Cell>{formatInstant(t.created_at)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Tickets" trail={trail} nextCursor={tickets.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

function AdminTicket() {
  const { ticketId = "" } = useParams();
  const queries = useQueryClient();
  const [reply, setReply] = useState("");
  const [resolution, setResolution] = useState("");
  const path = { id: ticketId };
  const ticket = useQuery({ queryKey: ["admin-ticket", ticketId], queryFn: async () => unwrap(await adminApi.GET("/v1/admin/support-tickets/{id}", { params: { path } })) });
  const refresh = () => Promise.all([queries.invalidateQueries({ queryKey: ["admin-ticket", ticketId] }), queries.invalidateQueries({ queryKey: ["admin-tickets"] })]);
  const send = useMutation({
    mutationFn: async () => unwrap(await adminApi.POST("/v1/admin/support-tickets/{id}/responses", { params: { path }, body: { body: reply } })),
    onSuccess: () => setReply(""),
    onSettled: refresh,
  });
  const status = useMutation({
    mutationFn: async (s: string) => unwrap(await adminApi.PATCH("/v1/admin/support-tickets/{id}", { params: { path }, body: { status: s } })),
    onSettled: refresh,
  });
  const resolve = useMutation({
    mutationFn: async () => unwrap(await adminApi.POST("/v1/admin/support-tickets/{id}/resolve", { params: { path }, body: { resolution } })),
    onSettled: refresh,
  });
  const failure = send.error ?? status.error ?? resolve.error;
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to="/admin/support">← Support queue</Link></Text>
      {ticket.isPending ? <Loading label="Loading the ticket" /> : ticket.isError ? <ProblemCallout error={ticket.error} /> : (
        <>
          <Flex gap="3" align="center" wrap="wrap">
            <Heading as="h1" size="6">{ticket.data.subject}</Heading>
            <TicketStatusBadge status={ticket.data.status} />
          </Flex>
          <Text size="2"><Link to={`/admin/tenants/${ticket.data.tenant_id}`}>Open the tenant</Link></Text>
          <TicketThread ticket={ticket.data} />
          {failure ? <ProblemCallout error={failure} /> : null}
          {ticket.data.status === "closed" ? <Text color="gray">This ticket is closed.</Text> : (
            <Grid columns={{ initial: "1", md: "2" }} gap="4">
              <Card>
                <form onSubmit={(e) => { e.preventDefault(); if (reply.trim()) send.mutate(); }}>
                  <Flex direction="column" gap="2">
                    <Text as="label" htmlFor="op-reply" size="2" weight="medium">Reply to the customer</Text>
                    <TextArea id="op-reply" rows={4} value={reply} onChange={(e) => setReply(e.target.value)} />
                    <Button type="submit" disabled={!reply.trim()} loading={send.isPending} style={{ alignSelf: "start" }}>Send reply</Button>
                  </Flex>
                </form>
              </Card>
              <Card>
                <Flex direction="column" gap="3">
                  <Flex direction="column" gap="1">
                    <Text as="label" id="op-ticket-status" size="2" weight="medium">Status</Text>
                    <Select.Root value={ticket.data.status ?? "open"} onValueChange={(v) => status.mutate(v)}>
                      <Select.Trigger aria-labelledby="op-ticket-status" />
                      <Select.Content>{ticketStatuses.filter((s) => s !== "resolved").map((s) => <Select.Item key={s} value={s}>{s.replace(/_/g, " ")}</Select.Item>)}</Select.Content>
                    </Select.Root>
                  </Flex>
                  <Flex direction="column" gap="1">
                    <Text as="label" htmlFor="op-resolution" size="2" weight="medium">Resolution</Text>
                    <TextArea id="op-resolution" rows={2} value={resolution} onChange={(e) => setResolution(e.target.value)} />
                  </Flex>
                  <Button color="green" disabled={!resolution.trim()} loading={resolve.isPending} onClick={() => resolve.mutate()} style={{ alignSelf: "start" }}>Resolve</Button>
                </Flex>
              </Card>
            </Grid>
          )}
        </>
      )}
    </Flex>
  );
}

const operatorRoles = ["viewer", "billing", "support", "super_admin"] as const;
const newOperatorSchema = z.object({
  email: z.string().trim().email("Enter an email address"),
  name: z.string().trim().min(1, "Enter a name").max(200),
  password: z.string().min(12, "At least 12 characters"),
  reason_code: z.string().trim().min(1, "Enter a reason code"),
});

function OperatorsPage() {
  const { operator } = useContext(OperatorContext);
  const queries = useQueryClient();
  const reason = useReason("staffing");
  const operators = useQuery({ queryKey: ["admin-operators"], queryFn: async () => unwrap(await adminApi.GET("/v1/admin/operators", { params: { query: { limit: 100 } } })) });
  const refresh = () => queries.invalidateQueries({ queryKey: ["admin-operators"] });
  const role = useMutation({
    mutationFn: async ({ id, r }: { id: string; r: Operator["role"] }) => unwrap(await adminApi.PATCH("/v1/admin/operators/{id}", { params: { path: { id } }, body: { role: r, ...reason.body } })),
    onSettled: refresh,
  });
  const toggle = useMutation({
    mutationFn: async (o: Operator) => unwrap(o.status === "disabled"
      ? await adminApi.POST("/v1/admin/operators/{id}/enable", { params: { path: { id: o.id } }, body: reason.body })
      : await adminApi.POST("/v1/admin/operators/{id}/disable", { params: { path: { id: o.id } }, body: reason.body })),
    onSettled: refresh,
  });
  const resetTotp = useMutation({
    mutationFn: async (o: Operator) => unwrap(await adminApi.POST("/v1/admin/operators/{id}/totp/reset", { params: { path: { id: o.id } }, body: reason.body })),
    onSettled: refresh,
  });
  if (!operatorMay(operator?.role, "super_admin")) return <ProblemCallout error={{ title: "Forbidden", detail: "Only super_admin operators manage operators." }} />;
  const failure = role.error ?? toggle.error ?? resetTotp.error;
  return (
    <Flex direction="column" gap="4">
      <Flex align="center" justify="between" wrap="wrap" gap="3">
        <Heading as="h1" size="6">Operators</Heading>
        <CreateOperatorDialog onDone={refresh} />
      </Flex>
      <Card>
        <Text as="p" size="2" mb="2">The reason recorded with each change below:</Text>
        <ReasonFields prefix="operators" code={reason.code} note={reason.note} onCode={reason.setCode} onNote={reason.setNote} />
      </Card>
      {failure ? <ProblemCallout error={failure} /> : null}
      {operators.isPending ? <Loading label="Loading operators" /> : operators.isError ? <ProblemCallout error={operators.error} /> : (
        <KeyboardScroll label="Operators"><Table.Root variant="surface" aria-label="Operators">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeaderCell>Operator</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Role</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Last sign-in</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {operators.data.data.map((o) => (
              <Table.Row key={o.id} data-testid={`operator-${o.email}`}>
                <Table.Cell>{o.name}<Text as="div" size="1" color="gray">{o.email}</Text></Table.Cell>
                <Table.Cell>
                  <Select.Root value={o.role} onValueChange={(r) => role.mutate({ id: o.id, r: r as Operator["role"] })} disabled={o.id === operator?.id}>
                    <Select.Trigger aria-label={`Role of ${o.email}`} />
                    <Select.Content>{operatorRoles.map((r) => <Select.Item key={r} value={r}>{r}</Select.Item>)}</Select.Content>
                  </Select.Root>
                </Table.Cell>
                <Table.Cell><Badge highContrast color={o.status === "disabled" ? "red" : "green"} data-testid="operator-status">{o.status}</Badge>{o.totp_enrolment_required ? <Badge highContrast color="orange" ml="1">TOTP to enrol</Badge> : null}</Table.Cell>
                <Table.Cell>{formatInstant(o.last_login_at)}</Table.Cell>
                <Table.Cell>
                  {o.id === operator?.id ? <Text size="1" color="gray">you</Text> : (
                    <Flex gap="2" wrap="wrap">
                      <Button size="1" variant="soft" color={o.status === "disabled" ? "green" : "red"} onClick={() => toggle.mutate(o)} aria-label={`${o.status === "disabled" ? "Enable" : "Disable"} ${o.email}`}>{o.status === "disabled" ? "Enable" : "Disable"}</Button>
                      <Button size="1" variant="soft" onClick={() => resetTotp.mutate(o)} aria-label={`Reset TOTP of ${o.email}`}>Reset TOTP</Button>
                    </Flex>
                  )}
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root></KeyboardScroll>
      )}
    </Flex>
  );
}

function CreateOperatorDialog({ onDone }: { onDone(): void }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState<Operator["role"]>("support");
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ secret: string | null; uri: string | null } | null>(null);
  const form = useForm<z.infer<typeof newOperatorSchema>>({ resolver: zodResolver(newOperatorSchema), defaultValues: { email: "", name: "", password: "", reason_code: "staffing" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const r = unwrap(await adminApi.POST("/v1/admin/operators", { body: { email: v.email, name: v.name, password: v.password, role, enable_totp: true, reason_code: v.reason_code } }));
      setCreated({ secret: r.totp_secret, uri: r.otpauth_uri });
      onDone();
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Dialog.Root open={open} onOpenChange={(o) => { setOpen(o); if (!o) { setCreated(null); setError(null); form.reset(); } }}>
      <Dialog.Trigger><Button>Add operator</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="480px">
        <Dialog.Title>{created ? "Operator created" : "Add an operator"}</Dialog.Title>
        {created ? (
          <Flex direction="column" gap="3">
            <Dialog.Description size="2">Hand over the TOTP secret now: it is shown this once.</Dialog.Description>
            {created.secret ? <Code size="3" data-testid="operator-totp" style={{ wordBreak: "break-all" }}>{created.secret}</Code> : <Text>No TOTP secret: they enrol at their first sign-in.</Text>}
            {created.uri ? <Code size="1" style={{ wordBreak: "break-all" }}>{created.uri}</Code> : null}
            <Flex justify="end"><Dialog.Close><Button>Done</Button></Dialog.Close></Flex>
          </Flex>
        ) : (
          <form onSubmit={submit} noValidate>
            <Dialog.Description size="2" mb="3">Operators sign in at /admin with a password and TOTP.</Dialog.Description>
            <Flex direction="column" gap="3">
              {error ? <ProblemCallout error={error} /> : null}
              <Field id="new-op-email" label="Email" type="email" {...form.register("email")} error={form.formState.errors.email?.message} />
              <Field id="new-op-name" label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
              <Field id="new-op-password" label="Initial password" type="password" autoComplete="new-password" {...form.register("password")} error={form.formState.errors.password?.message} />
              <Flex direction="column" gap="1">
                <Text as="label" id="new-op-role" size="2" weight="medium">Role</Text>
                <Select.Root value={role} onValueChange={(r) => setRole(r as Operator["role"])}>
                  <Select.Trigger aria-labelledby="new-op-role" />
                  <Select.Content>{operatorRoles.map((r) => <Select.Item key={r} value={r}>{r}</Select.Item>)}</Select.Content>
                </Select.Root>
              </Flex>
              <Field id="new-op-reason" label="Reason code" {...form.register("reason_code")} error={form.formState.errors.reason_code?.message} />
              <Flex gap="3" justify="end">
                <Dialog.Close><Button type="button" variant="soft" color="gray">Cancel</Button></Dialog.Close>
                <Button type="submit" loading={form.formState.isSubmitting}>Create operator</Button>
              </Flex>
            </Flex>
          </form>
        )}
      </Dialog.Content>
    </Dialog.Root>
  );
}
