using FluentValidation;
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
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Invitations;

/// <summary>Invites an email address into a tenant with a role (admin or higher; only an owner invites an owner) and queues the email in the same transaction; the token is returned once.</summary>
public sealed record CreateInvitation(Caller Caller, Guid TenantId, string Email, TenantRole Role)
    : IRequest<IssuedInvitation>, ITenantWrite, ICallerCommand;

internal sealed class CreateInvitationValidator : AbstractValidator<CreateInvitation>
{
    public CreateInvitationValidator() => RuleFor(c => c.Email).NotEmpty().MaximumLength(254).EmailAddress();
}

internal sealed class CreateInvitationHandler(
    TenantGate gate, ITenantDriver tenants, IInvitationDriver invitations, EmailOutbox emails, AuditTrail audit, InvitationsOptions options, EmailOptions emailOptions, IClock clock,
    Drivers.Plans.IQuotaDriver quotas)
    : IRequestHandler<CreateInvitation, IssuedInvitation>
{
    public async Task<IssuedInvitation> Handle(CreateInvitation command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        InvitationRules.RequireRightToInvite(scope.Role, command.Role);
        var email = command.Email.Trim();
        var now = clock.UtcNow;

        // The tenant row's lock serialises invitations and acceptances, so the seat count below is exact.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        if (await invitations.IsMemberEmailAsync(scope.Session, command.TenantId, email, cancellationToken))
        {
            throw new ConflictException("A member with this email already belongs to the tenant.", "already_member");
        }
        if (await invitations.HasPendingInvitationAsync(scope.Session, command.TenantId, email, now, cancellationToken))
        {
            throw new ConflictException("A pending invitation for this email exists; resend or revoke it.", "invitation_exists");
        }
        await InvitationRules.RequireSeatAsync(invitations, scope.Tenant, exceptInvitationId: null, countPending: true, now, scope.Session, cancellationToken, quotas);

        var (token, hash) = InvitationTokens.New();
        var invitation = await invitations.InsertInvitationAsync(scope.Session,
            new NewInvitation(command.TenantId, Guid.CreateVersion7(), email, command.Role, hash, command.Caller.ActorId,
                now.AddDays(options.ExpiryDays), now), cancellationToken);
        var acceptUrl = InvitationTokens.AcceptUrl(emailOptions.LinkBaseUrl, token);
        await InvitationTokens.QueueEmailAsync(emails, scope.Session, command.TenantId, emailOptions.LinkBaseUrl, token, invitation.ExpiresAt,
            url => EmailTemplates.Invitation(email, scope.Tenant.Name, command.Role.ToWire(), url, invitation.ExpiresAt), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "invitation.created", "invitation", invitation.Id,
            null, new { invitation.Email, invitation.Role, invitation.ExpiresAt }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new IssuedInvitation(invitation, token, acceptUrl);
    }
}

/// <summary>Holds the rules shared by inviting, resending and accepting.</summary>
internal static class InvitationRules
{
    public static void RequireRightToInvite(TenantRole callerRole, TenantRole invitedRole)
    {
        if (invitedRole == TenantRole.Owner && callerRole != TenantRole.Owner)
        {
            throw new ForbiddenException("Only an owner can invite an owner.");
        }
    }

    /// <summary>Refuses with 429 when the tenant's effective member limit (plan or trial limits, then the operator's override; -1 unlimited) is reached
    /// by members, plus pending invitations when countPending; the tenant row must be locked.</summary>
    public static async Task RequireSeatAsync(
        IInvitationDriver invitations, TenantSnapshot tenant, Guid? exceptInvitationId, bool countPending, DateTimeOffset now,
        Drivers.Sessions.IDbSession session, CancellationToken cancellationToken, Drivers.Plans.IQuotaDriver? quotas = null)
    {
        var overrides = quotas is null ? [] : await quotas.ListOverridesAsync(session, tenant.Id, cancellationToken);
        var limit = EffectiveLimits.Of(tenant, overrides)?.Members ?? PlanCatalog.Unlimited;
        if (limit == PlanCatalog.Unlimited)
        {
            return;
        }
        var (members, pending) = await invitations.CountSeatsAsync(session, tenant.Id, exceptInvitationId, now, cancellationToken);
        var used = members + (countPending ? pending : 0);
        if (used >= limit)
        {
            throw new QuotaExceededException("members", limit, used, resetsAt: null);
        }
    }
}
