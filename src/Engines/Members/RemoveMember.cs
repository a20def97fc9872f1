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

/// <summary>Removes a member (admin or higher; any member may remove themselves); the last owner cannot leave, and the keys the member created are revoked (ADR 0195).</summary>
public sealed record RemoveMember(Caller Caller, Guid TenantId, Guid UserId) : IRequest<Unit>, ITenantWrite, ICallerCommand;

internal sealed class RemoveMemberHandler(TenantGate gate, ITenantDriver tenants, IMemberDriver members, KeyCustody custody, AuditTrail audit, WebhookEvents events)
    : IRequestHandler<RemoveMember, Unit>
{
    public async Task<Unit> Handle(RemoveMember command, CancellationToken cancellationToken)
    {
        var leaving = command.Caller.UserId == command.UserId;
        var minimum = leaving ? TenantRole.Viewer : TenantRole.Admin;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, minimum, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var target = await members.FetchMemberAsync(scope.Session, command.TenantId, command.UserId, cancellationToken)
            ?? throw new NotFoundException("member");

        if (!leaving)
        {
            var callerRole = await MemberRules.LockedCallerRoleAsync(members, scope, command.Caller, cancellationToken);
            MemberRules.RequireRightToManage(callerRole, target.Role, target.Role);
        }
        if (target.Role == TenantRole.Owner)
        {
            await MemberRules.RequireAnotherOwnerAsync(members, scope, cancellationToken);
        }

        await members.DeleteMemberAsync(scope.Session, command.TenantId, command.UserId, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, leaving ? "member.left" : "member.removed", "member", command.UserId,
            new { role = target.Role, target.Email }, null, cancellationToken);
        await events.EmitAsync(scope.Session, command.TenantId, WebhookEventTypes.MemberRemoved,
            new MemberEventData(target.UserId, target.Email, target.Name, target.Role, null, leaving ? "left" : "removed"), cancellationToken);
        var afterCommit = await custody.RevokeKeysOfCreatorAsync(scope.Session, command.TenantId, command.UserId, command.Caller,
            leaving ? ApiKeyCustody.CreatorLeft : ApiKeyCustody.CreatorRemoved, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        await afterCommit();
        return Unit.Value;
    }
}
