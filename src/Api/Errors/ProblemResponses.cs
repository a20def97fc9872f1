using Microsoft.AspNetCore.Mvc;

namespace Platform.Api.Errors;

/// <summary>Declares in the OpenAPI document the problem responses a route can give, each with the problem codes it carries and when.</summary>
/// <remarks>A status declared on a route group applies to every route in it; a route that declares the same status again replaces the
/// group's description with its own (route metadata comes after the group's), so a route's text names the group's codes too.</remarks>
public static class ProblemResponses
{
    public const string Unauthenticated = "`unauthorized`: no valid access token or API key (revoked, expired and frozen keys included).";
    public const string NotATenantOfYours = "`not_found`: the tenant does not exist, or the caller is not its member (an API key reaches only its own tenant).";
    public const string RoleOrPermission = "`forbidden`: the caller's role, or the API key's permission, is not enough for this route; `tenant_suspended`: the tenant is suspended or deleted; `ip_not_allowed`: the tenant's IP allowlist leaves out the caller's address.";
    public const string OperatorUnauthenticated = "`unauthorized`: no valid operator token (user tokens and API keys are not accepted here), or the operator is disabled or gone.";
    public const string OperatorForbidden = "`forbidden`: the operator's role is not enough for this action, or the operator must sign in with a TOTP code (or enrol TOTP) first.";
    public const string KeyThrottled = "`rate_limited`: the API key's requests per minute are spent (Retry-After says when to retry).";
    public const string KeyOrUserThrottled = "`rate_limited`: the API key's requests per minute, or the signed-in user's requests per minute to this tenant (quota `user_requests_per_minute`), are spent (Retry-After says when to retry).";
    public const string BadParameter = "`validation_failed`: a parameter or the body does not parse (`errors` names the field), or the HTTP request is malformed.";
    public const string UnstorableText = "`validation_failed`: a header, parameter or body field holds text PostgreSQL cannot store (U+0000, unpaired surrogates).";
    public const string Invalid = "`validation_failed`: a field is missing or not valid (`errors` names each one), or holds text PostgreSQL cannot store.";
    public const string InvalidOrKeyReused = Invalid + " `idempotency_key_reused`: the Idempotency-Key was sent before with another body.";
    public const string TooLarge = "`payload_too_large`: the body is larger than the API accepts.";
    public const string NotJson = "`unsupported_media_type`: the body is not sent as application/json.";

    /// <summary>Declares a problem response with the given status and a description naming its codes and when they are given.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder builder, int status, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]) { Description = description });

    /// <summary>Declares the refusals of any route: a malformed request (400) and text PostgreSQL cannot store (422).</summary>
    /// <summary>Documents the problems of a route that calls Stripe (ADR 0722): 402 a declined payment, 502 Stripe failed, 503 Stripe unreachable or
    /// rate limited (Retry-After); Stripe's refusals of a request are 422 payment_request_invalid and its conflicts 409 payment_provider_conflict.</summary>
    public static TBuilder RefusesAsPaymentProvider<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder
        .Refuses(StatusCodes.Status402PaymentRequired, "`payment_declined`: Stripe declined the card (its `provider_code` and `decline_code` are given).")
        .Refuses(StatusCodes.Status502BadGateway, "`payment_provider_error`: Stripe failed to complete the request; nothing was changed.")
        .Refuses(StatusCodes.Status503ServiceUnavailable, "`payment_provider_unavailable`: Stripe cannot be reached or limits requests; retry after Retry-After.");

    public static TBuilder RefusesMalformed<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder
        .Refuses(StatusCodes.Status400BadRequest, BadParameter)
        .Refuses(StatusCodes.Status422UnprocessableEntity, UnstorableText);

    /// <summary>Declares the refusals of a route with a JSON body: malformed (400), too large (413), not JSON (415), invalid (422).</summary>
    public static TBuilder RefusesBody<TBuilder>(this TBuilder builder, string invalid = Invalid) where TBuilder : IEndpointConventionBuilder => builder
        .Refuses(StatusCodes.Status400BadRequest, BadParameter)
        .Refuses(StatusCodes.Status413PayloadTooLarge, TooLarge)
        .Refuses(StatusCodes.Status415UnsupportedMediaType, NotJson)
        .Refuses(StatusCodes.Status422UnprocessableEntity, invalid);

    /// <summary>Declares the refusals of every operator route under /v1/admin: 400 and 422 (malformed or unstorable), 401 and 403.</summary>
    public static TBuilder RefusesAsOperatorRoute<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder
        .RefusesMalformed()
        .Refuses(StatusCodes.Status401Unauthorized, OperatorUnauthenticated)
        .Refuses(StatusCodes.Status403Forbidden, OperatorForbidden);

    /// <summary>Declares the refusals of every tenant route: 400 and 422 (malformed or unstorable), 401, 403, 404 (another tenant) and 429 (key throttle).</summary>
    public static TBuilder RefusesAsTenantRoute<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder
        .RefusesMalformed()
        .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated)
        .Refuses(StatusCodes.Status403Forbidden, RoleOrPermission)
        .Refuses(StatusCodes.Status404NotFound, NotATenantOfYours)
        .Refuses(StatusCodes.Status429TooManyRequests, KeyOrUserThrottled);
}
