using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Platform.Api.Auth;
using Platform.Models.ApiKeys;
using Platform.Models.Operators;
using Platform.Models.Tenants;

namespace Platform.Api.Hosting;

/// <summary>Names the document's shared parts: the problem schema, the security schemes and the wire values of roles and scopes.</summary>
public static class OpenApiContract
{
    /// <summary>Is the component every problem response refers to; it keeps ASP.NET Core's name, so `ProducesProblem` lands on it.</summary>
    public const string ProblemSchemaId = "ProblemDetails";
    public const string ProblemContentType = "application/problem+json";

    public const string UserTokenScheme = "UserToken";
    public const string ApiKeyScheme = "ApiKey";
    public const string OperatorTokenScheme = "OperatorToken";

    /// <summary>Describes the 401 that the document adds to every operation of its kind.</summary>
    public const string Unauthorized = "unauthorized: no valid credential for this route.";

    /// <summary>Describes the 400 that the document adds to every operation of its kind.</summary>
    public const string MalformedBody = "bad_request: the body is not JSON of the documented shape.";

    /// <summary>Describes the 422 that the document adds to every operation of its kind.</summary>
    public const string InvalidBody = "validation_failed: a field is missing or invalid; `errors` names each field.";

    /// <summary>Describes the 404 that the document adds to every operation of its kind.</summary>
    public const string UnknownTenant = "not_found: the tenant, or what the route names in it, does not exist or is not visible to the caller.";

    /// <summary>Describes the 429 that the document adds to every operation of its kind.</summary>
    public const string KeyRateLimited = "rate_limited: the API key's requests per minute are spent; Retry-After says when to retry.";

    /// <summary>Lists the descriptions of the shared refusals, which tell them from the ones an endpoint declares itself.</summary>
    public static IReadOnlyList<string> SharedRefusalDescriptions { get; } = [Unauthorized, MalformedBody, InvalidBody, UnknownTenant, KeyRateLimited];

    /// <summary>Lists the tenant roles as they are written on the wire, lowest first.</summary>
    public static IReadOnlyList<string> TenantRoleNames { get; } = WireNames<TenantRole>();

    /// <summary>Lists the operator roles as they are written on the wire, lowest first.</summary>
    public static IReadOnlyList<string> OperatorRoleNames { get; } = WireNames<OperatorRole>();

    /// <summary>Lists the API key permissions (scopes), in order.</summary>
    public static IReadOnlyList<string> ApiKeyPermissionNames { get; } = [.. ApiKeyPermissions.All.Order(StringComparer.Ordinal)];

    /// <summary>Gives an enum's wire names, as the service's JsonStringEnumConverter(SnakeCaseLower) writes them (the rule of <see cref="Models.WireNames"/>).</summary>
    public static IReadOnlyList<string> WireNames<TEnum>() where TEnum : struct, Enum => Models.WireNames.Names<TEnum>();

    public static IReadOnlyList<string> WireNames(Type enumType) =>
        [.. enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(Models.WireNames.NameOf)];

    internal static OpenApiSchema ProblemSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem: every refusal and failure of the service has this shape; `code` is stable and names the refusal.",
        Required = new HashSet<string> { "type", "title", "status", "code", "request_id" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI naming the problem type; it ends with the code in kebab case." },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short, human-readable summary of the problem type." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code." },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = "What went wrong in this occurrence." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = "The request path of this occurrence." },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The stable machine-readable code (not_found, validation_failed, rate_limited, ...)." },
            ["request_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The id of the request in the service's logs." },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Validation failures: each field (snake_case) with its messages.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["quota"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The quota or limit that refused the request (quota and rate-limit refusals)." },
            ["limit"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "The limit in the quota's unit." },
            ["current"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "The use counted against the limit." },
            ["resets_at"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "date-time", Description = "When the quota resets, if it does." },
        },
        AdditionalProperties = new OpenApiSchema(),
    };

    internal static Dictionary<string, IOpenApiSecurityScheme> SecuritySchemes() => new()
    {
        [UserTokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
            Description = "A user's access token from POST /v1/auth/signup or /v1/auth/login, sent as `Authorization: Bearer <token>`.",
        },
        [ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = ApiKeyPermissions.SecretPrefix + "…",
            Description = $"A tenant's API key, sent as `Authorization: Bearer {ApiKeyPermissions.SecretPrefix}…`; the prefix tells it from a user token. Keys act within their tenant and permissions ({string.Join(", ", ApiKeyPermissionNames)}), each with its own rate limit.",
        },
        [OperatorTokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
            Description = "An operator's token from POST /v1/admin/auth/login (its own audience), sent as `Authorization: Bearer <token>`; only /v1/admin accepts it.",
        },
    };

    /// <summary>Adds the problem schema and the security schemes to the document, once; transformers of any kind may call it.</summary>
    internal static void EnsureComponents(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchemaId] = ProblemSchema();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        foreach (var (name, scheme) in SecuritySchemes())
        {
            document.Components.SecuritySchemes.TryAdd(name, scheme);
        }
    }

    internal static OpenApiResponse ProblemResponse(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [ProblemContentType] = new() { Schema = new OpenApiSchemaReference(ProblemSchemaId, document) } },
    };
}

