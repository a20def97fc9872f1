using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Engines.Tenants;

/// <summary>Lists the caller's live tenants with their role, one page at a time.</summary>
public sealed record ListMyTenants(Caller Caller, string? Cursor, int Limit) : IRequest<Page<TenantMembershipSnapshot>>, ICallerCommand;

internal sealed class ListMyTenantsValidator : AbstractValidator<ListMyTenants>
{
    public ListMyTenantsValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListMyTenantsHandler(IDbSessionFactory sessions, ITenantDriver tenants)
    : IRequestHandler<ListMyTenants, Page<TenantMembershipSnapshot>>
{
    public async Task<Page<TenantMembershipSnapshot>> Handle(ListMyTenants query, CancellationToken cancellationToken)
    {
        var after = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, query.Caller.RequireUserId(), cancellationToken);
        var rows = await tenants.ListMyTenantsAsync(session, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, r => r.Tenant.Id);
    }
}
