using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Api.Members;

public sealed record ChangeRoleRequest(string? Role);

/// <summary>Is the wire form of a member.</summary>
public sealed record MemberResponse(Guid UserId, string Email, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static MemberResponse From(MemberSnapshot m) => new(m.UserId, m.Email, m.Name, m.Role.ToWire(), m.CreatedAt, m.UpdatedAt);
}
