import { describe, expect, it } from "vitest";
import { formatCents, slugify, usageColour } from "./format";
import { problemLines, toProblem } from "./problem";

describe("usageColour", () => {
  it("is green at 69.9 %", () => expect(usageColour(699, 1000)).toBe("green"));
  it("is yellow at 70 %", () => expect(usageColour(700, 1000)).toBe("yellow"));
  it("is yellow at 89.9 %", () => expect(usageColour(899, 1000)).toBe("yellow"));
  it("is red at 90 %", () => expect(usageColour(900, 1000)).toBe("red"));
  it("is red over the limit", () => expect(usageColour(1500, 1000)).toBe("red"));
  it("is green without a limit", () => expect(usageColour(5, null)).toBe("green"));
  it("is red when any use meets a zero limit", () => expect(usageColour(1, 0)).toBe("red"));
});

describe("formatCents", () => {
  it("formats integer cents as dollars", () => expect(formatCents(123450)).toBe("$1,234.50"));
  it("keeps single cents", () => expect(formatCents(7)).toBe("$0.07"));
  it("signs credits", () => expect(formatCents(-2500)).toBe("-$25.00"));
  it("reads the API's lower-case currency", () => expect(formatCents(250, "usd")).toBe("$2.50"));
  it("names another currency by its code", () => expect(formatCents(250, "eur")).toBe("EUR 2.50"));
  it("refuses fractions of a cent", () => expect(() => formatCents(1.5)).toThrow());
});

describe("slugify", () => {
  it("lower-cases and dashes", () => expect(slugify("  Acme Ünïted, Ltd. ")).toBe("acme-united-ltd"));
});

describe("toProblem", () => {
  it("keeps the title, detail and field errors of a problem body", () => {
    const p = toProblem({ status: 409, title: "Conflict", detail: "Slug taken", code: "slug_taken", errors: { slug: ["is taken"] } });
    expect(p).toMatchObject({ status: 409, title: "Conflict", detail: "Slug taken", code: "slug_taken" });
    expect(problemLines(p)).toEqual(["slug: is taken"]);
  });
  it("describes an unreachable service", () => expect(toProblem(new TypeError("Failed to fetch")).detail).toBe("Failed to fetch"));
});
