using System.Net;
using Platform.Tests.Operators;

namespace Platform.Tests.Webhooks;

/// <summary>Proves the operator's webhook figures: counts and latency of real attempts, deliveries by status, the backlog, and the refusals.</summary>
public sealed class DeliveryStatsTests : DatabaseTest
{
    [Test]
    public async Task An_operator_reads_attempts_outcomes_latency_and_backlog_across_tenants()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,3600" });
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync("ok", [secret]);
        await receiver.ConfigureAsync("bad", [secret], fail: 100);
        var first = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var second = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        await bed.CreateEndpointAsync(first, receiver.Url("ok"), secret);
        await bed.CreateEndpointAsync(second, receiver.Url("bad"), secret);
        await bed.EmitAsync(first, 3);
        await bed.EmitAsync(second, 2);
        await bed.DrainAsync();
        var (_, client) = await OperatorTestSupport.SignedInAsync("viewer");

        using var response = await client.GetAsync("/v1/admin/webhooks/stats");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        using var future = await client.GetAsync("/v1/admin/webhooks/stats?since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("O")));
        using var malformed = await client.GetAsync("/v1/admin/webhooks/stats?since=yesterday");
        using var asUser = await TestApi.Client((await TestApi.SignUpAsync()).Token).GetAsync("/v1/admin/webhooks/stats");

        Assert.Multiple(() =>
        {
            Assert.That((long)body["attempts"]!["attempted"]!, Is.EqualTo(5));
            Assert.That((long)body["attempts"]!["succeeded"]!, Is.EqualTo(3));
            Assert.That((long)body["attempts"]!["failed"]!, Is.EqualTo(2));
            Assert.That((double)body["attempts"]!["latency_p99_ms"]!, Is.GreaterThanOrEqualTo(0));
            Assert.That((long)body["deliveries"]!["succeeded"]!, Is.EqualTo(3));
            Assert.That((long)body["deliveries"]!["pending"]!, Is.EqualTo(2), "the failed ones wait an hour for their retry");
            Assert.That((long)body["backlog"]!["pending"]!, Is.EqualTo(2));
            Assert.That((long)body["backlog"]!["due"]!, Is.Zero);
            Assert.That(future.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That(malformed.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(asUser.StatusCode, Is.AnyOf(HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden));
        });
    }
}
