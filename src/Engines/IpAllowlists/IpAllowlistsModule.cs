using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Caching;
using Platform.Engines.Hosting;

namespace Platform.Engines.IpAllowlists;

/// <summary>Registers IP allowlists: the network settings (section "Network"), the per-instance allowlist cache and the change writer.</summary>
internal sealed class IpAllowlistsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<NetworkOptions>("Network")
            .Validate(o => o.ProxyNetworks() is not null, "Network:KnownProxies must be comma-separated IP addresses or CIDRs.");
        services.AddNotifiedCache<IpAllowlistCache>();
        services.AddSingleton<IpAllowlistChanges>();
    }
}
