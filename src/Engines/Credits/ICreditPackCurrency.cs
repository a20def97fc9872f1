using Platform.Engines.Sessions;

namespace Platform.Engines.Credits;

/// <summary>Tells which currency a tenant pays a credit pack in: its billing currency (ADR 0777). Billing implements it (Billing already depends on
/// Credits, so Credits asks through this seam rather than depending back on Billing).</summary>
internal interface ICreditPackCurrency
{
    /// <summary>Gets the tenant's billing currency (fixed, or that of its invoices, else the installation's default), lower-case ISO 4217.</summary>
    Task<string> CurrencyOfAsync(TenantScope scope, CancellationToken cancellationToken);
}
