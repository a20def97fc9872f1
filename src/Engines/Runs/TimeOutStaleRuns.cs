using MediatR;
using Platform.Drivers.Runs;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Runs;
using Platform.Models.Webhooks;

namespace Platform.Engines.Runs;

/// <summary>Fails the runs left running since before a time (default: now minus the configured run timeout) and frees their slots; safe with many copies running (SKIP LOCKED); returns how many it failed.</summary>
public sealed record TimeOutStaleRuns(DateTimeOffset? Before = null, int MaxTenants = 100, int MaxRunsPerTenant = 500) : IRequest<int>;

internal sealed class TimeOutStaleRunsHandler(
    IDbSessionFactory sessions, IRunDriver runs, IRunAdmissionDriver admissions, AuditTrail audit, WebhookEvents events, IClock clock, RunsOptions options)
    : IRequestHandler<TimeOutStaleRuns, int>
{
    public async Task<int> Handle(TimeOutStaleRuns command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var before = command.Before ?? now - options.RunTimeout;
        IReadOnlyList<Guid> tenantIds;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantIds = await runs.ListTenantsWithStaleRunsAsync(lookup, before, command.MaxTenants, cancellationToken);
        }
        var total = 0;
        foreach (var tenantId in tenantIds)
        {
            // System work on the tenant's own rows, in a session scoped to it; suspended tenants' slots are freed too.
            await using var session = await sessions.OpenAsync(tenantId, null, cancellationToken);
            var timedOut = await runs.TimeOutStaleRunsAsync(session, tenantId, before, command.MaxRunsPerTenant,
                "The run did not complete before its timeout.", now, cancellationToken);
            if (timedOut.Count == 0)
            {
                continue;
            }
            // Key stripes before the tenant's, each in a fixed order, as admissions lock (key, then tenant): no deadlock with them or another copy.
            await admissions.ReleaseManyAsync(session, tenantId, timedOut.Select(r => (r.Id, r.ApiKeyId)).ToList(), cancellationToken);
            foreach (var run in timedOut)
            {
                await audit.RecordAsync(session, tenantId, Caller.System, "run.timed_out", "run", run.Id,
                    new { Status = RunStatus.Running.ToWire() }, new { Status = run.Status.ToWire(), run.StartedAt, run.CompletedAt }, cancellationToken);
                await events.EmitAsync(session, tenantId, WebhookEventTypes.RunTimedOut, RunEventData.From(run), cancellationToken);
            }
            await session.CommitAsync(cancellationToken);
            total += timedOut.Count;
        }
        return total;
    }
}
