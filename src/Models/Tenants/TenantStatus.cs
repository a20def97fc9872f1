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
    /// <summary>Tells whether writes are refused for a tenant in this status.</summary>
    public static bool BlocksWrites(this TenantStatus status) =>
        status is TenantStatus.Suspended or TenantStatus.Deleted;
}
