using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Delivers webhooks as a pipeline in one process (ADR 0540): a claimer leases as many due deliveries as there are free send slots, Webhooks:MaxConcurrency
/// senders attempt them, and a finisher records the outcomes in batches; a NOTIFY on webhook_due wakes the claimer, the poll interval is the fallback.</summary>
/// <remarks>No stage waits for another's whole batch: a slow endpoint holds one send slot for at most Webhooks:TimeoutSeconds, and the claimer leases again
/// as soon as slots are free. Leases, the claim and the finish are those of <see cref="DispatchWebhooks"/> (ADR 0501), so every guarantee holds as before:
/// a delivery is never in flight twice, a lost lease never overwrites, a killed process's deliveries come due again after their lease.</remarks>
internal sealed class WebhookDispatcher(
    IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, IChannelListener listener, WebhookSender sender, WebhooksOptions options, IClock clock,
    ILogger<WebhookDispatcher> logger)
{
    /// <summary>Is the most outcomes one finish statement records.</summary>
    public const int FinishBatch = 500;

    /// <summary>Is how many finish batches one process writes at once.</summary>
    public const int FinishConcurrency = 4;

    /// <summary>Is how long the finisher waits for more outcomes before it writes a batch smaller than <see cref="FinishBatch"/>.</summary>
    /// <remarks>The outcome's time is taken when the attempt starts and the send slot is free before the finish, so waiting here delays only when the log
    /// shows the attempt; 5 ms would make a finish transaction of about two rows per 5 ms and process at 1,000 deliveries/s over 3 processes (ADR 0540).</remarks>
    public static readonly TimeSpan FinishLinger = TimeSpan.FromMilliseconds(50);

    /// <summary>Is how long the claimer, short of free slots under a backlog, waits for more to free up so one claim serves many deliveries.</summary>
    public static readonly TimeSpan GatherWait = TimeSpan.FromMilliseconds(10);

    /// <summary>Is the least time between the starts of two claims when the queue is not backed up: notifications that come faster are served together,
    /// so a trickle of small emissions costs a claim statement per this interval and process, not one per emission (each wakes every process).</summary>
    public static readonly TimeSpan ClaimSpacing = TimeSpan.FromMilliseconds(20);

    /// <summary>Is how long attempts in flight may go on after the host asked to stop; after it they are cancelled and their leases run out.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>Runs the pipeline until cancelled, then lets the attempts in flight end (at most <see cref="StopGrace"/>) and records their outcomes.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var concurrency = options.MaxConcurrency;
        var slots = new SemaphoreSlim(concurrency, concurrency);
        // Both bounded: the claimer never holds more than the free slots, so work never blocks; outcomes wait for the finisher (backpressure on the senders).
        var work = Channel.CreateBounded<LeasedWebhookDelivery>(new BoundedChannelOptions(concurrency) { SingleWriter = true });
        var outcomes = Channel.CreateBounded<WebhookAttemptResult>(new BoundedChannelOptions(FinishBatch * 4) { SingleReader = true });
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void Wake() => wake.Writer.TryWrite(true);

        using var sendStop = new CancellationTokenSource();
        await using var stopping = stoppingToken.Register(() => sendStop.CancelAfter(StopGrace));
        var listening = listener.ListenAsync([IWebhookDeliveryDriver.DueChannel], Wake, (_, _) => Wake(), () => { }, stoppingToken);
        var senders = Enumerable.Range(0, concurrency).Select(_ => SendLoopAsync(work.Reader, outcomes.Writer, slots, sendStop.Token)).ToArray();
        var finisher = FinishLoopAsync(outcomes.Reader);
        try
        {
            await ClaimLoopAsync(work.Writer, slots, wake.Reader, stoppingToken);
        }
        finally
        {
            work.Writer.TryComplete();
            await Task.WhenAll(senders);
            outcomes.Writer.TryComplete();
            await finisher;
            await listening;
        }
    }

    private async Task ClaimLoopAsync(ChannelWriter<LeasedWebhookDelivery> work, SemaphoreSlim slots, ChannelReader<bool> wake, CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.PollIntervalMilliseconds);
        var batch = Math.Min(options.BatchSize, options.MaxConcurrency);
        var leaseSeconds = DispatchWebhooksHandler.LeaseSeconds(options);
        var backlog = true; // look at once when starting
        var sinceClaim = Stopwatch.StartNew();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!backlog)
                {
                    await WaitAsync(wake, poll, stoppingToken);
                    if (ClaimSpacing - sinceClaim.Elapsed is var spacing && spacing > TimeSpan.Zero)
                    {
                        await Task.Delay(spacing, stoppingToken);
                    }
                }
                await slots.WaitAsync(stoppingToken);
                var taken = 1 + Take(slots, batch - 1);
                IReadOnlyList<LeasedWebhookDelivery> leased;
                try
                {
                    if (taken < batch && backlog)
                    {
                        // Short of slots with more due: wait a moment for more to free up rather than claim one or two per statement.
                        var waited = Stopwatch.StartNew();
                        while (taken < batch && GatherWait - waited.Elapsed is var left && left > TimeSpan.Zero && await slots.WaitAsync(left, stoppingToken))
                        {
                            taken += 1 + Take(slots, batch - taken - 1);
                        }
                    }
                    sinceClaim.Restart();
                    await using var session = await sessions.OpenAsync(null, null, stoppingToken);
                    leased = await deliveries.ClaimDueAsync(session, clock.UtcNow, leaseSeconds, taken, stoppingToken);
                    await session.CommitAsync(stoppingToken);
                }
                catch
                {
                    slots.Release(taken);
                    throw;
                }
                if (leased.Count < taken)
                {
                    slots.Release(taken - leased.Count);
                }
                foreach (var delivery in leased)
                {
                    // Never full: it holds at most MaxConcurrency, and every delivery in it holds one of the MaxConcurrency slots.
                    work.TryWrite(delivery);
                }
                backlog = leased.Count == taken;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Claiming webhook deliveries failed; trying again after the poll interval");
                backlog = false;
                await Task.Delay(poll, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private static int Take(SemaphoreSlim slots, int most)
    {
        var taken = 0;
        while (taken < most && slots.Wait(0))
        {
            taken++;
        }
        return taken;
    }

    /// <summary>Waits for a wake-up (a notification, or the listener's (re)connection) or the poll interval, whichever comes first.</summary>
    private static async Task WaitAsync(ChannelReader<bool> wake, TimeSpan poll, CancellationToken stoppingToken)
    {
        if (wake.TryRead(out _))
        {
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(poll);
        try
        {
            await wake.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The poll interval passed: look anyway.
        }
    }

    private async Task SendLoopAsync(
        ChannelReader<LeasedWebhookDelivery> work, ChannelWriter<WebhookAttemptResult> outcomes, SemaphoreSlim slots, CancellationToken sendStop)
    {
        await foreach (var delivery in work.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                if (sendStop.IsCancellationRequested)
                {
                    continue; // stopped: nothing sent, its lease runs out and another dispatcher (or this one, restarted) sends it
                }
                var result = await sender.AttemptAsync(delivery, sendStop);
                await outcomes.WriteAsync(result, CancellationToken.None);
            }
            catch (OperationCanceledException) when (sendStop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook delivery {DeliveryId} could not be attempted; it comes due again when its lease ends", delivery.Id);
            }
            finally
            {
                slots.Release();
            }
        }
    }

    private async Task FinishLoopAsync(ChannelReader<WebhookAttemptResult> outcomes)
    {
        // Up to FinishConcurrency batches are written at once: one writer at a time fell behind the senders on a loaded machine, and outcomes waiting
        // longer than their leases come due again and are sent twice. Concurrent finishes are safe as in ADR 0501 (disjoint deliveries, endpoints locked in
        // one order).
        using var writers = new SemaphoreSlim(FinishConcurrency, FinishConcurrency);
        while (await outcomes.WaitToReadAsync(CancellationToken.None))
        {
            var batch = new List<WebhookAttemptResult>(FinishBatch);
            var lingering = Stopwatch.StartNew();
            while (batch.Count < FinishBatch)
            {
                if (outcomes.TryRead(out var result))
                {
                    batch.Add(result);
                    continue;
                }
                var left = FinishLinger - lingering.Elapsed;
                if (left <= TimeSpan.Zero || !await WaitToReadAsync(outcomes, left))
                {
                    break;
                }
            }
            await writers.WaitAsync(CancellationToken.None);
            _ = Task.Run(async () =>
            {
                try
                {
                    await FlushAsync(batch);
                }
                finally
                {
                    writers.Release();
                }
            });
        }
        for (var i = 0; i < FinishConcurrency; i++)
        {
            await writers.WaitAsync(CancellationToken.None);
        }
    }

    private static async Task<bool> WaitToReadAsync(ChannelReader<WebhookAttemptResult> outcomes, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            return await outcomes.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Records a batch, trying twice more after a failure (a deadlock, a lost connection: the transaction did not commit). If it still fails, the
    /// outcomes are lost from the log and their deliveries come due again when their leases end (at least once holds).</summary>
    private async Task FlushAsync(List<WebhookAttemptResult> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Not cancelled: the attempts happened, and the log should say so even when the host is stopping.
                await sender.FinishAsync(batch, CancellationToken.None);
                return;
            }
            catch (Exception e) when (attempt < 3)
            {
                logger.LogDebug(e, "Recording {Count} webhook attempts failed; trying again", batch.Count);
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt));
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Recording {Count} webhook attempts failed; their deliveries come due again when their leases end", batch.Count);
                return;
            }
        }
    }
}
