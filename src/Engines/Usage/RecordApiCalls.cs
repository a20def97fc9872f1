using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Adds a count of API requests to the tenant's api_calls rollup for the month holding At; sent by the request counter in-process (system work, no caller, no raw events); crossing 80, 90 or 100 percent of the api_calls quota queues the usage alert in the same transaction.</summary>
public sealed record RecordApiCalls(Guid TenantId, long Count, DateTimeOffset At) : IRequest<long>, ITenantWrite;

internal sealed class RecordApiCallsValidator : AbstractValidator<RecordApiCalls>
{
    public RecordApiCallsValidator() => RuleFor(c => c.Count).GreaterThan(0);
}

internal sealed class RecordApiCallsHandler(TenantGate gate, IUsageDriver usage, UsageAlerts alerts, QuotaFiguresCache figures, IClock clock) : IRequestHandler<RecordApiCalls, long>
{
    public async Task<long> Handle(RecordApiCalls command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // The gate reads the tenant (plan, quotas) in the round trip that sets the scope, so the alert check costs no extra one.
        await using var scope = await gate.EnterAsync(command.TenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
        var change = await usage.AddToRollupAsync(scope.Session, command.TenantId, Meters.ApiCalls, command.Count, command.At.ToUniversalTime(), now, cancellationToken);
        await alerts.QueueCrossedAsync(scope, [change], now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        // Plain quota checks of this instance count the flushed calls at once; their figures of other meters stay held (ADR 0795).
        figures.RaiseApiCalls(command.TenantId, change.PeriodStart, change.After);
        return command.Count;
    }
}
