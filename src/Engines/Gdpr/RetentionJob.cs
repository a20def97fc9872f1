using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;

namespace Platform.Engines.Gdpr;

/// <summary>Every RetentionJobIntervalMinutes, purges tenants deleted longer ago than the retention window and trims rows older than each plan's retention_days and expired idempotency keys; safe with many copies (the purge locks the tenant row and re-checks).</summary>
internal sealed class RetentionJob(IServiceScopeFactory scopes, RetentionOptions options, ILogger<RetentionJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(Math.Max(1, options.JobIntervalMinutes));

    protected override string FailureMessage => "Retention: the purge failed; retrying on the next tick";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        await mediator.Send(new PurgeDeletedTenants(), cancellationToken);
        await mediator.Send(new PurgeExpiredRows(), cancellationToken);
        await mediator.Send(new Throttles.PurgeThrottleWindows(), cancellationToken);
        await mediator.Send(new Idempotency.PurgeExpiredIdempotencyKeys(), cancellationToken);
        await mediator.Send(new Webhooks.PurgeWebhookLog(), cancellationToken);
    }
}
