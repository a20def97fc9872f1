using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Credits;

namespace Platform.Drivers.Credits;

/// <summary>Reads and writes a tenant's credit account, its append-only ledger and its pack purchases.</summary>
public interface ICreditDriver
{
    /// <summary>Creates the tenant's account with a zero balance if it has none, and sets its monthly grant (credits, -1 unlimited) to the plan's.</summary>
    Task EnsureAccountAsync(IDbSession session, Guid tenantId, long monthlyGrant, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's account locked FOR UPDATE (until the transaction ends), or null when it has none.</summary>
    Task<CreditAccountSnapshot?> LockAccountAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Starts a UTC period ("yyyy-MM") on a locked account: takes the expired credits off, adds the period's grant (both may be 0), and makes
    /// the grant the period's granted and unspent amount; returns the new balance, or null when the period was started already.</summary>
    Task<long?> TryStartPeriodAsync(IDbSession session, Guid tenantId, string period, long expired, long grant, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds an upgrade's difference to the current period's grant (balance, granted and unspent) and returns the new balance, or null when the period is not the account's.</summary>
    Task<long?> TryAddPeriodGrantAsync(IDbSession session, Guid tenantId, string period, long amount, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes credits (an operator's negative adjustment or a refund) in one conditional update and returns the new balance, or null when the balance is short.</summary>
    Task<long?> TryTakeAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists up to limit tenants (not deleted) whose account has not been granted the period, or who have no account, across tenants.</summary>
    Task<IReadOnlyList<Guid>> ListTenantsDueForGrantAsync(IDbSession session, string period, int limit, CancellationToken cancellationToken);

    /// <summary>Fetches a pack purchase, or null.</summary>
    Task<CreditPurchaseSnapshot?> FetchPurchaseAsync(IDbSession session, Guid tenantId, Guid purchaseId, CancellationToken cancellationToken);

    /// <summary>Fetches the ledger row of a type that holds a reference, or null.</summary>
    Task<CreditTransactionSnapshot?> FetchTransactionByReferenceAsync(IDbSession session, Guid tenantId, CreditTransactionType type, string reference, CancellationToken cancellationToken);

    /// <summary>Takes credits in one conditional update and returns the new balance, or null when the balance is short (unlimited accounts are never short and keep their balance).</summary>
    Task<long?> TryDebitAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds credits and returns the new balance, or null when the tenant has no account.</summary>
    Task<long?> CreditAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's account, or null.</summary>
    Task<CreditAccountSnapshot?> FetchAccountAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Appends one ledger row, or returns null when a row of the same type already holds the reference.</summary>
    Task<CreditTransactionSnapshot?> TryAppendTransactionAsync(IDbSession session, CreditTransactionSnapshot transaction, CancellationToken cancellationToken);

    /// <summary>Lists ledger rows newest first, before a cursor id.</summary>
    Task<IReadOnlyList<CreditTransactionSnapshot>> ListTransactionsAsync(IDbSession session, Guid tenantId, Guid? before, int limit, CancellationToken cancellationToken);

    /// <summary>Inserts a pack purchase.</summary>
    Task<CreditPurchaseSnapshot> InsertPurchaseAsync(IDbSession session, CreditPurchaseSnapshot purchase, CancellationToken cancellationToken);

    /// <summary>Moves a pending purchase to succeeded or failed and returns it, or null when it is not pending (already settled or unknown).</summary>
    Task<CreditPurchaseSnapshot?> TrySettlePurchaseAsync(IDbSession session, Guid tenantId, Guid purchaseId, CreditPurchaseStatus status, string? stripePaymentIntentId, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class CreditDriver : ICreditDriver
{
    private const string AccountColumns = "tenant_id, balance, monthly_grant, last_grant_period, created_at, updated_at, period_granted, grant_remaining";
    private const string TransactionColumns = "tenant_id, id, type, amount, balance_after, reference, stripe_payment_id, created_at";
    private const string PurchaseColumns = "tenant_id, id, pack, credits, amount_cents, currency, status, stripe_payment_intent_id, created_at, completed_at";

    public async Task EnsureAccountAsync(IDbSession session, Guid tenantId, long monthlyGrant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO credit_accounts (tenant_id, balance, monthly_grant, created_at, updated_at)
            VALUES (@tenantId, 0, @monthlyGrant, @now, @now)
            ON CONFLICT (tenant_id) DO NOTHING
            """,
            new { tenantId, monthlyGrant, now }, cancellationToken);
        // A separate conditional update: it locks the row only when the plan's grant really changed
        // (ON CONFLICT DO UPDATE would lock it on every call and serialise every debit's whole transaction).
        await session.ExecuteAsync(
            """
            UPDATE credit_accounts SET monthly_grant = @monthlyGrant, updated_at = @now
            WHERE tenant_id = @tenantId AND monthly_grant <> @monthlyGrant
            """,
            new { tenantId, monthlyGrant, now }, cancellationToken);
    }

    public async Task<CreditAccountSnapshot?> LockAccountAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {AccountColumns} FROM credit_accounts WHERE tenant_id = @tenantId FOR UPDATE", new { tenantId }, (AccountRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<long?> TryStartPeriodAsync(IDbSession session, Guid tenantId, string period, long expired, long grant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<long?>(
            """
            UPDATE credit_accounts
            SET balance = balance - @expired + @grant, period_granted = @grant, grant_remaining = @grant, last_grant_period = @period, updated_at = @now
            WHERE tenant_id = @tenantId AND last_grant_period IS DISTINCT FROM @period
            RETURNING balance
            """,
            new { tenantId, period, expired, grant, now }, cancellationToken);
    }

    public async Task<long?> TryAddPeriodGrantAsync(IDbSession session, Guid tenantId, string period, long amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<long?>(
            """
            UPDATE credit_accounts
            SET balance = balance + @amount, period_granted = period_granted + @amount, grant_remaining = grant_remaining + @amount, updated_at = @now
            WHERE tenant_id = @tenantId AND last_grant_period = @period
            RETURNING balance
            """,
            new { tenantId, period, amount, now }, cancellationToken);
    }

    public async Task<long?> TryTakeAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<long?>(
            """
            UPDATE credit_accounts
            SET balance = balance - @amount, grant_remaining = LEAST(grant_remaining, balance - @amount), updated_at = @now
            WHERE tenant_id = @tenantId AND balance >= @amount
            RETURNING balance
            """,
            new { tenantId, amount, now }, cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsDueForGrantAsync(IDbSession session, string period, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_due_for_credit_grant FROM tenants_due_for_credit_grant(@period, @limit)", new { period, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<CreditPurchaseSnapshot?> FetchPurchaseAsync(IDbSession session, Guid tenantId, Guid purchaseId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {PurchaseColumns} FROM credit_purchases WHERE tenant_id = @tenantId AND id = @purchaseId",
            new { tenantId, purchaseId }, (PurchaseRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<CreditTransactionSnapshot?> FetchTransactionByReferenceAsync(IDbSession session, Guid tenantId, CreditTransactionType type, string reference, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {TransactionColumns} FROM credit_transactions WHERE tenant_id = @tenantId AND type = @type AND reference = @reference",
            new { tenantId, type = type.ToWire(), reference }, (TransactionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<long?> TryDebitAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<long?>(
            """
            UPDATE credit_accounts
            SET balance = CASE WHEN monthly_grant < 0 THEN balance ELSE balance - @amount END,
                grant_remaining = CASE WHEN monthly_grant < 0 THEN grant_remaining ELSE GREATEST(grant_remaining - @amount, 0) END, updated_at = @now
            WHERE tenant_id = @tenantId AND (monthly_grant < 0 OR balance >= @amount)
            RETURNING balance
            """,
            new { tenantId, amount, now }, cancellationToken);
    }

    public async Task<long?> CreditAsync(IDbSession session, Guid tenantId, long amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<long?>(
            "UPDATE credit_accounts SET balance = balance + @amount, updated_at = @now WHERE tenant_id = @tenantId RETURNING balance",
            new { tenantId, amount, now }, cancellationToken);
    }

    public async Task<CreditAccountSnapshot?> FetchAccountAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {AccountColumns} FROM credit_accounts WHERE tenant_id = @tenantId", new { tenantId }, (AccountRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<CreditTransactionSnapshot?> TryAppendTransactionAsync(IDbSession session, CreditTransactionSnapshot transaction, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            INSERT INTO credit_transactions ({TransactionColumns})
            VALUES (@TenantId, @Id, @Type, @Amount, @BalanceAfter, @Reference, @StripePaymentId, @CreatedAt)
            ON CONFLICT (tenant_id, type, reference) WHERE reference IS NOT NULL DO NOTHING
            RETURNING {TransactionColumns}
            """,
            new
            {
                transaction.TenantId, transaction.Id, Type = transaction.Type.ToWire(), transaction.Amount, transaction.BalanceAfter,
                transaction.Reference, transaction.StripePaymentId, transaction.CreatedAt,
            },
            (TransactionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<CreditTransactionSnapshot>> ListTransactionsAsync(IDbSession session, Guid tenantId, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {TransactionColumns} FROM credit_transactions
            WHERE tenant_id = @tenantId AND (@before::uuid IS NULL OR id < @before::uuid)
            ORDER BY id DESC
            LIMIT @limit
            """,
            new { tenantId, before, limit }, (TransactionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<CreditPurchaseSnapshot> InsertPurchaseAsync(IDbSession session, CreditPurchaseSnapshot purchase, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<PurchaseRow>(
            $"""
            INSERT INTO credit_purchases ({PurchaseColumns})
            VALUES (@TenantId, @Id, @Pack, @Credits, @AmountCents, @Currency, @Status, @StripePaymentIntentId, @CreatedAt, @CompletedAt)
            RETURNING {PurchaseColumns}
            """,
            new
            {
                purchase.TenantId, purchase.Id, purchase.Pack, purchase.Credits, purchase.AmountCents, purchase.Currency, Status = purchase.Status.ToWire(),
                purchase.StripePaymentIntentId, purchase.CreatedAt, purchase.CompletedAt,
            }, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<CreditPurchaseSnapshot?> TrySettlePurchaseAsync(IDbSession session, Guid tenantId, Guid purchaseId, CreditPurchaseStatus status, string? stripePaymentIntentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE credit_purchases SET status = @status, completed_at = @now,
                stripe_payment_intent_id = coalesce(@stripePaymentIntentId, stripe_payment_intent_id)
            WHERE tenant_id = @tenantId AND id = @purchaseId AND status = 'pending'
            RETURNING {PurchaseColumns}
            """,
            new { tenantId, purchaseId, status = status.ToWire(), stripePaymentIntentId, now }, (PurchaseRow r) => r.ToSnapshot(), cancellationToken);
    }

    private sealed class AccountRow
    {
        public Guid TenantId { get; init; }
        public long Balance { get; init; }
        public long MonthlyGrant { get; init; }
        public string? LastGrantPeriod { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
        public long PeriodGranted { get; init; }
        public long GrantRemaining { get; init; }

        public CreditAccountSnapshot ToSnapshot() =>
            new(TenantId, Balance, MonthlyGrant, LastGrantPeriod, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset(), PeriodGranted, GrantRemaining);
    }

    private sealed class TransactionRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public long Amount { get; init; }
        public long BalanceAfter { get; init; }
        public string? Reference { get; init; }
        public string? StripePaymentId { get; init; }
        public DateTime CreatedAt { get; init; }

        public CreditTransactionSnapshot ToSnapshot() =>
            new(TenantId, Id, WireNames.Parse<CreditTransactionType>(Type), Amount, BalanceAfter, Reference, StripePaymentId, CreatedAt.ToUtcOffset());
    }

    private sealed class PurchaseRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Pack { get; init; } = "";
        public long Credits { get; init; }
        public long AmountCents { get; init; }
        public string Currency { get; init; } = "";
        public string Status { get; init; } = "";
        public string? StripePaymentIntentId { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? CompletedAt { get; init; }

        public CreditPurchaseSnapshot ToSnapshot() =>
            new(TenantId, Id, Pack, Credits, AmountCents, Currency, WireNames.Parse<CreditPurchaseStatus>(Status), StripePaymentIntentId, CreatedAt.ToUtcOffset(), CompletedAt?.ToUtcOffset());
    }
}