/// <summary>Sets the document's info, shared components and feature tags, and gives every problem response the shared problem schema.</summary>
internal sealed class ContractDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Platform API",
            Version = "v1",
            Description = "The control plane of Platform: sign-up and login, tenants and members, API keys, runs and usage metering, plans and quotas, credits, billing and invoices, and the operators' admin surface. Every refusal is an RFC 9457 problem (`application/problem+json`) with a stable `code`.",
        };
        document.Info.Contact = new OpenApiContact { Name = "Platform", Url = new Uri("https://platform.dev/") };
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        OpenApiContract.EnsureComponents(document);
        var tags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var operation in (document.Paths ?? []).Values.SelectMany(p => (IEnumerable<OpenApiOperation>?)p.Operations?.Values ?? []))
        {
            foreach (var tag in (IEnumerable<OpenApiTagReference>?)operation.Tags ?? [])
            {
                if (tag.Name is { } name)
                {
                    tags.Add(name);
                }
            }
            foreach (var (status, response) in operation.Responses ?? new OpenApiResponses())
            {
                // A problem response declared by the endpoint (ProducesProblem) gets the one shared schema and content type.
                if (int.TryParse(status, out var code) && code >= 400 && response is OpenApiResponse concrete)
                {
                    concrete.Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [OpenApiContract.ProblemContentType] = new() { Schema = new OpenApiSchemaReference(OpenApiContract.ProblemSchemaId, document) },
                    };
                }
            }
        }
        document.Tags = new HashSet<OpenApiTag>(tags.Select(t => new OpenApiTag { Name = t, Description = $"The {t} feature's routes." }));
        foreach (var schema in document.Components!.Schemas!.Values)
        {
            AdmitNullOnce(schema);
        }
        return Task.CompletedTask;
    }

    /// <summary>Turns the generated oneOf [null, $ref] of a nullable reference into anyOf, recursively.</summary>
    /// <remarks>When the referenced schema admits null too (JsonElement: any JSON), oneOf refuses null, which the service does return;
    /// anyOf means the same for every other schema, and generated clients read both as a union.</remarks>
    private static void AdmitNullOnce(IOpenApiSchema candidate)
    {
        if (candidate is not OpenApiSchema schema)
        {
            return;
        }
        if (schema.OneOf is { Count: 2 } alternatives && alternatives.Any(a => a is OpenApiSchema { Type: JsonSchemaType.Null }))
        {
            schema.AnyOf = alternatives;
            schema.OneOf = null;
        }
        foreach (var property in schema.Properties?.Values ?? [])
        {
            AdmitNullOnce(property);
        }
        if (schema.Items is { } items)
        {
            AdmitNullOnce(items);
        }
    }
}

