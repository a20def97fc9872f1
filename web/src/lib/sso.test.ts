import { describe, expect, it } from "vitest";
import { codeFromFragment } from "./sso";

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
