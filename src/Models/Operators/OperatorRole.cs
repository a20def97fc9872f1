namespace Platform.Models.Operators;

/// <summary>Names the operator roles, ordered by reach: viewer reads, billing also handles money, support also acts on tenants and tickets, super_admin also reverses actions.</summary>
[WireEnum]
public enum OperatorRole
{
    Viewer = 0,
    Billing = 1,
    Support = 2,
    SuperAdmin = 3,
}
