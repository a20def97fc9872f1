using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Branding;

/// <summary>Registers branding: the lookup of a tenant's effective branding that the sign-in page and the tenant's emails use.</summary>
internal sealed class BrandingModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddSingleton<TenantBrandingLookup>();
}
