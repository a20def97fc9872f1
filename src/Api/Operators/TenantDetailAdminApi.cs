using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.ApiKeys;
using Platform.Api.Auth;
using Platform.Api.Billing;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Invoices;
using Platform.Api.Members;
using Platform.Api.Usage;
using Platform.Engines;
using Platform.Engines.ApiKeys;
using Platform.Engines.Billing;
using Platform.Engines.Members;
using Platform.Engines.Usage;
using Platform.Models;

namespace Platform.Api.Operators;

/// <summary>Maps the operator console's reads of one tenant (ADR 0745): its usage, billing summary, invoices, members and API keys. Each sends
/// the tenant feature's own query with the operator as caller: the tenant gate admits operators as owners inside a session scoped to
/// that tenant (row-level security on), the same way GET /v1/admin/tenants/{id} reads, so no second copy of these reads exists.</summary>
public sealed class TenantDetailAdminApi : IEndpointGroup
{
    private const string TenantNotFound = "`not_found`: no tenant has this id.";
    private const string AnyOperator = "Any operator (viewer or higher).";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin/tenants/{tenant_id:guid}", "Operators");
        admin.MapGet("/usage", UsageAsync)
            .WithName("getAdminTenantUsage")
            .WithSummary("Get a tenant's current period usage per meter, with quotas and reset times")
            .WithDescription(AnyOperator + " The same answer the tenant's admins get from GET /v1/tenants/{tenant_id}/usage.")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound);
        admin.MapGet("/billing", BillingAsync)
            .WithName("getAdminTenantBilling")
            .WithSummary("Get a tenant's billing summary: plan, subscription, credit balance, this month's estimate and recent invoices")
            .WithDescription(AnyOperator + " The same answer the tenant's admins get from GET /v1/tenants/{tenant_id}/billing.")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound);
        admin.MapGet("/invoices", InvoicesAsync)
            .WithName("listAdminTenantInvoices")
            .WithSummary("List a tenant's invoices, newest first, optionally by status, with cursor paging")
            .WithDescription(AnyOperator)
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound)
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the status, limit or cursor is not valid.");
        admin.MapGet("/members", MembersAsync)
            .WithName("listAdminTenantMembers")
            .WithSummary("List a tenant's members in user id order, with cursor paging")
            .WithDescription(AnyOperator)
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound)
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the limit or cursor is not valid.");
        admin.MapGet("/api-keys", ApiKeysAsync)
            .WithName("listAdminTenantApiKeys")
            .WithSummary("List a tenant's API keys in id order (never their secrets), with status and cursor paging")
            .WithDescription(AnyOperator + " Freeze or unfreeze one with POST /v1/admin/api-keys/{key_id}/freeze or /unfreeze.")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound)
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the limit or cursor is not valid.");
    }

    private static async Task<Ok<UsageSummaryResponse>> UsageAsync(Guid tenant_id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(UsageSummaryResponse.From(await mediator.Send(new GetUsageSummary(http.ToOperatorCaller(), tenant_id), ct)));

    private static async Task<Ok<BillingSummaryResponse>> BillingAsync(Guid tenant_id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(BillingSummaryResponse.From(await mediator.Send(new GetBillingSummary(http.ToOperatorCaller(), tenant_id), ct)));

    private static Task<Ok<ListResponse<InvoiceResponse>>> InvoicesAsync(
        Guid tenant_id, HttpContext http, IMediator mediator, string? status, string? cursor, int? limit, CancellationToken ct) =>
        PageAsync(mediator, new ListInvoices(http.ToOperatorCaller(), tenant_id, status, cursor, limit ?? Paging.DefaultLimit), InvoiceResponse.From, ct);

    private static Task<Ok<ListResponse<MemberResponse>>> MembersAsync(
        Guid tenant_id, HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct) =>
        PageAsync(mediator, new ListMembers(http.ToOperatorCaller(), tenant_id, cursor, limit ?? Paging.DefaultLimit), MemberResponse.From, ct);

    private static Task<Ok<ListResponse<ApiKeyResponse>>> ApiKeysAsync(
        Guid tenant_id, HttpContext http, IMediator mediator, IClock clock, string? cursor, int? limit, CancellationToken ct)
    {
        var now = clock.UtcNow;
        return PageAsync(mediator, new ListApiKeys(http.ToOperatorCaller(), tenant_id, cursor, limit ?? Paging.DefaultLimit), k => ApiKeyResponse.From(k, now), ct);
    }

    /// <summary>Sends a tenant feature's own paged list query (the operator as caller) and maps its page to the wire form.</summary>
    private static async Task<Ok<ListResponse<TResponse>>> PageAsync<TItem, TResponse>(
        IMediator mediator, IRequest<Page<TItem>> query, Func<TItem, TResponse> map, CancellationToken ct) =>
        TypedResults.Ok(ListResponse<TResponse>.From(await mediator.Send(query, ct), map));
}
