using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.ApiKeys;

namespace Platform.Engines.Usage;

/// <summary>Counts the API key requests of each usage flush as the tenant's api_calls meter, by sending RecordApiCalls per tenant.</summary>
internal sealed class ApiCallsMeter(IServiceScopeFactory scopes, ILogger<ApiCallsMeter> logger) : IApiCallsSink
{
    public async Task RecordApiCallsAsync(IReadOnlyList<TenantApiCalls> calls, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        foreach (var call in calls)
        {
            try
            {
                await mediator.Send(new RecordApiCalls(call.TenantId, call.Requests, call.LastAt), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One tenant's failure (e.g. purged since the requests) must not cost the other tenants their counts.
                logger.LogWarning(e, "Recording {Requests} API calls of tenant {TenantId} failed", call.Requests, call.TenantId);
            }
        }
    }
}
