using System.ComponentModel.DataAnnotations;
using System.Globalization;
using MediatR;
using Microsoft.Extensions.Options;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;
using Platform.Drivers.Billing;
using Platform.Engines.Branding;
using Platform.Models.Branding;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Holds what an invoice document says about the seller, and where its fonts are (section Invoices).</summary>
public sealed class InvoiceDocumentOptions
{
    /// <summary>Gets or sets the seller's name on every invoice (Invoices:SellerName).</summary>
    [Required]
    [StringLength(200, MinimumLength = 1)]
    public string SellerName { get; set; } = "Platform";

    /// <summary>Gets or sets the seller's postal address, lines separated by '\n' or '|' (Invoices:SellerAddress).</summary>
    [StringLength(1000)]
    public string SellerAddress { get; set; } = "";

    /// <summary>Gets or sets the seller's billing contact (Invoices:SellerEmail).</summary>
    [StringLength(254)]
    public string SellerEmail { get; set; } = "";

    /// <summary>Gets or sets the seller's tax or VAT number, printed when set (Invoices:SellerTaxId).</summary>
    [StringLength(100)]
    public string SellerTaxId { get; set; } = "";

    /// <summary>Gets or sets the folder of the DejaVu Sans TrueType files (Invoices:FontDirectory; Debian's fonts-dejavu-core).</summary>
    [Required]
    public string FontDirectory { get; set; } = "/usr/share/fonts/truetype/dejavu";

    /// <summary>Gets or sets how many days before an offline invoice's due date its reminder is emailed; 0 sends none (Invoices:ReminderDaysBeforeDue).</summary>
    [Range(0, 365)]
    public int ReminderDaysBeforeDue { get; set; } = 3;

    /// <summary>Gets or sets how many days after an unpaid offline invoice's due date its overdue reminder is emailed; 0 sends none (Invoices:ReminderDaysAfterDue).</summary>
    [Range(0, 365)]
    public int ReminderDaysAfterDue { get; set; } = 3;

    /// <summary>Gets or sets how many days back an issue, payment or reminder day may lie and still be emailed, so nothing long past is mailed (Invoices:NotificationWindowDays).</summary>
    [Range(1, 365)]
    public int NotificationWindowDays { get; set; } = 7;
}

/// <summary>Renders an invoice as PDF (admin or higher): seller and buyer, number, dates, every line, subtotal, credits applied, total,
/// currency and payment status. The same invoice in the same state gives the same bytes (ADR 0601).</summary>
public sealed record GetInvoicePdf(Caller Caller, Guid TenantId, Guid InvoiceId) : IRequest<InvoicePdf>, ITenantRead, ICallerCommand;

/// <summary>Holds a rendered invoice document and the file name it is served under.</summary>
public sealed record InvoicePdf(string FileName, byte[] Content);

internal sealed class GetInvoicePdfHandler(TenantGate gate, IInvoiceDriver invoices, IBillingDriver billing, TenantBrandingLookup brandingLookup, IOptions<InvoiceDocumentOptions> options)
    : IRequestHandler<GetInvoicePdf, InvoicePdf>
{
    public async Task<InvoicePdf> Handle(GetInvoicePdf query, CancellationToken cancellationToken)
    {
        InvoiceDetail detail;
        TenantSnapshot tenant;
        TenantBranding? branding;
        BillingProfile? profile;
        await using (var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken))
        {
            var invoice = await invoices.FetchInvoiceAsync(scope.Session, query.TenantId, query.InvoiceId, cancellationToken)
                ?? throw new NotFoundException("invoice");
            if (invoice.Status == InvoiceStatus.Draft)
            {
                throw new ConflictException("A draft invoice has no document yet; it gets one when it is issued.", "invoice_not_issued");
            }
            detail = new InvoiceDetail(invoice, await invoices.ListLinesAsync(scope.Session, query.TenantId, query.InvoiceId, cancellationToken));
            // The branding the tenant may use now (its plan's feature), and the buyer's name and address the portal gave Stripe (ADR 0721).
            var (found, effective) = await brandingLookup.EffectiveAsync(scope.Session, query.TenantId, cancellationToken);
            tenant = found ?? throw new NotFoundException("tenant");
            branding = effective;
            profile = await billing.FetchBillingProfileAsync(scope.Session, query.TenantId, cancellationToken);
        }
        var content = InvoicePdfRenderer.Render(detail, tenant, options.Value, branding, profile);
        return new InvoicePdf($"invoice-{detail.Invoice.Number.ToString(CultureInfo.InvariantCulture)}.pdf", content);
    }
}

