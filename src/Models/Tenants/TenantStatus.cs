namespace Platform.Models.Tenants;

/// <summary>Describes where a tenant is in its lifecycle.</summary>
[WireEnum]
public enum TenantStatus
{
    Trial,
    Active,
    PastDue,
    Suspended,
    Cancelled,
    Deleted,
}

/// <summary>Holds the rules that read a tenant status.</summary>
public static class TenantStatuses
{
    /// <summary>Is the suspended_reason of a tenant created on a paid plan without a trial (when_trial_unavailable = paid, ADR 0520):
    /// nothing runs until its owner subscribes, which lifts it like billing's other suspensions.</summary>
    public const string AwaitingSubscriptionReason = "billing: awaiting the first subscription";

    /// <summary>Tells whether writes are refused for a tenant in this status.</summary>
    public static bool BlocksWrites(this TenantStatus status) =>
        status is TenantStatus.Suspended or TenantStatus.Deleted;
}
