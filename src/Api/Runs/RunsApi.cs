using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Runs;
using Platform.Models.Errors;
using Platform.Models.Runs;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps worker runs: create (admission), complete, get and list.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder routes)
    {
        var runs = routes.MapTenantGroup("/runs").WithTags("Runs");
        runs.MapPost("/", CreateAsync).WithIdempotency();
        runs.MapGet("/", ListAsync);
        runs.MapGet("/{run_id}", GetAsync);
        runs.MapPost("/{run_id}/complete", CompleteAsync).WithIdempotency();
        return routes;
    }

    private static async Task<Created<RunResponse>> CreateAsync(CreateRunRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var tenantId = TenantRouteFilter.TenantId(http);
        var run = await mediator.Send(new CreateRun(
            http.ToCaller(), tenantId, body.WorkerId ?? "", body.Task ?? "", RawOrNull(body.Input), body.ParentRunId), ct);
        return TypedResults.Created($"/v1/tenants/{tenantId}/runs/{run.Id}", RunResponse.From(run));
    }

    private static async Task<Ok<RunResponse>> CompleteAsync(string run_id, CompleteRunRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var missing = new Dictionary<string, string[]>();
        if (body.Success is null) { missing["success"] = ["'success' must not be empty."]; }
        if (body.TotalTokens is null) { missing["total_tokens"] = ["'total_tokens' must not be empty."]; }
        if (body.LatencyMs is null) { missing["latency_ms"] = ["'latency_ms' must not be empty."]; }
        if (missing.Count > 0)
        {
            throw new ValidationFailedException(missing);
        }
        var run = await mediator.Send(new CompleteRun(
            http.ToCaller(), TenantRouteFilter.TenantId(http), ParseRunId(run_id), body.Success!.Value, RawOrNull(body.Output), body.Error,
            body.TotalTokens!.Value, body.LatencyMs!.Value, RawOrNull(body.Stages), body.Recoveries, RawOrNull(body.PolicyViolations)), ct);
        return TypedResults.Ok(RunResponse.From(run));
    }

    private static async Task<Ok<RunResponse>> GetAsync(string run_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var run = await mediator.Send(new GetRun(http.ToCaller(), TenantRouteFilter.TenantId(http), ParseRunId(run_id)), ct);
        return TypedResults.Ok(RunResponse.From(run));
    }

    private static async Task<Ok<ListResponse<RunResponse>>> ListAsync(
        HttpContext http, IMediator mediator, string? status, string? worker_id, string? cursor, int? limit, CancellationToken ct)
    {
        RunStatus? parsed = null;
        if (status is not null)
        {
            parsed = RunStatuses.TryParse(status, out var s)
                ? s
                : throw ValidationFailedException.For("status", "The status must be one of running, succeeded, failed, timed_out.");
        }
        var page = await mediator.Send(new ListRuns(
            http.ToCaller(), TenantRouteFilter.TenantId(http), new RunFilter(parsed, worker_id), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<RunResponse>.From(page, RunResponse.From));
    }

    private static Guid ParseRunId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("run");

    private static string? RawOrNull(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.GetRawText() : null;
}
