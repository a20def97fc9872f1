using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Lists monthly rollups from the month holding From to the month holding To (defaults: the last 12 months), optionally of one meter (viewer or higher, key "usage:read");
/// with a worker or API key filter, each month's value is computed from that worker's or key's raw events with the meter's aggregation (ADR 0641).</summary>
public sealed record GetUsageHistory(Caller Caller, Guid TenantId, DateTimeOffset? From, DateTimeOffset? To, string? Meter, string? WorkerId = null, Guid? ApiKeyId = null)
    : IRequest<IReadOnlyList<UsageRollup>>, ITenantRead, ICallerCommand, IUsageHistoryQuery;

internal sealed class GetUsageHistoryValidator : UsageHistoryValidator<GetUsageHistory>
{
    public GetUsageHistoryValidator()
    {
        RuleFor(c => c.From).LessThanOrEqualTo(c => c.To).When(c => c.From is not null && c.To is not null)
            .WithMessage("from must not be after to.");
        RuleFor(c => c.From).GreaterThanOrEqualTo(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)).When(c => c.From is not null);
        RuleFor(c => c.To).LessThan(new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero)).When(c => c.To is not null);
    }
}

internal sealed class GetUsageHistoryHandler(TenantGate gate, IUsageDriver usage, IClock clock) : IRequestHandler<GetUsageHistory, IReadOnlyList<UsageRollup>>
{
    public async Task<IReadOnlyList<UsageRollup>> Handle(GetUsageHistory query, CancellationToken cancellationToken)
    {
        var to = Meters.MonthStart(query.To ?? clock.UtcNow);
        var from = Meters.MonthStart(query.From ?? to.AddMonths(-11));
        await using var scope = await gate.EnterAsync(query, cancellationToken);
        if (query.WorkerId is not null || query.ApiKeyId is not null)
        {
            return await usage.ListAttributedAsync(scope.Session, query.TenantId, DateOnly.FromDateTime(from.UtcDateTime), DateOnly.FromDateTime(to.UtcDateTime),
                query.Filter(), cancellationToken);
        }
        return await usage.ListRollupsAsync(scope.Session, query.TenantId,
            DateOnly.FromDateTime(from.UtcDateTime), DateOnly.FromDateTime(to.UtcDateTime), query.Meter, cancellationToken);
    }
}
