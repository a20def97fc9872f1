using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Testing;

/// <summary>Hosts the real API in-process (one host per test run) and offers the calls tests make again and again.</summary>
public static class TestApi
{
    private static readonly Lazy<WebApplicationFactory<Program>> Factory = new(() => new WebApplicationFactory<Program>());
    private static int userCounter;

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IServiceProvider Services => Factory.Value.Services;

    public static HttpClient Client(string? token = null)
    {
        var client = Factory.Value.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public static void DisposeShared()
    {
        if (Factory.IsValueCreated)
        {
            Factory.Value.Dispose();
        }
    }

    /// <summary>Signs up a new user through the API and returns its id, email and token.</summary>
    public static async Task<TestUser> SignUpAsync(string? name = null)
    {
        var n = Interlocked.Increment(ref userCounter);
        var email = $"user{n}-{Guid.NewGuid():N}@example.test";
        const string password = "correct horse battery";
        using var response = await Client().PostAsJsonAsync("/v1/auth/signup", new { email, password, name = name ?? $"User {n}" });
        await ExpectAsync(response, HttpStatusCode.Created);
        var body = await ReadAsync(response);
        return new TestUser(Guid.Parse((string)body["user"]!["id"]!), email, password, (string)body["access_token"]!);
    }

    /// <summary>Creates a tenant owned by the user and returns its id. A user's second trial of a plan family is refused since fair use
    /// (ADR 0520); tests that give one user several trial tenants get an operator's trial grant for it, as support would give.</summary>
    public static async Task<Guid> CreateTenantAsync(TestUser owner, string? slug = null, string? plan = null)
    {
        slug ??= "t-" + Guid.NewGuid().ToString("N")[..12];
        var response = await Client(owner.Token).PostAsJsonAsync("/v1/tenants", new { name = "Tenant " + slug, slug, plan });
        try
        {
            if (response.StatusCode == HttpStatusCode.Conflict && (string?)(await ReadAsync(response))["code"] == "trial_not_available")
            {
                await GrantTrialAsync(owner.Id, plan ?? "professional");
                response.Dispose();
                response = await Client(owner.Token).PostAsJsonAsync("/v1/tenants", new { name = "Tenant " + slug, slug, plan });
            }
            await ExpectAsync(response, HttpStatusCode.Created);
            return Guid.Parse((string)(await ReadAsync(response))["id"]!);
        }
        finally
        {
            response.Dispose();
        }
    }

    /// <summary>Grants the user one more trial of a plan family as an operator's grant would (a trial_allowances row), as the schema owner.</summary>
    public static async Task GrantTrialAsync(Guid userId, string planFamily)
    {
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            """
            INSERT INTO trial_allowances (id, user_id, plan_family, granted_by_action, created_at)
            VALUES (gen_random_uuid(), @user, @family, gen_random_uuid(), now())
            """, connection);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("family", planFamily);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Adds a membership directly (invitations come in a later issue), as the schema owner inside the tenant's scope.</summary>
    public static async Task AddMemberAsync(Guid tenantId, Guid userId, string role)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync("INSERT INTO memberships (tenant_id, user_id, role) VALUES (@t, @u, @r)", ("t", tenantId), ("u", userId), ("r", role));
        await scope.CommitAsync();
    }

    /// <summary>Records names as verified custom domains of the tenant directly (the DNS proof itself is Domains/DomainTests' subject), as the
    /// schema owner inside the tenant's scope; a name the tenant already has is made verified.</summary>
    public static async Task VerifiedDomainsAsync(Guid tenantId, IEnumerable<string> names)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        foreach (var name in names)
        {
            await scope.ExecuteAsync(
                """
                INSERT INTO custom_domains (tenant_id, id, name, status, verification_token, verified_at, created_by, created_at)
                VALUES (@t, gen_random_uuid(), @n, 'verified', 'test-token', now(), 'test', now())
                ON CONFLICT (tenant_id, name) DO UPDATE SET status = 'verified', verified_at = now()
                """, ("t", tenantId), ("n", name));
        }
        await scope.CommitAsync();
    }

    /// <summary>Creates a user with the given role in the tenant.</summary>
    public static async Task<TestUser> MemberAsync(Guid tenantId, string role)
    {
        var user = await SignUpAsync();
        await AddMemberAsync(tenantId, user.Id, role);
        return user;
    }

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("Empty body.");

    public static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            Assert.Fail($"Expected {(int)expected} but got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Asserts a problem-details response with the status and code, and returns its body.</summary>
    public static async Task<JsonNode> ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        await ExpectAsync(response, status);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var body = await ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["code"], Is.EqualTo(code));
            Assert.That((int?)body["status"], Is.EqualTo((int)status));
            Assert.That((string?)body["type"], Is.Not.Empty);
            Assert.That((string?)body["title"], Is.Not.Empty);
        });
        return body;
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, string? json = null) => new(method, url)
    {
        Content = json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
    };
}

/// <summary>Is a user signed up by a test.</summary>
public sealed record TestUser(Guid Id, string Email, string Password, string Token);
