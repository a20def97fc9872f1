using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Reads the current UTC month's usage per meter with quota, percentage and reset time (viewer or higher, key "usage:read").</summary>
public sealed record GetUsageSummary(Caller Caller, Guid TenantId) : IRequest<UsageSummary>, ITenantCommand, ICallerCommand;

internal sealed class GetUsageSummaryHandler(TenantGate gate, IUsageDriver usage, IClock clock) : IRequestHandler<GetUsageSummary, UsageSummary>
{
    public async Task<UsageSummary> Handle(GetUsageSummary query, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var period = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "usage:read");
        var rollups = await usage.ListRollupsAsync(scope.Session, query.TenantId, period, period, null, cancellationToken);
        var used = rollups.ToDictionary(r => r.Meter, r => r.Used, StringComparer.Ordinal);
        var meters = MeterQuotas.Known.Union(used.Keys).Order(StringComparer.Ordinal)
            .Select(m => MeterQuotas.Line(scope.Tenant, m, used.GetValueOrDefault(m), now))
            .ToList();
        return new UsageSummary(Meters.MonthStart(now), Meters.NextMonthStart(now), meters);
    }
}
