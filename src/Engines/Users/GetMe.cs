using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Reads the signed-in user and their memberships (at most 1,000).</summary>
public sealed record GetMe(Caller Caller) : IRequest<Me>;

/// <summary>Holds the signed-in user and their live tenants with their role in each.</summary>
public sealed record Me(UserSnapshot User, IReadOnlyList<TenantMembershipSnapshot> Memberships);

internal sealed class GetMeHandler(IDbSessionFactory sessions, IUserDriver users, ITenantDriver tenants)
    : IRequestHandler<GetMe, Me>
{
    public async Task<Me> Handle(GetMe query, CancellationToken cancellationToken)
    {
        var userId = query.Caller.RequireUserId();
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        var user = await users.FetchUserAsync(session, userId, cancellationToken);
        if (user is null || user.Status != UserStatus.Active)
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        var memberships = await tenants.ListMyTenantsAsync(session, after: null, limit: 1000, cancellationToken);
        return new Me(user, memberships);
    }
}
