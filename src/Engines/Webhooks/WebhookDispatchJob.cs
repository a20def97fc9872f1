using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;

namespace Platform.Engines.Webhooks;

/// <summary>Delivers due webhooks in <see cref="Lanes"/> independent lanes: each sends DispatchWebhooks rounds back to back while they come back full,
/// then waits Webhooks:PollIntervalMilliseconds. A slow endpoint holds up only the round (lane) it is in, for at most Webhooks:TimeoutSeconds. Any number
/// of copies may run, in the API and in src/Worker: deliveries are leased with FOR UPDATE SKIP LOCKED. The first lane also wakes when events are
/// committed (<see cref="WebhookWakeup"/>, ADR 0700), so a new event is attempted within milliseconds, not at the next poll; the other lanes join
/// while the rounds come back full.</summary>
internal sealed class WebhookDispatchJob(IServiceScopeFactory scopes, WebhooksOptions options, WebhookWakeup wakeup, ILogger<WebhookDispatchJob> logger)
    : PeriodicJob(scopes, logger)
{
    /// <summary>Is how many rounds run at once in one process; each leases up to MaxConcurrency / Lanes (at most BatchSize) deliveries.</summary>
    public const int Lanes = 4;

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(options.PollIntervalMilliseconds);

    protected override string FailureMessage => "Webhook dispatch failed; retrying on the next tick";

    protected override Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(options.MaxConcurrency / Lanes, 1, options.BatchSize);
        return Task.WhenAll(Enumerable.Range(0, Lanes).Select(lane => LaneAsync(mediator, lane, limit, cancellationToken)));
    }

    private async Task LaneAsync(IMediator mediator, int lane, int limit, CancellationToken cancellationToken)
    {
        // Lanes start spread over one poll interval, so that idle polls do not come in bursts.
        await Task.Delay(TimeSpan.FromMilliseconds(options.PollIntervalMilliseconds * lane / (double)Lanes), cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            // Taken before the claim: a notice that arrives during the round ends the wait below at once.
            var woken = lane == 0 ? wakeup.Next : null;
            try
            {
                WebhookDispatchResult result;
                do
                {
                    result = await mediator.Send(new DispatchWebhooks(limit), cancellationToken);
                }
                while (result.Claimed >= limit && !cancellationToken.IsCancellationRequested);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Logger.LogWarning(e, "Webhook dispatch (lane {Lane}) failed; retrying after the poll interval", lane);
            }
            if (woken is null)
            {
                await Task.Delay(Interval, cancellationToken);
            }
            else
            {
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(Task.Delay(Interval, poll.Token), woken);
                await poll.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }
}
