import { Badge, Box, Button, Flex, Heading, Select, Separator, TabNav, Text } from "@radix-ui/themes";
import { useQuery } from "@tanstack/react-query";
import { Link, Navigate, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { useAuth } from "../auth";
import { Loading, ProblemCallout } from "../components";

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/v1/me")) });
}

/** Sends a signed-out visitor to the sign-in page, remembering where they were going. */
export function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "restoring") return <Loading label="Restoring your session" />;
  if (status === "signed-out") return <Navigate to={`/signin?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <Outlet />;
}

/** Opens the user's default tenant, or their first, or the create-tenant page when they have none. */
export function Home() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <Box p="4"><ProblemCallout error={me.error} /></Box>;
  const first = me.data.memberships.find((m) => m.tenant_id === me.data.user.default_tenant_id) ?? me.data.memberships[0];
  return <Navigate to={first ? `/t/${first.tenant_id}` : "/tenants/new"} replace />;
}

export function TopBar({ current, switcher = true }: { current?: Membership; switcher?: boolean }) {
  const me = useMe();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <header>
      <Flex align="center" gap="4" px="4" py="3" wrap="wrap">
        <Text size="4" weight="bold"><Link to="/" style={{ color: "inherit", textDecoration: "none" }}>Platform</Link></Text>
        {!switcher ? <Button variant="soft" asChild><Link to="/">Dashboard</Link></Button> : me.data && me.data.memberships.length > 0 ? (
          <Select.Root
            value={current?.tenant_id ?? ""}
            onValueChange={(v) => (v === "__new" ? navigate("/tenants/new") : navigate(`/t/${v}`))}
          >
            <Select.Trigger aria-label="Tenant" placeholder="Choose a tenant" />
            <Select.Content>
              {me.data.memberships.map((m) => (
                <Select.Item key={m.tenant_id} value={m.tenant_id}>{m.tenant_name}</Select.Item>
              ))}
              <Select.Separator />
              <Select.Item value="__new">+ Create tenant</Select.Item>
            </Select.Content>
          </Select.Root>
        ) : null}
        <Box flexGrow="1" />
        {me.data ? <Text size="2" color="gray" data-testid="signed-in-as">{me.data.user.email}</Text> : null}
        <Button variant="ghost" asChild><Link to="/profile">Profile</Link></Button>
        <Button variant="soft" onClick={async () => { await signOut(); navigate("/signin", { replace: true }); }}>Sign out</Button>
      </Flex>
      <Separator size="4" />
    </header>
  );
}

/** The tenant's sections; the tab bar uses the compact size below 1640 px so that all fifteen stay in view at 1280 px (the regular size cut off
 * "Settings"); narrower screens scroll it. */
const tabs = [
  { to: "", label: "Overview" },
  { to: "usage", label: "Usage" },
  { to: "members", label: "Members" },
  { to: "billing", label: "Billing" },
  { to: "api-keys", label: "API keys" },
  { to: "runs", label: "Runs" },
  { to: "workers", label: "Workers" },
  { to: "webhooks", label: "Webhooks" },
  { to: "support", label: "Support" },
  { to: "audit-log", label: "Audit log" },
  { to: "ip-allowlist", label: "IP allowlist" },
  { to: "branding", label: "Branding" },
  { to: "domains", label: "Domains" },
  { to: "sso", label: "SSO" },
  { to: "settings", label: "Settings" },
];

/** Lays out a tenant's pages: the top bar with the tenant switcher, the tabs, and the page. */
export function TenantShell() {
  const { tenantId } = useParams();
  const me = useMe();
  const location = useLocation();
  const current = me.data?.memberships.find((m) => m.tenant_id === tenantId);
  return (
    <>
      <TopBar current={current} />
      {current ? (
        <TabNav.Root aria-label="Tenant sections" size={{ initial: "1", xl: "2" }}>
          {tabs.map((t) => {
            const href = `/t/${tenantId}${t.to ? `/${t.to}` : ""}`;
            return (
              <TabNav.Link key={t.label} asChild active={location.pathname === href || (t.to !== "" && location.pathname.startsWith(href + "/"))}>
                <Link to={href}>{t.label}</Link>
              </TabNav.Link>
            );
          })}
        </TabNav.Root>
      ) : null}
      <Box asChild px="4" py="4">
        <main>
          {me.isPending ? <Loading /> : me.isError ? <ProblemCallout error={me.error} /> : !current ? (
            <ProblemCallout error={{ title: "Not found", detail: "You are not a member of this tenant." }} />
          ) : (
            <>
              <Flex align="center" gap="3" mb="4" wrap="wrap">
                <Heading as="h1" size="6">{current.tenant_name}</Heading>
                <Badge highContrast color="gray">{current.plan}</Badge>
                <Badge highContrast color={current.status === "active" ? "green" : current.status === "trial" ? "blue" : "orange"}>{current.status}</Badge>
                <Badge highContrast variant="outline">{current.role}</Badge>
              </Flex>
              <Outlet context={current} />
            </>
          )}
        </main>
      </Box>
    </>
  );
}
