using FluentValidation;
using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Plans;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Plans;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Stripe;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Subscribes the tenant to a paid plan or changes its plan (owner), online (Stripe) or offline: an upgrade applies now (prorated), a downgrade waits for the period end; the tenant's plan, status and quotas follow.
/// The first subscription fixes the tenant's billing currency (the one asked, else the installation's); asking for another later is 409 (ADR 0720).</summary>
public sealed record SubscribeTenant(Caller Caller, Guid TenantId, string? Plan, string? BillingCycle, string? PaymentMethodId, string? Currency = null)
    : IRequest<SubscriptionChange>, ITenantWrite, ICallerCommand;

internal sealed class SubscribeTenantValidator : AbstractValidator<SubscribeTenant>
{
    public SubscribeTenantValidator()
    {
        RuleFor(c => c.Plan).NotEmpty().Must(p => PlanCatalog.Find(p) is { PriceMonthlyCents: > 0 })
            .WithMessage($"The plan must be a paid plan: {string.Join(", ", PlanCatalog.All.Where(p => p.PriceMonthlyCents > 0).Select(p => p.Id))}.");
        RuleFor(c => c.BillingCycle).NotEmpty().Must(c => c is "monthly" or "annual").WithMessage("The billing cycle must be monthly or annual.");
        RuleFor(c => c.PaymentMethodId).MaximumLength(255);
        RuleFor(c => c.Currency).Must(c => c is null || PlanCatalog.IsCurrency(BillingCurrencies.Normalise(c))).WithMessage(BillingCurrencies.UnknownMessage);
    }
}

