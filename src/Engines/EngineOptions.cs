using Platform.Drivers.Mail;

namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
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
}
