using MediatR;
using Platform.Drivers.Invitations;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Engines.Invitations;

/// <summary>Revokes a pending invitation (admin or higher; only an owner revokes an owner invitation); its token stops working at once.</summary>
public sealed record RevokeInvitation(Caller Caller, Guid TenantId, Guid InvitationId)
    : IRequest<InvitationSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class RevokeInvitationHandler(TenantGate gate, IInvitationDriver invitations, AuditTrail audit, IClock clock)
    : IRequestHandler<RevokeInvitation, InvitationSnapshot>
{
    public async Task<InvitationSnapshot> Handle(RevokeInvitation command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var now = clock.UtcNow;
        var invitation = await invitations.FetchInvitationAsync(scope.Session, command.TenantId, command.InvitationId, now, forUpdate: true, cancellationToken)
            ?? throw new NotFoundException("invitation");
        InvitationRules.RequireRightToInvite(scope.Role, invitation.Role);
        if (invitation.Status is InvitationStatus.Accepted or InvitationStatus.Revoked)
        {
            throw new ConflictException($"The invitation is already {invitation.Status.ToWire()}.", "invitation_not_pending");
        }
        var revoked = await invitations.RevokeInvitationAsync(scope.Session, command.TenantId, command.InvitationId, now, cancellationToken)
            ?? throw new ConflictException("The invitation is no longer pending.", "invitation_not_pending");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "invitation.revoked", "invitation", revoked.Id,
            new { status = invitation.Status, invitation.Email }, new { status = revoked.Status }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return revoked;
    }
}
