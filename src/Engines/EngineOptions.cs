using Microsoft.Extensions.Configuration;
using Platform.Drivers.Email;
using Platform.Engines.Throttles;

namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Reads the engines' settings from configuration, as the API and the Worker host both do.</summary>
    public void ReadFrom(IConfiguration configuration)
    {
        BcryptWorkFactor = configuration.GetValue("Auth:BcryptWorkFactor", BcryptWorkFactor);
        OperatorLoginsPerMinutePerIp = configuration.GetValue("Auth:OperatorLoginsPerMinutePerIp", OperatorLoginsPerMinutePerIp);
        Throttles.ReadFrom(configuration.GetSection("Auth"));
        configuration.GetSection("Email").Bind(Email);
        InvitationExpiryDays = configuration.GetValue("Invitations:ExpiryDays", InvitationExpiryDays);
        DeletedTenantRetentionDays = configuration.GetValue("Retention:DeletedTenantDays", DeletedTenantRetentionDays);
        RetentionJobIntervalMinutes = configuration.GetValue("Retention:JobIntervalMinutes", RetentionJobIntervalMinutes);
        DataProtectionKeysFolder = configuration["DataProtection:KeysFolder"];
        DataProtectionKeyEncryptionKey = configuration["DataProtection:KeyEncryptionKey"];
        DataProtectionOldKeyEncryptionKeys = (configuration["DataProtection:OldKeyEncryptionKeys"] ?? "")
            .Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        ListenerConnectionString = configuration.GetConnectionString("PlatformListener");
        RunTimeout = TimeSpan.FromSeconds(configuration.GetValue("Platform:RunTimeoutSeconds", (int)RunTimeout.TotalSeconds));
        UsageSummaryCacheTtl = TimeSpan.FromMilliseconds(configuration.GetValue("Usage:SummaryCacheMilliseconds", (int)UsageSummaryCacheTtl.TotalMilliseconds));
        InvoiceDueDays = configuration.GetValue("Billing:InvoiceDueDays", InvoiceDueDays);
        BillingCloseBatchSize = configuration.GetValue("Billing:CloseBatchSize", BillingCloseBatchSize);
        BillingCloseJobIntervalMinutes = configuration.GetValue("Billing:CloseJobIntervalMinutes", BillingCloseJobIntervalMinutes);
        StripeSecretKey = configuration["Stripe:SecretKey"];
        StripeApiBase = configuration["Stripe:ApiBase"];
        StripeWebhookSecret = configuration["Stripe:WebhookSecret"];
        DunningGraceDays = configuration.GetValue("Billing:DunningGraceDays", DunningGraceDays);
        TrialEndAction = configuration.GetValue("Billing:TrialEndAction", TrialEndAction) ?? TrialEndAction;
        TrialReminderDays = configuration.GetValue("Billing:TrialReminderDays", TrialReminderDays);
        BillingJobIntervalSeconds = configuration.GetValue("Billing:JobIntervalSeconds", BillingJobIntervalSeconds);
        IdempotencyRetention = TimeSpan.FromHours(configuration.GetValue("Idempotency:RetentionHours", (int)IdempotencyRetention.TotalHours));
        IdempotencyLease = TimeSpan.FromSeconds(configuration.GetValue("Idempotency:LeaseSeconds", (int)IdempotencyLease.TotalSeconds));
        foreach (var price in configuration.GetSection("Stripe:Prices").GetChildren())
        {
            StripePriceIds[price.Key] = price.Value ?? "";
        }
    }

    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>Gets or sets how many operator login attempts one client IP may make per minute, across all instances (Auth:OperatorLoginsPerMinutePerIp; 0 turns the limit off).</summary>
    public int OperatorLoginsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets the limits of logins, codes, tokens and sign-ups per account and per client IP, and the bound of concurrent password hashing (section "Auth").</summary>
    public AuthThrottleOptions Throttles { get; set; } = new();

    /// <summary>Gets or sets the email settings (section "Email").</summary>
    public EmailOptions Email { get; set; } = new();

    /// <summary>Gets or sets how long an invitation stays valid, in days.</summary>
    public int InvitationExpiryDays { get; set; } = 7;

    /// <summary>Gets or sets how long a soft-deleted tenant's rows are kept before the purge job deletes them, in days.</summary>
    public int DeletedTenantRetentionDays { get; set; } = 30;

    /// <summary>Gets or sets how often the purge and plan-retention jobs run, in minutes.</summary>
    public int RetentionJobIntervalMinutes { get; set; } = 60;
    /// <summary>Gets or sets the former key folder of Data Protection (DataProtection:KeysFolder): keys found there are imported once into PostgreSQL, which holds the key ring (ADR 0196).</summary>
    public string? DataProtectionKeysFolder { get; set; }

    /// <summary>Gets or sets the base64 of the 32-byte key that encrypts the Data Protection key ring at rest (DataProtection:KeyEncryptionKey).</summary>
    public string? DataProtectionKeyEncryptionKey { get; set; }

    /// <summary>Gets or sets former key encryption keys, base64, that still decrypt keys stored before a rotation (DataProtection:OldKeyEncryptionKeys, comma-separated).</summary>
    public IReadOnlyList<string> DataProtectionOldKeyEncryptionKeys { get; set; } = [];

    /// <summary>Gets or sets whether the engines refuse to start without DataProtection:KeyEncryptionKey; the API and the Worker require it outside Development.</summary>
    public bool RequireKeyEncryptionKey { get; set; }

    /// <summary>Gets or sets the connection string of the LISTEN connection (ConnectionStrings:PlatformListener); null uses the service's own. Set it to a direct (or session-pooled) connection when the service's goes through PgBouncer in transaction mode (ADR 0161).</summary>
    public string? ListenerConnectionString { get; set; }
    /// <summary>Gets or sets how long an API key's usage summary may be served from this instance's memory (Usage:SummaryCacheMilliseconds;
    /// zero turns the cache off). Writes through this instance evict their tenant at once; the time bounds what other instances wrote (ADR 0164).</summary>
    public TimeSpan UsageSummaryCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long a run may stay running before the timeout job fails it and frees its slot.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how often the timeout job looks for runs past their timeout.</summary>
    public TimeSpan RunTimeoutSweepInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Gets or sets how many days after issue an offline invoice falls due.</summary>
    public int InvoiceDueDays { get; set; } = 14;

    /// <summary>Gets or sets how many tenants the monthly close prices and stores per transaction.</summary>
    public int BillingCloseBatchSize { get; set; } = 1000;

    /// <summary>Gets or sets how often the close job checks whether the previous UTC month still needs closing, in minutes.</summary>
    public int BillingCloseJobIntervalMinutes { get; set; } = 15;

    /// <summary>Gets or sets the Stripe secret key; null or empty means billing runs offline.</summary>
    public string? StripeSecretKey { get; set; }

    /// <summary>Gets or sets the Stripe API base address (tests point it at a local fake); null means Stripe's own.</summary>
    public string? StripeApiBase { get; set; }

    /// <summary>Gets the Stripe price id per "{plan}_{cycle}" (for example "professional_monthly").</summary>
    public Dictionary<string, string> StripePriceIds { get; } = [];

    /// <summary>Gets or sets the signing secret of Stripe webhooks (whsec_...); without it every webhook is refused.</summary>
    public string? StripeWebhookSecret { get; set; }

    /// <summary>Gets or sets how long a subscription may stay past_due before the dunning job suspends the tenant, in days.</summary>
    public int DunningGraceDays { get; set; } = 7;

    /// <summary>Gets or sets what happens at the end of a trial without a live subscription: "free" (move to the free plan) or "suspend".</summary>
    public string TrialEndAction { get; set; } = "free";

    /// <summary>Gets or sets how many days before a trial ends its reminder email is queued.</summary>
    public int TrialReminderDays { get; set; } = 3;

    /// <summary>Gets or sets how often the billing lifecycle job (dunning, trials, period ends) runs, in seconds.</summary>
    public int BillingJobIntervalSeconds { get; set; } = 300;

    /// <summary>Gets or sets how long an Idempotency-Key is kept after its first request before the retention job purges it (Idempotency:RetentionHours; at least 24 hours).</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets how long a claimed Idempotency-Key stays in flight before another request with the same key and body may take it over (Idempotency:LeaseSeconds).</summary>
    /// <remarks>It must exceed the longest a create or charge request can take: a request still running after it may run twice (ADR 0190).</remarks>
    public TimeSpan IdempotencyLease { get; set; } = TimeSpan.FromMinutes(5);
}
