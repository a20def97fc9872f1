using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Support;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Support;
using Platform.Models.Tenants;

namespace Platform.Engines.Operators;

/// <summary>Lists the support tickets of every tenant (any operator), in id order, through the cross-tenant function admin_support_tickets.</summary>
public sealed record ListAllSupportTickets(Caller Caller, SupportTicketFilter Filter, string? Cursor, int Limit)
    : IRequest<Page<SupportTicketSnapshot>>, ICallerCommand;

/// <summary>Reads any tenant's support ticket with its responses (any operator).</summary>
public sealed record GetSupportTicketForOperator(Caller Caller, Guid TicketId) : IRequest<SupportTicketDetail>, ICallerCommand;

/// <summary>Adds an operator's response to a ticket (support+); audited in the tenant and recorded as an irreversible founder action.</summary>
public sealed record RespondToSupportTicket(Caller Caller, Guid TicketId, string Body) : IRequest<SupportTicketResponseSnapshot>, ICallerCommand;

/// <summary>Changes a ticket's status (support+); "resolved" needs a resolution (resolving again replaces it), a closed ticket is final (409 ticket_closed) and a change to the same status is refused (409 status_unchanged). Audited in the tenant and recorded as an irreversible founder action.</summary>
public sealed record ChangeSupportTicketStatus(Caller Caller, Guid TicketId, string Status, string? Resolution) : IRequest<SupportTicketSnapshot>, ICallerCommand;

internal sealed class ListAllSupportTicketsValidator : AbstractValidator<ListAllSupportTickets>
{
    public ListAllSupportTicketsValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Filter.Status).Must(s => s is null || SupportTickets.Statuses.Contains(s)).OverridePropertyName("status")
            .WithMessage($"Status must be one of {string.Join(", ", SupportTickets.Statuses)}.");
        RuleFor(c => c.Filter.Priority).Must(s => s is null || SupportTickets.Priorities.Contains(s)).OverridePropertyName("priority")
            .WithMessage($"Priority must be one of {string.Join(", ", SupportTickets.Priorities)}.");
        RuleFor(c => c.Filter.Category).Must(s => s is null || SupportTickets.Categories.Contains(s)).OverridePropertyName("category")
            .WithMessage($"Category must be one of {string.Join(", ", SupportTickets.Categories)}.");
    }
}

internal sealed class RespondToSupportTicketValidator : AbstractValidator<RespondToSupportTicket>
{
    public RespondToSupportTicketValidator() => RuleFor(c => c.Body).NotEmpty().MaximumLength(10000);
}

internal sealed class ChangeSupportTicketStatusValidator : AbstractValidator<ChangeSupportTicketStatus>
{
    public ChangeSupportTicketStatusValidator()
    {
        RuleFor(c => c.Status).Must(SupportTickets.Statuses.Contains)
            .WithMessage($"Status must be one of {string.Join(", ", SupportTickets.Statuses)}.");
        RuleFor(c => c.Resolution).NotEmpty().When(c => c.Status == SupportTicketStatus.Resolved.ToWire()).WithMessage("A resolved ticket needs a resolution.");
        RuleFor(c => c.Resolution).MaximumLength(10000);
    }
}

internal sealed class ListAllSupportTicketsHandler(IDbSessionFactory sessions, ISupportTicketDriver tickets)
    : IRequestHandler<ListAllSupportTickets, Page<SupportTicketSnapshot>>
{
    public async Task<Page<SupportTicketSnapshot>> Handle(ListAllSupportTickets query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        var after = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var rows = await tickets.ListAllTicketsAsync(session, query.Filter, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, t => t.Id);
    }
}

/// <summary>Opens the tenant scope of a ticket for an operator: the tenant is found across tenants, the work is done under that tenant's row-level security.</summary>
internal sealed class OperatorTicketScopes(IDbSessionFactory sessions, TenantGate gate, ISupportTicketDriver tickets)
{
    public async Task<TenantScope> EnterAsync(Caller caller, Guid ticketId, CancellationToken cancellationToken)
    {
        Guid? tenantId;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantId = await tickets.FindTicketTenantAsync(lookup, ticketId, cancellationToken);
        }
        return await gate.EnterAsync(tenantId ?? throw new NotFoundException("support ticket"), caller, TenantRole.Viewer, Access.Read, cancellationToken);
    }
}

