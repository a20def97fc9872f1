import { describe, expect, it } from "vitest";
import { cleanFilters, confirmationMatches, dayBound, firstPage, formatInstant, formatLatency, nextPage, pageNumber, previousPage } from "./paging";

describe("cursor trail", () => {
  it("walks forward and back through the cursors the API gave", () => {
    const second = nextPage(firstPage, "c2");
    const third = nextPage(second, "c3");
    expect(pageNumber(third)).toBe(3);
    expect(third.current).toBe("c3");
    const back = previousPage(third);
    expect(back.current).toBe("c2");
    expect(previousPage(back).current).toBeUndefined();
    expect(pageNumber(previousPage(back))).toBe(1);
  });

  it("stays on the last page when there is no next cursor and on the first when going back", () => {
    const second = nextPage(firstPage, "c2");
    expect(nextPage(second, null)).toBe(second);
    expect(previousPage(firstPage)).toBe(firstPage);
  });
});

describe("filters", () => {
  it("keeps only the filters with a value, trimmed", () => {
    expect(cleanFilters({ status: "failed", worker_id: "  ", action: " tenant.updated ", actor: undefined })).toEqual({ status: "failed", action: "tenant.updated" });
  });

  it("turns a day into its UTC bounds and refuses anything else", () => {
    expect(dayBound("2026-12-06")).toBe("2026-12-06T00:00:00.000Z");
    expect(dayBound("2026-12-06", true)).toBe("2026-12-06T23:59:59.999Z");
    expect(dayBound("")).toBeUndefined();
    expect(dayBound("06/12/2026")).toBeUndefined();
  });
});

describe("typed confirmation", () => {
  it("matches the slug exactly and nothing else", () => {
    expect(confirmationMatches("acme-inc", "acme-inc")).toBe(true);
    expect(confirmationMatches(" acme-inc ", "acme-inc")).toBe(true);
    expect(confirmationMatches("Acme-inc", "acme-inc")).toBe(false);
    expect(confirmationMatches("acme", "acme-inc")).toBe(false);
    expect(confirmationMatches("", "")).toBe(false);
  });
});

describe("formatting", () => {
  it("formats latency in ms below a second and seconds above", () => {
    expect(formatLatency(850)).toBe("850 ms");
    expect(formatLatency(1250)).toBe("1.3 s");
    expect(formatLatency(null)).toBe("—");
  });

  it("formats instants in UTC and a dash for none", () => {
    expect(formatInstant("2026-12-06T20:41:00Z")).toBe("06 Dec 2026, 20:41 UTC");
    expect(formatInstant(null)).toBe("—");
    expect(formatInstant("nonsense")).toBe("—");
  });
});
