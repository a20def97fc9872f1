using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Engines.ApiKeys;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Users;

/// <summary>Erases the signed-in user's account: refuses (409 last_owner) while the user is the last owner of a live tenant, removes every membership with the keys the user created there (ADR 0195), and anonymises the user row (email, name, password).</summary>
public sealed record EraseMe(Caller Caller) : IRequest<Unit>, ICallerCommand;

internal sealed class EraseMeHandler(
    IDbSessionFactory sessions, ITenantDriver tenants, IMemberDriver members, IUserErasureDriver erasure, KeyCustody custody, AuditTrail audit,
    WebhookEvents events, IAccountDriver accounts, SessionLiveness liveness, IClock clock)
    : IRequestHandler<EraseMe, Unit>
{
    public async Task<Unit> Handle(EraseMe command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind != CallerKind.User)
        {
            throw new ForbiddenException("Only a signed-in user can erase their own account.");
        }
        var userId = command.Caller.RequireUserId();
        IReadOnlyList<TenantMembershipSnapshot> memberships;
        await using (var mine = await sessions.OpenAsync(null, userId, cancellationToken))
        {
            memberships = await tenants.ListMyTenantsAsync(mine, after: null, limit: 10_000, cancellationToken);
        }

        // First pass: refuse before anything changes when the user is the last owner anywhere.
        foreach (var membership in memberships.Where(m => m.Role == TenantRole.Owner))
        {
            await using var check = await sessions.OpenAsync(membership.Tenant.Id, userId, cancellationToken);
            if (await members.CountOwnersAsync(check, membership.Tenant.Id, cancellationToken) <= 1)
            {
                throw new ConflictException(
                    $"You are the last owner of tenant '{membership.Tenant.Slug}'; transfer ownership or delete the tenant first.", "last_owner");
            }
        }

        // Second pass: one transaction per tenant, re-checked under the tenant row's lock; a retry after a refusal resumes where this stopped.
        foreach (var membership in memberships)
        {
            await using var session = await sessions.OpenAsync(membership.Tenant.Id, userId, cancellationToken);
            await tenants.LockTenantAsync(session, membership.Tenant.Id, cancellationToken);
            var me = await members.FetchMemberAsync(session, membership.Tenant.Id, userId, cancellationToken);
            if (me is null)
            {
                continue;
            }
            if (me.Role == TenantRole.Owner && await members.CountOwnersAsync(session, membership.Tenant.Id, cancellationToken) <= 1)
            {
                throw new ConflictException(
                    $"You are the last owner of tenant '{membership.Tenant.Slug}'; transfer ownership or delete the tenant first.", "last_owner");
            }
            await members.DeleteMemberAsync(session, membership.Tenant.Id, userId, cancellationToken);
            // The audit row names the user by id only: the email is about to be erased.
            await audit.RecordAsync(session, membership.Tenant.Id, command.Caller, "member.erased", "member", userId,
                new { role = me.Role }, null, cancellationToken);
            // Nor does the event: an erased member is an id.
            await events.EmitAsync(session, membership.Tenant.Id, WebhookEventTypes.MemberRemoved,
                new MemberEventData(userId, null, null, me.Role, null, "erased"), cancellationToken);
            var afterCommit = await custody.RevokeKeysOfCreatorAsync(
                session, membership.Tenant.Id, userId, command.Caller, ApiKeyCustody.CreatorErased, cancellationToken);
            await session.CommitAsync(cancellationToken);
            await afterCommit();
        }

        await using var own = await sessions.OpenAsync(null, userId, cancellationToken);
        if (!await erasure.AnonymiseUserAsync(own, userId, clock.UtcNow, cancellationToken))
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        // The identity-provider links (issuer and subject per tenant) identify the person too; they go with the account (ADR 0734).
        await erasure.EraseOwnSsoIdentitiesAsync(own, cancellationToken);
        // Every session ends with the account: its refresh tokens stop working and its access tokens are refused.
        var revoked = await accounts.RevokeAllSessionsAsync(own, userId, except: null, clock.UtcNow, "account_erased", cancellationToken);
        await own.CommitAsync(cancellationToken);
        liveness.Forget(revoked);
        return Unit.Value;
    }
}
