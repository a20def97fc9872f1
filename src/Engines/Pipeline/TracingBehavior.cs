using System.Diagnostics;
using MediatR;
using Platform.Engines.Hosting;
using Platform.Models.Errors;

namespace Platform.Engines.Pipeline;

/// <summary>Wraps each command in a span named after it, with its tenant id and outcome (ok, the refusal's code, or error), and counts quota
/// refusals by quota (ADR 0584).</summary>
internal sealed class TracingBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
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
                Telemetry.QuotaExceeded.Add(1, new KeyValuePair<string, object?>("meter", quota.Quota));
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
