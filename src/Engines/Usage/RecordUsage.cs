using System.Text.Json;
using FluentValidation;
using MediatR;
using Platform.Engines.Plans;
using Platform.Drivers.Sessions;
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
        var inputs = command.Events;
        var all = new UsageEvent[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var e = inputs[i];
            all[i] = new UsageEvent(e.Meter!, e.Amount!.Value, e.IdempotencyKey!, (e.OccurredAt ?? now).ToUniversalTime(), UsageMetadata.Text(e.Metadata),
                e.WorkerId, command.Caller.Kind == CallerKind.ApiKey ? command.Caller.ApiKeyId : null);
        }
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "usage:write");
        var consumedBy = await ConsumeReservationsAsync(scope, command, now, cancellationToken);

        // Hard meters with a finite quota admit each event on its own (ADR 0770); every other event is written as before.
        var hard = await usage.ListHardAsync(scope.Session, command.TenantId, all.Select(e => e.Meter).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        Dictionary<string, (long Quota, bool Summed, bool Level)>? quotas = null;
        if (hard.Count > 0)
        {
            var limits = await scope.LimitsAsync(cancellationToken);
            foreach (var (meter, summed, level) in hard)
            {
                if (MeterQuotas.For(scope.Tenant, limits, meter) is { } quota and not PlanCatalog.Unlimited)
                {
                    (quotas ??= new(StringComparer.Ordinal))[meter] = (quota, summed, level);
                }
            }
        }
        var admission = quotas is null
            ? null
            : await AdmitSummedAsync(scope, command.TenantId, all, quotas, consumedBy, now, cancellationToken);

        var written = new List<UsageEvent>(all.Length);
        for (var i = 0; i < all.Length; i++)
        {
            if (admission is null || !(admission.Refused.ContainsKey(i) || admission.Later.Contains(i)))
            {
                written.Add(all[i]);
            }
        }
        // Sorted by key, so that concurrent batches sharing keys lock them in one order and cannot deadlock.
        written.Sort((a, b) => StringComparer.Ordinal.Compare(a.IdempotencyKey, b.IdempotencyKey));
        var inserted = written.Count == 0 ? new UsageInsertResult(0, []) : await usage.InsertEventsAsync(scope.Session, command.TenantId, written, now, cancellationToken);
        // Meters that are not summed (gauge, max, latest, count, unique_count) get their rollups computed again from the raw events (ADR 0640).
        var changes = inserted.AggregatedMeters is { Count: > 0 } aggregated
            ? [.. inserted.Rollups, .. await usage.RecomputeRollupsAsync(scope.Session, command.TenantId, aggregated, written, now, cancellationToken)]
            : inserted.Rollups.ToList();
        var accepted = inserted.Inserted;
        if (admission is not null && admission.Later.Count > 0)
        {
            accepted += await AdmitAggregatedAsync(scope, command.TenantId, all, quotas!, admission, consumedBy, changes, now, cancellationToken);
        }
        var refused = admission is null ? [] : admission.Refused.OrderBy(r => r.Key).Select(r => r.Value).ToList();
        if (admission is { Released.Count: > 0 })
        {
            // A refused event did not spend the reservation it named: the hold stands until it expires or another event consumes it.
            await reservations.ReleaseAsync(scope.Session, command.TenantId, admission.Released, cancellationToken);
        }
        var duplicates = all.Length - accepted - refused.Count;
        if (accepted == 0 && duplicates == 0 && refused.Count > 0)
        {
            // Nothing of the batch was or had been taken in: 429 as before, naming each refused event (the transaction rolls back).
            var first = refused[0];
            throw new QuotaExceededException(first.Meter, first.Limit!.Value, first.Used!.Value, Meters.NextMonthStart(now))
            {
                Reserved = admission!.Held.GetValueOrDefault(first.Meter),
                Remaining = first.Remaining,
                RefusedEvents = refused,
            };
        }
        var result = new UsageBatchResult(accepted, duplicates, refused);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "usage.recorded", "usage", null, null,
            new { result.Accepted, result.Duplicates, Refused = refused.Count, Meters = all.Select(e => e.Meter).Distinct().Order(StringComparer.Ordinal).ToList() },
            cancellationToken);
        // Under the rollup rows' locks each batch sees its own before and after, so of many batches crossing a threshold together one alerts.
        await alerts.QueueCrossedAsync(scope, changes, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        // Counted after the commit: a refused or rolled-back batch took nothing in (nor does the warm-up's sandbox, ADR 0815).
        if (WarmUpSandbox.Active)
        {
            return result;
        }
        Telemetry.UsageEventsIngested.Add(result.Accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        if (result.Duplicates > 0)
        {
            Telemetry.UsageEventsIngested.Add(result.Duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
        }
        if (refused.Count > 0)
        {
            Telemetry.UsageEventsIngested.Add(refused.Count, new KeyValuePair<string, object?>("outcome", "refused"));
        }
        return result;
    }

    /// <summary>Holds the per-event admission of a batch: the refused events by index, the events of hard non-summed meters admitted one by one after the
    /// others (Later), the active holds per hard meter in the current month, and the reservations that refused events had consumed.</summary>
    private sealed class Admission
    {
        public SortedDictionary<int, RefusedEvent> Refused { get; } = [];
        public HashSet<int> Later { get; } = [];
        public Dictionary<string, decimal> Held { get; } = new(StringComparer.Ordinal);
        public List<Guid> Released { get; } = [];
        public HashSet<string> Taken { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Admits the events of hard summed meters one at a time in the order sent: under the locks of their rollup rows (then the meter's lock for the
    /// active holds of the current month, ADR 0710), an event is accepted while the month's use, the active holds and the batch's earlier accepted
    /// events leave room for its amount; a stored or repeated key is a duplicate and counts nothing.</summary>
    private async Task<Admission> AdmitSummedAsync(TenantScope scope, Guid tenantId, UsageEvent[] all, Dictionary<string, (long Quota, bool Summed, bool Level)> quotas,
        Dictionary<int, UsageReservationRef> consumedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var admission = new Admission();
        var currentPeriod = Period(now);
        var pairs = new List<(string Meter, DateOnly Period)>();
        var keys = new List<string>();
        for (var i = 0; i < all.Length; i++)
        {
            if (quotas.TryGetValue(all[i].Meter, out var q))
            {
                keys.Add(all[i].IdempotencyKey);
                if (q.Summed)
                {
                    pairs.Add((all[i].Meter, Period(all[i].OccurredAt)));
                }
                else
                {
                    admission.Later.Add(i);
                }
            }
        }
        var used = pairs.Count == 0
            ? new Dictionary<(string Meter, DateOnly Period), decimal>()
            : new Dictionary<(string Meter, DateOnly Period), decimal>(await usage.LockRollupsAsync(scope.Session, tenantId, pairs, now, cancellationToken));
        foreach (var meter in pairs.Where(p => p.Period == currentPeriod).Select(p => p.Meter).Distinct().Order(StringComparer.Ordinal))
        {
            await reservations.LockMeterAsync(scope.Session, tenantId, meter, cancellationToken);
            admission.Held[meter] = await reservations.SumActiveAsync(scope.Session, tenantId, meter, now, cancellationToken) + Pending(consumedBy, meter);
        }
        var stored = await usage.ExistingKeysAsync(scope.Session, tenantId, keys, cancellationToken);
        for (var i = 0; i < all.Length; i++)
        {
            var e = all[i];
            if (!quotas.TryGetValue(e.Meter, out var q) || !q.Summed || stored.Contains(e.IdempotencyKey) || admission.Taken.Contains(e.IdempotencyKey))
            {
                continue;
            }
            var period = Period(e.OccurredAt);
            var before = used.GetValueOrDefault((e.Meter, period));
            var held = Own(admission, i, e, consumedBy, period == currentPeriod);
            if (e.Amount == 0 || before + held + e.Amount <= q.Quota)
            {
                used[(e.Meter, period)] = MeterPrecision.Normalize(before + e.Amount);
                admission.Taken.Add(e.IdempotencyKey);
                continue;
            }
            Refuse(admission, i, e, q.Quota, before, held, consumedBy, period == currentPeriod);
        }
        return admission;
    }

    /// <summary>Admits the events of hard non-summed meters (gauge, max, latest, count, unique_count) one at a time in the order sent: each is written and
    /// its meter's rollups computed again under a savepoint, and undone alone when a rollup it raised would pass the quota (with the month's active holds).
    /// A level meter (gauge, max: the event's amount is the level itself) refuses an event whose level passes the quota (with the month's active holds when
    /// it falls in the current month), whatever the month's rollup: a gauge's GB-month averages the level over the month, so a level far above the quota
    /// reported late in the month would otherwise pass (ADR 0795).</summary>
    private async Task<int> AdmitAggregatedAsync(TenantScope scope, Guid tenantId, UsageEvent[] all, Dictionary<string, (long Quota, bool Summed, bool Level)> quotas,
        Admission admission, Dictionary<int, UsageReservationRef> consumedBy, List<RollupChange> changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var currentPeriod = Period(now);
        var accepted = 0;
        foreach (var i in admission.Later.Order())
        {
            var e = all[i];
            var (quota, _, level) = quotas[e.Meter];
            await usage.SavepointAsync(scope.Session, cancellationToken);
            var inserted = await usage.InsertEventsAsync(scope.Session, tenantId, [e], now, cancellationToken);
            if (inserted.Inserted == 0)
            {
                await usage.EndSavepointAsync(scope.Session, rollback: false, cancellationToken);
                continue;
            }
            var recomputed = await usage.RecomputeRollupsAsync(scope.Session, tenantId, [e.Meter], [e], now, cancellationToken);
            if (!admission.Held.ContainsKey(e.Meter))
            {
                // The recompute holds the meter's lock (the one quota checks take), so the holds read now stay true until the commit.
                admission.Held[e.Meter] = await reservations.SumActiveAsync(scope.Session, tenantId, e.Meter, now, cancellationToken) + Pending(consumedBy, e.Meter);
            }
            var held = Own(admission, i, e, consumedBy, current: true);
            var over = level
                ? (e.Amount + (Period(e.OccurredAt) == currentPeriod ? held : 0m) > quota
                    ? recomputed.FirstOrDefault(c => c.PeriodStart == Period(e.OccurredAt)) ?? new RollupChange(e.Meter, Period(e.OccurredAt), 0m, 0m)
                    : null)
                : recomputed.FirstOrDefault(c => c.After > c.Before && c.After + (c.PeriodStart == currentPeriod ? held : 0m) > quota);
            if (over is not null)
            {
                await usage.EndSavepointAsync(scope.Session, rollback: true, cancellationToken);
                Refuse(admission, i, e, quota, over.Before, over.PeriodStart == currentPeriod ? held : 0m, consumedBy, over.PeriodStart == currentPeriod);
                continue;
            }
            await usage.EndSavepointAsync(scope.Session, rollback: false, cancellationToken);
            changes.AddRange(recomputed);
            accepted++;
        }
        return accepted;
    }

    /// <summary>Sums the holds that events of the batch consumed on a meter: they stay held for the batch's events before the one that consumes them.</summary>
    private static decimal Pending(Dictionary<int, UsageReservationRef> consumedBy, string meter) =>
        consumedBy.Values.Where(r => r.Meter == meter).Sum(r => r.Amount);

    /// <summary>Turns the hold an event consumed into its own amount (the hold no longer counts for it) and gives the holds that count for it.</summary>
    private static decimal Own(Admission admission, int index, UsageEvent e, Dictionary<int, UsageReservationRef> consumedBy, bool current)
    {
        if (consumedBy.TryGetValue(index, out var reservation))
        {
            admission.Held[e.Meter] = admission.Held.GetValueOrDefault(e.Meter) - reservation.Amount;
        }
        return current ? admission.Held.GetValueOrDefault(e.Meter) : 0m;
    }

    private static void Refuse(Admission admission, int index, UsageEvent e, long quota, decimal used, decimal held, Dictionary<int, UsageReservationRef> consumedBy,
        bool current)
    {
        if (consumedBy.TryGetValue(index, out var reservation))
        {
            // The event named a hold it had just consumed: the hold stands again, for the batch's later events too.
            admission.Released.Add(reservation.Id);
            admission.Held[e.Meter] = admission.Held.GetValueOrDefault(e.Meter) + reservation.Amount;
            held += current ? reservation.Amount : 0m;
        }
        admission.Refused[index] = new RefusedEvent(index, e.Meter, "quota_exceeded", quota, MeterPrecision.Normalize(used),
            MeterPrecision.Normalize(Math.Max(0m, quota - used - held)));
    }

    private static DateOnly Period(DateTimeOffset at) => DateOnly.FromDateTime(Meters.MonthStart(at.ToUniversalTime()).UtcDateTime);

    /// <summary>Consumes the quota reservations the events name: the event's amount counts and the hold is released. A reservation this tenant does not have,
    /// or one of another meter, is 422 naming events[i].reservation_id; an expired or already consumed one leaves the event an ordinary event.
    /// Returns, by event index, the active reservations each event consumed (the first event naming a reservation consumes it).</summary>
    private async Task<Dictionary<int, UsageReservationRef>> ConsumeReservationsAsync(TenantScope scope, RecordUsage command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var consumedBy = new Dictionary<int, UsageReservationRef>();
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
            return consumedBy;
        }
        var found = (await reservations.ConsumeAsync(scope.Session, command.TenantId, uses, now, cancellationToken)).ToDictionary(r => r.Id);
        var errors = new Dictionary<string, string[]>();
        var seen = new HashSet<Guid>();
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
            else if (seen.Add(id) && reservation.Active)
            {
                consumedBy[i] = reservation;
            }
        }
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
        return consumedBy;
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
