using System.Globalization;
using System.Net;
using Platform.Models.Email;

namespace Platform.Engines.Email;

/// <summary>Renders the platform's emails, each as plain text and HTML: invitation, trial ending, usage alert, payment failed and sign-up attempt.</summary>
public static class EmailTemplates
{
    public const string InvitationKind = "email.invitation";
    public const string TrialEndingKind = "email.trial_ending";
    public const string UsageAlertKind = "email.usage_alert";
    public const string PaymentFailedKind = "email.payment_failed";
    public const string SignUpAttemptKind = "email.signup_attempt";
    public const string WebhookEndpointDisabledKind = "email.webhook_endpoint_disabled";
    public const string VerifyEmailKind = "email.verify_email";
    public const string PasswordResetKind = "email.password_reset";
    public const string DomainVerificationLostKind = "email.domain_verification_lost";
    public const string InvoiceIssuedKind = "email.invoice_issued";
    public const string InvoiceReminderKind = "email.invoice_reminder";
    public const string InvoiceReceiptKind = "email.invoice_receipt";

    /// <summary>Renders the email of an issued invoice (its PDF attached); an offline invoice names its due date (ADR 0651).</summary>
    public static EmailContent InvoiceIssued(string to, string tenantName, long number, long totalCents, string currency, DateOnly? dueDate, string billingUrl) => Render(
        to,
        $"Invoice {number} for {tenantName}: {FormatMoney(totalCents, currency)}",
        $"Invoice {number} for {tenantName} totals {FormatMoney(totalCents, currency)}"
            + (dueDate is { } due ? $" and is due on {due:yyyy-MM-dd}." : "; it is charged to the payment method on file."),
        "See the invoices",
        billingUrl,
        "The invoice is attached as a PDF.");

    /// <summary>Renders a reminder of an unpaid offline invoice, before or after its due date (its PDF attached).</summary>
    public static EmailContent InvoiceReminder(string to, string tenantName, long number, long totalCents, string currency, DateOnly dueDate, bool overdue, string billingUrl) => Render(
        to,
        overdue ? $"Invoice {number} for {tenantName} is overdue" : $"Invoice {number} for {tenantName} is due on {dueDate:yyyy-MM-dd}",
        overdue
            ? $"Invoice {number} for {tenantName}, {FormatMoney(totalCents, currency)}, was due on {dueDate:yyyy-MM-dd} and is not paid yet."
            : $"Invoice {number} for {tenantName}, {FormatMoney(totalCents, currency)}, is due on {dueDate:yyyy-MM-dd}.",
        "See the invoices",
        billingUrl,
        "The invoice is attached as a PDF. If you have paid it already, thank you: ignore this reminder.");

    /// <summary>Renders the receipt of a paid invoice (its PDF, marked paid, attached).</summary>
    public static EmailContent InvoiceReceipt(string to, string tenantName, long number, long totalCents, string currency, DateTimeOffset paidAt, string billingUrl) => Render(
        to,
        $"Receipt for invoice {number} of {tenantName}",
        $"We received {FormatMoney(totalCents, currency)} for invoice {number} of {tenantName} on {Format(paidAt)}. Thank you.",
        "See the invoices",
        billingUrl,
        "The paid invoice is attached as a PDF.");

    public static EmailContent Invitation(string to, string tenantName, string role, string acceptUrl, DateTimeOffset expiresAt) => Render(
        to,
        $"You are invited to join {tenantName}",
        $"You have been invited to join {tenantName} as {role}.",
        "Accept the invitation",
        acceptUrl,
        $"The link works once and expires on {Format(expiresAt)}. If you did not expect this email, ignore it.");

    public static EmailContent TrialEnding(string to, string tenantName, DateTimeOffset trialEndsAt, string billingUrl) => Render(
        to,
        $"Your trial of {tenantName} ends on {trialEndsAt.UtcDateTime:yyyy-MM-dd}",
        $"The trial of {tenantName} ends on {Format(trialEndsAt)}.",
        "Choose a plan",
        billingUrl,
        "Choose a plan before then to keep your workers running.");

    public static EmailContent UsageAlert(string to, string tenantName, string quota, int percent, decimal used, long limit, string usageUrl) => Render(
        to,
        $"{tenantName} has used {percent}% of its {quota} quota",
        $"{tenantName} has used {used.ToString("#,0.######", CultureInfo.InvariantCulture)} of {limit.ToString("N0", CultureInfo.InvariantCulture)} ({percent}%) of its {quota} quota.",
        "See usage",
        usageUrl,
        percent >= 100 ? "New requests are refused until the quota resets or the plan is upgraded." : "Upgrade the plan to raise the limit.");

    public static EmailContent PaymentFailed(string to, string tenantName, long amountCents, string currency, string billingUrl) => Render(
        to,
        $"Payment failed for {tenantName}",
        $"We could not collect {FormatMoney(amountCents, currency)} for {tenantName}.",
        "Update the payment method",
        billingUrl,
        "Update the payment method to keep the account active; we will retry the charge.");

    /// <summary>Renders the notice to an address's owner that someone tried to sign up with it (ADR 0187).</summary>
    public static EmailContent SignUpAttempt(string to, string signInUrl) => Render(
        to,
        "Someone tried to sign up with your email address",
        "Someone tried to create a new account with this email address, which already has an account.",
        "Sign in",
        signInUrl,
        "If it was you, sign in or reset your password. If it was not, ignore this email: your account has not changed.");

