using Platform.Drivers.Billing;
using Platform.Engines.Credits;
using Platform.Engines.Sessions;

namespace Platform.Engines.Billing;

/// <summary>Answers a credit pack's currency from the tenant's billing currency, else the installation's (ADR 0777); a pack bought fixes nothing.</summary>
internal sealed class CreditPackCurrency(IBillingDriver billing, BillingOptions options) : ICreditPackCurrency
{
    public async Task<string> CurrencyOfAsync(TenantScope scope, CancellationToken cancellationToken) =>
        await billing.FetchBillingCurrencyAsync(scope.Session, scope.Tenant.Id, cancellationToken) ?? options.DefaultCurrencyCode;
}
