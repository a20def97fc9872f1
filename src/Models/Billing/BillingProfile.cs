namespace Platform.Models.Billing;

/// <summary>Holds a postal address as Stripe's customer carries it (country as ISO 3166-1 alpha-2).</summary>
public sealed record PostalAddress(string? Line1, string? Line2, string? PostalCode, string? City, string? State, string? Country)
{
    /// <summary>Gets the address as printed lines: street lines, "postal code city", state, country; empty parts left out.</summary>
    public IReadOnlyList<string> Lines() =>
        new[] { Line1, Line2, string.Join(" ", new[] { PostalCode, City }.Where(p => !string.IsNullOrWhiteSpace(p))), State, Country }
            .Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l!.Trim()).ToList();
}

/// <summary>Holds a card as Platform keeps it: Stripe's payment method id, brand, last four digits and expiry (never the number).</summary>
public sealed record CardSummary(string PaymentMethodId, string? Brand, string? Last4, int? ExpMonth, int? ExpYear);

/// <summary>Holds what the customer portal keeps in Platform (ADR 0721): the buyer's billing name and address, and the card last attached.</summary>
public sealed record BillingProfile(Guid TenantId, string? Name, PostalAddress? Address, CardSummary? Card, DateTimeOffset UpdatedAt);
