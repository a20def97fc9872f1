using Scalar.AspNetCore;

namespace Platform.Api.Hosting;

/// <summary>Configures the OpenAPI document as the service's contract and serves it with its reference UI at /docs.</summary>
/// <remarks>
/// The document-wide parts (problem schema, security schemes, shared refusals, wire types) live in transformers here, so that each
/// endpoint declares only what is its own: its name, summary and the refusals of its own use case (ADR 0405).
/// </remarks>
public static class OpenApiDocumentSetup
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string ReferencePath = "/docs";

    public static IServiceCollection AddPlatformOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, o =>
        {
            o.AddDocumentTransformer<ContractDocumentTransformer>();
            o.AddOperationTransformer<ContractOperationTransformer>();
            o.AddSchemaTransformer<WireTypeSchemaTransformer>();
        });

    /// <summary>Maps the document at /openapi/v1.json and the Scalar reference at /docs, both anonymous; the UI's script is served from the package, not a CDN.</summary>
    public static IEndpointRouteBuilder MapPlatformOpenApi(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi().AllowAnonymous().ExcludeFromDescription();
        routes.MapScalarApiReference(ReferencePath, o => o
                .WithTitle("Platform API")
                .WithOpenApiRoutePattern(DocumentPath))
            .AllowAnonymous();
        return routes;
    }
}
