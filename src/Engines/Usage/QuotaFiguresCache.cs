using System.Collections.Concurrent;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Keeps, per tenant, the tenant as read, its effective limits and every meter's figures of the current month, so that an API key's plain quota
/// check needs no database round trip (ADR 0765). Entries live for Usage:SummaryCacheMilliseconds of real time, like the usage summary's; every command of
/// the tenant sent through this process evicts it (UsageSummaryEviction), and so does a reservation made here, so this instance sees its own
/// ingestion, reservations, policy and limit changes at once; an entry is not used past the earliest expiry of the holds it counted.</summary>
internal sealed class QuotaFiguresCache(UsageOptions options) : TenantMonthCache<QuotaFiguresCache.Filled>(options.SummaryCacheMilliseconds)
{
    // The api_calls rollup as this instance's flush last committed it, per tenant (ADR 0795): the flush raises it each second for every busy tenant, and
    // evicting the figures for that (as every other tenant write does) sent every busy tenant's checks to the database each second. The rollup only
    // grows within a month, so max(held, floor) is the held figure with this instance's flushes counted.
    private readonly ConcurrentDictionary<Guid, (DateOnly Period, decimal Used)> apiCallsFloor = new();

    /// <summary>Records the api_calls rollup of the month starting at period as a flush of this instance committed it.</summary>
    public void RaiseApiCalls(Guid tenantId, DateOnly period, decimal used)
    {
        if (apiCallsFloor.Count >= MaxEntries && !apiCallsFloor.ContainsKey(tenantId))
        {
            apiCallsFloor.Clear();
        }
        apiCallsFloor.AddOrUpdate(tenantId, (period, used), (_, old) => old.Period < period || (old.Period == period && old.Used < used) ? (period, used) : old);
    }

    /// <summary>Gives a meter's used figure of the month starting at period: the held one, for api_calls raised to what this instance's flush committed.</summary>
    public decimal Used(Guid tenantId, DateOnly period, string meter, decimal held) =>
        meter == Meters.ApiCalls && apiCallsFloor.TryGetValue(tenantId, out var floor) && floor.Period == period && floor.Used > held ? floor.Used : held;

    /// <summary>Holds a tenant as read, its effective limits (null: a plan not in the catalogue) and its meters' figures by name.</summary>
    public sealed record Filled(TenantSnapshot Tenant, PlanLimits? Limits, IReadOnlyDictionary<string, MeterQuotaFigures> Meters)
    {
        /// <summary>Gets the earliest expiry of the holds counted (null: none): from then on the figures over-count what is held.</summary>
        public DateTimeOffset? NextExpiry { get; } = Meters.Values.Min(m => m.NextExpiry);

        /// <summary>Is the most members whose role one entry keeps; past it, members' roles are read each time.</summary>
        public const int MaxRoles = 1_000;

        private readonly ConcurrentDictionary<Guid, TenantRole> roles = new();

        /// <summary>Gives the roles of members read through the gate since these figures were read (ADR 0795).</summary>
        public IReadOnlyDictionary<Guid, TenantRole> Roles => roles;

        /// <summary>Keeps a member's role, as the gate read it, with these figures.</summary>
        public void Remember(Guid userId, TenantRole role)
        {
            if (roles.Count < MaxRoles)
            {
                roles[userId] = role;
            }
        }
    }
}
