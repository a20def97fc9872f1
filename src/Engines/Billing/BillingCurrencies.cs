using Platform.Drivers.Billing;
using Platform.Engines.Sessions;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Engines.Billing;

/// <summary>Decides a tenant's billing currency (ADR 0720): the one it has (fixed on the tenant, or that of its invoices), else the one asked, else the
/// installation's; asking for another than the one it has is 409 billing_currency_fixed.</summary>
internal static class BillingCurrencies
{
    /// <summary>Normalises a requested currency to lower-case ISO 4217 (null stays null).</summary>
    public static string? Normalise(string? currency) => string.IsNullOrWhiteSpace(currency) ? null : currency.Trim().ToLowerInvariant();

    /// <summary>Gets the message of a currency the catalogue does not sell in.</summary>
    public static string UnknownMessage => $"The currency must be one of: {string.Join(", ", PlanCatalog.Currencies)}.";

    /// <summary>Gets the currency the tenant is (or would be) billed in, refusing a request for another one than it has.</summary>
    public static async Task<string> ResolveAsync(IBillingDriver billing, TenantScope scope, string? requested, string installationDefault, CancellationToken cancellationToken)
    {
        var current = await billing.FetchBillingCurrencyAsync(scope.Session, scope.Tenant.Id, cancellationToken);
        var asked = Normalise(requested);
        if (current is not null && asked is not null && asked != current)
        {
            throw new ConflictException(
                $"The tenant is billed in {current.ToUpperInvariant()}; its billing currency was fixed at its first subscription and cannot change to {asked.ToUpperInvariant()}.",
                "billing_currency_fixed");
        }
        return current ?? asked ?? installationDefault;
    }

    /// <summary>Resolves the currency as above and fixes it on the tenant (its first subscription or Checkout chooses it).</summary>
    public static async Task<string> ChooseAsync(IBillingDriver billing, TenantScope scope, string? requested, string installationDefault, CancellationToken cancellationToken)
    {
        var currency = await ResolveAsync(billing, scope, requested, installationDefault, cancellationToken);
        return await billing.FixBillingCurrencyAsync(scope.Session, scope.Tenant.Id, currency, cancellationToken);
    }
}
