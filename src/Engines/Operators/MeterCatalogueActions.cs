using System.Text.Json;
using Platform.Engines.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Usage;
using Platform.Engines.Usage;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Plans;
using Platform.Models.Usage;

namespace Platform.Engines.Operators;

/// <summary>Is the input of meter.price_set: the minor units per unit beyond what the plan includes, in a currency (null: the primary one, usd; ADR 0775)
/// and, with the primary price of a meter without a plan quota, the quantity included.</summary>
public sealed record MeterPriceInput(string Plan, decimal? UnitPriceCents, decimal? Included, string? Currency = null);

/// <summary>Adds a meter to the catalogue (super_admin; the target is its key, the input its <see cref="MeterDefinition"/>). Not reversible: events and
/// invoices name the meter, and its aggregation never changes (ADR 0640).</summary>
internal sealed class CreateMeterAction(IMeterDriver meters, MeterCatalog catalog, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.CreateMeter;
    public string TargetType => "meter";
    public OperatorRole MinimumRole => OperatorRole.SuperAdmin;
    public bool Reversible => false;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A meter belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var meter = context.Input as MeterDefinition ?? throw new InvalidOperationException("A meter definition is required.");
        MeterRules.Check(meter);
        if (!await meters.TryInsertMeterAsync(context.Session, meter, clock.UtcNow, cancellationToken))
        {
            throw new ConflictException($"A meter with the key '{meter.Key}' exists.", "meter_exists");
        }
        context.AfterCommit(() => { catalog.Invalidate(); return Task.CompletedTask; });
        return new { meter = meter.Key, aggregation = meter.Aggregation.ToWire(), decimals = meter.Decimals, unit = meter.Unit, unique_property = meter.UniqueProperty };
    }

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        throw new ConflictException("Adding a meter cannot be reversed.", "action_irreversible");
}

/// <summary>Sets the price of a meter for one plan (super_admin; the target is the meter's key); the next close and estimate use it. Reversing it
/// restores the price before (or removes the price when there was none).</summary>
internal sealed class SetMeterPriceAction(IMeterDriver meters, MeterCatalog catalog, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.SetMeterPrice;
    public string TargetType => "meter";
    public OperatorRole MinimumRole => OperatorRole.SuperAdmin;
    public bool Reversible => true;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A meter belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as MeterPriceInput ?? throw new InvalidOperationException("A price is required.");
        var price = MeterRules.Check(context.TargetId, input, clock.UtcNow);
        var all = await meters.ListMetersAsync(context.Session, cancellationToken);
        if (all.All(m => m.Key != price.Meter))
        {
            throw new NotFoundException("meter");
        }
        MeterPrice? before;
        if (price.Currency == MeterPrice.PrimaryCurrency)
        {
            before = await meters.SetPriceAsync(context.Session, price, cancellationToken);
        }
        else
        {
            (var set, before) = await meters.SetCurrencyPriceAsync(context.Session, price, cancellationToken);
            if (!set)
            {
                throw ValidationFailedException.For("currency",
                    $"The meter has no {MeterPrice.PrimaryCurrency} price for the plan '{price.Plan}': set it first (it holds the included quantity), then the price in {price.Currency}.");
            }
        }
        context.AfterCommit(() => { catalog.Invalidate(); return Task.CompletedTask; });
        return new
        {
            meter = price.Meter, plan = price.Plan, currency = price.Currency, unit_price_cents = price.UnitPriceCents, included = price.Included,
            previous = before is null ? null : new { unit_price_cents = before.UnitPriceCents, included = before.Included },
        };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var root = details.RootElement;
        var plan = root.GetProperty("plan").GetString()!;
        // Actions from before ADR 0775 have no currency: they priced the primary one.
        var currency = root.TryGetProperty("currency", out var c) && c.GetString() is { } code ? code : MeterPrice.PrimaryCurrency;
        if (currency != MeterPrice.PrimaryCurrency)
        {
            if (root.GetProperty("previous") is { ValueKind: JsonValueKind.Object } was)
            {
                await meters.SetCurrencyPriceAsync(context.Session, new MeterPrice(original.TargetId, plan, was.GetProperty("unit_price_cents").GetDecimal(), null,
                    clock.UtcNow, currency), cancellationToken);
            }
            else
            {
                await meters.DeleteCurrencyPriceAsync(context.Session, original.TargetId, plan, currency, cancellationToken);
            }
        }
        else if (root.GetProperty("previous") is { ValueKind: JsonValueKind.Object } previous)
        {
            await meters.SetPriceAsync(context.Session, new MeterPrice(original.TargetId, plan, previous.GetProperty("unit_price_cents").GetDecimal(),
                previous.GetProperty("included") is { ValueKind: JsonValueKind.Number } included ? included.GetDecimal() : null, clock.UtcNow), cancellationToken);
        }
        else
        {
            await meters.DeletePriceAsync(context.Session, original.TargetId, plan, cancellationToken);
        }
        context.AfterCommit(() => { catalog.Invalidate(); return Task.CompletedTask; });
    }
}

