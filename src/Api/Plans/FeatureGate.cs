using MediatR;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Tenancy;
using Platform.Engines.Plans;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Api.Plans;

/// <summary>Gates tenant routes by a feature the tenant has now (its plan while in trial, active or past due, then operator overrides; ADR 0550).</summary>
public static class FeatureGate
{
    /// <summary>Lets the route answer only when the tenant has the feature, else 403 feature_not_in_plan naming the feature and the plans that have it;
    /// put it on tenant routes (after the tenant filter).</summary>
    /// <remarks>The features come from this instance's cache (dropped on every instance when they change); a refusal is confirmed by the membership-checked
    /// entitlements, so that a caller who is no member gets the 404 of every tenant route rather than a 403 that would confirm the tenant exists.</remarks>
    public static TBuilder RequireFeature<TBuilder>(this TBuilder builder, string feature) where TBuilder : IEndpointConventionBuilder =>
        builder
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission + $" `feature_not_in_plan`: the tenant's plan does not include '{feature}' (the problem names the `feature` and the `plans` that have it).")
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                var mediator = http.RequestServices.GetRequiredService<IMediator>();
                var tenantId = TenantRouteFilter.TenantId(http);
                var features = await mediator.Send(new GetTenantFeatures(tenantId), http.RequestAborted);
                if (!features.Features.Contains(feature))
                {
                    var entitlements = await mediator.Send(new GetEntitlements(http.ToCaller(), tenantId), http.RequestAborted);
                    if (!entitlements.HasFeature(feature))
                    {
                        throw NotInPlan(feature, entitlements.Plan.Name);
                    }
                }
                return await next(context);
            });

    /// <summary>Builds the 403 feature_not_in_plan refusal with the feature and the plans that include it.</summary>
    public static ForbiddenException NotInPlan(string feature, string planName) =>
        new($"The tenant's {planName} plan does not include '{feature}'; it is in: {string.Join(", ", Features.PlansWith(feature))}.", "feature_not_in_plan")
        {
            Extensions = new Dictionary<string, object?> { ["feature"] = feature, ["plans"] = Features.PlansWith(feature) },
        };
}
