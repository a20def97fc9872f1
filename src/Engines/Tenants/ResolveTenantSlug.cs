using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Models.Errors;

namespace Platform.Engines.Tenants;

/// <summary>Finds the tenant id that holds a slug (for Host-based tenant resolution); membership is checked later by the command itself.</summary>
public sealed record ResolveTenantSlug(string Slug) : IRequest<Guid>;

internal sealed class ResolveTenantSlugHandler(IDbSessionFactory sessions, ITenantDriver tenants) : IRequestHandler<ResolveTenantSlug, Guid>
{
    public async Task<Guid> Handle(ResolveTenantSlug query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await tenants.FindTenantIdBySlugAsync(session, query.Slug, cancellationToken)
            ?? throw new NotFoundException("tenant");
    }
}
