/** The billing cycles the API sells (POST …/subscription and …/billing/checkout take `billing_cycle`: monthly or annual). */
export const billingCycles = ["monthly", "annual"] as const;
export type BillingCycle = (typeof billingCycles)[number];

type Priced = { id: string; price_monthly_cents: number; price_yearly_cents: number };

/** A plan's price in a cycle, in cents: the monthly price, or the whole year's. */
export function priceIn(plan: Priced, cycle: BillingCycle): number {
  return cycle === "annual" ? plan.price_yearly_cents : plan.price_monthly_cents;
}

type PricedIn = Priced & { currency: string; prices?: { currency: string; monthly_cents: number; yearly_cents: number }[] };

/** A plan's price in a cycle in the tenant's billing currency (GET /billing `currency`), which is what it is charged; the plan's primary price
 * when the plan is not sold in that currency. */
export function planPriceIn(plan: PricedIn, cycle: BillingCycle, currency?: string): { cents: number; currency: string } {
  const local = plan.prices?.find((p) => p.currency === currency);
  if (local) return { cents: cycle === "annual" ? local.yearly_cents : local.monthly_cents, currency: local.currency };
  return { cents: priceIn(plan, cycle), currency: plan.currency };
}

/**
 * The cycle the plan catalogue offers: a live subscription keeps its own (the API refuses a change of cycle with 409
 * billing_cycle_change_not_supported), anything else the one chosen on the page.
 */
export function effectiveCycle(subscriptionCycle: string | null | undefined, live: boolean, chosen: BillingCycle): BillingCycle {
  if (live && (subscriptionCycle === "monthly" || subscriptionCycle === "annual")) return subscriptionCycle;
  return chosen;
}

export type PlanAction =
  | { verb: "Subscribe" | "Upgrade now" | "Downgrade at period end"; route: "checkout" | "subscription"; body: { plan: string; billing_cycle: BillingCycle } };

/**
 * What the plan catalogue's button does, as the API does (ADR 0655, 0740): without a live subscription any plan starts now, bought
 * through Stripe Checkout when billing runs online and the plan costs something in this cycle; with one, an upgrade (a higher price in
 * the subscription's cycle) applies now and anything else at the period's end, both through POST …/subscription.
 */
export function planAction(plan: Priced, current: Priced | undefined, live: boolean, online: boolean, cycle: BillingCycle): PlanAction {
  const body = { plan: plan.id, billing_cycle: cycle };
  if (!live) return { verb: "Subscribe", route: online && priceIn(plan, cycle) > 0 ? "checkout" : "subscription", body };
  const verb = priceIn(plan, cycle) > (current ? priceIn(current, cycle) : 0) ? "Upgrade now" : "Downgrade at period end";
  return { verb, route: "subscription", body };
}
