using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Domains;
using Platform.Engines.Caching;
using Platform.Engines.Hosting;

namespace Platform.Engines.Domains;

/// <summary>Registers custom domains: their settings (section "Domains"), the per-instance host cache, the check recorder and the re-check job.</summary>
internal sealed class DomainsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<DomainsOptions>("Domains")
            .Validate(o => o.NameServerEndpoints() is not null, "Domains:NameServers must be comma-separated IP or IP:port entries, such as 127.0.0.1:5353.")
            .Validate(o => string.IsNullOrWhiteSpace(o.TlsProbeAddress) || o.TlsProbeEndPoint() is not null,
                "Domains:TlsProbeAddress must be IP:port, such as 127.0.0.1:443 (the reverse proxy's TLS listener), or empty.");
        services.AddNotifiedCache<DomainHostCache>();
        services.AddSingleton<DomainChecks>();
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<DomainRecheckJob>();
}
