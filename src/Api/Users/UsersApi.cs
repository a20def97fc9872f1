using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Users;

namespace Platform.Api.Users;

/// <summary>Maps sign-up, login, sessions (refresh, logout, list, revoke), email verification, password reset and change, and the signed-in user's own view.</summary>
public sealed class UsersApi : IEndpointGroup
{
    private const string Throttled = "`rate_limited`: too many attempts from this client address or for this account in the window (Retry-After says when to retry).";
    private const string Unauthenticated = ProblemResponses.Unauthenticated + " Also when the session has ended or the account no longer exists or is disabled.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/v1/auth").WithTags("Users").RefusesBody();
        auth.MapPost("/signup", SignUpAsync)
            .WithName("signUp")
            .WithSummary("Create a user account and sign in")
            .WithDescription("Anyone may sign up. A registered address gets the same answer as a new one (its tokens sign in to nothing) and its owner is told by email. A new account gets an email with a verification link. Sign-ups per client address are throttled.")
            .Refuses(StatusCodes.Status429TooManyRequests, Throttled);
        auth.MapPost("/login", LogInAsync)
            .WithName("logIn")
            .WithSummary("Sign in with email and password")
            .WithDescription("Opens a session: returns a short-lived bearer access token and a refresh token (POST /v1/auth/refresh). Failed attempts are throttled per client address and per account.")
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: the email or password is not correct.")
            .Refuses(StatusCodes.Status429TooManyRequests, Throttled);
        auth.MapPost("/refresh", RefreshAsync)
            .WithName("refreshSession")
            .WithSummary("Trade a refresh token for a new access token and refresh token")
            .WithDescription("The refresh token is rotated: the one sent stops working. Sending a rotated token again revokes the whole session (both tokens): of two parallel refreshes with one token, one succeeds and the session ends.")
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: the refresh token is unknown, rotated (the session is then revoked) or its session expired or was revoked.");
        auth.MapPost("/logout", LogOutAsync)
            .WithName("logOut")
            .WithSummary("End the current session")
            .WithDescription("Revokes the session of the access token, and that of the refresh token in the body when it is the same user's; with only a refresh token (an expired access token), revokes its session.")
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: neither a valid access token nor a valid refresh token was sent.");
        auth.MapPost("/verify-email", VerifyEmailAsync)
            .WithName("verifyEmail")
            .WithSummary("Verify an email address with the token of its verification link")
            .WithDescription("Anyone holding the link may use it, once, within Accounts:VerificationTokenHours.")
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the token is unknown, already used or expired.");
        auth.MapPost("/verify-email/resend", ResendVerificationAsync)
            .RequireAuthorization()
            .WithName("resendVerificationEmail")
            .WithSummary("Send the signed-in user a new verification email")
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated)
            .Refuses(StatusCodes.Status409Conflict, "`already_verified`: the email address is already verified.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`rate_limited`: Accounts:VerificationResendsPerHour are spent (Retry-After says when to retry).");
        auth.MapPost("/password/forgot", ForgotPasswordAsync)
            .WithName("forgotPassword")
            .WithSummary("Ask for a password reset link")
            .WithDescription("Always answers 202 with the same body, whether or not the address has an account; an account's address gets a reset link valid for Accounts:ResetTokenMinutes. Requests are limited per email and per client address.")
            .Refuses(StatusCodes.Status429TooManyRequests, Throttled);
        auth.MapPost("/password/reset", ResetPasswordAsync)
            .WithName("resetPassword")
            .WithSummary("Set a new password with the token of a reset link")
            .WithDescription("Sets the password, marks the email verified and revokes every session of the user: sign in again.")
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the token is unknown, already used or expired, or the password breaks the rules.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`rate_limited`: password hashing is saturated (Retry-After says when to retry).");

        var me = routes.MapGroup("/v1/me").WithTags("Users").RequireAuthorization();
        me.MapGet("", GetMeAsync)
            .WithName("getMe")
            .WithSummary("Get the signed-in user and their memberships")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated)
            .Refuses(StatusCodes.Status429TooManyRequests, ProblemResponses.KeyThrottled);
        me.MapPatch("", UpdateMeAsync)
            .WithName("updateMe")
            .WithSummary("Change the signed-in user's name, avatar, preferences or default tenant")
            .WithDescription("Fields left out stay as they are. name: 1-200 characters; avatar_url: https, at most 2048 characters, null clears it; preferences: a JSON object (at most 16 KiB, 10 levels) that replaces the stored one; default_tenant_id: a tenant the user is a member of, null clears it.")
            .RefusesBody()
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated);
        me.MapPost("/password", ChangePasswordAsync)
            .WithName("changeMyPassword")
            .WithSummary("Change the signed-in user's password")
            .WithDescription("Checks the current password and revokes every other session of the user; this one stays signed in.")
            .RefusesBody("`validation_failed`: a field is missing or not valid, or the current password is not correct (`errors` names the field).")
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated)
            .Refuses(StatusCodes.Status429TooManyRequests, "`rate_limited`: too many wrong current passwords in the minute, or password hashing is saturated (Retry-After says when to retry).");
        me.MapGet("/sessions", ListSessionsAsync)
            .WithName("listMySessions")
            .WithSummary("List the signed-in user's sessions")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated);
        me.MapDelete("/sessions/{session_id}", RevokeSessionAsync)
            .WithName("revokeMySession")
            .WithSummary("Revoke one of the signed-in user's sessions")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, Unauthenticated)
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: the user has no live session with this id.");
    }

    private static async Task<Created<SignUpResponse>> SignUpAsync(
        SignUpRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, AccountOptions accounts, CancellationToken ct)
    {
        var origin = CallerExtensions.Origin(http);
        var user = await mediator.Send(new SignUp(body.Email ?? "", body.Password ?? "", body.Name ?? "", origin.Ip), ct);
        var grant = await mediator.Send(new OpenSession(user.Id, origin.UserAgent, origin.Ip), ct);
        var token = tokens.IssueUserToken(user.Id, user.Email, grant.SessionId);
        var refreshToken = Hand(http, grant.RefreshToken, body.RefreshCookie == true, accounts);
        return TypedResults.Created("/v1/me", new SignUpResponse(UserResponse.From(user), token, "Bearer", tokens.LifetimeSeconds, refreshToken));
    }

    private static async Task<Ok<LogInResponse>> LogInAsync(
        LogInRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, AccountOptions accounts, CancellationToken ct)
    {
        var origin = CallerExtensions.Origin(http);
        var user = await mediator.Send(new LogIn(body.Email ?? "", body.Password ?? "", origin.Ip), ct);
        var grant = await mediator.Send(new OpenSession(user.Id, origin.UserAgent, origin.Ip), ct);
        var token = tokens.IssueUserToken(user.Id, user.Email, grant.SessionId);
        var refreshToken = Hand(http, grant.RefreshToken, body.RefreshCookie == true, accounts);
        return TypedResults.Ok(new LogInResponse(token, "Bearer", tokens.LifetimeSeconds, refreshToken, UserResponse.From(user)));
    }

    private static async Task<Ok<LogInResponse>> RefreshAsync(
        RefreshRequest? body, HttpContext http, IMediator mediator, TokenIssuer tokens, AccountOptions accounts, CancellationToken ct)
    {
        // A token in the body wins; without one, the browser's HttpOnly cookie is used and the rotated token goes back into it.
        var fromCookie = string.IsNullOrEmpty(body?.RefreshToken) ? RefreshCookie.Read(http) : null;
        RefreshedSession refreshed;
        try
        {
            refreshed = await mediator.Send(new RefreshSession(fromCookie ?? body?.RefreshToken ?? ""), ct);
        }
        catch (Exception) when (fromCookie is not null)
        {
            // A cookie that no longer opens a session is dropped, so the browser stops sending it. The exception handler clears the
            // response's headers before it writes the problem, so the deletion is added as the response starts.
            http.Response.OnStarting(() =>
            {
                RefreshCookie.Clear(http);
                return Task.CompletedTask;
            });
            throw;
        }
        var token = tokens.IssueUserToken(refreshed.User.Id, refreshed.User.Email, refreshed.Grant.SessionId);
        var refreshToken = Hand(http, refreshed.Grant.RefreshToken, fromCookie is not null, accounts);
        return TypedResults.Ok(new LogInResponse(token, "Bearer", tokens.LifetimeSeconds, refreshToken, UserResponse.From(refreshed.User)));
    }

    private static async Task<NoContent> LogOutAsync(LogOutRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var signedIn = http.User.SessionId() is { } sessionId ? (Caller: http.ToCaller(), SessionId: (Guid?)sessionId) : (null, null);
        var cookie = RefreshCookie.Read(http);
        if (cookie is not null)
        {
            RefreshCookie.Clear(http);
        }
        await mediator.Send(new LogOut(signedIn.Caller, signedIn.SessionId, body?.RefreshToken ?? cookie), ct);
        return TypedResults.NoContent();
    }

    /// <summary>Returns the refresh token for the body, or sets it as the HttpOnly cookie and returns null.</summary>
    private static string? Hand(HttpContext http, string refreshToken, bool asCookie, AccountOptions accounts)
    {
        if (!asCookie)
        {
            return refreshToken;
        }
        RefreshCookie.Set(http, refreshToken, accounts);
        return null;
    }

    private static async Task<NoContent> VerifyEmailAsync(VerifyEmailRequest body, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new VerifyEmail(body.Token ?? ""), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Accepted> ResendVerificationAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new ResendVerification(http.ToCaller()), ct);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Accepted<AcceptedResponse>> ForgotPasswordAsync(ForgotPasswordRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new ForgotPassword(body.Email ?? "", CallerExtensions.Origin(http).Ip), ct);
        return TypedResults.Accepted((string?)null, AcceptedResponse.ResetRequested);
    }

    private static async Task<NoContent> ResetPasswordAsync(ResetPasswordRequest body, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new ResetPassword(body.Token ?? "", body.Password ?? ""), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<MeResponse>> GetMeAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var me = await mediator.Send(new GetMe(http.ToCaller()), ct);
        return TypedResults.Ok(new MeResponse(UserResponse.From(me.User), me.Memberships.Select(MembershipResponse.From).ToList()));
    }

    private static async Task<Ok<MeResponse>> UpdateMeAsync(UpdateMeRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var me = await mediator.Send(new UpdateMe(http.ToCaller(), body.Name, body.AvatarUrl, body.Preferences, body.DefaultTenantId), ct);
        return TypedResults.Ok(new MeResponse(UserResponse.From(me.User), me.Memberships.Select(MembershipResponse.From).ToList()));
    }

    private static async Task<NoContent> ChangePasswordAsync(ChangePasswordRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new ChangeMyPassword(http.ToCaller(), http.User.SessionId(), body.CurrentPassword ?? "", body.NewPassword ?? ""), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<ListResponse<SessionResponse>>> ListSessionsAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var sessions = await mediator.Send(new ListMySessions(http.ToCaller()), ct);
        var current = http.User.SessionId();
        return TypedResults.Ok(new ListResponse<SessionResponse>(sessions.Select(s => SessionResponse.From(s, current)).ToList(), null));
    }

    private static async Task<NoContent> RevokeSessionAsync(Guid session_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new RevokeMySession(http.ToCaller(), session_id), ct);
        return TypedResults.NoContent();
    }
}

/// <summary>Is the answer of a request that is taken in and acted on later, the same whatever the outcome.</summary>
public sealed record AcceptedResponse(string Status, string Message)
{
    public static readonly AcceptedResponse ResetRequested =
        new("accepted", "If an account has this email address, a password reset link is on its way.");
}
