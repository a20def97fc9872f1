using MediatR;
using Platform.Engines.Operators;
using Platform.Models;

namespace Platform.Api.Auth;

/// <summary>Checks every /v1/admin request's operator against the database (AuthorizeOperatorRequest): a disabled operator's token stops working on its next request, and the operator's current role, not the token's, is what the engines see.</summary>
public sealed class OperatorRequestFilter : IEndpointFilter
{
    /// <summary>Names the HttpContext item that holds the operator's current role for ToOperatorCaller.</summary>
    public const string CurrentRoleItem = "platform.operator.current_role";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = http.ToOperatorCaller();
        var enrolmentRoute = http.GetEndpoint()?.Metadata.GetMetadata<TotpEnrolmentRoute>() is not null;
        var current = await http.RequestServices.GetRequiredService<IMediator>()
            .Send(new AuthorizeOperatorRequest(caller.OperatorId!.Value, caller.MfaVerified, enrolmentRoute), http.RequestAborted);
        http.Items[CurrentRoleItem] = current.Role.ToWire();
        return await next(context);
    }
}

/// <summary>Marks the routes a token without verified TOTP may still open (TOTP enrolment), for operators who must enrol.</summary>
public sealed class TotpEnrolmentRoute
{
    public static TotpEnrolmentRoute Instance { get; } = new();
}
