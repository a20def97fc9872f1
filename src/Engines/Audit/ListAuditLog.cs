using FluentValidation;
using MediatR;
using Platform.Drivers.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Audit;
using Platform.Models.Tenants;

namespace Platform.Engines.Audit;

/// <summary>Lists a tenant's audit rows newest first (admin or higher), filtered by action (exact, or a prefix ending in "."), actor (an id, or a type such as "user") and a time range [from, to).</summary>
public sealed record ListAuditLog(Caller Caller, Guid TenantId, string? Action, string? Actor, DateTimeOffset? From, DateTimeOffset? To, string? Cursor, int Limit)
    : IRequest<Page<AuditRecord>>, ITenantRead, ICallerCommand;

internal sealed class ListAuditLogValidator : AbstractValidator<ListAuditLog>
{
    private static readonly string[] ActorTypes = ["user", "api_key", "operator", "system"];

    public ListAuditLogValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Action).MaximumLength(100);
        RuleFor(c => c.Actor).Must(a => a is null || Guid.TryParse(a, out _) || ActorTypes.Contains(a))
            .WithMessage("The actor must be an id or one of user, api_key, operator, system.");
        RuleFor(c => c.To).GreaterThan(c => c.From).When(c => c.From is not null && c.To is not null)
            .WithMessage("'to' must be after 'from'.");
    }
}

internal sealed class ListAuditLogHandler(TenantGate gate, IAuditLogDriver auditLog) : IRequestHandler<ListAuditLog, Page<AuditRecord>>
{
    public async Task<Page<AuditRecord>> Handle(ListAuditLog query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        var actorId = Guid.TryParse(query.Actor, out var id) ? id : (Guid?)null;
        var filter = new AuditLogFilter(
            string.IsNullOrEmpty(query.Action) ? null : query.Action,
            actorId is null ? query.Actor : null,
            actorId,
            query.From,
            query.To);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var rows = await auditLog.ListAuditRecordsAsync(scope.Session, query.TenantId, filter, before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, r => r.Id);
    }
}
