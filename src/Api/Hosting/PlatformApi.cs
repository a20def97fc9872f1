using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Platform.Api.IpAllowlists;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Input;
using Platform.Api.Idempotency;
using Platform.Api.Runs;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Hosting;

namespace Platform.Api.Hosting;

/// <summary>Composes the HTTP service: configuration, engines, authentication, problem details, OpenAPI and the routes.</summary>
public static class PlatformApi
{
    public static WebApplicationBuilder AddPlatformApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        // Every setting is an options record bound from its section and validated at start, naming the key (ADR 0440). Whether the jobs run
        // here is decided now, at composition, from the same binding.
        services.AddFeatureOptions<PlatformOptions>("Platform");
        services.AddFeatureOptions<AuthOptions>("Auth")
            .Validate(o => string.IsNullOrEmpty(o.SigningKey) || AuthOptions.SigningKeyProblem(o.SigningKey) is null,
                "Auth:SigningKey must be base64 of at least 32 bytes. ./platform run generates one in its data folder.");
        services.AddFeatureOptions<SeedOptions>("Seed");
        // Product front ends on other origins call the API from browsers: the listed origins get CORS answers, none turns it off (ADR 0581).
        services.AddFeatureOptions<CrossOriginOptions>("Cors");
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<CrossOriginOptions>((cors, ours) =>
            {
                if (ours.Origins is { Length: > 0 } origins)
                {
                    cors.AddDefaultPolicy(p => p.WithOrigins(origins).AllowAnyMethod().AllowAnyHeader()
                        .WithExposedHeaders("Retry-After", "Location", "Idempotent-Replayed").SetPreflightMaxAge(TimeSpan.FromHours(1)));
                }
            });
        services.AddSingleton(TimeProvider.System);
        // The hot paths are warmed once the server listens; /readyz answers ready after (ADR 0751).
        services.AddSingleton<WarmUpState>();
        services.AddSingleton<IWarmUpStep, DatabasePoolWarmUp>();
        services.AddSingleton<IWarmUpStep, RecentCallersWarmUp>();
        services.AddSingleton<IWarmUpStep, SuccessPathWarmUp>();
        services.AddSingleton<IWarmUpStep, HotRouteWarmUp>();
        services.AddHostedService<WarmUpService>();
        services.AddEngines();
        // Admissions and completions execute a bounded number at once, the rest in arrival order (ADR 0800).
        services.AddAdmissionConcurrency();
        if ((configuration.GetSection("Platform").Get<PlatformOptions>() ?? new PlatformOptions()).RunJobs)
        {
            services.AddPlatformJobs();
        }

        // Logging__Console__FormatterName=json writes one JSON object per line (Microsoft's JSON console formatter) with the request's scope
        // (request_id, trace_id, tenant_id, caller) as properties, timestamps in UTC (ADR 0583).
        services.Configure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.AddPlatformMetrics();
        services.AddSingleton<TokenIssuer>();
        services.AddPlatformAuthentication()
            .AddJwtBearer(OperatorAuth.Scheme, o => o.MapInboundClaims = false);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenIssuer>((o, tokens) =>
            {
                o.TokenValidationParameters = tokens.UserValidation();
                // A token of a revoked session is refused (ADR 0530).
                o.Events = new JwtBearerEvents { OnTokenValidated = SessionValidation.CheckAsync };
            });
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
        services.AddScoped<TenantHosts>();
        services.AddPlatformOpenApi();
        builder.AddPlatformWeb();
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<PlatformOptions>((k, platform) => k.Limits.MaxRequestBodySize = platform.MaxRequestBodyBytes);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Kestrel's own refusals (414, 431, 400, 408, 413 before the app runs) answer problem details too (ADR 0197).
            k.ConfigureEndpointDefaults(l => KestrelRefusals.Use(l));
        });
        return builder;
    }

    public static WebApplication UsePlatformApi(this WebApplication app)
    {
        // Forwarded headers (only from Network:KnownProxies) first, so that everything after sees the client's address.
        app.UseClientAddress();
        // Then CORS: a preflight is answered before anything else runs, and every answer (problem details too) carries the CORS headers.
        app.UseCors();
        app.Use(RequestLogScope.RequestAsync);
        // The start-up warm-up's requests (loopback, this process's token): their refusals are expected, not logged as news (ADR 0800).
        // Async, so that the mark ends with this request (an async method's AsyncLocal changes do not flow back to its caller).
        app.Use(static async (context, next) =>
        {
            if (context.RequestServices.GetRequiredService<WarmUpState>().IsWarmUpRequest(context))
            {
                Platform.Engines.Pipeline.RefusalLog.Expect();
                // While the success-path warm-up runs, its requests run one at a time per lane in the lane's rolled-back sandbox (ADR 0815,
                // 0820), never cancelled half-way: an aborted statement could leave the sandbox's one connection mid-read and hold its rollback.
                context.RequestAborted = CancellationToken.None;
                var lane = int.TryParse(context.Request.Headers[WarmUpState.LaneHeader], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var named) ? named : 0;
                await context.RequestServices.GetRequiredService<Platform.Engines.Health.WarmUpSandboxes>().RunRequestAsync(lane, () => next(context), CancellationToken.None);
                return;
            }
            await next(context);
        });
        app.UsePlatformMetrics();
        app.UseIdempotencyRecorder();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(RefuseOversizedBodies);
        // Before authentication: a credential or an id with text PostgreSQL cannot store never reaches an engine (ADR 0180).
        app.UseMiddleware<StorableTextMiddleware>();
        app.UseAuthentication();
        app.Use(RequestLogScope.CallerAsync);
        app.UseAuthorization();
        // After authorization, before the body is read: only callers who may admit queue for an admission slot, so that an anonymous
        // flood or a wrong key never fills the queue other tenants wait in, and a queued admission has cost little yet (ADR 0800).
        app.UseRateLimiter();

        app.MapPlatformOpenApi();
        // Every feature's IEndpointGroup, found in this assembly: adding a feature edits no list here (ADR 0400).
        app.MapEndpointGroups();
        app.UsePlatformWeb();
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
        var limit = context.RequestServices.GetRequiredService<PlatformOptions>().MaxRequestBodyBytes;
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
