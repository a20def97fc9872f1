using System.Security.Claims;
using MediatR;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Engines.Users;

namespace Platform.Api.Auth;

/// <summary>Refuses a user access token whose session is revoked or expired, or that names no session (ADR 0530).</summary>
internal static class SessionValidation
{
    public static async Task CheckAsync(TokenValidatedContext context)
    {
        var principal = context.Principal;
        if (principal is null
            || !Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId)
            || principal.SessionId() is not { } sessionId)
        {
            context.Fail("The access token names no session.");
            return;
        }
        var mediator = context.HttpContext.RequestServices.GetRequiredService<IMediator>();
        if (!await mediator.Send(new CheckSession(userId, sessionId), context.HttpContext.RequestAborted))
        {
            context.Fail("The session has ended.");
        }
    }
}
