using MediatR;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Plans;

/// <summary>Reads what a tenant's effective plan grants: features and quotas (plan, then per-tenant overrides). Viewers and any key of the tenant may read it.</summary>
public sealed record GetEntitlements(Caller Caller, Guid TenantId) : IRequest<Entitlements>, ITenantRead, ICallerCommand;

internal sealed class GetEntitlementsHandler(TenantGate gate, IDbSessionFactory sessions, ITenantDriver tenants, IQuotaDriver quotas, IFeatureOverrideDriver features)
    : IRequestHandler<GetEntitlements, Entitlements>
{
    public async Task<Entitlements> Handle(GetEntitlements query, CancellationToken cancellationToken)
    {
        if (query.Caller.Kind == CallerKind.ApiKey)
        {
            // Any key of the tenant may know what its plan grants (the gate refuses keys on routes that name no permission).
            if (query.Caller.KeyTenantId != query.TenantId)
            {
                throw new NotFoundException("tenant");
            }
            await using var session = await sessions.OpenAsync(query.TenantId, null, cancellationToken);
            var tenant = await tenants.FetchTenantAsync(session, query.TenantId, cancellationToken) ?? throw new NotFoundException("tenant");
            return await EntitlementRules.ReadAsync(quotas, features, session, tenant, cancellationToken);
        }
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await EntitlementRules.ReadAsync(quotas, features, scope.Session, scope.Tenant, cancellationToken);
    }
}

/// <summary>Computes a tenant's effective plan: the catalogue's plan with the tenant's overrides on top.</summary>
internal static class EntitlementRules
{
    public static async Task<Entitlements> ReadAsync(IQuotaDriver quotas, IFeatureOverrideDriver features, IDbSession session, TenantSnapshot tenant, CancellationToken cancellationToken)
    {
        var overrides = await quotas.ListOverridesAsync(session, tenant.Id, cancellationToken);
        var featureOverrides = await features.ListFeatureOverridesAsync(session, tenant.Id, cancellationToken);
        return Compute(tenant.Id, PlanOf(tenant.Plan), overrides, tenant.Status, tenant.SuspendedReason, featureOverrides);
    }

    /// <summary>Computes the effective plan; a tenant in trial gets the plan's trial limits, one awaiting its first subscription the free plan's
    /// features and limits (ADR 0520), then the overrides on top.</summary>
    public static Entitlements Compute(Guid tenantId, Plan plan, IReadOnlyList<QuotaOverride> overrides, TenantStatus status = TenantStatus.Active, string? suspendedReason = null,
        IReadOnlyList<FeatureOverride>? featureOverrides = null)
    {
        var effective = EffectiveLimits.Of(plan, status, suspendedReason, overrides);
        featureOverrides ??= [];
        return new Entitlements(tenantId, plan, Features.EffectiveOf(plan, status, suspendedReason, featureOverrides), effective, overrides)
        {
            FeatureOverrides = featureOverrides,
        };
    }

    public static Plan PlanOf(string planId) =>
        PlanCatalog.Find(planId) ?? throw new InvalidOperationException($"The tenant's plan '{planId}' is not in the catalogue.");

    /// <summary>Writes the plan and the effective quota columns (plan, then overrides) to the tenant row in one statement.</summary>
    public static async Task<(TenantSnapshot Tenant, Entitlements Entitlements)> ApplyAsync(
        IQuotaDriver quotas, IDbSession session, Guid tenantId, Plan plan, DateTimeOffset now, CancellationToken cancellationToken,
        TenantStatus status = TenantStatus.Active, string? suspendedReason = null)
    {
        var overrides = await quotas.ListOverridesAsync(session, tenantId, cancellationToken);
        var entitlements = Compute(tenantId, plan, overrides, status, suspendedReason);
        var tenant = await quotas.SetPlanAndQuotasAsync(session, tenantId, plan.Id, Quotas.ToTenantQuotas(entitlements.Quotas), now, cancellationToken)
            ?? throw new NotFoundException("tenant");
        return (tenant, entitlements);
    }

    /// <summary>Refuses callers other than operators and the system (quota overrides, key freezing).</summary>
    public static void RequireOperatorOrSystem(Caller caller, string action)
    {
        if (caller.Kind is not (CallerKind.System or CallerKind.Operator))
        {
            throw new ForbiddenException($"Only operators and the system {action}.");
        }
    }

    /// <summary>Names the caller in the set_by column of overrides: "operator:{id}" or "system".</summary>
    public static string Actor(Caller caller) => caller.ActorId is { } id ? $"{caller.ActorType}:{id}" : caller.ActorType;
}
