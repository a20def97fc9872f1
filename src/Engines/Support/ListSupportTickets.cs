using FluentValidation;
using MediatR;
using Platform.Drivers.Support;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Support;
using Platform.Models.Tenants;

namespace Platform.Engines.Support;

/// <summary>Lists a tenant's support tickets newest first (viewer or higher), optionally by status.</summary>
public sealed record ListSupportTickets(Caller Caller, Guid TenantId, string? Status, string? Cursor, int Limit)
    : IRequest<Page<SupportTicketSnapshot>>, ITenantRead, ICallerCommand;

/// <summary>Reads one of a tenant's support tickets with its responses (viewer or higher); another tenant's ticket is 404.</summary>
public sealed record GetSupportTicket(Caller Caller, Guid TenantId, Guid TicketId) : IRequest<SupportTicketDetail>, ITenantRead, ICallerCommand;

internal sealed class ListSupportTicketsValidator : AbstractValidator<ListSupportTickets>
{
    public ListSupportTicketsValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Status).Must(s => s is null || SupportTickets.Statuses.Contains(s))
            .WithMessage($"Status must be one of {string.Join(", ", SupportTickets.Statuses)}.");
    }
}

internal sealed class ListSupportTicketsHandler(TenantGate gate, ISupportTicketDriver tickets) : IRequestHandler<ListSupportTickets, Page<SupportTicketSnapshot>>
{
    public async Task<Page<SupportTicketSnapshot>> Handle(ListSupportTickets query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var rows = await tickets.ListTicketsAsync(scope.Session, query.TenantId, query.Status is null ? null : WireNames.Parse<SupportTicketStatus>(query.Status), before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, t => t.Id);
    }
}

internal sealed class GetSupportTicketHandler(TenantGate gate, ISupportTicketDriver tickets) : IRequestHandler<GetSupportTicket, SupportTicketDetail>
{
    public async Task<SupportTicketDetail> Handle(GetSupportTicket query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var ticket = await tickets.FetchTicketAsync(scope.Session, query.TenantId, query.TicketId, cancellationToken)
            ?? throw new NotFoundException("support ticket");
        var responses = await tickets.ListResponsesAsync(scope.Session, query.TenantId, query.TicketId, cancellationToken);
        return new SupportTicketDetail(ticket, responses);
    }
}
