using Platform.Models.Credits;

namespace Platform.Api.Credits;

/// <summary>Is the body of a credit pack purchase.</summary>
public sealed record PurchaseCreditsRequest(string? Pack);

/// <summary>Is the wire form of a credit account: balance and monthly grant in credits (null grant means unlimited) and the packs for sale.</summary>
public sealed record CreditAccountResponse(long Balance, long? MonthlyGrant, bool Unlimited, string? LastGrantPeriod, IReadOnlyList<CreditPackResponse> Packs)
{
    public static CreditAccountResponse From(CreditAccountSnapshot a) =>
        new(a.Balance, a.Unlimited ? null : a.MonthlyGrant, a.Unlimited, a.LastGrantPeriod, CreditPackCatalog.All.Select(CreditPackResponse.From).ToList());
}

/// <summary>Is the wire form of a credit pack: credits and price in minor units of its primary currency, and its price in every currency (a tenant
/// pays the one in its billing currency, ADR 0777).</summary>
public sealed record CreditPackResponse(string Id, long Credits, long PriceCents, string Currency, IReadOnlyList<CreditPackPriceResponse> Prices)
{
    public static CreditPackResponse From(CreditPack p) =>
        new(p.Id, p.Credits, p.PriceCents, p.Currency, p.Prices.Select(x => new CreditPackPriceResponse(x.Currency, x.PriceCents)).ToList());
}

/// <summary>Is a credit pack's price in one currency (lower-case ISO 4217), in minor units.</summary>
public sealed record CreditPackPriceResponse(string Currency, long PriceCents);

/// <summary>Is the wire form of one ledger row.</summary>
public sealed record CreditTransactionResponse(Guid Id, CreditTransactionType Type, long Amount, long BalanceAfter, string? Reference, string? StripePaymentId, DateTimeOffset CreatedAt)
{
    public static CreditTransactionResponse From(CreditTransactionSnapshot t) =>
        new(t.Id, t.Type, t.Amount, t.BalanceAfter, t.Reference, t.StripePaymentId, t.CreatedAt);
}

/// <summary>Is the wire form of a credit pack purchase; online it carries the PaymentIntent id and its client secret (shown once).</summary>
public sealed record CreditPurchaseResponse(
    Guid Id, string Pack, long Credits, long AmountCents, string Currency, CreditPurchaseStatus Status, string? StripePaymentIntentId, string? ClientSecret,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    public static CreditPurchaseResponse From(CreditPurchaseSnapshot p, string? clientSecret) =>
        new(p.Id, p.Pack, p.Credits, p.AmountCents, p.Currency, p.Status, p.StripePaymentIntentId, clientSecret, p.CreatedAt, p.CompletedAt);
}

/// <summary>Is a pack bought through Checkout: the pending purchase and the Checkout Session (id and Stripe-hosted URL) that pays it.</summary>
public sealed record CreditCheckoutResponse(CreditPurchaseResponse Purchase, string CheckoutSessionId, string Url);
