using MediatR;
using Platform.Drivers.Tenants;
using Platform.Engines.ApiKeys;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Members;

/// <summary>Changes a member's role: admins manage roles below owner, only owners grant or take the owner role, the last owner stays, and a demotion below admin revokes the keys the member created (ADR 0195).</summary>
public sealed record ChangeMemberRole(Caller Caller, Guid TenantId, Guid UserId, TenantRole Role)
    : IRequest<MemberSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class ChangeMemberRoleHandler(
    TenantGate gate, ITenantDriver tenants, IMemberDriver members, KeyCustody custody, AuditTrail audit, WebhookEvents events, IClock clock)
    : IRequestHandler<ChangeMemberRole, MemberSnapshot>
{
    public async Task<MemberSnapshot> Handle(ChangeMemberRole command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        // The tenant row's lock serialises membership changes, so two concurrent demotions cannot both see two owners.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var target = await members.FetchMemberAsync(scope.Session, command.TenantId, command.UserId, cancellationToken)
            ?? throw new NotFoundException("member");

        var callerRole = await MemberRules.LockedCallerRoleAsync(members, scope, command.Caller, cancellationToken);
        MemberRules.RequireRightToManage(callerRole, target.Role, command.Role);
        if (target.Role == TenantRole.Owner && command.Role != TenantRole.Owner)
        {
            await MemberRules.RequireAnotherOwnerAsync(members, scope, cancellationToken);
        }

        var updated = await members.UpdateMemberRoleAsync(scope.Session, command.TenantId, command.UserId, command.Role, clock.UtcNow, cancellationToken)
            ?? throw new NotFoundException("member");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "member.role_changed", "member", command.UserId,
            new { role = target.Role }, new { role = updated.Role }, cancellationToken);
        if (updated.Role != target.Role)
        {
            await events.EmitAsync(scope.Session, command.TenantId, WebhookEventTypes.MemberRoleChanged,
                new MemberEventData(updated.UserId, updated.Email, updated.Name, updated.Role, target.Role, null), cancellationToken);
        }
        var afterCommit = KeyCustody.MayHoldKeys(target.Role) && !KeyCustody.MayHoldKeys(updated.Role)
            ? await custody.RevokeKeysOfCreatorAsync(scope.Session, command.TenantId, command.UserId, command.Caller, ApiKeyCustody.CreatorDemoted, cancellationToken)
            : () => Task.CompletedTask;
        await scope.CommitAsync(cancellationToken);
        await afterCommit();
        return updated;
    }
}

/// <summary>Holds the rules shared by role changes and removals.</summary>
internal static class MemberRules
{
    /// <summary>Re-reads the caller's role under the tenant lock, so a caller demoted by a concurrent change acts with the new role.</summary>
    public static async Task<TenantRole> LockedCallerRoleAsync(IMemberDriver members, TenantScope scope, Caller caller, CancellationToken cancellationToken)
    {
        if (caller.Kind != CallerKind.User)
        {
            return scope.Role;
        }
        var self = await members.FetchMemberAsync(scope.Session, scope.Tenant.Id, caller.RequireUserId(), cancellationToken)
            ?? throw new NotFoundException("tenant");
        if (self.Role < TenantRole.Admin)
        {
            throw new ForbiddenException("This action needs the admin role or higher.");
        }
        return self.Role;
    }

    public static void RequireRightToManage(TenantRole callerRole, TenantRole targetRole, TenantRole newRole)
    {
        if ((targetRole == TenantRole.Owner || newRole == TenantRole.Owner) && callerRole != TenantRole.Owner)
        {
            throw new ForbiddenException("Only an owner can grant or take the owner role.");
        }
    }

    public static async Task RequireAnotherOwnerAsync(IMemberDriver members, TenantScope scope, CancellationToken cancellationToken)
    {
        if (await members.CountOwnersAsync(scope.Session, scope.Tenant.Id, cancellationToken) <= 1)
        {
            throw new ConflictException("A tenant must keep at least one owner.", "last_owner");
        }
    }
}
