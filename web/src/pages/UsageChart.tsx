import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Schemas } from "../api/types";
import { meterLabel } from "./Usage";

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