/// <summary>Draws an invoice on A4 pages with PDFsharp: the header blocks, a table of lines that continues on further pages, and the totals.</summary>
internal static class InvoicePdfRenderer
{
    private const double Margin = 50;
    private static readonly CultureInfo Money = CultureInfo.InvariantCulture;
    private static readonly Lock FontLock = new();

    public static byte[] Render(InvoiceDetail detail, TenantSnapshot buyer, InvoiceDocumentOptions seller, TenantBranding? branding = null, BillingProfile? profile = null)
    {
        EnsureFonts(seller.FontDirectory);
        var invoice = detail.Invoice;
        using var document = new PdfDocument();
        // Determinism: the dates and the file identifier come from the invoice, never from the clock or a random GUID.
        var issued = (invoice.IssuedAt ?? invoice.CreatedAt).UtcDateTime;
        document.Info.CreationDate = issued;
        document.Info.ModificationDate = issued;
        document.Info.Title = $"Invoice {invoice.Number}";
        document.Info.Author = seller.SellerName;
        var id = System.Text.Encoding.Latin1.GetString(invoice.Id.ToByteArray());
        document.Internals.FirstDocumentID = id;
        document.Internals.SecondDocumentID = id;

        var regular = new XFont(DejaVuFonts.Family, 9.5, XFontStyleEx.Regular);
        var bold = new XFont(DejaVuFonts.Family, 9.5, XFontStyleEx.Bold);
        var title = new XFont(DejaVuFonts.Family, 20, XFontStyleEx.Bold);
        var currency = invoice.Currency.ToUpperInvariant();

        var page = document.AddPage();
        page.Size = PdfSharp.PageSize.A4;
        var gfx = XGraphics.FromPdfPage(page);
        var width = page.Width.Point;
        var y = Margin;

        // The tenant's branding, where its plan gives it: the title in its primary colour and its product name under it, and the logo image
        // Platform keeps (ADR 0779) at the top right. The logo URL is never fetched: a document must render the same bytes offline (ADR 0723).
        var accent = branding?.PrimaryColor is { Length: 7 } hex
            ? new XSolidBrush(XColor.FromArgb(Convert.ToInt32(hex[1..3], 16), Convert.ToInt32(hex[3..5], 16), Convert.ToInt32(hex[5..7], 16)))
            : XBrushes.Black;
        gfx.DrawString("INVOICE", title, accent, new XPoint(Margin, y + 16));
        if (branding?.ProductName is { Length: > 0 } product)
        {
            gfx.DrawString(product, bold, accent, new XPoint(Margin, y + 32));
            y += 14;
        }
        if (branding?.LogoPng is { } png)
        {
            // Scaled to 36 points high (at most 160 wide), left of the status; the image's bytes alone decide what is embedded.
            using var logo = XImage.FromStream(new MemoryStream(png, writable: false));
            var scale = Math.Min(36 / logo.PointHeight, 160 / logo.PointWidth);
            gfx.DrawImage(logo, width / 2 - logo.PointWidth * scale / 2, Margin - 4, logo.PointWidth * scale, logo.PointHeight * scale);
        }
        var status = invoice.Status.ToWire().ToUpperInvariant();
        gfx.DrawString(status, bold, invoice.Status == InvoiceStatus.Paid ? XBrushes.DarkGreen : XBrushes.DarkRed, new XPoint(width - Margin, y + 16), XStringFormats.BaseLineRight);
        y += 40;

        // Seller (left) and the invoice's figures (right).
        var left = new List<string> { seller.SellerName };
        left.AddRange(seller.SellerAddress.Split(['\n', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (seller.SellerEmail.Length > 0)
        {
            left.Add(seller.SellerEmail);
        }
        if (seller.SellerTaxId.Length > 0)
        {
            left.Add($"Tax ID: {seller.SellerTaxId}");
        }
        var right = new List<(string, string)>
        {
            ("Invoice number", invoice.Number.ToString(Money)),
            ("Issued", Date(invoice.IssuedAt ?? invoice.CreatedAt)),
            ("Period", $"{Date(invoice.PeriodStart)} to {Date(invoice.PeriodEnd.AddDays(-1))}"),
            ("Due", invoice.DueDate is { } due ? due.ToString("yyyy-MM-dd", Money) : "on receipt"),
            ("Currency", currency),
        };
        if (invoice.PaidAt is { } paidAt)
        {
            right.Add(("Paid", Date(paidAt)));
        }
        var blockTop = y;
        gfx.DrawString("From", bold, XBrushes.Gray, new XPoint(Margin, y));
        y += 13;
        foreach (var line in left)
        {
            gfx.DrawString(line, regular, XBrushes.Black, new XPoint(Margin, y));
            y += 12;
        }
        var ry = blockTop;
        foreach (var (label, value) in right)
        {
            gfx.DrawString(label, bold, XBrushes.Gray, new XPoint(width / 2 + 40, ry));
            gfx.DrawString(value, regular, XBrushes.Black, new XPoint(width - Margin, ry), XStringFormats.BaseLineRight);
            ry += 13;
        }
        y = Math.Max(y, ry) + 12;

        gfx.DrawString("Bill to", bold, XBrushes.Gray, new XPoint(Margin, y));
        y += 13;
        var buyerLines = new List<string> { profile?.Name is { Length: > 0 } billedName ? billedName : buyer.Name };
        if (profile?.Name is { Length: > 0 } && profile.Name != buyer.Name)
        {
            buyerLines.Add(buyer.Name);
        }
        buyerLines.AddRange(profile?.Address?.Lines() ?? []);
        foreach (var line in buyerLines)
        {
            gfx.DrawString(line, regular, XBrushes.Black, new XPoint(Margin, y));
            y += 12;
        }
        if (buyer.BillingEmail is { Length: > 0 } email)
        {
            gfx.DrawString(email, regular, XBrushes.Black, new XPoint(Margin, y));
            y += 12;
        }
        gfx.DrawString($"Account: {buyer.Slug}", regular, XBrushes.Black, new XPoint(Margin, y));
        y += 24;

        // The lines: description, quantity, unit price, amount; a page break repeats the header.
        var columns = new[] { Margin, width - Margin - 260, width - Margin - 140, width - Margin };
        void Header()
        {
            gfx.DrawString("Description", bold, XBrushes.Black, new XPoint(columns[0], y));
            gfx.DrawString("Quantity", bold, XBrushes.Black, new XPoint(columns[1] + 70, y), XStringFormats.BaseLineRight);
            gfx.DrawString("Unit price", bold, XBrushes.Black, new XPoint(columns[2] + 70, y), XStringFormats.BaseLineRight);
            gfx.DrawString("Amount", bold, XBrushes.Black, new XPoint(columns[3], y), XStringFormats.BaseLineRight);
            y += 5;
            gfx.DrawLine(XPens.Gray, Margin, y, width - Margin, y);
            y += 13;
        }
        Header();
        foreach (var line in detail.Lines.OrderBy(l => l.LineNo))
        {
            if (y > page.Height.Point - Margin - 80)
            {
                gfx.Dispose();
                page = document.AddPage();
                page.Size = PdfSharp.PageSize.A4;
                gfx = XGraphics.FromPdfPage(page);
                y = Margin;
                Header();
            }
            var description = line.Description.Length > 60 ? line.Description[..57] + "..." : line.Description;
            gfx.DrawString(description, regular, XBrushes.Black, new XPoint(columns[0], y));
            gfx.DrawString(Quantity(line), regular, XBrushes.Black, new XPoint(columns[1] + 70, y), XStringFormats.BaseLineRight);
            gfx.DrawString(UnitPrice(line, currency), regular, XBrushes.Black, new XPoint(columns[2] + 70, y), XStringFormats.BaseLineRight);
            gfx.DrawString(Amount(line.AmountCents, currency), regular, XBrushes.Black, new XPoint(columns[3], y), XStringFormats.BaseLineRight);
            y += 14;
        }
        gfx.DrawLine(XPens.Gray, Margin, y - 8, width - Margin, y - 8);
        y += 6;

        var credits = invoice.SubtotalCents - invoice.TotalCents;
        var totals = new List<(string, string, XFont)> { ("Subtotal", Amount(invoice.SubtotalCents, currency), regular) };
        if (credits != 0)
        {
            totals.Add(("Credits applied", Amount(-credits, currency), regular));
        }
        totals.Add(("Total", Amount(invoice.TotalCents, currency), bold));
        totals.Add((invoice.Status == InvoiceStatus.Paid ? "Amount due" : "Amount due", Amount(invoice.Status == InvoiceStatus.Paid ? 0 : invoice.TotalCents, currency), bold));
        foreach (var (label, value, font) in totals)
        {
            gfx.DrawString(label, font, XBrushes.Black, new XPoint(columns[2] - 40, y));
            gfx.DrawString(value, font, XBrushes.Black, new XPoint(columns[3], y), XStringFormats.BaseLineRight);
            y += 14;
        }
        y += 16;
        var payment = invoice.Status switch
        {
            InvoiceStatus.Paid => "Payment status: paid. Thank you.",
            InvoiceStatus.Open when invoice.StripeInvoiceId is not null => "Payment status: open; collected by card through Stripe.",
            InvoiceStatus.Open => "Payment status: open; pay by bank transfer quoting the invoice number.",
            InvoiceStatus.Void => "Payment status: void; nothing is owed.",
            _ => $"Payment status: {invoice.Status.ToWire()}.",
        };
        gfx.DrawString(payment, regular, XBrushes.Black, new XPoint(Margin, y));
        gfx.Dispose();

        using var stream = new MemoryStream();
        document.Save(stream, false);
        return Reproducible(stream.ToArray(), invoice.Id);
    }

    private static readonly System.Text.RegularExpressions.Regex RandomParts = new(
        "(?<=/(?:BaseFont|FontName)/)[A-Z]{6}(?=\\+)|(?<=<xmpMM:(?:DocumentID|InstanceID)>uuid:)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Replaces the parts PDFsharp draws at random on every save (the six-letter font subset tags and the XMP document and instance
    /// ids) by values derived from the invoice id, each of the same length, so the cross-reference offsets stay right and the same invoice
    /// always gives the same bytes.</summary>
    internal static byte[] Reproducible(byte[] pdf, Guid invoiceId)
    {
        var text = System.Text.Encoding.Latin1.GetString(pdf);
        var replacements = new Dictionary<string, string>(StringComparer.Ordinal);
        var patched = RandomParts.Replace(text, match =>
        {
            if (!replacements.TryGetValue(match.Value, out var replacement))
            {
                var hash = System.Security.Cryptography.SHA256.HashData(
                    System.Text.Encoding.UTF8.GetBytes($"{invoiceId:N}/{match.Value.Length}/{replacements.Count}"));
                replacement = match.Value.Length == 6
                    ? new string(hash.Take(6).Select(b => (char)('A' + (b % 26))).ToArray())
                    : new Guid(hash.AsSpan(0, 16)).ToString("D");
                replacements[match.Value] = replacement;
            }
            return replacement;
        });
        return System.Text.Encoding.Latin1.GetBytes(patched);
    }

    /// <summary>Formats cents as the currency's major unit with two decimals and thousands separators, such as "USD 1,234.50".</summary>
    public static string Amount(long cents, string currency) =>
        $"{(cents < 0 ? "-" : "")}{currency} {(Math.Abs(cents) / 100m).ToString("#,##0.00", Money)}";

    private static string Quantity(InvoiceLineSnapshot line) =>
        (line.Quantity / (line.Divisor == 0 ? 1 : line.Divisor)).ToString("#,##0.####", Money);

    private static string UnitPrice(InvoiceLineSnapshot line, string currency) =>
        $"{currency} {(line.UnitPriceCents / 100m).ToString("#,##0.00##", Money)}";

    private static string Date(DateTimeOffset moment) => moment.UtcDateTime.ToString("yyyy-MM-dd", Money);

    private static void EnsureFonts(string directory)
    {
        lock (FontLock)
        {
            if (GlobalFontSettings.FontResolver is DejaVuFonts)
            {
                return;
            }
            GlobalFontSettings.FontResolver = new DejaVuFonts(directory);
        }
    }
}

/// <summary>Resolves every face PDFsharp asks for to DejaVu Sans (regular or bold) read from the given folder: PDFsharp finds no system
/// fonts by itself off Windows, and one fixed family keeps the documents the same on every machine.</summary>
internal sealed class DejaVuFonts(string directory) : IFontResolver
{
    public const string Family = "DejaVu Sans";

    public FontResolverInfo ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        new(isBold ? "DejaVuSans-Bold" : "DejaVuSans");

    public byte[] GetFont(string faceName)
    {
        var path = Path.Combine(directory, faceName + ".ttf");
        return File.Exists(path)
            ? File.ReadAllBytes(path)
            : throw new InvalidOperationException($"The invoice font {path} is missing: install Debian's fonts-dejavu-core or set Invoices__FontDirectory.");
    }
}
