using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Operators;
using Platform.Engines.Usage;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Usage;

namespace Platform.Api.Operators;

/// <summary>Maps the operators' meter catalogue (ADR 0640): list the meters with their prices, add a meter, and price a meter for a plan, each change a
/// founder action with a reason; no code change is needed for a new meter to be ingested, aggregated, shown and billed.</summary>
public sealed class MeterCatalogueApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin/meters", "Meters");
        admin.MapGet("/", ListAsync)
            .WithName("listMeters")
            .WithSummary("List every meter of the catalogue with its unit, decimals, aggregation and prices per plan")
            .WithDescription("Any operator (viewer or higher).");
        admin.MapPost("/", CreateAsync)
            .WithName("createMeter")
            .WithSummary("Add a meter to the catalogue, as a founder action")
            .WithDescription("Needs the super_admin operator role and a reason code. Not reversible; the aggregation never changes once created. "
                + "aggregation: sum, count, max, unique_count (needs unique_property: the metadata property whose distinct values it counts), latest, "
                + "or gauge (a level: the integral of the level over the month divided by the month's length, e.g. GB-months).")
            .RefusesBody("`validation_failed`: a field is missing or not valid (`errors` names it).")
            .Refuses(StatusCodes.Status409Conflict, "`meter_exists`: a meter has this key.");
        admin.MapPut("/{meter}/prices/{plan}", PriceAsync)
            .WithName("setMeterPrice")
            .WithSummary("Price a meter for a plan in a currency: minor units per unit beyond what the plan includes, as a reversible founder action")
            .WithDescription("Needs the super_admin operator role and a reason code. api_calls, storage_gb and gpu_hours are billed beyond the tenant's "
                + "effective quota; any other meter beyond `included` (none when left out). The next close and billing estimate use the price. "
                + "`currency` (usd when left out) is the currency of the price: tenants billed in it pay it; a meter with no price in a tenant's "
                + "currency is not billed to it. The usd price comes first and holds `included`, the same in every currency.")
            .RefusesBody("`validation_failed`: the plan or currency is unknown, unit_price_cents or included is not valid, or a non-usd price "
                + "is set before the usd one (`errors` names the field).")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no meter has this key.");
    }

    private static async Task<Ok<ListResponse<MeterResponse>>> ListAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var view = await mediator.Send(new ListMeterCatalogue(http.ToOperatorCaller()), ct);
        return TypedResults.Ok(new ListResponse<MeterResponse>(view.Meters.Select(m => MeterResponse.From(m, view.Prices)).ToList(), null));
    }

    private static async Task<Created<MeterChangeResponse>> CreateAsync(MeterRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.ToOperatorCaller();
        MeterAggregation aggregation = default;
        if (body.Aggregation is null || !WireNames.TryParse(body.Aggregation, out aggregation))
        {
            throw ValidationFailedException.For("aggregation", "The aggregation must be sum, count, max, unique_count, latest or gauge.");
        }
        var definition = new MeterDefinition(body.Key ?? "", body.Name ?? body.Key ?? "", body.Unit ?? "", body.Decimals ?? 0, aggregation, body.UniqueProperty, default);
        var action = await mediator.Send(new PerformFounderAction(caller, FounderActionTypes.CreateMeter, definition.Key is { Length: > 0 } key ? key : "-",
            body.ReasonCode ?? "", body.ReasonNote, definition), ct);
        var view = await mediator.Send(new ListMeterCatalogue(caller), ct);
        var meter = view.Meters.Single(m => m.Key == definition.Key);
        return TypedResults.Created($"/v1/admin/meters/{meter.Key}", new MeterChangeResponse(MeterResponse.From(meter, view.Prices), FounderActionResponse.From(action)));
    }

    private static async Task<Ok<MeterChangeResponse>> PriceAsync(string meter, string plan, MeterPriceRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.ToOperatorCaller();
        var action = await mediator.Send(new PerformFounderAction(caller, FounderActionTypes.SetMeterPrice, meter,
            body.ReasonCode ?? "", body.ReasonNote, new MeterPriceInput(plan, body.UnitPriceCents, body.Included, body.Currency)), ct);
        var view = await mediator.Send(new ListMeterCatalogue(caller), ct);
        var found = view.Meters.Single(m => m.Key == meter);
        return TypedResults.Ok(new MeterChangeResponse(MeterResponse.From(found, view.Prices), FounderActionResponse.From(action)));
    }
}

/// <summary>Is a new meter as an operator sends it; name defaults to the key, decimals to 0.</summary>
public sealed record MeterRequest(
    string? Key = null, string? Name = null, string? Unit = null, int? Decimals = null, string? Aggregation = null, string? UniqueProperty = null,
    string? ReasonCode = null, string? ReasonNote = null);

/// <summary>Is a meter's price for a plan as an operator sends it.</summary>
public sealed record MeterPriceRequest(decimal? UnitPriceCents = null, decimal? Included = null, string? ReasonCode = null, string? ReasonNote = null, string? Currency = null);

/// <summary>Is one plan's price of a meter in one currency (lower-case ISO 4217); included is the same in every currency.</summary>
public sealed record MeterPriceResponse(string Plan, decimal UnitPriceCents, decimal? Included, DateTimeOffset UpdatedAt, string Currency);

/// <summary>Is a meter of the catalogue with its prices per plan.</summary>
public sealed record MeterResponse(string Key, string Name, string Unit, int Decimals, MeterAggregation Aggregation, string? UniqueProperty,
    IReadOnlyList<MeterPriceResponse> Prices)
{
    public static MeterResponse From(MeterDefinition m, IReadOnlyList<MeterPrice> prices) => new(m.Key, m.Name, m.Unit, m.Decimals, m.Aggregation, m.UniqueProperty,
        prices.Where(p => p.Meter == m.Key).Select(p => new MeterPriceResponse(p.Plan, p.UnitPriceCents, p.Included, p.UpdatedAt, p.Currency)).ToList());
}

/// <summary>Is the answer to a catalogue change: the meter as it is now and the founder action that changed it.</summary>
public sealed record MeterChangeResponse(MeterResponse Meter, FounderActionResponse Action);
