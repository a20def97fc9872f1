using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Operators;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Engines.Billing;

namespace Platform.Api.Invoices;

/// <summary>Maps a tenant's invoices (admin) and the operator billing routes: close a month, mark an offline invoice paid.</summary>
public sealed class InvoicesApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var invoices = routes.MapTenantGroup("/invoices").WithTags("Invoices");
        invoices.MapGet("/", ListAsync)
            .WithName("listInvoices")
            .WithSummary("List the tenant's invoices, newest first, optionally by status")
            .WithDescription("Needs the admin role or higher; API keys cannot.");
        invoices.MapGet("/{invoice_id:guid}", GetAsync)
            .WithName("getInvoice")
            .WithSummary("Get an invoice with its lines")
            .WithDescription("Needs the admin role or higher; API keys cannot.")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when the invoice is not this tenant's.");
        invoices.MapGet("/{invoice_id:guid}/pdf", GetPdfAsync)
            .WithName("getInvoicePdf")
            .WithSummary("Download an issued invoice as a PDF document")
            .WithDescription("Needs the admin role or higher; API keys cannot. Seller (from the Invoices settings) and buyer, number, dates, every line "
                + "with quantity, unit price and amount, subtotal, credits applied, total, currency and payment status. The same invoice in the same "
                + "state always gives the same bytes; the ETag changes when its status does.")
            .Produces(StatusCodes.Status200OK, contentType: "application/pdf")
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when the invoice is not this tenant's.")
            .Refuses(StatusCodes.Status409Conflict, "`invoice_not_issued`: a draft invoice has no document yet.");

        var admin = routes.MapOperatorGroup("/v1/admin", "Invoices");
        admin.MapPost("/billing/close", CloseAsync)
            .WithName("closeBillingPeriod")
            .WithSummary("Close a billing month: invoice every tenant not yet invoiced for it")
            .WithDescription("Needs the billing or super_admin operator role. Closing a month twice invoices nobody twice.")
            .RefusesBody();
        admin.MapPost("/tenants/{tenant_id:guid}/invoices/{invoice_id:guid}/mark-paid", MarkPaidAsync)
            .WithName("markInvoicePaid")
            .WithSummary("Mark an offline invoice paid, as a founder action")
            .WithDescription("Needs the billing or super_admin operator role; cannot be reversed. The body (a reason) is optional.")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no such invoice in this tenant.")
            .Refuses(StatusCodes.Status409Conflict, "`invoice_already_paid`: the invoice is paid; `invoice_not_payable`: its status cannot become paid; "
                + "`invoice_online`: Stripe collects it and marks it paid when the payment arrives.");
    }

    private static async Task<Ok<ListResponse<InvoiceResponse>>> ListAsync([AsParameters] TenantRequest request, string? status, string? cursor, int? limit)
    {
        var page = await request.Send(new ListInvoices(request.Caller, request.TenantId, status, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<InvoiceResponse>.From(page, InvoiceResponse.From));
    }

    private static async Task<IResult> GetPdfAsync(Guid invoice_id, [AsParameters] TenantRequest request)
    {
        var pdf = await request.Send(new GetInvoicePdf(request.Caller, request.TenantId, invoice_id));
        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue(
            "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(pdf.Content).AsSpan(0, 16)) + "\"");
        return TypedResults.File(pdf.Content, "application/pdf", pdf.FileName, entityTag: etag);
    }

    private static async Task<Ok<InvoiceDetailResponse>> GetAsync(Guid invoice_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(InvoiceDetailResponse.From(await request.Send(new GetInvoice(request.Caller, request.TenantId, invoice_id))));

    private static async Task<Ok<BillingCloseResponse>> CloseAsync(CloseBillingPeriodRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var summary = await mediator.Send(new CloseBillingPeriod(http.ToOperatorCaller(), body.Period), ct);
        return TypedResults.Ok(BillingCloseResponse.From(summary));
    }

    private static async Task<Created<FounderActionResponse>> MarkPaidAsync(
        Guid tenant_id, Guid invoice_id, FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.MarkInvoicePaid,
            MarkInvoicePaidTarget.Of(tenant_id, invoice_id), body?.ReasonCode ?? "payment_received", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }
}
