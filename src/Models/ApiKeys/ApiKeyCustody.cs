namespace Platform.Models.ApiKeys;

/// <summary>Names the revocation reasons of the custody rule: a key that is not a service key is revoked when its creator stops being an admin or owner of the tenant (ADR 0195).</summary>
public static class ApiKeyCustody
{
    /// <summary>Is the reason when an admin or owner removed the creator from the tenant.</summary>
    public const string CreatorRemoved = "creator_removed";

    /// <summary>Is the reason when the creator left the tenant.</summary>
    public const string CreatorLeft = "creator_left";

    /// <summary>Is the reason when the creator erased their account (GDPR).</summary>
    public const string CreatorErased = "creator_erased";

    /// <summary>Is the reason when the creator was demoted below admin, the role that creating a key needs.</summary>
    public const string CreatorDemoted = "creator_demoted";
}
