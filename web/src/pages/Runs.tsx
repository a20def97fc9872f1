import { Badge, Button, Card, Checkbox, Code, DataList, Dialog, Flex, Heading, Select, Table, Text, TextArea, TextField } from "@radix-ui/themes";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useOutletContext, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { formatCents } from "../lib/format";
import { parseJsonObject, parseOptionalLimit } from "../lib/forms";
import { cleanFilters, firstPage, formatInstant, formatLatency, type CursorTrail } from "../lib/paging";
import { KeyboardScroll, Pager } from "./Pager";

type Run = Schemas["RunResponse"];
const runStatuses = ["running", "succeeded", "failed", "timed_out"] as const;

export function RunStatusBadge({ status }: { status: Run["status"] }) {
  const colour = status === "succeeded" ? "green" : status === "running" ? "blue" : "red";
  return <Badge highContrast color={colour} data-testid="run-status">{status}</Badge>;
}

const cost = (r: Run) => (r.cost_cents === null || r.cost_cents === undefined ? "—" : formatCents(r.cost_cents, r.currency));

/** Lists a tenant's runs newest first, filtered by status and worker, a page at a time by cursor. */
export function RunsPage() {
  const { tenant_id: tenantId } = useOutletContext<Membership>();
  const [status, setStatus] = useState("");
  const [worker, setWorker] = useState("");
  const [workerDraft, setWorkerDraft] = useState("");
  const [trail, setTrail] = useState<CursorTrail>(firstPage);
  const filters = cleanFilters({ status, worker_id: worker });
  const runs = useQuery({
    queryKey: ["runs", tenantId, "list", filters, trail.current],
    placeholderData: keepPreviousData,
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/runs", {
      params: { path: { tenant_id: tenantId }, query: { ...filters, cursor: trail.current, limit: 25 } },
    })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Runs</Heading>
      <form role="search" aria-label="Filter runs" onSubmit={(e) => { e.preventDefault(); setWorker(workerDraft); setTrail(firstPage); }}>
        <Flex gap="3" wrap="wrap" align="end">
          <Flex direction="column" gap="1">
            <Text as="label" id="run-status-filter" size="2" weight="medium">Status</Text>
            <Select.Root value={status || "all"} onValueChange={(v) => { setStatus(v === "all" ? "" : v); setTrail(firstPage); }}>
              <Select.Trigger aria-labelledby="run-status-filter" />
              <Select.Content>
                <Select.Item value="all">Any status</Select.Item>
                {runStatuses.map((s) => <Select.Item key={s} value={s}>{s}</Select.Item>)}
              </Select.Content>
            </Select.Root>
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" htmlFor="run-worker-filter" size="2" weight="medium">Worker</Text>
            <TextField.Root id="run-worker-filter" value={workerDraft} onChange={(e) => setWorkerDraft(e.target.value)} placeholder="Worker id" />
          </Flex>
          <Button type="submit">Filter</Button>
        </Flex>
      </form>
      {runs.isPending ? <Loading label="Loading runs" /> : runs.isError ? <ProblemCallout error={runs.error} /> :
        runs.data.data.length === 0 ? <Empty>{Object.keys(filters).length ? "No run matches these filters." : "No runs yet. Runs appear here when an API key admits one."}</Empty> : (
          <>
            <KeyboardScroll label="Runs"><Table.Root variant="surface" aria-label="Runs">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Task</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Worker</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Started</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Tokens</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell justify="end">Cost</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {runs.data.data.map((r) => (
                  <Table.Row key={r.id}>
                    <Table.Cell><Link to={`/t/${tenantId}/runs/${r.id}`}>{r.task || r.id}</Link></Table.Cell>
                    <Table.Cell>{r.worker_id}</Table.Cell>
                    <Table.Cell><RunStatusBadge status={r.status} /></Table.Cell>
                    <Table.Cell>{formatInstant(r.started_at)}</Table.Cell>
                    <Table.Cell justify="end">{r.total_tokens?.toLocaleString("en-US") ?? "—"}</Table.Cell>
                    <Table.Cell justify="end">{cost(r)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root></KeyboardScroll>
            <Pager label="Runs" trail={trail} nextCursor={runs.data.next_cursor} onChange={setTrail} />
          </>
        )}
    </Flex>
  );
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v, null, 2));

/** Shows one run: outcome, tokens, latency, cost, stages, retries and who admitted it. */
export function RunDetailPage() {
  const { tenant_id: tenantId } = useOutletContext<Membership>();
  const { runId = "" } = useParams();
  const run = useQuery({
    queryKey: ["run", tenantId, runId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/runs/{run_id}", { params: { path: { tenant_id: tenantId, run_id: runId } } })),
  });
  return (
    <Flex direction="column" gap="4">
      <Text size="2"><Link to={`/t/${tenantId}/runs`}>← Runs</Link></Text>
      {run.isPending ? <Loading label="Loading the run" /> : run.isError ? <ProblemCallout error={run.error} /> : (
        <>
          <Flex gap="3" align="center" wrap="wrap">
            <Heading as="h2" size="4">{run.data.task || "Run"}</Heading>
            <RunStatusBadge status={run.data.status} />
          </Flex>
          <Card>
            <DataList.Root orientation={{ initial: "vertical", sm: "horizontal" }} aria-label="Run">
              <DataList.Item><DataList.Label>Run id</DataList.Label><DataList.Value><Code>{run.data.id}</Code></DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Worker</DataList.Label><DataList.Value>{run.data.worker_id}{run.data.worker_version ? ` ${run.data.worker_version}` : ""}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Admitted by</DataList.Label><DataList.Value data-testid="run-actor">{run.data.api_key_id ? `API key ${run.data.api_key_id}` : `${run.data.created_by.type}${run.data.created_by.id ? ` ${run.data.created_by.id}` : ""}`}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Tokens</DataList.Label><DataList.Value data-testid="run-tokens">{run.data.total_tokens?.toLocaleString("en-US") ?? "—"}{run.data.max_tokens_per_run ? ` (limit ${run.data.max_tokens_per_run.toLocaleString("en-US")})` : ""}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Latency</DataList.Label><DataList.Value data-testid="run-latency">{formatLatency(run.data.latency_ms)}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Cost</DataList.Label><DataList.Value data-testid="run-cost">{cost(run.data)}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Attempt</DataList.Label><DataList.Value>{run.data.attempt}{run.data.parent_run_id ? <> (retry of <Link to={`/t/${tenantId}/runs/${run.data.parent_run_id}`}>{run.data.parent_run_id}</Link>)</> : null}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Recoveries</DataList.Label><DataList.Value>{run.data.recoveries ?? 0}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Started</DataList.Label><DataList.Value>{formatInstant(run.data.started_at)}</DataList.Value></DataList.Item>
              <DataList.Item><DataList.Label>Completed</DataList.Label><DataList.Value>{formatInstant(run.data.completed_at)}</DataList.Value></DataList.Item>
            </DataList.Root>
          </Card>
          {run.data.error ? <ProblemCallout error={{ title: "The run failed", detail: run.data.error }} /> : null}
          {[["Stages", run.data.stages], ["Input", run.data.input], ["Output", run.data.output], ["Policy violations", run.data.policy_violations]].map(([label, value]) =>
            json(value) ? (
              <Card key={label as string}>
                <Heading as="h3" size="3" mb="2">{label as string}</Heading>
                <pre tabIndex={0} aria-label={label as string} style={{ margin: 0, overflowX: "auto", fontSize: 12 }}>{json(value)}</pre>
              </Card>
            ) : null)}
        </>
      )}
    </Flex>
  );
}

/** Lists the workers this tenant may run, with their prices. */
export function WorkersPage() {
  const { tenant_id: tenantId, role } = useOutletContext<Membership>();
  const canConfigure = role === "owner" || role === "admin";
  const workers = useQuery({
    queryKey: ["workers", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/workers", { params: { path: { tenant_id: tenantId } } })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Workers</Heading>
      {workers.isPending ? <Loading label="Loading workers" /> : workers.isError ? <ProblemCallout error={workers.error} /> :
        workers.data.data.length === 0 ? <Empty>No worker is available to this tenant.</Empty> : (
          <KeyboardScroll label="Workers"><Table.Root variant="surface" aria-label="Workers">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Worker</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Version</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell justify="end">Per run</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell justify="end">Per 1k tokens</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Config</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {workers.data.data.map((w) => (
                <Table.Row key={w.id} data-testid={`worker-${w.id}`}>
                  <Table.Cell><Text weight="medium">{w.name}</Text> <Code>{w.id}</Code><Text as="div" size="1" color="gray">{w.description}</Text></Table.Cell>
                  <Table.Cell>{w.version}</Table.Cell>
                  <Table.Cell><Badge highContrast color={w.status === "active" ? "green" : "orange"}>{w.status}</Badge></Table.Cell>
                  <Table.Cell justify="end">{w.uses_credits ? `${w.credits_per_run} credits` : formatCents(w.base_cents_per_run, w.currency)}</Table.Cell>
                  <Table.Cell justify="end">{formatCents(w.cents_per_1k_tokens, w.currency)}</Table.Cell>
                  <Table.Cell><WorkerConfigDialog tenantId={tenantId} workerId={w.id} name={w.name} canConfigure={canConfigure} /></Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root></KeyboardScroll>
        )}
    </Flex>
  );
}

/** Shows and changes the tenant's config of one worker: enabled, its limits and its JSON config, with today's run count. */
function WorkerConfigDialog({ tenantId, workerId, name, canConfigure }: { tenantId: string; workerId: string; name: string; canConfigure: boolean }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<{ enabled: boolean; runs: string; tokens: string; config: string } | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const queries = useQueryClient();
  const path = { tenant_id: tenantId, worker_id: workerId };
  const config = useQuery({
    enabled: open,
    queryKey: ["worker-config", tenantId, workerId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/workers/{worker_id}/config", { params: { path } })),
  });
  const current = draft ?? (config.data ? {
    enabled: config.data.enabled,
    runs: config.data.max_runs_per_day?.toString() ?? "",
    tokens: config.data.max_tokens_per_run?.toString() ?? "",
    config: JSON.stringify(config.data.config ?? {}, null, 2),
  } : null);
  const save = useMutation({
    mutationFn: async (body: { enabled: boolean; config: Record<string, unknown>; max_runs_per_day: number | null; max_tokens_per_run: number | null }) =>
      unwrap(await api.PUT("/v1/tenants/{tenant_id}/workers/{worker_id}/config", { params: { path }, body })),
    onSuccess: (data) => { queries.setQueryData(["worker-config", tenantId, workerId], data); setDraft(null); setSaved(true); },
  });
  const submit = () => {
    if (!current) return;
    const cfg = parseJsonObject(current.config);
    const runs = parseOptionalLimit(current.runs);
    const tokens = parseOptionalLimit(current.tokens);
    const problem = "error" in cfg ? `Config: ${cfg.error}` : "error" in runs ? `Runs per day: ${runs.error}` : "error" in tokens ? `Tokens per run: ${tokens.error}` : null;
    setInvalid(problem);
    if (problem || "error" in cfg || "error" in runs || "error" in tokens) return;
    save.mutate({ enabled: current.enabled, config: cfg.value, max_runs_per_day: runs.value, max_tokens_per_run: tokens.value });
  };
  const edit = (patch: Partial<NonNullable<typeof current>>) => { if (current) { setDraft({ ...current, ...patch }); setSaved(false); } };
  return (
    <Dialog.Root open={open} onOpenChange={(o) => { setOpen(o); if (!o) { setDraft(null); setInvalid(null); setSaved(false); save.reset(); } }}>
      <Dialog.Trigger><Button size="1" variant="soft" aria-label={`Configure ${name}`}>Configure</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="520px">
        <Dialog.Title>{name}: this tenant's config</Dialog.Title>
        <Dialog.Description size="2" mb="3">Whether the tenant may run it, its own limits (empty: the plan's) and the config passed to each run.</Dialog.Description>
        {config.isPending ? <Loading label="Loading the config" /> : config.isError ? <ProblemCallout error={config.error} /> : current ? (
          <Flex direction="column" gap="3">
            <Text size="2" data-testid="worker-runs-today">Runs today: {config.data.runs_today.toLocaleString("en-US")}</Text>
            <Text as="label" size="2"><Flex gap="2" align="center"><Checkbox disabled={!canConfigure} checked={current.enabled} onCheckedChange={(c) => edit({ enabled: c === true })} />Enabled</Flex></Text>
            <Flex gap="3" wrap="wrap">
              <Flex direction="column" gap="1">
                <Text as="label" htmlFor={`runs-${workerId}`} size="2" weight="medium">Runs per day</Text>
                <TextField.Root id={`runs-${workerId}`} inputMode="numeric" disabled={!canConfigure} value={current.runs} onChange={(e) => edit({ runs: e.target.value })} />
              </Flex>
              <Flex direction="column" gap="1">
                <Text as="label" htmlFor={`tokens-${workerId}`} size="2" weight="medium">Tokens per run</Text>
                <TextField.Root id={`tokens-${workerId}`} inputMode="numeric" disabled={!canConfigure} value={current.tokens} onChange={(e) => edit({ tokens: e.target.value })} />
              </Flex>
            </Flex>
            <Flex direction="column" gap="1">
              <Text as="label" htmlFor={`config-${workerId}`} size="2" weight="medium">Config (JSON)</Text>
              <TextArea id={`config-${workerId}`} rows={5} disabled={!canConfigure} value={current.config} onChange={(e) => edit({ config: e.target.value })} style={{ fontFamily: "monospace" }} />
            </Flex>
            {invalid ? <Text size="2" color="red" role="alert">{invalid}</Text> : null}
            {save.isError ? <ProblemCallout error={save.error} /> : null}
            {saved ? <Text role="status" color="green" data-testid="worker-config-saved">Saved.</Text> : null}
            <Flex gap="3" justify="end">
              <Dialog.Close><Button variant="soft" color="gray">Close</Button></Dialog.Close>
              {canConfigure ? <Button onClick={submit} loading={save.isPending}>Save</Button> : null}
            </Flex>
          </Flex>
        ) : null}
      </Dialog.Content>
    </Dialog.Root>
  );
}
