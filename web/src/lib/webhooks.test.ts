import { describe, expect, it } from "vitest";
import { describeEventTypes, eventTypesBody, formatAllowlist, parseAllowlist, parseRateLimit } from "./webhooks";

describe("webhook endpoint form", () => {
  it("sends null for every type and the unique names otherwise", () => {
    expect(eventTypesBody([])).toBeNull();
    expect(eventTypesBody([" ", ""])).toBeNull();
    expect(eventTypesBody(["run.completed", "run.completed", "invoice.paid"])).toEqual(["run.completed", "invoice.paid"]);
  });

  it("describes the subscription", () => {
    expect(describeEventTypes(null)).toBe("every event");
    expect(describeEventTypes(["a", "b"])).toBe("a, b");
    expect(describeEventTypes(["a", "b", "c", "d"])).toBe("a, b and 2 more");
  });

  it("reads the rate limit: empty is none, 1-10000 is kept, anything else is named", () => {
    expect(parseRateLimit("")).toEqual({ value: null });
    expect(parseRateLimit(" 25 ")).toEqual({ value: 25 });
    expect(parseRateLimit("0")).toEqual({ error: "Between 1 and 10,000" });
    expect(parseRateLimit("10001")).toEqual({ error: "Between 1 and 10,000" });
    expect(parseRateLimit("2.5")).toEqual({ error: "A whole number" });
  });
});

describe("IP allowlist editor", () => {
  it("reads one CIDR a line with an optional description and skips blanks and comments", () => {
    expect(parseAllowlist("203.0.113.0/24 head office\n\n# old vpn\n2001:db8::/32\n")).toEqual([
      { cidr: "203.0.113.0/24", description: "head office" },
      { cidr: "2001:db8::/32", description: null },
    ]);
  });

  it("writes back what it reads", () => {
    const entries = [{ cidr: "10.0.0.0/8", description: "lab" }, { cidr: "127.0.0.1/32", description: null }];
    expect(parseAllowlist(formatAllowlist(entries))).toEqual(entries);
  });
});
