using FluentValidation;
using MediatR;
using Platform.Drivers.Support;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Support;
using Platform.Models.Tenants;

namespace Platform.Engines.Support;

/// <summary>Opens a support ticket in a tenant (member or higher; a signed-in user, not an API key); owners and admins may do so while the tenant is suspended.</summary>
public sealed record OpenSupportTicket(Caller Caller, Guid TenantId, string Subject, string Description, string Category, string Priority)
    : IRequest<SupportTicketSnapshot>, ITenantWrite, ICallerCommand;

/// <summary>Adds a tenant member's response to one of the tenant's tickets (member or higher).</summary>
public sealed record AddSupportTicketComment(Caller Caller, Guid TenantId, Guid TicketId, string Body)
    : IRequest<SupportTicketResponseSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class OpenSupportTicketValidator : AbstractValidator<OpenSupportTicket>
{
    public OpenSupportTicketValidator()
    {
        RuleFor(c => c.Subject).NotEmpty().MaximumLength(200);
        RuleFor(c => c.Description).NotEmpty().MaximumLength(10000);
        RuleFor(c => c.Category).Must(SupportTickets.Categories.Contains).WithMessage($"Category must be one of {string.Join(", ", SupportTickets.Categories)}.");
        RuleFor(c => c.Priority).Must(SupportTickets.Priorities.Contains).WithMessage($"Priority must be one of {string.Join(", ", SupportTickets.Priorities)}.");
    }
}

internal sealed class AddSupportTicketCommentValidator : AbstractValidator<AddSupportTicketComment>
{
    public AddSupportTicketCommentValidator() => RuleFor(c => c.Body).NotEmpty().MaximumLength(10000);
}

internal sealed class OpenSupportTicketHandler(TenantGate gate, ISupportTicketDriver tickets, AuditTrail audit, IClock clock)
    : IRequestHandler<OpenSupportTicket, SupportTicketSnapshot>
{
    public async Task<SupportTicketSnapshot> Handle(OpenSupportTicket command, CancellationToken cancellationToken)
    {
        // Read access: the owners and admins of a suspended tenant can still reach support (to appeal, for one).
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Read, cancellationToken);
        var now = clock.UtcNow;
        var ticket = await tickets.InsertTicketAsync(scope.Session, new SupportTicketSnapshot(
            command.TenantId, Guid.CreateVersion7(), command.Caller.RequireUserId(), command.Subject.Trim(), command.Description,
            command.Category, command.Priority, SupportTicketStatus.Open, null, null, null, now, now), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "support_ticket.opened", "support_ticket", ticket.Id,
            null, new { ticket.Subject, ticket.Category, ticket.Priority, ticket.Status }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return ticket;
    }
}

internal sealed class AddSupportTicketCommentHandler(TenantGate gate, ISupportTicketDriver tickets, AuditTrail audit, IClock clock)
    : IRequestHandler<AddSupportTicketComment, SupportTicketResponseSnapshot>
{
    public async Task<SupportTicketResponseSnapshot> Handle(AddSupportTicketComment command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Read, cancellationToken);
        _ = await tickets.FetchTicketAsync(scope.Session, command.TenantId, command.TicketId, cancellationToken)
            ?? throw new Models.Errors.NotFoundException("support ticket");
        var response = await tickets.InsertResponseAsync(scope.Session, new SupportTicketResponseSnapshot(
            command.TenantId, Guid.CreateVersion7(), command.TicketId, "user", command.Caller.RequireUserId(), command.Body, clock.UtcNow), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "support_ticket.responded", "support_ticket", command.TicketId,
            null, new { response_id = response.Id, author_type = response.AuthorType }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return response;
    }
}
