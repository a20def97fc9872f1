import { describe, expect, it } from "vitest";
import { dailySeries, exactSum, monthLabel, recentMonths } from "./usage";

describe("recentMonths", () => {
  it("lists months newest first in UTC, across a year's turn", () => {
    expect(recentMonths(new Date("2026-02-28T23:30:00Z"), 4)).toEqual(["2026-02", "2026-01", "2025-12", "2025-11"]);
    expect(recentMonths(new Date("2026-12-07T00:10:00Z"))).toHaveLength(12);
  });
});

describe("monthLabel", () => {
  it("names the month", () => {
    expect(monthLabel("2026-10")).toBe("October 2026");
  });
});

describe("dailySeries", () => {
  it("groups days per meter in date order with exact totals", () => {
    const series = dailySeries([
      { meter: "tokens", period_start: "2026-10-02T00:00:00+00:00", used: 5 },
      { meter: "gpu_hours", period_start: "2026-10-01T00:00:00+00:00", used: 0.1 },
      { meter: "tokens", period_start: "2026-10-01T00:00:00+00:00", used: 7 },
      { meter: "gpu_hours", period_start: "2026-10-02T00:00:00+00:00", used: 0.2 },
    ]);
    expect(series.map((s) => s.meter)).toEqual(["gpu_hours", "tokens"]);
    expect(series[0].total).toBe(0.3);
    expect(series[1].points).toEqual([{ day: 1, used: 7 }, { day: 2, used: 5 }]);
  });

  it("is empty without days", () => {
    expect(dailySeries([])).toEqual([]);
  });
});

describe("exactSum", () => {
  it("keeps six decimals exact", () => {
    expect(exactSum([1.2345, 2.0001])).toBe(3.2346);
    expect(exactSum([0.000001, 0.000002])).toBe(0.000003);
  });
});
