using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Npgsql;
using Platform.Api.Hosting;
using Platform.Drivers.Schema;

namespace Platform.BrowserTests;

/// <summary>Starts, once per run, a throwaway PostgreSQL, the real API on a loopback port serving web/dist, and Debian's headless Chromium.</summary>
/// <remarks>
/// The database is this project's own (scripts/test-db.sh, the same functions as ./platform test) so that Platform.Tests, which resets its
/// database between tests and runs in parallel with this assembly, never empties a table under a browser.
/// </remarks>
[SetUpFixture]
public sealed class BrowserFixture
{
    private static string dbFolder = "";
    private static WebApplication? app;
    private static IPlaywright? playwright;

    /// <summary>Gets the repository's root folder (the one holding Platform.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string BaseUrl { get; private set; } = "";
    public static string MailFolder { get; private set; } = "";
    public static string ArtefactFolder { get; private set; } = "";
    public static IBrowser Browser { get; private set; } = null!;

    /// <summary>Gets the running API's services, for set-up a test does through the engines (as this fixture creates its operator).</summary>
    public static IServiceProvider Services => app?.Services ?? throw new InvalidOperationException("The API has not started.");

    /// <summary>Gets the operator (super_admin) this run creates, with its password and TOTP secret.</summary>
    public static (string Email, string Password, string TotpSecret) Operator { get; } =
        ("operator@browser.test", "operator password 1", OtpNet.Base32Encoding.ToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)));

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var dist = Path.Combine(Root, "web", "dist");
        if (!File.Exists(Path.Combine(dist, "index.html")))
        {
            Assert.Fail("web/dist/index.html is missing: ./platform test builds the dashboard first (build_web).");
        }
        var chromium = Environment.GetEnvironmentVariable("PLATFORM_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            Assert.Fail($"{chromium} is missing: ./platform test installs Debian's chromium package.");
        }

        dbFolder = Directory.CreateTempSubdirectory("platform-browser-").FullName;
        var values = await RunScriptAsync("start", dbFolder);
        var host = $"Host=127.0.0.1;Port={values["PORT"]};Database={values["DATABASE"]}";
        var owner = $"{host};Username=platform_owner;Password={values["OWNER_PASSWORD"]}";
        await new SchemaMigrator(NullLogger<SchemaMigrator>.Instance).MigrateAsync(owner, CancellationToken.None);

        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        MailFolder = Path.Combine(dbFolder, "mail");
        Directory.CreateDirectory(MailFolder);
        ArtefactFolder = Path.Combine(TestContext.CurrentContext.WorkDirectory, "browser-artefacts");
        Directory.CreateDirectory(ArtefactFolder);
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Platform"] = $"{host};Username=platform_app;Password={values["APP_PASSWORD"]};Maximum Pool Size=32",
            ["ConnectionStrings__PlatformOwner"] = owner,
            ["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["DataProtection__KeyEncryptionKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            // The jobs run as under ./platform run: the email dispatcher writes the invitation emails the tests open.
            ["Platform__RunJobs"] = "true",
            ["Email__PollIntervalMilliseconds"] = "200",
            ["Email__PickupDirectory"] = MailFolder,
            ["Email__LinkBaseUrl"] = BaseUrl,
            ["Web__DistPath"] = dist,
            // The webhook screens' test receives on a loopback listener it starts (http://127.0.0.1), as ./platform run allows.
            ["Webhooks__AllowLoopback"] = "true",
            // Custom domain verification asks a loopback port where no name server listens: no DNS query leaves the machine, and a
            // verify click records "no answer" (DNS itself is covered by the API tests with dnsmasq).
            ["Domains__NameServers"] = "127.0.0.1:9",
            ["Domains__TimeoutMilliseconds"] = "500",
            // Every browser request comes from 127.0.0.1: the per-address throttles would count the whole run as one client.
            ["Auth__SignUpsPerHourPerIp"] = "0",
            ["Auth__LoginAttemptsPerMinutePerIp"] = "0",
            ["Auth__InvitationAttemptsPerMinutePerIp"] = "0",
            ["Auth__OperatorLoginsPerMinutePerIp"] = "0",
            // No start-up warm-up (ADR 0815, 0820): its sandboxes' load and row locks would only meet the first screens' requests.
            ["Platform__WarmUp"] = "false",
        };
        foreach (var (key, value) in settings)
        {
            Environment.SetEnvironmentVariable(key, value);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(Program).Assembly.GetName().Name });
        builder.AddPlatformApi();
        builder.WebHost.UseUrls(BaseUrl);
        app = builder.Build();
        app.UsePlatformApi();
        await app.StartAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MediatR.IMediator>().Send(
                new Platform.Engines.Operators.CreateOperator(Operator.Email, "Browser Operator", "super_admin", Operator.Password, EnableTotp: true, TotpSecret: Operator.TotpSecret));
        }

        // Password hashing (bcrypt, cost 12) on two shared cores takes seconds: expectations wait up to 30 s.
        Assertions.SetDefaultExpectTimeout(30_000);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root in a container has no user namespace for Chromium's sandbox.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        playwright?.Dispose();
        if (app is not null)
        {
            await app.DisposeAsync();
        }
        NpgsqlConnection.ClearAllPools();
        if (dbFolder.Length > 0)
        {
            await RunScriptAsync("stop", dbFolder);
        }
    }

    private static async Task<Dictionary<string, string>> RunScriptAsync(string verb, string folder)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Root, "scripts", "test-db.sh"), verb, folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/test-db.sh {verb} failed: {await error}");
        }
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
    }
}
