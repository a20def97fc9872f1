using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Tests.ApiKeys;
using Platform.Tests.Operators;

namespace Platform.Tests.Hosting;

/// <summary>Runs the built API with JSON console logs at Information for every category and drives a session through it: user and operator
/// logins, an API-key request, wrong credentials. The stream is JSON lines whose scopes carry request_id, trace_id, tenant_id and caller; it
/// holds no password, token or key; and operator requests log no IDX10214 (ADR 0583).</summary>
public sealed class JsonLogTests : DatabaseTest
{
    [Test]
    [CancelAfter(120_000)]
    public async Task A_session_logs_json_lines_with_request_scope_and_no_secret(CancellationToken cancellationToken)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var op = await OperatorTestSupport.CreateAsync("super_admin");
        await using var api = ServiceProcess.StartApi(ServiceProcess.ApiFolder, new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        using var client = new HttpClient { BaseAddress = api.Url };
        await api.WaitUntilServingAsync(client, TimeSpan.FromSeconds(45), cancellationToken);
        var secrets = new List<string> { owner.Password, owner.Token, key.Secret, OperatorTestSupport.Password, op.TotpSecret! };

        using (var wrong = await client.PostAsJsonAsync("/v1/auth/login", new { email = owner.Email, password = "wrong password 12345" }, cancellationToken))
        {
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            secrets.Add("wrong password 12345");
        }
        using (var login = await client.PostAsJsonAsync("/v1/auth/login", new { email = owner.Email, password = owner.Password }, cancellationToken))
        {
            await TestApi.ExpectAsync(login, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(login);
            secrets.Add((string)body["access_token"]!);
            secrets.Add((string)body["refresh_token"]!);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current/usage"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
            using var usage = await client.SendAsync(request, cancellationToken);
            await TestApi.ExpectAsync(usage, HttpStatusCode.OK);
        }
        const string bogusKey = "pk_live_bogusbogusbogusbogusbogusbogus0000";
        secrets.Add(bogusKey);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current/usage"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bogusKey);
            using var refused = await client.SendAsync(request, cancellationToken);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        string operatorToken;
        using (var login = await client.PostAsJsonAsync("/v1/admin/auth/login",
            new { email = op.Email, password = OperatorTestSupport.Password, totp_code = OperatorTestSupport.Code(op.TotpSecret!) }, cancellationToken))
        {
            await TestApi.ExpectAsync(login, HttpStatusCode.OK);
            operatorToken = (string)(await TestApi.ReadAsync(login))["access_token"]!;
            secrets.Add(operatorToken);
        }
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/operators");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
            using var operators = await client.SendAsync(request, cancellationToken);
            await TestApi.ExpectAsync(operators, HttpStatusCode.OK);
        }
        await Task.Delay(500, cancellationToken);

        var lines = api.Lines;
        var json = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var scopes = json.Select(Scopes).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(lines.Where(l => l.TrimStart().Length > 0 && !l.StartsWith('{') && !l.StartsWith("Platform is listening", StringComparison.Ordinal)), Is.Empty,
                "every log line is JSON");
            Assert.That(json, Has.Count.GreaterThan(10));
            foreach (var secret in secrets)
            {
                Assert.That(lines.Where(l => l.Contains(secret, StringComparison.Ordinal)), Is.Empty, $"a secret ({secret[..4]}…) is in the log");
            }
            Assert.That(lines, Has.None.Contains("IDX10214"), "operator tokens are never tried as user tokens");
            Assert.That(scopes, Has.Some.Matches<Dictionary<string, string?>>(s => s.GetValueOrDefault("caller") == "api_key:" + key.Id
                && s.GetValueOrDefault("tenant_id") == tenantId.ToString() && s.GetValueOrDefault("request_id") is { Length: > 0 }
                && s.GetValueOrDefault("trace_id") is { Length: 32 }), "the API-key request's lines carry its scope");
            Assert.That(scopes, Has.Some.Matches<Dictionary<string, string?>>(s => s.GetValueOrDefault("caller") == "operator:" + op.Id),
                "the operator request's lines carry the operator");
            Assert.That(scopes.Where(s => s.ContainsKey("caller")), Has.All.Matches<Dictionary<string, string?>>(s => s.ContainsKey("request_id")));
        });
    }

    /// <summary>Merges the properties of a JSON line's scopes into one dictionary.</summary>
    private static Dictionary<string, string?> Scopes(JsonElement line)
    {
        var merged = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (line.TryGetProperty("Scopes", out var scopes) && scopes.ValueKind == JsonValueKind.Array)
        {
            foreach (var scope in scopes.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object))
            {
                foreach (var property in scope.EnumerateObject())
                {
                    merged[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.ToString();
                }
            }
        }
        return merged;
    }
}
