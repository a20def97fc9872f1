using System.Net;
using System.Text.Json.Nodes;
using Platform.Models.Webhooks;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Webhooks;

/// <summary>The delivery log, messages with their attempts, manual retry, recovery, the test message and the event catalogue. No dispatcher runs
/// in the tests (Platform:RunJobs is off), so these assert on the outbox rows the routes leave, not on deliveries made.</summary>
public sealed class MessageApiTests : DatabaseTest
{
    [Test]
    public async Task The_test_route_queues_one_webhook_test_delivery_to_that_endpoint_only_and_names_its_message()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId, new { url = EndpointSetup.PublicUrl, event_types = new[] { "invoice.paid" } }));
        var other = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));

        using var response = await client.PostAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/test", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.Accepted);
        var messageId = (string)(await TestApi.ReadAsync(response))["message_id"]!;
        var eventId = WebhookIds.ParseMessage(messageId)!.Value;
        Assert.That(messageId, Does.Match("^msg_[0-9a-f]{32}$"));

        var row = await Keys.ReadRowAsync(tenantId,
            """
            SELECT ev.type, ev.payload->>'type' AS body_type, ev.payload->'data'->>'message' AS data_message,
                   (SELECT count(*) FROM outbox_messages o WHERE o.event_id = ev.id) AS deliveries,
                   (SELECT count(*) FROM outbox_messages o WHERE o.event_id = ev.id AND o.endpoint_id = @id AND o.kind = 'webhook'
                       AND o.status = 'pending' AND o.attempts = 0 AND o.next_attempt_at <= now()) AS due_to_it,
                   (SELECT count(*) FROM outbox_messages o WHERE o.endpoint_id = @other) AS to_other
            FROM webhook_events ev WHERE ev.id = @e
            """, ("e", eventId), ("id", id), ("other", other));
        Assert.Multiple(() =>
        {
            Assert.That(row!["type"], Is.EqualTo("webhook.test"));
            Assert.That(row["body_type"], Is.EqualTo("webhook.test"));
            Assert.That(row["data_message"], Is.Not.Null);
            Assert.That(row["deliveries"], Is.EqualTo(1L));
            Assert.That(row["due_to_it"], Is.EqualTo(1L));
            Assert.That(row["to_other"], Is.EqualTo(0L));
        });

        using var get = await client.GetAsync($"{EndpointSetup.Messages(tenantId)}/{messageId}");
        await TestApi.ExpectAsync(get, HttpStatusCode.OK);
        var message = await TestApi.ReadAsync(get);
        Assert.Multiple(() =>
        {
            Assert.That((string?)message["id"], Is.EqualTo(messageId));
            Assert.That((string?)message["type"], Is.EqualTo("webhook.test"));
            Assert.That((string?)message["payload"]!["type"], Is.EqualTo("webhook.test"));
            Assert.That(message["deliveries"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That((string?)message["deliveries"]![0]!["status"], Is.EqualTo("pending"));
            Assert.That((string?)message["deliveries"]![0]!["endpoint_id"], Is.EqualTo(id.ToString()));
        });
    }

    [Test]
    public async Task The_delivery_log_lists_newest_first_with_filters_and_cursor_paging()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var other = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var now = DateTimeOffset.UtcNow;
        var e1 = await EndpointSetup.SeedMessageAsync(tenantId, [id], "sent", now.AddMinutes(-50));
        var e2 = await EndpointSetup.SeedMessageAsync(tenantId, [id, other], "failed", now.AddMinutes(-40), "invoice.paid", attempts: 8);
        var e3 = await EndpointSetup.SeedMessageAsync(tenantId, [id], "pending", now.AddMinutes(-30), attempts: 0);
        var e4 = await EndpointSetup.SeedMessageAsync(tenantId, [id], "failed", now.AddMinutes(-20));
        var e5 = await EndpointSetup.SeedMessageAsync(tenantId, [other], "failed", now.AddMinutes(-10));

        var all = await PagesAsync(client, $"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?limit=2");
        Assert.That(all.Select(d => (string?)d["message_id"]), Is.EqualTo(new[] { e4, e3, e2, e1 }.Select(EndpointSetup.MessageId)));
        Assert.That(all.Select(d => (string?)d["status"]), Is.EqualTo(new[] { "failed", "pending", "failed", "succeeded" }));
        var failed8 = all[2];
        Assert.Multiple(() =>
        {
            Assert.That((string?)failed8["event_type"], Is.EqualTo("invoice.paid"));
            Assert.That((int?)failed8["attempts"], Is.EqualTo(8));
            Assert.That((string?)failed8["last_error"], Is.EqualTo("HTTP 500"));
            Assert.That(failed8["next_attempt_at"], Is.Null, "A finished delivery has no next attempt.");
            Assert.That(all[1]["next_attempt_at"], Is.Not.Null);
            Assert.That((string?)failed8["endpoint_id"], Is.EqualTo(id.ToString()));
        });

        var failed = await PagesAsync(client, $"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?status=failed");
        Assert.That(failed.Select(d => (string?)d["message_id"]), Is.EqualTo(new[] { e4, e2 }.Select(EndpointSetup.MessageId)));
        var invoices = await PagesAsync(client, $"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?event_type=invoice.paid");
        Assert.That(invoices.Select(d => (string?)d["message_id"]), Is.EqualTo(new[] { EndpointSetup.MessageId(e2) }));
        var succeeded = await PagesAsync(client, $"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?status=succeeded&event_type=run.completed");
        Assert.That(succeeded.Select(d => (string?)d["message_id"]), Is.EqualTo(new[] { EndpointSetup.MessageId(e1) }));
        Assert.That((await PagesAsync(client, $"{EndpointSetup.Endpoints(tenantId)}/{other}/deliveries")).Select(d => (string?)d["message_id"]),
            Is.EqualTo(new[] { e5, e2 }.Select(EndpointSetup.MessageId)));
    }

    [Test]
    public async Task A_message_shows_every_attempt_of_each_delivery()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var a = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var b = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var eventId = await EndpointSetup.SeedMessageAsync(tenantId, [a, b], "sent", DateTimeOffset.UtcNow.AddMinutes(-5), attempts: 3);

        using var response = await client.GetAsync($"{EndpointSetup.Messages(tenantId)}/{EndpointSetup.MessageId(eventId)}");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var message = await TestApi.ReadAsync(response);
        var deliveries = message["deliveries"]!.AsArray();
        Assert.That(deliveries, Has.Count.EqualTo(2));
        foreach (var delivery in deliveries)
        {
            var log = delivery!["attempt_log"]!.AsArray();
            Assert.Multiple(() =>
            {
                Assert.That((string?)delivery["status"], Is.EqualTo("succeeded"));
                Assert.That(log.Select(x => (int?)x!["attempt"]), Is.EqualTo(new[] { 1, 2, 3 }));
                Assert.That(log.Select(x => (int?)x!["status_code"]), Is.EqualTo(new[] { 500, 500, 200 }));
                Assert.That(log.Select(x => (bool?)x!["succeeded"]), Is.EqualTo(new[] { false, false, true }));
                Assert.That((string?)log[0]!["error"], Is.EqualTo("HTTP 500"));
                Assert.That((string?)log[0]!["response_excerpt"], Is.EqualTo("boom"));
                Assert.That((int?)log[0]!["latency_ms"], Is.EqualTo(12));
            });
        }
        Assert.That((string?)message["payload"]!["type"], Is.EqualTo("run.completed"));

        // A bare uuid names the message too; an unknown one is 404.
        using var bare = await client.GetAsync($"{EndpointSetup.Messages(tenantId)}/{eventId}");
        await TestApi.ExpectAsync(bare, HttpStatusCode.OK);
        using var unknown = await client.GetAsync($"{EndpointSetup.Messages(tenantId)}/{EndpointSetup.MessageId(Guid.CreateVersion7())}");
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Retry_requeues_finished_deliveries_due_now_keeping_their_attempts_and_leaves_pending_ones_alone()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var a = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var b = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var c = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var past = DateTimeOffset.UtcNow.AddHours(-2);
        var failedToA = await EndpointSetup.SeedMessageAsync(tenantId, [a], "failed", past, attempts: 8);
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            // The same event also went to b (succeeded) and c (still pending, due in an hour).
            await scope.ExecuteAsync(
                """
                INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at, endpoint_id, event_id)
                VALUES (gen_random_uuid(), @t, 'webhook', '{}', 'sent', 1, @past, @past, @b, @e),
                       (gen_random_uuid(), @t, 'webhook', '{}', 'pending', 2, now() + interval '1 hour', @past, @c, @e)
                """, ("t", tenantId), ("past", past), ("b", b), ("c", c), ("e", failedToA));
            await scope.CommitAsync();
        }
        var url = $"{EndpointSetup.Messages(tenantId)}/{EndpointSetup.MessageId(failedToA)}/retry";

        using (var one = await client.PostAsync($"{url}?endpoint_id={a}", null))
        {
            await TestApi.ExpectAsync(one, HttpStatusCode.OK);
            Assert.That((int?)(await TestApi.ReadAsync(one))["queued"], Is.EqualTo(1));
        }
        var rows = await StatesAsync(tenantId, failedToA);
        Assert.Multiple(() =>
        {
            Assert.That(rows[a], Is.EqualTo(("pending", 8, true)));
            Assert.That(rows[b], Is.EqualTo(("sent", 1, false)));
            Assert.That(rows[c], Is.EqualTo(("pending", 2, false)));
        });

        using (var all = await client.PostAsync(url, null))
        {
            // a is pending again now, c was pending: only b is finished.
            Assert.That((int?)(await TestApi.ReadAsync(all))["queued"], Is.EqualTo(1));
        }
        rows = await StatesAsync(tenantId, failedToA);
        Assert.Multiple(() =>
        {
            Assert.That(rows[b], Is.EqualTo(("pending", 1, true)));
            Assert.That(rows[c], Is.EqualTo(("pending", 2, false)), "A pending delivery (maybe leased) is not touched.");
        });

        using var notThere = await client.PostAsync($"{url}?endpoint_id={Guid.NewGuid()}", null);
        await TestApi.ExpectProblemAsync(notThere, HttpStatusCode.NotFound, "not_found");
        using var badId = await client.PostAsync($"{url}?endpoint_id=nope", null);
        await TestApi.ExpectProblemAsync(badId, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM audit_log WHERE action = 'webhook.message_retried'"), Is.EqualTo(2));
    }

    [Test]
    public async Task Recover_requeues_the_endpoints_failed_deliveries_created_since_the_time_only()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var other = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var now = DateTimeOffset.UtcNow;
        var old = await EndpointSetup.SeedMessageAsync(tenantId, [id], "failed", now.AddDays(-2), attempts: 8);
        var recent1 = await EndpointSetup.SeedMessageAsync(tenantId, [id, other], "failed", now.AddHours(-2), attempts: 8);
        var recent2 = await EndpointSetup.SeedMessageAsync(tenantId, [id], "failed", now.AddMinutes(-30), attempts: 3);
        var sent = await EndpointSetup.SeedMessageAsync(tenantId, [id], "sent", now.AddMinutes(-20));

        var since = Uri.EscapeDataString(now.AddHours(-3).ToString("yyyy-MM-ddTHH:mm:ssZ"));
        using var response = await client.PostAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/recover?since={since}", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.That((int?)(await TestApi.ReadAsync(response))["queued"], Is.EqualTo(2));

        Assert.Multiple(async () =>
        {
            Assert.That((await StatesAsync(tenantId, old))[id], Is.EqualTo(("failed", 8, false)));
            Assert.That((await StatesAsync(tenantId, recent1))[id], Is.EqualTo(("pending", 8, true)));
            Assert.That((await StatesAsync(tenantId, recent1))[other], Is.EqualTo(("failed", 8, false)), "Another endpoint's delivery stays failed.");
            Assert.That((await StatesAsync(tenantId, recent2))[id], Is.EqualTo(("pending", 3, true)));
            Assert.That((await StatesAsync(tenantId, sent))[id], Is.EqualTo(("sent", 1, false)));
        });
    }

    [TestCase("")]
    [TestCase("?since=")]
    [TestCase("?since=yesterday")]
    [TestCase("?since=2026-13-45T99:00:00Z")]
    [TestCase("?since=%FUTURE%")]
    [TestCase("?since=%ANCIENT%")]
    public async Task Recover_refuses_a_missing_malformed_future_or_too_old_since_and_changes_nothing(string query)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var failed = await EndpointSetup.SeedMessageAsync(tenantId, [id], "failed", DateTimeOffset.UtcNow.AddMinutes(-10));
        query = query.Replace("%FUTURE%", Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O")))
            .Replace("%ANCIENT%", Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-31).ToString("O")));
        using var response = await client.PostAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/recover{query}", null);
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["since"], Is.Not.Null);
        Assert.That((await StatesAsync(tenantId, failed))[id].Status, Is.EqualTo("failed"));
    }

    [Test]
    public async Task The_event_catalogue_lists_every_type_with_a_schema_of_its_data_and_an_example_for_users_and_keys()
    {
        var (owner, tenantId, client) = await EndpointSetup.TenantAsync();
        using var response = await client.GetAsync("/v1/webhooks/event-types");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var types = (await TestApi.ReadAsync(response))["data"]!.AsArray();
        Assert.That(types.Select(t => (string?)t!["name"]), Is.EquivalentTo(WebhookEventTypes.All.Select(t => t.Name)));
        foreach (var type in types)
        {
            var name = (string)type!["name"]!;
            var catalogued = WebhookEventTypes.Find(name)!;
            var schema = type["schema"]!.AsObject();
            var properties = schema["properties"]!.AsObject();
            var example = type["example"]!;
            Assert.Multiple(() =>
            {
                Assert.That((string?)type["description"], Is.EqualTo(catalogued.Description));
                Assert.That((bool?)type["subscribable"], Is.EqualTo(name != "webhook.test"));
                Assert.That(properties.Select(p => p.Key), Is.EquivalentTo(example["data"]!.AsObject().Select(p => p.Key)), name);
                Assert.That(properties.Select(p => p.Key), Has.All.Match("^[a-z0-9_]+$"), name);
                Assert.That((string?)example["type"], Is.EqualTo(name));
                Assert.That((string?)example["timestamp"], Is.Not.Null);
            });
        }
        var run = types.Single(t => (string?)t!["name"] == "run.completed")!;
        Assert.That(run["schema"]!["properties"]!["status"]!.ToJsonString(), Does.Contain("succeeded"), "Enums are described by their wire names.");

        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using var byKey = await TestApi.Client(key.Secret).GetAsync("/v1/webhooks/event-types");
        await TestApi.ExpectAsync(byKey, HttpStatusCode.OK);
        using var anonymous = await TestApi.Client().GetAsync("/v1/webhooks/event-types");
        await TestApi.ExpectProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
    }

    private static async Task<List<JsonNode>> PagesAsync(HttpClient client, string url)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        for (var page = 0; page < 20; page++)
        {
            var separator = url.Contains('?') ? '&' : '?';
            using var response = await client.GetAsync(cursor is null ? url : $"{url}{separator}cursor={Uri.EscapeDataString(cursor)}");
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(response);
            items.AddRange(body["data"]!.AsArray().Select(n => n!));
            cursor = (string?)body["next_cursor"];
            if (cursor is null)
            {
                return items;
            }
        }
        throw new AssertionException("The pages did not end.");
    }

    /// <summary>Reads each delivery of an event: its status, attempts and whether it is due now (next_attempt_at within the last minute).</summary>
    private static async Task<Dictionary<Guid, (string Status, int Attempts, bool DueNow)>> StatesAsync(Guid tenantId, Guid eventId)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await using var command = scope.Command(
            "SELECT endpoint_id, status, attempts, next_attempt_at BETWEEN now() - interval '1 minute' AND now() + interval '1 second' FROM outbox_messages WHERE event_id = @e",
            ("e", eventId));
        await using var reader = await command.ExecuteReaderAsync();
        var states = new Dictionary<Guid, (string, int, bool)>();
        while (await reader.ReadAsync())
        {
            states[reader.GetGuid(0)] = (reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3));
        }
        return states;
    }
}
