import { Badge, Box, Flex, Progress, Table, Text } from "@radix-ui/themes";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Schemas } from "../api/types";
import { Empty } from "../components";
import { formatCents, usageColour } from "../lib/format";

// The usage pieces other screens show too (overview, billing, the console's tenant detail); kept apart from the Usage page so that the page
// stays a lazily loaded chunk of its own.

export type Meter = Schemas["MeterUsageResponse"];

export function useUsage(tenantId: string) {
  return useQuery({
    queryKey: ["usage", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/usage", { params: { path: { tenant_id: tenantId } } })),
  });
}

export function useBilling(tenantId: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: ["billing", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/billing", { params: { path: { tenant_id: tenantId } } })),
  });
}

export const meterLabel = (meter: string) => meter.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** Shows one quota: a bar coloured green under 70 %, yellow under 90 %, red from 90 %, with current/limit. */
export function UsageBar({ meter }: { meter: Meter }) {
  const colour = usageColour(meter.used, meter.quota);
  const percent = meter.quota ? Math.min(100, (meter.used / meter.quota) * 100) : 0;
  return (
    <Flex direction="column" gap="1" data-testid={`usage-${meter.meter}`} data-colour={colour}>
      <Flex justify="between" gap="3">
        <Text size="2" weight="medium" id={`meter-${meter.meter}`}>{meterLabel(meter.meter)}</Text>
        <Text size="2" color="gray" data-testid="usage-figures">
          {meter.used.toLocaleString("en-US")} / {meter.quota === null || meter.quota === undefined ? "unlimited" : meter.quota.toLocaleString("en-US")}
          {meter.quota ? ` (${percent.toFixed(percent < 10 ? 1 : 0)} %)` : ""}
        </Text>
      </Flex>
      <Progress value={percent} max={100} color={colour === "yellow" ? "amber" : colour} aria-labelledby={`meter-${meter.meter}`} size="3" />
    </Flex>
  );
}

export function EstimateTable({ estimate }: { estimate: Schemas["EstimateResponse"] }) {
  return (
    <Box>
      {estimate.lines.length === 0 ? <Empty>Nothing to bill so far.</Empty> : (
        <Table.Root size="1" aria-label="Estimated cost lines">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeaderCell>Line</Table.ColumnHeaderCell>
              <Table.ColumnHeaderCell justify="end">Amount</Table.ColumnHeaderCell>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {estimate.lines.map((l, i) => (
              <Table.Row key={i}>
                <Table.Cell>{l.description} <Badge highContrast color="gray">{l.kind}</Badge></Table.Cell>
                <Table.Cell justify="end">{formatCents(l.amount_cents, estimate.currency)}</Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      )}
      <Text as="p" mt="2" weight="bold" data-testid="estimate-total">Total {formatCents(estimate.total_cents, estimate.currency)}</Text>
    </Box>
  );
}
