using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Usage;

namespace Platform.Drivers.Usage;

/// <summary>Reads and writes the meter catalogue (global tables meters and meter_prices, ADR 0640).</summary>
public interface IMeterDriver
{
    /// <summary>Lists every meter of the catalogue by key.</summary>
    Task<IReadOnlyList<MeterDefinition>> ListMetersAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Lists the prices of every meter and plan in every currency, by meter, plan, then the primary currency first and the others by code;
    /// a price in another currency carries the included quantity of the primary one (ADR 0775).</summary>
    Task<IReadOnlyList<MeterPrice>> ListPricesAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Inserts a meter; false when a meter has its key.</summary>
    Task<bool> TryInsertMeterAsync(IDbSession session, MeterDefinition meter, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the price of a meter for a plan and returns the price before (null when there was none); the meter must exist.</summary>
    Task<MeterPrice?> SetPriceAsync(IDbSession session, MeterPrice price, CancellationToken cancellationToken);

    /// <summary>Removes the price of a meter for a plan (with its prices in other currencies).</summary>
    Task DeletePriceAsync(IDbSession session, string meter, string plan, CancellationToken cancellationToken);

    /// <summary>Sets the price of a meter for a plan in a currency other than the primary one and returns the price before (null when there was none);
    /// false in Set when the meter has no primary price for the plan (nothing is written then).</summary>
    Task<(bool Set, MeterPrice? Before)> SetCurrencyPriceAsync(IDbSession session, MeterPrice price, CancellationToken cancellationToken);

    /// <summary>Removes the price of a meter for a plan in a currency other than the primary one.</summary>
    Task DeleteCurrencyPriceAsync(IDbSession session, string meter, string plan, string currency, CancellationToken cancellationToken);
}

internal sealed class MeterDriver : IMeterDriver
{
    public async Task<IReadOnlyList<MeterDefinition>> ListMetersAsync(IDbSession session, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            "SELECT m.key, m.name, m.unit, m.decimals, m.aggregation, m.unique_property, m.created_at FROM meters m ORDER BY m.key",
            null, (MeterRow r) => r.ToDefinition(), cancellationToken);
    }

    public async Task<IReadOnlyList<MeterPrice>> ListPricesAsync(IDbSession session, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT a.* FROM (
                SELECT p.meter, p.plan, p.unit_price_cents, p.included, p.updated_at, 'usd' AS currency FROM meter_prices p
                UNION ALL
                SELECT c.meter, c.plan, c.unit_price_cents, p.included, c.updated_at, c.currency
                FROM meter_currency_prices c JOIN meter_prices p ON p.meter = c.meter AND p.plan = c.plan
            ) a
            ORDER BY a.meter, a.plan, a.currency <> 'usd', a.currency
            """,
            null, (PriceRow r) => r.ToPrice(), cancellationToken);
    }

    public async Task<bool> TryInsertMeterAsync(IDbSession session, MeterDefinition meter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            INSERT INTO meters (key, name, unit, decimals, aggregation, unique_property, created_at)
            VALUES (@Key, @Name, @Unit, @Decimals, @aggregation, @UniqueProperty, @now)
            ON CONFLICT (key) DO NOTHING
            """,
            new { meter.Key, meter.Name, meter.Unit, meter.Decimals, aggregation = meter.Aggregation.ToWire(), meter.UniqueProperty, now },
            cancellationToken) == 1;
    }

    public async Task<MeterPrice?> SetPriceAsync(IDbSession session, MeterPrice price, CancellationToken cancellationToken)
    {
        var before = await session.FetchAsync(
            "SELECT p.meter, p.plan, p.unit_price_cents, p.included, p.updated_at FROM meter_prices p WHERE p.meter = @Meter AND p.plan = @Plan FOR UPDATE",
            new { price.Meter, price.Plan }, (PriceRow r) => r.ToPrice(), cancellationToken);
        await session.ExecuteAsync(
            """
            INSERT INTO meter_prices (meter, plan, unit_price_cents, included, updated_at)
            VALUES (@Meter, @Plan, @UnitPriceCents, @Included, @UpdatedAt)
            ON CONFLICT (meter, plan) DO UPDATE SET
                unit_price_cents = excluded.unit_price_cents, included = excluded.included, updated_at = excluded.updated_at
            """,
            new { price.Meter, price.Plan, price.UnitPriceCents, price.Included, price.UpdatedAt }, cancellationToken);
        return before;
    }

    public async Task DeletePriceAsync(IDbSession session, string meter, string plan, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("DELETE FROM meter_prices WHERE meter = @meter AND plan = @plan", new { meter, plan }, cancellationToken);
    }

    public async Task<(bool Set, MeterPrice? Before)> SetCurrencyPriceAsync(IDbSession session, MeterPrice price, CancellationToken cancellationToken)
    {
        var primary = await session.FetchAsync(
            "SELECT p.meter, p.plan, p.unit_price_cents, p.included, p.updated_at, 'usd' AS currency FROM meter_prices p WHERE p.meter = @Meter AND p.plan = @Plan FOR UPDATE",
            new { price.Meter, price.Plan }, (PriceRow r) => r.ToPrice(), cancellationToken);
        if (primary is null)
        {
            return (false, null);
        }
        var before = await session.FetchAsync(
            """
            SELECT c.meter, c.plan, c.unit_price_cents, NULL::numeric AS included, c.updated_at, c.currency FROM meter_currency_prices c
            WHERE c.meter = @Meter AND c.plan = @Plan AND c.currency = @Currency FOR UPDATE
            """,
            new { price.Meter, price.Plan, price.Currency }, (PriceRow r) => r.ToPrice(), cancellationToken);
        await session.ExecuteAsync(
            """
            INSERT INTO meter_currency_prices (meter, plan, currency, unit_price_cents, updated_at)
            VALUES (@Meter, @Plan, @Currency, @UnitPriceCents, @UpdatedAt)
            ON CONFLICT (meter, plan, currency) DO UPDATE SET unit_price_cents = excluded.unit_price_cents, updated_at = excluded.updated_at
            """,
            new { price.Meter, price.Plan, price.Currency, price.UnitPriceCents, price.UpdatedAt }, cancellationToken);
        return (true, before);
    }

    public async Task DeleteCurrencyPriceAsync(IDbSession session, string meter, string plan, string currency, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("DELETE FROM meter_currency_prices WHERE meter = @meter AND plan = @plan AND currency = @currency",
            new { meter, plan, currency }, cancellationToken);
    }

    private sealed class MeterRow
    {
        public string Key { get; init; } = "";
        public string Name { get; init; } = "";
        public string Unit { get; init; } = "";
        public int Decimals { get; init; }
        public string Aggregation { get; init; } = "";
        public string? UniqueProperty { get; init; }
        public DateTime CreatedAt { get; init; }

        public MeterDefinition ToDefinition() => new(Key, Name, Unit, Decimals, WireNames.Parse<MeterAggregation>(Aggregation), UniqueProperty,
            CreatedAt.ToUtcOffset());
    }

    private sealed class PriceRow
    {
        public string Meter { get; init; } = "";
        public string Plan { get; init; } = "";
        public decimal UnitPriceCents { get; init; }
        public decimal? Included { get; init; }
        public DateTime UpdatedAt { get; init; }
        public string Currency { get; init; } = MeterPrice.PrimaryCurrency;

        public MeterPrice ToPrice() => new(Meter, Plan, MeterPrecision.Normalize(UnitPriceCents), Included is { } i ? MeterPrecision.Normalize(i) : null,
            UpdatedAt.ToUtcOffset(), Currency);
    }
}
