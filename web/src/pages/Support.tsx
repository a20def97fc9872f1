import { Badge, Button, Card, Dialog, Flex, Heading, Select, Table, Text, TextArea } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { Link, useOutletContext, useParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { firstPage, formatInstant, type CursorTrail } from "../lib/paging";
import { Field } from "./AuthPages";
import { KeyboardScroll, Pager } from "./Pager";

type TicketStatus = Schemas["SupportTicketResponse"]["status"];
export const ticketStatuses = ["open", "in_progress", "waiting_on_customer", "resolved", "closed"] as const;
const statusColour: Record<NonNullable<TicketStatus>, "blue" | "amber" | "orange" | "green" | "gray"> = {
  open: "blue", in_progress: "amber", waiting_on_customer: "orange", resolved: "green", closed: "gray",
};

export function TicketStatusBadge({ status }: { status: TicketStatus }) {
  return <Badge highContrast color={status ? statusColour[status] : "gray"} data-testid="ticket-status">{status?.replace(/_/g, " ")}</Badge>;
}

/** The tenant's support tickets: list by status, open one. */
export function SupportPage() {
  const { tenant_id: tenantId } = useOutletContext<Membership>();
  const [status, setStatus] = useState("");
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const tickets = useQuery({
    queryKey: ["tickets", tenantId, status, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/support-tickets", {
      params: { path: { tenant_id: tenantId }, query: { status: status || undefined, cursor: trail.current, limit: 25 } },
    })),
  });
  return (
    <Flex direction="column" gap="4">
      <Flex align="center" justify="between" wrap="wrap" gap="3">
        <Heading as="h2" size="4">Support</Heading>
        <OpenTicketDialog tenantId={tenantId} />
      </Flex>
      <Flex direction="column" gap="1" style={{ alignSelf: "start" }}>
        <Text as="label" id="ticket-status-filter" size="2" weight="medium">Status</Text>
        <Select.Root value={status || "all"} onValueChange={(v) => { setStatus(v === "all" ? "" : v); setTrail(firstPage); }}>
          <Select.Trigger aria-labelledby="ticket-status-filter" />
          <Select.Content>
            <Select.Item value="all">Any status</Select.Item>
            {ticketStatuses.map((s) => <Select.Item key={s} value={s}>{s.replace(/_/g, " ")}</Select.Item>)}
          </Select.Content>
        </Select.Root>
      </Flex>
      {tickets.isPending ? <Loading label="Loading tickets" /> : tickets.isError ? <ProblemCallout error={tickets.error} /> :
        tickets.data.data.length === 0 ? <Empty>No support tickets{status ? " with this status" : ""}. Open one and we answer here.</Empty> : (
          <>
            <KeyboardScroll label="Support tickets"><Table.Root variant="surface" aria-label="Support tickets">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Subject</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Priority</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Updated</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {tickets.data.data.map((t) => (
                  <Table.Row key={t.id} data-testid="ticket-row">
                    <Table.Cell><Link to={`/t/${tenantId}/support/${t.id}`}>{t.subject}</Link></Table.Cell>
                    <Table.Cell><TicketStatusBadge status={t.status} /></Table.Cell>
                    <Table.Cell>{t.priority}</Table.Cell>
                    <Table.Cell>{formatInstant(t.updated_at)}</Table.Cell>
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

const categories = ["technical", "billing", "account", "feature_request", "other"] as const;
const priorities = ["low", "normal", "high", "urgent"] as const;
const ticketSchema = z.object({
  subject: z.string().trim().min(1, "Enter a subject").max(200),
  description: z.string().trim().min(1, "Describe the problem").max(10000),
  category: z.enum(categories),
  priority: z.enum(priorities),
});

function OpenTicketDialog({ tenantId }: { tenantId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const queries = useQueryClient();
  const form = useForm<z.infer<typeof ticketSchema>>({ resolver: zodResolver(ticketSchema), defaultValues: { subject: "", description: "", category: "technical", priority: "normal" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      unwrap(await api.POST("/v1/tenants/{tenant_id}/support-tickets", { params: { path: { tenant_id: tenantId } }, body: v }));
      await queries.invalidateQueries({ queryKey: ["tickets", tenantId] });
      setOpen(false);
      form.reset();
    } catch (e) {
      setError(e);
    }
  });
  const choice = (name: "category" | "priority", label: string, options: readonly string[]) => (
    <Flex direction="column" gap="1">
      <Text as="label" id={`ticket-${name}`} size="2" weight="medium">{label}</Text>
      <Controller control={form.control} name={name} render={({ field }) => (
        <Select.Root value={field.value} onValueChange={field.onChange}>
          <Select.Trigger aria-labelledby={`ticket-${name}`} />
          <Select.Content>{options.map((o) => <Select.Item key={o} value={o}>{o}</Select.Item>)}</Select.Content>
        </Select.Root>
      )} />
    </Flex>
  );
  return (
    <Dialog.Root open={open} onOpenChange={(o) => { setOpen(o); if (!o) { setError(null); form.reset(); } }}>
      <Dialog.Trigger><Button>Open a ticket</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="520px">
        <Dialog.Title>Open a support ticket</Dialog.Title>
        <Dialog.Description size="2" mb="3">Our operators answer on the ticket; you see their replies here.</Dialog.Description>
        <form onSubmit={submit} noValidate>
          <Flex direction="column" gap="3">
            {error ? <ProblemCallout error={error} /> : null}
            <Field id="ticket-subject" label="Subject" {...form.register("subject")} error={form.formState.errors.subject?.message} />
            <Flex direction="column" gap="1">
              <Text as="label" htmlFor="ticket-description" size="2" weight="medium">Description</Text>
              <TextArea id="ticket-description" rows={5} {...form.register("description")} aria-invalid={!!form.formState.errors.description} />
              {form.formState.errors.description ? <Text size="1" color="red">{form.formState.errors.description.message}</Text> : null}
            </Flex>
            <Flex gap="3" wrap="wrap">
              {choice("category", "Category", categories)}
              {choice("priority", "Priority", priorities)}
            </Flex>
            <Flex gap="3" justify="end">
              <Dialog.Close><Button type="button" variant="soft" color="gray">Cancel</Button></Dialog.Close>
              <Button type="submit" loading={form.formState.isSubmitting}>Open ticket</Button>
            </Flex>
          </Flex>
        </form>
      </Dialog.Content>
    </Dialog.Root>
  );
}

/** The conversation of one ticket, shared by the tenant app and the operator console. */
export function TicketThread({ ticket }: { ticket: Schemas["SupportTicketResponse"] }) {
  return (
    <Flex direction="column" gap="3">
      <Card>
        <Text as="div" size="1" color="gray">Opened {formatInstant(ticket.created_at)} · {ticket.category} · {ticket.priority}</Text>
        <Text as="p" style={{ whiteSpace: "pre-wrap" }}>{ticket.description}</Text>
      </Card>
      {(ticket.responses ?? []).map((r) => (
        <Card key={r.id} data-testid="ticket-response" style={{ marginLeft: r.author_type === "operator" ? 0 : 24 }}>
          <Text as="div" size="1" color="gray">{r.author_type === "operator" ? "Support" : "You"} · {formatInstant(r.created_at)}</Text>
          <Text as="p" style={{ whiteSpace: "pre-wrap" }}>{r.body}</Text>
        </Card>
      ))}
      {ticket.resolution ? <Card><Text weight="bold">Resolution: </Text><Text>{ticket.resolution}</Text></Card> : null}
    </Flex>
  );
}

export function SupportTicketPage() {
  const { tenant_id: tenantId } = useOutletContext<Membership>();
  const { ticketId = "" } = useParams();
  const queries = useQueryClient();
  const [reply, setReply] = useState("");
  const ticket = useQuery({
    queryKey: ["ticket", tenantId, ticketId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/support-tickets/{id}", { params: { path: { tenant_id: tenantId, id: ticketId } } })),
  });
  const send = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/support-tickets/{id}/responses", { params: { path: { tenant_id: tenantId, id: ticketId } }, body: { body: reply } })),
    onSuccess: () => setReply(""),
    onSettled: () => Promise.all([queries.invalidateQueries({ queryKey: ["ticket", tenantId, ticketId] }), queries.invalidateQueries({ queryKey: ["tickets", tenantId] })]),
  });
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to={`/t/${tenantId}/support`}>← Support</Link></Text>
      {ticket.isPending ? <Loading label="Loading the ticket" /> : ticket.isError ? <ProblemCallout error={ticket.error} /> : (
        <>
          <Flex gap="3" align="center" wrap="wrap">
            <Heading as="h2" size="4">{ticket.data.subject}</Heading>
            <TicketStatusBadge status={ticket.data.status} />
          </Flex>
          <TicketThread ticket={ticket.data} />
          {ticket.data.status === "closed" ? <Text color="gray">This ticket is closed; open a new one to continue.</Text> : (
            <form onSubmit={(e) => { e.preventDefault(); if (reply.trim()) send.mutate(); }}>
              <Flex direction="column" gap="2">
                <Text as="label" htmlFor="ticket-reply" size="2" weight="medium">Reply</Text>
                <TextArea id="ticket-reply" rows={4} value={reply} onChange={(e) => setReply(e.target.value)} />
                {send.isError ? <ProblemCallout error={send.error} /> : null}
                <Button type="submit" disabled={!reply.trim()} loading={send.isPending} style={{ alignSelf: "start" }}>Send reply</Button>
              </Flex>
            </form>
          )}
        </>
      )}
    </Flex>
  );
}
