import { AlertDialog, Badge, Button, Card, Container, Flex, Heading, Select, Separator, Table, Text, TextField } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { QueryClient, QueryClientProvider, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import createClient, { type Middleware } from "openapi-fetch";
import { createContext, useContext, useState, type ReactNode } from "react";
import { useForm } from "react-hook-form";
import { Link, Navigate, Route, Routes, useNavigate, useParams, useSearchParams } from "react-router";
import { z } from "zod";
import type { paths } from "../api/schema";
import { unwrap } from "../api/client";
import { Empty, Loading, ProblemCallout } from "../components";
import { Field } from "./AuthPages";

/**
 * The operator console at /admin. Operators have their own tokens (password + TOTP, no refresh token): the token lives in this
 * module's memory only, and a reload or an expiry asks to sign in again.
 */
let operatorToken: string | null = null;
const operatorAuth: Middleware = {
  onRequest({ request }) {
    if (operatorToken) request.headers.set("Authorization", `Bearer ${operatorToken}`);
    return request;
  },
};
const adminApi = createClient<paths>({ baseUrl: "" });
adminApi.use(operatorAuth);
const adminQueries = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 5_000 } } });

const OperatorContext = createContext<{ email: string | null; setEmail(e: string | null): void }>({ email: null, setEmail: () => {} });

export default function AdminApp() {
  const [email, setEmail] = useState<string | null>(null);
  return (
    <QueryClientProvider client={adminQueries}>
      <OperatorContext.Provider value={{ email, setEmail }}>
        <Routes>
          <Route path="signin" element={<AdminSignIn />} />
          <Route path="*" element={email ? <AdminShell /> : <Navigate to="/admin/signin" replace />} />
        </Routes>
      </OperatorContext.Provider>
    </QueryClientProvider>
  );
}

const signInSchema = z.object({
  email: z.string().trim().email("Enter an email address"),
  password: z.string().min(1, "Enter your password"),
  totp_code: z.string().regex(/^\d{6}$/, "The 6 digits of your authenticator"),
});

function AdminSignIn() {
  const { setEmail } = useContext(OperatorContext);
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof signInSchema>>({ resolver: zodResolver(signInSchema) });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const r = unwrap(await adminApi.POST("/v1/admin/auth/login", { body: v }));
      operatorToken = r.access_token;
      adminQueries.clear();
      setEmail(r.operator.email);
      navigate("/admin", { replace: true });
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
  const { email, setEmail } = useContext(OperatorContext);
  return (
    <>
      <header>
        <Flex align="center" gap="4" px="4" py="3">
          <Text size="4" weight="bold"><Link to="/admin" style={{ color: "inherit", textDecoration: "none" }}>Platform operators</Link></Text>
          <Flex flexGrow="1" />
          <Text size="2" color="gray">{email}</Text>
          <Button variant="soft" onClick={() => { operatorToken = null; adminQueries.clear(); setEmail(null); }}>Sign out</Button>
        </Flex>
        <Separator size="4" />
      </header>
      <Container size="4" px="4" py="4">
        <main>
          {children ?? (
            <Routes>
              <Route index element={<TenantsList />} />
              <Route path="tenants/:tenantId" element={<TenantDetail />} />
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
  const [draft, setDraft] = useState(q);
  const tenants = useQuery({
    queryKey: ["admin-tenants", q, status],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants", {
      params: { query: { q: q || undefined, status: (status || undefined) as (typeof statuses)[number] | undefined, limit: 50 } },
    })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h1" size="6">Tenants</Heading>
      <form role="search" onSubmit={(e) => { e.preventDefault(); setParams((p) => { p.set("q", draft); return p; }); }}>
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
          <Button type="submit">Search</Button>
        </Flex>
      </form>
      {tenants.isPending ? <Loading label="Loading tenants" /> : tenants.isError ? <ProblemCallout error={tenants.error} /> :
        tenants.data.data.length === 0 ? <Empty>No tenant matches.</Empty> : (
          <Table.Root variant="surface" aria-label="Tenants">
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
          </Table.Root>
        )}
    </Flex>
  );
}

function TenantDetail() {
  const { tenantId = "" } = useParams();
  const queries = useQueryClient();
  const [reason, setReason] = useState("support_request");
  const [note, setNote] = useState("");
  const detail = useQuery({
    queryKey: ["admin-tenant", tenantId],
    queryFn: async () => unwrap(await adminApi.GET("/v1/admin/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId } } })),
  });
  const act = useMutation({
    mutationFn: async (action: "suspend" | "unsuspend") => {
      const body = { reason_code: reason, reason_note: note || null };
      const params = { path: { tenant_id: tenantId } };
      return unwrap(action === "suspend"
        ? await adminApi.POST("/v1/admin/tenants/{tenant_id}/suspend", { params, body })
        : await adminApi.POST("/v1/admin/tenants/{tenant_id}/unsuspend", { params, body }));
    },
    onSettled: () => queries.invalidateQueries({ queryKey: ["admin-tenant", tenantId] }),
  });
  if (detail.isPending) return <Loading />;
  if (detail.isError) return <ProblemCallout error={detail.error} />;
  const t = detail.data.tenant;
  const suspended = t.status === "suspended";
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to="/admin">← Tenants</Link></Text>
      <Flex gap="3" align="center">
        <Heading as="h1" size="6">{t.name}</Heading>
        <Badge highContrast color={suspended ? "red" : "green"} data-testid="admin-tenant-status">{t.status}</Badge>
      </Flex>
      <Text>{t.slug} · {t.plan} · {detail.data.members} member{detail.data.members === 1 ? "" : "s"} · {detail.data.open_support_tickets} open tickets</Text>
      <Card>
        <Flex direction="column" gap="3">
          <Heading as="h2" size="4">{suspended ? "Unsuspend" : "Suspend"}</Heading>
          {act.isError ? <ProblemCallout error={act.error} /> : null}
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="reason-code" size="2" weight="medium">Reason code</Text>
            <TextField.Root id="reason-code" value={reason} onChange={(e) => setReason(e.target.value)} />
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="reason-note" size="2" weight="medium">Note</Text>
            <TextField.Root id="reason-note" value={note} onChange={(e) => setNote(e.target.value)} />
          </Flex>
          <AlertDialog.Root>
            <AlertDialog.Trigger>
              <Button color={suspended ? "green" : "red"} style={{ alignSelf: "start" }}>{suspended ? "Unsuspend tenant" : "Suspend tenant"}</Button>
            </AlertDialog.Trigger>
            <AlertDialog.Content maxWidth="420px">
              <AlertDialog.Title>{suspended ? "Unsuspend" : "Suspend"} {t.name}?</AlertDialog.Title>
              <AlertDialog.Description>Recorded as a founder action with reason “{reason}”; it can be reversed.</AlertDialog.Description>
              <Flex gap="3" mt="4" justify="end">
                <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                <AlertDialog.Action>
                  <Button color={suspended ? "green" : "red"} onClick={() => act.mutate(suspended ? "unsuspend" : "suspend")}>Confirm</Button>
                </AlertDialog.Action>
              </Flex>
            </AlertDialog.Content>
          </AlertDialog.Root>
        </Flex>
      </Card>
    </Flex>
  );
}
