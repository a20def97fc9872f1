using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
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

    [Test]
    public async Task A_EUR_invoice_shows_euros_the_tenant_s_branding_and_the_buyer_s_billing_name_and_address()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var tenantName = await OwnerSql.ScalarAsync<string>("SELECT name FROM tenants WHERE id = @t", tenant, ("t", tenant));
        await AtAsync(October, new Platform.Engines.Billing.SubscribeTenant(Platform.Models.Caller.System, tenant, "professional", "monthly", null, "eur"));
        await OwnerSql.ScalarAsync<object>(
            "INSERT INTO tenant_branding (tenant_id, product_name, primary_color, updated_by, updated_at) VALUES (@t, 'Acme Cloud', '#0055aa', 'test', now())",
            tenant, ("t", tenant));
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO billing_profiles (tenant_id, name, address_line1, postal_code, city, country, customer_synced_at, updated_at)
            VALUES (@t, 'Acme GmbH', 'Hauptstr. 1', '10115', 'Berlin', 'DE', now(), now())
            """, tenant, ("t", tenant));
        await CloseAsync("2026-10", Utc(2026, 11, 1, 1));

        var (text, detail) = await PdfOfOnlyInvoiceAsync(owner, tenant);

        Assert.Multiple(() =>
        {
            Assert.That((string?)detail["currency"], Is.EqualTo("eur"));
            Assert.That(Value(text, "Currency"), Is.EqualTo("EUR"));
            Assert.That(Row(text, "Professional plan"), Does.Contain("EUR 185.00"), "the plan's euro price as unit price and amount");
            Assert.That(Value(text, "Total"), Is.EqualTo("EUR 185.00"));
            Assert.That(text, Does.Not.Contain("USD"));
            Assert.That(text, Does.Contain("Acme Cloud"), "the product name of the tenant's branding");
            Assert.That(text, Does.Contain("Acme GmbH").And.Contain(tenantName!).And.Contain("Hauptstr. 1").And.Contain("10115 Berlin"), "the buyer block");
        });
    }

    [Test]
    public async Task The_tenant_s_logo_image_is_embedded_in_the_invoice_the_same_bytes_every_time_and_bad_images_are_422()
    {
        // A 1 x 1 PNG (RGBA): its pixels are embedded as one image (and its alpha as a soft mask).
        const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SubscribeAtAsync(October, tenant, "professional");
        await CloseAsync("2026-10", Utc(2026, 11, 1, 1));
        var client = TestApi.Client(owner.Token);
        var invoiceId = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant));
        async Task<byte[]> PdfAsync()
        {
            using var response = await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf");
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            return await response.Content.ReadAsByteArrayAsync();
        }

        var before = await PdfAsync();
        foreach (var bad in new[] { "not base64!", Convert.ToBase64String("GIF89a-not-a-png-at-all-000000000000"u8.ToArray()) })
        {
            using var refused = await client.PutAsJsonAsync($"/v1/tenants/{tenant}/branding", new { product_name = "Acme Cloud", logo_png = bad });
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That((await TestApi.ReadAsync(refused))["errors"]!["logo_png"], Is.Not.Null);
        }
        using (var saved = await client.PutAsJsonAsync($"/v1/tenants/{tenant}/branding", new { product_name = "Acme Cloud", logo_png = Png }))
        {
            await TestApi.ExpectAsync(saved, HttpStatusCode.OK);
            Assert.That((bool?)(await TestApi.ReadAsync(saved))["has_logo_png"], Is.True);
        }
        var first = await PdfAsync();
        var second = await PdfAsync();
        var text = await PdfTextAsync(first);
        using (var cleared = await client.PutAsJsonAsync($"/v1/tenants/{tenant}/branding", new { product_name = "Acme Cloud" }))
        {
            await TestApi.ExpectAsync(cleared, HttpStatusCode.OK);
            Assert.That((bool?)(await TestApi.ReadAsync(cleared))["has_logo_png"], Is.False);
        }
        var after = await PdfAsync();

        var images = await PdfImagesAsync(first);
        Assert.Multiple(async () =>
        {
            Assert.That(await PdfImagesAsync(before), Is.Empty, "no logo before one was uploaded");
            Assert.That(images.Where(i => i.Type == "image").Select(i => (i.Width, i.Height)), Is.EqualTo(new[] { (1, 1) }), "the logo, once");
            Assert.That(second, Is.EqualTo(first), "the same invoice and logo render the same bytes");
            Assert.That(text, Does.Contain("Acme Cloud"));
            Assert.That(Value(text, "Total"), Is.EqualTo("USD 199.00"), "the figures are still read back");
            Assert.That(await PdfImagesAsync(after), Is.Empty, "a branding without the image draws none");
        });
    }

    [Test]
    public async Task A_prorated_invoice_shows_the_days_in_force_and_the_prorated_amount()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SubscribeAtAsync(Utc(2026, 10, 11, 12), tenant, "starter");
        await CloseAsync("2026-10", Utc(2026, 11, 1, 1));

        var (text, detail) = await PdfOfOnlyInvoiceAsync(owner, tenant);

        var line = detail["lines"]!.AsArray().Single()!;
        var row = Row(text, (string)line["description"]!);
        Assert.Multiple(() =>
        {
            Assert.That((string?)line["kind"], Is.EqualTo("proration"));
            Assert.That((string?)line["description"], Is.EqualTo("Starter plan, 21 of 31 days"));
            Assert.That(row, Does.Contain("0.6774"), "21 of 31 days as the quantity");
            Assert.That(row, Does.Contain("USD 49.00"), "the monthly price as the unit price");
            Assert.That(row!.TrimEnd(), Does.EndWith("USD 33.19"), "4,900 × 21 ÷ 31 cents, rounded once");
            Assert.That(Value(text, "Total"), Is.EqualTo("USD 33.19"));
        });
    }

    [Test]
    public async Task Credits_applied_show_between_the_subtotal_and_the_total()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var id = Guid.CreateVersion7();
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO invoices (tenant_id, id, number, kind, status, currency, period_start, period_end, subtotal_cents, total_cents, due_date, issued_at, created_at, updated_at)
            VALUES (@t, @i, 800000000 + floor(random() * 99000000)::bigint, 'one_off', 'open', 'usd', '2026-10-01Z', '2026-11-01Z', 1000, 700, '2026-11-15',
                    '2026-11-01Z', '2026-11-01Z', '2026-11-01Z');
            INSERT INTO invoice_lines (tenant_id, invoice_id, line_no, kind, meter, description, quantity, unit_price_cents, divisor, amount_cents)
            VALUES (@t, @i, 1, 'overage', 'gpu_hours', 'GPU hours over the quota', 4, 250, 1, 1000);
            """, tenant, ("t", tenant), ("i", id));

        var (text, _) = await PdfOfOnlyInvoiceAsync(owner, tenant);

        Assert.Multiple(() =>
        {
            Assert.That(Value(text, "Subtotal"), Is.EqualTo("USD 10.00"));
            Assert.That(Value(text, "Credits applied"), Is.EqualTo("-USD 3.00"));
            Assert.That(Value(text, "Total"), Is.EqualTo("USD 7.00"));
            Assert.That(Value(text, "Amount due"), Is.EqualTo("USD 7.00"));
        });
    }

    [Test]
    public async Task An_online_invoice_carries_the_overages_only_and_says_Stripe_collects_it()
    {
        using var stripe = new Platform.Tests.Billing.FakeStripe();
        var online = new Dictionary<string, string?> { ["Stripe:SecretKey"] = "sk_test_fake", ["Stripe:ApiBase"] = stripe.BaseUrl };
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await using (var engines = TestEngines.Build(online, new ManualClock(Utc(2026, 9, 20))))
        {
            using var scope = engines.CreateScope();
            await scope.ServiceProvider.GetRequiredService<MediatR.IMediator>().Send(
                new Platform.Engines.Billing.SubscribeTenant(Platform.Models.Caller.System, tenant, "professional", "monthly", null));
        }
        await PutUsageAsync(tenant, October, "api_calls", 1_100_000);
        await using (var engines = TestEngines.Build(online, new ManualClock(Utc(2026, 11, 2))))
        {
            using var scope = engines.CreateScope();
            await scope.ServiceProvider.GetRequiredService<MediatR.IMediator>().Send(new Platform.Engines.Billing.CloseBillingPeriod(Platform.Models.Caller.System, "2026-10"));
        }

        var (text, detail) = await PdfOfOnlyInvoiceAsync(owner, tenant);

        Assert.Multiple(() =>
        {
            Assert.That(detail["lines"]!.AsArray().Select(l => (string?)l!["kind"]), Is.EqualTo(new[] { "overage" }), "Stripe's subscription bills the base");
            Assert.That(text, Does.Not.Contain("Professional plan"));
            Assert.That(Row(text, "API calls over the quota"), Does.Contain("100,000"));
            Assert.That(Value(text, "Total"), Is.EqualTo("USD 100.00"), "100,000 calls × 0.1 cent");
            Assert.That(text, Does.Contain("collected by card through Stripe"));
        });
    }

    /// <summary>Renders the tenant's only invoice through the API and returns its text (pdftotext -layout) and the invoice as the API answers it.</summary>
    private static async Task<(string Text, System.Text.Json.Nodes.JsonNode Detail)> PdfOfOnlyInvoiceAsync(TestUser owner, Guid tenant)
    {
        var client = TestApi.Client(owner.Token);
        var invoiceId = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant));
        var detail = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}"));
        using var response = await client.GetAsync($"/v1/tenants/{tenant}/invoices/{invoiceId}/pdf");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (await PdfTextAsync(await response.Content.ReadAsByteArrayAsync()), detail);
    }

    private static string? Row(string text, string description) =>
        text.Split('\n').SingleOrDefault(l => l.Contains(description, StringComparison.Ordinal));

    private static string Money(long cents) =>
        (cents < 0 ? "-" : "") + "USD " + (Math.Abs(cents) / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture);

    /// <summary>Reads the value printed right of a label on the same line of the -layout text.</summary>
    private static string? Value(string text, string label) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(label + " ", StringComparison.Ordinal) || l.Contains("  " + label + " ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(label, StringComparison.Ordinal) + label.Length)..].Trim())
            .FirstOrDefault();

    /// <summary>Lists the images of a PDF with pdfimages -list (poppler-utils): each one's type (image, smask, ...), width and height.</summary>
    private static async Task<IReadOnlyList<(string Type, int Width, int Height)>> PdfImagesAsync(byte[] pdf)
    {
        var path = Path.Combine(Path.GetTempPath(), $"invoice-{Guid.NewGuid():N}.pdf");
        await File.WriteAllBytesAsync(path, pdf);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pdfimages", ["-list", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.That(process.ExitCode, Is.Zero, await process.StandardError.ReadToEndAsync());
            // Two header lines (names, dashes), then page num type width height ...
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(c => (c[2], int.Parse(c[3], CultureInfo.InvariantCulture), int.Parse(c[4], CultureInfo.InvariantCulture)))
                .ToList();
        }
        finally
        {
            File.Delete(path);
        }
    }

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
