using System.Threading.Channels;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Delivers due webhooks as a pipeline, not in rounds (ADR 0760): each process keeps up to Webhooks:MaxConcurrency deliveries leased and in
/// flight, claims more (ClaimWebhookDeliveries, at most Webhooks:BatchSize at a time, never more than its free slots) as soon as slots free up, sends each
/// delivery on its own (AttemptWebhookDelivery), and records the finished ones in batches (FinishWebhookAttempts, one statement per flush, every
/// Webhooks:LingerMilliseconds or BatchSize attempts). A slot is free again only once its attempt is recorded, so a process never holds more than
/// MaxConcurrency leases and a slow database slows the claims down. When a claim comes back short (nothing more is due) the claimer waits for a committed
/// event (<see cref="WebhookWakeup"/>, ADR 0700) or Webhooks:PollIntervalMilliseconds, and claims at most once per LingerMilliseconds, so a burst of
/// commits is one claim. On stop it claims nothing more, lets the requests in flight finish (within their timeout) and records them. Any number of copies
/// may run, in the API and in src/Worker: deliveries are leased with FOR UPDATE SKIP LOCKED.</summary>
internal sealed class WebhookDispatchJob(IServiceScopeFactory scopes, WebhooksOptions options, WebhookWakeup wakeup, ILogger<WebhookDispatchJob> logger)
    : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(options.PollIntervalMilliseconds);

    protected override string FailureMessage => "Webhook dispatch failed; retrying on the next tick";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        var pipeline = new Pipeline(mediator, options, Logger);
        var finisher = pipeline.FinishLoopAsync();
        try
        {
            await ClaimLoopAsync(mediator, pipeline, cancellationToken);
        }
        finally
        {
            // Stopping (or a failed claim): no more claims; the requests in flight finish within their timeout and are recorded.
            await pipeline.DrainAsync();
            await finisher;
        }
    }

    private async Task ClaimLoopAsync(IMediator mediator, Pipeline pipeline, CancellationToken cancellationToken)
    {
        var lastClaim = DateTime.MinValue;
        var linger = TimeSpan.FromMilliseconds(options.LingerMilliseconds);
        while (!cancellationToken.IsCancellationRequested)
        {
            // Taken before the claim: a notice that arrives during the claim ends the idle wait below at once.
            var woken = wakeup.Next;
            var free = await pipeline.TakeSlotsAsync(options.BatchSize, cancellationToken);
            var sinceLast = DateTime.UtcNow - lastClaim;
            if (sinceLast < linger)
            {
                await Task.Delay(linger - sinceLast, cancellationToken);
            }
            lastClaim = DateTime.UtcNow;
            IReadOnlyList<LeasedWebhookDelivery> leased;
            try
            {
                leased = await mediator.Send(new ClaimWebhookDeliveries(free), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                pipeline.ReturnSlots(free);
                if (cancellationToken.IsCancellationRequested)
                {
                    // The host is stopping: the claim failed because it was cancelled (whatever the driver made of that).
                    return;
                }
                Logger.LogWarning(e, "Webhook claim failed; retrying after the poll interval");
                await Task.Delay(Interval, cancellationToken);
                continue;
            }
            pipeline.ReturnSlots(free - leased.Count);
            foreach (var delivery in leased)
            {
                pipeline.Start(delivery);
            }
            if (leased.Count < free)
            {
                // Nothing more is due now: wait for a commit's notice or the poll (retries and rate-limit windows come due by time).
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(Task.Delay(Interval, poll.Token), woken);
                await poll.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Holds one process's deliveries between claim and record: the slots, the requests in flight and the queue of finished attempts.</summary>
    private sealed class Pipeline(IMediator mediator, WebhooksOptions options, ILogger logger)
    {
        private readonly SemaphoreSlim slots = new(options.MaxConcurrency, options.MaxConcurrency);
        private readonly Channel<FinishedWebhookAttempt> finished = Channel.CreateUnbounded<FinishedWebhookAttempt>(new UnboundedChannelOptions { SingleReader = true });
        // Cancelled only when a drain outlasts the attempts' timeout: a request is not cut short because the host is stopping.
        private readonly CancellationTokenSource abandon = new();
        private int inFlight;

        /// <summary>Waits for at least one free slot and takes up to max of them.</summary>
        public async Task<int> TakeSlotsAsync(int max, CancellationToken cancellationToken)
        {
            await slots.WaitAsync(cancellationToken);
            var taken = 1;
            while (taken < max && slots.Wait(0))
            {
                taken++;
            }
            return taken;
        }

        public void ReturnSlots(int count)
        {
            if (count > 0)
            {
                slots.Release(count);
            }
        }

        /// <summary>Sends the delivery in the background; its finished attempt goes to the flush queue (its slot is freed when it is recorded).</summary>
        public void Start(LeasedWebhookDelivery delivery)
        {
            Interlocked.Increment(ref inFlight);
            _ = AttemptAsync(delivery);
        }

        private async Task AttemptAsync(LeasedWebhookDelivery delivery)
        {
            try
            {
                var result = await mediator.Send(new AttemptWebhookDelivery(delivery), abandon.Token);
                finished.Writer.TryWrite(new FinishedWebhookAttempt(result, delivery.Requeued));
            }
            catch (Exception e)
            {
                // Not recorded: its lease ends and it comes due again (at least once).
                if (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Webhook delivery {DeliveryId} could not be attempted; it comes due again when its lease ends", delivery.Id);
                }
                slots.Release();
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        /// <summary>Waits for the requests in flight (at most their timeout and a margin), then closes the flush queue.</summary>
        public async Task DrainAsync()
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref inFlight) > 0 && clock.Elapsed < TimeSpan.FromSeconds(options.TimeoutSeconds + 5))
            {
                await Task.Delay(10, CancellationToken.None);
            }
            await abandon.CancelAsync();
            while (Volatile.Read(ref inFlight) > 0 && clock.Elapsed < TimeSpan.FromSeconds(options.TimeoutSeconds + 10))
            {
                await Task.Delay(10, CancellationToken.None);
            }
            finished.Writer.TryComplete();
        }

        /// <summary>Records finished attempts in batches: whatever is queued, up to BatchSize, after lingering LingerMilliseconds for more.</summary>
        public async Task FinishLoopAsync()
        {
            var reader = finished.Reader;
            var batch = new List<FinishedWebhookAttempt>(options.BatchSize);
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                await Task.Delay(options.LingerMilliseconds, CancellationToken.None);
                while (reader.TryRead(out var attempt))
                {
                    batch.Add(attempt);
                    if (batch.Count >= options.BatchSize)
                    {
                        await FlushAsync(batch);
                    }
                }
                await FlushAsync(batch);
            }
        }

        private async Task FlushAsync(List<FinishedWebhookAttempt> batch)
        {
            if (batch.Count == 0)
            {
                return;
            }
            try
            {
                // Not cancelled: the attempts happened, and the log should say so even when the host is stopping.
                await mediator.Send(new FinishWebhookAttempts(batch.ToArray()), CancellationToken.None);
            }
            catch (Exception e)
            {
                // Their leases end and they come due again: delivered at least once, never lost.
                logger.LogWarning(e, "Recording {Count} webhook attempts failed; those deliveries come due again when their leases end", batch.Count);
            }
            slots.Release(batch.Count);
            batch.Clear();
        }
    }
}
