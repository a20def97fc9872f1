using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Tenants;
using Platform.Models.Tenants;

namespace Platform.Api.Tenants;

/// <summary>Maps the tenant routes: create, list, get, update and soft delete.</summary>
public sealed class TenantsApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var tenants = routes.MapGroup("/v1/tenants").WithTags("Tenants").RequireAuthorization()
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, ProblemResponses.Unauthenticated + " Also when the account no longer exists or is disabled, or an API key calls (only users may).")
            .Refuses(StatusCodes.Status429TooManyRequests, ProblemResponses.KeyThrottled);
        tenants.MapPost("/", CreateAsync).WithIdempotency()
            .WithName("createTenant")
            .WithSummary("Create a tenant owned by the signed-in user")
            .WithDescription("A signed-in user creates a tenant and becomes its owner; a paid plan starts with its trial when the user may have one " +
                "(self-serve plans only, one trial per user and plan family, or an operator's grant), with the trial's own limits. " +
                "`when_trial_unavailable` chooses what happens otherwise: `refuse` (default, 409), `free` (the free plan) or `paid` " +
                "(the plan, suspended until the first subscription). One user owns at most FairUse:MaxOwnedTenantsPerUser live tenants and creates " +
                "at most FairUse:TenantsPerUserPerDay per UTC day. API keys cannot create tenants.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status409Conflict, "`slug_taken`: another tenant has this slug; `trial_not_available`: the plan's trial is not available to this user " +
                "(`reason`: plan_not_self_serve or trial_already_used; `choices`: the other values of when_trial_unavailable); `tenant_limit_reached`: the user owns " +
                "the most tenants allowed (`limit`, `current`); `idempotency_key_in_flight`: a request with this Idempotency-Key is still running.");
        tenants.MapGet("/", ListAsync)
            .WithName("listTenants")
            .WithSummary("List the signed-in user's tenants, with their role in each");

        var tenant = routes.MapTenantGroup("").WithTags("Tenants");
        tenant.MapGet("/", GetAsync)
            .WithName("getTenant")
            .WithSummary("Get a tenant")
            .WithDescription("Any member (viewer or higher) may read the tenant; the answer carries the caller's role. API keys cannot call it.");
        tenant.MapPatch("/", UpdateAsync)
            .WithName("updateTenant")
            .WithSummary("Change a tenant's name, billing email, settings or onboarding state")
            .WithDescription("Needs the admin role or higher; refused while the tenant is suspended. Fields left out keep their value.")
            .RefusesBody();
        tenant.MapDelete("/", DeleteAsync)
            .WithName("deleteTenant")
            .WithSummary("Soft delete a tenant")
            .WithDescription("Needs the owner role. The tenant's data is purged after the retention period.");
    }

    private static async Task<Created<TenantResponse>> CreateAsync(CreateTenantRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var created = await mediator.Send(new CreateTenant(http.ToCaller(), body.Name ?? "", body.Slug ?? "", body.Plan, body.BillingEmail, body.WhenTrialUnavailable), ct);
        return TypedResults.Created($"/v1/tenants/{created.Tenant.Id}", TenantResponse.From(created));
    }

    private static async Task<Ok<ListResponse<TenantResponse>>> ListAsync(HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListMyTenants(http.ToCaller(), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<TenantResponse>.From(page, TenantResponse.From));
    }

    private static async Task<Ok<TenantResponse>> GetAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(TenantResponse.From(await request.Send(new GetTenant(request.Caller, request.TenantId))));

    private static async Task<Ok<TenantResponse>> UpdateAsync(UpdateTenantRequest body, [AsParameters] TenantRequest request)
    {
        var changes = new TenantChanges(body.Name, body.BillingEmail, body.Settings?.GetRawText(), body.OnboardingState);
        return TypedResults.Ok(TenantResponse.From(await request.Send(new UpdateTenant(request.Caller, request.TenantId, changes))));
    }

    private static async Task<Ok<TenantResponse>> DeleteAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(TenantResponse.From(await request.Send(new DeleteTenant(request.Caller, request.TenantId)), TenantRole.Owner));
}
