using FluentValidation;
using MediatR;
using Platform.Drivers.Invitations;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Throttles;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Invitations;
using Platform.Models.Tenants;
using Platform.Models.Users;
using Platform.Models.Webhooks;

namespace Platform.Engines.Invitations;

/// <summary>Accepts an invitation by its token for the signed-in user whose email matches it (case-insensitive): the user becomes a member with the invited role. Unknown tokens are limited per user and acceptances per client IP (429 rate_limited).</summary>
public sealed record AcceptInvitation(Caller Caller, string Token) : IRequest<TenantMembershipSnapshot>, ICallerCommand;

internal sealed class AcceptInvitationValidator : AbstractValidator<AcceptInvitation>
{
    public AcceptInvitationValidator() => RuleFor(c => c.Token).NotEmpty().MaximumLength(200);
}

internal sealed class AcceptInvitationHandler(
    IDbSessionFactory sessions, IUserDriver users, ITenantDriver tenants, IInvitationDriver invitations, AuditTrail audit, WebhookEvents events,
    AuthThrottle throttle, AuthThrottleOptions limits, IClock clock, Drivers.Plans.IQuotaDriver quotas)
    : IRequestHandler<AcceptInvitation, TenantMembershipSnapshot>
{
    public async Task<TenantMembershipSnapshot> Handle(AcceptInvitation command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind != CallerKind.User)
        {
            throw new ForbiddenException("Only a signed-in user can accept an invitation.");
        }
        var userId = command.Caller.RequireUserId();
        var hash = InvitationTokens.Hash(command.Token.Trim());

        // The tenant is not known yet: the token hash finds it through the one cross-tenant function for this path. Before it
        // looks, the attempt is counted for the client IP, and as an unknown token of the user until the token is found, in a
        // transaction committed first, so parallel guesses cannot outrun either limit (ADR 0185).
        Models.Users.UserSnapshot? user;
        InvitationLocator? locator;
        await using (var lookup = await sessions.OpenAsync(null, userId, cancellationToken))
        {
            await throttle.CountAsync(lookup, ThrottleRule.InvitationPerIp, AuthThrottle.IpSubject(command.Caller.Origin?.Ip),
                limits.InvitationAttemptsPerMinutePerIp, cancellationToken);
            var unknownToken = await throttle.CountAsync(lookup, ThrottleRule.InvitationPerUser, userId.ToString(),
                limits.InvitationAttemptsPerMinutePerUser, cancellationToken);
            user = await users.FetchUserAsync(lookup, userId, cancellationToken);
            locator = await invitations.FindByTokenHashAsync(lookup, hash, cancellationToken);
            if (locator is not null)
            {
                await throttle.RefundAsync(lookup, unknownToken, cancellationToken);
            }
            await lookup.CommitAsync(cancellationToken);
        }
        if (user is null || user.Status != UserStatus.Active)
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        if (locator is null)
        {
            throw new NotFoundException("invitation");
        }

        await using var session = await sessions.OpenAsync(locator.TenantId, userId, cancellationToken);
        var now = clock.UtcNow;
        // The same lock as CreateInvitation's: acceptances and invitations of one tenant are counted one at a time.
        await tenants.LockTenantAsync(session, locator.TenantId, cancellationToken);
        var tenant = await tenants.FetchTenantAsync(session, locator.TenantId, cancellationToken);
        var invitation = await invitations.FetchInvitationAsync(session, locator.TenantId, locator.Id, now, forUpdate: true, cancellationToken);
        if (tenant is null || invitation is null || tenant.Status == TenantStatus.Deleted)
        {
            throw new GoneException("The invitation's tenant no longer exists.", "invitation_expired");
        }
        if (invitation.Status != InvitationStatus.Pending)
        {
            throw new GoneException($"The invitation is {invitation.Status.ToWire()}.", "invitation_expired");
        }
        if (!string.Equals(invitation.Email, user.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw new ForbiddenException("The invitation was sent to another email address.", "invitation_email_mismatch");
        }
        if (tenant.Status.BlocksWrites())
        {
            throw new TenantSuspendedException();
        }
        if (await tenants.FetchAccessAsync(session, locator.TenantId, userId, cancellationToken) is not null)
        {
            throw new ConflictException("You are already a member of this tenant.", "already_member");
        }
        await InvitationRules.RequireSeatAsync(invitations, tenant, invitation.Id, countPending: false, now, session, cancellationToken, quotas);

        await tenants.InsertMembershipAsync(session, locator.TenantId, userId, invitation.Role, now, cancellationToken);
        await invitations.MarkAcceptedAsync(session, locator.TenantId, invitation.Id, userId, now, cancellationToken);
        await audit.RecordAsync(session, locator.TenantId, command.Caller, "invitation.accepted", "invitation", invitation.Id,
            new { status = invitation.Status }, new { status = InvitationStatus.Accepted, user_id = userId, invitation.Role }, cancellationToken);
        await events.EmitAsync(session, locator.TenantId, WebhookEventTypes.InvitationAccepted,
            new InvitationEventData(invitation.Id, invitation.Email, invitation.Role, userId), cancellationToken);
        await events.EmitAsync(session, locator.TenantId, WebhookEventTypes.MemberAdded,
            new MemberEventData(userId, user.Email, user.Name, invitation.Role, null, null), cancellationToken);
        var access = await tenants.FetchAccessAsync(session, locator.TenantId, userId, cancellationToken)
            ?? throw new InvalidOperationException("The new membership is not visible in its own tenant.");
        await session.CommitAsync(cancellationToken);
        return access;
    }
}
