using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines.Plans;
using Platform.Models.Plans;

namespace Platform.Api.Plans;

/// <summary>Maps the plan catalogue and what a tenant's plan grants (viewer, or any key of the tenant).</summary>
public sealed class PlansApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/plans", List).WithTags("Plans")
            .WithName("listPlans")
            .WithSummary("List the plan catalogue with prices in cents, quotas and features")
            .WithDescription("Public: no token needed.")
            .RefusesMalformed();
        routes.MapTenantGroup("/features").WithTags("Plans").MapGet("/", GetEntitlementsAsync)
            .WithName("getEntitlements")
            .WithSummary("Get what a tenant's plan grants: features and quotas, overrides included")
            .WithDescription("Any member (viewer or higher) or any API key of the tenant may read it.");
    }

    private static Ok<ListResponse<PlanResponse>> List() => TypedResults.Ok(new ListResponse<PlanResponse>(
        PlanCatalog.All.Select(p => new PlanResponse(p.Id, p.Name, p.Currency, p.PriceMonthlyCents, p.PriceYearlyCents, p.Limits, p.Features.Order().ToList(), p.TrialDays, p.TrialLimits) { Prices = p.Prices }).ToList(),
        null));

    private static async Task<Ok<EntitlementsResponse>> GetEntitlementsAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(EntitlementsResponse.From(await request.Send(new GetEntitlements(request.Caller, request.TenantId))));
}
