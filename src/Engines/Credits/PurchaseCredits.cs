using FluentValidation;
using MediatR;
using Platform.Engines.Stripe;
using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Buys a credit pack (owner): offline (no Stripe key) the pack is credited at once (docs/decisions/0300); online a PaymentIntent is created and the purchase stays pending until Stripe reports the payment.</summary>
public sealed record PurchaseCredits(Caller Caller, Guid TenantId, string? Pack)
    : IRequest<CreditPurchaseResult>, ITenantWrite, ICallerCommand;

/// <summary>Holds a purchase and, online, the PaymentIntent's client secret the front end confirms the payment with (shown once, never stored).</summary>
public sealed record CreditPurchaseResult(CreditPurchaseSnapshot Purchase, string? ClientSecret);

internal sealed class PurchaseCreditsValidator : AbstractValidator<PurchaseCredits>
{
    public PurchaseCreditsValidator() =>
        RuleFor(c => c.Pack).NotEmpty().Must(p => CreditPackCatalog.Find(p) is not null)
            .WithMessage($"The pack must be one of: {string.Join(", ", CreditPackCatalog.All.Select(p => p.Id))}.");
}

internal sealed class PurchaseCreditsHandler(TenantGate gate, ICreditDriver credits, IBillingDriver billing, IStripeDriver stripe, AuditTrail audit, CreditsOptions options, ICreditPackCurrency packCurrency, IClock clock)
    : IRequestHandler<PurchaseCredits, CreditPurchaseResult>
{
    public async Task<CreditPurchaseResult> Handle(PurchaseCredits command, CancellationToken cancellationToken)
    {
        var pack = CreditPackCatalog.Find(command.Pack)!;
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Write, cancellationToken);
        await CreditLedger.OpenAccountAsync(credits, audit, options, scope, now, cancellationToken);
        // The pack is priced in the tenant's billing currency (ADR 0777); buying it fixes no currency.
        var currency = await packCurrency.CurrencyOfAsync(scope, cancellationToken);
        var price = pack.PriceIn(currency) ?? throw new InvalidOperationException($"The pack '{pack.Id}' has no price in '{currency}'.");
        var id = Guid.CreateVersion7();
        if (stripe.Online)
        {
            var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
            var intent = await stripe.CreatePaymentIntentAsync(customerId, price.PriceCents, price.Currency, command.TenantId, id, $"credit-purchase-{id}", cancellationToken);
            var pending = await credits.InsertPurchaseAsync(scope.Session, new CreditPurchaseSnapshot(
                command.TenantId, id, pack.Id, pack.Credits, price.PriceCents, price.Currency, CreditPurchaseStatus.Pending, intent.Id, now, null), cancellationToken);
            await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "credits.purchase_started", "credit_purchase", id,
                null, new { pack = pack.Id, pack.Credits, amount_cents = price.PriceCents, price.Currency, pending.Status, payment_intent = intent.Id }, cancellationToken);
            await scope.CommitAsync(cancellationToken);
            return new CreditPurchaseResult(pending, intent.ClientSecret);
        }

        await credits.InsertPurchaseAsync(scope.Session, new CreditPurchaseSnapshot(
            command.TenantId, id, pack.Id, pack.Credits, price.PriceCents, price.Currency, CreditPurchaseStatus.Pending, null, now, null), cancellationToken);

        // Offline: no payment provider, so the purchase settles now; the reference makes a second credit impossible.
        var purchase = await credits.TrySettlePurchaseAsync(scope.Session, command.TenantId, id, CreditPurchaseStatus.Succeeded, null, now, cancellationToken)
            ?? throw new InvalidOperationException("A purchase inserted in this transaction was not pending.");
        var balance = await credits.CreditAsync(scope.Session, command.TenantId, pack.Credits, now, cancellationToken)
            ?? throw new InvalidOperationException("The credit account opened in this transaction is gone.");
        await CreditLedger.AppendAsync(credits, scope, CreditTransactionType.Purchase, pack.Credits, balance, "purchase:" + id, null, now, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "credits.purchased", "credit_purchase", id,
            null, new { pack = pack.Id, pack.Credits, amount_cents = price.PriceCents, price.Currency, purchase.Status }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new CreditPurchaseResult(purchase, null);
    }
}
