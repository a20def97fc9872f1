using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Applies a Stripe webhook after verifying its signature: payment_intent.succeeded credits a pack once; the event id is recorded with its effect; other types are ignored. Returns processed, duplicate or ignored.</summary>
public sealed record ReceiveStripeWebhook(string Payload, string? Signature) : IRequest<string>;

internal sealed class ReceiveStripeWebhookHandler(TenantGate gate, IStripeDriver stripe, IBillingDriver billing, ICreditDriver credits, AuditTrail audit, IClock clock)
    : IRequestHandler<ReceiveStripeWebhook, string>
{
    public async Task<string> Handle(ReceiveStripeWebhook command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var stripeEvent = stripe.VerifyWebhook(command.Payload, command.Signature, now);
        if (stripeEvent.Type != "payment_intent.succeeded"
            || !Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("tenant_id"), out var tenantId)
            || !Guid.TryParse(stripeEvent.Metadata.GetValueOrDefault("credit_purchase_id"), out var purchaseId))
        {
            return "ignored";
        }

        TenantScope scope;
        try
        {
            // Read access: a payment that went through is credited even to a suspended tenant.
            scope = await gate.EnterAsync(tenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
        }
        catch (NotFoundException)
        {
            return "ignored";
        }
        await using (scope)
        {
            if (!await billing.TryRecordStripeEventAsync(scope.Session, tenantId, stripeEvent.Id, stripeEvent.Type, stripeEvent.Created, now, cancellationToken))
            {
                return "duplicate";
            }
            // Conditional on 'pending': a second event for the same payment credits nothing.
            var purchase = await credits.TrySettlePurchaseAsync(scope.Session, tenantId, purchaseId, "succeeded", stripeEvent.ObjectId, now, cancellationToken);
            if (purchase is not null)
            {
                await CreditLedger.OpenAccountAsync(credits, audit, scope, now, cancellationToken);
                var balance = await credits.CreditAsync(scope.Session, tenantId, purchase.Credits, now, cancellationToken)
                    ?? throw new InvalidOperationException("The credit account opened in this transaction is gone.");
                await CreditLedger.AppendAsync(credits, scope, CreditTransactionType.Purchase, purchase.Credits, balance,
                    "purchase:" + purchase.Id, stripeEvent.ObjectId, now, cancellationToken);
                await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.purchased", "credit_purchase", purchase.Id,
                    new { status = "pending" }, new { purchase.Status, purchase.Credits, balance_after = balance, stripe_event = stripeEvent.Id }, cancellationToken);
            }
            await scope.CommitAsync(cancellationToken);
            return "processed";
        }
    }
}
