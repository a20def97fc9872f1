using System.Security.Cryptography;
using MediatR;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines;
using Platform.Engines.Hosting;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Tests.Webhooks;

/// <summary>Builds an engines container on the test database for delivery tests (settings as an operator sets them, an optional resolver stub and clock),
/// creates endpoints as rows (until the management routes exist), emits events through the real emitter, and runs dispatch rounds.</summary>
public sealed class DeliveryTestBed : IAsyncDisposable
{
    private DeliveryTestBed(ServiceProvider services, CapturedLogs logs)
    {
        Services = services;
        Logs = logs;
    }

    /// <summary>Gets what the container logged (Information and above).</summary>
    public CapturedLogs Logs { get; }

    /// <summary>Lists the warnings and errors logged, with their exceptions.</summary>
    public IEnumerable<string> Warnings => Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning)
        .Select(e => $"{e.Category}: {e.Message} {e.Exception}");

    public ServiceProvider Services { get; }

    public IMediator Mediator => Services.GetRequiredService<IMediator>();

    /// <summary>Builds the container; loopback is allowed unless the settings say otherwise (the receiver is on loopback).</summary>
    public static DeliveryTestBed Build(Dictionary<string, string?>? settings = null, IWebhookResolver? resolver = null, IClock? clock = null, bool jobs = false)
    {
        var values = new Dictionary<string, string?> { ["Webhooks:AllowLoopback"] = "true", ["Webhooks:PollIntervalMilliseconds"] = "50" };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }
        var services = new ServiceCollection();
        var logs = new CapturedLogs();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddSingleton(TestEngines.Configuration(DatabaseFixture.AppConnectionString, values));
        if (resolver is not null)
        {
            services.AddSingleton(resolver);
        }
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        services.AddEngines();
        if (jobs)
        {
            services.AddPlatformJobs();
        }
        var provider = services.BuildServiceProvider();
        provider.ValidateOptionsNow();
        return new DeliveryTestBed(provider, logs);
    }

    /// <summary>Makes a new signing secret as the contract says: whsec_ + base64 of 32 random bytes.</summary>
    public static string NewSecret() => WebhookSignature.SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(WebhookSecrets.Purpose).Protect(secret);

    /// <summary>Inserts an endpoint of the tenant (as the schema owner in its scope) and returns its id.</summary>
    public async Task<Guid> CreateEndpointAsync(Guid tenantId, string url, string secret, string[]? eventTypes = null, string headers = "{}",
        string? previousSecret = null, DateTimeOffset? previousExpiresAt = null, int? rateLimit = null, DateTimeOffset? failingSince = null)
    {
        var id = Guid.CreateVersion7();
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync(
            """
            INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, headers, secret, previous_secret, previous_secret_expires_at, rate_limit,
                                           failing_since, created_at, updated_at)
            VALUES (@t, @id, @url, @types, @headers::jsonb, @secret, @prev, @prevAt, @rate, @failing, now(), now())
            """,
            ("t", tenantId), ("id", id), ("url", url), ("types", (object?)eventTypes ?? DBNull.Value), ("headers", headers), ("secret", Protect(secret)),
            ("prev", previousSecret is null ? DBNull.Value : Protect(previousSecret)), ("prevAt", (object?)previousExpiresAt ?? DBNull.Value),
            ("rate", (object?)rateLimit ?? DBNull.Value), ("failing", (object?)failingSince ?? DBNull.Value));
        await scope.CommitAsync();
        return id;
    }

    /// <summary>Emits count events of a type (its catalogue example as data) through WebhookEvents, each in its own committed transaction; returns their ids' wire form.</summary>
    public async Task<List<string>> EmitAsync(Guid tenantId, int count = 1, string type = WebhookEventTypes.RunCompleted)
    {
        var events = Services.GetRequiredService<WebhookEvents>();
        var sessions = Services.GetRequiredService<IDbSessionFactory>();
        var example = WebhookEventTypes.Find(type)!.Example;
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            await using var session = await sessions.OpenAsync(tenantId, null, CancellationToken.None);
            var e = events.Create(tenantId, type, example);
            await Services.GetRequiredService<IWebhookEventDriver>().EmitAsync(session, e, CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
            ids.Add(WebhookIds.Message(e.Id));
        }
        return ids;
    }

    /// <summary>Runs dispatch rounds until one claims nothing; returns the sum.</summary>
    public async Task<WebhookDispatchResult> DrainAsync(int limit = 50)
    {
        int claimed = 0, ok = 0, retried = 0, failed = 0, disabled = 0;
        while (true)
        {
            var r = await Mediator.Send(new DispatchWebhooks(limit));
            if (r.Claimed == 0)
            {
                return new WebhookDispatchResult(claimed, ok, retried, failed, disabled);
            }
            claimed += r.Claimed;
            ok += r.Succeeded;
            retried += r.Retried;
            failed += r.Failed;
            disabled += r.Disabled;
        }
    }

    /// <summary>Makes every pending delivery due now (a retry's delay is minutes; tests do not wait for it).</summary>
    public static async Task MakeDueAsync(Guid tenantId)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync("UPDATE outbox_messages SET next_attempt_at = now() - interval '1 second' WHERE kind = 'webhook' AND status = 'pending'");
        await scope.CommitAsync();
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

/// <summary>Maps names to fixed addresses, as a DNS answer would, and counts the lookups; never touches the network.</summary>
public sealed class StubResolver(Dictionary<string, System.Net.IPAddress[]> answers) : IWebhookResolver
{
    public int Lookups;

    public Task<System.Net.IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Lookups);
        return Task.FromResult(answers.TryGetValue(host, out var a) ? a : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
    }
}
