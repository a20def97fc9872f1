using MediatR;
using Platform.Engines.Idempotency;
using Platform.Models.Idempotency;

namespace Platform.Api.Idempotency;

/// <summary>Buffers the body and the response of a request with an Idempotency-Key to an idempotent route, and after the pipeline ran
/// stores the response of the claim it holds (2xx, 4xx refusals) or releases the claim (400, 422, 429, 5xx) before the client sees a byte.</summary>
/// <remarks>Storing before sending means a client that got the response and retries at once is replayed, never told the key is in flight.</remarks>
internal sealed class IdempotencyRecorder(RequestDelegate next, ILogger<IdempotencyRecorder> logger)
{
    /// <summary>The largest response kept for replay, in bytes; a larger one releases the key (no idempotent route answers that much).</summary>
    private const int MaxStoredBytes = 1_048_576;

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpoint>() is null || !http.Request.Headers.ContainsKey(IdempotencyKeys.Header))
        {
            await next(http);
            return;
        }
        http.Request.EnableBuffering();
        var original = http.Response.Body;
        await using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next(http);
            // Not the request's token: a client that went away must not turn a committed effect into a released key.
            await http.Response.BodyWriter.FlushAsync(CancellationToken.None);
        }
        catch
        {
            http.Response.Body = original;
            await RecordAsync(http, new IdempotentResponse(StatusCodes.Status500InternalServerError, new Dictionary<string, string>(), []), keep: false);
            throw;
        }
        http.Response.Body = original;
        var status = http.Response.StatusCode;
        if (buffer.Length > MaxStoredBytes)
        {
            logger.LogWarning("Idempotency: a {Bytes}-byte response of {Path} is too large to keep; its key is released", buffer.Length, http.Request.Path);
        }
        var fits = buffer.Length <= MaxStoredBytes;
        await RecordAsync(http, new IdempotentResponse(status, ReplayedHeaders(http.Response), fits ? buffer.ToArray() : []),
            keep: fits && IdempotencyKeys.IsStored(status));
        buffer.Position = 0;
        await buffer.CopyToAsync(original, http.RequestAborted);
    }

    private static Dictionary<string, string> ReplayedHeaders(HttpResponse response)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (response.Headers.Location.ToString() is { Length: > 0 } location)
        {
            headers["Location"] = location;
        }
        if (response.ContentType is { Length: > 0 } contentType)
        {
            headers["Content-Type"] = contentType;
        }
        return headers;
    }

    /// <summary>Completes or releases the request's claim, if it holds one (a claim whose effect committed is completed whatever the status); the outcome is recorded even when the client has gone.</summary>
    private async Task RecordAsync(HttpContext http, IdempotentResponse response, bool keep)
    {
        if (http.Items[IdempotencyFilter.PendingItem] is not PendingIdempotency pending)
        {
            return;
        }
        try
        {
            var mediator = http.RequestServices.GetRequiredService<IMediator>();
            var held = await mediator.Send(new CompleteIdempotencyKey(pending.Caller, pending.TenantId, pending.Key, pending.ClaimId, response, keep), CancellationToken.None);
            if (!held)
            {
                logger.LogWarning("Idempotency: the claim on a key of tenant {TenantId} was taken over before its request ended (lease too short?)", pending.TenantId);
            }
        }
        catch (Exception e)
        {
            // The response still goes out; the key stays in flight until its lease ends (ADR 0190).
            logger.LogError(e, "Idempotency: the outcome of a request on tenant {TenantId} could not be recorded", pending.TenantId);
        }
    }
}
