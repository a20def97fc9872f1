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
    /// <summary>Creates the account on first need, starts the UTC month once (expiring last month's unused grant when configured, then adding the
    /// plan's monthly grant) and grants an upgrade's difference when the plan's grant rose within the month, inside the caller's transaction.
    /// monthlyGrant overrides the scope's limits (a plan change in this transaction).</summary>
    public static async Task<CreditAccountSnapshot> OpenAccountAsync(
        ICreditDriver credits, AuditTrail audit, CreditsOptions options, TenantScope scope, DateTimeOffset now, CancellationToken cancellationToken, long? monthlyGrant = null) =>
        (await OpenPeriodAsync(credits, audit, options, scope, now, cancellationToken, monthlyGrant)).Account;

    /// <summary>Does what <see cref="OpenAccountAsync"/> does and tells whether this call started the month (the grant job's count).</summary>
    public static async Task<(CreditAccountSnapshot Account, bool Started)> OpenPeriodAsync(
        ICreditDriver credits, AuditTrail audit, CreditsOptions options, TenantScope scope, DateTimeOffset now, CancellationToken cancellationToken, long? monthlyGrant = null)
    {
        var tenantId = scope.Tenant.Id;
        var grant = monthlyGrant ?? (await scope.LimitsAsync(cancellationToken))?.CreditsPerMonth ?? 0;
        var period = CreditPackCatalog.PeriodOf(now);
        await credits.EnsureAccountAsync(scope.Session, tenantId, grant, now, cancellationToken);
        var account = await credits.FetchAccountAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("credit account");
        var started = false;
        if (account.LastGrantPeriod != period)
        {
            // Once a month per account: decided again under the row lock, so concurrent readers and job copies start the month once.
            account = await credits.LockAccountAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("credit account");
            if (account.LastGrantPeriod != period)
            {
                await StartPeriodAsync(credits, audit, options, scope, account, period, Math.Max(grant, 0), now, cancellationToken);
                started = true;
            }
        }
        else if (grant > account.PeriodGranted)
        {
            account = await credits.LockAccountAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("credit account");
            if (account.LastGrantPeriod == period && grant > account.PeriodGranted)
            {
                // An upgrade within the month grants only the difference to what the month has granted already (a downgrade takes nothing back).
                var difference = grant - account.PeriodGranted;
                var balance = await credits.TryAddPeriodGrantAsync(scope.Session, tenantId, period, difference, now, cancellationToken)
                    ?? throw new InvalidOperationException("The credit account locked in this transaction changed its period.");
                await AppendAsync(credits, scope, CreditTransactionType.PlanUpgrade, difference, balance, $"upgrade:{period}:{grant}", null, now, cancellationToken);
                await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.granted", "credit_account", tenantId,
                    null, new { type = "plan_upgrade", amount = difference, balance_after = balance, period, monthly_grant = grant }, cancellationToken);
            }
        }
        var opened = await credits.FetchAccountAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("credit account");
        return (opened, started);
    }

    private static async Task StartPeriodAsync(
        ICreditDriver credits, AuditTrail audit, CreditsOptions options, TenantScope scope, CreditAccountSnapshot account, string period, long grant,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        // Granted credits are spent first, so what is left of last month's grants is min(unspent grant, balance); purchases never expire.
        var expired = options.ExpireUnusedAtPeriodEnd && account.LastGrantPeriod is not null && !account.Unlimited
            ? Math.Min(account.GrantRemaining, account.Balance)
            : 0;
        var balance = await credits.TryStartPeriodAsync(scope.Session, tenantId, period, expired, grant, now, cancellationToken)
            ?? throw new InvalidOperationException("The credit account locked in this transaction started the period meanwhile.");
        if (expired > 0)
        {
            await AppendAsync(credits, scope, CreditTransactionType.Expiry, -expired, account.Balance - expired, "expiry:" + account.LastGrantPeriod, null, now, cancellationToken);
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.expired", "credit_account", tenantId,
                null, new { type = "expiry", amount = -expired, balance_after = account.Balance - expired, period = account.LastGrantPeriod }, cancellationToken);
        }
        if (grant > 0)
        {
            await AppendAsync(credits, scope, CreditTransactionType.QuotaMonthly, grant, balance, "period:" + period, null, now, cancellationToken);
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "credits.granted", "credit_account", tenantId,
                null, new { type = "quota_monthly", amount = grant, balance_after = balance, period }, cancellationToken);
        }
    }

    /// <summary>Debits credits for usage inside the caller's transaction: one conditional UPDATE decides (the balance never goes below zero), then the ledger row and the audit row; refuses with 402 insufficient_credits when short, and the caller's transaction then writes nothing.</summary>
    public static async Task<CreditTransactionSnapshot> DebitAsync(
        ICreditDriver credits, AuditTrail audit, CreditsOptions options, WebhookEvents events, TenantScope scope, Caller caller, long amount, string? reference, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        await OpenAccountAsync(credits, audit, options, scope, now, cancellationToken);
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
