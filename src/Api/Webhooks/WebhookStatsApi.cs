using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Webhooks;
using Platform.Models.Webhooks;

namespace Platform.Api.Webhooks;

/// <summary>Maps the operator's webhook delivery figures, <c>GET /v1/admin/webhooks/stats</c>, until the observability work exports them.</summary>
public sealed class WebhookStatsApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes) =>
        routes.MapOperatorGroup("/v1/admin/webhooks", "Webhooks")
            .MapGet("/stats", GetStatsAsync)
            .WithName("getWebhookStats")
            .WithSummary("Webhook delivery figures across tenants: attempts, outcomes, latency and backlog")
            .WithDescription("Any operator (viewer or higher). Attempts (all, succeeded, failed) and their latency p50/p99 since `since` (default: 24 hours ago), "
                + "the deliveries created since then by status, and the whole pending backlog with the age of its oldest due delivery.")
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: since is in the future or more than ten years ago (a since that is not a date-time is a 400).");

    private static async Task<Ok<WebhookStatsResponse>> GetStatsAsync(HttpContext http, IMediator mediator, DateTimeOffset? since, CancellationToken ct)
    {
        var stats = await mediator.Send(new GetWebhookStats(http.ToOperatorCaller(), since), ct);
        return TypedResults.Ok(WebhookStatsResponse.From(stats));
    }
}

/// <summary>Is the operator's view of webhook delivery over a window.</summary>
public sealed record WebhookStatsResponse(
    DateTimeOffset Since, WebhookAttemptStats Attempts, WebhookDeliveryStatusCounts Deliveries, WebhookBacklog Backlog)
{
    public static WebhookStatsResponse From(WebhookStatsSnapshot s) => new(
        s.Since,
        new WebhookAttemptStats(s.Attempted, s.Succeeded, s.Failed, s.LatencyP50Ms, s.LatencyP99Ms),
        new WebhookDeliveryStatusCounts(s.DeliveriesPending, s.DeliveriesSucceeded, s.DeliveriesFailed),
        new WebhookBacklog(s.Backlog, s.BacklogDue, s.OldestDueSeconds));
}

/// <summary>Counts the attempts made in the window and gives their latency percentiles in milliseconds (null without attempts).</summary>
public sealed record WebhookAttemptStats(long Attempted, long Succeeded, long Failed, double? LatencyP50Ms, double? LatencyP99Ms);

/// <summary>Counts the deliveries created in the window by their wire status.</summary>
public sealed record WebhookDeliveryStatusCounts(long Pending, long Succeeded, long Failed);

/// <summary>Counts every pending delivery, those due now, and the age in seconds of the oldest due one (null when none is due).</summary>
public sealed record WebhookBacklog(long Pending, long Due, double? OldestDueSeconds);
