using Microsoft.OpenApi;
using Platform.Models.Idempotency;

namespace Platform.Api.Idempotency;

/// <summary>Marks an endpoint whose requests honour the Idempotency-Key header (the recorder buffers their bodies and responses).</summary>
public sealed class IdempotentEndpoint
{
    public static IdempotentEndpoint Instance { get; } = new();

    private IdempotentEndpoint()
    {
    }
}

/// <summary>Applies Idempotency-Key to a route: the same key and body replay the first response, another body gets 422, a request in flight 409 (ADR 0190).</summary>
public static class IdempotencyEndpoints
{
    /// <summary>Makes the route honour the optional Idempotency-Key header and declares it, and its two refusals, in the OpenAPI document.</summary>
    /// <remarks>On a tenant route the key belongs to the tenant and the caller (user or API key); elsewhere to the signed-in user.
    /// The route's group filters (the tenant's resolution) run before this one.</remarks>
    public static RouteHandlerBuilder WithIdempotency(this RouteHandlerBuilder builder) => builder
        .WithMetadata(IdempotentEndpoint.Instance)
        .AddEndpointFilter<IdempotencyFilter>()
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyKeys.Header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "Makes a retry safe: the same key and body within 24 hours replay the first response (marked Idempotent-Replayed: true); "
                    + "the key with another body gets 422 idempotency_key_reused, while the first request still runs 409 idempotency_key_in_flight. "
                    + "1 to 255 printable ASCII characters, per tenant and caller.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyKeys.MaxLength },
            });
            foreach (var (_, response) in operation.Responses?.Where(r => r.Key.StartsWith('2')) ?? [])
            {
                if (response is OpenApiResponse concrete)
                {
                    concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    concrete.Headers[IdempotencyKeys.ReplayedHeader] = new OpenApiHeader
                    {
                        Description = "\"true\" when this is the stored response of an earlier request with the same Idempotency-Key.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    };
                }
            }
            return Task.CompletedTask;
        });

    /// <summary>Adds the recorder that buffers the body and the response of idempotent requests and stores their outcome; it goes first, outside the exception handler, so that it sees refusals as the client does.</summary>
    public static IApplicationBuilder UseIdempotencyRecorder(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyRecorder>();
}
