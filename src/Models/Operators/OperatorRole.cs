namespace Platform.Models.Operators;

/// <summary>Names the operator roles, ordered by reach: viewer reads, billing also handles money, support also acts on tenants and tickets, super_admin also reverses actions.</summary>
public enum OperatorRole
{
    Viewer = 0,
    Billing = 1,
    Support = 2,
    SuperAdmin = 3,
}

/// <summary>Converts operator roles to and from their wire names.</summary>
public static class OperatorRoles
{
    public static string ToWire(this OperatorRole role) => role switch
    {
        OperatorRole.Viewer => "viewer",
        OperatorRole.Billing => "billing",
        OperatorRole.Support => "support",
        OperatorRole.SuperAdmin => "super_admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? value, out OperatorRole role)
    {
        (var known, role) = value switch
        {
            "viewer" => (true, OperatorRole.Viewer),
            "billing" => (true, OperatorRole.Billing),
            "support" => (true, OperatorRole.Support),
            "super_admin" => (true, OperatorRole.SuperAdmin),
            _ => (false, OperatorRole.Viewer),
        };
        return known;
    }

    public static OperatorRole Parse(string value) =>
        TryParse(value, out var role) ? role : throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown operator role.");
}
