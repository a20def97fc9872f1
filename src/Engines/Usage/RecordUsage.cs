using System.Text.Json;
using FluentValidation;
using MediatR;
using Platform.Engines.Plans;
using Platform.Drivers.Usage;
using Platform.Engines.Audit;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Holds one usage event as received; nullable so that validation names a missing field; occurred_at defaults to now; metadata is an
/// optional small JSON object; worker_id optionally attributes the event to a worker (the API key is attributed by the service); reservation_id
/// names a quota reservation of the same meter that the event consumes (ADR 0710).</summary>
public sealed record UsageEventInput(string? Meter, decimal? Amount, string? IdempotencyKey, DateTimeOffset? OccurredAt, JsonElement? Metadata = null,
    string? WorkerId = null, Guid? ReservationId = null);

/// <summary>Records a batch of at most 1,000 usage events (member or higher, key "usage:write"): each idempotency key is stored once per tenant forever, and the monthly rollups change in the same transaction.</summary>
public sealed record RecordUsage(Caller Caller, Guid TenantId, IReadOnlyList<UsageEventInput> Events)
    : IRequest<UsageBatchResult>, ITenantWrite, ICallerCommand;

internal sealed class RecordUsageValidator : AbstractValidator<RecordUsage>
{
    public const int MaxBatch = 1000;

    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public RecordUsageValidator(MeterCatalog catalog)
    {
        RuleFor(c => c.Events).NotNull().Must(e => e is { Count: >= 1 and <= MaxBatch })
            .WithMessage($"Send between 1 and {MaxBatch} events per call.");
        // One plain loop over the batch instead of child rules: per-element rule objects cost more than the database
        // insert of the same 1,000 events (profile in docs/benchmarks.md). Failures name fields as the wire does (events[3].meter).
        RuleFor(c => c.Events).CustomAsync(async (events, context, ct) => CheckEvents(events, context, await catalog.GetAsync(ct)))
            .When(c => c.Events is { Count: >= 1 and <= MaxBatch });
    }

    private static void CheckEvents(IReadOnlyList<UsageEventInput> events, ValidationContext<RecordUsage> context, MeterCatalog.Snapshot catalog)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is not { } e)
            {
                context.AddFailure($"events[{i}]", "Each event must be an object.");
                continue;
            }
            if (!MeterNames.IsValid(e.Meter))
            {
                context.AddFailure($"events[{i}].meter", "The meter must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.");
            }
            if (UsageAmounts.Problem(catalog, e.Meter, e.Amount) is { } problem)
            {
                context.AddFailure($"events[{i}].amount", problem);
            }
            if (string.IsNullOrWhiteSpace(e.IdempotencyKey) || e.IdempotencyKey.Length > 255)
            {
                context.AddFailure($"events[{i}].idempotency_key", "The idempotency key must be 1 to 255 characters.");
            }
            if (e.OccurredAt < Earliest)
            {
                context.AddFailure($"events[{i}].occurred_at", "occurred_at must be in the year 2000 or later.");
            }
            if (e.WorkerId is not null && !WorkerIds.IsValid(e.WorkerId))
            {
                context.AddFailure($"events[{i}].worker_id", "The worker id must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter.");
            }
            if (UsageMetadata.Problem(e.Metadata) is { } metadataProblem)
            {
                context.AddFailure($"events[{i}].metadata", metadataProblem);
            }
        }
    }
}

/// <summary>Checks an amount against its meter's precision: present, 0 or more, at most <see cref="MeterPrecision.MaxAmount"/>, and no more decimals than the meter has.</summary>
internal static class UsageAmounts
{
    /// <summary>Gives why an amount is refused for the meter, or null when it is fine (an invalid meter name is reported on its own field).</summary>
    public static string? Problem(MeterCatalog.Snapshot catalog, string? meter, decimal? amount)
    {
        if (amount is not { } value || value < 0 || value > MeterPrecision.MaxAmount)
        {
            return "The amount must be a number from 0 to 10^15.";
        }
        if (!MeterNames.IsValid(meter))
        {
            return null;
        }
        var decimals = catalog.Of(meter!).Decimals;
        if (MeterPrecision.DecimalsOf(value) <= decimals)
        {
            return null;
        }
        return decimals == 0
            ? $"The meter '{meter}' counts whole units: the amount must be a whole number."
            : $"The meter '{meter}' has at most {decimals} decimals.";
    }
}

