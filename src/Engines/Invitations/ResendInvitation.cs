using MediatR;
using Platform.Drivers.Email;
using Platform.Drivers.Invitations;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Email;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Engines.Invitations;

/// <summary>Issues a new token and expiry for a pending or expired invitation and queues a new email; the old token stops working.</summary>
public sealed record ResendInvitation(Caller Caller, Guid TenantId, Guid InvitationId)
    : IRequest<IssuedInvitation>, ITenantWrite, ICallerCommand;

internal sealed class ResendInvitationHandler(
    TenantGate gate, ITenantDriver tenants, IInvitationDriver invitations, EmailOutbox emails, AuditTrail audit, InvitationsOptions options, EmailOptions emailOptions, IClock clock,
    Drivers.Plans.IQuotaDriver quotas)
    : IRequestHandler<ResendInvitation, IssuedInvitation>
{
    public async Task<IssuedInvitation> Handle(ResendInvitation command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var now = clock.UtcNow;
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var invitation = await invitations.FetchInvitationAsync(scope.Session, command.TenantId, command.InvitationId, now, forUpdate: true, cancellationToken)
            ?? throw new NotFoundException("invitation");
        InvitationRules.RequireRightToInvite(scope.Role, invitation.Role);
        if (invitation.Status is InvitationStatus.Accepted or InvitationStatus.Revoked)
        {
            throw new ConflictException($"The invitation is already {invitation.Status.ToWire()}.", "invitation_not_pending");
        }
        if (invitation.Status == InvitationStatus.Expired)
        {
            // An expired invitation holds no seat; reviving it must find one.
            await InvitationRules.RequireSeatAsync(invitations, scope.Tenant, invitation.Id, countPending: true, now, scope.Session, cancellationToken, quotas);
        }

        var (token, hash) = InvitationTokens.New();
        var reissued = await invitations.ReissueInvitationAsync(scope.Session, command.TenantId, invitation.Id, hash, now.AddDays(options.ExpiryDays), now, cancellationToken)
            ?? throw new ConflictException("The invitation is no longer pending.", "invitation_not_pending");
        var acceptUrl = InvitationTokens.AcceptUrl(emailOptions.LinkBaseUrl, token);
        await InvitationTokens.QueueEmailAsync(emails, scope.Session, command.TenantId, emailOptions.LinkBaseUrl, token, reissued.ExpiresAt,
            url => EmailTemplates.Invitation(reissued.Email, scope.Tenant.Name, reissued.Role.ToWire(), url, reissued.ExpiresAt), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "invitation.resent", "invitation", reissued.Id,
            new { status = invitation.Status, invitation.ExpiresAt }, new { status = reissued.Status, reissued.ExpiresAt, reissued.SentCount }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new IssuedInvitation(reissued, token, acceptUrl);
    }
}
