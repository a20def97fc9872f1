using System.Net;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;

namespace Platform.Tests.ApiKeys;

/// <summary>A starting instance fills its key cache with the keys used lately (ADR 0821): only keys that could authenticate now, used within the
/// window, most recent first up to the limit; and a key changed afterwards is dropped from that cache as from any other fill.</summary>
public sealed class ApiKeyPreloadTests : DatabaseTest
{
    [Test]
    public async Task A_starting_host_caches_the_keys_used_in_the_last_hour_that_could_authenticate_and_no_other()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var recent = await Keys.CreateAsync(owner.Token, tenantId);
        var stale = await Keys.CreateAsync(owner.Token, tenantId);
        var unused = await Keys.CreateAsync(owner.Token, tenantId);
        var revoked = await Keys.CreateAsync(owner.Token, tenantId);
        var frozen = await Keys.CreateAsync(owner.Token, tenantId);
        var expired = await Keys.CreateAsync(owner.Token, tenantId, expiresAt: DateTimeOffset.UtcNow.AddDays(1));
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE api_keys SET last_used_at = now() - interval '1 minute' WHERE id = ANY(@ids)",
                ("ids", new[] { recent.Id, revoked.Id, frozen.Id, expired.Id }));
            await scope.ExecuteAsync("UPDATE api_keys SET last_used_at = now() - interval '2 hours' WHERE id = @id", ("id", stale.Id));
            await scope.ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE id = @id", ("id", revoked.Id));
            await scope.ExecuteAsync("UPDATE api_keys SET frozen_at = now() WHERE id = @id", ("id", frozen.Id));
            await scope.ExecuteAsync("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = @id", ("id", expired.Id));
            await scope.CommitAsync();
        }

        using var host = await ListeningHostAsync();
        var cache = host.Services.GetRequiredService<ApiKeyCache>();
        var preloaded = await PreloadAsync(host, 100);

        Assert.Multiple(() =>
        {
            Assert.That(preloaded.Cached, Is.EqualTo(1));
            Assert.That(preloaded.Tenants, Is.EqualTo(new[] { tenantId }));
            Assert.That(cache.TryGet(HashOf(recent.Secret), out var found), Is.True);
            Assert.That(found?.Id, Is.EqualTo(recent.Id));
            Assert.That(found?.TenantId, Is.EqualTo(tenantId));
            Assert.That(found?.Permissions, Is.EqualTo(new[] { "runs:read", "usage:read" }));
            foreach (var other in new[] { stale, unused, revoked, frozen, expired })
            {
                Assert.That(cache.TryGet(HashOf(other.Secret), out _), Is.False, $"key {other.Id} was cached");
            }
            Assert.That(cache.Count, Is.EqualTo(1));
        });

        // The preloaded key serves its caller on that host; revoked through another instance, it is dropped there like any cached key.
        using var keyOnHost = host.Client(recent.Secret);
        using (var ok = await keyOnHost.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        using (var revoke = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{recent.Id}"))
        {
            await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        }
        Assert.That(cache.TryGet(HashOf(recent.Secret), out _), Is.False);
        using var refused = await keyOnHost.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task The_limit_keeps_the_most_recently_used_keys_and_names_each_tenant_once_most_recent_first()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        var a1 = await Keys.CreateAsync(ownerA.Token, tenantA);
        var a2 = await Keys.CreateAsync(ownerA.Token, tenantA);
        var b1 = await Keys.CreateAsync(ownerB.Token, tenantB);
        var a3 = await Keys.CreateAsync(ownerA.Token, tenantA);
        // Most recent first: b1 (1 min ago), a1 (2), a2 (3), a3 (4).
        foreach (var (tenant, key, minutes) in new[] { (tenantB, b1, 1), (tenantA, a1, 2), (tenantA, a2, 3), (tenantA, a3, 4) })
        {
            await using var scope = await TenantScope.OwnerAsync(tenant);
            await scope.ExecuteAsync("UPDATE api_keys SET last_used_at = now() - make_interval(mins => @m) WHERE id = @id", ("m", minutes), ("id", key.Id));
            await scope.CommitAsync();
        }

        using var host = await ListeningHostAsync();
        var cache = host.Services.GetRequiredService<ApiKeyCache>();
        var preloaded = await PreloadAsync(host, 3);

        Assert.Multiple(() =>
        {
            Assert.That(preloaded.Cached, Is.EqualTo(3));
            Assert.That(preloaded.Tenants, Is.EqualTo(new[] { tenantB, tenantA }));
            Assert.That(new[] { b1, a1, a2, a3 }.Select(k => cache.TryGet(HashOf(k.Secret), out _)), Is.EqualTo(new[] { true, true, true, false }));
        });
    }

    [Test]
    public async Task Nothing_is_cached_while_the_change_listener_is_not_connected_or_when_the_limit_is_zero()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE api_keys SET last_used_at = now() WHERE id = @id", ("id", key.Id));
            await scope.CommitAsync();
        }
        using var host = await ListeningHostAsync();
        var cache = host.Services.GetRequiredService<ApiKeyCache>();

        var none = await PreloadAsync(host, 0);
        // A fill made before LISTEN took effect could miss a change: with the listener lost, the preload waits for it, then gives up.
        cache.StopServing();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var unheard = await PreloadAsync(host, 100, TimeSpan.FromMilliseconds(300));
        var waited = started.Elapsed;
        cache.StartServing();
        var heard = await PreloadAsync(host, 100);

        Assert.Multiple(() =>
        {
            Assert.That(none.Cached, Is.Zero);
            Assert.That(none.Tenants, Is.Empty);
            Assert.That(unheard.Cached, Is.Zero);
            Assert.That(unheard.Tenants, Is.Empty);
            Assert.That(waited, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(300)));
            Assert.That(heard.Cached, Is.EqualTo(1));
            Assert.That(cache.TryGet(HashOf(key.Secret), out _), Is.True);
        });
    }

    /// <summary>Starts another in-process API host on the same database and waits until its change listener is connected.</summary>
    private static async Task<Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>> ListeningHostAsync()
    {
        var host = Keys.NewHost();
        await Keys.WaitUntilListeningAsync(host.Services);
        return host;
    }

    /// <summary>Sends the start-up fill on the host: keys used in the last hour, at most limit, waiting up to waitForListener (5 s).</summary>
    private static async Task<PreloadedApiKeys> PreloadAsync(
        Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> host, int limit, TimeSpan? waitForListener = null)
    {
        using var scope = host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>()
            .Send(new PreloadApiKeyCache(limit, TimeSpan.FromHours(1), waitForListener ?? TimeSpan.FromSeconds(5)));
    }

    private static string HashOf(string secret) => Convert.ToBase64String(ApiKeySecrets.Hash(secret));
}
