using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Holds one usage event as received; nullable so that validation names a missing field; occurred_at defaults to now.</summary>
public sealed record UsageEventInput(string? Meter, long? Amount, string? IdempotencyKey, DateTimeOffset? OccurredAt);

/// <summary>Records a batch of at most 1,000 usage events (member or higher, key "usage:write"): each idempotency key is stored once per tenant forever, and the monthly rollups change in the same transaction.</summary>
public sealed record RecordUsage(Caller Caller, Guid TenantId, IReadOnlyList<UsageEventInput> Events)
    : IRequest<UsageBatchResult>, ITenantCommand, ICallerCommand;

internal sealed class RecordUsageValidator : AbstractValidator<RecordUsage>
{
    public const int MaxBatch = 1000;

    public RecordUsageValidator()
    {
        RuleFor(c => c.Events).NotNull().Must(e => e is { Count: >= 1 and <= MaxBatch })
            .WithMessage($"Send between 1 and {MaxBatch} events per call.");
        RuleForEach(c => c.Events).NotNull().ChildRules(e =>
        {
            e.RuleFor(x => x.Meter).NotEmpty().Must(MeterNames.IsValid)
                .WithMessage("The meter must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.");
            e.RuleFor(x => x.Amount).NotNull().GreaterThanOrEqualTo(0);
            e.RuleFor(x => x.IdempotencyKey).NotEmpty().MaximumLength(255);
            e.RuleFor(x => x.OccurredAt).GreaterThanOrEqualTo(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero))
                .When(x => x.OccurredAt is not null);
        }).When(c => c.Events is { Count: >= 1 and <= MaxBatch });
    }
}

internal sealed class RecordUsageHandler(TenantGate gate, IUsageDriver usage, AuditTrail audit, UsageAlerts alerts, IClock clock)
    : IRequestHandler<RecordUsage, UsageBatchResult>
{
    public async Task<UsageBatchResult> Handle(RecordUsage command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // Sorted by key, so that concurrent batches sharing keys lock them in one order and cannot deadlock.
        var events = command.Events
            .Select(e => new UsageEvent(e.Meter!, e.Amount!.Value, e.IdempotencyKey!, (e.OccurredAt ?? now).ToUniversalTime()))
            .OrderBy(e => e.IdempotencyKey, StringComparer.Ordinal)
            .ToList();
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "usage:write");
        var inserted = await usage.InsertEventsAsync(scope.Session, command.TenantId, events, now, cancellationToken);
        var result = new UsageBatchResult(inserted.Inserted, events.Count - inserted.Inserted);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "usage.recorded", "usage", null, null,
            new { result.Accepted, result.Duplicates, Meters = events.Select(e => e.Meter).Distinct().Order(StringComparer.Ordinal).ToList() },
            cancellationToken);
        // Under the rollup rows' locks each batch sees its own before and after, so of many batches crossing a threshold together one alerts.
        await alerts.QueueCrossedAsync(scope, inserted.Rollups, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }
}

/// <summary>Checks meter names: 1 to 63 lowercase letters, digits or underscores, starting with a letter.</summary>
internal static class MeterNames
{
    public static bool IsValid(string? meter)
    {
        if (meter is not { Length: >= 1 and <= 63 } || meter[0] is < 'a' or > 'z')
        {
            return false;
        }
        foreach (var c in meter)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }
        return true;
    }
}
