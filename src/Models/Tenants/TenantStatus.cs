namespace Platform.Models.Tenants;

/// <summary>Describes where a tenant is in its lifecycle.</summary>
public enum TenantStatus
{
    Trial,
    Active,
    PastDue,
    Suspended,
    Cancelled,
    Deleted,
}

/// <summary>Converts tenant statuses to and from their snake_case wire and database names.</summary>
public static class TenantStatuses
{
    public static string ToWire(this TenantStatus status) => status switch
    {
        TenantStatus.Trial => "trial",
        TenantStatus.Active => "active",
        TenantStatus.PastDue => "past_due",
        TenantStatus.Suspended => "suspended",
        TenantStatus.Cancelled => "cancelled",
        TenantStatus.Deleted => "deleted",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static TenantStatus Parse(string value) => value switch
    {
        "trial" => TenantStatus.Trial,
        "active" => TenantStatus.Active,
        "past_due" => TenantStatus.PastDue,
        "suspended" => TenantStatus.Suspended,
        "cancelled" => TenantStatus.Cancelled,
        "deleted" => TenantStatus.Deleted,
        _ => throw new FormatException($"Unknown tenant status '{value}'."),
    };

    /// <summary>Tells whether writes are refused for a tenant in this status.</summary>
    public static bool BlocksWrites(this TenantStatus status) =>
        status is TenantStatus.Suspended or TenantStatus.Deleted;
}
