using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Runs;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Runs;

namespace Platform.Api.Runs;

/// <summary>Maps worker runs (create with admission, complete, get, list), the worker registry and the tenant's per-worker configs.</summary>
public sealed class RunsApi : IEndpointGroup
{
    private const string RunNotFound = ProblemResponses.NotATenantOfYours + " Also when the run is not this tenant's.";
    private const string WorkerNotFound = ProblemResponses.NotATenantOfYours + " Also when there is no worker with this id.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var runs = routes.MapTenantGroup("/runs").WithTags("Runs");
        runs.MapPost("/", CreateAsync).WithIdempotency().RequireRateLimiting(AdmissionConcurrency.Policy)
            .WithName("createRun")
            .WithSummary("Start a worker run, admitted against the tenant's, the key's and the worker's limits")
            .WithDescription("Needs the member role or higher, or an API key with runs:write; refused while the tenant is suspended. "
                + "Every limit (runs per day, concurrent runs, tokens per month, the key's concurrent runs, the worker's runs per day) is checked in one transaction; "
                + "a worker that costs credits debits them. A retry names its parent run.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused + " Also when worker_id or parent_run_id names nothing (a private worker not given to this tenant "
                + "names nothing), or when input does not match the worker's input_schema (`errors` keys are input plus the JSON pointer, such as input/items/0).")
            .Refuses(StatusCodes.Status402PaymentRequired, "`insufficient_credits`: the worker costs credits and the balance is short (nothing is written).")
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission
                + " `worker_disabled`: the worker is disabled for this tenant; `worker_not_allowed`: the API key may not run this worker.")
            .Refuses(StatusCodes.Status409Conflict, "`worker_retired`: the worker admits no run; `max_tokens_per_run_exceeded`: the worker's tokens_per_run_estimate "
                + "is above the config's max_tokens_per_run; `max_workers_exceeded`: a first run of a worker the tenant has no config of would enable one more "
                + "worker than max_workers (`quota`, `limit`, `current`; ADR 0771); `idempotency_key_in_flight`.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`quota_exceeded`: a limit is reached (quota names it: max_runs_per_day, max_concurrent_runs, max_tokens_per_month, "
                + "key_concurrent_runs, worker_max_runs_per_day; Retry-After when it resets); " + ProblemResponses.KeyThrottled)
            .Refuses(StatusCodes.Status503ServiceUnavailable, AdmissionConcurrency.QueueFull);
        runs.MapGet("/", ListAsync)
            .WithName("listRuns")
            .WithSummary("List a tenant's runs, newest first, by status or worker")
            .WithDescription("Any member (viewer or higher), or an API key with runs:read. status is one of running, succeeded, failed, timed_out.");
        runs.MapGet("/{run_id}", GetAsync)
            .WithName("getRun")
            .WithSummary("Get a run")
            .WithDescription("Any member (viewer or higher), or an API key with runs:read.")
            .Refuses(StatusCodes.Status404NotFound, RunNotFound);
        runs.MapPost("/{run_id}/complete", CompleteAsync).WithIdempotency().RequireRateLimiting(AdmissionConcurrency.Policy)
            .WithName("completeRun")
            .WithSummary("Report a run's outcome: success, tokens, latency and output")
            .WithDescription("Needs the member role or higher, or an API key with runs:write; refused while the tenant is suspended. "
                + "success, total_tokens and latency_ms are required; the tokens count towards the month's quota and the run's cost. "
                + "A successful run whose output does not match the worker's output_schema, or that used more tokens than the config's "
                + "max_tokens_per_run, is recorded as failed, with the JSON pointers of the mismatch in error and the policy violation named.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status404NotFound, RunNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`run_already_completed`: the run was completed before (or timed out); `idempotency_key_in_flight`: a request with this Idempotency-Key is still running.")
            .Refuses(StatusCodes.Status503ServiceUnavailable, AdmissionConcurrency.QueueFull);

