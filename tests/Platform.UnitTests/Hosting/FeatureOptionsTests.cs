using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Engines;
using Platform.Engines.Billing;
using Platform.Engines.Hosting;
using Platform.Engines.Idempotency;
using Platform.Engines.Invitations;
using Platform.Models;

namespace Platform.UnitTests.Hosting;

/// <summary>Proves the one way settings are read: bound from the feature's section, validated with errors that name the configuration key (ADR 0440).</summary>
public sealed class FeatureOptionsTests
{
    [Test]
    public void The_defaults_of_every_setting_are_valid()
    {
        using var provider = Engines(new() { ["ConnectionStrings:Platform"] = "Host=127.0.0.1;Database=none" });

        Assert.DoesNotThrow(provider.ValidateOptionsNow);
    }

    [Test]
    public void A_value_set_in_configuration_is_bound_with_its_unit_kept()
    {
        using var provider = Engines(new()
        {
            ["ConnectionStrings:Platform"] = "Host=127.0.0.1;Database=none",
            ["Invitations:ExpiryDays"] = "3",
            ["Idempotency:RetentionHours"] = "48",
            ["Idempotency:LeaseSeconds"] = "90",
            ["Billing:TrialEndAction"] = "Suspend",
        });

        Assert.Multiple(() =>
        {
            Assert.That(provider.GetRequiredService<InvitationsOptions>().ExpiryDays, Is.EqualTo(3));
            Assert.That(provider.GetRequiredService<IdempotencyOptions>().Retention, Is.EqualTo(TimeSpan.FromHours(48)));
            Assert.That(provider.GetRequiredService<IdempotencyOptions>().Lease, Is.EqualTo(TimeSpan.FromSeconds(90)));
            Assert.That(provider.GetRequiredService<BillingOptions>().SuspendsAtTrialEnd, Is.True);
        });
    }

    [TestCase("Billing:DunningGraceDays", "366", "The field Billing:DunningGraceDays must be between 0 and 365.")]
    [TestCase("Auth:BcryptWorkFactor", "11", "The field Auth:BcryptWorkFactor must be between 12 and 31.")]
    [TestCase("Idempotency:RetentionHours", "1", "The field Idempotency:RetentionHours must be between 24 and 8760.")]
    [TestCase("Idempotency:LeaseSeconds", "0", "The field Idempotency:LeaseSeconds must be between 1 and 86400.")]
    [TestCase("Billing:TrialEndAction", "delete", "Billing:TrialEndAction must be one of: free, suspend.")]
    [TestCase("Email:Smtp:Security", "Tls", "Email:Smtp:Security must be one of: None, Auto, SslOnConnect, StartTls, StartTlsWhenAvailable.")]
    [TestCase("DataProtection:KeyEncryptionKey", "c2hvcnQ=", "DataProtection:KeyEncryptionKey must be base64 of 32 random bytes (it has 5).")]
    [TestCase("ConnectionStrings:Platform", "", "ConnectionStrings:Platform is not set; ./platform run sets it for the embedded database.")]
    public void A_value_out_of_bounds_stops_the_start_and_the_error_names_its_key(string key, string value, string message)
    {
        using var provider = Engines(new() { ["ConnectionStrings:Platform"] = "Host=127.0.0.1;Database=none", [key] = value });

        var error = Assert.Throws<OptionsValidationException>(provider.ValidateOptionsNow);

        Assert.That(error!.Failures, Does.Contain(message));
    }

    [Test]
    public void Nested_records_are_checked_under_their_own_key()
    {
        var result = new ConfigurationKeyValidation<Outer>("Outer").Validate(null, new Outer());

        Assert.That(result.Failures, Is.EquivalentTo(new[] { "The field Outer:Inner:Count must be between 1 and 2.", "Outer:Name must be one of: a, b." }));
    }

    private static ServiceProvider Engines(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddEngines();
        return services.BuildServiceProvider();
    }

    private sealed class Outer
    {
        [OneOf("a", "b")]
        public string Name { get; set; } = "c";

        public Inner Inner { get; set; } = new();
    }

    /// <summary>Is a nested record; ConfigurationKeyValidation recurses into types of the Platform namespaces.</summary>
    public sealed class Inner
    {
        [System.ComponentModel.DataAnnotations.Range(1, 2)]
        public int Count { get; set; }
    }
}
