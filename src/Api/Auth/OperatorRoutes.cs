using Platform.Api.Errors;

namespace Platform.Api.Auth;

/// <summary>Maps operator route groups one way only: the operator token policy, the per-request operator check
/// (<see cref="OperatorRequestFilter"/>: a disabled operator is refused and the current role is used, not the token's) and the
/// operator refusals. A group mapped by hand could forget the check; the invoices group once did.</summary>
public static class OperatorRoutes
{
    public static RouteGroupBuilder MapOperatorGroup(this IEndpointRouteBuilder routes, string prefix, string tag) =>
        routes.MapGroup(prefix).WithTags(tag).RequireAuthorization(OperatorAuth.Policy)
            .AddEndpointFilter<OperatorRequestFilter>()
            .WithMetadata(OperatorRoute.Instance)
            .RefusesAsOperatorRoute();
}

/// <summary>Marks an endpoint mapped by <see cref="OperatorRoutes.MapOperatorGroup"/>, so that a test can find any operator endpoint mapped otherwise.</summary>
public sealed class OperatorRoute
{
    public static OperatorRoute Instance { get; } = new();
}
