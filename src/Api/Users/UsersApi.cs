using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Users;

namespace Platform.Api.Users;

/// <summary>Maps sign-up, login and the signed-in user's own view.</summary>
public sealed class UsersApi : IEndpointGroup
{
    private const string Throttled = "`rate_limited`: too many attempts from this client address or for this account in the window (Retry-After says when to retry).";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/v1/auth").WithTags("Users").RefusesBody();
        auth.MapPost("/signup", SignUpAsync)
            .WithName("signUp")
            .WithSummary("Create a user account and sign in")
            .WithDescription("Anyone may sign up. A registered address gets the same answer as a new one (its token signs in to nothing) and its owner is told by email. Sign-ups per client address are throttled.")
            .Refuses(StatusCodes.Status429TooManyRequests, Throttled);
        auth.MapPost("/login", LogInAsync)
            .WithName("logIn")
            .WithSummary("Sign in with email and password")
            .WithDescription("Returns a bearer token for the user routes. Failed attempts are throttled per client address and per account.")
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: the email or password is not correct.")
            .Refuses(StatusCodes.Status429TooManyRequests, Throttled);
        routes.MapGet("/v1/me", GetMeAsync)
            .WithTags("Users")
            .RequireAuthorization()
            .WithName("getMe")
            .WithSummary("Get the signed-in user and their memberships")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, ProblemResponses.Unauthenticated + " Also when the account no longer exists or is disabled.")
            .Refuses(StatusCodes.Status429TooManyRequests, ProblemResponses.KeyThrottled);
    }

    private static async Task<Created<SignUpResponse>> SignUpAsync(SignUpRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, CancellationToken ct)
    {
        var user = await mediator.Send(new SignUp(body.Email ?? "", body.Password ?? "", body.Name ?? "", CallerExtensions.Origin(http).Ip), ct);
        var token = tokens.IssueUserToken(user.Id, user.Email);
        return TypedResults.Created("/v1/me", new SignUpResponse(UserResponse.From(user), token, "Bearer", tokens.LifetimeSeconds));
    }

    private static async Task<Ok<LogInResponse>> LogInAsync(LogInRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, CancellationToken ct)
    {
        var user = await mediator.Send(new LogIn(body.Email ?? "", body.Password ?? "", CallerExtensions.Origin(http).Ip), ct);
        var token = tokens.IssueUserToken(user.Id, user.Email);
        return TypedResults.Ok(new LogInResponse(token, "Bearer", tokens.LifetimeSeconds, UserResponse.From(user)));
    }

    private static async Task<Ok<MeResponse>> GetMeAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var me = await mediator.Send(new GetMe(http.ToCaller()), ct);
        return TypedResults.Ok(new MeResponse(UserResponse.From(me.User), me.Memberships.Select(MembershipResponse.From).ToList()));
    }
}
