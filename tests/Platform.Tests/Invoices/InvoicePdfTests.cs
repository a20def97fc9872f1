using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Reads the invoice PDF back with pdftotext (poppler-utils) and checks every figure against the invoice the API returns (issue 15, ADR 0601).</summary>
public sealed class InvoicePdfTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task The_pdf_shows_seller_buyer_number_dates_every_line_and_the_totals_and_changes_when_the_invoice_is_paid()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_email = 'accounts@buyer.test' WHERE id = @t", tenant, ("t", tenant));
        await PutUsageAsync(tenant, October, "api_calls", 23_456);
        await PutUsageAsync(tenant, October, "gpu_hours", 9);
        await PutUsageAsync(tenant, October, "storage_gb", 12);
        var (_, op) = await OperatorTestSupport.SignedInAsync("billing");
        using (var close = await op.PostAsJsonAsync("/v1/admin/billing/close", new { period = "2026-10" }))
        {
            await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        }
        var client = TestApi.Client(owner.Token);
        var list = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices"));
        var invoiceId = (string)list["data"]![0]!["id"]!;
        var detail = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}"));
        var tenantName = (string)(await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}")))["name"]!;

        using var response = await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = await PdfTextAsync(bytes);
        var lines = detail["lines"]!.AsArray();
        Assert.That(lines, Has.Count.EqualTo(3), "API calls, storage and GPU hours over the free plan's quotas");
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/pdf"));
            Assert.That(response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), Is.EqualTo($"invoice-{(long)detail["number"]!}.pdf"));
            Assert.That(bytes.AsSpan(0, 5).ToArray(), Is.EqualTo("%PDF-"u8.ToArray()));
            Assert.That(text, Does.Contain("INVOICE").And.Contain("OPEN"));
            Assert.That(text, Does.Contain("Platform"), "the seller's name from Invoices:SellerName");
            Assert.That(text, Does.Contain(tenantName).And.Contain("accounts@buyer.test"), "the buyer block");
            Assert.That(Value(text, "Invoice number"), Is.EqualTo(((long)detail["number"]!).ToString(CultureInfo.InvariantCulture)));
            Assert.That(Value(text, "Period"), Is.EqualTo("2026-10-01 to 2026-10-31"));
            Assert.That(Value(text, "Due"), Is.EqualTo((string)detail["due_date"]!));
            Assert.That(Value(text, "Currency"), Is.EqualTo("USD"));
            foreach (var line in lines)
            {
                var row = text.Split('\n').SingleOrDefault(l => l.Contains((string)line!["description"]!, StringComparison.Ordinal));
                Assert.That(row, Is.Not.Null, $"no row for {line!["description"]}");
                var quantity = (decimal)line!["quantity"]! / (int)line["divisor"]!;
                Assert.That(row, Does.Contain(quantity.ToString("#,##0.####", CultureInfo.InvariantCulture)));
                Assert.That(row, Does.Contain("USD " + ((decimal)line["unit_price_cents"]! / 100m).ToString("#,##0.00##", CultureInfo.InvariantCulture)));
                Assert.That(row!.TrimEnd(), Does.EndWith(Money((long)line["amount_cents"]!)));
            }
            Assert.That(Value(text, "Subtotal"), Is.EqualTo(Money((long)detail["subtotal_cents"]!)));
            Assert.That(Value(text, "Total"), Is.EqualTo(Money((long)detail["total_cents"]!)));
            Assert.That(Value(text, "Amount due"), Is.EqualTo(Money((long)detail["total_cents"]!)));
            Assert.That((long)detail["total_cents"]!, Is.EqualTo(lines.Sum(l => (long)l!["amount_cents"]!)));
        });

        // Deterministic: the same invoice in the same state gives the same bytes and the same ETag.
        using (var again = await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf"))
        {
            var second = await again.Content.ReadAsByteArrayAsync();
            Assert.That(second, Is.EqualTo(bytes));
            Assert.That(again.Headers.ETag, Is.EqualTo(response.Headers.ETag));
        }

        using (var paid = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoiceId}/mark-paid", new { reason_code = "bank_transfer" }))
        {
            await TestApi.ExpectAsync(paid, HttpStatusCode.Created);
        }
        using var afterPayment = await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf");
        var paidText = await PdfTextAsync(await afterPayment.Content.ReadAsByteArrayAsync());
        Assert.Multiple(() =>
        {
            Assert.That(afterPayment.Headers.ETag, Is.Not.EqualTo(response.Headers.ETag));
            Assert.That(paidText, Does.Contain("PAID").And.Contain("Payment status: paid"));
            Assert.That(Value(paidText, "Amount due"), Is.EqualTo(Money(0)));
            Assert.That(Value(paidText, "Total"), Is.EqualTo(Money((long)detail["total_cents"]!)));
        });
    }

    [Test]
    public async Task Another_tenants_invoice_is_404_a_viewer_is_403_and_an_unknown_invoice_is_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await PutUsageAsync(tenant, October, "api_calls", 20_000);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        var invoiceId = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant));

        var stranger = await TestApi.SignUpAsync();
        var strangerTenant = await TestApi.CreateTenantAsync(stranger);
        using (var other = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{strangerTenant}/invoices/{invoiceId}/pdf"))
        {
            await TestApi.ExpectProblemAsync(other, HttpStatusCode.NotFound, "not_found");
        }
        using (var notMember = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf"))
        {
            await TestApi.ExpectProblemAsync(notMember, HttpStatusCode.NotFound, "not_found");
        }
        using (var unknown = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/invoices/{Guid.NewGuid()}/pdf"))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
        var viewer = await TestApi.SignUpAsync();
        await OwnerSql.ScalarAsync<object>("INSERT INTO memberships (tenant_id, user_id, role) VALUES (@t, @u, 'viewer')", tenant, ("t", tenant), ("u", viewer.Id));
        using (var forbidden = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf"))
        {
            await TestApi.ExpectProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }
    }

    private static string Money(long cents) =>
        (cents < 0 ? "-" : "") + "USD " + (Math.Abs(cents) / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture);

    /// <summary>Reads the value printed right of a label on the same line of the -layout text.</summary>
    private static string? Value(string text, string label) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(label + " ", StringComparison.Ordinal) || l.Contains("  " + label + " ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(label, StringComparison.Ordinal) + label.Length)..].Trim())
            .FirstOrDefault();

    private static async Task<string> PdfTextAsync(byte[] pdf)
    {
        var path = Path.Combine(Path.GetTempPath(), $"invoice-{Guid.NewGuid():N}.pdf");
        await File.WriteAllBytesAsync(path, pdf);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pdftotext", ["-layout", "-enc", "UTF-8", path, "-"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.That(process.ExitCode, Is.Zero, await process.StandardError.ReadToEndAsync());
            return output;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
