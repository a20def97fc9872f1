using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Health;

namespace Platform.Api.Health;

/// <summary>Maps liveness (the process answers) and readiness (the database answers within 2 seconds).</summary>
public sealed class HealthApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new StatusResponse("ok"))).WithTags("Health")
            .WithName("getLiveness")
            .WithSummary("Tell whether the process answers")
            .WithDescription("Public: no token needed.")
            .RefusesMalformed();
        routes.MapGet("/readyz", ReadyAsync).WithTags("Health")
            .WithName("getReadiness")
            .WithSummary("Tell whether the database answers within 2 seconds")
            .WithDescription("Public: no token needed.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status503ServiceUnavailable, "`not_ready`: the database does not answer.");
    }

    private static async Task<Results<Ok<StatusResponse>, ProblemHttpResult>> ReadyAsync(IMediator mediator, WarmUpState warmUp, ILogger<StatusResponse> logger, CancellationToken ct)
    {
        if (!warmUp.Ready)
        {
            // Load balancers send traffic once this answers 200: not before the hot paths are warm (ADR 0751).
            return TypedResults.Problem(Problems.Create(503, "not_ready", "Not ready", "The service is warming up."));
        }
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

/// <summary>Is the answer of a health check.</summary>
public sealed record StatusResponse(string Status);
