using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Audit;

/// <summary>Registers the audit trail.</summary>
internal sealed class AuditModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddSingleton<AuditTrail>();
}