/// <summary>Gives every operation its security requirement, its undeclared route parameters and the refusals shared by its kind of route.</summary>
/// <remarks>
/// Shared refusals are read from metadata: 401 for authenticated routes, 400 and 422 for routes with a body, 404 for tenant routes (an unknown
/// tenant or one the caller is not a member of), 429 where an API key's rate limit applies
/// (Idempotency-Key routes declare their 409 and 422 themselves, see <see cref="Idempotency.IdempotencyEndpoints"/>). A route's
/// own refusals are declared on the endpoint with ProducesProblem (ADR 0405).
/// </remarks>
internal sealed partial class ContractOperationTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation transformer runs without a document.");
        OpenApiContract.EnsureComponents(document);
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var route = "/" + (description.RelativePath ?? "");
        var tenantRoute = route.Contains("{tenant_id}", StringComparison.Ordinal);

        DeclareRouteParameters(operation, route);

        var access = AccessOf(metadata);
        var requirements = access switch
        {
            Access.Operator => [Requirement(document, OpenApiContract.OperatorTokenScheme)],
            Access.User when tenantRoute => [Requirement(document, OpenApiContract.UserTokenScheme), Requirement(document, OpenApiContract.ApiKeyScheme)],
            Access.User => new List<OpenApiSecurityRequirement> { Requirement(document, OpenApiContract.UserTokenScheme) },
            _ => null,
        };
        operation.Security = requirements;

        operation.Responses ??= new OpenApiResponses();
        if (access != Access.Anonymous)
        {
            Add(operation, document, 401, OpenApiContract.Unauthorized);
        }
        if (operation.RequestBody is not null)
        {
            Add(operation, document, 400, OpenApiContract.MalformedBody);
            Add(operation, document, 422, OpenApiContract.InvalidBody);
        }
        if (tenantRoute)
        {
            Add(operation, document, 404, OpenApiContract.UnknownTenant);
        }
        if (access == Access.User && tenantRoute)
        {
            Add(operation, document, 429, OpenApiContract.KeyRateLimited);
        }
        return Task.CompletedTask;
    }

    private enum Access { Anonymous, User, Operator }

    private static Access AccessOf(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return Access.Anonymous;
        }
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0)
        {
            return Access.Anonymous;
        }
        return authorize.Any(a => a.Policy == OperatorAuth.Policy) ? Access.Operator : Access.User;
    }

    private static OpenApiSecurityRequirement Requirement(OpenApiDocument document, string scheme) =>
        new() { [new OpenApiSecuritySchemeReference(scheme, document)] = [] };

    private static void Add(OpenApiOperation operation, OpenApiDocument document, int status, string description) =>
        operation.Responses!.TryAdd(status.ToString(System.Globalization.CultureInfo.InvariantCulture), OpenApiContract.ProblemResponse(document, description));

    /// <summary>Declares route parameters that no handler argument binds (a group's {tenant_id}), so that a generated client fills them in.</summary>
    private static void DeclareRouteParameters(OpenApiOperation operation, string route)
    {
        operation.Parameters ??= [];
        foreach (Match match in RouteParameter().Matches(route))
        {
            var name = match.Groups[1].Value;
            if (operation.Parameters.Any(p => p.In == ParameterLocation.Path && p.Name == name))
            {
                continue;
            }
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Path,
                Required = true,
                Description = name == "tenant_id"
                    ? "The tenant's id (a UUID), or `current`: the tenant of the API key, of the X-Tenant-ID header or of the host name."
                    : null,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")]
    private static partial Regex RouteParameter();
}

/// <summary>Makes each schema say what the wire holds: integers as integers, times as date-time strings, enums and roles/scopes as string enums, optional request fields optional.</summary>
/// <remarks>
/// The web JSON defaults also read numbers written as strings, and the generated schema says ["integer","string"]; the service keeps
/// accepting both, but the contract states what it writes and what clients should send.
/// </remarks>
internal sealed class WireTypeSchemaTransformer : IOpenApiSchemaTransformer
{
    private const JsonSchemaType Numeric = JsonSchemaType.Integer | JsonSchemaType.Number;

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        var underlying = Nullable.GetUnderlyingType(type);
        var valueType = underlying ?? type;
        var nullable = underlying is not null ? JsonSchemaType.Null : 0;

        if (schema.Type is { } declared && (declared & Numeric) != 0 && (declared & JsonSchemaType.String) != 0)
        {
            schema.Type = declared & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
        if (valueType == typeof(DateTimeOffset) || valueType == typeof(DateTime))
        {
            schema.Type = JsonSchemaType.String | nullable;
            schema.Format = "date-time";
        }
        else if (valueType == typeof(JsonArray))
        {
            // An export's free-form rows: an array of anything.
            schema.Items ??= new OpenApiSchema();
        }
        else if (valueType.IsEnum)
        {
            SetEnum(schema, OpenApiContract.WireNames(valueType), nullable != 0 || (schema.Type & JsonSchemaType.Null) != 0);
        }

        if (context.JsonPropertyInfo is { } property)
        {
            var owner = property.DeclaringType.Name;
            if (property.Name == "role" && property.PropertyType == typeof(string))
            {
                var roles = owner.Contains("Operator", StringComparison.Ordinal) ? OpenApiContract.OperatorRoleNames : OpenApiContract.TenantRoleNames;
                SetEnum(schema, roles, (schema.Type & JsonSchemaType.Null) != 0);
            }
            else if (property.Name == "permissions" && typeof(IEnumerable<string>).IsAssignableFrom(property.PropertyType))
            {
                var items = new OpenApiSchema();
                SetEnum(items, OpenApiContract.ApiKeyPermissionNames, false);
                schema.Items = items;
            }
        }

        // A request record's nullable fields may be left out: the service reads a missing field as null.
        if (context.JsonPropertyInfo is null && type.Name.EndsWith("Request", StringComparison.Ordinal) && schema.Required is { Count: > 0 } required)
        {
            foreach (var field in context.JsonTypeInfo.Properties.Where(p => p.IsSetNullable || Nullable.GetUnderlyingType(p.PropertyType) is not null))
            {
                required.Remove(field.Name);
            }
        }
        return Task.CompletedTask;
    }

    private static void SetEnum(OpenApiSchema schema, IReadOnlyList<string> values, bool nullable)
    {
        schema.Type = JsonSchemaType.String | (nullable ? JsonSchemaType.Null : 0);
        schema.Pattern = null;
        schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!)];
        if (nullable)
        {
            schema.Enum.Add(null!);
        }
    }
}
