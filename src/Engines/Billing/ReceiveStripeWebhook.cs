using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Engines.Email;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Billing;

/// <summary>Applies a Stripe webhook after verifying its signature: subscription created/updated/deleted, invoice paid/payment_failed,
/// checkout.session.completed and payment_intent.succeeded (credit packs). The event id is recorded in the transaction of its effect; a
/// subscription state older than the last one applied is never applied. Returns processed, duplicate, stale or ignored.</summary>
public sealed record ReceiveStripeWebhook(string Payload, string? Signature) : IRequest<string>;

internal sealed class ReceiveStripeWebhookHandler(
    IDbSessionFactory sessions, TenantGate gate, ITenantDriver tenants, IStripeDriver stripe, IBillingDriver billing, IInvoiceDriver invoices, ICreditDriver credits,
    BillingLifecycle lifecycle, AuditTrail audit, WebhookEvents events, IClock clock, CreditsOptions creditsOptions, BillingOptions billingOptions,
    ILogger<ReceiveStripeWebhookHandler> logger)
    : IRequestHandler<ReceiveStripeWebhook, string>
{
    private const string SubscriptionCreated = "customer.subscription.created";
    private const string SubscriptionUpdated = "customer.subscription.updated";
    private const string SubscriptionDeleted = "customer.subscription.deleted";
    private const string InvoicePaid = "invoice.paid";
    private const string InvoicePaymentFailed = "invoice.payment_failed";
    private const string CheckoutCompleted = "checkout.session.completed";
    private const string PaymentIntentSucceeded = "payment_intent.succeeded";
    private const string CustomerUpdated = "customer.updated";
    private const string PaymentMethodAttached = "payment_method.attached";
    private const string InvoiceFinalized = "invoice.finalized";
    private const string InvoiceVoided = "invoice.voided";
    private const string InvoiceUncollectible = "invoice.marked_uncollectible";

    /// <summary>Gets the invoice.* events Platform receives and deliberately leaves alone, each with why (ADR 0721); they are answered "ignored".</summary>
    public static IReadOnlyDictionary<string, string> IgnoredInvoiceEvents { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["invoice.created"] = "a draft: Platform reports an invoice when Stripe finalizes it (ours are issued by the close)",
        ["invoice.updated"] = "drafts change until finalized; finalized, paid, payment_failed and voided carry every state Platform keeps",
        ["invoice.deleted"] = "only drafts can be deleted, and Platform never mirrors drafts",
        ["invoice.sent"] = "Stripe's email to the customer; Platform sends its own invoice email (ADR 0651)",
        ["invoice.upcoming"] = "a preview of the next renewal, not an invoice",
        ["invoice.will_be_due"] = "a reminder moment of Stripe's; Platform's reminders are its own (ADR 0651)",
        ["invoice.overdue"] = "Stripe charges online invoices itself; payment_failed drives dunning",
        ["invoice.payment_succeeded"] = "invoice.paid carries the same payment and is the one handled",
        ["invoice.payment_action_required"] = "the customer completes authentication on Stripe's hosted page; paid or payment_failed follows",
        ["invoice.finalization_failed"] = "Stripe retries; a push of ours that fails is retried by the push job with its back-off",
    };

    public async Task<string> Handle(ReceiveStripeWebhook command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var stripeEvent = stripe.VerifyWebhook(command.Payload, command.Signature, now);
        var handled = stripeEvent.Type switch
        {
            SubscriptionCreated or SubscriptionUpdated or SubscriptionDeleted => stripeEvent.Subscription is not null,
            InvoicePaid or InvoicePaymentFailed or InvoiceFinalized or InvoiceVoided or InvoiceUncollectible => stripeEvent.Invoice is not null,
            CustomerUpdated => stripeEvent.Customer is not null,
            PaymentMethodAttached => stripeEvent.PaymentMethod is not null && !string.IsNullOrEmpty(stripeEvent.CustomerId),
            CheckoutCompleted => stripeEvent.Checkout is not null,
            PaymentIntentSucceeded => Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("credit_purchase_id"), out _),
            _ => false,
        };
        if (IgnoredInvoiceEvents.TryGetValue(stripeEvent.Type, out var reason))
        {
            logger.LogInformation("Stripe event {EventId} ({Type}) ignored: {Reason}", stripeEvent.Id, stripeEvent.Type, reason);
            return "ignored";
        }
        var tenantId = handled ? await FindTenantAsync(stripeEvent, cancellationToken) : null;
        if (tenantId is null)
        {
            return "ignored";
        }

        TenantScope scope;
        try
        {
            // Read access: Stripe's word is applied even to a suspended tenant (a payment lifts billing's own suspension).
            scope = await gate.EnterAsync(tenantId.Value, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
        }
        catch (NotFoundException)
        {
            return "ignored";
        }
        await using (scope)
        {
            if (stripeEvent.Type is not (PaymentIntentSucceeded or CustomerUpdated or PaymentMethodAttached))
            {
                // The tenant row's lock serialises every subscription change of one tenant: events, commands and jobs.
                await tenants.LockTenantAsync(scope.Session, tenantId.Value, cancellationToken);
            }
            if (!await billing.TryRecordStripeEventAsync(scope.Session, tenantId.Value, stripeEvent.Id, stripeEvent.Type, stripeEvent.Created, now, cancellationToken))
            {
                return "duplicate";
            }
            var outcome = stripeEvent.Type switch
            {
                SubscriptionCreated or SubscriptionUpdated or SubscriptionDeleted => await ApplySubscriptionAsync(scope, stripeEvent, now, cancellationToken),
                InvoicePaid => await ApplyInvoicePaidAsync(scope, stripeEvent, now, cancellationToken),
                InvoicePaymentFailed => await ApplyPaymentFailedAsync(scope, stripeEvent, now, cancellationToken),
                CheckoutCompleted => await ApplyCheckoutAsync(scope, stripeEvent, now, cancellationToken),
                CustomerUpdated => await ApplyCustomerAsync(scope, stripeEvent, now, cancellationToken),
                PaymentMethodAttached => await ApplyPaymentMethodAsync(scope, stripeEvent, now, cancellationToken),
                InvoiceFinalized => await ApplyInvoiceFinalizedAsync(scope, stripeEvent, cancellationToken),
                InvoiceVoided => await ApplyInvoiceClosedAsync(scope, stripeEvent, InvoiceStatus.Void, now, cancellationToken),
                InvoiceUncollectible => await ApplyInvoiceClosedAsync(scope, stripeEvent, InvoiceStatus.Uncollectible, now, cancellationToken),
                _ => await CreditPackAsync(scope, stripeEvent, now, cancellationToken),
            };
            await scope.CommitAsync(cancellationToken);
            return outcome;
        }
    }

    /// <summary>Finds the tenant: the tenant_id metadata we put on every Stripe object we create (or a Checkout session's client reference),
    /// else the tenant whose Stripe customer the object belongs to.</summary>
    private async Task<Guid?> FindTenantAsync(StripeWebhookEvent stripeEvent, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("tenant_id"), out var fromMetadata))
        {
            return fromMetadata;
        }
        if (Guid.TryParse(stripeEvent.Checkout?.ClientReferenceId, out var fromReference))
        {
            return fromReference;
        }
        if (string.IsNullOrEmpty(stripeEvent.CustomerId))
        {
            return null;
        }
        await using var lookup = await sessions.OpenAsync(null, null, cancellationToken);
        return await billing.FindTenantIdByStripeCustomerAsync(lookup, stripeEvent.CustomerId, cancellationToken);
    }

    private async Task<string> ApplySubscriptionAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = stripeEvent.Subscription!;
        var tenantId = scope.Tenant.Id;
        var happened = stripeEvent.Type == SubscriptionDeleted ? SubscriptionEvent.StripeReportedEnded : SubscriptionLifecycle.FromStripe(state.Status);
        // The status Stripe reports; a row we already hold moves only as the lifecycle allows (below).
        var status = SubscriptionLifecycle.Apply(SubscriptionStatus.Active, happened).To!.Value;
        var row = await billing.FetchSubscriptionByStripeIdAsync(scope.Session, tenantId, state.Id, cancellationToken);
        if (row is null && Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("subscription_id"), out var ourId))
        {
            row = await billing.FetchSubscriptionAsync(scope.Session, tenantId, ourId, cancellationToken);
        }
        if (row is null)
        {
            var live = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
            if (status == SubscriptionStatus.Canceled || state.Plan is null || live?.StripeSubscriptionId is not null)
            {
                // A subscription we never mirrored that is already over, not on one of our prices, or beside another live one: nothing to follow.
                return "processed";
            }
            // A subscription started in Stripe (Checkout's may report itself before the session does): its currency is now the tenant's (ADR 0776).
            await FixPaidCurrencyAsync(scope, stripeEvent, cancellationToken);
            row = live ?? await billing.InsertSubscriptionAsync(scope.Session, new SubscriptionSnapshot(
                tenantId, Guid.CreateVersion7(), state.Plan, state.Cycle ?? "monthly", status, state.CancelAtPeriodEnd, null,
                state.PeriodStart ?? now, state.PeriodEnd ?? now.AddMonths(1), null, state.Id, now, now, null), cancellationToken);
        }
        if (row.StripeSubscriptionId is not null && row.StripeSubscriptionId != state.Id)
        {
            return "processed";
        }
        // Canceled is final: a deleted subscription never comes back, and a deletion applies whatever came before it.
        // Otherwise an older subscription state never overwrites a newer one.
        if (BillingLifecycle.Next(row.Status, happened) is not { } next || (next != SubscriptionStatus.Canceled && row.StripeStateAt is { } appliedAt && stripeEvent.Created < appliedAt))
        {
            return "stale";
        }
        status = next;
        // The status alone also moves with invoice events; a newer one of those keeps its status.
        if (status != SubscriptionStatus.Canceled && row.StripeStatusAt is { } statusAt && stripeEvent.Created < statusAt)
        {
            status = row.Status;
        }

        var plan = state.Plan ?? row.Plan;
        var pending = row.PendingPlan;
        var periodStart = state.PeriodStart ?? row.CurrentPeriodStart;
        var periodEnd = state.PeriodEnd is { } end && end > periodStart ? end : row.CurrentPeriodEnd;
        if (pending is not null)
        {
            // A downgrade asked here already carries the lower price in Stripe; the tenant keeps the plan it paid for until the period rolls.
            var rolled = periodStart >= row.CurrentPeriodEnd;
            if (!rolled && (plan == pending || plan == row.Plan))
            {
                plan = row.Plan;
            }
            else
            {
                pending = null;
            }
        }
        var updated = row with
        {
            Plan = plan,
            BillingCycle = state.Cycle ?? row.BillingCycle,
            Status = status,
            CancelAtPeriodEnd = status != SubscriptionStatus.Canceled && state.CancelAtPeriodEnd,
            PendingPlan = status == SubscriptionStatus.Canceled ? null : pending,
            CurrentPeriodStart = periodStart,
            CurrentPeriodEnd = periodEnd > periodStart ? periodEnd : row.CurrentPeriodEnd,
            StripeSubscriptionId = state.Id,
            UpdatedAt = now,
            CanceledAt = status == SubscriptionStatus.Canceled ? row.CanceledAt ?? now : null,
            PastDueSince = status == SubscriptionStatus.PastDue ? row.PastDueSince ?? stripeEvent.Created : null,
            StripeStateAt = Latest(row.StripeStateAt, stripeEvent.Created),
            StripeStatusAt = Latest(row.StripeStatusAt, stripeEvent.Created),
        };
        return await SaveAndFollowAsync(scope, row, updated, stripeEvent, now, cancellationToken);
    }

    private async Task<string> ApplyInvoicePaidAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Our own invoice collected by Stripe (if any) is paid, in this transaction; the subscription and tenant effects do not depend on it.
        var tenantId = scope.Tenant.Id;
        var stripeInvoiceId = stripeEvent.Invoice!.Id;
        if (await invoices.FetchByStripeInvoiceIdAsync(scope.Session, tenantId, stripeInvoiceId, cancellationToken) is { Status: not InvoiceStatus.Paid } ours
            && await invoices.MarkPaidAsync(scope.Session, tenantId, ours.Id, stripeEvent.Created, stripeInvoiceId, cancellationToken) is { } paid)
        {
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "invoice.paid", "invoice", ours.Id,
                new { ours.Status }, new { paid.Status, paid.PaidAt, paid.Number, paid.TotalCents, stripe_event = stripeEvent.Id }, cancellationToken);
            await events.EmitAsync(scope.Session, tenantId, WebhookEventTypes.InvoicePaid, InvoiceEventData.From(paid), cancellationToken);
        }
        else if (await invoices.FetchByStripeInvoiceIdAsync(scope.Session, tenantId, stripeInvoiceId, cancellationToken) is null)
        {
            // Stripe's own invoice of an online subscription (its base price): reported as Stripe has it.
            await events.EmitAsync(scope.Session, tenantId, WebhookEventTypes.InvoicePaid, new InvoiceEventData(
                null, null, stripeInvoiceId, InvoiceStatus.Paid, stripeEvent.Invoice.Currency, stripeEvent.Invoice.AmountDue, null, stripeEvent.Created), cancellationToken);
        }
        var row = await SubscriptionOfInvoiceAsync(scope, stripeEvent.Invoice!, cancellationToken);
        if (row is null || BillingLifecycle.Next(row.Status, SubscriptionEvent.PaymentSucceeded) is not { } paidStatus)
        {
            return "processed";
        }
        // A payment never undoes a newer status; at the same second it wins over a failure report.
        if (row.StripeStatusAt is { } statusAt && stripeEvent.Created < statusAt)
        {
            return "stale";
        }
        var updated = row with { Status = paidStatus, PastDueSince = null, StripeStatusAt = stripeEvent.Created, UpdatedAt = now };
        return await SaveAndFollowAsync(scope, row, updated, stripeEvent, now, cancellationToken);
    }

    private async Task<string> ApplyPaymentFailedAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var invoice = stripeEvent.Invoice!;
        // Every failed attempt Stripe reports (each Stripe event is processed once), whatever it does to the subscription.
        var ours = await invoices.FetchByStripeInvoiceIdAsync(scope.Session, scope.Tenant.Id, invoice.Id, cancellationToken);
        await events.EmitAsync(scope.Session, scope.Tenant.Id, WebhookEventTypes.InvoicePaymentFailed, ours is not null
            ? InvoiceEventData.From(ours)
            : new InvoiceEventData(null, null, invoice.Id, InvoiceStatus.Open, invoice.Currency, invoice.AmountDue, null, null), cancellationToken);
        var row = await SubscriptionOfInvoiceAsync(scope, invoice, cancellationToken);
        if (row is null || BillingLifecycle.Next(row.Status, SubscriptionEvent.PaymentFailed) is not { } owingStatus)
        {
            return "processed";
        }
        var stale = row.StripeStatusAt is { } statusAt && stripeEvent.Created <= statusAt;
        var outcome = "stale";
        if (!stale)
        {
            var updated = row with { Status = owingStatus, PastDueSince = row.PastDueSince ?? stripeEvent.Created, StripeStatusAt = stripeEvent.Created, UpdatedAt = now };
            outcome = await SaveAndFollowAsync(scope, row, updated, stripeEvent, now, cancellationToken);
        }
        if (!stale || row.Status == SubscriptionStatus.PastDue)
        {
            // Once per Stripe invoice, however many attempts fail and however often each event is delivered.
            await lifecycle.QueueOnceAsync(scope, "payment_failed:" + invoice.Id, EmailTemplates.PaymentFailedKind, invoice.CustomerEmail,
                (to, tenant) => EmailTemplates.PaymentFailed(to, tenant.Name, invoice.AmountDue, invoice.Currency, lifecycle.BillingUrl), now, cancellationToken);
        }
        return outcome;
    }

    private async Task<string> ApplyCheckoutAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var checkout = stripeEvent.Checkout!;
        var tenantId = scope.Tenant.Id;
        var linked = false;
        if (!string.IsNullOrEmpty(stripeEvent.CustomerId) && await billing.FetchStripeCustomerIdAsync(scope.Session, tenantId, cancellationToken) is null)
        {
            // Later events of this customer (its subscription's, its invoices') find the tenant through this row.
            await billing.InsertStripeCustomerAsync(scope.Session, tenantId, stripeEvent.CustomerId, now, cancellationToken);
            linked = true;
        }
        await audit.RecordAsync(scope.Session, tenantId, Caller.System, "billing.checkout_completed", "stripe_checkout_session", null,
            null, new { checkout.Id, checkout.Mode, checkout.SubscriptionId, customer_linked = linked, stripe_event = stripeEvent.Id }, cancellationToken);
        if (checkout.Mode == "payment" && checkout.PaymentStatus == "paid" && Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("credit_purchase_id"), out var purchaseId))
        {
            // A credit pack bought through Checkout; its PaymentIntent's own success event (same purchase id) then credits nothing.
            return await CreditPackAsync(scope, stripeEvent, purchaseId, checkout.PaymentIntentId ?? checkout.Id, now, cancellationToken);
        }
        if (checkout.Mode == "subscription" && !string.IsNullOrEmpty(checkout.SubscriptionId))
        {
            return await CompleteSubscriptionAsync(scope, stripeEvent, checkout.SubscriptionId, now, cancellationToken);
        }
        return "processed";
    }

    /// <summary>Completes the subscription a Checkout Session started: the plan and cycle it was started for (its metadata), active, with Stripe's ids.
    /// When the subscription's own created/updated event came first, its row is already there and stays as it is; a live row without a Stripe
    /// subscription (offline or trial) becomes this one; a live row of another Stripe subscription is left alone.</summary>
    private async Task<string> CompleteSubscriptionAsync(TenantScope scope, StripeWebhookEvent stripeEvent, string stripeSubscriptionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        if (await billing.FetchSubscriptionByStripeIdAsync(scope.Session, tenantId, stripeSubscriptionId, cancellationToken) is not null)
        {
            return "processed";
        }
        var planId = stripeEvent.Metadata.GetValueOrDefault("plan");
        var cycle = stripeEvent.Metadata.GetValueOrDefault("cycle") is "annual" ? "annual" : "monthly";
        if (planId is null || Models.Plans.PlanCatalog.Find(planId) is not { PriceMonthlyCents: > 0 })
        {
            return "processed";
        }
        var live = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
        if (live?.StripeSubscriptionId is not null)
        {
            return "processed";
        }
        // Paid: the currency the session was priced in is now the tenant's (ADR 0776); starting the session fixed nothing.
        await FixPaidCurrencyAsync(scope, stripeEvent, cancellationToken);
        var periodEnd = cycle == "annual" ? now.AddYears(1) : now.AddMonths(1);
        SubscriptionSnapshot saved;
        if (live is null)
        {
            saved = await billing.InsertSubscriptionAsync(scope.Session, new SubscriptionSnapshot(
                tenantId, Guid.CreateVersion7(), planId, cycle, SubscriptionStatus.Active, false, null, now, periodEnd, null, stripeSubscriptionId, now, now, null), cancellationToken);
        }
        else
        {
            saved = await billing.SaveSubscriptionAsync(scope.Session, live with
            {
                Plan = planId, BillingCycle = cycle, Status = SubscriptionStatus.Active, CancelAtPeriodEnd = false, PendingPlan = null, CurrentPeriodStart = now,
                CurrentPeriodEnd = periodEnd, StripeSubscriptionId = stripeSubscriptionId, PastDueSince = null, ChangeSeq = live.ChangeSeq + 1, UpdatedAt = now,
            }, cancellationToken) ?? throw new NotFoundException("subscription");
        }
        await audit.RecordAsync(scope.Session, tenantId, Caller.System, "subscription.synced", "subscription", saved.Id,
            live is null ? null : new { live.Plan, live.Status, live.BillingCycle },
            new { saved.Plan, saved.Status, saved.BillingCycle, saved.StripeSubscriptionId, stripe_event = stripeEvent.Id, stripe_type = stripeEvent.Type }, cancellationToken);
        await lifecycle.SubscriptionChangedAsync(scope, live, saved, cancellationToken);
        await lifecycle.FollowAsync(scope, saved, Caller.System, stripeEvent.Type, now, cancellationToken);
        return "processed";
    }

    /// <summary>Fixes the tenant's billing currency when a subscription it started in Stripe completes (ADR 0776): the currency of the session or subscription
    /// (its metadata), unless the tenant already has one (fixed, or that of its invoices), which stays; a paid currency that differs from it is logged,
    /// as Stripe has charged in it and only an operator can settle that.</summary>
    private async Task FixPaidCurrencyAsync(TenantScope scope, StripeWebhookEvent stripeEvent, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var paid = BillingCurrencies.Normalise(stripeEvent.Metadata.GetValueOrDefault("currency"));
        var current = await billing.FetchBillingCurrencyAsync(scope.Session, tenantId, cancellationToken);
        var chosen = current ?? (Models.Plans.PlanCatalog.IsCurrency(paid) ? paid! : billingOptions.DefaultCurrencyCode);
        var now = await billing.FixBillingCurrencyAsync(scope.Session, tenantId, chosen, cancellationToken);
        if (paid is not null && paid != now)
        {
            logger.LogWarning("Billing: tenant {TenantId} completed a subscription in {Paid} but is billed in {Currency} (Stripe event {EventId})",
                tenantId, paid, now, stripeEvent.Id);
        }
    }

    /// <summary>The portal changed the customer: its email becomes the tenant's billing email, its name and address the buyer block of invoices.
    /// An older customer state never overwrites a newer one.</summary>
    private async Task<string> ApplyCustomerAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var customer = stripeEvent.Customer!;
        var tenantId = scope.Tenant.Id;
        if (!await billing.SaveCustomerDetailsAsync(scope.Session, tenantId, customer.Name, customer.Address, stripeEvent.Created, now, cancellationToken))
        {
            return "stale";
        }
        var email = string.IsNullOrWhiteSpace(customer.Email) ? null : customer.Email.Trim();
        var emailChanged = email is not null && !string.Equals(email, scope.Tenant.BillingEmail, StringComparison.OrdinalIgnoreCase);
        if (emailChanged)
        {
            await billing.SetBillingEmailAsync(scope.Session, tenantId, email!, now, cancellationToken);
        }
        await audit.RecordAsync(scope.Session, tenantId, Caller.System, "billing.customer_synced", "stripe_customer", null,
            emailChanged ? new { billing_email = scope.Tenant.BillingEmail } : null,
            new { billing_email = emailChanged ? email : scope.Tenant.BillingEmail, customer.Name, address = customer.Address?.Lines(), stripe_event = stripeEvent.Id },
            cancellationToken);
        return "processed";
    }

    /// <summary>A card attached in the portal: its brand, last four digits and expiry are kept (never the number); an older attachment never overwrites a newer one.</summary>
    private async Task<string> ApplyPaymentMethodAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var card = stripeEvent.PaymentMethod!;
        if (!await billing.SaveCardAsync(scope.Session, scope.Tenant.Id, card, stripeEvent.Created, now, cancellationToken))
        {
            return "stale";
        }
        await audit.RecordAsync(scope.Session, scope.Tenant.Id, Caller.System, "billing.payment_method_attached", "stripe_payment_method", null,
            null, new { payment_method = card.PaymentMethodId, card.Brand, card.Last4, exp_month = card.ExpMonth, exp_year = card.ExpYear, stripe_event = stripeEvent.Id },
            cancellationToken);
        return "processed";
    }

    /// <summary>Stripe finalized an invoice: one of its own (a subscription's base) is reported to the tenant's webhooks as invoice.created; ours
    /// were reported when the close issued them, so nothing more happens for them.</summary>
    private async Task<string> ApplyInvoiceFinalizedAsync(TenantScope scope, StripeWebhookEvent stripeEvent, CancellationToken cancellationToken)
    {
        var invoice = stripeEvent.Invoice!;
        if (await invoices.FetchByStripeInvoiceIdAsync(scope.Session, scope.Tenant.Id, invoice.Id, cancellationToken) is not null)
        {
            return "processed";
        }
        await events.EmitAsync(scope.Session, scope.Tenant.Id, WebhookEventTypes.InvoiceCreated,
            new InvoiceEventData(null, null, invoice.Id, InvoiceStatus.Open, invoice.Currency, invoice.AmountDue, null, null), cancellationToken);
        return "processed";
    }

    /// <summary>Stripe voided an invoice or marked it uncollectible: ours, while open, follows (void: nothing is owed, its PDF says so); Stripe's own has no row here.</summary>
    private async Task<string> ApplyInvoiceClosedAsync(TenantScope scope, StripeWebhookEvent stripeEvent, InvoiceStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        if (await invoices.FetchByStripeInvoiceIdAsync(scope.Session, tenantId, stripeEvent.Invoice!.Id, cancellationToken) is not { } ours
            || ours.Status != InvoiceStatus.Open)
        {
            return "processed";
        }
        var closed = await invoices.SetUnpaidStatusAsync(scope.Session, tenantId, ours.Id, status, now, cancellationToken);
        await audit.RecordAsync(scope.Session, tenantId, Caller.System, status == InvoiceStatus.Void ? "invoice.voided" : "invoice.marked_uncollectible", "invoice", ours.Id,
            new { ours.Status }, new { status = closed?.Status, ours.Number, stripe_event = stripeEvent.Id }, cancellationToken);
        return "processed";
    }

    private Task<string> CreditPackAsync(TenantScope scope, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken) =>
        CreditPackAsync(scope, stripeEvent, Guid.Parse(stripeEvent.Metadata["credit_purchase_id"]), stripeEvent.ObjectId, now, cancellationToken);

    private async Task<string> CreditPackAsync(TenantScope scope, StripeWebhookEvent stripeEvent, Guid purchaseId, string? paymentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        // Conditional on 'pending': a second event for the same payment credits nothing.
        var purchase = await credits.TrySettlePurchaseAsync(scope.Session, tenantId, purchaseId, CreditPurchaseStatus.Succeeded, paymentId, now, cancellationToken);
        if (purchase is not null)
        {
            await CreditLedger.OpenAccountAsync(credits, audit, creditsOptions, scope, now, cancellationToken);
            var balance = await credits.CreditAsync(scope.Session, tenantId, purchase.Credits, now, cancellationToken)
                ?? throw new InvalidOperationException("The credit account opened in this transaction is gone.");
            await CreditLedger.AppendAsync(credits, scope, CreditTransactionType.Purchase, purchase.Credits, balance,
                "purchase:" + purchase.Id, paymentId, now, cancellationToken);
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.purchased", "credit_purchase", purchase.Id,
                new { status = CreditPurchaseStatus.Pending }, new { purchase.Status, purchase.Credits, balance_after = balance, stripe_event = stripeEvent.Id }, cancellationToken);
        }
        return "processed";
    }

    private async Task<SubscriptionSnapshot?> SubscriptionOfInvoiceAsync(TenantScope scope, StripeInvoiceState invoice, CancellationToken cancellationToken) =>
        invoice.SubscriptionId is { } stripeId
            ? await billing.FetchSubscriptionByStripeIdAsync(scope.Session, scope.Tenant.Id, stripeId, cancellationToken)
            : await billing.FetchLiveSubscriptionAsync(scope.Session, scope.Tenant.Id, cancellationToken);

    private async Task<string> SaveAndFollowAsync(
        TenantScope scope, SubscriptionSnapshot before, SubscriptionSnapshot after, StripeWebhookEvent stripeEvent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var saved = await billing.SaveSubscriptionAsync(scope.Session, after, cancellationToken) ?? throw new NotFoundException("subscription");
        await audit.RecordAsync(scope.Session, scope.Tenant.Id, Caller.System, "subscription.synced", "subscription", saved.Id,
            new { before.Plan, before.Status, before.PendingPlan, before.CancelAtPeriodEnd, before.CurrentPeriodEnd },
            new { saved.Plan, saved.Status, saved.PendingPlan, saved.CancelAtPeriodEnd, saved.CurrentPeriodEnd, stripe_event = stripeEvent.Id, stripe_type = stripeEvent.Type },
            cancellationToken);
        await lifecycle.SubscriptionChangedAsync(scope, before, saved, cancellationToken);
        await lifecycle.FollowAsync(scope, saved, Caller.System, stripeEvent.Type, now, cancellationToken);
        return "processed";
    }

    private static DateTimeOffset Latest(DateTimeOffset? applied, DateTimeOffset created) =>
        applied is { } at && at > created ? at : created;
}
