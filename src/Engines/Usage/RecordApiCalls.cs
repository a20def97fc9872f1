using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Adds a count of API requests to the tenant's api_calls rollup for the month holding At; sent by the request counter in-process (system work, no caller, no audit row, no raw events).</summary>
public sealed record RecordApiCalls(Guid TenantId, long Count, DateTimeOffset At) : IRequest<long>, ITenantCommand;

internal sealed class RecordApiCallsValidator : AbstractValidator<RecordApiCalls>
{
    public RecordApiCallsValidator() => RuleFor(c => c.Count).GreaterThan(0);
}

internal sealed class RecordApiCallsHandler(IDbSessionFactory sessions, IUsageDriver usage, IClock clock) : IRequestHandler<RecordApiCalls, long>
{
    public async Task<long> Handle(RecordApiCalls command, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(command.TenantId, null, cancellationToken);
        await usage.AddToRollupAsync(session, command.TenantId, Meters.ApiCalls, command.Count, command.At.ToUniversalTime(), clock.UtcNow, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return command.Count;
    }
}
