using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines.Runs;
using Platform.Models;

namespace Platform.Api.Endpoints;

/// <summary>Maps the worker registry and the tenant's per-worker configs.</summary>
public static class WorkersApi
{
    public static IEndpointRouteBuilder MapWorkersApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/workers", ListAsync).WithTags("Workers");
        var config = routes.MapTenantGroup("/workers/{worker_id}/config").WithTags("Workers");
        config.MapGet("/", GetConfigAsync);
        config.MapPut("/", SetConfigAsync);
        return routes;
    }

    private static async Task<Ok<ListResponse<WorkerResponse>>> ListAsync(IMediator mediator, CancellationToken ct)
    {
        var workers = await mediator.Send(new ListWorkers(), ct);
        return TypedResults.Ok(new ListResponse<WorkerResponse>(workers.Select(WorkerResponse.From).ToList(), null));
    }

    private static async Task<Ok<WorkerConfigResponse>> GetConfigAsync(string worker_id, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct)
    {
        var config = await mediator.Send(new GetWorkerConfig(http.ToCaller(), TenantRouteFilter.TenantId(http), worker_id), ct);
        return TypedResults.Ok(WorkerConfigResponse.From(config, clock.UtcNow));
    }

    private static async Task<Ok<WorkerConfigResponse>> SetConfigAsync(string worker_id, WorkerConfigRequest body, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct)
    {
        var config = await mediator.Send(new SetWorkerConfig(
            http.ToCaller(), TenantRouteFilter.TenantId(http), worker_id, body.Enabled ?? true, body.Config?.GetRawText() ?? "{}",
            body.MaxRunsPerDay, body.MaxTokensPerRun), ct);
        return TypedResults.Ok(WorkerConfigResponse.From(config, clock.UtcNow));
    }
}
