using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Api.Users;
using Platform.Engines.Sso;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Models.Sso;
using Platform.Models.Tenants;

namespace Platform.Api.Sso;

/// <summary>Maps a tenant's OpenID Connect settings (plan feature sso) and the SSO sign-in: start, the identity provider's callback and the
/// trade of the one-time code for a session (ADR 0620).</summary>
public sealed class SsoApi : IEndpointGroup
{
    public const string CallbackPath = "/v1/auth/sso/callback";

    private const string Refused = "`sso_refused`: the sign-in was refused; `reason` says why (state_invalid, idp_error, idp_unreachable, issuer_mismatch, "
        + "token_exchange_failed, invalid_issuer, invalid_audience, token_expired, invalid_signature, invalid_token, nonce_mismatch, email_missing, "
        + "email_not_verified, email_domain_not_allowed, account_disabled, feature_not_in_plan). Every refusal is in the tenant's audit log.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var settings = routes.MapTenantGroup("/sso").WithTags("Sso");
        settings.MapGet("/", GetAsync).RequireFeature(Features.Sso)
            .WithName("getSsoSettings")
            .WithSummary("Get the tenant's OpenID Connect settings (members below admin see a redacted view; the client secret is never returned)")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when SSO is not configured.");
        settings.MapGet("/status", GetStatusAsync).RequireFeature(Features.Sso)
            .WithName("getSsoStatus")
            .WithSummary("Tell whether the tenant has SSO configured, with its settings when it has (as GET …/sso shows them)")
            .WithDescription("Any member; API keys cannot. Not configured is `{\"configured\": false, \"settings\": null}`, not a 404, so that a settings "
                + "screen's first visit is not a refused request.")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours);
        settings.MapPut("/", PutAsync).RequireFeature(Features.Sso)
            .WithName("putSsoSettings")
            .WithSummary("Create or replace the tenant's OpenID Connect settings")
            .WithDescription("Needs the admin role or higher. `issuer` (https), `client_id`, `client_secret` (required the first time; left out keeps the stored one; "
                + "kept encrypted, never returned), `domains` (email domains, normalised; each claimed by one tenant only), `default_role` (admin, member or "
                + "viewer; default member), `group_claim` and `group_roles` ({group: role}) for the role of new members, `enforce` (members whose email "
                + "domain is claimed here cannot sign in with a password).")
            .RefusesBody()
            .Refuses(StatusCodes.Status409Conflict, "`domain_claimed`: another tenant claims one of the domains (`domains` lists them).");
        settings.MapDelete("/", DeleteAsync).RequireFeature(Features.Sso)
            .WithName("deleteSsoSettings")
            .WithSummary("Remove the tenant's OpenID Connect settings and release its email domains")
            .WithDescription("Needs the admin role or higher.")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when SSO is not configured.");

        var auth = routes.MapGroup("/v1/auth/sso").WithTags("Sso");
        auth.MapGet("/start", StartAsync)
            .WithName("startSsoSignIn")
            .WithSummary("Start an SSO sign-in: redirects (302) to the tenant's identity provider")
            .WithDescription("Name the tenant by `tenant` (its slug) or by `email` (the tenant that claims the address's domain). The redirect carries an "
                + "authorization code request with PKCE (S256), state and nonce, which the service keeps for Sso:SignInMinutes and accepts once.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant with this slug or domain has SSO configured.")
            .Refuses(StatusCodes.Status403Forbidden, "`feature_not_in_plan`: the tenant's plan does not include sso. " + Refused)
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: neither or both of tenant and email, or one is not valid.");
        auth.MapGet("/callback", CallbackAsync)
            .WithName("ssoCallback")
            .WithSummary("The identity provider's redirect back: validates the sign-in and redirects (302) to the dashboard with a one-time code")
            .WithDescription("The code goes in the URL's fragment (Sso:CompletionUrl#code=…), never a token; trade it within Sso:CodeSeconds at POST /v1/auth/sso/exchange.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status403Forbidden, Refused)
            .Refuses(StatusCodes.Status409Conflict, "`sign_in_race`: another sign-in created the same user at the same moment; try again.");
        auth.MapPost("/exchange", ExchangeAsync)
            .WithName("exchangeSsoCode")
            .WithSummary("Trade the one-time code of an SSO sign-in for a session (the same answer as a password sign-in)")
            .WithDescription("With `refresh_cookie` true the refresh token is set as the HttpOnly platform_refresh cookie instead of returned.")
            .RefusesBody()
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: the code is unknown, already used or expired, or the account is disabled.");
    }

    private static async Task<Ok<SsoSettingsResponse>> GetAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(SsoSettingsResponse.From(await request.Send(new GetSsoSettings(request.Caller, request.TenantId))));

    private static async Task<Ok<SsoStatusResponse>> GetStatusAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(SsoStatusResponse.From(await request.Send(new FindSsoSettings(request.Caller, request.TenantId))));

    private static async Task<Ok<SsoSettingsResponse>> PutAsync([AsParameters] TenantRequest request, SsoSettingsRequest body)
    {
        var input = new SsoSettingsInput(body.Issuer, body.ClientId, body.ClientSecret, body.Domains, body.DefaultRole, body.GroupClaim, body.GroupRoles, body.Enforce);
        return TypedResults.Ok(SsoSettingsResponse.From(await request.Send(new PutSsoSettings(request.Caller, request.TenantId, input))));
    }

    private static async Task<NoContent> DeleteAsync([AsParameters] TenantRequest request)
    {
        await request.Send(new DeleteSsoSettings(request.Caller, request.TenantId));
        return TypedResults.NoContent();
    }

    private static async Task<RedirectHttpResult> StartAsync(string? tenant, string? email, HttpContext http, IMediator mediator, SsoOptions options, CancellationToken ct)
    {
        var url = await mediator.Send(new StartSsoSignIn(tenant, email, CallbackUrl(http, options)), ct);
        return TypedResults.Redirect(url);
    }

    private static async Task<RedirectHttpResult> CallbackAsync(string? code, string? state, string? error, HttpContext http, IMediator mediator, SsoOptions options, CancellationToken ct)
    {
        var oneTime = await mediator.Send(new CompleteSsoSignIn(code, state, error, CallerExtensions.Origin(http)), ct);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(options.CompletionUrl + "#code=" + Uri.EscapeDataString(oneTime));
    }

    private static async Task<Ok<LogInResponse>> ExchangeAsync(
        SsoExchangeRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, AccountOptions accounts, CancellationToken ct)
    {
        var origin = CallerExtensions.Origin(http);
        var user = await mediator.Send(new RedeemSsoCode(body.Code), ct);
        var grant = await mediator.Send(new OpenSession(user.Id, origin.UserAgent, origin.Ip), ct);
        var token = tokens.IssueUserToken(user.Id, user.Email, grant.SessionId);
        string? refreshToken = grant.RefreshToken;
        if (body.RefreshCookie == true)
        {
            RefreshCookie.Set(http, grant.RefreshToken, accounts);
            refreshToken = null;
        }
        return TypedResults.Ok(new LogInResponse(token, "Bearer", tokens.LifetimeSeconds, refreshToken, UserResponse.From(user)));
    }

    /// <summary>Gives the redirect URI registered at identity providers: Sso:PublicBaseUrl, else the request's scheme and host, then the callback path.</summary>
    private static string CallbackUrl(HttpContext http, SsoOptions options) =>
        (options.PublicBaseUrl.Length > 0 ? options.PublicBaseUrl.TrimEnd('/') : $"{http.Request.Scheme}://{http.Request.Host}") + CallbackPath;
}

