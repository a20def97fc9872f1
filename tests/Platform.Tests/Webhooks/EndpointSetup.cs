using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Webhooks;

/// <summary>Sets up tenants, endpoints and delivery rows for the management tests (the dispatcher does not run in tests: Platform:RunJobs is off).</summary>
internal static class EndpointSetup
{
    public const string PublicUrl = "https://hooks.example.com/platform";

    public static string Endpoints(Guid tenantId) => $"/v1/tenants/{tenantId}/webhooks/endpoints";

    public static string Messages(Guid tenantId) => $"/v1/tenants/{tenantId}/webhooks/messages";

    /// <summary>Signs up an owner and creates a tenant on the plan (starter: webhooks, 3 endpoints).</summary>
    public static async Task<(TestUser Owner, Guid TenantId, HttpClient Client)> TenantAsync(string plan = "starter")
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: plan);
        return (owner, tenantId, TestApi.Client(owner.Token));
    }

    public static async Task<JsonNode> CreateAsync(HttpClient client, Guid tenantId, object? body = null)
    {
        using var response = await client.PostAsJsonAsync(Endpoints(tenantId), body ?? new { url = PublicUrl });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }

    public static Guid IdOf(JsonNode endpoint) => Guid.Parse((string)endpoint["id"]!);

    /// <summary>Starts another API host whose Webhooks:AllowLoopback is on (the embedded default of ./platform run).</summary>
    public static WebApplicationFactory<Program> LoopbackHost() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Webhooks:AllowLoopback", "true"));

    public static async Task<long> CountAsync(Guid tenantId, string sql)
    {
        var row = await Keys.ReadRowAsync(tenantId, $"SELECT ({sql})::bigint AS n");
        return (long)row!["n"]!;
    }

    /// <summary>Writes an event and one delivery per endpoint in the given outbox status, created at the time, with one failed attempt
    /// (status 500) per attempt counted; returns the event id.</summary>
    public static async Task<Guid> SeedMessageAsync(
        Guid tenantId, IReadOnlyList<Guid> endpointIds, string status, DateTimeOffset createdAt, string type = "run.completed", int attempts = 1)
    {
        var eventId = Guid.CreateVersion7(createdAt);
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync(
            """
            INSERT INTO webhook_events (tenant_id, id, type, payload, created_at)
            VALUES (@t, @e, @type, jsonb_build_object('type', @type, 'timestamp', @at, 'data', jsonb_build_object('n', 1)), @at)
            """,
            ("t", tenantId), ("e", eventId), ("type", type), ("at", createdAt));
        foreach (var endpointId in endpointIds)
        {
            var deliveryId = Guid.NewGuid();
            await scope.ExecuteAsync(
                """
                INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at, endpoint_id, event_id, last_error, sent_at)
                VALUES (@d, @t, 'webhook', '{}', @status, @attempts, @next, @at, @ep, @e,
                        CASE WHEN @status = 'failed' THEN 'HTTP 500' END, CASE WHEN @status = 'sent' THEN @at END)
                """,
                ("d", deliveryId), ("t", tenantId), ("status", status), ("attempts", attempts), ("next", createdAt.AddHours(1)), ("at", createdAt),
                ("ep", endpointId), ("e", eventId));
            for (var i = 1; i <= attempts; i++)
            {
                var ok = status == "sent" && i == attempts;
                await scope.ExecuteAsync(
                    """
                    INSERT INTO webhook_attempts (tenant_id, id, delivery_id, endpoint_id, event_id, attempt, attempted_at, succeeded, status_code, latency_ms, response_excerpt, error)
                    VALUES (@t, gen_random_uuid(), @d, @ep, @e, @i, @at, @ok, @code, 12, @excerpt, @error)
                    """,
                    ("t", tenantId), ("d", deliveryId), ("ep", endpointId), ("e", eventId), ("i", i), ("at", createdAt.AddSeconds(i)), ("ok", ok),
                    ("code", ok ? 200 : 500), ("excerpt", ok ? "ok" : "boom"), ("error", ok ? (object)DBNull.Value : "HTTP 500"));
            }
        }
        await scope.CommitAsync();
        return eventId;
    }

    public static string MessageId(Guid eventId) => "msg_" + eventId.ToString("N");
}
