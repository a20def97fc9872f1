using Platform.Engines.Billing;
using Platform.Models.Billing;

namespace Platform.Api.Invoices;

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
    Guid Id, long Number, string Kind, InvoiceStatus Status, string Currency, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
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
    Guid Id, long Number, string Kind, InvoiceStatus Status, string Currency, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
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
