using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Models.Plans;

namespace Platform.Tests.Sso;

/// <summary>Sets up SSO tests: an API host whose Sso:AllowLoopbackIssuer is on (as ./platform run has it), enterprise tenants, settings, and the
/// browser's walk from start through the identity provider to the callback and the code exchange.</summary>
internal static class SsoTestBed
{
    public static WebApplicationFactory<Program> LoopbackHost() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Sso:AllowLoopbackIssuer", "true"));

    /// <summary>Creates an enterprise (trial) tenant, which has the sso feature, and returns its owner, id and slug.</summary>
    public static async Task<(TestUser Owner, Guid TenantId, string Slug)> EnterpriseTenantAsync(TestUser? owner = null)
    {
        owner ??= await TestApi.SignUpAsync();
        var slug = "sso-" + Guid.NewGuid().ToString("N")[..12];
        return (owner, await TestApi.CreateTenantAsync(owner, slug, PlanCatalog.Enterprise), slug);
    }

    /// <summary>Puts settings after recording their (normalised, well-formed) domains as verified custom domains of the tenant, which a claim
    /// requires; <paramref name="verify"/> false leaves them as they are.</summary>
    public static async Task<HttpResponseMessage> PutSettingsAsync(HttpClient client, Guid tenantId, object body, bool verify = true)
    {
        if (verify && JsonSerializer.SerializeToNode(body, TestApi.Json)?["domains"] is JsonArray domains)
        {
            var idn = new IdnMapping();
            var names = new List<string>();
            foreach (var raw in domains.Select(d => (string?)d).OfType<string>())
            {
                try
                {
                    names.Add(idn.GetAscii(raw.TrimEnd('.')).ToLowerInvariant());
                }
                catch (ArgumentException)
                {
                    // Not a name: the settings' validation refuses it before any claim.
                }
            }
            await TestApi.VerifiedDomainsAsync(tenantId, names);
        }
        return await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/sso", body, TestApi.Json);
    }

    public static async Task ConfigureAsync(HttpClient client, Guid tenantId, object body)
    {
        using var response = await PutSettingsAsync(client, tenantId, body);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Starts a sign-in (query: "tenant=slug" or "email=…") and returns the identity provider's authorization URL.</summary>
    public static async Task<Uri> StartAsync(HttpClient api, string query)
    {
        using var response = await api.GetAsync("/v1/auth/sso/start?" + query);
        await TestApi.ExpectAsync(response, HttpStatusCode.Redirect);
        return response.Headers.Location!;
    }

    /// <summary>Calls the API's callback as the browser would after the provider, and returns the response (302 with the code, or a problem).</summary>
    public static async Task<HttpResponseMessage> CallbackAsync(HttpClient api, Uri callback) => await api.GetAsync(callback.PathAndQuery);

    /// <summary>Reads the one-time code from the callback's redirect to the dashboard.</summary>
    public static string CodeOf(HttpResponseMessage callback)
    {
        var location = callback.Headers.Location!.OriginalString;
        Assert.That(location, Does.StartWith("/sso/complete#code="));
        Assert.That(location, Does.Not.Contain("access_token").And.Not.Contain("rt_"));
        return Uri.UnescapeDataString(location[(location.IndexOf("#code=", StringComparison.Ordinal) + 6)..]);
    }

    /// <summary>Trades a one-time code for a session and returns the answer's body.</summary>
    public static async Task<JsonNode> ExchangeAsync(HttpClient api, string code)
    {
        using var response = await api.PostAsJsonAsync("/v1/auth/sso/exchange", new { code });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return await TestApi.ReadAsync(response);
    }

    /// <summary>Signs in through the real provider as the subject with the claims; returns the exchange's answer (access and refresh token, user).</summary>
    public static async Task<JsonNode> SignInAsync(HttpClient api, OidcProviderProcess provider, string query, string subject, object claims)
    {
        var authorize = await StartAsync(api, query);
        await provider.NextLoginAsync(subject, claims);
        var callback = await OidcProviderProcess.AuthorizeAsync(authorize);
        using var response = await CallbackAsync(api, callback);
        await TestApi.ExpectAsync(response, HttpStatusCode.Redirect);
        return await ExchangeAsync(api, CodeOf(response));
    }

    /// <summary>Reads the query parameters of a URL.</summary>
    public static System.Collections.Specialized.NameValueCollection Query(Uri url) => HttpUtility.ParseQueryString(url.Query);

    /// <summary>Lists the tenant's audit actions with their new values, oldest first, read as the schema owner.</summary>
    public static async Task<List<(string Action, string? NewValues)>> AuditAsync(Guid tenantId, string prefix)
    {
        await using var scope = await Testing.TenantScope.OwnerAsync(tenantId);
        await using var command = scope.Command(
            "SELECT action, new_values::text FROM audit_log WHERE tenant_id = @t AND action LIKE @p ORDER BY occurred_at, id", ("t", tenantId), ("p", prefix + "%"));
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string?)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }
        return rows;
    }
}