        routes.MapGet("/v1/workers", ListWorkersAsync).WithTags("Runs")
            .WithName("listWorkers")
            .WithSummary("List the public workers of the catalogue with prices in cents")
            .WithDescription("Public: no token needed. Retired and private workers are not listed (a tenant's own list has the private ones it was given).")
            .RefusesMalformed();
        routes.MapTenantGroup("/workers").WithTags("Runs").MapGet("/", ListTenantWorkersAsync)
            .WithName("listTenantWorkers")
            .WithSummary("List the workers this tenant may run: the public ones and the private ones it was given")
            .WithDescription("Any member (viewer or higher), or an API key with runs:read. Retired workers are not listed; deprecated ones say so in status.");
        var config = routes.MapTenantGroup("/workers/{worker_id}/config").WithTags("Runs");
        config.MapGet("/", GetWorkerConfigAsync)
            .WithName("getWorkerConfig")
            .WithSummary("Get the tenant's config of a worker, with today's run count")
            .WithDescription("Any member (viewer or higher), or an API key with runs:read.")
            .Refuses(StatusCodes.Status404NotFound, WorkerNotFound);
        config.MapPut("/", SetWorkerConfigAsync)
            .WithName("setWorkerConfig")
            .WithSummary("Enable or disable a worker for the tenant, with its config and per-worker limits")
            .WithDescription("Needs the admin role or higher; refused while the tenant is suspended. enabled defaults to true and config to {}. "
                + "Enabling a worker counts against the plan's max_workers (the operator's override included).")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, WorkerNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`max_workers_exceeded`: the tenant already has max_workers workers enabled (`quota`, `limit` and `current` say which and how many).");
    }

    private static async Task<Created<RunResponse>> CreateAsync(CreateRunRequest body, [AsParameters] TenantRequest request)
    {
        var run = await request.Send(new CreateRun(
            request.Caller, request.TenantId, body.WorkerId ?? "", body.Task ?? "", RawOrNull(body.Input), body.ParentRunId));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/runs/{run.Id}", RunResponse.From(run));
    }

    private static async Task<Ok<RunResponse>> CompleteAsync(string run_id, CompleteRunRequest body, [AsParameters] TenantRequest request)
    {
        var missing = new Dictionary<string, string[]>();
        if (body.Success is null) { missing["success"] = ["'success' must not be empty."]; }
        if (body.TotalTokens is null) { missing["total_tokens"] = ["'total_tokens' must not be empty."]; }
        if (body.LatencyMs is null) { missing["latency_ms"] = ["'latency_ms' must not be empty."]; }
        if (missing.Count > 0)
        {
            throw new ValidationFailedException(missing);
        }
        var run = await request.Send(new CompleteRun(
            request.Caller, request.TenantId, ParseRunId(run_id), body.Success!.Value, RawOrNull(body.Output), body.Error,
            body.TotalTokens!.Value, body.LatencyMs!.Value, RawOrNull(body.Stages), body.Recoveries, RawOrNull(body.PolicyViolations)));
        return TypedResults.Ok(RunResponse.From(run));
    }

    private static async Task<Ok<RunResponse>> GetAsync(string run_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(RunResponse.From(await request.Send(new GetRun(request.Caller, request.TenantId, ParseRunId(run_id)))));

    private static async Task<Ok<ListResponse<RunResponse>>> ListAsync(
        [AsParameters] TenantRequest request, string? status, string? worker_id, string? cursor, int? limit)
    {
        RunStatus? parsed = null;
        if (status is not null)
        {
            parsed = WireNames.TryParse<RunStatus>(status, out var s)
                ? s
                : throw ValidationFailedException.For("status", "The status must be one of running, succeeded, failed, timed_out.");
        }
        var page = await request.Send(new ListRuns(request.Caller, request.TenantId, new RunFilter(parsed, worker_id), cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<RunResponse>.From(page, RunResponse.From));
    }

    private static async Task<Ok<ListResponse<WorkerResponse>>> ListWorkersAsync(IMediator mediator, CancellationToken ct)
    {
        var workers = await mediator.Send(new ListWorkers(), ct);
        return TypedResults.Ok(new ListResponse<WorkerResponse>(
            workers.Where(w => w.IsPublic && w.Status != WorkerStatus.Retired).Select(WorkerResponse.From).ToList(), null));
    }

    private static async Task<Ok<ListResponse<WorkerResponse>>> ListTenantWorkersAsync([AsParameters] TenantRequest request)
    {
        var workers = await request.Send(new ListTenantWorkers(request.Caller, request.TenantId));
        return TypedResults.Ok(new ListResponse<WorkerResponse>(workers.Select(WorkerResponse.From).ToList(), null));
    }

    private static async Task<Ok<WorkerConfigResponse>> GetWorkerConfigAsync(string worker_id, [AsParameters] TenantRequest request, IClock clock) =>
        TypedResults.Ok(WorkerConfigResponse.From(await request.Send(new GetWorkerConfig(request.Caller, request.TenantId, worker_id)), clock.UtcNow));

    private static async Task<Ok<WorkerConfigResponse>> SetWorkerConfigAsync(string worker_id, WorkerConfigRequest body, [AsParameters] TenantRequest request, IClock clock)
    {
        var config = await request.Send(new SetWorkerConfig(
            request.Caller, request.TenantId, worker_id, body.Enabled ?? true, body.Config?.GetRawText() ?? "{}",
            body.MaxRunsPerDay, body.MaxTokensPerRun));
        return TypedResults.Ok(WorkerConfigResponse.From(config, clock.UtcNow));
    }

    private static Guid ParseRunId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("run");

    private static string? RawOrNull(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.GetRawText() : null;
}
