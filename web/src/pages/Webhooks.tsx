import { AlertDialog, Badge, Button, Callout, Card, Checkbox, Code, DataList, Dialog, Flex, Heading, Table, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { Link, useNavigate, useOutletContext, useParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { firstPage, formatInstant, type CursorTrail } from "../lib/paging";
import { describeEventTypes, eventTypesBody, parseRateLimit } from "../lib/webhooks";
import { Field } from "./AuthPages";
import { KeyboardScroll, Pager } from "./Pager";

type Endpoint = Schemas["WebhookEndpointResponse"];

function useEventTypes() {
  return useQuery({ queryKey: ["webhook-event-types"], staleTime: 300_000, queryFn: async () => unwrap(await api.GET("/v1/webhooks/event-types")) });
}

/** Lists the tenant's webhook endpoints and creates one (its signing secret shown once). */
export function WebhooksPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const endpoints = useQuery({
    queryKey: ["webhook-endpoints", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/webhooks/endpoints", { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
  });
  const canManage = me.role === "owner" || me.role === "admin";
  return (
    <Flex direction="column" gap="4">
      <Flex align="center" justify="between" wrap="wrap" gap="3">
        <Heading as="h2" size="4">Webhooks</Heading>
        {canManage ? <CreateEndpointDialog tenantId={tenantId} /> : null}
      </Flex>
      {endpoints.isPending ? <Loading label="Loading endpoints" /> : endpoints.isError ? <ProblemCallout error={endpoints.error} /> :
        endpoints.data.data.length === 0 ? <Empty>No webhook endpoints yet. Add one to receive events as they happen.</Empty> : (
          <KeyboardScroll label="Webhook endpoints"><Table.Root variant="surface" aria-label="Webhook endpoints">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Endpoint</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Events</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {endpoints.data.data.map((e) => (
                <Table.Row key={e.id} data-testid="endpoint-row">
                  <Table.Cell style={{ overflowWrap: "anywhere" }}>
                    <Link to={`/t/${tenantId}/webhooks/${e.id}`}>{e.url}</Link>
                    {e.description ? <Text as="div" size="1" color="gray">{e.description}</Text> : null}
                  </Table.Cell>
                  <Table.Cell>{describeEventTypes(e.event_types)}</Table.Cell>
                  <Table.Cell><EndpointStatus endpoint={e} /></Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root></KeyboardScroll>
        )}
    </Flex>
  );
}

function EndpointStatus({ endpoint }: { endpoint: Endpoint }) {
  if (!endpoint.enabled) return <Badge highContrast color="gray" data-testid="endpoint-status">disabled{endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ""}</Badge>;
  if (endpoint.failing_since) return <Badge highContrast color="orange" data-testid="endpoint-status">failing since {formatInstant(endpoint.failing_since)}</Badge>;
  return <Badge highContrast color="green" data-testid="endpoint-status">enabled</Badge>;
}

const endpointSchema = z.object({
  url: z.string().trim().min(1, "Enter the URL").url("Enter a URL such as https://example.com/hooks"),
  description: z.string().trim().max(500),
  event_types: z.array(z.string()),
  rate_limit: z.string().refine((v) => !("error" in parseRateLimit(v)), { message: "A whole number between 1 and 10,000, or empty" }),
});

function SecretOnce({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Flex direction="column" gap="3">
      <Callout.Root color="amber"><Callout.Text>Copy the signing secret now: it is shown this once and cannot be read again.</Callout.Text></Callout.Root>
      <Code size="3" data-testid="webhook-secret" style={{ wordBreak: "break-all" }}>{secret}</Code>
      <Flex gap="3" justify="end">
        <Button variant="soft" onClick={async () => { await navigator.clipboard.writeText(secret); setCopied(true); }}>{copied ? "Copied" : "Copy secret"}</Button>
        <Dialog.Close><Button>Done</Button></Dialog.Close>
      </Flex>
    </Flex>
  );
}

function CreateEndpointDialog({ tenantId }: { tenantId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const queries = useQueryClient();
  const types = useEventTypes();
  const form = useForm<z.infer<typeof endpointSchema>>({ resolver: zodResolver(endpointSchema), defaultValues: { url: "", description: "", event_types: [], rate_limit: "" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const rate = parseRateLimit(v.rate_limit);
      const created = unwrap(await api.POST("/v1/tenants/{tenant_id}/webhooks/endpoints", {
        params: { path: { tenant_id: tenantId } },
        body: { url: v.url, description: v.description || null, event_types: eventTypesBody(v.event_types), rate_limit: "value" in rate ? rate.value : null },
      }));
      setSecret(created.secret);
      await queries.invalidateQueries({ queryKey: ["webhook-endpoints", tenantId] });
    } catch (e) {
      setError(e);
    }
  });
  const close = (o: boolean) => {
    setOpen(o);
    if (!o) { setSecret(null); setError(null); form.reset(); }
  };
  return (
    <Dialog.Root open={open} onOpenChange={close}>
      <Dialog.Trigger><Button>Add endpoint</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="520px">
        <Dialog.Title>{secret ? "Endpoint created" : "Add a webhook endpoint"}</Dialog.Title>
        {secret ? <SecretOnce secret={secret} /> : (
          <form onSubmit={submit} noValidate>
            <Dialog.Description size="2" mb="3">Events are POSTed to this URL, signed with the endpoint's secret (Standard Webhooks).</Dialog.Description>
            <Flex direction="column" gap="3">
              {error ? <ProblemCallout error={error} /> : null}
              <Field id="endpoint-url" label="URL" type="url" placeholder="https://example.com/hooks" {...form.register("url")} error={form.formState.errors.url?.message} />
              <Field id="endpoint-description" label="Description" {...form.register("description")} error={form.formState.errors.description?.message} />
              <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
                <Text as="div" size="2" weight="medium" mb="1"><legend>Events (none ticked: every event)</legend></Text>
                {types.isPending ? <Loading label="Loading event types" /> : types.isError ? <ProblemCallout error={types.error} /> : (
                  <Controller control={form.control} name="event_types" render={({ field }) => (
                    <Flex direction="column" gap="1" style={{ maxHeight: 180, overflowY: "auto" }} tabIndex={0} aria-label="Event types">
                      {types.data.data.filter((t) => t.subscribable).map((t) => (
                        <Text as="label" size="2" key={t.name}>
                          <Flex gap="2" align="center">
                            <Checkbox checked={field.value.includes(t.name)}
                              onCheckedChange={(c) => field.onChange(c ? [...field.value, t.name] : field.value.filter((x) => x !== t.name))} />
                            {t.name}
                          </Flex>
                        </Text>
                      ))}
                    </Flex>
                  )} />
                )}
              </fieldset>
              <Field id="endpoint-rate" label="Deliveries per second (empty: no limit)" inputMode="numeric" {...form.register("rate_limit")} error={form.formState.errors.rate_limit?.message} />
              <Flex gap="3" justify="end">
                <Dialog.Close><Button type="button" variant="soft" color="gray">Cancel</Button></Dialog.Close>
                <Button type="submit" loading={form.formState.isSubmitting}>Create endpoint</Button>
              </Flex>
            </Flex>
          </form>
        )}
      </Dialog.Content>
    </Dialog.Root>
  );
}

const deliveryColour = { pending: "blue", succeeded: "green", failed: "red" } as const;

/** One endpoint: its settings, test send, enable/disable, secret rotation, deletion, and its delivery log with retry. */
export function WebhookEndpointPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const { endpointId = "" } = useParams();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [notice, setNotice] = useState<string | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const path = { tenant_id: tenantId, endpoint_id: endpointId };
  const endpoint = useQuery({
    queryKey: ["webhook-endpoint", tenantId, endpointId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}", { params: { path } })),
  });
  const deliveries = useQuery({
    queryKey: ["webhook-deliveries", tenantId, endpointId, trail.current],
    placeholderData: keepPreviousData,
    // A delivery is attempted in the background: the log refreshes itself while one is pending.
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.status === "pending") ? 1000 : false),
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}/deliveries", { params: { path, query: { cursor: trail.current, limit: 25 } } })),
  });
  const refresh = () => Promise.all([
    queries.invalidateQueries({ queryKey: ["webhook-endpoint", tenantId, endpointId] }),
    queries.invalidateQueries({ queryKey: ["webhook-deliveries", tenantId, endpointId] }),
    queries.invalidateQueries({ queryKey: ["webhook-endpoints", tenantId] }),
  ]);
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}/test", { params: { path } })),
    onMutate: () => setNotice(null),
    onSuccess: (r) => setNotice(`A webhook.test message (${r.message_id}) was queued.`),
    onSettled: refresh,
  });
  const toggle = useMutation({
    mutationFn: async (enabled: boolean) => unwrap(await api.PATCH("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}", { params: { path }, body: { enabled } })),
    onMutate: () => setNotice(null),
    onSettled: refresh,
  });
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}/secret/rotate", { params: { path } })),
    onSuccess: (r) => setRotated(r.secret),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/v1/tenants/{tenant_id}/webhooks/endpoints/{endpoint_id}", { params: { path } })),
    onSuccess: async () => { await queries.invalidateQueries({ queryKey: ["webhook-endpoints", tenantId] }); navigate(`/t/${tenantId}/webhooks`); },
  });
  const retry = useMutation({
    mutationFn: async (messageId: string) => unwrap(await api.POST("/v1/tenants/{tenant_id}/webhooks/messages/{msg_id}/retry", {
      params: { path: { tenant_id: tenantId, msg_id: messageId }, query: { endpoint_id: endpointId } },
    })),
    onMutate: () => setNotice(null),
    onSuccess: (r) => setNotice(`${r.queued} deliver${r.queued === 1 ? "y was" : "ies were"} queued again.`),
    onSettled: refresh,
  });
  const canManage = me.role === "owner" || me.role === "admin";
  const failure = test.error ?? toggle.error ?? rotate.error ?? remove.error ?? retry.error;
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to={`/t/${tenantId}/webhooks`}>← Webhooks</Link></Text>
      {endpoint.isPending ? <Loading label="Loading the endpoint" /> : endpoint.isError ? <ProblemCallout error={endpoint.error} /> : (
        <>
          <Flex gap="3" align="center" wrap="wrap">
            <Heading as="h2" size="4" style={{ overflowWrap: "anywhere" }}>{endpoint.data.url}</Heading>
            <EndpointStatus endpoint={endpoint.data} />
          </Flex>
          <Card>
            <DataList.Root orientation={{ initial: "vertical", sm: "horizontal" }}>
              <DataList.Item><DataList.Label>Description</DataList.Label><DataList.Value>{endpoint.data.description || "—"}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Events</DataList.Label><DataList.Value>{describeEventTypes(endpoint.data.event_types)}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Rate limit</DataList.Label><DataList.Value>{endpoint.data.rate_limit ? `${endpoint.data.rate_limit} per second` : "none"}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Created</DataList.Label><DataList.Value>{formatInstant(endpoint.data.created_at)}</DataList.Value></DataList.Item>
              {endpoint.data.previous_secret_expires_at ? (
                <DataList.Item><DataList.Label>Previous secret valid until</DataList.Label><DataList.Value>{formatInstant(endpoint.data.previous_secret_expires_at)}</DataList.Value></DataList.Item>
              ) : null}
            </DataList.Root>
          </Card>
          {failure ? <ProblemCallout error={failure} /> : null}
          {notice ? <Text role="status" color="green" data-testid="webhook-notice">{notice}</Text> : null}
          {canManage ? (
            <Flex gap="3" wrap="wrap">
              <Button onClick={() => test.mutate()} loading={test.isPending}>Send test event</Button>
              <Button variant="soft" onClick={() => toggle.mutate(!endpoint.data.enabled)} loading={toggle.isPending}>{endpoint.data.enabled ? "Disable" : "Enable"}</Button>
              <Dialog.Root onOpenChange={(o) => { if (!o) setRotated(null); }}>
                <Dialog.Trigger><Button variant="soft">Rotate secret</Button></Dialog.Trigger>
                <Dialog.Content maxWidth="480px">
                  <Dialog.Title>Rotate the signing secret</Dialog.Title>
                  {rotated ? <SecretOnce secret={rotated} /> : (
                    <>
                      <Dialog.Description size="2">A new secret signs from now on; the old one stays valid for a while so that receivers can switch.</Dialog.Description>
                      <Flex gap="3" mt="4" justify="end">
                        <Dialog.Close><Button variant="soft" color="gray">Cancel</Button></Dialog.Close>
                        <Button onClick={() => rotate.mutate()} loading={rotate.isPending}>Rotate</Button>
                      </Flex>
                    </>
                  )}
                </Dialog.Content>
              </Dialog.Root>
              <AlertDialog.Root>
                <AlertDialog.Trigger><Button color="red" variant="soft">Delete endpoint</Button></AlertDialog.Trigger>
                <AlertDialog.Content maxWidth="420px">
                  <AlertDialog.Title>Delete this endpoint?</AlertDialog.Title>
                  <AlertDialog.Description>Its queued deliveries and its log are deleted with it.</AlertDialog.Description>
                  <Flex gap="3" mt="4" justify="end">
                    <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                    <AlertDialog.Action><Button color="red" onClick={() => remove.mutate()}>Delete</Button></AlertDialog.Action>
                  </Flex>
                </AlertDialog.Content>
              </AlertDialog.Root>
            </Flex>
          ) : null}
        </>
      )}
      <Heading as="h3" size="3">Delivery log</Heading>
      {deliveries.isPending ? <Loading label="Loading deliveries" /> : deliveries.isError ? <ProblemCallout error={deliveries.error} /> :
        deliveries.data.data.length === 0 ? <Empty>No deliveries yet. Send a test event to try the endpoint.</Empty> : (
          <>
            <KeyboardScroll label="Deliveries"><Table.Root variant="surface" aria-label="Deliveries">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Event</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Attempts</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Created</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {deliveries.data.data.map((d) => (
                  <Table.Row key={d.id} data-testid="delivery-row">
                    <Table.Cell><Code>{d.event_type}</Code>{d.last_error ? <Text as="div" size="1" color="red">{d.last_error}</Text> : null}</Table.Cell>
                    <Table.Cell><Badge highContrast color={d.status ? deliveryColour[d.status] : "gray"} data-testid="delivery-status">{d.status}</Badge></Table.Cell>
                    <Table.Cell justify="end" data-testid="delivery-attempts">{d.attempts}</Table.Cell>
                    <Table.Cell>{formatInstant(d.created_at)}</Table.Cell>
                    <Table.Cell>
                      {canManage && d.status !== "pending" ? (
                        <Button size="1" variant="soft" onClick={() => retry.mutate(d.message_id)} aria-label={`Retry ${d.event_type} ${d.message_id}`}>Retry</Button>
                      ) : null}
                    </Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Deliveries" trail={trail} nextCursor={deliveries.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}
