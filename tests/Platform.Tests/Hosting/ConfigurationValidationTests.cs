using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace Platform.Tests.Hosting;

/// <summary>Proves that every feature's settings are bound from its own section and checked when a host starts: the real API host and the real Worker
/// refuse to start with a value out of bounds, naming the configuration key, and a value set in configuration reaches its feature (ADR 0440).</summary>
public sealed class ConfigurationValidationTests : DatabaseTest
{
    [TestCase("Billing:DunningGraceDays", "400")]
    [TestCase("Auth:BcryptWorkFactor", "11")]
    [TestCase("Idempotency:RetentionHours", "1")]
    [TestCase("Billing:TrialEndAction", "delete")]
    [TestCase("Email:Smtp:Port", "0")]
    [TestCase("Email:Smtp:Security", "bogus")]
    [TestCase("Billing:TrialEndAction", "bogus")]
    [TestCase("Cors:AllowedOrigins", "https://app.example.test/path")]
    [TestCase("Cors:AllowedOrigins", "https://*.example.test")]
    [TestCase("Auth:SigningKey", "c2hvcnQ=")]
    public void The_api_refuses_to_start_with_a_setting_out_of_bounds_and_names_its_key(string key, string value)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting(key, value));

        var error = StartupFailure(() => factory.CreateClient());

        Assert.That(error.Message, Does.Contain(key));
    }

    [Test]
    public void The_api_refuses_to_start_outside_development_without_a_key_encryption_key()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("DataProtection:KeyEncryptionKey", "");
        });

        var error = StartupFailure(() => factory.CreateClient());

        Assert.That(error.Message, Does.Contain("DataProtection:KeyEncryptionKey is not set"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task The_worker_refuses_to_start_with_a_setting_out_of_bounds_and_names_its_key(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Platform.Worker.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Platform"] = DatabaseFixture.AppConnectionString;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Idempotency__LeaseSeconds"] = "0";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var all = await output + await errors;

        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.Not.Zero, all);
            Assert.That(all, Does.Contain("Idempotency:LeaseSeconds"));
            Assert.That(all, Does.Not.Contain("Heartbeat: database time"), "no job ran");
        });
    }

    [Test]
    public async Task Invitations_expiry_days_set_in_configuration_reach_the_invitations()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Invitations:ExpiryDays", "3"));
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);

        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "three.days@example.test", role = "member" });

        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var expiresAt = (string)(await TestApi.ReadAsync(response))["invitation"]!["expires_at"]!;
        Assert.That(DateTimeOffset.Parse(expiresAt, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(DateTimeOffset.UtcNow.AddDays(3)).Within(TimeSpan.FromMinutes(1)));
    }

    /// <summary>Starts the host and returns the options validation failure it stops with, wherever in the exception chain it is.</summary>
    private static OptionsValidationException StartupFailure(Action start)
    {
        var thrown = Assert.Catch(() => start());
        for (var e = thrown; e is not null; e = e.InnerException)
        {
            if (e is OptionsValidationException failure)
            {
                return failure;
            }
        }
        Assert.Fail($"Expected an options validation failure, got: {thrown}");
        throw new InvalidOperationException();
    }
}
