using FluentValidation;
using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Operators;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Operators;

/// <summary>Searches every tenant (any operator) by name or slug, status and plan, in id order, through the cross-tenant function admin_search_tenants.</summary>
public sealed record SearchTenants(Caller Caller, string? Query, string? Status, string? Plan, string? Cursor, int Limit)
    : IRequest<Page<TenantSnapshot>>, ICallerCommand;

/// <summary>Reads one tenant with its counters (any operator), inside a session scoped to that tenant.</summary>
public sealed record GetAdminTenant(Caller Caller, Guid TenantId) : IRequest<AdminTenantDetail>, ITenantRead, ICallerCommand;

internal sealed class SearchTenantsValidator : AbstractValidator<SearchTenants>
{
    private static readonly IReadOnlyList<string> Statuses = WireNames.Names<TenantStatus>();

    public SearchTenantsValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Query).MaximumLength(200).OverridePropertyName("q");
        RuleFor(c => c.Status).Must(s => s is null || Statuses.Contains(s)).WithMessage($"Status must be one of {string.Join(", ", Statuses)}.");
        RuleFor(c => c.Plan).Must(p => p is null || PlanCatalog.All.Any(x => x.Id == p)).WithMessage("Unknown plan.");
    }
}

internal sealed class SearchTenantsHandler(IDbSessionFactory sessions, IAdminTenantDriver tenants) : IRequestHandler<SearchTenants, Page<TenantSnapshot>>
{
    public async Task<Page<TenantSnapshot>> Handle(SearchTenants query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        var after = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var search = string.IsNullOrWhiteSpace(query.Query) ? null : query.Query.Trim();
        var rows = await tenants.SearchTenantsAsync(session, search, query.Status, query.Plan, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, t => t.Id);
    }
}

internal sealed class GetAdminTenantHandler(TenantGate gate, IAdminTenantDriver tenants, IFounderActionDriver actions)
    : IRequestHandler<GetAdminTenant, AdminTenantDetail>
{
    public async Task<AdminTenantDetail> Handle(GetAdminTenant query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var (members, openTickets) = await tenants.CountTenantAsync(scope.Session, query.TenantId, cancellationToken);
        var founderActions = await actions.CountForTenantAsync(scope.Session, query.TenantId, cancellationToken);
        return new AdminTenantDetail(scope.Tenant, members, openTickets, founderActions);
    }
}
