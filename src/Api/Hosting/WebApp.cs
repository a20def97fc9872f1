using Microsoft.Extensions.FileProviders;
using Platform.Engines.Hosting;
using Microsoft.Net.Http.Headers;

namespace Platform.Api.Hosting;

/// <summary>Holds where the dashboard's built files are (section "Web").</summary>
public sealed class WebOptions
{
    /// <summary>Gets or sets the folder of the built dashboard (web/dist, holding index.html and assets/); empty serves no dashboard (Web:DistPath).</summary>
    public string DistPath { get; set; } = "";
}

/// <summary>Serves the dashboard (web/dist) at / and /admin: hashed assets cached for good, index.html for every other page path (ADR 0590).</summary>
/// <remarks>
/// Paths of the API (/v1, /openapi, /docs, /healthz, ...) never fall back to index.html: an unknown one keeps its problem-details 404.
/// </remarks>
public static class WebApp
{
    /// <summary>Lists the path prefixes that belong to the API and never fall back to the dashboard.</summary>
    public static readonly string[] ApiPrefixes = ["/v1", "/openapi", "/docs", "/healthz", "/readyz", "/metrics", "/scalar", "/swagger"];

    private const string Immutable = "public, max-age=31536000, immutable";

    public static WebApplicationBuilder AddPlatformWeb(this WebApplicationBuilder builder)
    {
        builder.Services.AddFeatureOptions<WebOptions>("Web")
            .Validate(o => string.IsNullOrEmpty(o.DistPath) || File.Exists(Path.Combine(o.DistPath, "index.html")),
                "Web:DistPath names a folder without index.html: build the dashboard (./platform run does: npm ci and vite build in web/).");
        return builder;
    }

    /// <summary>Serves the dashboard when Web:DistPath names a built one; does nothing otherwise.</summary>
    public static WebApplication UsePlatformWeb(this WebApplication app)
    {
        var options = app.Configuration.GetSection("Web").Get<WebOptions>() ?? new WebOptions();
        if (string.IsNullOrEmpty(options.DistPath) || !File.Exists(Path.Combine(options.DistPath, "index.html")))
        {
            return app;
        }
        var root = Path.GetFullPath(options.DistPath);
        var files = new PhysicalFileProvider(root);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                // Vite names every file under assets/ by a hash of its content: a new build is a new name, so a copy never goes stale.
                context.Context.Response.Headers.CacheControl =
                    context.Context.Request.Path.StartsWithSegments("/assets") ? Immutable : "no-cache";
            },
        });
        // GET and HEAD only: a fallback that took every method would win over an API route that refuses the request's content type
        // (a POST without a body to /v1/auth/logout would be answered by the fallback instead of the route).
        app.MapFallback(context => ServeIndexAsync(context, files))
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Tells whether a path belongs to the API rather than to a page of the dashboard.</summary>
    public static bool IsApiPath(PathString path) => ApiPrefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    private static async Task ServeIndexAsync(HttpContext context, IFileProvider files)
    {
        var request = context.Request;
        var isPage = !IsApiPath(request.Path)
            && !Path.HasExtension(request.Path.Value);
        if (!isPage)
        {
            // The status code pages middleware writes the usual problem details.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var index = files.GetFileInfo("index.html");
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        context.Response.ContentLength = index.Length;
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }
        await context.Response.SendFileAsync(index);
    }
}
