using Platform.Drivers.Credits;
using Platform.Engines.Audit;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Webhooks;

namespace Platform.Engines.Credits;

/// <summary>Holds the ledger rules every credits command shares: the account exists, the month's plan grant is in, and every balance change writes its ledger row.</summary>
internal static class CreditLedger
{
    /// <summary>Creates the account on first need and adds the plan's monthly grant once per UTC month, inside the caller's transaction.</summary>
    public static async Task<CreditAccountSnapshot> OpenAccountAsync(
        ICreditDriver credits, AuditTrail audit, TenantScope scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var grant = (await scope.LimitsAsync(cancellationToken))?.CreditsPerMonth ?? 0;
        await credits.EnsureAccountAsync(scope.Session, tenantId, grant, now, cancellationToken);
        if (grant > 0)
        {
            var period = CreditPackCatalog.PeriodOf(now);
            if (await credits.TryGrantPeriodAsync(scope.Session, tenantId, period, grant, now, cancellationToken) is { } balance)
            {
                await AppendAsync(credits, scope, CreditTransactionType.QuotaMonthly, grant, balance, "period:" + period, null, now, cancellationToken);
                await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.granted", "credit_account", tenantId,
                    null, new { type = "quota_monthly", amount = grant, balance_after = balance, period }, cancellationToken);
            }
        }
        return await credits.FetchAccountAsync(scope.Session, tenantId, cancellationToken)
            ?? throw new NotFoundException("credit account");
    }

    /// <summary>Debits credits for usage inside the caller's transaction: one conditional UPDATE decides (the balance never goes below zero), then the ledger row and the audit row; refuses with 402 insufficient_credits when short, and the caller's transaction then writes nothing.</summary>
    public static async Task<CreditTransactionSnapshot> DebitAsync(
        ICreditDriver credits, AuditTrail audit, WebhookEvents events, TenantScope scope, Caller caller, long amount, string? reference, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        await OpenAccountAsync(credits, audit, scope, now, cancellationToken);
        var balance = await credits.TryDebitAsync(scope.Session, tenantId, amount, now, cancellationToken);
        if (balance is null)
        {
            var account = await credits.FetchAccountAsync(scope.Session, tenantId, cancellationToken);
            throw new QuotaExceededException("credits", amount, account?.Balance ?? 0,
                CreditPackCatalog.NextPeriodStart(now), "insufficient_credits");
        }
        var row = await AppendAsync(credits, scope, CreditTransactionType.Usage, -amount, balance.Value, reference, null, now, cancellationToken);
        await audit.RecordAsync(scope.Session, tenantId, caller, "credits.debited", "credit_account", tenantId,
            null, new { amount = -amount, balance_after = balance, reference }, cancellationToken);
        // Once per fall to or below the threshold: only the debit that crosses it sends credits.low (a grant or purchase lifts it again).
        var threshold = events.CreditsLowThreshold;
        if (balance.Value <= threshold && balance.Value + amount > threshold)
        {
            await events.EmitAsync(scope.Session, tenantId, WebhookEventTypes.CreditsLow, new CreditsLowEventData(balance.Value, threshold), cancellationToken);
        }
        return row;
    }

    /// <summary>Appends the ledger row of a balance change; a reference already used by this type is a conflict (the transaction then rolls back).</summary>
    public static async Task<CreditTransactionSnapshot> AppendAsync(
        ICreditDriver credits, TenantScope scope, CreditTransactionType type, long amount, long balanceAfter, string? reference,
        string? stripePaymentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await credits.TryAppendTransactionAsync(scope.Session, new CreditTransactionSnapshot(
            scope.Tenant.Id, Guid.CreateVersion7(), type, amount, balanceAfter, reference, stripePaymentId, now), cancellationToken)
        ?? throw new ConflictException($"The reference '{reference}' was already applied as {type.ToWire()}.", "duplicate_reference");
}
