using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines.Plans;
using Platform.Models.Errors;

namespace Platform.Api.Endpoints;

/// <summary>Maps what a tenant's plan grants (viewer, or any key of the tenant) and offers the feature gate filter for other routes.</summary>
public static class FeaturesApi
{
    public static IEndpointRouteBuilder MapFeaturesApi(this IEndpointRouteBuilder routes)
    {
        routes.MapTenantGroup("/features").WithTags("Plans").MapGet("/", GetAsync);
        return routes;
    }

    /// <summary>Lets the route answer only when the tenant's effective plan has the feature, else 403 feature_not_in_plan; put it on tenant routes (after the tenant filter).</summary>
    public static TBuilder RequireFeature<TBuilder>(this TBuilder builder, string feature) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
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

    private static async Task<Ok<EntitlementsResponse>> GetAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var entitlements = await mediator.Send(new GetEntitlements(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        return TypedResults.Ok(EntitlementsResponse.From(entitlements));
    }
}
