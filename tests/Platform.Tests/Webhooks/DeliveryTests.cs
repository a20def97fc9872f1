using System.Text.Json.Nodes;
using Platform.Models.Webhooks;

namespace Platform.Tests.Webhooks;

/// <summary>Delivers through the real dispatcher to the node receiver, which verifies every request with the standardwebhooks library: signatures (also
/// during a rotation), retries with one webhook-id, redirects and timeouts as failed attempts, the requeue rule, and the delivery log.</summary>
public sealed class DeliveryTests : DatabaseTest
{
    private ReceiverProcess receiver = null!;

    [OneTimeSetUp]
    public async Task StartReceiverAsync() => receiver = await ReceiverProcess.StartAsync();

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    private static async Task<Guid> TenantAsync() => await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());

    private static string Path() => "p" + Guid.NewGuid().ToString("N")[..12];

    [Test]
    public async Task Every_delivery_is_signed_so_that_the_standard_webhooks_library_verifies_it_and_carries_the_stored_body_and_headers()
    {
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret, DeliveryTestBed.NewSecret()]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret, headers: """{"X-Custom": "tenant-value", "webhook-id": "forged"}""");
        var ids = await bed.EmitAsync(tenantId, 3);

        var result = await bed.DrainAsync();

        var received = await receiver.ReceivedAsync(path);
        var payloads = await OwnerSql.ScalarAsync<string>("SELECT string_agg(payload::text, '|' ORDER BY id) FROM webhook_events", tenantId);
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.EqualTo(3));
            Assert.That(received.Select(r => r.Id), Is.EquivalentTo(ids));
            Assert.That(received.Select(r => r.Verified), Has.All.EqualTo(new[] { true, false }), "verified with the right secret only");
            Assert.That(received.Select(r => r.UserAgent), Has.All.EqualTo("Platform-Webhooks/1"));
            Assert.That(received.Select(r => r.ContentType), Has.All.EqualTo("application/json"));
            Assert.That(received.Select(r => r.Custom), Has.All.EqualTo("tenant-value"));
            Assert.That(received.Select(r => r.Signature), Has.All.Match("^v1,[A-Za-z0-9+/]+=*$"));
            Assert.That(long.Parse(received[0].Timestamp!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(30));
            Assert.That(payloads!.Split('|'), Is.EquivalentTo(received.Select(r => r.Body)), "the body is the stored payload, byte for byte");
            Assert.That((string?)JsonNode.Parse(received[0].Body!)!["type"], Is.EqualTo("run.completed"));
        });
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId), Is.EqualTo(3));
            Assert.That(await OwnerSql.CountAsync(
                "SELECT count(*) FROM webhook_attempts WHERE succeeded AND status_code = 204 AND attempt = 1 AND latency_ms >= 0 AND error IS NULL", tenantId), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task During_a_rotation_grace_both_signatures_verify_with_the_library_and_after_it_only_the_new_one_is_sent()
    {
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TenantAsync();
        string graced = Path(), expired = Path();
        string newSecret = DeliveryTestBed.NewSecret(), oldSecret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(graced, [newSecret, oldSecret]);
        await receiver.ConfigureAsync(expired, [newSecret, oldSecret]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(graced), newSecret, previousSecret: oldSecret, previousExpiresAt: DateTimeOffset.UtcNow.AddHours(1));
        await bed.CreateEndpointAsync(tenantId, receiver.Url(expired), newSecret, previousSecret: oldSecret, previousExpiresAt: DateTimeOffset.UtcNow.AddSeconds(-1));
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();

        var during = (await receiver.ReceivedAsync(graced)).Single();
        var after = (await receiver.ReceivedAsync(expired)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(during.Signature!.Split(' '), Has.Length.EqualTo(2));
            Assert.That(during.Verified, Is.EqualTo(new[] { true, true }), "a receiver holding either secret verifies");
            Assert.That(after.Signature!.Split(' '), Has.Length.EqualTo(1));
            Assert.That(after.Verified, Is.EqualTo(new[] { true, false }));
        });
    }

    [Test]
    public async Task A_failing_receiver_gets_the_same_webhook_id_again_until_it_accepts_and_every_attempt_is_logged()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,0,0,0" });
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret], fail: 2, failStatus: 503);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        var id = (await bed.EmitAsync(tenantId)).Single();

        await bed.DrainAsync();

        var received = await receiver.ReceivedAsync(path);
        Assert.Multiple(async () =>
        {
            Assert.That(received.Select(r => r.Outcome), Is.EqualTo(new[] { "fail", "fail", "ok" }));
            Assert.That(received.Select(r => r.Id), Has.All.EqualTo(id));
            Assert.That(received.Select(r => r.Verified[0]), Has.All.True);
            Assert.That(await OwnerSql.ScalarAsync<string>(
                "SELECT string_agg(attempt || ':' || succeeded || ':' || coalesce(status_code::text, '-') || ':' || coalesce(response_excerpt, ''), ',' ORDER BY attempt) FROM webhook_attempts",
                tenantId), Is.EqualTo("1:false:503:receiver told to fail,2:false:503:receiver told to fail,3:true:204:"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages WHERE kind = 'webhook'", tenantId), Is.EqualTo("sent:3"));
        });
    }

    [Test]
    public async Task After_the_last_attempt_the_delivery_fails_and_a_manual_requeue_gets_exactly_one_more_attempt()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,0,0" });
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret], fail: 100);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();
        var afterSchedule = await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages WHERE kind = 'webhook'", tenantId);
        // The manual retry as the management routes do it: the service role, in the tenant's scope, may only set these columns.
        await Requeue(tenantId);
        var requeueResult = await bed.DrainAsync();
        var afterFailedRetry = await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages WHERE kind = 'webhook'", tenantId);
        await receiver.ConfigureAsync(path, fail: 0);
        await Requeue(tenantId);
        await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(afterSchedule, Is.EqualTo("failed:3"));
            Assert.That(requeueResult.Claimed, Is.EqualTo(1), "one attempt, not a new schedule");
            Assert.That(afterFailedRetry, Is.EqualTo("failed:4"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages WHERE kind = 'webhook'", tenantId), Is.EqualTo("sent:5"));
            Assert.That(await receiver.ReceivedAsync(path), Has.Count.EqualTo(5));
        });
    }

    private static async Task Requeue(Guid tenantId)
    {
        await using var scope = await TenantScope.AppAsync(tenantId);
        await scope.ExecuteAsync("UPDATE outbox_messages SET status = 'pending', next_attempt_at = now() WHERE kind = 'webhook'");
        await scope.CommitAsync();
    }

    [Test]
    public async Task A_redirect_is_a_failed_attempt_and_is_not_followed()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,0" });
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret], redirect: 1);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That((await receiver.ReceivedAsync(path)).Select(r => r.Outcome), Is.EqualTo(new[] { "redirect", "ok" }));
            Assert.That(await receiver.ReceivedAsync(path + "-redirected"), Is.Empty, "the Location was never requested");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status_code || ' ' || error FROM webhook_attempts WHERE attempt = 1", tenantId),
                Is.EqualTo("302 HTTP 302: redirects are not followed"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_receiver_that_does_not_answer_within_the_timeout_is_a_failed_attempt()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,0", ["Webhooks:TimeoutSeconds"] = "1" });
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret], hang: 1);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That((await receiver.ReceivedAsync(path)).Select(r => r.Outcome), Is.EqualTo(new[] { "hang", "ok" }));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT error FROM webhook_attempts WHERE attempt = 1", tenantId), Does.StartWith("timeout"));
            Assert.That(await OwnerSql.ScalarAsync<int>("SELECT latency_ms FROM webhook_attempts WHERE attempt = 1", tenantId), Is.InRange(900, 5_000));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM outbox_messages WHERE kind = 'webhook'", tenantId), Is.EqualTo("sent"));
        });
    }

    [Test]
    public async Task A_connection_refused_is_a_failed_attempt_due_again_on_the_schedule_with_jitter()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,100" });
        var tenantId = await TenantAsync();
        // A port nothing listens on (bound, then released).
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await bed.CreateEndpointAsync(tenantId, $"http://127.0.0.1:{port}/hook", DeliveryTestBed.NewSecret());
        await bed.EmitAsync(tenantId);

        var result = await bed.DrainAsync();

        var delay = await OwnerSql.ScalarAsync<double>(
            "SELECT extract(epoch FROM o.next_attempt_at - a.attempted_at)::float8 FROM outbox_messages o JOIN webhook_attempts a ON a.delivery_id = o.id", tenantId);
        Assert.Multiple(async () =>
        {
            Assert.That(result.Retried, Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT error FROM webhook_attempts", tenantId), Does.StartWith("connection failed"));
            Assert.That(delay, Is.InRange(99.0, 111.0), "100 s plus at most 10 % jitter");
        });
    }

    [Test]
    public void The_retry_schedule_adds_at_most_ten_percent_jitter_and_ends_after_its_last_delay()
    {
        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<TimeSpan> delays = [TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(300)];
        Assert.Multiple(() =>
        {
            Assert.That(Engines.Webhooks.DispatchWebhooksHandler.NextAttemptAt(delays, 1, now, 0), Is.EqualTo(now.AddSeconds(5)));
            Assert.That(Engines.Webhooks.DispatchWebhooksHandler.NextAttemptAt(delays, 1, now, 0.999), Is.EqualTo(now.AddSeconds(5.4995)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(Engines.Webhooks.DispatchWebhooksHandler.NextAttemptAt(delays, 2, now, 1), Is.EqualTo(now.AddSeconds(330)));
            Assert.That(Engines.Webhooks.DispatchWebhooksHandler.NextAttemptAt(delays, 3, now, 0.5), Is.Null);
        });
    }

    [Test]
    public async Task An_endpoint_failing_for_longer_than_the_setting_is_disabled_with_an_email_to_each_admin_and_an_audit_entry()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0,0", ["Webhooks:DisableAfterDays"] = "5" });
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        await TestApi.MemberAsync(tenantId, "member");
        string failing = Path(), young = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(failing, [secret], fail: 100);
        await receiver.ConfigureAsync(young, [secret], fail: 100);
        var old = await bed.CreateEndpointAsync(tenantId, receiver.Url(failing), secret, failingSince: DateTimeOffset.UtcNow.AddDays(-6));
        var recent = await bed.CreateEndpointAsync(tenantId, receiver.Url(young), secret, failingSince: DateTimeOffset.UtcNow.AddDays(-4));
        await bed.EmitAsync(tenantId, 2);

        // Both first attempts fail in one round, which disables the old endpoint; their retries, due at once, then fail without an attempt.
        var result = await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(result.Disabled, Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<string>($"SELECT enabled || ':' || (disabled_reason LIKE 'Disabled automatically%') FROM webhook_endpoints WHERE id = '{old}'", tenantId),
                Is.EqualTo("false:true"));
            Assert.That(await OwnerSql.ScalarAsync<bool>($"SELECT enabled FROM webhook_endpoints WHERE id = '{recent}'", tenantId), Is.True);
            Assert.That(await OwnerSql.ScalarAsync<string>(
                "SELECT string_agg(payload ->> 'to', ',' ORDER BY payload ->> 'to') FROM outbox_messages WHERE kind = 'email.webhook_endpoint_disabled'", tenantId),
                Is.EqualTo(string.Join(',', new[] { owner.Email, admin.Email }.Order(StringComparer.Ordinal))));
            Assert.That(await OwnerSql.CountAsync(
                $"SELECT count(*) FROM audit_log WHERE action = 'webhook.endpoint_disabled' AND resource_id = '{old}' AND actor_type = 'system'", tenantId), Is.EqualTo(1));
            Assert.That((await receiver.ReceivedAsync(failing)).Count, Is.EqualTo(2), "nothing more was sent to the disabled endpoint");
            Assert.That((await receiver.ReceivedAsync(young)).Count, Is.EqualTo(4), "the other endpoint went through its schedule");
            Assert.That(await OwnerSql.CountAsync(
                $"SELECT count(*) FROM outbox_messages WHERE endpoint_id = '{old}' AND status = 'failed' AND attempts = 1 AND last_error LIKE 'The endpoint is disabled%'",
                tenantId), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task A_success_clears_failing_since_and_a_failure_sets_it()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:RetrySchedule"] = "0" });
        var tenantId = await TenantAsync();
        string healthy = Path(), broken = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(healthy, [secret]);
        await receiver.ConfigureAsync(broken, [secret], fail: 100);
        var a = await bed.CreateEndpointAsync(tenantId, receiver.Url(healthy), secret, failingSince: DateTimeOffset.UtcNow.AddDays(-1));
        var b = await bed.CreateEndpointAsync(tenantId, receiver.Url(broken), secret);
        await bed.EmitAsync(tenantId);

        await bed.DrainAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.ScalarAsync<bool>($"SELECT failing_since IS NULL FROM webhook_endpoints WHERE id = '{a}'", tenantId), Is.True);
            Assert.That(await OwnerSql.ScalarAsync<bool>($"SELECT failing_since > now() - interval '1 minute' FROM webhook_endpoints WHERE id = '{b}'", tenantId), Is.True);
        });
    }

    [Test]
    public async Task The_retention_job_purges_attempts_finished_deliveries_and_events_older_than_the_setting_but_keeps_pending_ones()
    {
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:LogRetentionDays"] = "30" });
        var tenantId = await TenantAsync();
        var path = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(path, [secret]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        await bed.EmitAsync(tenantId, 3);
        await bed.DrainAsync();
        await bed.EmitAsync(tenantId, 1);
        // Everything is 40 days old; the last event's delivery is still pending.
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE webhook_events SET created_at = created_at - interval '40 days'");
            await scope.ExecuteAsync("UPDATE outbox_messages SET created_at = created_at - interval '40 days' WHERE kind = 'webhook'");
            await scope.ExecuteAsync("UPDATE webhook_attempts SET attempted_at = attempted_at - interval '40 days'");
            await scope.CommitAsync();
        }

        var purged = await bed.Mediator.Send(new Engines.Webhooks.PurgeWebhookLog());

        Assert.Multiple(async () =>
        {
            Assert.That(purged, Is.EqualTo(new WebhookPurgeResult(3, 3, 3)));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM webhook_events", tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'pending'", tenantId), Is.EqualTo(1));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task An_endpoint_rate_limit_spreads_its_deliveries_over_one_second_windows()
    {
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TenantAsync();
        string limited = Path(), free = Path();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync(limited, [secret]);
        await receiver.ConfigureAsync(free, [secret]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(limited), secret, rateLimit: 5);
        await bed.CreateEndpointAsync(tenantId, receiver.Url(free), secret);
        await bed.EmitAsync(tenantId, 15);

        var until = DateTime.UtcNow.AddSeconds(30);
        while (await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId) < 30 && DateTime.UtcNow < until)
        {
            await bed.Mediator.Send(new Engines.Webhooks.DispatchWebhooks(50));
            await Task.Delay(50);
        }

        var times = (await receiver.ReceivedAsync(limited)).Select(r => r.At).Order().ToList();
        var freeTimes = (await receiver.ReceivedAsync(free)).Select(r => r.At).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(times, Has.Count.EqualTo(15));
            Assert.That(times[^1] - times[0], Is.GreaterThanOrEqualTo(1_800), "15 at 5/s take at least two more windows");
            Assert.That(times.Select(t => times.Count(u => u >= t && u < t + 1_000)).Max(), Is.LessThanOrEqualTo(10),
                "at most two windows' worth in any second (the precision of a fixed window)");
            Assert.That(freeTimes.Max() - freeTimes.Min(), Is.LessThan(1_000), "the unlimited endpoint is not held back");
        });
    }
}
