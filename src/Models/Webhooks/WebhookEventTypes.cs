using Platform.Models.Billing;
using Platform.Models.Runs;
using Platform.Models.Tenants;

namespace Platform.Models.Webhooks;

/// <summary>Describes one event type of the catalogue: its name, when it is sent, the record its <c>data</c> is, and an example of that data.</summary>
public sealed record WebhookEventType(string Name, string Description, Type DataType, object Example);

/// <summary>Lists every event Platform sends to webhook endpoints; an endpoint subscribes to some of these names or to all.</summary>
public static class WebhookEventTypes
{
    public const string RunCompleted = "run.completed";
    public const string RunFailed = "run.failed";
    public const string RunTimedOut = "run.timed_out";
    public const string MemberAdded = "member.added";
    public const string MemberRemoved = "member.removed";
    public const string MemberRoleChanged = "member.role_changed";
    public const string InvitationAccepted = "invitation.accepted";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyRevoked = "api_key.revoked";
    public const string UsageThresholdReached = "usage.threshold_reached";
    public const string InvoiceCreated = "invoice.created";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoicePaymentFailed = "invoice.payment_failed";
    public const string SubscriptionUpdated = "subscription.updated";
    public const string SubscriptionCanceled = "subscription.canceled";
    public const string TenantSuspended = "tenant.suspended";
    public const string TenantUnsuspended = "tenant.unsuspended";
    public const string CreditsLow = "credits.low";

    /// <summary>Is sent only by <c>POST …/endpoints/{id}/test</c>, to that endpoint, whatever it subscribes to.</summary>
    public const string WebhookTest = "webhook.test";

    private static readonly Guid U = Guid.Parse("0193a5f0-0000-7000-8000-000000000002");
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    private static RunEventData RunExample(RunStatus status, string? error) => new(
        Guid.Parse("0193a5f0-0000-7000-8000-0000000000a1"), "summarizer", "summarize", status, 1, 1_840, status == RunStatus.Succeeded ? 2_350 : null,
        status == RunStatus.Succeeded ? 4 : null, error, At, At.AddSeconds(2));

