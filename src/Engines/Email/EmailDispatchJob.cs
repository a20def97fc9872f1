using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Email;
using Platform.Engines.Hosting;

namespace Platform.Engines.Email;

/// <summary>Sends due emails from the outbox every Email:PollIntervalMilliseconds, draining full batches at once; any number of copies may run (messages are leased with FOR UPDATE SKIP LOCKED).</summary>
internal sealed class EmailDispatchJob(IServiceScopeFactory scopes, EmailOptions options, ILogger<EmailDispatchJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Max(50, options.PollIntervalMilliseconds));

    protected override string FailureMessage => "Email dispatch failed; retrying on the next tick";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        DispatchResult result;
        do
        {
            result = await mediator.Send(new DispatchEmails(), cancellationToken);
        }
        while (result.Claimed >= options.BatchSize && !cancellationToken.IsCancellationRequested);
    }
}
