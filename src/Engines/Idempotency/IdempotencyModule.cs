using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Idempotency;

/// <summary>Registers Idempotency-Key records: their settings (section "Idempotency") and the in-process record of keys in flight.</summary>
internal sealed class IdempotencyModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<IdempotencyOptions>("Idempotency");
        services.AddSingleton<IdempotencyRecords>();
    }
}
