namespace Platform.Models.Tenants;

/// <summary>Describes a member's role in a tenant; a higher value includes every right of the lower ones.</summary>
[WireEnum]
public enum TenantRole
{
    Viewer = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}
