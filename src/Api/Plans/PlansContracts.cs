using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Models.Plans;

namespace Platform.Api.Endpoints;

/// <summary>Maps the plan catalogue.</summary>
public static class PlansApi
{
    public sealed record PlanResponse(string Id, string Name, string Currency, long PriceMonthlyCents, long PriceYearlyCents, PlanLimits Quotas, IReadOnlyList<string> Features, int TrialDays);

    public static IEndpointRouteBuilder MapPlansApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/plans", List).WithTags("Plans");
        return routes;
    }

    private static Ok<Contracts.ListResponse<PlanResponse>> List() => TypedResults.Ok(new Contracts.ListResponse<PlanResponse>(
        PlanCatalog.All.Select(p => new PlanResponse(p.Id, p.Name, p.Currency, p.PriceMonthlyCents, p.PriceYearlyCents, p.Limits, p.Features.Order().ToList(), p.TrialDays)).ToList(),
        null));
}
