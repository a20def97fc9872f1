using Platform.Drivers.ApiKeys;
using Platform.Engines.Caching;
using Platform.Models;
using Platform.Models.ApiKeys;

namespace Platform.Engines.ApiKeys;

/// <summary>Caches key look-ups by secret hash while the change listener is connected; a key change on any instance (PostgreSQL NOTIFY) drops its entry, and a lost listener empties and disables the cache.</summary>
internal sealed class ApiKeyCache(IClock clock)
    : NotifiedCache<string, ApiKeyCredentials>(clock, IApiKeyDriver.Channel, (_, credentials) => credentials.Id);
