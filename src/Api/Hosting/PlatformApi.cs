using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Input;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;

namespace Platform.Api.Hosting;

/// <summary>Composes the HTTP service: configuration, engines, authentication, problem details, OpenAPI and the routes.</summary>
public static class PlatformApi
{
    public static WebApplicationBuilder AddPlatformApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var connectionString = configuration.GetConnectionString("Platform")
            ?? throw new InvalidOperationException("ConnectionStrings:Platform is not set; ./platform run sets it for the embedded database.");

        services.Configure<PlatformOptions>(configuration.GetSection("Platform"));
        services.Configure<AuthOptions>(configuration.GetSection("Auth"));
        services.AddSingleton(TimeProvider.System);
        services.AddEngines(connectionString, o =>
        {
            o.ReadFrom(configuration);
            o.RequireKeyEncryptionKey = !builder.Environment.IsDevelopment();
        });
        if (configuration.GetValue("Platform:RunJobs", true))
        {
            services.AddPlatformJobs();
        }

        services.AddSingleton<TokenIssuer>();
        services.AddPlatformAuthentication()
            .AddJwtBearer(OperatorAuth.Scheme, o => o.MapInboundClaims = false);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenIssuer>((o, tokens) => o.TokenValidationParameters = tokens.UserValidation());
        services.AddOptions<JwtBearerOptions>(OperatorAuth.Scheme)
            .Configure<TokenIssuer>((o, tokens) => o.TokenValidationParameters = tokens.OperatorValidation());
        services.AddAuthorization(OperatorAuth.AddPolicy);

        services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", Problems.CodeForStatus(status));
            context.ProblemDetails.Type = Problems.TypeFor((string)context.ProblemDetails.Extensions["code"]!);
            context.ProblemDetails.Extensions["request_id"] = context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Extensions.Remove("traceId");
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddSingleton<FailureLog>();
        // ProblemExceptionHandler handles every exception and FailureLog logs it; the middleware's own entry would be a second one
        // (.NET 10 already leaves it out for exceptions an IExceptionHandler handled: this says so where it matters).
        services.Configure<ExceptionHandlerOptions>(o => o.SuppressDiagnosticsCallback = c => c.ExceptionHandledBy == ExceptionHandledType.ExceptionHandlerService);
        services.AddScoped<TenantRouteFilter>();
        services.AddPlatformOpenApi();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = configuration.GetValue("Platform:MaxRequestBodyBytes", 1_048_576L);
            // Kestrel's own refusals (414, 431, 400, 408, 413 before the app runs) answer problem details too (ADR 0197).
            k.ConfigureEndpointDefaults(l => KestrelRefusals.Use(l));
        });
        return builder;
    }

    public static WebApplication UsePlatformApi(this WebApplication app)
    {
        app.UseIdempotencyRecorder();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(RefuseOversizedBodies);
        // Before authentication: a credential or an id with text PostgreSQL cannot store never reaches an engine (ADR 0180).
        app.UseMiddleware<StorableTextMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapPlatformOpenApi();
        // Every feature's IEndpointGroup, found in this assembly: adding a feature edits no list here (ADR 0400).
        app.MapEndpointGroups();
        return app;
    }

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new UtcTimeConverter());
    }

    /// <summary>Refuses a declared body over the limit before it is read (Kestrel enforces the same limit on chunked bodies).</summary>
    private static Task RefuseOversizedBodies(HttpContext context, Func<Task> next)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<PlatformOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            throw new BadHttpRequestException("The request body is too large.", StatusCodes.Status413PayloadTooLarge);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        return next();
    }
}
