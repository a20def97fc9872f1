using System.Diagnostics;
using System.Globalization;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Platform.Engines.Billing;
using Platform.Engines.Email;
using Platform.Tests.Email;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Proves the invoice emails (ADR 0651): the issued invoice, the reminders before and after the due date and the receipt each reach the
/// billing email once under several job copies, through the outbox and a real SMTP server, with the invoice PDF attached (its text read back with pdftotext).</summary>
public sealed class InvoiceNotificationTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task The_billing_email_gets_the_invoice_with_its_pdf_then_two_reminders_and_the_receipt_each_once()
    {
        await using var smtp = new SmtpTestServer();
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var quiet = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync(), plan: "free");
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_email = 'accounts@buyer.test' WHERE id = @t", tenant, ("t", tenant));
        foreach (var t in new[] { tenant, quiet })
        {
            await PutUsageAsync(t, October, "api_calls", 23_456);
            await PutUsageAsync(t, October, "gpu_hours", 9);
        }
        var issuedAt = Utc(2026, 11, 2, 1);
        await CloseAsync("2026-10", issuedAt);
        var invoice = (await InvoiceAsync(tenant, October))!.Value;
        var dueDate = (await OwnerSql.ScalarAsync<DateOnly>("SELECT due_date FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant))).ToDateTime(TimeOnly.MinValue);
        var clock = new ManualClock(issuedAt.AddHours(1));
        await using var engines = TestEngines.Build(smtp.EmailSettings(), clock);

        // The dispatcher runs after each step, as the email job would within seconds: the PDF is rendered when the email is sent.
        var issued = await RunCopiesAsync(engines);
        var issuedAgain = await RunCopiesAsync(engines);
        await SendAsync(engines, new DispatchEmails());
        clock.UtcNow = new DateTimeOffset(dueDate.AddDays(-3).AddHours(8), TimeSpan.Zero);
        var before = await RunCopiesAsync(engines);
        await SendAsync(engines, new DispatchEmails());
        clock.UtcNow = new DateTimeOffset(dueDate.AddDays(3).AddHours(8), TimeSpan.Zero);
        var after = await RunCopiesAsync(engines);
        await SendAsync(engines, new DispatchEmails());
        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET status = 'paid', paid_at = @at WHERE tenant_id = @t", tenant, ("t", tenant), ("at", clock.UtcNow.AddMinutes(-5)));
        var receipt = await RunCopiesAsync(engines);
        var receiptAgain = await RunCopiesAsync(engines);
        await SendAsync(engines, new DispatchEmails());
        // The dispatch sends synchronously; other queued emails of the test (sign-ups) may go out with these, so the billing address's are picked.
        var messages = (await smtp.WaitForMessagesAsync(4, TimeSpan.FromSeconds(20)))
            .Where(m => m.To.Mailboxes.Any(a => a.Address == "accounts@buyer.test")).ToList();

        Assert.Multiple(() =>
        {
            Assert.That((issued, issuedAgain, before, after, receipt, receiptAgain), Is.EqualTo((1, 0, 1, 1, 1, 0)), "the tenant without a billing email gets none");
            Assert.That(messages, Has.Count.EqualTo(4));
            Assert.That(messages.Select(m => m.Subject), Is.EquivalentTo(new[]
            {
                $"Invoice {invoice.Number} for {Name(messages)}: {Money(invoice.Total)}",
                $"Invoice {invoice.Number} for {Name(messages)} is due on {dueDate:yyyy-MM-dd}",
                $"Invoice {invoice.Number} for {Name(messages)} is overdue",
                $"Receipt for invoice {invoice.Number} of {Name(messages)}",
            }));
        });
        foreach (var message in messages)
        {
            var pdf = message.Attachments.OfType<MimePart>().Single();
            using var bytes = new MemoryStream();
            await pdf.Content!.DecodeToAsync(bytes);
            var text = await PdfTextAsync(bytes.ToArray());
            var paid = message.Subject!.StartsWith("Receipt", StringComparison.Ordinal);
            Assert.Multiple(() =>
            {
                Assert.That(message.TextBody, Does.Contain(invoice.Number.ToString(CultureInfo.InvariantCulture)));
                Assert.That(message.HtmlBody, Does.Contain("<a href="));
                Assert.That(pdf.ContentType.MimeType, Is.EqualTo("application/pdf"));
                Assert.That(pdf.FileName, Is.EqualTo($"invoice-{invoice.Number}.pdf"));
                Assert.That(text, Does.Contain("Invoice number").And.Contain(invoice.Number.ToString(CultureInfo.InvariantCulture)));
                Assert.That(text, Does.Contain("USD " + (invoice.Total / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture)));
                Assert.That(text, Does.Contain(paid ? "PAID" : "OPEN"));
            });
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invoice_notifications", quiet), Is.Zero);
    }

    private static string Name(IReadOnlyList<MimeMessage> messages) =>
        messages.Select(m => m.Subject ?? "").First(s => s.StartsWith("Receipt", StringComparison.Ordinal)).Split(" of ", 2)[1];

    private static string Money(long cents) => string.Create(CultureInfo.InvariantCulture, $"{cents / 100}.{cents % 100:00} USD");

    private static async Task<int> RunCopiesAsync(IServiceProvider engines) =>
        (await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SendAsync(engines, new SendInvoiceNotifications())))).Sum();

    private static async Task<T> SendAsync<T>(IServiceProvider engines, IRequest<T> request)
    {
        using var scope = engines.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    private static async Task<string> PdfTextAsync(byte[] pdf)
    {
        var path = Path.Combine(Path.GetTempPath(), $"invoice-mail-{Guid.NewGuid():N}.pdf");
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
