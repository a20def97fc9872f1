using Microsoft.Extensions.Configuration;
using Platform.Drivers.Mail;

namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Reads the engines' settings from configuration, as the API and the Worker host both do.</summary>
    public void ReadFrom(IConfiguration configuration)
    {
        BcryptWorkFactor = configuration.GetValue("Auth:BcryptWorkFactor", BcryptWorkFactor);
        configuration.GetSection("Email").Bind(Email);
        InvitationExpiryDays = configuration.GetValue("Invitations:ExpiryDays", InvitationExpiryDays);
        DeletedTenantRetentionDays = configuration.GetValue("Retention:DeletedTenantDays", DeletedTenantRetentionDays);
        RetentionJobIntervalMinutes = configuration.GetValue("Retention:JobIntervalMinutes", RetentionJobIntervalMinutes);
        DataProtectionKeysFolder = configuration["DataProtection:KeysFolder"];
        ListenerConnectionString = configuration.GetConnectionString("PlatformListener");
        RunTimeout = TimeSpan.FromSeconds(configuration.GetValue("Platform:RunTimeoutSeconds", (int)RunTimeout.TotalSeconds));
        StripeSecretKey = configuration["Stripe:SecretKey"];
        StripeApiBase = configuration["Stripe:ApiBase"];
        StripeWebhookSecret = configuration["Stripe:WebhookSecret"];
        foreach (var price in configuration.GetSection("Stripe:Prices").GetChildren())
        {
            StripePriceIds[price.Key] = price.Value ?? "";
        }
    }

    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>Gets or sets the email settings (section "Email").</summary>
    public EmailOptions Email { get; set; } = new();

    /// <summary>Gets or sets how long an invitation stays valid, in days.</summary>
    public int InvitationExpiryDays { get; set; } = 7;

    /// <summary>Gets or sets how long a soft-deleted tenant's rows are kept before the purge job deletes them, in days.</summary>
    public int DeletedTenantRetentionDays { get; set; } = 30;

    /// <summary>Gets or sets how often the purge and plan-retention jobs run, in minutes.</summary>
    public int RetentionJobIntervalMinutes { get; set; } = 60;
    /// <summary>Gets or sets the folder where Data Protection keeps its keys (which encrypt TOTP secrets); empty uses Data Protection's default location.</summary>
    public string? DataProtectionKeysFolder { get; set; }

    /// <summary>Gets or sets the connection string of the LISTEN connection (ConnectionStrings:PlatformListener); null uses the service's own. Set it to a direct (or session-pooled) connection when the service's goes through PgBouncer in transaction mode (ADR 0161).</summary>
    public string? ListenerConnectionString { get; set; }
    /// <summary>Gets or sets how long a run may stay running before the timeout job fails it and frees its slot.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how often the timeout job looks for runs past their timeout.</summary>
    public TimeSpan RunTimeoutSweepInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Gets or sets the Stripe secret key; null or empty means billing runs offline.</summary>
    public string? StripeSecretKey { get; set; }

    /// <summary>Gets or sets the Stripe API base address (tests point it at a local fake); null means Stripe's own.</summary>
    public string? StripeApiBase { get; set; }

    /// <summary>Gets the Stripe price id per "{plan}_{cycle}" (for example "professional_monthly").</summary>
    public Dictionary<string, string> StripePriceIds { get; } = [];

    /// <summary>Gets or sets the signing secret of Stripe webhooks (whsec_...); without it every webhook is refused.</summary>
    public string? StripeWebhookSecret { get; set; }
}
