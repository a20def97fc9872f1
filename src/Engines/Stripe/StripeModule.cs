using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Stripe;
using Platform.Engines.Hosting;

namespace Platform.Engines.Stripe;

/// <summary>Registers the Stripe settings (section "Stripe") the Stripe driver works with.</summary>
internal sealed class StripeModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<StripeOptions>("Stripe")
            .Validate(o => string.IsNullOrWhiteSpace(o.ApiBase) || Uri.TryCreate(o.ApiBase, UriKind.Absolute, out _), "Stripe:ApiBase must be an absolute URL.");
        services.AddSingleton(provider =>
        {
            var stripe = provider.GetRequiredService<StripeOptions>();
            return new StripeSettings(stripe.SecretKey, stripe.ApiBase, stripe.Prices, stripe.WebhookSecret);
        });
    }
}
