using System.Globalization;
using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Lists each meter's value per UTC day of one month ("YYYY-MM"; default: the current month), computed from the raw events with the meter's
/// aggregation, optionally of one meter, worker or API key (viewer or higher, key "usage:read"). Days of the current month run up to today; a future
/// month has no days. Meters counted without raw events (api_calls) are left out (ADR 0740).</summary>
public sealed record GetDailyUsageHistory(Caller Caller, Guid TenantId, string? Month, string? Meter, string? WorkerId = null, Guid? ApiKeyId = null)
    : IRequest<IReadOnlyList<UsageRollup>>, ITenantRead, ICallerCommand, IUsageHistoryQuery
{
    /// <summary>Reads "YYYY-MM" as the first day of that month, or null when it is not one (years 2000 to 8999).</summary>
    public static DateOnly? ParseMonth(string? month) =>
        month is { Length: 7 } && DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            && day.Year is >= 2000 and < 9000
            ? day
            : null;
}

internal sealed class GetDailyUsageHistoryValidator : UsageHistoryValidator<GetDailyUsageHistory>
{
    public GetDailyUsageHistoryValidator()
    {
        RuleFor(c => c.Month).Must(m => GetDailyUsageHistory.ParseMonth(m) is not null).When(c => c.Month is not null)
            .WithMessage("month is a calendar month written YYYY-MM (2000-01 to 8999-12).");
    }
}

internal sealed class GetDailyUsageHistoryHandler(TenantGate gate, IUsageDriver usage, IClock clock) : IRequestHandler<GetDailyUsageHistory, IReadOnlyList<UsageRollup>>
{
    public async Task<IReadOnlyList<UsageRollup>> Handle(GetDailyUsageHistory query, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.UtcNow.UtcDateTime);
        var month = GetDailyUsageHistory.ParseMonth(query.Month) ?? new DateOnly(today.Year, today.Month, 1);
        var last = month.AddMonths(1).AddDays(-1);
        if (last > today)
        {
            last = today;
        }
        await using var scope = await gate.EnterAsync(query, cancellationToken);
        if (last < month)
        {
            return [];
        }
        return await usage.ListDailyAsync(scope.Session, query.TenantId, month, last, query.Filter(), cancellationToken);
    }
}
