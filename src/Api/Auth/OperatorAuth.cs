using Microsoft.AspNetCore.Authorization;

namespace Platform.Api.Auth;

/// <summary>Names the operators' own authentication scheme and policy: /v1/admin accepts only operator tokens (their own audience), and tenant routes, on the default scheme, never accept them.</summary>
public static class OperatorAuth
{
    public const string Scheme = "Operator";
    public const string Policy = "operator";

    public static void AddPolicy(AuthorizationOptions options) =>
        options.AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(TokenIssuer.OperatorRoleClaim));
}
