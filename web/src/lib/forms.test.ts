import { describe, expect, it } from "vitest";
import { parseJsonObject, parseOptionalLimit } from "./forms";

describe("worker config form", () => {
  it("reads a JSON object, {} when empty, and names anything else", () => {
    expect(parseJsonObject("")).toEqual({ value: {} });
    expect(parseJsonObject('{"temperature": 0.2}')).toEqual({ value: { temperature: 0.2 } });
    expect(parseJsonObject("[1]")).toHaveProperty("error");
    expect(parseJsonObject("null")).toHaveProperty("error");
    expect(parseJsonObject("{oops")).toEqual({ error: "Not valid JSON" });
  });

  it("reads an optional limit: empty is none, a positive whole number is kept", () => {
    expect(parseOptionalLimit(" ")).toEqual({ value: null });
    expect(parseOptionalLimit("25")).toEqual({ value: 25 });
    expect(parseOptionalLimit("0")).toHaveProperty("error");
    expect(parseOptionalLimit("-3")).toHaveProperty("error");
    expect(parseOptionalLimit("1.5")).toHaveProperty("error");
  });
});
