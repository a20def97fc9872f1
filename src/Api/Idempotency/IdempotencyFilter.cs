using System.Globalization;
using MediatR;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Tenancy;
using Platform.Engines.Idempotency;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Idempotency;

namespace Platform.Api.Idempotency;

/// <summary>Is a claim the request holds, which the recorder completes with the response or releases.</summary>
internal sealed record PendingIdempotency(Caller Caller, Guid? TenantId, string Key, Guid ClaimId);

/// <summary>Claims the request's Idempotency-Key before the handler runs, or answers for it: the stored response (replay), 409 while the first request runs, 422 when the key came with another request.</summary>
internal sealed class IdempotencyFilter(IMediator mediator) : IEndpointFilter
{
    public const string PendingItem = "platform.idempotency";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.Headers.TryGetValue(IdempotencyKeys.Header, out var values))
        {
            return await next(context);
        }
        if (values.Count != 1 || !IdempotencyKeys.IsValid(values[0]))
        {
            throw ValidationFailedException.For(IdempotencyKeys.Header, "The Idempotency-Key header must be one value of 1 to 255 printable ASCII characters.");
        }
        var key = values[0]!;
        Guid? tenantId = http.Request.RouteValues.ContainsKey(TenantRouteFilter.RouteKey) ? TenantRouteFilter.TenantId(http) : null;
        var caller = http.ToCaller();
        var fingerprint = await RequestFingerprint.ComputeAsync(http);
        var claim = await mediator.Send(new ClaimIdempotencyKey(caller, tenantId, key, fingerprint), http.RequestAborted);
        switch (claim.Outcome)
        {
            case IdempotencyClaimOutcome.Claimed:
                http.Items[PendingItem] = new PendingIdempotency(caller, tenantId, key, claim.ClaimId);
                using (IdempotentEffects.Hold(caller, tenantId, key, claim.ClaimId))
                {
                    return await next(context);
                }
            case IdempotencyClaimOutcome.Replay:
                return new IdempotentReplay(claim.Response!);
            case IdempotencyClaimOutcome.InFlight:
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(claim.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, "idempotency_key_in_flight", "Conflict",
                    "A request with this Idempotency-Key is still being processed; retry it after the Retry-After seconds."));
            case IdempotencyClaimOutcome.OutcomeLost:
                return TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, "idempotency_key_outcome_unknown", "Conflict",
                    "The first request with this Idempotency-Key took effect but its response was lost; look the result up, or send a new key."));
            default:
                return TypedResults.Problem(Problems.Create(StatusCodes.Status422UnprocessableEntity, "idempotency_key_reused", "Idempotency key reused",
                    "This Idempotency-Key was used with another request (method, route or body); send a new key for a new request."));
        }
    }
}

/// <summary>Writes a stored response again: its status, its Location and Content-Type, its body, and Idempotent-Replayed: true.</summary>
internal sealed class IdempotentReplay(IdempotentResponse response) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var http = httpContext.Response;
        http.StatusCode = response.StatusCode;
        foreach (var (name, value) in response.Headers)
        {
            http.Headers[name] = value;
        }
        http.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        http.ContentLength = response.Body.Length;
        await http.Body.WriteAsync(response.Body, httpContext.RequestAborted);
    }
}
