using Platform.Models.Plans;

namespace Platform.Models.Billing;

/// <summary>Holds an invoice: its platform-wide number, status, the UTC month it bills, totals in cents, due and paid dates, and Stripe's ids when online.</summary>
public sealed record InvoiceSnapshot(
    Guid TenantId,
    Guid Id,
    long Number,
    string Kind,
    InvoiceStatus Status,
    string Currency,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    long SubtotalCents,
    long TotalCents,
    DateOnly? DueDate,
    DateTimeOffset? IssuedAt,
    DateTimeOffset? PaidAt,
    string? StripeInvoiceId,
    string? StripePaymentIntentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Holds one stored invoice line: amount_cents = round(quantity × unit price ÷ divisor), half away from zero.</summary>
public sealed record InvoiceLineSnapshot(
    int LineNo, string Kind, string? Meter, string Description, decimal Quantity, decimal UnitPriceCents, int Divisor, long AmountCents);

/// <summary>Holds an invoice with its lines.</summary>
public sealed record InvoiceDetail(InvoiceSnapshot Invoice, IReadOnlyList<InvoiceLineSnapshot> Lines);

/// <summary>Holds one row of a tenant's plan history: from valid_from on, the subscription had this plan, cycle and status (written by a trigger on subscriptions).</summary>
public sealed record PlanSegment(DateTimeOffset ValidFrom, string Plan, string BillingCycle, SubscriptionStatus Status, string Reason);

/// <summary>Holds what the monthly close needs to price one tenant: its plan column, its plan history relevant to the month, its usage per meter and
/// the operator's quota overrides (quota name to value) that raise or lower what the plan includes.</summary>
public sealed record CloseCandidate(Guid TenantId, string Plan, IReadOnlyList<PlanSegment> Segments, IReadOnlyDictionary<string, decimal> Usage,
    IReadOnlyDictionary<string, long>? Overrides = null)
{
    /// <summary>Gets the tenant's billing currency, or null when none is fixed yet (the installation's default then applies, ADR 0720).</summary>
    public string? Currency { get; init; }
}

/// <summary>Holds an invoice priced by the close, ready to be numbered and stored.</summary>
public sealed record PricedInvoice(Guid TenantId, Guid Id, PricedPeriod Priced, DateOnly DueDate);

/// <summary>Holds an invoice the close stored: tenant, id, number and total in cents.</summary>
public sealed record IssuedInvoice(Guid TenantId, Guid Id, long Number, long TotalCents);

/// <summary>Prices a tenant's UTC month for its invoice from its plan history and usage (docs/decisions/0310); the lines come from UsagePricing.</summary>
public static class MonthlyInvoicePricing
{
    /// <summary>Tells whether a segment's status means the plan is paid for (active, or past_due: still owed).</summary>
    public static bool IsPaidStatus(SubscriptionStatus status) => status is SubscriptionStatus.Active or SubscriptionStatus.PastDue;

    /// <summary>Prices the month [start, end): each paid monthly plan's base prorated by the UTC days it was in force (the state at the end of a day
    /// counts for the whole day), an annual plan's full base in the month its annual period starts, and overages against the quotas of the plan in force
    /// at the end of the month (the tenant's plan column when no paid subscription is in force then), with the operator's overrides on top; every line
    /// in one currency, the tenant's (the plans' primary one when null, ADR 0720).</summary>
    public static PricedPeriod Price(DateTimeOffset start, DateTimeOffset end, IReadOnlyList<PlanSegment> segments, string tenantPlan, IReadOnlyDictionary<string, decimal> usage,
        IReadOnlyDictionary<string, long>? overrides = null, MeterPricing? pricing = null, string? currency = null)
    {
        var ordered = segments.OrderBy(s => s.ValidFrom).ToList();
        var daysInMonth = (int)Math.Round((end - start).TotalDays);
        var lines = new List<InvoiceLine>();

        var daysPerPlan = new Dictionary<string, int>();
        var planOrder = new List<string>();
        for (var day = 0; day < daysInMonth; day++)
        {
            var dayEnd = start.AddDays(day + 1);
            var inForce = ordered.LastOrDefault(s => s.ValidFrom < dayEnd);
            if (inForce is { BillingCycle: "monthly" } && IsPaidStatus(inForce.Status) && PlanCatalog.Find(inForce.Plan) is { PriceMonthlyCents: > 0 })
            {
                if (!daysPerPlan.TryAdd(inForce.Plan, 1))
                {
                    daysPerPlan[inForce.Plan]++;
                }
                else
                {
                    planOrder.Add(inForce.Plan);
                }
            }
        }
        lines.AddRange(planOrder.Select(p => UsagePricing.MonthlyBase(PlanCatalog.Get(p), daysPerPlan[p], daysInMonth, currency)));

        foreach (var annual in ordered.Where(s => s.BillingCycle == "annual" && s.Reason is "created" or "renewed" && IsPaidStatus(s.Status)
                                                   && s.ValidFrom >= start && s.ValidFrom < end))
        {
            if (PlanCatalog.Find(annual.Plan) is { PriceYearlyCents: > 0 } plan)
            {
                lines.Add(UsagePricing.AnnualBase(plan, currency));
            }
        }

        var atEnd = ordered.LastOrDefault(s => s.ValidFrom < end);
        var quotaPlan = (atEnd is not null && IsPaidStatus(atEnd.Status) ? PlanCatalog.Find(atEnd.Plan) : null)
            ?? PlanCatalog.Find(tenantPlan) ?? PlanCatalog.Get(PlanCatalog.Free);
        var limits = Quotas.Apply(quotaPlan.Limits, overrides ?? new Dictionary<string, long>());
        var priceCurrency = currency ?? quotaPlan.Currency;
        lines.AddRange(pricing is null ? UsagePricing.Overages(limits, usage) : UsagePricing.Overages(limits, usage, quotaPlan.Id, pricing, priceCurrency));
        return new PricedPeriod(start, end, priceCurrency, lines);
    }

    /// <summary>Parses a billing period written "yyyy-MM" into its UTC month [start, end), or null when it is not one.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End)? ParsePeriod(string? period)
    {
        if (period is not { Length: 7 } || period[4] != '-'
            || !int.TryParse(period.AsSpan(0, 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(period.AsSpan(5, 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var month)
            || year < 2000 || month is < 1 or > 12)
        {
            return null;
        }
        var start = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero);
        return (start, start.AddMonths(1));
    }
}
