using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;

namespace Platform.Tests.Webhooks;

/// <summary>Proves ADR 0610: a claim leases deliveries by changing no indexed column of outbox_messages, so PostgreSQL writes its updates heap-only
/// (HOT) instead of a new entry in every index; and no index names the lease's columns.</summary>
public sealed class DeliveryLeaseTests : DatabaseTest
{
    [Test]
    public async Task A_claim_leases_its_deliveries_with_heap_only_updates()
    {
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        // Nothing is sent to it: the claim below is rolled back before any request.
        await bed.CreateEndpointAsync(tenantId, "http://127.0.0.1:9/hooks/lease", DeliveryTestBed.NewSecret());
        const int events = 40;
        await bed.EmitAsync(tenantId, events);

        var sessions = bed.Services.GetRequiredService<IDbSessionFactory>();
        var driver = bed.Services.GetRequiredService<IWebhookDeliveryDriver>();
        await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
        var leased = await driver.ClaimDueAsync(session, DateTimeOffset.UtcNow.AddSeconds(1), 60, 1000, CancellationToken.None);
        // This transaction's own counters: what the claim just did, whatever other sessions do.
        var hot = await session.ExecuteScalarAsync<long>(
            "SELECT pg_stat_get_xact_tuples_hot_updated('outbox_messages'::regclass)", null, CancellationToken.None);
        var leasedAgain = await driver.ClaimDueAsync(session, DateTimeOffset.UtcNow.AddSeconds(1), 60, 1000, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(leased.Count(d => d.TenantId == tenantId), Is.EqualTo(events));
            Assert.That(leased.Where(d => d.TenantId == tenantId).Select(d => d.Attempt), Has.All.EqualTo(1));
            // A lease that moved an indexed column (next_attempt_at before ADR 0610) is never HOT: this was 0. A page without room for the new
            // version makes a lease non-HOT now and then (fillfactor 50 leaves room for about one new version of each row), hence not all.
            Assert.That(hot, Is.GreaterThanOrEqualTo((long)(leased.Count * 0.8)), $"{hot} of {leased.Count} leases were heap-only");
            Assert.That(leasedAgain.Where(d => d.TenantId == tenantId), Is.Empty, "a leased delivery is not claimed again while its lease lasts");
        });
    }

    [Test]
    public async Task No_index_of_the_outbox_names_a_column_the_lease_changes()
    {
        var definitions = await OwnerSql.ScalarAsync<string>(
            "SELECT string_agg(pg_get_indexdef(indexrelid), E'\\n') FROM pg_index WHERE indrelid = 'outbox_messages'::regclass");
        var options = await OwnerSql.ScalarAsync<string>(
            "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'outbox_messages'::regclass");

        Assert.Multiple(() =>
        {
            Assert.That(definitions, Does.Contain("outbox_messages_webhook_due_idx"), "the definitions were read");
            Assert.That(definitions, Does.Not.Contain("leased_until"));
            Assert.That(definitions, Does.Not.Contain("attempts"));
            Assert.That(options, Does.Contain("fillfactor=50"));
        });
    }
}
