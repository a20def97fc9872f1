/** One value of the usage history as the API lists it (a month, or a day with granularity=day). */
export interface UsagePeriod {
  meter: string;
  period_start: string;
  used: number;
}

/** Lists the last `count` calendar months in UTC, newest first, as "YYYY-MM" (the daily history's month parameter). */
export function recentMonths(now: Date, count = 12): string[] {
  const months: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    months.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return months;
}

/** Names a "YYYY-MM" month for people ("October 2026"). */
export function monthLabel(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}

/** Groups a month's daily values per meter (meters in name order, days in date order), each point labelled by its day of the month. */
export function dailySeries(days: UsagePeriod[]): { meter: string; total: number; points: { day: number; used: number }[] }[] {
  const byMeter = new Map<string, { day: number; start: string; used: number }[]>();
  for (const d of days) {
    const list = byMeter.get(d.meter) ?? [];
    list.push({ day: Number(d.period_start.slice(8, 10)), start: d.period_start, used: d.used });
    byMeter.set(d.meter, list);
  }
  return [...byMeter.keys()].sort().map((meter) => {
    const points = byMeter.get(meter)!.sort((a, b) => a.start.localeCompare(b.start)).map(({ day, used }) => ({ day, used }));
    return { meter, total: exactSum(points.map((p) => p.used)), points };
  });
}

/** Adds decimals without binary drift (0.1 + 0.2 is 0.3): the API's amounts have at most 6 decimals (ADR 0560). */
export function exactSum(values: number[]): number {
  const scale = 1_000_000;
  return values.reduce((sum, v) => sum + Math.round(v * scale), 0) / scale;
}