    /// <summary>Renders the notice to a tenant's owners and admins that a webhook endpoint was disabled after failing for days (issue 11).</summary>
    public static EmailContent WebhookEndpointDisabled(string to, string tenantName, string url, DateTimeOffset failingSince, int days, string endpointUrl) => Render(
        to,
        $"A webhook endpoint of {tenantName} was disabled",
        $"Every delivery to {url} has failed since {Format(failingSince)}, for more than {days} days, so the endpoint was disabled and receives no new events.",
        "See the endpoint",
        endpointUrl,
        "Fix the receiver, enable the endpoint again, then recover the deliveries that failed meanwhile.");

    /// <summary>Renders the email verification link sent at sign-up and on request (ADR 0530).</summary>
    public static EmailContent VerifyEmail(string to, string verifyUrl, DateTimeOffset expiresAt) => Render(
        to,
        "Verify your email address",
        "Confirm that this address belongs to your account.",
        "Verify the email address",
        verifyUrl,
        $"The link works once and expires on {Format(expiresAt)}. If you did not sign up, ignore this email.");

    /// <summary>Renders the password reset link; whoever asked gets the same answer whether or not the address has an account.</summary>
    public static EmailContent PasswordReset(string to, string resetUrl, DateTimeOffset expiresAt) => Render(
        to,
        "Reset your password",
        "Someone asked to reset the password of the account with this email address.",
        "Choose a new password",
        resetUrl,
        $"The link works once and expires on {Format(expiresAt)}. Resetting signs out every session. If you did not ask, ignore this email.");

    /// <summary>Renders the notice to a tenant's owners and admins that a custom domain lost its verification: its TXT record was gone for longer
    /// than the grace period (ADR 0631).</summary>
    public static EmailContent DomainVerificationLost(string to, string tenantName, string domain, string challengeName, DateTimeOffset missingSince, string domainUrl) => Render(
        to,
        $"{domain} is no longer verified for {tenantName}",
        $"The TXT record {challengeName} has been missing since {Format(missingSince)}, so {domain} went back to pending and no longer reaches {tenantName}.",
        "See the domain",
        domainUrl,
        "Publish the record again, then verify the domain.");

    public static IReadOnlyList<int> UsageAlertThresholds { get; } = [80, 90, 100];

    private static EmailContent Render(string to, string subject, string lead, string action, string url, string footer)
    {
        var text = $"{lead}\n\n{action}: {url}\n\n{footer}\n";
        var html =
            $"""
            <!DOCTYPE html>
            <html><body style="font-family: sans-serif">
            {BrandHeaderMarker}
            <p>{Encode(lead)}</p>
            <p><a href="{Encode(url)}" style="color: {BrandColorMarker}">{Encode(action)}</a></p>
            <p style="color: #666">{Encode(footer)}</p>
            {BrandFooterMarker}
            </body></html>
            """;
        return new EmailContent(to, subject, text, html);
    }

    /// <summary>Marks where a tenant's branding header (logo and product name) goes in a rendered HTML body.</summary>
    internal const string BrandHeaderMarker = "<!--brand:header-->";

    /// <summary>Marks where a tenant's product name line goes at the end of a rendered HTML body.</summary>
    internal const string BrandFooterMarker = "<!--brand:footer-->";

    /// <summary>Stands for the link colour in a rendered HTML body until the branding (or the platform's default) fills it in.</summary>
    internal const string BrandColorMarker = "__brand_color__";

    /// <summary>Is the platform's own link colour, used when a tenant set none.</summary>
    public const string DefaultColor = "#2563eb";

    /// <summary>Fills in a rendered email's branding: the tenant's logo, product name and colour in the HTML (every value HTML-encoded), its product
    /// name under the text, and its sender display name; without branding, the platform's look and no sender name.</summary>
    public static EmailContent Brand(EmailContent email, Models.Branding.TenantBranding? branding)
    {
        var header = "";
        var footer = "";
        var text = email.Text;
        if (branding is not null)
        {
            var logo = branding.LogoUrl is { } logoUrl
                ? $"<img src=\"{Encode(logoUrl)}\" alt=\"{Encode(branding.ProductName ?? "")}\" style=\"max-height: 48px\">"
                : "";
            var name = branding.ProductName is { } productName
                ? $"<strong style=\"color: {Encode(branding.PrimaryColor ?? DefaultColor)}\">{Encode(productName)}</strong>"
                : "";
            if (logo.Length + name.Length > 0)
            {
                header = $"<div style=\"border-bottom: 3px solid {Encode(branding.PrimaryColor ?? DefaultColor)}; padding-bottom: 8px\">{logo} {name}</div>";
            }
            if (branding.ProductName is { } product)
            {
                footer = $"<p style=\"color: #666\">{Encode(product)}</p>";
                text += $"\n{product}\n";
            }
        }
        var html = email.Html
            .Replace(BrandHeaderMarker, header, StringComparison.Ordinal)
            .Replace(BrandFooterMarker, footer, StringComparison.Ordinal)
            .Replace(BrandColorMarker, Encode(branding?.PrimaryColor ?? DefaultColor), StringComparison.Ordinal);
        return email with { Text = text, Html = html, SenderName = branding?.EmailSenderName };
    }

    private static string Encode(string value) => WebUtility.HtmlEncode(value);

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string FormatMoney(long cents, string currency) =>
        string.Create(CultureInfo.InvariantCulture, $"{cents / 100}.{Math.Abs(cents % 100):00} {currency.ToUpperInvariant()}");
}