/// <summary>Checks meter definitions and prices an operator sends; failures are 422 naming the field.</summary>
internal static class MeterRules
{
    /// <summary>Is the largest price of one unit, in cents ($10 million).</summary>
    public const decimal MaxUnitPriceCents = 1_000_000_000m;

    public static void Check(MeterDefinition meter)
    {
        var errors = new Dictionary<string, string[]>();
        if (!MeterNames.IsValid(meter.Key))
        {
            errors["key"] = ["The key must be 1 to 63 lowercase letters, digits or underscores, starting with a letter."];
        }
        if (meter.Name is not { Length: >= 1 and <= 200 } || string.IsNullOrWhiteSpace(meter.Name))
        {
            errors["name"] = ["The name must be 1 to 200 characters."];
        }
        if (meter.Unit is not { Length: >= 1 and <= 50 } || string.IsNullOrWhiteSpace(meter.Unit))
        {
            errors["unit"] = ["The unit must be 1 to 50 characters."];
        }
        if (meter.Decimals is < 0 or > MeterPrecision.Default)
        {
            errors["decimals"] = [$"The decimals must be 0 to {MeterPrecision.Default}."];
        }
        var property = meter.UniqueProperty;
        if (meter.Aggregation == MeterAggregation.UniqueCount
            ? property is not { Length: >= 1 and <= 64 } || !property.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')
            : property is not null)
        {
            errors["unique_property"] = [meter.Aggregation == MeterAggregation.UniqueCount
                ? "unique_count needs the metadata property to count: 1 to 64 letters, digits, '_', '.' or '-'."
                : "Only a unique_count meter has a unique_property."];
        }
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
    }

    public static MeterPrice Check(string meter, MeterPriceInput input, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        if (PlanCatalog.Find(input.Plan) is null)
        {
            errors["plan"] = [$"The plan must be one of {string.Join(", ", PlanCatalog.All.Select(p => p.Id))}."];
        }
        if (input.UnitPriceCents is not { } cents || cents < 0 || cents > MaxUnitPriceCents || MeterPrecision.DecimalsOf(cents) > 6)
        {
            errors["unit_price_cents"] = ["The unit price must be a number of cents from 0 to 10^9 with at most 6 decimals."];
        }
        if (input.Included is { } included && (included < 0 || included > MeterPrecision.MaxAmount || MeterPrecision.DecimalsOf(included) > 6))
        {
            errors["included"] = ["The included quantity must be a number from 0 to 10^15 with at most 6 decimals."];
        }
        var currency = string.IsNullOrWhiteSpace(input.Currency) ? MeterPrice.PrimaryCurrency : input.Currency.Trim().ToLowerInvariant();
        if (!PlanCatalog.IsCurrency(currency))
        {
            errors["currency"] = [$"The currency must be one of: {string.Join(", ", PlanCatalog.Currencies)}."];
        }
        else if (currency != MeterPrice.PrimaryCurrency && input.Included is not null)
        {
            errors["included"] = [$"The included quantity is the same in every currency: set it with the {MeterPrice.PrimaryCurrency} price."];
        }
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
        return new MeterPrice(meter, input.Plan, MeterPrecision.Normalize(input.UnitPriceCents!.Value),
            input.Included is { } i ? MeterPrecision.Normalize(i) : null, now, currency);
    }
}
