import { AlertDialog, Badge, Button, Card, Checkbox, Flex, Heading, Select, Text, TextArea, TextField } from "@radix-ui/themes";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { useOutletContext } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Loading, ProblemCallout } from "../components";
import { ProblemError } from "../lib/problem";
import { formatGroupRoles, parseDomains, parseGroupRoles } from "../lib/sso";
import { UpgradeCallout } from "./Branding";

type Settings = Schemas["SsoSettingsResponse"];

/** The tenant's single sign-on (OpenID Connect) settings: issuer, client, claimed email domains, roles of new members and enforcement (ADR 0620).
 * Not configured is GET …/sso/status's {configured: false}, shown as an empty form; the client secret is write-only; members below admin see the redacted view. */
export function SsoPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const canEdit = me.role === "owner" || me.role === "admin";
  const queries = useQueryClient();
  const settings = useQuery({
    queryKey: ["sso", tenantId],
    // GET …/sso/status answers "not configured" as {configured: false}: the first visit makes no refused request (ADR 0785).
    queryFn: async (): Promise<Settings | null> =>
      unwrap(await api.GET("/v1/tenants/{tenant_id}/sso/status", { params: { path: { tenant_id: tenantId } } })).settings ?? null,
  });
  const [issuer, setIssuer] = useState("");
  const [clientId, setClientId] = useState("");
  const [secret, setSecret] = useState("");
  const [domains, setDomains] = useState("");
  const [defaultRole, setDefaultRole] = useState("member");
  const [groupClaim, setGroupClaim] = useState("");
  const [groupRoles, setGroupRoles] = useState("");
  const [enforce, setEnforce] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setIssuer(s.issuer);
    setClientId(s.client_id ?? "");
    setDomains(s.domains.join(", "));
    setDefaultRole(s.default_role ?? "member");
    setGroupClaim(s.group_claim ?? "");
    setGroupRoles(formatGroupRoles(s.group_roles));
    setEnforce(s.enforce);
  }, [settings.data]);
  const save = useMutation({
    mutationFn: async () => {
      const roles = parseGroupRoles(groupRoles);
      if ("error" in roles) throw new ProblemError({ status: 422, title: "The group roles are not valid", detail: roles.error });
      return unwrap(await api.PUT("/v1/tenants/{tenant_id}/sso", {
        params: { path: { tenant_id: tenantId } },
        body: {
          issuer: issuer.trim(), client_id: clientId.trim(), client_secret: secret === "" ? null : secret, domains: parseDomains(domains),
          default_role: defaultRole, group_claim: groupClaim.trim() === "" ? null : groupClaim.trim(), group_roles: roles.value, enforce,
        },
      }));
    },
    onMutate: () => setSaved(null),
    onSuccess: (data) => { queries.setQueryData(["sso", tenantId], data); setSecret(""); setSaved("SSO settings saved."); },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/tenants/{tenant_id}/sso", { params: { path: { tenant_id: tenantId } } })),
    onMutate: () => setSaved(null),
    onSuccess: () => {
      queries.setQueryData(["sso", tenantId], null);
      setIssuer(""); setClientId(""); setSecret(""); setDomains(""); setDefaultRole("member"); setGroupClaim(""); setGroupRoles(""); setEnforce(false);
      setSaved("SSO removed: its email domains are released.");
    },
  });
  const gated = (e: unknown) => e instanceof ProblemError && e.problem.code === "feature_not_in_plan";

  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Single sign-on</Heading>
      <Card>
        <Flex direction="column" gap="3" maxWidth="640px">
          <Text size="2">Members sign in through your identity provider (OpenID Connect). People whose email domain is listed here join with the
            default role, or the role their group maps to.</Text>
          {settings.isPending ? <Loading label="Loading the SSO settings" /> : settings.isError ? (
            gated(settings.error) ? <UpgradeCallout feature="SSO" plans="the Enterprise plan does" /> : <ProblemCallout error={settings.error} />
          ) : (
            <>
              <Flex gap="2" align="center" data-testid="sso-status">
                {settings.data ? <Badge highContrast color="green">Configured</Badge> : <Badge highContrast color="gray">Not configured</Badge>}
                {settings.data?.enforce ? <Badge highContrast color="amber">Enforced: no password sign-in for these domains</Badge> : null}
                {settings.data ? <Text size="1" color="gray">Updated {new Date(settings.data.updated_at).toUTCString()}</Text> : null}
              </Flex>
              {settings.data?.redacted ? <Text size="2" color="gray">Only admins see the client and role settings.</Text> : null}
              <Field id="sso-issuer" label="Issuer URL (https)">
                <TextField.Root id="sso-issuer" value={issuer} disabled={!canEdit} onChange={(e) => setIssuer(e.target.value)} placeholder="https://login.example.com" />
              </Field>
              {settings.data?.redacted ? null : (
                <>
                  <Field id="sso-client-id" label="Client ID">
                    <TextField.Root id="sso-client-id" value={clientId} disabled={!canEdit} onChange={(e) => setClientId(e.target.value)} />
                  </Field>
                  <Field id="sso-secret" label={settings.data?.client_secret_set ? "Client secret (stored; leave empty to keep it)" : "Client secret"}>
                    <TextField.Root id="sso-secret" type="password" autoComplete="off" value={secret} disabled={!canEdit} onChange={(e) => setSecret(e.target.value)} />
                  </Field>
                </>
              )}
              <Field id="sso-domains" label="Email domains (comma separated)">
                <TextField.Root id="sso-domains" value={domains} disabled={!canEdit} onChange={(e) => setDomains(e.target.value)} placeholder="example.com" />
              </Field>
              {settings.data?.redacted ? null : (
                <>
                  <Flex direction="column" gap="1">
                    <Text size="2" weight="medium" id="sso-role-label">Default role of new members</Text>
                    <Select.Root value={defaultRole} onValueChange={setDefaultRole} disabled={!canEdit}>
                      <Select.Trigger aria-labelledby="sso-role-label" style={{ alignSelf: "start" }} />
                      <Select.Content>
                        {["admin", "member", "viewer"].map((r) => <Select.Item key={r} value={r}>{r}</Select.Item>)}
                      </Select.Content>
                    </Select.Root>
                  </Flex>
                  <Field id="sso-group-claim" label="Group claim (optional)">
                    <TextField.Root id="sso-group-claim" value={groupClaim} disabled={!canEdit} onChange={(e) => setGroupClaim(e.target.value)} placeholder="groups" />
                  </Field>
                  <Field id="sso-group-roles" label="Group roles (one &quot;group role&quot; a line)">
                    <TextArea id="sso-group-roles" rows={3} value={groupRoles} disabled={!canEdit} onChange={(e) => setGroupRoles(e.target.value)} placeholder="engineering admin" />
                  </Field>
                </>
              )}
              <Text as="label" size="2">
                <Flex gap="2" align="center">
                  <Checkbox checked={enforce} disabled={!canEdit} onCheckedChange={(c) => setEnforce(c === true)} />
                  Enforce SSO: members with these email domains cannot sign in with a password
                </Flex>
              </Text>
              {save.isError ? (gated(save.error) ? <UpgradeCallout feature="SSO" plans="the Enterprise plan does" /> : <ProblemCallout error={save.error} />) : null}
              {remove.isError ? <ProblemCallout error={remove.error} /> : null}
              {saved ? <Text role="status" color="green" data-testid="sso-saved">{saved}</Text> : null}
              {canEdit ? (
                <Flex gap="3" wrap="wrap">
                  <Button loading={save.isPending} onClick={() => save.mutate()}>Save SSO settings</Button>
                  {settings.data ? (
                    <AlertDialog.Root>
                      <AlertDialog.Trigger><Button color="red" variant="soft">Remove SSO</Button></AlertDialog.Trigger>
                      <AlertDialog.Content maxWidth="420px">
                        <AlertDialog.Title>Remove single sign-on?</AlertDialog.Title>
                        <AlertDialog.Description>Members sign in with their passwords again, and the email domains are released.</AlertDialog.Description>
                        <Flex gap="3" mt="4" justify="end">
                          <AlertDialog.Cancel><Button variant="soft" color="gray">Keep it</Button></AlertDialog.Cancel>
                          <AlertDialog.Action><Button color="red" onClick={() => remove.mutate()}>Remove</Button></AlertDialog.Action>
                        </Flex>
                      </AlertDialog.Content>
                    </AlertDialog.Root>
                  ) : null}
                </Flex>
              ) : null}
            </>
          )}
        </Flex>
      </Card>
    </Flex>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <Flex direction="column" gap="1">
      <Text as="label" htmlFor={id} size="2" weight="medium">{label}</Text>
      {children}
    </Flex>
  );
}
