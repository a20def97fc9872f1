using Platform.Models.Plans;
using Platform.Models.Usage;

namespace Platform.Models.Billing;

/// <summary>Holds a tenant's subscription: plan, cycle, status, the current period (UTC), a downgrade waiting for the period end, the Stripe id when online,
/// since when it is past due (the billing banner's data; null when not), Stripe's times of the last subscription state and of the last status applied, and the count of changes asked so far.</summary>
public sealed record SubscriptionSnapshot(
    Guid TenantId,
    Guid Id,
    string Plan,
    string BillingCycle,
    SubscriptionStatus Status,
    bool CancelAtPeriodEnd,
    string? PendingPlan,
    DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd,
    string? PaymentMethodId,
    string? StripeSubscriptionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CanceledAt,
    DateTimeOffset? PastDueSince = null,
    DateTimeOffset? StripeStateAt = null,
    int ChangeSeq = 0,
    DateTimeOffset? StripeStatusAt = null);

/// <summary>Holds one priced line of an invoice or estimate: a quantity, the unit price in cents (may be fractional), the divisor (the month's days on a prorated base line, else 1) and the amount in whole cents, round(quantity × unit price ÷ divisor).</summary>
public sealed record InvoiceLine(string Kind, string Description, decimal Quantity, decimal UnitPriceCents, long AmountCents, int Divisor = 1);

/// <summary>Holds a priced period: its lines, their total in cents and the currency.</summary>
public sealed record PricedPeriod(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, string Currency, IReadOnlyList<InvoiceLine> Lines)
{
    public long TotalCents => Lines.Sum(l => l.AmountCents);
}

/// <summary>Holds the meter catalogue as pricing reads it: every meter's price per plan and currency and the meters' names and units (ADR 0640).</summary>
public sealed record MeterPricing(IReadOnlyList<MeterPrice> Prices, IReadOnlyDictionary<string, MeterDefinition> Meters)
{
    /// <summary>Gets the meters' prices for a plan in one currency (lower-case ISO 4217, ADR 0775).</summary>
    public IEnumerable<MeterPrice> PricesOf(string planId, string currency) => Prices.Where(p => p.Plan == planId && p.Currency == currency);
}

/// <summary>Prices a month: the plan's base price plus overages beyond its quotas, each line computed exactly in decimal and rounded once, half away from zero (docs/decisions/0301).</summary>
public static class UsagePricing
{
    /// <summary>Is the price of one API call beyond the quota, in cents (0.1 cent = $0.001).</summary>
    public const decimal ApiCallCents = 0.1m;

    /// <summary>Is the price of one GB-month of storage beyond the quota, in cents ($0.023).</summary>
    public const decimal StorageGbMonthCents = 2.3m;

    /// <summary>Is the price of one GPU hour beyond the quota, in cents ($2.50).</summary>
    public const decimal GpuHourCents = 250m;

    /// <summary>Rounds an exact amount in cents once, half away from zero.</summary>
    public static long RoundCents(decimal exactCents) => (long)decimal.Round(exactCents, 0, MidpointRounding.AwayFromZero);

    /// <summary>Prices a period in a currency (the plan's primary one when null): base (times the fraction of the period covered, 1 for a full month) and one
    /// line per meter over its quota, at the catalogue's meter prices in that currency (ADR 0775).</summary>
    public static PricedPeriod Price(Plan plan, DateTimeOffset periodStart, DateTimeOffset periodEnd, IReadOnlyDictionary<string, decimal> usage, decimal baseFraction = 1m,
        PlanLimits? limits = null, MeterPricing? pricing = null, string? currency = null)
    {
        var price = plan.GetPriceIn(currency ?? plan.Currency);
        var lines = new List<InvoiceLine>
        {
            new("base", $"{plan.Name} plan", baseFraction, price.MonthlyCents, RoundCents(price.MonthlyCents * baseFraction)),
        };
        lines.AddRange(pricing is null ? Overages(limits ?? plan.Limits, usage) : Overages(limits ?? plan.Limits, usage, plan.Id, pricing, price.Currency));
        return new PricedPeriod(periodStart, periodEnd, price.Currency, lines);
    }

    /// <summary>Prices the overage lines alone: one line per meter used beyond the plan's quota (none for unlimited quotas).</summary>
    public static IReadOnlyList<InvoiceLine> Overages(Plan plan, IReadOnlyDictionary<string, decimal> usage) => Overages(plan.Limits, usage);

