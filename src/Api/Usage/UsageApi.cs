using System.Runtime.CompilerServices;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines.Usage;
using Platform.Models.Usage;
using Platform.Models.Errors;

namespace Platform.Api.Endpoints;

/// <summary>Maps usage metering: batch ingestion of events, the current period's summary and the monthly history.</summary>
public static class UsageApi
{
    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder routes)
    {
        var usage = routes.MapTenantGroup("/usage").WithTags("Usage");
        usage.MapPost("/events", RecordAsync).Accepts<List<UsageEventRequest>>("application/json");
        usage.MapGet("/", SummaryAsync).Produces<UsageSummaryResponse>();
        usage.MapGet("/history", HistoryAsync);
        return routes;
    }

    /// <summary>Takes either a bare array of events or an object {"events": [...]}, read from the body in one pass (no document in between).</summary>
    private static async Task<Ok<UsageBatchResponse>> RecordAsync(HttpContext http, IMediator mediator, IOptions<JsonOptions> json, CancellationToken ct)
    {
        if (!http.Request.HasJsonContentType())
        {
            throw new BadHttpRequestException("Send the body as application/json.", StatusCodes.Status415UnsupportedMediaType);
        }
        UsageEventBatch? batch;
        try
        {
            batch = await JsonSerializer.DeserializeAsync<UsageEventBatch>(http.Request.Body, json.Value.SerializerOptions, ct);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException("The body is not valid JSON for this request.", StatusCodes.Status400BadRequest, e);
        }
        var items = batch?.Events
            ?? throw ValidationFailedException.For("events", "Send an array of events, or an object with an 'events' array.");
        var inputs = new List<UsageEventInput>(items.Count);
        foreach (var e in items)
        {
            inputs.Add(e is null ? null! : new UsageEventInput(e.Meter, e.Amount, e.IdempotencyKey, e.OccurredAt));
        }
        var result = await mediator.Send(new RecordUsage(http.ToCaller(), TenantRouteFilter.TenantId(http), inputs), ct);
        return TypedResults.Ok(new UsageBatchResponse(inputs.Count, result.Accepted, result.Duplicates));
    }

    /// <summary>Holds the JSON of each summary the engine handed out. The engine gives API keys the same immutable summary until the tenant
    /// changes (ADR 0164), so a summary is serialized once, not on every poll; entries go when the engine drops the summary.</summary>
    private static readonly ConditionalWeakTable<UsageSummary, byte[]> SummaryJson = new();

    private static async Task<IResult> SummaryAsync(HttpContext http, IMediator mediator, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var summary = await mediator.Send(new GetUsageSummary(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        var body = SummaryJson.GetValue(summary, s => JsonSerializer.SerializeToUtf8Bytes(UsageSummaryResponse.From(s), json.Value.SerializerOptions));
        return TypedResults.Bytes(body, "application/json; charset=utf-8");
    }

    private static async Task<Ok<ListResponse<UsagePeriodResponse>>> HistoryAsync(
        HttpContext http, IMediator mediator, DateTimeOffset? from, DateTimeOffset? to, string? meter, CancellationToken ct)
    {
        var rollups = await mediator.Send(new GetUsageHistory(http.ToCaller(), TenantRouteFilter.TenantId(http), from, to, meter), ct);
        return TypedResults.Ok(new ListResponse<UsagePeriodResponse>(rollups.Select(UsagePeriodResponse.From).ToList(), null));
    }
}
