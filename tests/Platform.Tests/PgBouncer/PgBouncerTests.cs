using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Platform.Tests.PgBouncer;

/// <summary>The service through PgBouncer in transaction pooling mode (ADR 0662): a scenario that passes through the drivers of users, sessions,
/// throttles, tenants, plans, API keys, usage, runs, invitations and the email outbox, billing, credits, invoices, audit, IP allowlists, webhooks,
/// support, GDPR export, idempotency, health and the tenant metrics (and, in a second test, the operator console and a Worker process's jobs), on a small server pool so that transactions of different tenants share server
/// connections; row-level security still isolates tenants, and no tenant setting is left on a pooled server connection.</summary>
[NonParallelizable]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PgBouncerTests : DatabaseTest
{
    private const string ScrapeToken = "scrape-token-0123456789abcdef";

    [Test]
    [CancelAfter(180_000)]
    public async Task The_service_runs_every_driver_through_pgbouncer_in_transaction_mode_and_no_tenant_setting_leaks(CancellationToken cancellationToken)
    {
        using var bouncer = await PgBouncerProcess.StartAsync(DatabaseFixture.AppConnectionString, poolSize: 4);
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Platform", bouncer.ConnectionString);
            // LISTEN needs a session: the listener keeps its direct connection (README, ADR 0161).
            b.UseSetting("ConnectionStrings:PlatformListener", DatabaseFixture.AppConnectionString);
            b.UseSetting("Metrics:ScrapeToken", ScrapeToken);
            b.UseSetting("TenantMetrics:CacheMilliseconds", "0");
        });
        var anonymous = factory.CreateClient();
        var (ownerToken, tenantId) = await SignUpWithTenantAsync(anonymous, "professional");
        var (otherToken, otherTenant) = await SignUpWithTenantAsync(anonymous, "free");
        var client = Authorized(factory, ownerToken);

        await ExpectSuccessAsync(await client.GetAsync("/v1/me", cancellationToken));
        await ExpectSuccessAsync(await client.GetAsync($"/v1/tenants/{tenantId}/features", cancellationToken));
        var key = await ReadSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys",
            new { name = "through pgbouncer", permissions = new[] { "runs:read", "usage:read" } }, cancellationToken));
        await ExpectSuccessAsync(await Authorized(factory, (string)key["key"]!).GetAsync($"/v1/tenants/{tenantId}/usage", cancellationToken));
        await ExpectSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
            new[] { new { meter = "gpu_hours", amount = 2.5m, idempotency_key = "pgb-1" } }, cancellationToken));
        await ExpectSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/check", new { meter = "gpu_hours", amount = 1m }, cancellationToken));
        await ExpectSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "pgb@example.test", role = "member" }, cancellationToken));
        var run = await ReadSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs",
            new { worker_id = "summarizer", task = "summarise", input = new { text = "hello" } }, cancellationToken));
        await ExpectSuccessAsync(await Runs.Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!)));
        foreach (var path in new[] { "billing", "credits", "invoices", "audit-log", "ip-allowlist", "webhooks/endpoints", "usage/history", "runs", "members" })
        {
            await ExpectSuccessAsync(await client.GetAsync($"/v1/tenants/{tenantId}/{path}", cancellationToken));
        }
        var ticket = new { subject = "Through PgBouncer", description = "Does it work?", category = "technical", priority = "low" };
        var first = await ReadSuccessAsync(await SendWithKeyAsync(client, $"/v1/tenants/{tenantId}/support-tickets", ticket, "pgb-ticket", cancellationToken));
        var replay = await ReadSuccessAsync(await SendWithKeyAsync(client, $"/v1/tenants/{tenantId}/support-tickets", ticket, "pgb-ticket", cancellationToken));
        await ExpectSuccessAsync(await client.PostAsync($"/v1/tenants/{tenantId}/export", null, cancellationToken));
        await ExpectSuccessAsync(await anonymous.GetAsync("/readyz", cancellationToken));
        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics/tenants");
        scrape.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        var tenants = await (await anonymous.SendAsync(scrape, cancellationToken)).Content.ReadAsStringAsync(cancellationToken);

        // Another tenant's member gets 404 for this tenant through the same pooled server connections.
        using var foreign = await Authorized(factory, otherToken).GetAsync($"/v1/tenants/{tenantId}/usage", cancellationToken);
        using var own = await Authorized(factory, otherToken).GetAsync($"/v1/tenants/{otherTenant}/usage", cancellationToken);
        var leaks = await TenantSettingsLeftOnServerConnectionsAsync(bouncer.ConnectionString, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That((string?)replay["id"], Is.EqualTo((string?)first["id"]), "the Idempotency-Key replay answers the first ticket");
            Assert.That(tenants, Does.Contain($"tenant_id=\"{tenantId}\""));
            Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(own.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(leaks, Is.Empty, "app.tenant_id or app.user_id left on a server connection outside a transaction");
        });
    }

    [Test]
    [CancelAfter(240_000)]
    public async Task The_operator_console_and_a_worker_process_run_through_pgbouncer_in_transaction_mode(CancellationToken cancellationToken)
    {
        using var bouncer = await PgBouncerProcess.StartAsync(DatabaseFixture.AppConnectionString, poolSize: 4);
        await using var receiver = await Webhooks.ReceiverProcess.StartAsync();
        var mail = Directory.CreateTempSubdirectory("platform-pgb-mail.").FullName;
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Platform", bouncer.ConnectionString);
            b.UseSetting("ConnectionStrings:PlatformListener", DatabaseFixture.AppConnectionString);
            b.UseSetting("Webhooks:AllowLoopback", "true");
        });
        try
        {
            var anonymous = factory.CreateClient();
            var (ownerToken, tenantId) = await SignUpWithTenantAsync(anonymous, "professional");
            var client = Authorized(factory, ownerToken);

            // The operator console: sign-in with TOTP, search, detail, a founder action and its reversal, a quota override, the operator list.
            var op = await Operators.OperatorTestSupport.CreateAsync("super_admin");
            var login = await ReadSuccessAsync(await anonymous.PostAsJsonAsync("/v1/admin/auth/login",
                new { email = op.Email, password = Operators.OperatorTestSupport.Password, totp_code = Operators.OperatorTestSupport.Code(op.TotpSecret!) }, cancellationToken));
            var admin = Authorized(factory, (string)login["access_token"]!);
            var found = await ReadSuccessAsync(await admin.GetAsync("/v1/admin/tenants?q=PgBouncer", cancellationToken));
            await ExpectSuccessAsync(await admin.GetAsync($"/v1/admin/tenants/{tenantId}", cancellationToken));
            var suspension = await ReadSuccessAsync(await admin.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse" }, cancellationToken));
            using var whileSuspended = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "refused@example.test", role = "member" }, cancellationToken);
            await ExpectSuccessAsync(await admin.PostAsJsonAsync($"/v1/admin/actions/{suspension["id"]}/reverse", new { reason_code = "appeal_accepted" }, cancellationToken));
            await ExpectSuccessAsync(await admin.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/max_api_keys", new { value = 17, reason_code = "pilot" }, cancellationToken));
            var tenant = await ReadSuccessAsync(await client.GetAsync($"/v1/tenants/{tenantId}", cancellationToken));
            await ExpectSuccessAsync(await admin.GetAsync("/v1/admin/actions", cancellationToken));
            await ExpectSuccessAsync(await admin.GetAsync("/v1/admin/operators", cancellationToken));

            // Work for the background jobs, queued through PgBouncer: an invitation email and a run.completed webhook.
            var secret = (string)(await ReadSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/webhooks/endpoints",
                new { url = receiver.Url("pgb"), event_types = new[] { "run.completed" } }, cancellationToken)))["secret"]!;
            await receiver.ConfigureAsync("pgb", [secret]);
            await ExpectSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "pgb-worker@example.test", role = "member" }, cancellationToken));
            var run = await ReadSuccessAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs",
                new { worker_id = "summarizer", task = "summarise", input = new { text = "hello" } }, cancellationToken));
            await ExpectSuccessAsync(await Runs.Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!)));

            // A Worker process whose every job statement goes through PgBouncer (LISTEN aside) sends both.
            await using var worker = ServiceProcess.StartWorker(AppContext.BaseDirectory, new Dictionary<string, string>
            {
                ["ConnectionStrings__Platform"] = bouncer.ConnectionString,
                ["ConnectionStrings__PlatformListener"] = DatabaseFixture.AppConnectionString,
                ["Email__PickupDirectory"] = mail,
                ["Email__PollIntervalMilliseconds"] = "100",
                ["Webhooks__AllowLoopback"] = "true",
                ["Webhooks__PollIntervalMilliseconds"] = "100",
            });
            var delivered = await receiver.WaitForAsync("pgb", 1, TimeSpan.FromSeconds(90));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!Directory.GetFiles(mail, "*.eml").Any(f => ReadOrEmpty(f).Contains("pgb-worker@example.test", StringComparison.Ordinal))
                   && DateTime.UtcNow < deadline && !worker.HasExited)
            {
                await Task.Delay(200, cancellationToken);
            }
            var leaks = await TenantSettingsLeftOnServerConnectionsAsync(bouncer.ConnectionString, cancellationToken);

            Assert.Multiple(() =>
            {
                Assert.That(found["data"]!.AsArray().Select(t => (string?)t!["id"]), Does.Contain(tenantId.ToString()), "the operator's search");
                Assert.That(whileSuspended.StatusCode, Is.Not.EqualTo(HttpStatusCode.Created), "the suspension held between the action and its reversal");
                Assert.That((int?)tenant["max_api_keys"], Is.EqualTo(17), "the override reached the tenant");
                Assert.That(delivered.Select(d => d.Verified[0]), Is.EqualTo(new[] { true }), "run.completed delivered, signed, by the Worker through PgBouncer");
                Assert.That(Directory.GetFiles(mail, "*.eml").Count(f => ReadOrEmpty(f).Contains("pgb-worker@example.test", StringComparison.Ordinal)),
                    Is.EqualTo(1), "the invitation email sent once by the Worker through PgBouncer\n" + worker.Output);
                Assert.That(leaks, Is.Empty, "app.tenant_id or app.user_id left on a server connection outside a transaction");
            });
        }
        finally
        {
            Directory.Delete(mail, recursive: true);
        }
    }

    /// <summary>Reads a pickup file, or nothing while the Worker still holds it open for writing (it is read at the next poll).</summary>
    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private const string Password = "correct horse battery";

    /// <summary>Holds every server connection of the pool at once (more clients than servers, each in a transaction that waits) and reads the
    /// tenant and user settings each sees before its transaction sets anything.</summary>
    private static async Task<List<string>> TenantSettingsLeftOnServerConnectionsAsync(string connectionString, CancellationToken cancellationToken)
    {
        var seen = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT coalesce(current_setting('app.tenant_id', true), '') || '|' || coalesce(current_setting('app.user_id', true), ''), pg_sleep(0.2)", connection);
            return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        }));
        return seen.Where(s => s != "|").ToList();
    }

    private static async Task<(string Token, Guid TenantId)> SignUpWithTenantAsync(HttpClient client, string plan)
    {
        var email = $"pgb-{Guid.NewGuid():N}@example.test";
        var user = await ReadSuccessAsync(await client.PostAsJsonAsync("/v1/auth/signup", new { email, password = Password, name = "PgBouncer" }));
        var token = (string)user["access_token"]!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tenants")
        {
            Content = JsonContent.Create(new { name = "PgBouncer", slug = "p-" + Guid.NewGuid().ToString("N")[..12], plan }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var tenant = await ReadSuccessAsync(await client.SendAsync(request));
        return (token, Guid.Parse((string)tenant["id"]!));
    }

    private static HttpClient Authorized(WebApplicationFactory<Program> factory, string token)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static Task<HttpResponseMessage> SendWithKeyAsync(HttpClient client, string url, object body, string key, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return client.SendAsync(request, cancellationToken);
    }

    private static async Task ExpectSuccessAsync(HttpResponseMessage response) => await ReadSuccessAsync(response);

    private static async Task<JsonNode> ReadSuccessAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.IsSuccessStatusCode, Is.True, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
    }
}
