using System.Net;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Usage;

public sealed class ApiCallsMeterTests : DatabaseTest
{
    [Test]
    public async Task N_key_authenticated_requests_show_as_exactly_N_api_calls_in_the_usage_summary_after_the_flush()
    {
        const int n = 37;
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId);
        var client = TestApi.Client(key.Secret);

        var responses = await Task.WhenAll(Enumerable.Range(0, n).Select(_ => client.GetAsync($"/v1/tenants/{tenantId}/usage")));
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));

        // The flush runs every second; the owner's own reads (a signed-in user) are not API key calls.
        Assert.That(await WaitForApiCallsAsync(owner.Token, tenantId, n), Is.EqualTo(n));
        await Task.Delay(2_500);
        Assert.That(await ApiCallsAsync(owner.Token, tenantId), Is.EqualTo(n), "a later flush counted the same requests again");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Api_calls_stay_exact_when_two_api_hosts_serve_the_same_key_in_parallel()
    {
        const int n = 60;
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var other = await TestApi.CreateTenantAsync(owner);
        var key = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId);
        var otherKey = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, other);
        var hostA = Keys.NewHost();
        var hostB = Keys.NewHost();
        var clients = new[] { hostA.Client(key.Secret), hostB.Client(key.Secret) };
        var otherClient = hostB.Client(otherKey.Secret);

        var responses = await Task.WhenAll(Enumerable.Range(0, n)
            .Select(i => clients[i % 2].GetAsync($"/v1/tenants/{tenantId}/usage"))
            .Concat(Enumerable.Range(0, 7).Select(_ => otherClient.GetAsync($"/v1/tenants/{other}/usage"))));
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
        foreach (var response in responses)
        {
            response.Dispose();
        }
        // Each host flushes its own counts every second; together they must add up to exactly n, once.
        Assert.That(await WaitForApiCallsAsync(owner.Token, tenantId, n), Is.EqualTo(n));
        Assert.That(await WaitForApiCallsAsync(owner.Token, other, 7), Is.EqualTo(7));
        await hostA.DisposeAsync();
        await hostB.DisposeAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(await ApiCallsAsync(owner.Token, tenantId), Is.EqualTo(n), "stopping a host counted the same requests again");
            Assert.That(await ApiCallsAsync(owner.Token, other), Is.EqualTo(7));
            Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT total_requests FROM api_keys WHERE id = @k", ("k", key.Id)), Is.EqualTo(n));
        });
    }

    private static async Task<long> WaitForApiCallsAsync(string token, Guid tenantId, long expected)
    {
        var calls = 0L;
        for (var attempt = 0; attempt < 100 && calls < expected; attempt++)
        {
            await Task.Delay(100);
            calls = await ApiCallsAsync(token, tenantId);
        }
        return calls;
    }

    private static async Task<long> ApiCallsAsync(string token, Guid tenantId)
    {
        using var response = await TestApi.Client(token).GetAsync($"/v1/tenants/{tenantId}/usage");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var meters = (await TestApi.ReadAsync(response))["meters"]!.AsArray();
        var line = meters.SingleOrDefault(m => (string?)m!["meter"] == "api_calls");
        return line is null ? 0 : (long)line["used"]!;
    }
}
