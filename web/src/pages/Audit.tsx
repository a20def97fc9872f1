import { Button, Code, Flex, Heading, Table, Text, TextField } from "@radix-ui/themes";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useOutletContext } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { cleanFilters, dayBound, firstPage, formatInstant, type CursorTrail } from "../lib/paging";
import { KeyboardScroll, Pager } from "./Pager";

interface Filters { action: string; actor: string; from: string; to: string }
const none: Filters = { action: "", actor: "", from: "", to: "" };

/** Lists what happened in a tenant, newest first, filtered by action, actor and day range. */
export function AuditPage() {
  const { tenant_id: tenantId } = useOutletContext<Membership>();
  const [draft, setDraft] = useState<Filters>(none);
  const [applied, setApplied] = useState<Filters>(none);
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const query = { ...cleanFilters({ action: applied.action, actor: applied.actor }), from: dayBound(applied.from), to: dayBound(applied.to, true) };
  const log = useQuery({
    queryKey: ["audit", tenantId, query, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/audit-log", {
      params: { path: { tenant_id: tenantId }, query: { ...query, cursor: trail.current, limit: 50 } },
    })),
  });
  const field = (name: keyof Filters, label: string, type = "text", placeholder?: string) => (
    <Flex direction="column" gap="1">
      <Text as="label" htmlFor={`audit-${name}`} size="2" weight="medium">{label}</Text>
      <TextField.Root id={`audit-${name}`} type={type as "text"} placeholder={placeholder} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </Flex>
  );
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Audit log</Heading>
      <form role="search" aria-label="Filter the audit log" onSubmit={(e) => { e.preventDefault(); setApplied(draft); setTrail(firstPage); }}>
        <Flex gap="3" wrap="wrap" align="end">
          {field("action", "Action", "text", "tenant.updated")}
          {field("actor", "Actor id")}
          {field("from", "From", "date")}
          {field("to", "To", "date")}
          <Button type="submit">Filter</Button>
          <Button type="button" variant="soft" color="gray" onClick={() => { setDraft(none); setApplied(none); setTrail(firstPage); }}>Clear</Button>
        </Flex>
      </form>
      {log.isPending ? <Loading label="Loading the audit log" /> : log.isError ? <ProblemCallout error={log.error} /> :
        log.data.data.length === 0 ? <Empty>No audit record matches.</Empty> : (
          <>
            <KeyboardScroll label="Audit log"><Table.Root variant="surface" aria-label="Audit log">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>When</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Action</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Resource</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Actor</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Address</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {log.data.data.map((r) => (
                  <Table.Row key={r.id} data-testid="audit-row">
                    <Table.Cell>{formatInstant(r.occurred_at)}</Table.Cell>
                    <Table.Cell><Code>{r.action}</Code></Table.Cell>
                    <Table.Cell>{r.resource_type}{r.resource_id ? <Text color="gray" size="1"> {r.resource_id}</Text> : null}</Table.Cell>
                    <Table.Cell>{r.actor_type}{r.actor_id ? <Text color="gray" size="1"> {r.actor_id}</Text> : null}</Table.Cell>
                    <Table.Cell>{r.ip ?? "—"}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Audit log" trail={trail} nextCursor={log.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}
