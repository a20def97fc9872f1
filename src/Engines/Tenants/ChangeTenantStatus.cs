using FluentValidation;
using MediatR;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Tenants;

/// <summary>Soft-deletes a tenant (owner): its status becomes deleted at once; the purge after retention comes later.</summary>
public sealed record DeleteTenant(Caller Caller, Guid TenantId) : IRequest<TenantSnapshot>, ITenantWrite, ICallerCommand;

/// <summary>Suspends a tenant with a reason; writes are refused until it is unsuspended. Sent by operators and billing, not by tenant users.</summary>
public sealed record SuspendTenant(Caller Caller, Guid TenantId, string Reason) : IRequest<TenantSnapshot>, ITenantWrite, ICallerCommand;

/// <summary>Lifts a suspension; the tenant returns to active, or to trial while its trial lasts.</summary>
public sealed record UnsuspendTenant(Caller Caller, Guid TenantId) : IRequest<TenantSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class SuspendTenantValidator : AbstractValidator<SuspendTenant>
{
    public SuspendTenantValidator() => RuleFor(c => c.Reason).NotEmpty().MaximumLength(500);
}

internal sealed class DeleteTenantHandler(TenantGate gate, ITenantDriver tenants, AuditTrail audit, IClock clock) : IRequestHandler<DeleteTenant, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(DeleteTenant command, CancellationToken cancellationToken)
    {
        // Read access: an owner may delete a suspended tenant (erasure must not wait for billing).
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        if (scope.Tenant.Status == TenantStatus.Deleted)
        {
            throw new NotFoundException("tenant");
        }
        var now = clock.UtcNow;
        var deleted = await tenants.SetTenantStatusAsync(scope.Session, command.TenantId, TenantStatus.Deleted, scope.Tenant.SuspendedReason, now, now, cancellationToken)
            ?? throw new NotFoundException("tenant");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "tenant.deleted", "tenant", command.TenantId,
            new { status = scope.Tenant.Status }, new { status = deleted.Status, deleted_at = deleted.DeletedAt }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return deleted;
    }
}

internal sealed class SuspendTenantHandler(TenantGate gate, TenantSuspension suspension) : IRequestHandler<SuspendTenant, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(SuspendTenant command, CancellationToken cancellationToken)
    {
        RequireSystem(command.Caller);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var suspended = await suspension.SuspendAsync(scope, command.Caller, command.Reason, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return suspended;
    }

    internal static void RequireSystem(Caller caller)
    {
        if (caller.Kind is not (CallerKind.System or CallerKind.Operator))
        {
            throw new ForbiddenException("Only operators and the system suspend or unsuspend tenants.");
        }
    }
}

internal sealed class UnsuspendTenantHandler(TenantGate gate, TenantSuspension suspension) : IRequestHandler<UnsuspendTenant, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(UnsuspendTenant command, CancellationToken cancellationToken)
    {
        SuspendTenantHandler.RequireSystem(command.Caller);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var unsuspended = await suspension.UnsuspendAsync(scope, command.Caller, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return unsuspended;
    }
}

/// <summary>Suspends and unsuspends a tenant inside an open tenant scope, with its audit row; the SuspendTenant and UnsuspendTenant commands and the operators' founder actions share it, so both follow one rule.</summary>
internal sealed class TenantSuspension(ITenantDriver tenants, AuditTrail audit, WebhookEvents events, IClock clock)
{
    public async Task<TenantSnapshot> SuspendAsync(TenantScope scope, Caller caller, string reason, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        if (scope.Tenant.Status == TenantStatus.Deleted)
        {
            throw new ConflictException("A deleted tenant cannot be suspended.");
        }
        var suspended = await tenants.SetTenantStatusAsync(scope.Session, tenantId, TenantStatus.Suspended, reason, null, clock.UtcNow, cancellationToken)
            ?? throw new NotFoundException("tenant");
        await audit.RecordAsync(scope.Session, tenantId, caller, "tenant.suspended", "tenant", tenantId,
            new { status = scope.Tenant.Status }, new { status = suspended.Status, reason }, cancellationToken);
        await TenantEvents.StatusChangedAsync(events, scope.Session, scope.Tenant, suspended, cancellationToken);
        return suspended;
    }

    public async Task<TenantSnapshot> UnsuspendAsync(TenantScope scope, Caller caller, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        if (scope.Tenant.Status != TenantStatus.Suspended)
        {
            throw new ConflictException("The tenant is not suspended.");
        }
        var now = clock.UtcNow;
        var status = scope.Tenant.TrialEndsAt > now && scope.Tenant.Plan != Models.Plans.PlanCatalog.Free ? TenantStatus.Trial : TenantStatus.Active;
        var unsuspended = await tenants.SetTenantStatusAsync(scope.Session, tenantId, status, null, null, now, cancellationToken)
            ?? throw new NotFoundException("tenant");
        await audit.RecordAsync(scope.Session, tenantId, caller, "tenant.unsuspended", "tenant", tenantId,
            new { status = scope.Tenant.Status, reason = scope.Tenant.SuspendedReason }, new { status = unsuspended.Status }, cancellationToken);
        await TenantEvents.StatusChangedAsync(events, scope.Session, scope.Tenant, unsuspended, cancellationToken);
        return unsuspended;
    }
}
