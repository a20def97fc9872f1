import { Button, Callout, Card, Checkbox, Flex, Heading, Text, TextArea } from "@radix-ui/themes";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useOutletContext } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { Loading, ProblemCallout } from "../components";
import { ProblemError } from "../lib/problem";
import { formatAllowlist, parseAllowlist } from "../lib/webhooks";

/** Edits the tenant's IP allowlist: one CIDR a line; a list that would lock the editor out asks for a confirmation first. */
export function IpAllowlistPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const queries = useQueryClient();
  const [text, setText] = useState("");
  const [confirmLockout, setConfirmLockout] = useState(false);
  const [saved, setSaved] = useState(false);
  const list = useQuery({
    queryKey: ["ip-allowlist", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/ip-allowlist", { params: { path: { tenant_id: tenantId } } })),
  });
  useEffect(() => { if (list.data) setText(formatAllowlist(list.data.entries)); }, [list.data]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/v1/tenants/{tenant_id}/ip-allowlist", {
      params: { path: { tenant_id: tenantId } },
      body: { entries: parseAllowlist(text), confirm_lockout: confirmLockout },
    })),
    onMutate: () => setSaved(false),
    onSuccess: (data) => { queries.setQueryData(["ip-allowlist", tenantId], data); setSaved(true); setConfirmLockout(false); },
  });
  const lockout = save.error instanceof ProblemError && save.error.problem.code === "would_lock_out";
  const canEdit = me.role === "owner" || me.role === "admin";
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">IP allowlist</Heading>
      <Card>
        <Flex direction="column" gap="3" maxWidth="560px">
          <Text size="2">When the list has entries, the tenant's routes answer only callers from these addresses (people and API keys alike). An empty list allows every address.</Text>
          {list.isPending ? <Loading label="Loading the allowlist" /> : list.isError ? <ProblemCallout error={list.error} /> : (
            <>
              {list.data.entries.length === 0 ? <Text size="2" color="gray" data-testid="empty">No entries: every address is allowed.</Text> : (
                <Text size="2" data-testid="allowlist-count">{list.data.entries.length} entr{list.data.entries.length === 1 ? "y" : "ies"} in force.</Text>
              )}
              <Flex direction="column" gap="1">
                <Text as="label" htmlFor="allowlist" size="2" weight="medium">Entries (one CIDR a line, then an optional description)</Text>
                <TextArea id="allowlist" rows={8} disabled={!canEdit} value={text} onChange={(e) => setText(e.target.value)} placeholder={"203.0.113.0/24 head office\n2001:db8::/32"} style={{ fontFamily: "monospace" }} />
              </Flex>
              {save.isError ? <ProblemCallout error={save.error} /> : null}
              {lockout ? (
                <Callout.Root color="amber">
                  <Callout.Text>
                    <Text as="label" size="2"><Flex gap="2" align="center"><Checkbox checked={confirmLockout} onCheckedChange={(c) => setConfirmLockout(c === true)} />I understand this browser's address will be refused once saved.</Flex></Text>
                  </Callout.Text>
                </Callout.Root>
              ) : null}
              {saved ? <Text role="status" color="green" data-testid="allowlist-saved">Saved.</Text> : null}
              {canEdit ? <Button style={{ alignSelf: "start" }} loading={save.isPending} onClick={() => save.mutate()}>Save allowlist</Button> : null}
            </>
          )}
        </Flex>
      </Card>
    </Flex>
  );
}