/// <summary>Is the body of an SSO settings change.</summary>
public sealed record SsoSettingsRequest(
    string? Issuer, string? ClientId, string? ClientSecret = null, IReadOnlyList<string>? Domains = null, string? DefaultRole = null,
    string? GroupClaim = null, IReadOnlyDictionary<string, string>? GroupRoles = null, bool? Enforce = null);

/// <summary>Is the body of POST /v1/auth/sso/exchange.</summary>
public sealed record SsoExchangeRequest(string? Code, bool? RefreshCookie = null);

/// <summary>Is the wire form of a tenant's SSO settings; below admin only enabled, issuer, domains and enforce are shown (the rest null). The client secret is never shown.</summary>
/// <summary>Says whether a tenant has SSO configured and, when it has, its settings as <see cref="SsoSettingsResponse"/> shows them to the caller.</summary>
public sealed record SsoStatusResponse(bool Configured, SsoSettingsResponse? Settings)
{
    public static SsoStatusResponse From(SsoSettingsView? view) => view is null ? new(false, null) : new(true, SsoSettingsResponse.From(view));
}

public sealed record SsoSettingsResponse(
    bool Redacted, string Issuer, string? ClientId, bool ClientSecretSet, IReadOnlyList<string> Domains, string? DefaultRole, string? GroupClaim,
    IReadOnlyDictionary<string, string>? GroupRoles, bool Enforce, DateTimeOffset UpdatedAt)
{
    public static SsoSettingsResponse From(SsoSettingsView view)
    {
        var s = view.Settings;
        return view.CallerRole >= TenantRole.Admin
            ? new(false, s.Issuer, s.ClientId, true, s.Domains, s.DefaultRole.ToWire(), s.GroupClaim,
                s.GroupRoles.ToDictionary(p => p.Key, p => p.Value.ToWire()), s.Enforce, s.UpdatedAt)
            : new(true, s.Issuer, null, true, s.Domains, null, null, null, s.Enforce, s.UpdatedAt);
    }
}
