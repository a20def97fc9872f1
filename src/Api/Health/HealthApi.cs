using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Contracts;
using Platform.Api.Errors;
using Platform.Engines.Health;

namespace Platform.Api.Endpoints;

/// <summary>Maps liveness (the process answers) and readiness (the database answers within 2 seconds).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new StatusResponse("ok"))).WithTags("Health");
        routes.MapGet("/readyz", ReadyAsync).WithTags("Health");
        return routes;
    }

    private static async Task<Results<Ok<StatusResponse>, ProblemHttpResult>> ReadyAsync(IMediator mediator, ILogger<StatusResponse> logger, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await mediator.Send(new CheckDatabase(), timeout.Token);
            return TypedResults.Ok(new StatusResponse("ready"));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Readiness check failed");
            var problem = Problems.Create(503, "not_ready", "Not ready", "The database does not answer.");
            return TypedResults.Problem(problem);
        }
    }
}
