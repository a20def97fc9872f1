import { describe, expect, it } from "vitest";
import { effectiveCycle, planAction, planPriceIn, priceIn } from "./billing";

const starter = { id: "starter", price_monthly_cents: 2900, price_yearly_cents: 29000 };
const pro = { id: "professional", price_monthly_cents: 9900, price_yearly_cents: 99000 };
const free = { id: "free", price_monthly_cents: 0, price_yearly_cents: 0 };

describe("priceIn", () => {
  it("is the monthly price monthly", () => expect(priceIn(pro, "monthly")).toBe(9900));
  it("is the whole year's price annually", () => expect(priceIn(pro, "annual")).toBe(99000));
});

describe("planPriceIn", () => {
  const sold = { ...pro, currency: "usd", prices: [{ currency: "usd", monthly_cents: 9900, yearly_cents: 99000 }, { currency: "eur", monthly_cents: 8900, yearly_cents: 89000 }] };
  it("is the price in the tenant's currency", () => expect(planPriceIn(sold, "monthly", "eur")).toEqual({ cents: 8900, currency: "eur" }));
  it("is the annual price in the tenant's currency", () => expect(planPriceIn(sold, "annual", "eur")).toEqual({ cents: 89000, currency: "eur" }));
  it("falls back to the primary price for a currency the plan is not sold in", () =>
    expect(planPriceIn(sold, "monthly", "gbp")).toEqual({ cents: 9900, currency: "usd" }));
});

describe("effectiveCycle", () => {
  it("is the chosen cycle without a live subscription", () => expect(effectiveCycle("monthly", false, "annual")).toBe("annual"));
  it("is the live subscription's cycle whatever was chosen", () => expect(effectiveCycle("annual", true, "monthly")).toBe("annual"));
  it("falls back to the chosen cycle for an unknown one", () => expect(effectiveCycle("weekly", true, "monthly")).toBe("monthly"));
});

describe("planAction", () => {
  it("buys an annual plan through Checkout online, with the annual cycle", () =>
    expect(planAction(pro, free, false, true, "annual")).toEqual({ verb: "Subscribe", route: "checkout", body: { plan: "professional", billing_cycle: "annual" } }));
  it("subscribes offline with the chosen cycle", () =>
    expect(planAction(starter, free, false, false, "annual")).toEqual({ verb: "Subscribe", route: "subscription", body: { plan: "starter", billing_cycle: "annual" } }));
  it("never sends a free plan to Checkout", () => expect(planAction(free, starter, false, true, "monthly").route).toBe("subscription"));
  it("upgrades now a live subscription to a dearer plan, in its cycle", () =>
    expect(planAction(pro, starter, true, true, "annual")).toEqual({ verb: "Upgrade now", route: "subscription", body: { plan: "professional", billing_cycle: "annual" } }));
  it("downgrades at period end", () => expect(planAction(starter, pro, true, false, "monthly").verb).toBe("Downgrade at period end"));
});
