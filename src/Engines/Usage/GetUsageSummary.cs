using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Reads the current UTC month's usage per meter with quota, percentage and reset time (viewer or higher, key "usage:read").</summary>
public sealed record GetUsageSummary(Caller Caller, Guid TenantId) : IRequest<UsageSummary>, ITenantRead, ICallerCommand;

internal sealed class GetUsageSummaryHandler(TenantGate gate, IUsageDriver usage, UsageSummaryCache cache, IClock clock)
    : IRequestHandler<GetUsageSummary, UsageSummary>
{
    public async Task<UsageSummary> Handle(GetUsageSummary query, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var period = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        // API keys (machine callers polling their quota) are served from memory when this instance read the tenant less than the
        // cache's time to live ago and nothing of the tenant ran here since (ADR 0164); users go to the database for their role.
        if (query.Caller.Kind == CallerKind.ApiKey)
        {
            if (query.Caller.KeyTenantId != query.TenantId)
            {
                throw new NotFoundException("tenant");
            }
            var held = await cache.GetOrFillAsync(query.TenantId, period, () => ReadAsync(query.TenantId, Caller.System, period, now, CancellationToken.None), cancellationToken);
            TenantGate.CheckKey(query.TenantId, query.Caller, held.Tenant, Access.Read, KeyPermission);
            return held.Summary;
        }
        var generation = cache.Generation;
        var read = await ReadAsync(query.TenantId, query.Caller, period, now, cancellationToken);
        cache.Store(query.TenantId, period, read.Tenant, read.Summary, generation);
        return read.Summary;
    }

    private async Task<UsageSummaryCache.Filled> ReadAsync(Guid tenantId, Caller caller, DateOnly period, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(tenantId, caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: KeyPermission);
        var rollups = await usage.ListRollupsAsync(scope.Session, tenantId, period, period, null, cancellationToken);
        // The summary depends on the month of now only (the period and its reset time), which keys the entry.
        return new UsageSummaryCache.Filled(scope.Tenant, Build(scope.Tenant, await scope.LimitsAsync(cancellationToken), rollups, now));
    }

    private const string KeyPermission = "usage:read";

    private static UsageSummary Build(TenantSnapshot tenant, PlanLimits? limits, IReadOnlyList<UsageRollup> rollups, DateTimeOffset now)
    {
        var used = rollups.ToDictionary(r => r.Meter, r => r.Used, StringComparer.Ordinal);
        var meters = MeterQuotas.Known.Union(used.Keys).Order(StringComparer.Ordinal)
            .Select(m => MeterQuotas.Line(tenant, limits, m, used.GetValueOrDefault(m), now))
            .ToList();
        return new UsageSummary(Meters.MonthStart(now), Meters.NextMonthStart(now), meters);
    }
}
