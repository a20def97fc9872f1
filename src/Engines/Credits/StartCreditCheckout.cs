using FluentValidation;
using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Email;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Stripe;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Buys a credit pack through Stripe Checkout in payment mode (owner, online only): a pending purchase is recorded and credited once
/// when Stripe reports checkout.session.completed as paid (or the PaymentIntent's own success, whichever comes first).</summary>
public sealed record StartCreditCheckout(Caller Caller, Guid TenantId, string? Pack)
    : IRequest<CreditCheckoutResult>, ITenantWrite, ICallerCommand;

/// <summary>Holds the pending purchase and the Checkout Session that pays it.</summary>
public sealed record CreditCheckoutResult(CreditPurchaseSnapshot Purchase, StripeCheckoutSessionResult Session);

internal sealed class StartCreditCheckoutValidator : AbstractValidator<StartCreditCheckout>
{
    public StartCreditCheckoutValidator() =>
        RuleFor(c => c.Pack).NotEmpty().Must(p => CreditPackCatalog.Find(p) is not null)
            .WithMessage($"The pack must be one of: {string.Join(", ", CreditPackCatalog.All.Select(p => p.Id))}.");
}

internal sealed class StartCreditCheckoutHandler(
    TenantGate gate, ICreditDriver credits, IBillingDriver billing, IStripeDriver stripe, EmailOptions emailOptions, AuditTrail audit, CreditsOptions options, ICreditPackCurrency packCurrency, IClock clock)
    : IRequestHandler<StartCreditCheckout, CreditCheckoutResult>
{
    public async Task<CreditCheckoutResult> Handle(StartCreditCheckout command, CancellationToken cancellationToken)
    {
        var pack = CreditPackCatalog.Find(command.Pack)!;
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Write, cancellationToken);
        if (!stripe.Online)
        {
            throw new ConflictException("Buying credits through Checkout needs online billing, and no Stripe key is configured (Stripe:SecretKey): "
                + "billing runs offline; POST /credits/purchase credits a pack at once.", "billing_offline");
        }
        await CreditLedger.OpenAccountAsync(credits, audit, options, scope, now, cancellationToken);
        // The pack is priced in the tenant's billing currency (ADR 0777); buying it fixes no currency.
        var currency = await packCurrency.CurrencyOfAsync(scope, cancellationToken);
        var price = pack.PriceIn(currency) ?? throw new InvalidOperationException($"The pack '{pack.Id}' has no price in '{currency}'.");
        var id = Guid.CreateVersion7();
        var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
        var billingUrl = emailOptions.LinkBaseUrl.TrimEnd('/') + "/billing";
        var session = await stripe.CreatePackCheckoutAsync(customerId, command.TenantId, id, $"{pack.Credits} credits", price.PriceCents, price.Currency,
            billingUrl + "?checkout=success", billingUrl + "?checkout=cancel", $"credit-purchase-{id}-checkout", cancellationToken);
        var pending = await credits.InsertPurchaseAsync(scope.Session, new CreditPurchaseSnapshot(
            command.TenantId, id, pack.Id, pack.Credits, price.PriceCents, price.Currency, CreditPurchaseStatus.Pending, null, now, null), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "credits.checkout_started", "credit_purchase", id,
            null, new { pack = pack.Id, pack.Credits, amount_cents = price.PriceCents, price.Currency, pending.Status, checkout_session = session.Id }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new CreditCheckoutResult(pending, session);
    }
}