/// <summary>Checks an event's metadata: absent, or a JSON object of at most <see cref="MaxBytes"/> bytes as sent that PostgreSQL can store.</summary>
internal static class UsageMetadata
{
    public const int MaxBytes = 2048;

    public static string? Problem(JsonElement? metadata)
    {
        if (metadata is not { } m || m.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }
        if (m.ValueKind != JsonValueKind.Object)
        {
            return "The metadata must be a JSON object.";
        }
        var raw = m.GetRawText();
        if (System.Text.Encoding.UTF8.GetByteCount(raw) > MaxBytes)
        {
            return $"The metadata must be at most {MaxBytes} bytes of JSON.";
        }
        // jsonb cannot hold the NUL character (ADR 0180: refused at the edge, not a 500 from the database).
        return raw.Contains("\\u0000", StringComparison.OrdinalIgnoreCase) ? "The metadata cannot contain the NUL character." : null;
    }

    /// <summary>Gives the metadata's JSON text to store, or null.</summary>
    public static string? Text(JsonElement? metadata) =>
        metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
}

internal sealed class RecordUsageHandler(TenantGate gate, IUsageDriver usage, IReservationDriver reservations, AuditTrail audit, UsageAlerts alerts, IClock clock)
    : IRequestHandler<RecordUsage, UsageBatchResult>
{
    public async Task<UsageBatchResult> Handle(RecordUsage command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // Sorted by key, so that concurrent batches sharing keys lock them in one order and cannot deadlock.
        var events = command.Events
            .Select(e => new UsageEvent(e.Meter!, e.Amount!.Value, e.IdempotencyKey!, (e.OccurredAt ?? now).ToUniversalTime(), UsageMetadata.Text(e.Metadata),
                e.WorkerId, command.Caller.Kind == CallerKind.ApiKey ? command.Caller.ApiKeyId : null))
            .OrderBy(e => e.IdempotencyKey, StringComparer.Ordinal)
            .ToList();
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "usage:write");
        await ConsumeReservationsAsync(scope, command, now, cancellationToken);
        var inserted = await usage.InsertEventsAsync(scope.Session, command.TenantId, events, now, cancellationToken);
        // Meters that are not summed (gauge, max, latest, count, unique_count) get their rollups computed again from the raw events (ADR 0640).
        IReadOnlyList<RollupChange> changes = inserted.AggregatedMeters is { Count: > 0 } aggregated
            ? [.. inserted.Rollups, .. await usage.RecomputeRollupsAsync(scope.Session, command.TenantId, aggregated, events, now, cancellationToken)]
            : inserted.Rollups;
        // A hard meter refuses the batch that would take its month past the effective quota: the rollup row is locked by this batch's
        // upsert until the transaction ends, so concurrent batches see each other's totals one at a time and exactly the quota gets in.
        var currentPeriod = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        foreach (var change in changes)
        {
            if (change.Hard && change.After > change.Before
                && MeterQuotas.For(scope.Tenant, await scope.LimitsAsync(cancellationToken), change.Meter) is { } quota and not PlanCatalog.Unlimited)
            {
                if (change.After > quota)
                {
                    throw new QuotaExceededException(change.Meter, quota, change.Before, Meters.NextMonthStart(now))
                    {
                        RefusedEvents = Refused(command.Events, change, now),
                    };
                }
                if (change.PeriodStart == currentPeriod)
                {
                    // Quota reservations hold units of this month (ADR 0710): after the meter's lock, every check committed before is seen, and a check
                    // waiting on the lock sees this batch once it commits; holds this batch consumed are no longer active.
                    await reservations.LockMeterAsync(scope.Session, command.TenantId, change.Meter, cancellationToken);
                    var held = await reservations.SumActiveAsync(scope.Session, command.TenantId, change.Meter, now, cancellationToken);
                    if (change.After + held > quota)
                    {
                        throw new QuotaExceededException(change.Meter, quota, change.Before, Meters.NextMonthStart(now))
                        {
                            Reserved = held,
                            Remaining = Math.Max(0m, quota - change.Before - held),
                            RefusedEvents = Refused(command.Events, change, now),
                        };
                    }
                }
            }
        }
        var result = new UsageBatchResult(inserted.Inserted, events.Count - inserted.Inserted);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "usage.recorded", "usage", null, null,
            new { result.Accepted, result.Duplicates, Meters = events.Select(e => e.Meter).Distinct().Order(StringComparer.Ordinal).ToList() },
            cancellationToken);
        // Under the rollup rows' locks each batch sees its own before and after, so of many batches crossing a threshold together one alerts.
        await alerts.QueueCrossedAsync(scope, changes, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        // Counted after the commit: a refused or rolled-back batch took nothing in.
        Telemetry.UsageEventsIngested.Add(result.Accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        if (result.Duplicates > 0)
        {
            Telemetry.UsageEventsIngested.Add(result.Duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
        }
        return result;
    }

    /// <summary>Names every event of a refused batch as sent: those of the meter and month that would pass the quota are quota_exceeded, the others
    /// batch_refused (the batch is written whole or not at all, so that a retry of the same batch never counts an event twice; ADR 0563, 0710).</summary>
    private static List<RefusedEvent> Refused(IReadOnlyList<UsageEventInput> events, RollupChange change, DateTimeOffset now)
    {
        var refused = new List<RefusedEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var period = DateOnly.FromDateTime(Meters.MonthStart((e.OccurredAt ?? now).ToUniversalTime()).UtcDateTime);
            refused.Add(new RefusedEvent(i, e.Meter!, e.Meter == change.Meter && period == change.PeriodStart ? "quota_exceeded" : "batch_refused"));
        }
        return refused;
    }

    /// <summary>Consumes the quota reservations the events name: the event's amount counts and the hold is released. A reservation this tenant does not have,
    /// or one of another meter, is 422 naming events[i].reservation_id; an expired or already consumed one leaves the event an ordinary event.</summary>
    private async Task ConsumeReservationsAsync(TenantScope scope, RecordUsage command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        List<(Guid Id, string Key)>? uses = null;
        for (var i = 0; i < command.Events.Count; i++)
        {
            if (command.Events[i].ReservationId is { } id)
            {
                (uses ??= []).Add((id, command.Events[i].IdempotencyKey!));
            }
        }
        if (uses is null)
        {
            return;
        }
        var found = (await reservations.ConsumeAsync(scope.Session, command.TenantId, uses, now, cancellationToken)).ToDictionary(r => r.Id);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < command.Events.Count; i++)
        {
            if (command.Events[i].ReservationId is not { } id)
            {
                continue;
            }
            if (!found.TryGetValue(id, out var reservation))
            {
                errors[$"events[{i}].reservation_id"] = ["The tenant has no such reservation."];
            }
            else if (reservation.Meter != command.Events[i].Meter)
            {
                errors[$"events[{i}].reservation_id"] = [$"The reservation holds the meter '{reservation.Meter}', not '{command.Events[i].Meter}'."];
            }
        }
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
    }
}

/// <summary>Checks worker ids as the catalogue writes them (workers.id): 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter.</summary>
internal static class WorkerIds
{
    public static bool IsValid(string? id) =>
        id is { Length: >= 1 and <= 63 } && id[0] is >= 'a' and <= 'z' && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
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