internal sealed class GetSupportTicketForOperatorHandler(OperatorTicketScopes scopes, ISupportTicketDriver tickets)
    : IRequestHandler<GetSupportTicketForOperator, SupportTicketDetail>
{
    public async Task<SupportTicketDetail> Handle(GetSupportTicketForOperator query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        await using var scope = await scopes.EnterAsync(query.Caller, query.TicketId, cancellationToken);
        var ticket = await tickets.FetchTicketAsync(scope.Session, scope.Tenant.Id, query.TicketId, cancellationToken)
            ?? throw new NotFoundException("support ticket");
        return new SupportTicketDetail(ticket, await tickets.ListResponsesAsync(scope.Session, scope.Tenant.Id, query.TicketId, cancellationToken));
    }
}

internal sealed class RespondToSupportTicketHandler(
    OperatorTicketScopes scopes, ISupportTicketDriver tickets, AuditTrail audit, FounderActionLog log, IClock clock)
    : IRequestHandler<RespondToSupportTicket, SupportTicketResponseSnapshot>
{
    public async Task<SupportTicketResponseSnapshot> Handle(RespondToSupportTicket command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.Support);
        await using var scope = await scopes.EnterAsync(command.Caller, command.TicketId, cancellationToken);
        var tenantId = scope.Tenant.Id;
        _ = await tickets.LockTicketAsync(scope.Session, tenantId, command.TicketId, cancellationToken) ?? throw new NotFoundException("support ticket");
        var response = await tickets.InsertResponseAsync(scope.Session, new SupportTicketResponseSnapshot(
            tenantId, Guid.CreateVersion7(), command.TicketId, "operator", command.Caller.OperatorId!.Value, command.Body, clock.UtcNow), cancellationToken);
        await audit.RecordAsync(scope.Session, tenantId, command.Caller, "support_ticket.responded", "support_ticket", command.TicketId,
            null, new { response_id = response.Id, author_type = response.AuthorType }, cancellationToken);
        await log.AppendAsync(scope.Session, command.Caller, "support_ticket.respond", "support_ticket", command.TicketId.ToString(), tenantId,
            "support", null, false, null, new { response_id = response.Id }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return response;
    }
}

internal sealed class ChangeSupportTicketStatusHandler(
    OperatorTicketScopes scopes, ISupportTicketDriver tickets, AuditTrail audit, FounderActionLog log, IClock clock)
    : IRequestHandler<ChangeSupportTicketStatus, SupportTicketSnapshot>
{
    public async Task<SupportTicketSnapshot> Handle(ChangeSupportTicketStatus command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.Support);
        await using var scope = await scopes.EnterAsync(command.Caller, command.TicketId, cancellationToken);
        var tenantId = scope.Tenant.Id;
        var before = await tickets.LockTicketAsync(scope.Session, tenantId, command.TicketId, cancellationToken)
            ?? throw new NotFoundException("support ticket");
        var status = WireNames.Parse<SupportTicketStatus>(command.Status);
        var resolved = status == SupportTicketStatus.Resolved;
        if (before.Status == SupportTicketStatus.Closed)
        {
            throw new ConflictException("A closed ticket cannot change; the tenant can open a new one.", "ticket_closed");
        }
        if (before.Status == status && !resolved)
        {
            throw new ConflictException($"The ticket is already {before.Status.ToWire()}.", "status_unchanged");
        }
        var now = clock.UtcNow;
        var after = await tickets.SetStatusAsync(scope.Session, tenantId, command.TicketId, status,
            resolved ? command.Resolution : before.Resolution, resolved ? now : before.ResolvedAt,
            resolved ? command.Caller.OperatorId : before.ResolvedBy, now, cancellationToken);
        var action = resolved ? "support_ticket.resolved" : "support_ticket.status_changed";
        await audit.RecordAsync(scope.Session, tenantId, command.Caller, action, "support_ticket", command.TicketId,
            new { status = before.Status }, new { status = after.Status, resolution = after.Resolution }, cancellationToken);
        await log.AppendAsync(scope.Session, command.Caller, resolved ? "support_ticket.resolve" : "support_ticket.change_status", "support_ticket",
            command.TicketId.ToString(), tenantId, "support", null, false, null, new { from = before.Status.ToWire(), to = after.Status.ToWire() }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return after;
    }
}
