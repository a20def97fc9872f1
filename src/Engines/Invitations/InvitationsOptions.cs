using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Invitations;

/// <summary>Holds the invitations' settings (section "Invitations").</summary>
public sealed class InvitationsOptions
{
    /// <summary>Gets or sets how long an invitation stays valid, in days (Invitations:ExpiryDays).</summary>
    [Range(1, 365)]
    public int ExpiryDays { get; set; } = 7;
}
