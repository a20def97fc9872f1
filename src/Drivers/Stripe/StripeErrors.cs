using System.Net;
using Platform.Models.Errors;
using Stripe;

namespace Platform.Drivers.Stripe;

/// <summary>Translates what Stripe.net throws into problems (ADR 0722), so no Stripe failure reaches a caller as a 500: card errors 402,
/// idempotency errors 409, invalid requests 422, rate limits and an unreachable API 503, Stripe's own failures (5xx, authentication) 502.</summary>
internal static class StripeErrors
{
    /// <summary>Runs a Stripe call and translates its failure.</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (StripeException e)
        {
            throw Translate(e);
        }
        catch (HttpRequestException)
        {
            throw Unreachable();
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient's timeout, not the caller's cancellation.
            throw Unreachable();
        }
    }

    /// <summary>Maps a Stripe error by its type (and HTTP status when Stripe sent no type).</summary>
    public static PaymentProviderException Translate(StripeException e)
    {
        var error = e.StripeError;
        var message = string.IsNullOrWhiteSpace(error?.Message) ? e.Message : error!.Message;
        if (error is null && e.HttpStatusCode == 0 || e.InnerException is HttpRequestException or TaskCanceledException)
        {
            return Unreachable();
        }
        return (error?.Type, e.HttpStatusCode) switch
        {
            // Stripe answers a rate limit with 429 (type invalid_request_error, code rate_limit): a wait, not a bad request.
            ("rate_limit_error", _) or (_, HttpStatusCode.TooManyRequests) => new PaymentProviderException(503, "payment_provider_unavailable",
                "Stripe is limiting requests at the moment; retry after the time in Retry-After.", error?.Code),
            ("card_error", _) or (_, HttpStatusCode.PaymentRequired) => new PaymentProviderException(402, "payment_declined",
                $"The payment was declined: {message}", error?.Code, error?.DeclineCode),
            ("idempotency_error", _) or (_, HttpStatusCode.Conflict) => new PaymentProviderException(409, "payment_provider_conflict",
                $"Stripe refused the request as a conflict with an earlier one: {message}", error?.Code),
            ("invalid_request_error", _) or (_, HttpStatusCode.BadRequest or HttpStatusCode.NotFound) => new PaymentProviderException(422, "payment_request_invalid",
                $"Stripe refused the request: {message}", error?.Code),
            _ => new PaymentProviderException(502, "payment_provider_error",
                "Stripe could not complete the request; nothing was changed here. Retry later, or contact support if it persists.", error?.Code),
        };
    }

    private static PaymentProviderException Unreachable() => new(503, "payment_provider_unavailable",
        "Stripe cannot be reached at the moment; nothing was changed. Retry after the time in Retry-After.");
}
