import { describe, expect, it } from "vitest";
import { operatorMay } from "./admin";

describe("operator roles", () => {
  it("orders the roles as the API does: viewer < billing < support < super_admin", () => {
    expect(operatorMay("super_admin", "super_admin")).toBe(true);
    expect(operatorMay("support", "billing")).toBe(true);
    expect(operatorMay("billing", "billing")).toBe(true);
    expect(operatorMay("billing", "support")).toBe(false);
    expect(operatorMay("viewer", "billing")).toBe(false);
    expect(operatorMay("viewer", "viewer")).toBe(true);
    expect(operatorMay("support", "super_admin")).toBe(false);
    expect(operatorMay(undefined, "viewer")).toBe(false);
  });
});
