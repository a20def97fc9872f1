using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Faults;

/// <summary>kill -9 of the API process during usage ingestion: every acknowledged event is stored, and resending every batch (acknowledged or
/// not) to a new process stores each event exactly once, by its idempotency key (ADR 0661).</summary>
public sealed class IngestionKillTests : DatabaseTest
{
    private const int Senders = 4;
    private const int BatchesPerSender = 60;
    private const int EventsPerBatch = 10;
    private const decimal Amount = 0.25m;

    [Test]
    [CancelAfter(240_000)]
    public async Task No_acknowledged_event_is_lost_and_a_full_resend_counts_each_event_once(CancellationToken cancellationToken)
    {
        var first = ServiceProcess.StartApi(ServiceProcess.ApiFolder);
        string token;
        Guid tenantId;
        var acknowledged = new ConcurrentBag<(int Sender, int Batch)>();
        var attempted = new ConcurrentBag<(int Sender, int Batch)>();
        var killedAlready = false;
        try
        {
            using var client = new HttpClient { BaseAddress = first.Url, Timeout = TimeSpan.FromSeconds(30) };
            await first.WaitUntilServingAsync(client, TimeSpan.FromSeconds(60), cancellationToken);
            (token, tenantId) = await SignUpWithTenantAsync(client, cancellationToken);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

            using var killed = new CancellationTokenSource();
            var senders = Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
            {
                for (var batch = 0; batch < BatchesPerSender && !killed.IsCancellationRequested; batch++)
                {
                    attempted.Add((sender, batch));
                    try
                    {
                        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", Batch(sender, batch), CancellationToken.None);
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add((sender, batch));
                        }
                        else
                        {
                            Assert.Fail($"batch {sender}/{batch}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        return;
                    }
                }
            }, CancellationToken.None)).ToArray();

            // Kill -9 while batches are in flight: after a share of them is acknowledged, before all are.
            while (acknowledged.Count < Senders * BatchesPerSender / 4)
            {
                await Task.Delay(10, cancellationToken);
            }
            killedAlready = true;
            await first.DisposeAsync();
            await killed.CancelAsync();
            await Task.WhenAll(senders);
        }
        finally
        {
            if (!killedAlready)
            {
                await first.DisposeAsync();
            }
        }
        Assert.That(acknowledged, Has.Count.LessThan(Senders * BatchesPerSender), "the kill came before every batch was acknowledged");

        await using var second = ServiceProcess.StartApi(ServiceProcess.ApiFolder);
        using var again = new HttpClient { BaseAddress = second.Url, Timeout = TimeSpan.FromSeconds(30) };
        again.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await second.WaitUntilServingAsync(again, TimeSpan.FromSeconds(60), cancellationToken);
        var afterKill = await UsedAsync(again, tenantId, cancellationToken);

        // The client resends everything it ever sent (it cannot know which unacknowledged batches landed), then the rest.
        foreach (var (sender, batch) in Enumerable.Range(0, Senders).SelectMany(s => Enumerable.Range(0, BatchesPerSender).Select(b => (s, b))))
        {
            using var response = await again.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", Batch(sender, batch), cancellationToken);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync(cancellationToken));
        }
        var final = await UsedAsync(again, tenantId, cancellationToken);

        TestContext.Out.WriteLine($"{acknowledged.Count} batches acknowledged and {attempted.Count} attempted before the kill; stored {afterKill}");
        Assert.Multiple(() =>
        {
            Assert.That(afterKill, Is.GreaterThanOrEqualTo(acknowledged.Count * EventsPerBatch * Amount), "every acknowledged event survived the kill");
            Assert.That(afterKill, Is.LessThanOrEqualTo(attempted.Count * EventsPerBatch * Amount));
            Assert.That(afterKill % (EventsPerBatch * Amount), Is.EqualTo(0m), "a batch is stored whole or not at all");
            Assert.That(final, Is.EqualTo(Senders * BatchesPerSender * EventsPerBatch * Amount), "each event counted exactly once after the resend");
        });
    }

    private static object[] Batch(int sender, int batch) => Enumerable.Range(0, EventsPerBatch)
        .Select(i => (object)new { meter = "images", amount = Amount, idempotency_key = $"s{sender}-b{batch}-e{i}" }).ToArray();

    private static async Task<decimal> UsedAsync(HttpClient client, Guid tenantId, CancellationToken cancellationToken)
    {
        using var summary = await client.GetAsync($"/v1/tenants/{tenantId}/usage", cancellationToken);
        var text = await summary.Content.ReadAsStringAsync(cancellationToken);
        Assert.That(summary.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        var line = JsonNode.Parse(text)!["meters"]!.AsArray().FirstOrDefault(m => (string?)m!["meter"] == "images");
        return line is null ? 0m : decimal.Parse(line["used"]!.ToJsonString(), CultureInfo.InvariantCulture);
    }

    private static async Task<(string Token, Guid TenantId)> SignUpWithTenantAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var signUp = await client.PostAsJsonAsync("/v1/auth/signup",
            new { email = $"kill-{Guid.NewGuid():N}@example.test", password = "correct horse battery", name = "Kill" }, cancellationToken);
        var user = JsonNode.Parse(await signUp.Content.ReadAsStringAsync(cancellationToken))!;
        Assert.That(signUp.StatusCode, Is.EqualTo(HttpStatusCode.Created), user.ToJsonString());
        var token = (string)user["access_token"]!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tenants")
        {
            Content = JsonContent.Create(new { name = "Kill", slug = "k-" + Guid.NewGuid().ToString("N")[..12], plan = "free" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var created = await client.SendAsync(request, cancellationToken);
        var tenant = JsonNode.Parse(await created.Content.ReadAsStringAsync(cancellationToken))!;
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), tenant.ToJsonString());
        return (token, Guid.Parse((string)tenant["id"]!));
    }
}
