using System.Buffers.Text;
using System.Globalization;
using System.Text;
using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Lists a tenant's raw usage events newest first, a page at a time, filtered by meter, [from, to) on occurred_at, worker and API key
/// (viewer or higher, key "usage:read"; ADR 0641). The cursor is opaque: the position of the page's last event.</summary>
public sealed record ListUsageEvents(Caller Caller, Guid TenantId, UsageEventFilter Filter, string? Cursor, int? Limit)
    : IRequest<Page<StoredUsageEvent>>, ITenantRead, ICallerCommand;

internal sealed class ListUsageEventsValidator : AbstractValidator<ListUsageEvents>
{
    public ListUsageEventsValidator()
    {
        RuleFor(c => c.Filter.Meter).Must(MeterNames.IsValid).When(c => c.Filter.Meter is not null).WithMessage("The meter name is not valid.")
            .OverridePropertyName("meter");
        RuleFor(c => c.Filter.WorkerId).Must(WorkerIds.IsValid).When(c => c.Filter.WorkerId is not null).WithMessage("The worker id is not valid.")
            .OverridePropertyName("worker_id");
        RuleFor(c => c.Filter).Must(f => f.From is null || f.To is null || f.From <= f.To).WithMessage("from must not be after to.")
            .OverridePropertyName("from");
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit).When(c => c.Limit is not null).OverridePropertyName("limit");
    }
}

internal sealed class ListUsageEventsHandler(TenantGate gate, IUsageDriver usage) : IRequestHandler<ListUsageEvents, Page<StoredUsageEvent>>
{
    public async Task<Page<StoredUsageEvent>> Handle(ListUsageEvents query, CancellationToken cancellationToken)
    {
        var after = EventCursor.Decode(query.Cursor);
        var limit = query.Limit ?? Paging.DefaultLimit;
        var filter = query.Filter with { From = query.Filter.From?.ToUniversalTime(), To = query.Filter.To?.ToUniversalTime() };
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "usage:read");
        var rows = await usage.ListEventsAsync(scope.Session, query.TenantId, filter, after, limit + 1, cancellationToken);
        if (rows.Count <= limit)
        {
            return new Page<StoredUsageEvent>(rows, null);
        }
        var items = rows.Take(limit).ToList();
        return new Page<StoredUsageEvent>(items, EventCursor.Encode(items[^1].OccurredAt, items[^1].IdempotencyKey));
    }
}

/// <summary>Encodes a raw event's position (occurred_at to the microsecond, idempotency key) as an opaque cursor; a cursor this API did not issue is 422.</summary>
internal static class EventCursor
{
    public static string Encode(DateTimeOffset occurredAt, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{occurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{key}"));

    public static (DateTimeOffset OccurredAt, string Key)? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            if (cursor.Length <= 700)
            {
                var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
                var bar = text.IndexOf('|', StringComparison.Ordinal);
                if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                    && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
                    && text.Length - bar - 1 is >= 1 and <= 255 && !text.Contains('\0', StringComparison.Ordinal))
                {
                    return (new DateTimeOffset(ticks, TimeSpan.Zero), text[(bar + 1)..]);
                }
            }
        }
        catch (FormatException)
        {
        }
        throw ValidationFailedException.For("cursor", "The cursor is not one this API issued.");
    }
}
