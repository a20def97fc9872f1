namespace Platform.Models.Tenants;

/// <summary>Names the fair-use rules whose refusals are recorded for operators (fair_use_refusals.rule).</summary>
public static class FairUseRules
{
    public const string OwnedTenants = "owned_tenants";
    public const string TenantsPerDay = "tenants_per_day";
    public const string Trial = "trial";
}

/// <summary>Is an operator's cap on how many live tenants one user may own, with why and by which founder action it was set.</summary>
public sealed record UserTenantCap(Guid UserId, int MaxOwnedTenants, string Reason, Guid SetByAction, DateTimeOffset UpdatedAt);

/// <summary>Is one user who met fair-use limits: which rules, how often and when, what was refused last, and the user's state now
/// (email, live owned tenants, the operator's cap if any).</summary>
public sealed record CappedUser(
    Guid UserId, string? Email, IReadOnlyList<string> Rules, int Refusals, DateTimeOffset FirstAt, DateTimeOffset LastAt, string LastDetail,
    int OwnedTenants, int? CapOverride);

/// <summary>Tells what happened to an operator's trial allowance on revocation: revoked now, already used by a tenant, or not found (or revoked before).</summary>
public enum AllowanceRevocation
{
    Revoked,
    AlreadyUsed,
    NotOpen,
}
