using FluentValidation;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Is what the usage history reads (monthly, GetUsageHistory, and daily, GetDailyUsageHistory) share: the tenant, the caller and the optional
/// meter, worker and API key they narrow to.</summary>
public interface IUsageHistoryQuery
{
    Caller Caller { get; }
    Guid TenantId { get; }
    string? Meter { get; }
    string? WorkerId { get; }
    Guid? ApiKeyId { get; }
}

/// <summary>Checks the filters every usage history read takes: the meter name and the worker id, each when given.</summary>
internal abstract class UsageHistoryValidator<T> : AbstractValidator<T> where T : IUsageHistoryQuery
{
    protected UsageHistoryValidator()
    {
        RuleFor(c => c.Meter).Must(MeterNames.IsValid).When(c => c.Meter is not null).WithMessage("The meter name is not valid.");
        RuleFor(c => c.WorkerId).Must(WorkerIds.IsValid).When(c => c.WorkerId is not null).WithMessage("The worker id is not valid.");
    }
}

internal static class UsageHistoryReads
{
    /// <summary>Opens the tenant's read scope for a usage history: any member (viewer or higher) or a key with "usage:read".</summary>
    public static Task<TenantScope> EnterAsync(this TenantGate gate, IUsageHistoryQuery query, CancellationToken cancellationToken) =>
        gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "usage:read");

    /// <summary>Gives the raw-event filter of the query's meter, worker and API key.</summary>
    public static UsageEventFilter Filter(this IUsageHistoryQuery query) => new(query.Meter, null, null, query.WorkerId, query.ApiKeyId);
}
