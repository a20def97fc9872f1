using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Caching;
using Platform.Engines.Hosting;

namespace Platform.Engines.ApiKeys;

/// <summary>Registers API keys: the key cache, freezer, custody and the in-memory usage recorder (the key change listener and usage flush run with the API, see AddApiKeyRuntime).</summary>
internal sealed class ApiKeysModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddNotifiedCache<ApiKeyCache>();
        services.AddSingleton<ApiKeyFreezer>();
        services.AddSingleton<KeyCustody>();
        services.AddSingleton<IApiKeyUsageRecorder, ApiKeyUsageRecorder>();
    }
}
