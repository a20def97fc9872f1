using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.Errors;

/// <summary>Turns every exception into problem details in one place: refusals of the engines keep their code, bad requests become 400, the rest 500 without details.</summary>
/// <remarks>Refusals are not logged here (the engines' pipeline logs them without a stack); an unhandled exception is logged once, by
/// <see cref="FailureLog"/>, and ASP.NET Core's exception handler middleware records nothing for the exceptions handled here (ADR 0181).</remarks>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, IClock clock, FailureLog failures) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ValidationFailedException e => Validation(e.Errors, StatusCodes.Status422UnprocessableEntity, e.Message),
            NotFoundException e => Problems.Create(404, e.Code, "Not found", e.Message),
            ConflictException e => Conflict(e),
            GoneException e => Problems.Create(410, e.Code, "Gone", e.Message),
            TenantSuspendedException e => Problems.Create(403, e.Code, "Tenant suspended", e.Message),
            ForbiddenException e => WithExtensions(Problems.Create(403, e.Code, "Forbidden", e.Message), e.Extensions),
            UnauthorizedException e => Problems.Create(401, e.Code, "Unauthorized", e.Message),
            InvalidSignatureException e => Problems.Create(400, e.Code, "Bad request", e.Message),
            QuotaExceededException e => Quota(httpContext, e),
            PaymentProviderException e => PaymentProvider(httpContext, e),
            BadHttpRequestException e => BadRequest(e),
            _ => null,
        };

        if (problem is null && DatabaseUnavailable.Of(exception) is { } unavailable)
        {
            // The database restarts, fails over or refuses connections: the client may retry shortly; no 500 (ADR 0661).
            httpContext.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            problem = Problems.Create(503, "database_unavailable", "Service unavailable",
                "The database is not reachable at the moment; retry after the time in Retry-After.");
            failures.Unhandled(httpContext, unavailable);
        }

        if (problem is null)
        {
            if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
            {
                return true;
            }
            failures.Unhandled(httpContext, exception);
            problem = Problems.Create(500, "internal_error", "Internal error", "The request failed; it has been logged.");
        }

        httpContext.Response.StatusCode = problem.Status ?? 500;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails PaymentProvider(HttpContext httpContext, PaymentProviderException e)
    {
        var title = e.Status switch { 402 => "Payment required", 409 => "Conflict", 422 => "Unprocessable entity", 502 => "Bad gateway", _ => "Service unavailable" };
        var problem = Problems.Create(e.Status, e.Code, title, e.Message);
        if (e.ProviderCode is not null)
        {
            problem.Extensions["provider_code"] = e.ProviderCode;
        }
        if (e.DeclineCode is not null)
        {
            problem.Extensions["decline_code"] = e.DeclineCode;
        }
        if (e.Status == 503)
        {
            httpContext.Response.Headers.RetryAfter = PaymentProviderException.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }
        return problem;
    }

    private static ProblemDetails Validation(IReadOnlyDictionary<string, string[]> errors, int status, string detail)
    {
        var problem = Problems.Create(status, "validation_failed", "Validation failed", detail);
        problem.Extensions["errors"] = errors;
        return problem;
    }

    private static ProblemDetails Conflict(ConflictException e)
    {
        var problem = Problems.Create(409, e.Code, "Conflict", e.Message);
        foreach (var (name, value) in e.Extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[name] = value;
        }
        return problem;
    }

    private static ProblemDetails WithExtensions(ProblemDetails problem, IReadOnlyDictionary<string, object?>? extensions)
    {
        foreach (var (name, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[name] = value;
        }
        return problem;
    }

    private static ProblemDetails BadRequest(BadHttpRequestException e)
    {
        if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.Create(413, "payload_too_large", "Payload too large", "The request body is larger than this API accepts.");
        }
        if (e.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return Problems.Create(415, "unsupported_media_type", "Unsupported media type", "Send the body as application/json.");
        }
        if (e.InnerException is JsonException json && IsConversionFailure(json))
        {
            // Valid JSON with a value of the wrong kind in a field ("abc", true or {} for a number): the field is named, as validation names it.
            var name = JsonPathToField(json.Path!);
            return Validation(new Dictionary<string, string[]> { [name] = [$"The value of '{name}' is not of the expected type."] }, 422,
                $"The value of '{name}' is not of the expected type.");
        }
        var field = e.InnerException is JsonException { Path: { } path } ? JsonPathToField(path) : "body";
        var message = e.InnerException is JsonException ? "The body is not valid JSON for this request." : e.Message;
        return Validation(new Dictionary<string, string[]> { [field] = [message] }, 400, message);
    }

    /// <summary>Tells a value System.Text.Json could not convert to its field's type from a body that is not JSON at all (ADR 0561).</summary>
    /// <remarks>A syntax error carries the reader's exception (System.Text.Json's internal JsonReaderException) as its inner exception, and
    /// bytes that are not UTF-8 a DecoderFallbackException somewhere below; a conversion failure carries neither. A failure at the root
    /// (an array or a number where an object is expected) names no field and stays a 400 about the body.</remarks>
    private static bool IsConversionFailure(JsonException e)
    {
        if (e.Path is null or "$" or "" || e.InnerException?.GetType().Name == "JsonReaderException")
        {
            return false;
        }
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.DecoderFallbackException)
            {
                return false;
            }
        }
        return true;
    }

    private ProblemDetails Quota(HttpContext httpContext, QuotaExceededException e)
    {
        var status = e.Code is "insufficient_credits" or "payment_required" ? 402 : 429;
        var problem = Problems.Create(status, e.Code, status == 402 ? "Payment required" : "Too many requests", e.Message);
        problem.Extensions["quota"] = e.Quota;
        problem.Extensions["limit"] = e.Limit;
        problem.Extensions["current"] = e.Current;
        problem.Extensions["resets_at"] = e.ResetsAt;
        if (e.Remaining is { } remaining)
        {
            // A quota check's refusal (ADR 0710) also names the month's use, the active holds and what remains.
            problem.Extensions["used"] = e.Current;
            problem.Extensions["reserved"] = e.Reserved ?? 0m;
            problem.Extensions["remaining"] = remaining;
        }
        if (e.RefusedEvents is { } refused)
        {
            // A refused usage batch names each of its events and why it was not written (ADR 0710, 0770).
            problem.Extensions["accepted"] = 0;
            problem.Extensions["refused_events"] = refused
                .Select(r => new Dictionary<string, object?>
                {
                    ["index"] = r.Index, ["meter"] = r.Meter, ["reason"] = r.Reason, ["limit"] = r.Limit, ["used"] = r.Used, ["remaining"] = r.Remaining,
                })
                .ToList();
        }
        if (e.ResetsAt is { } resetsAt)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling((resetsAt - clock.UtcNow).TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return problem;
    }

    /// <summary>Turns System.Text.Json's "$.a.b[0]" into "a.b[0]", or "body" for the root.</summary>
    private static string JsonPathToField(string path) =>
        path is "$" or "" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}
