using System.Text.Json;
using Platform.Drivers.Credits;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Adds (positive) or takes (negative) credits on a tenant's account as an `adjustment` ledger row (billing+; the target is the tenant id, the
/// signed amount the action's input). Taking more than the balance is 409 insufficient_credits. Reversing it books the opposite adjustment.</summary>
internal sealed class AdjustCreditsAction(ICreditDriver credits, AuditTrail audit, CreditsOptions options, IClock clock) : IFounderActionType
{
    public const long MaxAmount = 1_000_000_000;

    public string Name => FounderActionTypes.AdjustCredits;
    public string TargetType => "tenant";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Guid.TryParse(targetId, out var tenantId) ? tenantId : throw new NotFoundException("tenant"));

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var amount = context.Input is long v && v != 0 && Math.Abs(v) <= MaxAmount
            ? v
            : throw ValidationFailedException.For("amount", $"The amount is required: a whole number of credits other than 0, between -{MaxAmount} and {MaxAmount}.");
        var row = await CreditCorrections.ChangeAsync(credits, audit, options, context, amount, CreditTransactionType.Adjustment, "action:" + context.ActionId,
            null, "credits.adjusted", clock.UtcNow, cancellationToken);
        return new { amount, balance_after = row.BalanceAfter, transaction_id = row.Id };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var amount = details.RootElement.GetProperty("amount").GetInt64();
        await CreditCorrections.ChangeAsync(credits, audit, options, context, -amount, CreditTransactionType.Adjustment, "reversal:" + original.Id,
            null, "credits.adjusted", clock.UtcNow, cancellationToken);
    }
}

/// <summary>Refunds a succeeded credit pack purchase (billing+; the target is "{tenant_id}/{purchase_id}"): takes the pack's credits back as a `refund`
/// ledger row and, when Stripe was paid (online), refunds the PaymentIntent through Stripe in the same step. Once per purchase (409 purchase_already_refunded);
/// 409 purchase_not_refundable when it did not succeed, 409 insufficient_credits when its credits are spent. Irreversible: money went back.</summary>
internal sealed class RefundCreditPurchaseAction(ICreditDriver credits, IStripeDriver stripe, AuditTrail audit, CreditsOptions options, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.RefundCreditPurchase;
    public string TargetType => "credit_purchase";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var (tenantId, purchaseId) = Parse(context.TargetId);
        var session = context.Scope.Session;
        var purchase = await credits.FetchPurchaseAsync(session, tenantId, purchaseId, cancellationToken) ?? throw new NotFoundException("credit purchase");
        if (purchase.Status != CreditPurchaseStatus.Succeeded)
        {
            throw new ConflictException($"A {purchase.Status.ToWire()} purchase has nothing to refund.", "purchase_not_refundable");
        }
        // Decided under the account's row lock: of concurrent refunds of one purchase, the later ones see the first one's ledger row.
        await CreditLedger.OpenAccountAsync(credits, audit, options, context.Scope, clock.UtcNow, cancellationToken);
        await credits.LockAccountAsync(session, tenantId, cancellationToken);
        var reference = "refund:" + purchaseId;
        if (await credits.FetchTransactionByReferenceAsync(session, tenantId, CreditTransactionType.Refund, reference, cancellationToken) is not null)
        {
            throw new ConflictException("This purchase is refunded already.", "purchase_already_refunded");
        }
        // The credits first (a concurrent refund waits on the account row and then meets the ledger's unique reference), Stripe last, then the commit:
        // a Stripe failure rolls everything back, and the idempotency key makes a retry after a lost commit refund once.
        var row = await CreditCorrections.ChangeAsync(credits, audit, options, context, -purchase.Credits, CreditTransactionType.Refund, reference,
            null, "credits.refunded", clock.UtcNow, cancellationToken, duplicateCode: "purchase_already_refunded");
        string? stripeRefundId = null;
        if (purchase.StripePaymentIntentId is { } intent && stripe.Online)
        {
            stripeRefundId = await stripe.RefundPaymentIntentAsync(intent, purchase.AmountCents, tenantId, purchaseId, $"credit-refund-{purchaseId}", cancellationToken);
        }
        return new
        {
            purchase_id = purchaseId, purchase.Pack, credits = purchase.Credits, amount_cents = purchase.AmountCents, purchase.Currency,
            balance_after = row.BalanceAfter, transaction_id = row.Id, stripe_refund_id = stripeRefundId,
        };
    }

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        throw new ConflictException("A refund cannot be reversed; sell a new pack instead.", "action_irreversible");

    private static (Guid TenantId, Guid PurchaseId) Parse(string targetId)
    {
        var parts = targetId.Split('/');
        return parts.Length == 2 && Guid.TryParse(parts[0], out var tenantId) && Guid.TryParse(parts[1], out var purchaseId)
            ? (tenantId, purchaseId)
            : throw new NotFoundException("credit purchase");
    }
}

/// <summary>Books an operator's correction on the credit account inside the action's transaction: the balance change (a take never below zero), its ledger row and the tenant's audit row.</summary>
internal static class CreditCorrections
{
    public static async Task<CreditTransactionSnapshot> ChangeAsync(
        ICreditDriver credits, AuditTrail audit, CreditsOptions options, FounderActionContext context, long amount, CreditTransactionType type, string reference,
        string? stripePaymentId, string auditAction, DateTimeOffset now, CancellationToken cancellationToken, string duplicateCode = "duplicate_reference")
    {
        var scope = context.Scope;
        var tenantId = scope.Tenant.Id;
        await CreditLedger.OpenAccountAsync(credits, audit, options, scope, now, cancellationToken);
        var balance = amount > 0
            ? await credits.CreditAsync(scope.Session, tenantId, amount, now, cancellationToken)
            : await credits.TryTakeAsync(scope.Session, tenantId, -amount, now, cancellationToken);
        if (balance is null)
        {
            var account = await credits.FetchAccountAsync(scope.Session, tenantId, cancellationToken);
            throw new ConflictException($"The balance ({account?.Balance ?? 0} credits) is smaller than the {-amount} credits to take.", "insufficient_credits");
        }
        var row = await credits.TryAppendTransactionAsync(scope.Session,
                new CreditTransactionSnapshot(tenantId, Guid.CreateVersion7(), type, amount, balance.Value, reference, stripePaymentId, now), cancellationToken)
            ?? throw new ConflictException($"The reference '{reference}' was already applied as {type.ToWire()}.", duplicateCode);
        await audit.RecordAsync(scope.Session, tenantId, context.Caller, auditAction, "credit_account", tenantId,
            null, new { type = type.ToWire(), amount, balance_after = balance, reference, reason = context.ReasonText }, cancellationToken);
        return row;
    }
}
