using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.Sso;

/// <summary>Runs tests/oidc/provider.js, a real OpenID Provider (the OpenID-certified oidc-provider package) on loopback with the clients the test
/// registers; the test names who the next login signs in, with which claims, and a browser-like client walks the redirects.</summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly HttpClient control;

    private OidcProviderProcess(Process process, int port)
    {
        this.process = process;
        Issuer = $"http://127.0.0.1:{port}";
        control = new HttpClient { BaseAddress = new Uri(Issuer + "/") };
    }

    /// <summary>Gets the provider's issuer (http on loopback).</summary>
    public string Issuer { get; }

    /// <summary>Is the redirect URI the in-process API gives identity providers.</summary>
    public const string RedirectUri = "http://localhost/v1/auth/sso/callback";

    /// <summary>Finds tests/oidc above the test binaries.</summary>
    private static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "oidc");
            if (File.Exists(Path.Combine(candidate, "provider.js")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("tests/oidc/provider.js was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Starts the provider with confidential clients (id and secret) that redirect to the API's callback.</summary>
    public static async Task<OidcProviderProcess> StartAsync(params (string Id, string Secret)[] clients)
    {
        var folder = Folder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException("Run `npm ci` in tests/oidc (./platform test does).");
        }
        var start = new ProcessStartInfo("node", ["provider.js"])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["OIDC_CLIENTS"] = JsonSerializer.Serialize(clients.Select(c => new Dictionary<string, object>
        {
            ["client_id"] = c.Id,
            ["client_secret"] = c.Secret,
            ["redirect_uris"] = new[] { RedirectUri },
            ["grant_types"] = new[] { "authorization_code" },
            ["response_types"] = new[] { "code" },
            ["token_endpoint_auth_method"] = "client_secret_basic",
        }));
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The OpenID Provider did not start: " + line);
        }
        return new OidcProviderProcess(process, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Makes the next login at the provider sign in this subject with these claims (email, email_verified, name, groups).</summary>
    public async Task NextLoginAsync(string subject, object claims)
    {
        using var response = await control.PostAsJsonAsync("test/next-login", new { sub = subject, claims });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Walks a browser through the provider from its authorization URL (login and consent finish by themselves) and returns the URL it is
    /// finally sent to: the API's callback with code and state, or with an error.</summary>
    public static async Task<Uri> AuthorizeAsync(Uri authorizationUrl)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true });
        var url = authorizationUrl;
        for (var hops = 0; hops < 20; hops++)
        {
            using var response = await browser.GetAsync(url);
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is not { } location)
            {
                throw new InvalidOperationException($"The provider answered {(int)response.StatusCode} at {url}: {await response.Content.ReadAsStringAsync()}");
            }
            url = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (url.AbsoluteUri.StartsWith(RedirectUri, StringComparison.Ordinal))
            {
                return url;
            }
        }
        throw new InvalidOperationException("Too many redirects at the provider.");
    }

    public async ValueTask DisposeAsync()
    {
        control.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