    public static IReadOnlyList<WebhookEventType> All { get; } =
    [
        new(RunCompleted, "A worker run finished successfully: its tokens, latency and cost.", typeof(RunEventData), RunExample(RunStatus.Succeeded, null)),
        new(RunFailed, "A worker run finished with an error.", typeof(RunEventData), RunExample(RunStatus.Failed, "upstream model refused the input")),
        new(RunTimedOut, "A run was still running after Platform:RunTimeoutSeconds and was failed by the timeout job; its slot is free again.",
            typeof(RunEventData), RunExample(RunStatus.TimedOut, "The run did not complete within 1800 seconds.")),
        new(MemberAdded, "A user became a member of the tenant (an accepted invitation or an operator's action).",
            typeof(MemberEventData), new MemberEventData(U, "ada@example.com", "Ada Lovelace", TenantRole.Member, null, null)),
        new(MemberRemoved, "A member was removed, left, or erased their account (reason: removed, left, erased; an erased member's email and name are not sent).",
            typeof(MemberEventData), new MemberEventData(U, "ada@example.com", "Ada Lovelace", TenantRole.Member, null, "removed")),
        new(MemberRoleChanged, "A member's role changed; previous_role is the role before.",
            typeof(MemberEventData), new MemberEventData(U, "ada@example.com", "Ada Lovelace", TenantRole.Admin, TenantRole.Member, null)),
        new(InvitationAccepted, "An invitation was accepted; member.added follows in the same transaction.",
            typeof(InvitationEventData), new InvitationEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000b1"), "ada@example.com", TenantRole.Member, U)),
        new(ApiKeyCreated, "An API key was created (its secret is never sent).",
            typeof(ApiKeyEventData), new ApiKeyEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000c1"), "CI deploys", "pk_live_3f9a", false, U, null)),
        new(ApiKeyRevoked, "An API key was revoked: by a member, or because its creator lost admin (reason).",
            typeof(ApiKeyEventData), new ApiKeyEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000c1"), "CI deploys", "pk_live_3f9a", false, U, "revoked")),
        new(UsageThresholdReached, "A meter crossed 80, 90 or 100 % of its monthly quota (once per crossing and month, as the usage alert emails).",
            typeof(UsageThresholdEventData), new UsageThresholdEventData("api_calls", 90, 9_000, 10_000, new DateOnly(2026, 12, 1))),
        new(InvoiceCreated, "An invoice was issued (a month was closed, or Stripe finalized one).",
            typeof(InvoiceEventData), new InvoiceEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000d1"), 1042, null, InvoiceStatus.Open, "usd", 27_630, new DateOnly(2026, 12, 15), null)),
        new(InvoicePaid, "An invoice was paid (through Stripe, or marked paid by an operator).",
            typeof(InvoiceEventData), new InvoiceEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000d1"), 1042, null, InvoiceStatus.Paid, "usd", 27_630, new DateOnly(2026, 12, 15), At)),
        new(InvoicePaymentFailed, "A payment of an invoice failed; the subscription may be past due.",
            typeof(InvoiceEventData), new InvoiceEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000d1"), 1042, null, InvoiceStatus.Open, "usd", 27_630, new DateOnly(2026, 12, 15), null)),
        new(SubscriptionUpdated, "The subscription's plan, cycle or status changed.",
            typeof(SubscriptionEventData), new SubscriptionEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000e1"), "professional", "monthly", SubscriptionStatus.Active, false, null, At, At.AddMonths(1))),
        new(SubscriptionCanceled, "The subscription ended (canceled now or at the end of its period).",
            typeof(SubscriptionEventData), new SubscriptionEventData(Guid.Parse("0193a5f0-0000-7000-8000-0000000000e1"), "professional", "monthly", SubscriptionStatus.Canceled, false, null, At, At.AddMonths(1))),
        new(TenantSuspended, "The tenant was suspended (dunning, the end of a trial, or an operator); its API keys stop working.",
            typeof(TenantStatusEventData), new TenantStatusEventData(TenantStatus.Suspended, TenantStatus.PastDue, "billing: payment overdue past the grace period")),
        new(TenantUnsuspended, "The tenant is no longer suspended (status: active, trial or past_due); previous_reason is why it was suspended.",
            typeof(TenantStatusEventData), new TenantStatusEventData(TenantStatus.Active, TenantStatus.Suspended, "billing: payment overdue past the grace period")),
        new(CreditsLow, "The credit balance fell to or below Webhooks:CreditsLowThreshold (once per fall below it).",
            typeof(CreditsLowEventData), new CreditsLowEventData(8, 10)),
        new(WebhookTest, "A test message sent on request to one endpoint.", typeof(WebhookTestEventData), new WebhookTestEventData("This is a test message from Platform.")),
    ];

    private static readonly Dictionary<string, WebhookEventType> ByName = All.ToDictionary(e => e.Name, StringComparer.Ordinal);

    /// <summary>Finds an event type by its exact name.</summary>
    public static WebhookEventType? Find(string? name) => name is not null && ByName.TryGetValue(name, out var type) ? type : null;

    /// <summary>Tells whether an endpoint may subscribe to the name (every type but webhook.test, which is sent only on request).</summary>
    public static bool IsSubscribable(string? name) => Find(name) is { } type && type.Name != WebhookTest;
}

/// <summary>Is the data of run.completed, run.failed and run.timed_out: cost in cents, latency in milliseconds.</summary>
public sealed record RunEventData(
    Guid RunId, string WorkerId, string Task, RunStatus Status, int Attempt, long? LatencyMs, long? TotalTokens, long? CostCents, string? Error,
    DateTimeOffset StartedAt, DateTimeOffset? CompletedAt)
{
    public static RunEventData From(RunSnapshot run) => new(
        run.Id, run.WorkerId, run.Task, run.Status, run.Attempt, run.LatencyMs, run.TotalTokens, run.CostCents, run.Error, run.StartedAt, run.CompletedAt);
}

/// <summary>Is the data of member.added, member.removed and member.role_changed (previous_role only on a change, reason only on a removal).</summary>
public sealed record MemberEventData(Guid UserId, string? Email, string? Name, TenantRole Role, TenantRole? PreviousRole, string? Reason);

/// <summary>Is the data of invitation.accepted.</summary>
public sealed record InvitationEventData(Guid InvitationId, string Email, TenantRole Role, Guid UserId);

/// <summary>Is the data of api_key.created and api_key.revoked (reason only on a revocation).</summary>
public sealed record ApiKeyEventData(Guid ApiKeyId, string Name, string Prefix, bool ServiceKey, Guid? CreatedBy, string? Reason)
{
    public static ApiKeyEventData From(ApiKeys.ApiKeySnapshot key) => new(key.Id, key.Name, key.Prefix, key.ServiceKey, key.CreatedBy, key.RevokedReason);
}

/// <summary>Is the data of usage.threshold_reached: the meter, the crossed percentage, usage and quota this month (from period_start, UTC).</summary>
public sealed record UsageThresholdEventData(string Meter, int ThresholdPercent, decimal Used, long Quota, DateOnly PeriodStart);

/// <summary>Is the data of invoice.created, invoice.paid and invoice.payment_failed: amounts in cents.</summary>
/// <remarks>An invoice Platform issued has invoice_id and number (and stripe_invoice_id once pushed to Stripe); an invoice Stripe raised for an online
/// subscription has only stripe_invoice_id, and total_cents is the amount due.</remarks>
public sealed record InvoiceEventData(
    Guid? InvoiceId, long? Number, string? StripeInvoiceId, InvoiceStatus Status, string Currency, long TotalCents, DateOnly? DueDate, DateTimeOffset? PaidAt)
{
    public static InvoiceEventData From(InvoiceSnapshot i) => new(i.Id, i.Number, i.StripeInvoiceId, i.Status, i.Currency, i.TotalCents, i.DueDate, i.PaidAt);
}

/// <summary>Is the data of subscription.updated and subscription.canceled.</summary>
public sealed record SubscriptionEventData(
    Guid SubscriptionId, string Plan, string BillingCycle, SubscriptionStatus Status, bool CancelAtPeriodEnd, string? PendingPlan,
    DateTimeOffset CurrentPeriodStart, DateTimeOffset CurrentPeriodEnd)
{
    public static SubscriptionEventData From(SubscriptionSnapshot s) =>
        new(s.Id, s.Plan, s.BillingCycle, s.Status, s.CancelAtPeriodEnd, s.PendingPlan, s.CurrentPeriodStart, s.CurrentPeriodEnd);
}

/// <summary>Is the data of tenant.suspended and tenant.unsuspended: the new and the former status, and the suspension's reason (the new one on
/// tenant.suspended, the lifted one on tenant.unsuspended).</summary>
public sealed record TenantStatusEventData(TenantStatus Status, TenantStatus PreviousStatus, string? Reason);

/// <summary>Is the data of credits.low: the balance and the threshold it reached.</summary>
public sealed record CreditsLowEventData(long Balance, long Threshold);

/// <summary>Is the data of webhook.test.</summary>
public sealed record WebhookTestEventData(string Message);
