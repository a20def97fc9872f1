using FluentValidation;
using MediatR;
using Platform.Drivers.Invitations;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Engines.Invitations;

/// <summary>Lists a tenant's invitations newest first, optionally of one status (admin or higher).</summary>
public sealed record ListInvitations(Caller Caller, Guid TenantId, InvitationStatus? Status, string? Cursor, int Limit)
    : IRequest<Page<InvitationSnapshot>>, ITenantRead, ICallerCommand;

internal sealed class ListInvitationsValidator : AbstractValidator<ListInvitations>
{
    public ListInvitationsValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListInvitationsHandler(TenantGate gate, IInvitationDriver invitations, IClock clock)
    : IRequestHandler<ListInvitations, Page<InvitationSnapshot>>
{
    public async Task<Page<InvitationSnapshot>> Handle(ListInvitations query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var rows = await invitations.ListInvitationsAsync(scope.Session, query.TenantId, query.Status, before, clock.UtcNow, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, i => i.Id);
    }
}
