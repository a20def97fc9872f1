using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Engines.Branding;
using Platform.Models.Branding;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Api.Branding;

/// <summary>Maps a tenant's branding (members read, owners and admins write; plan feature branding) and the public branding of a host for sign-in pages.</summary>
public sealed class BrandingApi : IEndpointGroup
{
    /// <summary>Is how long browsers and proxies may keep a public branding answer, in seconds.</summary>
    public const int PublicMaxAgeSeconds = 300;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var branding = routes.MapTenantGroup("/branding").WithTags("Branding");
        branding.MapGet("/", GetAsync).RequireFeature(Features.Branding)
            .WithName("getBranding")
            .WithSummary("Get the tenant's branding: logo and stylesheet URLs, primary colour, product name and email sender name")
            .WithDescription("Any member (viewer or higher) may read it; API keys cannot.");
        branding.MapPut("/", ReplaceAsync).RequireFeature(Features.Branding)
            .WithName("replaceBranding")
            .WithSummary("Replace the tenant's branding (null fields fall back to the platform's)")
            .WithDescription("Needs the admin role or higher. URLs must be https; the colour #rrggbb; names at most 100 characters; logo_png, the logo as a "
                + "base64 PNG (at most 64 KB and 2000 x 2000 pixels), is kept by Platform and drawn on invoice PDFs (ADR 0779). The tenant's emails "
                + "(invitations, usage alerts, billing notices, webhook notices) carry the logo, colour and product name, and the sender name as the From display name.")
            .RefusesBody("`validation_failed`: a URL is not https (javascript:, data: and http: are refused) or too long, the colour is not #rrggbb, logo_png is not a "
                + "base64 PNG within the limits, or a name is "
                + "empty, longer than 100 characters or holds control characters (`errors` names each field); or text PostgreSQL cannot store.");
        branding.MapGet("/logo.png", GetLogoAsync).RequireFeature(Features.Branding)
            .WithName("getBrandingLogo")
            .WithSummary("Download the tenant's logo image, the PNG kept with logo_png (ADR 0779)")
            .WithDescription("Any member (viewer or higher) may read it; API keys cannot. The dashboard previews it and sends it back as logo_png with "
                + "each replacement of the branding, which clears a logo it leaves out (ADR 0805).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when the tenant keeps no logo image.");
        routes.MapGet("/v1/branding", GetPublicAsync).WithTags("Branding").AllowAnonymous()
            .WithName("getPublicBranding")
            .WithSummary("Get the branding a sign-in page shows for a host: {slug}.{base host} or a verified custom domain")
            .WithDescription($"Public: no token needed. Cacheable for {PublicMaxAgeSeconds} seconds. A tenant without the branding feature answers with its name "
                + "and slug and null branding fields.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant is reached by that host.");
    }

    private static async Task<Ok<BrandingResponse>> GetAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(BrandingResponse.From(await request.Send(new GetBranding(request.Caller, request.TenantId))));

    private static async Task<Ok<BrandingResponse>> ReplaceAsync([AsParameters] TenantRequest request, BrandingRequest body)
    {
        var saved = await request.Send(new UpdateBranding(request.Caller, request.TenantId,
            new TenantBranding(body.LogoUrl, body.CustomCssUrl, body.PrimaryColor, body.ProductName, body.EmailSenderName) { LogoPng = Base64(body.LogoPng) }));
        return TypedResults.Ok(BrandingResponse.From(saved));
    }

    private static async Task<FileContentHttpResult> GetLogoAsync([AsParameters] TenantRequest request)
    {
        var branding = await request.Send(new GetBranding(request.Caller, request.TenantId));
        return TypedResults.File(branding.LogoPng ?? throw new NotFoundException("logo image"), "image/png");
    }

    /// <summary>Decodes the logo image's base64, refusing text that is not base64 with 422 naming logo_png.</summary>
    private static byte[]? Base64(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(text, buffer, out var written)
            ? buffer[..written]
            : throw ValidationFailedException.For("logo_png", "The logo must be a PNG image (base64 of the file).");
    }

    private static async Task<Ok<PublicBrandingResponse>> GetPublicAsync(
        [FromQuery(Name = "host")] string? host, HttpContext http, TenantHosts hosts, MediatR.IMediator mediator, CancellationToken cancellationToken)
    {
        if (TenantHosts.Normalise(host) is null)
        {
            throw ValidationFailedException.For("host", "Give the host name the sign-in page is served on, such as acme.example.com.");
        }
        var tenantId = await hosts.FindAsync(host!, cancellationToken) ?? throw new NotFoundException("tenant");
        var found = await mediator.Send(new GetPublicBranding(tenantId), cancellationToken);
        http.Response.Headers.CacheControl = $"public, max-age={PublicMaxAgeSeconds}";
        http.Response.Headers.Vary = "Accept-Encoding";
        return TypedResults.Ok(new PublicBrandingResponse(found.Slug, found.Name, found.Branding.ProductName ?? found.Name,
            found.Branding.LogoUrl, found.Branding.CustomCssUrl, found.Branding.PrimaryColor));
    }
}

/// <summary>Is the body of a branding replacement; every field is optional and null clears it; logo_png is the logo as a base64 PNG (ADR 0779).</summary>
public sealed record BrandingRequest(string? LogoUrl, string? CustomCssUrl, string? PrimaryColor, string? ProductName, string? EmailSenderName, string? LogoPng = null);

/// <summary>Is the wire form of a tenant's branding; has_logo_png tells whether a logo image is kept (drawn on invoice PDFs).</summary>
public sealed record BrandingResponse(string? LogoUrl, string? CustomCssUrl, string? PrimaryColor, string? ProductName, string? EmailSenderName, bool HasLogoPng)
{
    public static BrandingResponse From(TenantBranding b) => new(b.LogoUrl, b.CustomCssUrl, b.PrimaryColor, b.ProductName, b.EmailSenderName, b.LogoPng is not null);
}

/// <summary>Is what a sign-in page shows for a host: the tenant's slug and name, the product name (its own, else the tenant's name), and its logo,
/// stylesheet and colour (null when it set none or its plan has no branding).</summary>
public sealed record PublicBrandingResponse(string Slug, string Name, string ProductName, string? LogoUrl, string? CustomCssUrl, string? PrimaryColor);
