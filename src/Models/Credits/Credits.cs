namespace Platform.Models.Credits;

/// <summary>Holds a tenant's credit account: balance in credits, the plan's monthly grant (-1 means unlimited), the last UTC month granted ("2026-11"),
/// what the plan granted in that month (monthly grant plus upgrade differences) and the part of it not spent yet (what expires at the month's end when expiry is on).</summary>
public sealed record CreditAccountSnapshot(
    Guid TenantId,
    long Balance,
    long MonthlyGrant,
    string? LastGrantPeriod,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long PeriodGranted = 0,
    long GrantRemaining = 0)
{
    public bool Unlimited => MonthlyGrant < 0;
}

/// <summary>Holds one ledger row: a signed amount in credits and the balance right after it.</summary>
public sealed record CreditTransactionSnapshot(
    Guid TenantId,
    Guid Id,
    CreditTransactionType Type,
    long Amount,
    long BalanceAfter,
    string? Reference,
    string? StripePaymentId,
    DateTimeOffset CreatedAt);

/// <summary>Holds a credit pack purchase: the pack bought, its price in cents and whether the payment went through.</summary>
public sealed record CreditPurchaseSnapshot(
    Guid TenantId,
    Guid Id,
    string Pack,
    long Credits,
    long AmountCents,
    string Currency,
    CreditPurchaseStatus Status,
    string? StripePaymentIntentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>Describes a credit pack purchase: pending until the payment settles, then succeeded (credits granted) or failed.</summary>
[WireEnum]
public enum CreditPurchaseStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>Names the kinds of ledger rows; expiry takes back the unused part of a month's grants when the next month is granted (ADR 0650).</summary>
[WireEnum]
public enum CreditTransactionType
{
    QuotaMonthly,
    Purchase,
    Usage,
    Refund,
    Adjustment,
    PlanUpgrade,
    Expiry,
}

/// <summary>Describes a credit pack for sale: credits and price in minor units of its primary currency (seed 004's euros), plus its prices in the
/// other currencies a tenant can be billed in (ADR 0777).</summary>
public sealed record CreditPack(string Id, long Credits, long PriceCents, string Currency)
{
    /// <summary>Gets the pack's prices in the currencies other than its primary one.</summary>
    public IReadOnlyList<CreditPackPrice> OtherPrices { get; init; } = [];

    /// <summary>Gets every price of the pack: the primary currency's first, then the others.</summary>
    public IReadOnlyList<CreditPackPrice> Prices => [new CreditPackPrice(Currency, PriceCents), .. OtherPrices];

    /// <summary>Gets the pack's price in a currency (lower-case ISO 4217), or null when it is not sold in it.</summary>
    public CreditPackPrice? PriceIn(string currency) => Prices.FirstOrDefault(p => p.Currency == currency);
}

/// <summary>Holds a credit pack's price in one currency (lower-case ISO 4217), in minor units.</summary>
public sealed record CreditPackPrice(string Currency, long PriceCents);

/// <summary>Holds the credit packs catalogue as data: 100 credits for 2 EUR or 2.20 USD, 300 for 5 EUR or 5.50 USD, 500 for 7 EUR or 7.70 USD.</summary>
public static class CreditPackCatalog
{
    public static IReadOnlyList<CreditPack> All { get; } =
    [
        new("credits_100", 100, 200, "eur") { OtherPrices = [new("usd", 220)] },
        new("credits_300", 300, 500, "eur") { OtherPrices = [new("usd", 550)] },
        new("credits_500", 500, 700, "eur") { OtherPrices = [new("usd", 770)] },
    ];

    public static CreditPack? Find(string? id) => All.FirstOrDefault(p => p.Id == id);

    /// <summary>Gets the UTC month a moment falls in, as "yyyy-MM".</summary>
    public static string PeriodOf(DateTimeOffset moment) => moment.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gets the start of the UTC month after the one a moment falls in (when the next monthly grant arrives).</summary>
    public static DateTimeOffset NextPeriodStart(DateTimeOffset moment)
    {
        var utc = moment.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
    }
}