internal sealed class SubscribeTenantHandler(TenantGate gate, ITenantDriver tenants, IBillingDriver billing, IStripeDriver stripe, BillingLifecycle lifecycle, AuditTrail audit, BillingOptions options, IFeatureOverrideDriver features, IClock clock)
    : IRequestHandler<SubscribeTenant, SubscriptionChange>
{
    public async Task<SubscriptionChange> Handle(SubscribeTenant command, CancellationToken cancellationToken)
    {
        var plan = PlanCatalog.Get(command.Plan!);
        var now = clock.UtcNow;
        // Read access, then the suspension check here: a tenant suspended by billing (trial ended, dunning) may subscribe; an operator's suspension refuses.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        if (scope.Tenant.Status.BlocksWrites() && !BillingLifecycle.IsBillingSuspension(scope.Tenant))
        {
            throw new TenantSuspendedException();
        }
        // The tenant row's lock serialises subscription changes of one tenant.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var current = await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken);
        // Under the tenant's lock: the first subscription fixes the currency, every later request must name the same one or none.
        var currency = await BillingCurrencies.ChooseAsync(billing, scope, command.Currency, options.DefaultCurrencyCode, cancellationToken);
        var tenantBefore = await tenants.FetchTenantAsync(scope.Session, command.TenantId, cancellationToken) ?? throw new NotFoundException("tenant");
        var tenantAfter = tenantBefore;

        SubscriptionSnapshot result;
        if (current is null)
        {
            var id = Guid.CreateVersion7();
            var stripeSubscription = stripe.Online ? await CreateInStripeAsync(scope, plan.Id, command, id, currency, now, cancellationToken) : null;
            var status = SubscriptionLifecycle.StartFromStripe(stripeSubscription?.Status);
            result = await billing.InsertSubscriptionAsync(scope.Session, new SubscriptionSnapshot(
                command.TenantId, id, plan.Id, command.BillingCycle!, status,
                false, null, now, command.BillingCycle == "annual" ? now.AddYears(1) : now.AddMonths(1), command.PaymentMethodId,
                stripeSubscription?.Id, now, now, null, PastDueSince: status == SubscriptionStatus.PastDue ? now : null), cancellationToken);
            tenantAfter = await lifecycle.FollowAsync(scope, result, command.Caller, "subscribed", now, cancellationToken);
        }
        else if (BillingLifecycle.Next(current.Status, SubscriptionEvent.PlanChanged) is null)
        {
            throw new NotFoundException("subscription");
        }
        else if (current.BillingCycle != command.BillingCycle)
        {
            throw new ConflictException($"The subscription is billed {current.BillingCycle}; changing the billing cycle is not supported, cancel and subscribe again.", "billing_cycle_change_not_supported");
        }
        else if (current.Plan == plan.Id)
        {
            if (current.PendingPlan is null && !current.CancelAtPeriodEnd)
            {
                throw new ConflictException($"The tenant is already subscribed to {plan.Id}.", "already_subscribed");
            }
            // Re-choosing the current plan withdraws a pending downgrade or cancellation (in Stripe too: the price goes back, the flag is cleared).
            if (current.StripeSubscriptionId is { } stripeId)
            {
                if (current.PendingPlan is not null)
                {
                    await stripe.ChangeSubscriptionPriceAsync(stripeId, current.Plan, current.BillingCycle, false, ChangeKey(current, "keep-" + current.Plan), cancellationToken, currency);
                }
                await ResumeInStripeAsync(current, stripeId, cancellationToken);
            }
            result = await SaveAsync(scope, current with { PendingPlan = null, CancelAtPeriodEnd = false }, now, cancellationToken);
        }
        else if (plan.PriceMonthlyCents > PlanCatalog.Get(current.Plan).PriceMonthlyCents)
        {
            // Upgrade: now. Stripe charges the difference for the rest of the period (create_prorations); offline, the invoice prorates by day (0301).
            if (current.StripeSubscriptionId is { } stripeId)
            {
                await ResumeInStripeAsync(current, stripeId, cancellationToken);
                await stripe.ChangeSubscriptionPriceAsync(stripeId, plan.Id, current.BillingCycle, true, ChangeKey(current, "upgrade-" + plan.Id), cancellationToken, currency);
            }
            result = await SaveAsync(scope, current with { Plan = plan.Id, PendingPlan = null, CancelAtPeriodEnd = false }, now, cancellationToken);
            tenantAfter = await lifecycle.FollowAsync(scope, result, command.Caller, "upgraded", now, cancellationToken);
        }
        else
        {
            // Downgrade: the tenant keeps what it paid for until the period ends. Stripe gets the lower price now without proration, so its next
            // renewal bills it (docs/decisions/0322); the period-end job or Stripe's renewal event applies it here.
            if (current.StripeSubscriptionId is { } stripeId)
            {
                await ResumeInStripeAsync(current, stripeId, cancellationToken);
                await stripe.ChangeSubscriptionPriceAsync(stripeId, plan.Id, current.BillingCycle, false, ChangeKey(current, "downgrade-" + plan.Id), cancellationToken, currency);
            }
            result = await SaveAsync(scope, current with { PendingPlan = plan.Id, CancelAtPeriodEnd = false }, now, cancellationToken);
        }

        await lifecycle.SubscriptionChangedAsync(scope, current, result, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "subscription.changed", "subscription", result.Id,
            current is null ? null : new { current.Plan, current.PendingPlan, current.BillingCycle },
            new { result.Plan, result.PendingPlan, result.BillingCycle, result.Status, currency }, cancellationToken);
        var lost = await FeatureLoss.LostAsync(features, scope, tenantBefore, tenantAfter, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new SubscriptionChange(result, lost);
    }

    /// <summary>Derives the idempotency key of a change from our records: the subscription id, the ordinal of this change and what it asks,
    /// so a retry after a crash repeats the same request and a later change is a new one.</summary>
    internal static string ChangeKey(SubscriptionSnapshot current, string what) => $"subscription-{current.Id}-change-{current.ChangeSeq + 1}-{what}";

    /// <summary>Clears Stripe's cancel_at_period_end when a change is asked of a subscription set to end: choosing a plan means staying.</summary>
    private async Task ResumeInStripeAsync(SubscriptionSnapshot current, string stripeId, CancellationToken cancellationToken)
    {
        if (current.CancelAtPeriodEnd)
        {
            await stripe.SetCancelAtPeriodEndAsync(stripeId, false, ChangeKey(current, "resume"), cancellationToken);
        }
    }

    private async Task<SubscriptionSnapshot> SaveAsync(TenantScope scope, SubscriptionSnapshot changed, DateTimeOffset now, CancellationToken cancellationToken) =>
        await billing.SaveSubscriptionAsync(scope.Session, changed with { ChangeSeq = changed.ChangeSeq + 1, UpdatedAt = now }, cancellationToken)
            ?? throw new NotFoundException("subscription");

    /// <summary>Creates the customer on first need and the subscription in Stripe; the idempotency keys come from our own records
    /// (the tenant id, and the ordinal of this tenant's subscription), so a retry after a crash never creates a second one.</summary>
    private async Task<StripeSubscriptionResult> CreateInStripeAsync(TenantScope scope, string plan, SubscribeTenant command, Guid id, string currency, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
        var ordinal = await billing.CountSubscriptionsAsync(scope.Session, tenantId, cancellationToken) + 1;
        return await stripe.CreateSubscriptionAsync(customerId, plan, command.BillingCycle!, command.PaymentMethodId, id,
            $"tenant-{tenantId}-subscription-{ordinal}", cancellationToken, tenantId, currency);
    }
}
