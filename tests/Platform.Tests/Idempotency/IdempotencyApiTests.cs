using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Credits;
using Platform.Engines.Idempotency;
using Platform.Models;
using Platform.Models.Credits;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Idempotency;

/// <summary>Proves Idempotency-Key on the routes that create or charge, over HTTP against the real database: replays, refusals, concurrency, isolation and expiry.</summary>
public sealed class IdempotencyApiTests : DatabaseTest
{
    private static readonly string Pack = CreditPackCatalog.All[0].Id;

    [Test]
    public async Task A_run_whose_response_was_lost_is_replayed_on_resend_with_one_run_and_the_same_body()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/runs";
        var body = new { worker_id = "summarizer", task = "summarise", input = new { text = "hello" } };

        string firstBody;
        string? firstLocation;
        using (var lost = await PostAsync(client, url, body, "run-1"))
        {
            // The client never reads this response: it "was lost".
            firstBody = await lost.Content.ReadAsStringAsync();
            firstLocation = lost.Headers.Location?.ToString();
            Assert.That(lost.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(lost.Headers.Contains("Idempotent-Replayed"), Is.False);
        }
        using var replay = await PostAsync(client, url, body, "run-1");

        await TestApi.ExpectAsync(replay, HttpStatusCode.Created);
        Assert.Multiple(async () =>
        {
            Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(firstBody));
            Assert.That(replay.Headers.Location?.ToString(), Is.EqualTo(firstLocation).And.Not.Null);
            Assert.That(replay.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That(replay.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM idempotency_keys WHERE effect_committed_at IS NOT NULL AND state = 'completed'"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_run_whose_effect_committed_but_whose_outcome_was_lost_is_never_run_again()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "t" };
        using (var first = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "half"))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        // As if the instance died after the run's commit (which marked the key) and before its outcome was stored.
        await OwnerSql.ScalarAsync<object>(
            """
            UPDATE idempotency_keys SET state = 'in_flight', status_code = NULL, response_headers = NULL, response_body_encrypted = NULL,
                completed_at = NULL, lease_until = now() - interval '1 second'
            """, tenantId);

        using var retry = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "half");

        await TestApi.ExpectProblemAsync(retry, HttpStatusCode.Conflict, "idempotency_key_outcome_unknown");
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_credit_purchase_whose_response_was_lost_is_replayed_and_credits_the_pack_once()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/credits/purchase";

        using var first = await PostAsync(client, url, new { pack = Pack }, "buy-1");
        var firstBody = await first.Content.ReadAsStringAsync();
        var balance = await BalanceAsync(tenantId);
        using var replay = await PostAsync(client, url, new { pack = Pack }, "buy-1");

        await TestApi.ExpectAsync(replay, HttpStatusCode.Created);
        Assert.Multiple(async () =>
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(firstBody));
            Assert.That(replay.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That(await PurchaseCountAsync(tenantId), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM credit_purchases WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await BalanceAsync(tenantId), Is.EqualTo(balance));
        });
    }

