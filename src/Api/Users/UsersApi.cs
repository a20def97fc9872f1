using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Engines.Users;

namespace Platform.Api.Endpoints;

/// <summary>Maps sign-up, login and the signed-in user's own view.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/v1/auth").WithTags("Auth");
        auth.MapPost("/signup", SignUpAsync);
        auth.MapPost("/login", LogInAsync);
        routes.MapGet("/v1/me", GetMeAsync).WithTags("Auth").RequireAuthorization();
        return routes;
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
