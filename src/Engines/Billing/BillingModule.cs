using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Email;
using Platform.Engines.Hosting;

namespace Platform.Engines.Billing;

/// <summary>Registers billing: its settings (section "Billing"), the lifecycle rules, the tenant sweep, and the lifecycle and monthly close jobs.</summary>
internal sealed class BillingModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<BillingOptions>("Billing");
        services.AddFeatureOptions<InvoiceDocumentOptions>("Invoices");
        services.AddSingleton<BillingLifecycle>();
        services.AddSingleton<TenantSweep>();
        services.AddSingleton<IEmailAttachmentSource, InvoicePdfAttachments>();
        services.AddSingleton<Credits.ICreditPackCurrency, CreditPackCurrency>();
    }

    public void AddJobs(IServiceCollection services)
    {
        services.AddHostedService<BillingLifecycleJob>();
        services.AddHostedService<BillingCloseJob>();
    }
}
