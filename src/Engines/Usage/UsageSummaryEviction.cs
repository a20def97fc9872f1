using MediatR;
using Platform.Engines.Pipeline;

namespace Platform.Engines.Usage;

/// <summary>Evicts a tenant's cached usage summary and quota figures (ADR 0765) after any of its write commands (ITenantWrite) ran in this process, committed or refused:
/// usage, runs, plan and quota changes, suspension all change what the summary shows (ADR 0164). Reads (ITenantRead) leave it; every tenant
/// command is one or the other (ADR 0412).</summary>
internal sealed class UsageSummaryEviction<TRequest, TResponse>(UsageSummaryCache cache, QuotaFiguresCache figures) : IPipelineBehavior<TRequest, TResponse>
{
    // A command that writes nothing of a tenant's passes straight through, without a state machine (ADR 0812).
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next) =>
        request is ITenantWrite command ? EvictAfterAsync(command, next) : next();

    private async Task<TResponse> EvictAfterAsync(ITenantWrite command, RequestHandlerDelegate<TResponse> next)
    {
        try
        {
            return await next();
        }
        finally
        {
            cache.Evict(command.TenantId);
            // The api_calls flush changes nothing else of the figures and raises their api_calls itself (ADR 0795): evicting them each second for
            // every busy tenant sent its plain checks to the database.
            if (command is not RecordApiCalls)
            {
                figures.Evict(command.TenantId);
            }
        }
    }
}
