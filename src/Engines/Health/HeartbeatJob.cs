using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;

namespace Platform.Engines.Health;

/// <summary>Checks the database every 30 seconds and logs the result; proves a job host is alive and connected.</summary>
internal sealed class HeartbeatJob(IServiceScopeFactory scopes, ILogger<HeartbeatJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(30);

    protected override string FailureMessage => "Heartbeat: the database did not answer";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        var databaseTime = await mediator.Send(new CheckDatabase(), cancellationToken);
        Logger.LogInformation("Heartbeat: database time {DatabaseTime:O}", databaseTime);
    }
}
