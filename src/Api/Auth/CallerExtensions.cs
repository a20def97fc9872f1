using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.Auth;

/// <summary>Turns the authenticated principal into the engines' caller.</summary>
public static class CallerExtensions
{
    public static Caller ToCaller(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId)
            ? Caller.User(userId)
            : throw new UnauthorizedException("A valid access token is required.");
}
