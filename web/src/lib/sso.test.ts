import { describe, expect, it } from "vitest";
import { codeFromFragment, formatGroupRoles, parseDomains, parseGroupRoles } from "./sso";

describe("SSO completion", () => {
  it("reads the one-time code from the fragment only", () => {
    expect(codeFromFragment("#code=sc_0195.abc%2Bdef")).toBe("sc_0195.abc+def");
    expect(codeFromFragment("code=plain")).toBe("plain");
    expect(codeFromFragment("")).toBeNull();
    expect(codeFromFragment("#code=")).toBeNull();
    expect(codeFromFragment("#state=x")).toBeNull();
    expect(codeFromFragment("#code=" + "a".repeat(513))).toBeNull();
  });
});

describe("parseDomains", () => {
  it("splits on commas, spaces and lines, lower-cases and drops duplicates", () => {
    expect(parseDomains(" Example.com, example.com\nacme.test  ")).toEqual(["example.com", "acme.test"]);
    expect(parseDomains("  ")).toEqual([]);
  });
});

describe("parseGroupRoles", () => {
  it("reads group and role lines and refuses others naming the line", () => {
    expect(parseGroupRoles("eng admin\n\nsales viewer")).toEqual({ value: { eng: "admin", sales: "viewer" } });
    expect(parseGroupRoles("eng admin\nsales owner")).toEqual({ error: "Line 2: write a group, a space and a role (admin, member or viewer)." });
  });

  it("round-trips through formatGroupRoles", () => {
    const text = formatGroupRoles({ sales: "viewer", eng: "admin" });
    expect(text).toBe("eng admin\nsales viewer");
    expect(parseGroupRoles(text)).toEqual({ value: { eng: "admin", sales: "viewer" } });
    expect(formatGroupRoles(null)).toBe("");
  });
});