    [Test]
    public async Task Fifty_parallel_run_requests_with_one_key_create_exactly_one_run_and_the_others_get_409_or_the_replay()
    {
        var (owner, tenantId) = await TenantAsync();
        await TestTenant.Existing(tenantId).WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).ApplyAsync();
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "once" };

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "burst");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(), RetryAfter: response.Headers.RetryAfter?.Delta);
        }));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        var inFlight = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        TestContext.Progress.WriteLine($"50 parallel: {created.Count} x 201 (first + replays), {inFlight.Count} x 409 in flight");
        Assert.Multiple(async () =>
        {
            Assert.That(created.Count + inFlight.Count, Is.EqualTo(50));
            Assert.That(created, Is.Not.Empty);
            Assert.That(created.Select(r => (string?)JsonNode.Parse(r.Body)!["id"]).Distinct().Count(), Is.EqualTo(1));
            Assert.That(inFlight.Select(r => (string?)JsonNode.Parse(r.Body)!["code"]).Distinct(), Is.EqualTo(inFlight.Count == 0 ? Array.Empty<string>() : new[] { "idempotency_key_in_flight" }));
            Assert.That(inFlight.All(r => r.RetryAfter >= TimeSpan.FromSeconds(1)), Is.True);
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Fifty_parallel_purchases_with_one_key_credit_exactly_one_pack()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await PostAsync(client, $"/v1/tenants/{tenantId}/credits/purchase", new { pack = Pack }, "burst-buy");
            return response.StatusCode;
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.Conflict));
            Assert.That(statuses, Has.Some.EqualTo(HttpStatusCode.Created));
            Assert.That(await PurchaseCountAsync(tenantId), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM credit_purchases WHERE tenant_id = @t"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task The_same_key_with_another_body_or_on_another_route_gets_422_and_changes_nothing()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        using (var first = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "a" }, "k"))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        var balance = await BalanceAsync(tenantId);

        using var otherBody = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "b" }, "k");
        using var otherRoute = await PostAsync(client, $"/v1/tenants/{tenantId}/credits/purchase", new { pack = Pack }, "k");
        // Member order and whitespace do not make another body.
        using var sameBodyReordered = await PostRawAsync(client, $"/v1/tenants/{tenantId}/runs", """{ "task": "a",   "worker_id": "summarizer" }""", "k");

        await TestApi.ExpectProblemAsync(otherBody, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await TestApi.ExpectProblemAsync(otherRoute, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await TestApi.ExpectAsync(sameBodyReordered, HttpStatusCode.Created);
        Assert.Multiple(async () =>
        {
            Assert.That(sameBodyReordered.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await PurchaseCountAsync(tenantId), Is.Zero);
            Assert.That(await BalanceAsync(tenantId), Is.EqualTo(balance));
        });
    }

    [Test]
    public async Task The_same_key_from_another_caller_is_another_key()
    {
        var (owner, tenantId) = await TenantAsync();
        var member = await TestApi.MemberAsync(tenantId, "member");
        var key = await ApiKeys.Keys.CreateAsync(owner.Token, tenantId, ["runs:write"]);
        var body = new { worker_id = "summarizer", task = "same" };
        var url = $"/v1/tenants/{tenantId}/runs";

        using var byOwner = await PostAsync(TestApi.Client(owner.Token), url, body, "shared");
        using var byMember = await PostAsync(TestApi.Client(member.Token), url, body, "shared");
        using var byKey = await PostAsync(TestApi.Client(key.Secret), url, body, "shared");

        var ids = new List<string?>();
        foreach (var response in new[] { byOwner, byMember, byKey })
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.Created);
            Assert.That(response.Headers.Contains("Idempotent-Replayed"), Is.False);
            ids.Add((string?)(await TestApi.ReadAsync(response))["id"]);
        }
        Assert.That(ids.Distinct().Count(), Is.EqualTo(3));
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(3));
    }

    [TestCase("cl\u00e9")]
    [TestCase("tab\there")]
    [TestCase(null)]
    public async Task An_invalid_key_gets_422_naming_the_header_and_creates_nothing(string? key)
    {
        var (owner, tenantId) = await TenantAsync();
        key ??= new string('k', 256);

        using var response = await PostAsync(TestApi.Client(owner.Token), $"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }, key);

        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "Idempotency-Key" }));
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.Zero);
    }

    [Test]
    public async Task A_key_of_255_printable_characters_is_accepted()
    {
        var (owner, tenantId) = await TenantAsync();
        var key = string.Concat(Enumerable.Repeat("Az09 ~!", 37))[..255];

        using var response = await PostAsync(TestApi.Client(owner.Token), $"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }, key);

        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
    }

    [Test]
    public async Task A_402_credit_refusal_is_replayed_even_after_credits_arrive_while_a_new_key_runs()
    {
        var (owner, tenantId) = await TenantAsync();
        var opening = await SendAsync(new GetCredits(Caller.System, tenantId));
        await SendAsync(new DebitCredits(Caller.System, tenantId, opening.Balance, "test-drain"));
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/runs";
        var body = new { worker_id = "researcher", task = "costs a credit" };

        using var refused = await PostAsync(client, url, body, "short");
        var refusal = await refused.Content.ReadAsStringAsync();
        await SendAsync(new GrantCredits(Caller.System, tenantId, 10, CreditTransactionType.Adjustment, "test-topup"));
        using var replay = await PostAsync(client, url, body, "short");
        using var fresh = await PostAsync(client, url, body, "short-2");

        await TestApi.ExpectProblemAsync(replay, HttpStatusCode.PaymentRequired, "insufficient_credits");
        await TestApi.ExpectAsync(fresh, HttpStatusCode.Created);
        Assert.Multiple(async () =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.PaymentRequired));
            Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(refusal));
            Assert.That(replay.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM idempotency_keys WHERE key = 'short' AND effect_committed_at IS NULL"), Is.EqualTo(1),
                "a refusal rolls back, so it marks no effect");
        });
    }

    [Test]
    public async Task A_429_quota_refusal_releases_the_key_so_the_same_request_runs_once_the_limit_allows()
    {
        var (owner, tenantId) = await TenantAsync();
        await TestTenant.Existing(tenantId).WithLimits(runsPerDay: 0).ApplyAsync();
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "later" };

        using var refused = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "retry-me");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
        await TestTenant.Existing(tenantId).WithLimits(runsPerDay: -1).ApplyAsync();
        using var retried = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "retry-me");

        await TestApi.ExpectAsync(retried, HttpStatusCode.Created);
        Assert.That(retried.Headers.Contains("Idempotent-Replayed"), Is.False);
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_validation_failure_is_not_kept_so_the_corrected_body_may_reuse_the_key()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);

        using var invalid = await PostAsync(client, $"/v1/tenants/{tenantId}/credits/purchase", new { pack = "no-such-pack" }, "fix-me");
        await TestApi.ExpectProblemAsync(invalid, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var corrected = await PostAsync(client, $"/v1/tenants/{tenantId}/credits/purchase", new { pack = Pack }, "fix-me");

        await TestApi.ExpectAsync(corrected, HttpStatusCode.Created);
        Assert.That(await PurchaseCountAsync(tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task Another_tenants_keys_are_invisible_and_the_same_key_there_is_independent()
    {
        var (owner, tenantA) = await TenantAsync();
        var tenantB = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "t" };

        using var inA = await PostAsync(client, $"/v1/tenants/{tenantA}/runs", body, "both");
        using var inB = await PostAsync(client, $"/v1/tenants/{tenantB}/runs", body, "both");
        await TestApi.ExpectAsync(inA, HttpStatusCode.Created);
        await TestApi.ExpectAsync(inB, HttpStatusCode.Created);
        Assert.That(inB.Headers.Contains("Idempotent-Replayed"), Is.False);

        await using var scope = await TenantScope.AppAsync(tenantA);
        await using var count = scope.Command(
            "SELECT count(*) FILTER (WHERE tenant_id = @a), count(*) FILTER (WHERE tenant_id <> @a), (SELECT count(*) FROM user_idempotency_keys) FROM idempotency_keys",
            ("a", tenantA));
        await using var reader = await count.ExecuteReaderAsync();
        Assert.That(await reader.ReadAsync(), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(reader.GetInt64(0), Is.EqualTo(1), "the session's own tenant");
            Assert.That(reader.GetInt64(1), Is.Zero, "another tenant's keys under row-level security");
            Assert.That(reader.GetInt64(2), Is.Zero, "users' keys with no app.user_id");
        });
    }

    [Test]
    public async Task A_non_member_cannot_claim_keys_in_another_tenant()
    {
        var (_, tenantId) = await TenantAsync();
        var stranger = await TestApi.SignUpAsync();

        using var response = await PostAsync(TestApi.Client(stranger.Token), $"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }, "intrude");

        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM idempotency_keys", tenantId), Is.Zero);
    }

    [Test]
    public async Task An_in_flight_key_left_by_a_crashed_instance_gets_409_until_its_lease_ends_and_is_then_taken_over()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "t" };
        using (var first = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "crash"))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        // As if the instance died after claiming and before its effect committed: in flight with a live lease, no effect.
        await OwnerSql.ScalarAsync<object>(
            """
            UPDATE idempotency_keys SET state = 'in_flight', status_code = NULL, response_headers = NULL, response_body_encrypted = NULL,
                completed_at = NULL, effect_committed_at = NULL, lease_until = now() + interval '1 hour'
            """, tenantId);

        using var blocked = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "crash");
        await TestApi.ExpectProblemAsync(blocked, HttpStatusCode.Conflict, "idempotency_key_in_flight");
        Assert.That(blocked.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));

        await OwnerSql.ScalarAsync<object>("UPDATE idempotency_keys SET lease_until = now() - interval '1 second'", tenantId);
        using var takenOver = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "crash");
        using var replay = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "crash");

        await TestApi.ExpectAsync(takenOver, HttpStatusCode.Created);
        await TestApi.ExpectAsync(replay, HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(takenOver.Headers.Contains("Idempotent-Replayed"), Is.False);
            Assert.That(replay.Headers.Contains("Idempotent-Replayed"), Is.True);
        });
    }

    [Test]
    public async Task Expired_keys_are_purged_by_the_retention_command_and_the_key_then_runs_again()
    {
        var (owner, tenantId) = await TenantAsync();
        // The second tenant is the owner's second professional trial: it needs a grant (ADR 0520).
        await TestApi.GrantTrialAsync(owner.Id, "professional");
        var client = TestApi.Client(owner.Token);
        var body = new { worker_id = "summarizer", task = "t" };
        using (var old = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "old"))
        using (var young = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "young"))
        using (var tenant = await PostAsync(client, "/v1/tenants", new { name = "Other", slug = "idem-" + Guid.NewGuid().ToString("N")[..8] }, "old"))
        {
            await TestApi.ExpectAsync(old, HttpStatusCode.Created);
            await TestApi.ExpectAsync(young, HttpStatusCode.Created);
            await TestApi.ExpectAsync(tenant, HttpStatusCode.Created);
        }
        var expiresIn = await OwnerSql.ScalarAsync<TimeSpan>("SELECT min(expires_at - created_at) FROM idempotency_keys", tenantId);
        await OwnerSql.ScalarAsync<object>("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old'", tenantId);
        await OwnerSql.ScalarAsync<object>("UPDATE user_idempotency_keys SET expires_at = now() - interval '1 second'", null, owner.Id);

        var purged = await SendAsync(new PurgeExpiredIdempotencyKeys());

        Assert.Multiple(async () =>
        {
            Assert.That(expiresIn, Is.EqualTo(TimeSpan.FromHours(24)));
            Assert.That(purged, Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM idempotency_keys", tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM user_idempotency_keys", null, owner.Id), Is.Zero);
        });
        using var again = await PostAsync(client, $"/v1/tenants/{tenantId}/runs", body, "old");
        await TestApi.ExpectAsync(again, HttpStatusCode.Created);
        Assert.That(again.Headers.Contains("Idempotent-Replayed"), Is.False);
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(3));
    }

    [Test]
    public async Task Creating_a_tenant_twice_with_one_key_creates_one_tenant_and_the_key_belongs_to_the_user()
    {
        var user = await TestApi.SignUpAsync();
        var other = await TestApi.SignUpAsync();
        var slug = "idem-" + Guid.NewGuid().ToString("N")[..8];

        using var first = await PostAsync(TestApi.Client(user.Token), "/v1/tenants", new { name = "Once", slug }, "new-tenant");
        using var replay = await PostAsync(TestApi.Client(user.Token), "/v1/tenants", new { name = "Once", slug }, "new-tenant");
        using var otherUser = await PostAsync(TestApi.Client(other.Token), "/v1/tenants", new { name = "Once", slug }, "new-tenant");

        await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        await TestApi.ExpectAsync(replay, HttpStatusCode.Created);
        await TestApi.ExpectProblemAsync(otherUser, HttpStatusCode.Conflict, "slug_taken");
        Assert.Multiple(async () =>
        {
            Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(await first.Content.ReadAsStringAsync()));
            Assert.That(replay.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That(otherUser.Headers.Contains("Idempotent-Replayed"), Is.False);
        });
    }

    [Test]
    public async Task A_replayed_api_key_shows_the_same_secret_and_the_stored_copy_is_encrypted()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var body = new { name = "ci", permissions = new[] { "runs:read" } };

        using var first = await PostAsync(client, $"/v1/tenants/{tenantId}/api-keys", body, "key-once");
        using var replay = await PostAsync(client, $"/v1/tenants/{tenantId}/api-keys", body, "key-once");

        await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        var secret = (string)(await TestApi.ReadAsync(first))["key"]!;
        var stored = await OwnerSql.ScalarAsync<byte[]>("SELECT response_body_encrypted FROM idempotency_keys", tenantId);
        Assert.Multiple(async () =>
        {
            Assert.That((string?)(await TestApi.ReadAsync(replay))["key"], Is.EqualTo(secret));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM api_keys WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(stored, Is.Not.Null.And.Not.Empty);
            Assert.That(System.Text.Encoding.UTF8.GetString(stored!), Does.Not.Contain(secret));
        });
    }

    [Test]
    public async Task The_other_creating_routes_replay_too()
    {
        var (owner, tenantId) = await TenantAsync();
        var client = TestApi.Client(owner.Token);
        var run = await RunCalls.CreateRunAsync(client, tenantId);
        var routes = new (string Url, object Body, string Table)[]
        {
            ($"/v1/tenants/{tenantId}/invitations", new { email = "invitee@example.test", role = "member" }, "invitations"),
            ($"/v1/tenants/{tenantId}/support-tickets", new { subject = "Help", description = "Please", category = "billing", priority = "low" }, "support_tickets"),
            ($"/v1/tenants/{tenantId}/runs/{(string)run["id"]!}/complete", new { success = true, total_tokens = 10, latency_ms = 5 }, "runs"),
            ($"/v1/tenants/{tenantId}/subscription", new { plan = "professional", billing_cycle = "monthly" }, "subscriptions"),
        };
        foreach (var (url, body, table) in routes)
        {
            using var first = await PostAsync(client, url, body, "route-" + table);
            using var replay = await PostAsync(client, url, body, "route-" + table);
            Assert.That((int)first.StatusCode, Is.InRange(200, 299), $"{url}: {await first.Content.ReadAsStringAsync()}");
            Assert.Multiple(async () =>
            {
                Assert.That(replay.StatusCode, Is.EqualTo(first.StatusCode), url);
                Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(await first.Content.ReadAsStringAsync()), url);
                Assert.That(replay.Headers.Contains("Idempotent-Replayed"), Is.True, url);
                Assert.That(await RunCalls.ScalarAsync(tenantId, $"SELECT count(*) FROM {table} WHERE tenant_id = @t"), Is.EqualTo(1), url);
            });
        }
    }

    [Test]
    public async Task Accepting_an_invitation_twice_with_one_key_replays_the_membership_instead_of_410()
    {
        var (owner, tenantId) = await TenantAsync();
        var invitee = await TestApi.SignUpAsync();
        var issued = await Invitations.InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email);
        var client = TestApi.Client(invitee.Token);
        var body = new { token = (string)issued["token"]! };

        using var first = await PostAsync(client, "/v1/invitations/accept", body, "join");
        using var replay = await PostAsync(client, "/v1/invitations/accept", body, "join");
        using var unkeyed = await client.PostAsJsonAsync("/v1/invitations/accept", body);

        await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        await TestApi.ExpectAsync(replay, HttpStatusCode.OK);
        Assert.Multiple(async () =>
        {
            Assert.That(await replay.Content.ReadAsStringAsync(), Is.EqualTo(await first.Content.ReadAsStringAsync()));
            Assert.That(replay.Headers.GetValues("Idempotent-Replayed"), Is.EqualTo(new[] { "true" }));
            Assert.That((int)unkeyed.StatusCode, Is.EqualTo(410), "without the key the used token is gone, as before");
        });
    }

    [Test]
    public async Task A_claim_taken_over_after_its_lease_cannot_overwrite_the_new_holders_outcome()
    {
        var (owner, tenantId) = await TenantAsync();
        var caller = Caller.User(owner.Id);
        var fingerprint = new byte[32];

        var stalled = await SendAsync(new ClaimIdempotencyKey(caller, tenantId, "slow", fingerprint));
        var waiting = await SendAsync(new ClaimIdempotencyKey(caller, tenantId, "slow", fingerprint));
        await OwnerSql.ScalarAsync<object>("UPDATE idempotency_keys SET lease_until = now() - interval '1 second'", tenantId);
        var takeover = await SendAsync(new ClaimIdempotencyKey(caller, tenantId, "slow", fingerprint));
        var staleWrite = await SendAsync(new CompleteIdempotencyKey(caller, tenantId, "slow", stalled.ClaimId,
            new Models.Idempotency.IdempotentResponse(201, new Dictionary<string, string>(), "stale"u8.ToArray()), Keep: true));
        var holderWrite = await SendAsync(new CompleteIdempotencyKey(caller, tenantId, "slow", takeover.ClaimId,
            new Models.Idempotency.IdempotentResponse(201, new Dictionary<string, string> { ["Location"] = "/x" }, "fresh"u8.ToArray()), Keep: true));
        var replay = await SendAsync(new ClaimIdempotencyKey(caller, tenantId, "slow", fingerprint));
        var otherBody = await SendAsync(new ClaimIdempotencyKey(caller, tenantId, "slow", Enumerable.Repeat((byte)1, 32).ToArray()));

        Assert.Multiple(() =>
        {
            Assert.That(stalled.Outcome, Is.EqualTo(IdempotencyClaimOutcome.Claimed));
            Assert.That(waiting.Outcome, Is.EqualTo(IdempotencyClaimOutcome.InFlight));
            Assert.That(takeover.Outcome, Is.EqualTo(IdempotencyClaimOutcome.Claimed));
            Assert.That(takeover.ClaimId, Is.Not.EqualTo(stalled.ClaimId));
            Assert.That(staleWrite, Is.False);
            Assert.That(holderWrite, Is.True);
            Assert.That(replay.Outcome, Is.EqualTo(IdempotencyClaimOutcome.Replay));
            Assert.That(replay.Response!.Body, Is.EqualTo("fresh"u8.ToArray()));
            Assert.That(replay.Response.Headers["Location"], Is.EqualTo("/x"));
            Assert.That(otherBody.Outcome, Is.EqualTo(IdempotencyClaimOutcome.Reused));
        });
    }

    [Test]
    public async Task Measures_what_a_key_adds_to_a_run_creation()
    {
        var (owner, tenantId) = await TenantAsync();
        await TestTenant.Existing(tenantId).WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).ApplyAsync();
        var client = TestApi.Client(owner.Token);
        const int N = 40;

        async Task<double> MeanMsAsync(Func<int, string?> key)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < N; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenantId}/runs") { Content = JsonContent.Create(new { worker_id = "summarizer", task = "m" + i }) };
                if (key(i) is { } k)
                {
                    request.Headers.TryAddWithoutValidation("Idempotency-Key", k);
                }
                using var response = await client.SendAsync(request);
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            }
            return watch.Elapsed.TotalMilliseconds / N;
        }

        await MeanMsAsync(_ => null);
        var without = await MeanMsAsync(_ => null);
        var with = await MeanMsAsync(i => "measure-" + i);
        var replayed = await MeanMsAsync(i => "measure-" + i);
        TestContext.Progress.WriteLine($"run creation, mean of {N} sequential: without key {without:F1} ms, new key {with:F1} ms, replay {replayed:F1} ms");
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(3 * N));
    }

    [Test]
    public async Task The_openapi_document_declares_the_optional_header_on_the_idempotent_operations_only()
    {
        using var response = await TestApi.Client().GetAsync("/openapi/v1.json");
        var paths = (await TestApi.ReadAsync(response))["paths"]!;

        static bool Declares(JsonNode? operation) => operation?["parameters"]?.AsArray().Any(p =>
            (string?)p!["name"] == "Idempotency-Key" && (string?)p["in"] == "header" && (bool?)p["required"] != true) == true;

        Assert.Multiple(() =>
        {
            foreach (var path in new[]
            {
                "/v1/tenants", "/v1/tenants/{tenant_id}/runs", "/v1/tenants/{tenant_id}/runs/{run_id}/complete", "/v1/tenants/{tenant_id}/credits/purchase",
                "/v1/tenants/{tenant_id}/subscription", "/v1/tenants/{tenant_id}/api-keys", "/v1/tenants/{tenant_id}/invitations",
                "/v1/tenants/{tenant_id}/support-tickets", "/v1/invitations/accept",
            })
            {
                Assert.That(Declares(paths[path]?["post"]), Is.True, path);
            }
            Assert.That(Declares(paths["/v1/tenants/{tenant_id}/runs"]?["get"]), Is.False);
            Assert.That(paths["/v1/tenants/{tenant_id}/runs"]?["post"]?["responses"]?["201"]?["headers"]?["Idempotent-Replayed"], Is.Not.Null);
        });
    }

    private static async Task<(TestUser Owner, Guid TenantId)> TenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        return (owner, await TestApi.CreateTenantAsync(owner));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PostRawAsync(HttpClient client, string url, string json, string key)
    {
        using var request = TestApi.Request(HttpMethod.Post, url, json);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private static Task<long> PurchaseCountAsync(Guid tenantId) =>
        RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM credit_transactions WHERE tenant_id = @t AND type = 'purchase'");

    private static Task<long> BalanceAsync(Guid tenantId) =>
        RunCalls.ScalarAsync(tenantId, "SELECT coalesce(max(balance), 0) FROM credit_accounts WHERE tenant_id = @t");

    private static async Task<T> SendAsync<T>(IRequest<T> request)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
