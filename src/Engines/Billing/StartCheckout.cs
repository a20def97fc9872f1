using FluentValidation;
using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Stripe;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Starts a Stripe Checkout Session in subscription mode for a paid plan and cycle (owner, online only): the tenant's Stripe customer is
/// created or reused, promotion codes are allowed, and the subscription is completed here when Stripe reports checkout.session.completed. The session
/// is priced in the tenant's currency (or the one asked while none is fixed); the currency is fixed only when the checkout completes (ADR 0776).</summary>
public sealed record StartCheckout(Caller Caller, Guid TenantId, string? Plan, string? BillingCycle, string? Currency = null)
    : IRequest<StripeCheckoutSessionResult>, ITenantWrite, ICallerCommand;

/// <summary>Opens a Stripe customer-portal session (admin or owner, online only) for cards, invoices and cancellation, returning to the dashboard.</summary>
public sealed record OpenBillingPortal(Caller Caller, Guid TenantId) : IRequest<string>, ITenantWrite, ICallerCommand;

internal sealed class StartCheckoutValidator : AbstractValidator<StartCheckout>
{
    public StartCheckoutValidator()
    {
        RuleFor(c => c.Plan).NotEmpty().Must(p => PlanCatalog.Find(p) is { PriceMonthlyCents: > 0 })
            .WithMessage($"The plan must be a paid plan: {string.Join(", ", PlanCatalog.All.Where(p => p.PriceMonthlyCents > 0).Select(p => p.Id))}.");
        RuleFor(c => c.BillingCycle).NotEmpty().Must(c => c is "monthly" or "annual").WithMessage("The billing cycle must be monthly or annual.");
        RuleFor(c => c.Currency).Must(c => c is null || PlanCatalog.IsCurrency(BillingCurrencies.Normalise(c))).WithMessage(BillingCurrencies.UnknownMessage);
    }
}

/// <summary>Refuses what needs Stripe while billing runs offline, naming why.</summary>
internal static class OnlineBilling
{
    public static void Require(IStripeDriver stripe, string what)
    {
        if (!stripe.Online)
        {
            throw new ConflictException($"{what} needs online billing, and no Stripe key is configured (Stripe:SecretKey): billing runs offline.", "billing_offline");
        }
    }
}

internal sealed class StartCheckoutHandler(TenantGate gate, ITenantDriver tenants, IBillingDriver billing, IStripeDriver stripe, BillingLifecycle lifecycle, AuditTrail audit, BillingOptions options, IClock clock)
    : IRequestHandler<StartCheckout, StripeCheckoutSessionResult>
{
    public async Task<StripeCheckoutSessionResult> Handle(StartCheckout command, CancellationToken cancellationToken)
    {
        var plan = PlanCatalog.Get(command.Plan!);
        var now = clock.UtcNow;
        // Read access, then the suspension check, as when subscribing: a tenant suspended by billing may pay its way back.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        OnlineBilling.Require(stripe, "Checkout");
        if (scope.Tenant.Status.BlocksWrites() && !BillingLifecycle.IsBillingSuspension(scope.Tenant))
        {
            throw new TenantSuspendedException();
        }
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        if (await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken) is { StripeSubscriptionId: not null } live)
        {
            throw new ConflictException($"The tenant already has a Stripe subscription ({live.Plan}); change its plan with POST /subscription or manage it in the billing portal.", "already_subscribed");
        }
        // The session is priced in the currency the tenant has, or asks for while it has none; it is fixed only when the checkout completes
        // (checkout.session.completed, ADR 0776): an abandoned session leaves the tenant free to choose another.
        var currency = await BillingCurrencies.ResolveAsync(billing, scope, command.Currency, options.DefaultCurrencyCode, cancellationToken);
        var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
        // The key comes from our records: the ordinal of the subscription this checkout would start, and what it asks. A retry (or a second click)
        // within Stripe's 24 hours gets the same session back instead of a second one.
        var ordinal = await billing.CountSubscriptionsAsync(scope.Session, command.TenantId, cancellationToken) + 1;
        var session = await stripe.CreateSubscriptionCheckoutAsync(customerId, command.TenantId, plan.Id, command.BillingCycle!,
            lifecycle.BillingUrl + "?checkout=success", lifecycle.BillingUrl + "?checkout=cancel",
            $"tenant-{command.TenantId}-checkout-{ordinal}-{plan.Id}-{command.BillingCycle}{(currency == PlanCatalog.Usd ? "" : "-" + currency)}", cancellationToken, currency);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "billing.checkout_started", "stripe_checkout_session", null,
            null, new { session.Id, plan = plan.Id, billing_cycle = command.BillingCycle, currency }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return session;
    }
}

internal sealed class OpenBillingPortalHandler(TenantGate gate, IBillingDriver billing, IStripeDriver stripe, BillingLifecycle lifecycle, AuditTrail audit, IClock clock)
    : IRequestHandler<OpenBillingPortal, string>
{
    public async Task<string> Handle(OpenBillingPortal command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // Read access: a suspended tenant must still reach its cards and invoices to pay.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        OnlineBilling.Require(stripe, "The billing portal");
        var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
        var url = await stripe.CreatePortalSessionAsync(customerId, lifecycle.BillingUrl, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "billing.portal_opened", "stripe_customer", null,
            null, new { customer = customerId }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return url;
    }
}
