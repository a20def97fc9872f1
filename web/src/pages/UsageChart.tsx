import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Flex, Grid, Text } from "@radix-ui/themes";
import type { Schemas } from "../api/types";
import { dailySeries, monthLabel, type UsagePeriod } from "../lib/usage";
import { meterLabel } from "./UsageParts";

const palette = ["#3e63dd", "#12a594", "#e54d2e", "#ab4aba", "#ffc53d", "#0090ff"];

/** Charts the monthly usage rollups per meter (loaded lazily: recharts stays out of the initial JavaScript). */
export default function UsageChart({ periods }: { periods: Schemas["UsagePeriodResponse"][] }) {
  const meters = [...new Set(periods.map((p) => p.meter))];
  const months = [...new Set(periods.map((p) => p.period_start.slice(0, 7)))].sort();
  const rows = months.map((month) => ({
    month,
    ...Object.fromEntries(meters.map((m) => [m, periods.find((p) => p.meter === m && p.period_start.startsWith(month))?.used ?? 0])),
  }));
  return (
    <div style={{ width: "100%", height: 280 }} role="img" aria-label={`Usage by month for ${meters.map(meterLabel).join(", ")}`}>
      <ResponsiveContainer>
        <BarChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="month" />
          <YAxis />
          <Tooltip />
          <Legend />
          {meters.map((m, i) => <Bar key={m} dataKey={m} name={meterLabel(m)} fill={palette[i % palette.length]} />)}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Charts one month day by day, one small bar chart per meter (meters have their own units, so they share no axis). */
export function DailyUsageCharts({ days, month }: { days: UsagePeriod[]; month: string }) {
  return (
    <Grid columns={{ initial: "1", md: "2" }} gap="4">
      {dailySeries(days).map((s, i) => (
        <Flex key={s.meter} direction="column" gap="1" data-testid={`daily-${s.meter}`}>
          <Text size="2" weight="medium">{meterLabel(s.meter)} <Text color="gray" data-testid="daily-total">· {s.total.toLocaleString("en-US", { maximumFractionDigits: 6 })} in {monthLabel(month)}</Text></Text>
          <div style={{ width: "100%", height: 180 }} role="img" aria-label={`${meterLabel(s.meter)} per day in ${monthLabel(month)}`}>
            <ResponsiveContainer>
              <BarChart data={s.points}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="day" interval="preserveStartEnd" minTickGap={8} />
                <YAxis width={48} />
                <Tooltip labelFormatter={(d) => `${monthLabel(month).split(" ")[0]} ${d}`} />
                <Bar dataKey="used" name={meterLabel(s.meter)} fill={palette[i % palette.length]} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </Flex>
      ))}
    </Grid>
  );
}
