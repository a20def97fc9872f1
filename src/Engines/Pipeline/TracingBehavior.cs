using System.Diagnostics;
using MediatR;
using Platform.Engines.Hosting;
using Platform.Models.Errors;

namespace Platform.Engines.Pipeline;

/// <summary>Wraps each command in a span named after it, with its tenant id and outcome (ok, the refusal's code, or error), and counts quota
/// refusals by quota (ADR 0584).</summary>
/// <remarks>When nothing listens to the engines' source (no OTLP exporter, no test listener: ADR 0811) no span is made, and a command that
/// completes at once passes through without a state machine; quota refusals are counted either way.</remarks>
internal sealed class TracingBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (Telemetry.Commands.HasListeners())
        {
            return TraceAsync(request, next);
        }
        Task<TResponse> pending;
        try
        {
            pending = next();
        }
        catch (QuotaExceededException quota)
        {
            CountRefusal(quota);
            throw;
        }
        return pending.IsCompletedSuccessfully ? pending : CountRefusalAsync(pending);
    }

    private static async Task<TResponse> CountRefusalAsync(Task<TResponse> pending)
    {
        try
        {
            return await pending;
        }
        catch (QuotaExceededException quota)
        {
            CountRefusal(quota);
            throw;
        }
    }

    private static void CountRefusal(QuotaExceededException quota) =>
        Telemetry.QuotaExceeded.Add(1, new KeyValuePair<string, object?>("meter", quota.Quota));

    private static async Task<TResponse> TraceAsync(TRequest request, RequestHandlerDelegate<TResponse> next)
    {
        using var activity = Telemetry.Commands.StartActivity(typeof(TRequest).Name);
        if (activity is not null && request is ITenantCommand tenant)
        {
            activity.SetTag("platform.tenant_id", tenant.TenantId.ToString());
        }
        try
        {
            var response = await next();
            activity?.SetTag("platform.outcome", "ok");
            return response;
        }
        catch (PlatformException e)
        {
            if (e is QuotaExceededException quota)
            {
                CountRefusal(quota);
            }
            activity?.SetTag("platform.outcome", e.Code);
            throw;
        }
        catch (Exception e)
        {
            activity?.SetTag("platform.outcome", "error");
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }
    }
}
