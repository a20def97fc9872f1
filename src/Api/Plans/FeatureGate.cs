using MediatR;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Tenancy;
using Platform.Engines.Plans;
using Platform.Models.Errors;

namespace Platform.Api.Plans;

/// <summary>Gates tenant routes by a feature of the tenant's effective plan.</summary>
public static class FeatureGate
{
    /// <summary>Lets the route answer only when the tenant's effective plan has the feature, else 403 feature_not_in_plan; put it on tenant routes (after the tenant filter).</summary>
    public static TBuilder RequireFeature<TBuilder>(this TBuilder builder, string feature) where TBuilder : IEndpointConventionBuilder =>
        builder
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission + $" `feature_not_in_plan`: the tenant's plan does not include '{feature}'.")
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                var entitlements = await http.RequestServices.GetRequiredService<IMediator>()
                    .Send(new GetEntitlements(http.ToCaller(), TenantRouteFilter.TenantId(http)), http.RequestAborted);
                if (!entitlements.HasFeature(feature))
                {
                    throw new ForbiddenException($"The {entitlements.Plan.Name} plan does not include '{feature}'.", "feature_not_in_plan");
                }
                return await next(context);
            });
}
