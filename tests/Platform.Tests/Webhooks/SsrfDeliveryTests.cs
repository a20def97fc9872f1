using System.Net;

namespace Platform.Tests.Webhooks;

/// <summary>Proves the SSRF guard where the delivery client connects: a name resolving (through a stub, never real DNS) to a private address, and loopback
/// outside the embedded default, are refused, the refusal is in the delivery log, and nothing reaches the address. Only loopback is ever dialled here.</summary>
public sealed class SsrfDeliveryTests : DatabaseTest
{
    [Test]
    public async Task A_name_that_resolves_to_a_private_address_is_refused_at_delivery_and_the_refusal_is_logged()
    {
        var resolver = new StubResolver(new() { ["hooks.internal.example.test"] = [IPAddress.Parse("10.0.0.1")] });
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0" }, resolver);
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        await bed.CreateEndpointAsync(tenantId, "https://hooks.internal.example.test/receive", DeliveryTestBed.NewSecret());
        await bed.EmitAsync(tenantId);

        var result = await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(result.Failed, Is.EqualTo(1));
            Assert.That(resolver.Lookups, Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT error FROM webhook_attempts", tenantId), Is.EqualTo("refused: 10.0.0.1 is private"));
            Assert.That(await OwnerSql.ScalarAsync<bool>("SELECT status_code IS NULL AND NOT succeeded FROM webhook_attempts", tenantId), Is.True);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ': ' || last_error FROM outbox_messages WHERE kind = 'webhook'", tenantId),
                Is.EqualTo("failed: refused: 10.0.0.1 is private"));
        });
    }

    [Test]
    public async Task Loopback_is_refused_outside_the_embedded_default_and_the_receiver_there_gets_nothing()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0", ["Webhooks:AllowLoopback"] = "false" });
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        await bed.CreateEndpointAsync(tenantId, receiver.Url("v4"), DeliveryTestBed.NewSecret());
        await bed.CreateEndpointAsync(tenantId, $"http://[::1]:{receiver.Port}/hooks/v6", DeliveryTestBed.NewSecret());
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT string_agg(error, ',' ORDER BY error) FROM webhook_attempts", tenantId),
                Is.EqualTo("refused: 127.0.0.1 is loopback,refused: ::1 is loopback"));
            Assert.That((await receiver.StatsAsync()).Total, Is.Zero);
        });
    }
}
