namespace Platform.Models.Tenants;

/// <summary>Describes a member's role in a tenant; a higher value includes every right of the lower ones.</summary>
public enum TenantRole
{
    Viewer = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}

/// <summary>Converts roles to and from their lowercase wire and database names.</summary>
public static class TenantRoles
{
    public static string ToWire(this TenantRole role) => role switch
    {
        TenantRole.Viewer => "viewer",
        TenantRole.Member => "member",
        TenantRole.Admin => "admin",
        TenantRole.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? value, out TenantRole role)
    {
        switch (value)
        {
            case "viewer": role = TenantRole.Viewer; return true;
            case "member": role = TenantRole.Member; return true;
            case "admin": role = TenantRole.Admin; return true;
            case "owner": role = TenantRole.Owner; return true;
            default: role = default; return false;
        }
    }

    public static TenantRole Parse(string value) =>
        TryParse(value, out var role) ? role : throw new FormatException($"Unknown role '{value}'.");
}
