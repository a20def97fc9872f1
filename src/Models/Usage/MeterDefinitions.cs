namespace Platform.Models.Usage;

/// <summary>Names how a meter's events become its value over a period (ADR 0640): sum of amounts, count of events, largest amount, distinct values
/// of a metadata property, the latest amount, or the time-weighted level (gauge: integral of the level over the period ÷ its length).</summary>
[WireEnum]
public enum MeterAggregation
{
    Sum,
    Count,
    Max,
    UniqueCount,
    Latest,
    Gauge,
}

/// <summary>Holds a meter of the catalogue: its key, display name, unit, decimals an amount may have, aggregation and (unique_count only) the
/// metadata property whose distinct values it counts.</summary>
public sealed record MeterDefinition(string Key, string Name, string Unit, int Decimals, MeterAggregation Aggregation, string? UniqueProperty, DateTimeOffset CreatedAt)
{
    /// <summary>Gives the definition of a meter the catalogue does not list: summed, with <see cref="MeterPrecision.Default"/> decimals.</summary>
    public static MeterDefinition Unlisted(string key) => new(key, key, "units", MeterPrecision.Default, MeterAggregation.Sum, null, DateTimeOffset.MinValue);
}

/// <summary>Holds the price of a meter's use beyond what a plan includes in one currency (lower-case ISO 4217, ADR 0775): minor units per unit
/// (may be fractional) and, for meters without a plan quota, the quantity included (null: none included; the same in every currency).</summary>
public sealed record MeterPrice(string Meter, string Plan, decimal UnitPriceCents, decimal? Included, DateTimeOffset UpdatedAt, string Currency = MeterPrice.PrimaryCurrency)
{
    /// <summary>Is the currency of meter_prices' own price (the plans' primary one); other currencies' prices are in meter_currency_prices.</summary>
    public const string PrimaryCurrency = "usd";
}
