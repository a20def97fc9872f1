import { Card, Flex, Heading, Select, Text } from "@radix-ui/themes";
import { useQuery } from "@tanstack/react-query";
import { lazy, startTransition, Suspense, useEffect, useMemo, useState } from "react";
import { useOutletContext } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { monthLabel, recentMonths } from "../lib/usage";
import { EstimateTable, UsageBar, useBilling, useUsage } from "./UsageParts";

const UsageChart = lazy(() => import("./UsageChart"));
const DailyUsageCharts = lazy(async () => ({ default: (await import("./UsageChart")).DailyUsageCharts }));

export function UsagePage() {
  const { tenant_id: tenantId, role } = useOutletContext<Membership>();
  const isAdmin = role === "owner" || role === "admin";
  const usage = useUsage(tenantId);
  const billing = useBilling(tenantId, isAdmin);
  const history = useQuery({
    queryKey: ["usage-history", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/usage/history", { params: { path: { tenant_id: tenantId } } })),
  });
  // The charts (recharts, a lazy chunk) draw only once the quota bars are on the page: their first render takes the main thread for
  // hundreds of milliseconds, and mounting them in the same render as the bars held the bars back (./platform bench, ADR 0786). Their
  // data is fetched meanwhile all the same.
  const [chartsReady, setChartsReady] = useState(false);
  useEffect(() => {
    // A transition: rendered after the bars' update has been painted, and interruptible, not in the same task as the bars.
    if (!usage.isPending) startTransition(() => setChartsReady(true));
  }, [usage.isPending]);
  return (
    <Flex direction="column" gap="5">
      <Card>
        <Flex direction="column" gap="4">
          <Heading as="h2" size="4">Quotas this period</Heading>
          {usage.isPending ? <Loading label="Loading usage" /> : usage.isError ? <ProblemCallout error={usage.error} /> :
            usage.data.meters.length === 0 ? <Empty>No metered usage yet.</Empty> : (
              <>
                {usage.data.meters.map((m) => <UsageBar key={m.meter} meter={m} />)}
                <Text size="2" color="gray" data-testid="resets-at">Resets {new Date(usage.data.resets_at).toUTCString()}</Text>
              </>
            )}
        </Flex>
      </Card>
      {isAdmin ? (
        <Card>
          <Flex direction="column" gap="3">
            <Heading as="h2" size="4">Estimated cost this period</Heading>
            {billing.isPending ? <Loading label="Loading the estimate" /> : billing.isError ? <ProblemCallout error={billing.error} /> : (
              <EstimateTable estimate={billing.data.estimated_cost} />
            )}
          </Flex>
        </Card>
      ) : null}
      <DailyUsage tenantId={tenantId} chartsReady={chartsReady} />
      <Card>
        <Flex direction="column" gap="3">
          <Heading as="h2" size="4">History by month</Heading>
          {history.isPending || !chartsReady ? <Loading label="Loading history" /> : history.isError ? <ProblemCallout error={history.error} /> :
            history.data.data.length === 0 ? <Empty>No usage recorded yet.</Empty> : (
              <Suspense fallback={<Loading label="Loading the chart" />}>
                <UsageChart periods={history.data.data} />
              </Suspense>
            )}
        </Flex>
      </Card>
    </Flex>
  );
}

/** The daily chart of a month per meter, from the usage history's daily granularity (computed from the raw events, ADR 0740). */
function DailyUsage({ tenantId, chartsReady }: { tenantId: string; chartsReady: boolean }) {
  const months = useMemo(() => recentMonths(new Date()), []);
  const [month, setMonth] = useState(months[0]);
  const days = useQuery({
    queryKey: ["usage-daily", tenantId, month],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/usage/history", {
      params: { path: { tenant_id: tenantId }, query: { granularity: "day", month } },
    })),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Flex justify="between" align="center" gap="3" wrap="wrap">
          <Heading as="h2" size="4">Daily usage</Heading>
          <Select.Root value={month} onValueChange={setMonth}>
            <Select.Trigger aria-label="Month" data-testid="daily-month" />
            <Select.Content>
              {months.map((m) => <Select.Item key={m} value={m}>{monthLabel(m)}</Select.Item>)}
            </Select.Content>
          </Select.Root>
        </Flex>
        {days.isPending || !chartsReady ? <Loading label="Loading daily usage" /> : days.isError ? <ProblemCallout error={days.error} /> :
          days.data.data.length === 0 ? <Empty>No usage recorded in {monthLabel(month)}.</Empty> : (
            <Suspense fallback={<Loading label="Loading the chart" />}>
              <DailyUsageCharts days={days.data.data} month={month} />
            </Suspense>
          )}
      </Flex>
    </Card>
  );
}