    /// <summary>Prices the overage lines beyond the given limits (a tenant's effective limits: the plan's with the operator's overrides on top).</summary>
    public static IReadOnlyList<InvoiceLine> Overages(PlanLimits limits, IReadOnlyDictionary<string, decimal> usage)
    {
        var lines = new List<InvoiceLine>();
        AddOverage(lines, "api_calls", "API calls over the quota", usage, limits.ApiCallsPerMonth, ApiCallCents);
        AddOverage(lines, "storage_gb", "Storage over the quota (GB-months)", usage, limits.StorageGb, StorageGbMonthCents);
        AddOverage(lines, "gpu_hours", "GPU hours over the quota", usage, limits.GpuHoursPerMonth, GpuHourCents);
        return lines;
    }

    /// <summary>Prices the overage lines from the meter catalogue's prices for a plan (ADR 0640): api_calls, storage_gb and gpu_hours beyond the given
    /// limits (the tenant's effective limits), any other priced meter beyond the quantity its price includes (none when null); built-in meters first,
    /// in the order above, then the others by key. Only the prices in the given currency apply (ADR 0775): a meter not priced in it is not billed.</summary>
    public static IReadOnlyList<InvoiceLine> Overages(PlanLimits limits, IReadOnlyDictionary<string, decimal> usage, string planId, MeterPricing pricing, string currency)
    {
        var lines = new List<InvoiceLine>();
        var prices = pricing.PricesOf(planId, currency).ToDictionary(p => p.Meter, StringComparer.Ordinal);
        foreach (var (meter, description, quota) in new[]
                 {
                     ("api_calls", "API calls over the quota", limits.ApiCallsPerMonth),
                     ("storage_gb", "Storage over the quota (GB-months)", limits.StorageGb),
                     ("gpu_hours", "GPU hours over the quota", limits.GpuHoursPerMonth),
                 })
        {
            if (prices.Remove(meter, out var price))
            {
                AddOverage(lines, meter, description, usage, quota, price.UnitPriceCents);
            }
        }
        foreach (var price in prices.Values.OrderBy(p => p.Meter, StringComparer.Ordinal))
        {
            var included = price.Included ?? 0m;
            if (!usage.TryGetValue(price.Meter, out var used) || used <= included)
            {
                continue;
            }
            var over = used - included;
            var name = pricing.Meters.TryGetValue(price.Meter, out var m) ? $"{m.Name} over the included amount ({m.Unit})" : $"{price.Meter} over the included amount";
            lines.Add(new InvoiceLine("overage:" + price.Meter, name, over, price.UnitPriceCents, RoundCents(over * price.UnitPriceCents)));
        }
        return lines;
    }

    /// <summary>Prices a monthly plan's base over the days it was in force: the whole price for the whole month, else price × days ÷ days of the month, computed exactly and rounded once (docs/decisions/0310).</summary>
    public static InvoiceLine MonthlyBase(Plan plan, int daysInForce, int daysInMonth, string? currency = null)
    {
        var monthly = plan.GetPriceIn(currency ?? plan.Currency).MonthlyCents;
        return daysInForce >= daysInMonth
            ? new InvoiceLine("base", $"{plan.Name} plan", 1m, monthly, monthly)
            : new InvoiceLine("proration", $"{plan.Name} plan, {daysInForce} of {daysInMonth} days", daysInForce, monthly,
                RoundCents(monthly * (decimal)daysInForce / daysInMonth), daysInMonth);
    }

    /// <summary>Prices an annual plan's base: the whole annual price, charged in the month its annual period starts.</summary>
    public static InvoiceLine AnnualBase(Plan plan, string? currency = null)
    {
        var yearly = plan.GetPriceIn(currency ?? plan.Currency).YearlyCents;
        return new("base", $"{plan.Name} plan, annual", 1m, yearly, yearly);
    }

    private static void AddOverage(List<InvoiceLine> lines, string meter, string description, IReadOnlyDictionary<string, decimal> usage, long quota, decimal unitCents)
    {
        if (quota < 0 || !usage.TryGetValue(meter, out var used) || used <= quota)
        {
            return;
        }
        var over = used - quota;
        lines.Add(new InvoiceLine("overage:" + meter, description, over, unitCents, RoundCents(over * unitCents)));
    }

    /// <summary>Gets the UTC calendar month a moment falls in, as [start, end).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) MonthOf(DateTimeOffset moment)
    {
        var utc = moment.UtcDateTime;
        var start = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (start, start.AddMonths(1));
    }
}
