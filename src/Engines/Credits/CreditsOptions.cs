namespace Platform.Engines.Credits;

/// <summary>Holds the credits settings (section "Credits"): expiry of unused plan grants (ADR 0650).</summary>
public sealed class CreditsOptions
{
    /// <summary>Gets or sets whether the unspent part of a month's plan grants (monthly grant and upgrade differences; never purchased or adjusted
    /// credits) expires when the next month is granted (Credits:ExpireUnusedAtPeriodEnd). Off by default: unused grants roll over.</summary>
    public bool ExpireUnusedAtPeriodEnd { get; set; }
}
