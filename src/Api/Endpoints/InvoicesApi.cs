using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Engines.Billing;
using Platform.Models.Billing;

namespace Platform.Api.Endpoints;

/// <summary>Maps a tenant's invoices (admin) and the operator billing routes: close a month, mark an offline invoice paid.</summary>
public static class InvoicesApi
{
    public static IEndpointRouteBuilder MapInvoicesApi(this IEndpointRouteBuilder routes)
    {
        var invoices = routes.MapTenantGroup("/invoices").WithTags("Billing");
        invoices.MapGet("/", ListAsync);
        invoices.MapGet("/{invoice_id:guid}", GetAsync);

        var admin = routes.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(OperatorAuth.Policy);
        admin.MapPost("/billing/close", CloseAsync);
        admin.MapPost("/tenants/{tenant_id:guid}/invoices/{invoice_id:guid}/mark-paid", MarkPaidAsync);
        return routes;
    }

    private static async Task<Ok<ListResponse<InvoiceResponse>>> ListAsync(
        HttpContext http, IMediator mediator, string? status, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListInvoices(http.ToCaller(), TenantRouteFilter.TenantId(http), status, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<InvoiceResponse>.From(page, InvoiceResponse.From));
    }

    private static async Task<Ok<InvoiceDetailResponse>> GetAsync(Guid invoice_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var detail = await mediator.Send(new GetInvoice(http.ToCaller(), TenantRouteFilter.TenantId(http), invoice_id), ct);
        return TypedResults.Ok(InvoiceDetailResponse.From(detail));
    }

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

/// <summary>Is the body of a billing close: the month, written yyyy-MM.</summary>
public sealed record CloseBillingPeriodRequest(string? Period);

/// <summary>Is the wire form of a close's summary; amounts in cents.</summary>
public sealed record BillingCloseResponse(
    string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, int InvoicesCreated, long CreatedTotalCents,
    long SkippedAlreadyInvoiced, int NothingToBill, long PeriodInvoices, long PeriodTotalCents, double ElapsedSeconds)
{
    public static BillingCloseResponse From(BillingCloseSummary s) => new(
        s.Period, s.PeriodStart, s.PeriodEnd, s.InvoicesCreated, s.CreatedTotalCents, s.SkippedAlreadyInvoiced, s.NothingToBill,
        s.PeriodInvoices, s.PeriodTotalCents, Math.Round(s.Elapsed.TotalSeconds, 3));
}

/// <summary>Is the wire form of an invoice; amounts in cents, due_date a UTC date.</summary>
public sealed record InvoiceResponse(
    Guid Id, long Number, string Kind, string Status, string Currency, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    long SubtotalCents, long TotalCents, DateOnly? DueDate, DateTimeOffset? IssuedAt, DateTimeOffset? PaidAt,
    string? StripeInvoiceId, string? StripePaymentIntentId, DateTimeOffset CreatedAt)
{
    public static InvoiceResponse From(InvoiceSnapshot i) => new(
        i.Id, i.Number, i.Kind, i.Status, i.Currency, i.PeriodStart, i.PeriodEnd, i.SubtotalCents, i.TotalCents, i.DueDate, i.IssuedAt,
        i.PaidAt, i.StripeInvoiceId, i.StripePaymentIntentId, i.CreatedAt);
}

/// <summary>Is the wire form of one stored invoice line: amount_cents = round(quantity × unit_price_cents ÷ divisor).</summary>
public sealed record StoredInvoiceLineResponse(
    int LineNo, string Kind, string? Meter, string Description, decimal Quantity, decimal UnitPriceCents, int Divisor, long AmountCents)
{
    public static StoredInvoiceLineResponse From(InvoiceLineSnapshot l) =>
        new(l.LineNo, l.Kind, l.Meter, l.Description, l.Quantity, l.UnitPriceCents, l.Divisor, l.AmountCents);
}

/// <summary>Is the wire form of an invoice with its lines.</summary>
public sealed record InvoiceDetailResponse(
    Guid Id, long Number, string Kind, string Status, string Currency, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    long SubtotalCents, long TotalCents, DateOnly? DueDate, DateTimeOffset? IssuedAt, DateTimeOffset? PaidAt,
    string? StripeInvoiceId, string? StripePaymentIntentId, DateTimeOffset CreatedAt, IReadOnlyList<StoredInvoiceLineResponse> Lines)
{
    public static InvoiceDetailResponse From(InvoiceDetail d)
    {
        var i = d.Invoice;
        return new(i.Id, i.Number, i.Kind, i.Status, i.Currency, i.PeriodStart, i.PeriodEnd, i.SubtotalCents, i.TotalCents, i.DueDate,
            i.IssuedAt, i.PaidAt, i.StripeInvoiceId, i.StripePaymentIntentId, i.CreatedAt, d.Lines.Select(StoredInvoiceLineResponse.From).ToList());
    }
}
