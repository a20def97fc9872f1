using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Tenants;

namespace Platform.Drivers.Billing;

/// <summary>Reads and writes subscriptions, the tenant's plan columns as billing sets them, and usage totals through billing_usage_totals().</summary>
public interface IBillingDriver
{
    /// <summary>Fetches the tenant's live (not canceled) subscription, or null.</summary>
    Task<SubscriptionSnapshot?> FetchLiveSubscriptionAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts a subscription.</summary>
    Task<SubscriptionSnapshot> InsertSubscriptionAsync(IDbSession session, SubscriptionSnapshot subscription, CancellationToken cancellationToken);

    /// <summary>Sets the plan, the plan waiting for the period end and the cancel-at-period-end flag of a subscription, and returns it.</summary>
    Task<SubscriptionSnapshot?> UpdateSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, string plan, string? pendingPlan, bool cancelAtPeriodEnd, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Cancels a subscription now and returns it, or null when it is not live.</summary>
    Task<SubscriptionSnapshot?> CancelSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the tenant's plan, status and quota columns (billing's own path until ChangeTenantPlan of the keys work is merged), and returns the new row.</summary>
    Task<TenantSnapshot?> SetTenantPlanForBillingAsync(IDbSession session, Guid tenantId, string plan, PlanQuotas quotas, TenantStatus status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's Stripe customer id, or null when none was created yet.</summary>
    Task<string?> FetchStripeCustomerIdAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Records the tenant's Stripe customer id.</summary>
    Task InsertStripeCustomerAsync(IDbSession session, Guid tenantId, string customerId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's billing currency (lower-case ISO 4217): the one fixed on the tenant, else that of its invoices (a tenant invoiced
    /// for usage before it chose one), or null when neither exists yet (ADR 0720).</summary>
    Task<string?> FetchBillingCurrencyAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Fixes the tenant's billing currency when none is fixed yet and returns the one fixed now or before (a trigger refuses any later change).</summary>
    Task<string> FixBillingCurrencyAsync(IDbSession session, Guid tenantId, string currency, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's billing profile (the portal's name, address and card), or null when Stripe never reported one.</summary>
    Task<BillingProfile?> FetchBillingProfileAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Sets the billing name and address from a customer.updated at Stripe's time `at`, unless a newer one was applied; true when applied.</summary>
    Task<bool> SaveCustomerDetailsAsync(IDbSession session, Guid tenantId, string? name, PostalAddress? address, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the card last attached from a payment_method.attached at Stripe's time `at`, unless a newer one was applied; true when applied.</summary>
    Task<bool> SaveCardAsync(IDbSession session, Guid tenantId, CardSummary card, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the tenant's billing email (Stripe's customer email, changed in the portal).</summary>
    Task SetBillingEmailAsync(IDbSession session, Guid tenantId, string email, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts the tenant's subscriptions ever created (canceled ones included), the ordinal the next one's idempotency key uses.</summary>
    Task<long> CountSubscriptionsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Records a Stripe event as applied for the tenant; false when it was already recorded (a replay).</summary>
    Task<bool> TryRecordStripeEventAsync(IDbSession session, Guid tenantId, string eventId, string type, DateTimeOffset created, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sums the tenant's usage per meter over [from, to) through billing_usage_totals(): api_calls in calls, storage_gb in GB-months, gpu_hours in hours.</summary>
    Task<IReadOnlyDictionary<string, decimal>> FetchUsageTotalsAsync(IDbSession session, Guid tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Fetches one subscription of the tenant by our id, whatever its status, or null.</summary>
    Task<SubscriptionSnapshot?> FetchSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's subscription mirrored from a Stripe subscription id, whatever its status, or null.</summary>
    Task<SubscriptionSnapshot?> FetchSubscriptionByStripeIdAsync(IDbSession session, Guid tenantId, string stripeSubscriptionId, CancellationToken cancellationToken);

    /// <summary>Writes every mutable field of a subscription (plan, cycle, status, flags, period, Stripe id and state time, past-due time, change count) and returns it, or null when it is gone.</summary>
    Task<SubscriptionSnapshot?> SaveSubscriptionAsync(IDbSession session, SubscriptionSnapshot subscription, CancellationToken cancellationToken);

    /// <summary>Records a billing notice (trial_ending, trial_ended, payment_failed:{invoice}) as done for the tenant; false when it was already recorded.</summary>
    Task<bool> TryRecordBillingNoticeAsync(IDbSession session, Guid tenantId, string notice, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Locks the tenant row unless another transaction holds it (FOR UPDATE SKIP LOCKED); false when it is locked elsewhere or gone.</summary>
    Task<bool> TryLockTenantSkipLockedAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Finds the tenant of a Stripe customer id across tenants through tenant_id_by_stripe_customer(), or null.</summary>
    Task<Guid?> FindTenantIdByStripeCustomerAsync(IDbSession session, string customerId, CancellationToken cancellationToken);

    /// <summary>Lists tenants (across tenants) whose live subscription is past_due since before a time and that are neither suspended nor deleted.</summary>
    Task<IReadOnlyList<Guid>> ListTenantsPastDueSinceAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>Lists tenants (across tenants) in trial whose trial ends before a time and that have not had a notice yet.</summary>
    Task<IReadOnlyList<Guid>> ListTenantsWithTrialDueAsync(IDbSession session, DateTimeOffset until, string notice, int limit, CancellationToken cancellationToken);

    /// <summary>Lists tenants (across tenants) whose live subscription's period ended with a pending downgrade or cancellation, or offline.</summary>
    Task<IReadOnlyList<Guid>> ListTenantsDueAtPeriodEndAsync(IDbSession session, DateTimeOffset now, int limit, CancellationToken cancellationToken);
}

internal sealed class BillingDriver : IBillingDriver
{
    private const string Columns =
        """
        tenant_id, id, plan, billing_cycle, status, cancel_at_period_end, pending_plan, current_period_start, current_period_end,
        payment_method_id, stripe_subscription_id, created_at, updated_at, canceled_at, past_due_since, stripe_state_at, change_seq, stripe_status_at
        """;

    public async Task<SubscriptionSnapshot?> FetchLiveSubscriptionAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM subscriptions WHERE tenant_id = @tenantId AND status <> 'canceled'", new { tenantId }, (SubscriptionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<SubscriptionSnapshot> InsertSubscriptionAsync(IDbSession session, SubscriptionSnapshot subscription, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<SubscriptionRow>(
            $"""
            INSERT INTO subscriptions ({Columns})
            VALUES (@TenantId, @Id, @Plan, @BillingCycle, @Status, @CancelAtPeriodEnd, @PendingPlan, @CurrentPeriodStart, @CurrentPeriodEnd,
                    @PaymentMethodId, @StripeSubscriptionId, @CreatedAt, @UpdatedAt, @CanceledAt, @PastDueSince, @StripeStateAt, @ChangeSeq, @StripeStatusAt)
            RETURNING {Columns}
            """,
            Parameters(subscription), cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<SubscriptionSnapshot?> UpdateSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, string plan, string? pendingPlan, bool cancelAtPeriodEnd, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE subscriptions SET plan = @plan, pending_plan = @pendingPlan, cancel_at_period_end = @cancelAtPeriodEnd, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @id AND status <> 'canceled'
            RETURNING {Columns}
            """,
            new { tenantId, id, plan, pendingPlan, cancelAtPeriodEnd, now }, (SubscriptionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<SubscriptionSnapshot?> CancelSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE subscriptions SET status = 'canceled', canceled_at = @now, pending_plan = NULL, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @id AND status <> 'canceled'
            RETURNING {Columns}
            """,
            new { tenantId, id, now }, (SubscriptionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<TenantSnapshot?> SetTenantPlanForBillingAsync(IDbSession session, Guid tenantId, string plan, PlanQuotas quotas, TenantStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE tenants AS t SET plan = @plan, status = @status, max_workers = @MaxWorkers, max_runs_per_day = @MaxRunsPerDay,
                max_concurrent_runs = @MaxConcurrentRuns, max_tokens_per_month = @MaxTokensPerMonth, max_api_keys = @MaxApiKeys,
                updated_at = @now
            WHERE t.id = @tenantId
            RETURNING {TenantRow.Columns}
            """,
            new
            {
                tenantId, plan, status = status.ToWire(), quotas.MaxWorkers, quotas.MaxRunsPerDay, quotas.MaxConcurrentRuns,
                quotas.MaxTokensPerMonth, quotas.MaxApiKeys, now,
            },
            (TenantRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<string?> FetchStripeCustomerIdAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<string?>(
            "SELECT customer_id FROM stripe_customers WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken);
    }

    public async Task InsertStripeCustomerAsync(IDbSession session, Guid tenantId, string customerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "INSERT INTO stripe_customers (tenant_id, customer_id, created_at) VALUES (@tenantId, @customerId, @now)",
            new { tenantId, customerId, now }, cancellationToken);
    }

    public async Task<string?> FetchBillingCurrencyAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<string?>(
            """
            SELECT coalesce(t.billing_currency,
                            (SELECT i.currency FROM invoices i WHERE i.tenant_id = t.id ORDER BY i.created_at DESC, i.number DESC LIMIT 1))
            FROM tenants t WHERE t.id = @tenantId
            """, new { tenantId }, cancellationToken);
    }

    public async Task<string> FixBillingCurrencyAsync(IDbSession session, Guid tenantId, string currency, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE tenants SET billing_currency = @currency WHERE id = @tenantId AND billing_currency IS NULL", new { tenantId, currency }, cancellationToken);
        return await session.QuerySingleAsync<string>("SELECT billing_currency FROM tenants WHERE id = @tenantId", new { tenantId }, cancellationToken);
    }

    public async Task<BillingProfile?> FetchBillingProfileAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<ProfileRow>(
            """
            SELECT tenant_id, name, address_line1, address_line2, postal_code, city, state, country, payment_method_id, card_brand, card_last4,
                   card_exp_month, card_exp_year, updated_at
            FROM billing_profiles WHERE tenant_id = @tenantId
            """, new { tenantId }, cancellationToken);
        if (row is null)
        {
            return null;
        }
        var address = new PostalAddress(row.AddressLine1, row.AddressLine2, row.PostalCode, row.City, row.State, row.Country);
        return new BillingProfile(row.TenantId, row.Name, address.Lines().Count == 0 ? null : address,
            row.PaymentMethodId is null ? null : new CardSummary(row.PaymentMethodId, row.CardBrand, row.CardLast4, row.CardExpMonth, row.CardExpYear),
            row.UpdatedAt.ToUtcOffset());
    }

    public async Task<bool> SaveCustomerDetailsAsync(IDbSession session, Guid tenantId, string? name, PostalAddress? address, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            INSERT INTO billing_profiles AS p (tenant_id, name, address_line1, address_line2, postal_code, city, state, country, customer_synced_at, updated_at)
            VALUES (@tenantId, @name, @line1, @line2, @postalCode, @city, @state, @country, @at, @now)
            ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, address_line1 = excluded.address_line1, address_line2 = excluded.address_line2,
                postal_code = excluded.postal_code, city = excluded.city, state = excluded.state, country = excluded.country,
                customer_synced_at = excluded.customer_synced_at, updated_at = excluded.updated_at
            WHERE p.customer_synced_at IS NULL OR p.customer_synced_at <= excluded.customer_synced_at
            """,
            new { tenantId, name, line1 = address?.Line1, line2 = address?.Line2, postalCode = address?.PostalCode, city = address?.City, state = address?.State,
                  country = address?.Country, at, now }, cancellationToken) == 1;
    }

    public async Task<bool> SaveCardAsync(IDbSession session, Guid tenantId, CardSummary card, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            INSERT INTO billing_profiles AS p (tenant_id, payment_method_id, card_brand, card_last4, card_exp_month, card_exp_year, payment_method_at, updated_at)
            VALUES (@tenantId, @PaymentMethodId, @Brand, @Last4, @ExpMonth, @ExpYear, @at, @now)
            ON CONFLICT (tenant_id) DO UPDATE SET payment_method_id = excluded.payment_method_id, card_brand = excluded.card_brand,
                card_last4 = excluded.card_last4, card_exp_month = excluded.card_exp_month, card_exp_year = excluded.card_exp_year,
                payment_method_at = excluded.payment_method_at, updated_at = excluded.updated_at
            WHERE p.payment_method_at IS NULL OR p.payment_method_at <= excluded.payment_method_at
            """,
            new { tenantId, card.PaymentMethodId, card.Brand, card.Last4, card.ExpMonth, card.ExpYear, at, now }, cancellationToken) == 1;
    }

    public async Task SetBillingEmailAsync(IDbSession session, Guid tenantId, string email, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("UPDATE tenants SET billing_email = @email, updated_at = @now WHERE id = @tenantId", new { tenantId, email, now }, cancellationToken);
    }

    private sealed class ProfileRow
    {
        public Guid TenantId { get; init; }
        public string? Name { get; init; }
        public string? AddressLine1 { get; init; }
        public string? AddressLine2 { get; init; }
        public string? PostalCode { get; init; }
        public string? City { get; init; }
        public string? State { get; init; }
        public string? Country { get; init; }
        public string? PaymentMethodId { get; init; }
        public string? CardBrand { get; init; }
        public string? CardLast4 { get; init; }
        public int? CardExpMonth { get; init; }
        public int? CardExpYear { get; init; }
        public DateTime UpdatedAt { get; init; }
    }

    public async Task<long> CountSubscriptionsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM subscriptions WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken);
    }

    public async Task<bool> TryRecordStripeEventAsync(IDbSession session, Guid tenantId, string eventId, string type, DateTimeOffset created, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recorded = await session.QuerySingleOrDefaultAsync<string?>(
            """
            INSERT INTO stripe_events (tenant_id, event_id, type, created, processed_at) VALUES (@tenantId, @eventId, @type, @created, @now)
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            RETURNING event_id
            """,
            new { tenantId, eventId, type, created, now }, cancellationToken);
        return recorded is not null;
    }

    public async Task<IReadOnlyDictionary<string, decimal>> FetchUsageTotalsAsync(IDbSession session, Guid tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<(string Meter, decimal Quantity)>(
            "SELECT meter, quantity FROM billing_usage_totals(@tenantId, @from, @to)", new { tenantId, from, to }, cancellationToken);
        return rows.ToDictionary(r => r.Meter, r => r.Quantity);
    }

    public async Task<SubscriptionSnapshot?> FetchSubscriptionAsync(IDbSession session, Guid tenantId, Guid id, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM subscriptions WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, (SubscriptionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<SubscriptionSnapshot?> FetchSubscriptionByStripeIdAsync(IDbSession session, Guid tenantId, string stripeSubscriptionId, CancellationToken cancellationToken)
    {
        var row = await session.QueryFirstOrDefaultAsync<SubscriptionRow>(
            $"SELECT {Columns} FROM subscriptions WHERE tenant_id = @tenantId AND stripe_subscription_id = @stripeSubscriptionId ORDER BY created_at DESC, id DESC LIMIT 1",
            new { tenantId, stripeSubscriptionId }, cancellationToken);
        return row?.ToSnapshot();
    }

    public async Task<SubscriptionSnapshot?> SaveSubscriptionAsync(IDbSession session, SubscriptionSnapshot subscription, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE subscriptions SET plan = @Plan, billing_cycle = @BillingCycle, status = @Status, cancel_at_period_end = @CancelAtPeriodEnd,
                pending_plan = @PendingPlan, current_period_start = @CurrentPeriodStart, current_period_end = @CurrentPeriodEnd,
                payment_method_id = @PaymentMethodId, stripe_subscription_id = @StripeSubscriptionId, updated_at = @UpdatedAt,
                canceled_at = @CanceledAt, past_due_since = @PastDueSince, stripe_state_at = @StripeStateAt, change_seq = @ChangeSeq,
                stripe_status_at = @StripeStatusAt
            WHERE tenant_id = @TenantId AND id = @Id
            RETURNING {Columns}
            """,
            Parameters(subscription), (SubscriptionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<bool> TryRecordBillingNoticeAsync(IDbSession session, Guid tenantId, string notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recorded = await session.QuerySingleOrDefaultAsync<string?>(
            """
            INSERT INTO billing_notices (tenant_id, notice, created_at) VALUES (@tenantId, @notice, @now)
            ON CONFLICT (tenant_id, notice) DO NOTHING
            RETURNING notice
            """,
            new { tenantId, notice, now }, cancellationToken);
        return recorded is not null;
    }

    public async Task<bool> TryLockTenantSkipLockedAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var locked = await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT id FROM tenants WHERE id = @tenantId FOR UPDATE SKIP LOCKED", new { tenantId }, cancellationToken);
        return locked is not null;
    }

    public async Task<Guid?> FindTenantIdByStripeCustomerAsync(IDbSession session, string customerId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT tenant_id_by_stripe_customer(@customerId)", new { customerId }, cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsPastDueSinceAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_past_due_since FROM tenants_past_due_since(@before, @limit)", new { before, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsWithTrialDueAsync(IDbSession session, DateTimeOffset until, string notice, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_with_trial_due FROM tenants_with_trial_due(@until, @notice, @limit)", new { until, notice, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsDueAtPeriodEndAsync(IDbSession session, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT subscriptions_due_at_period_end FROM subscriptions_due_at_period_end(@now, @limit)", new { now, limit }, cancellationToken);
        return rows.ToList();
    }

    /// <summary>Gives a subscription's columns as parameters, the status as its wire name (Dapper would send an enum as its number).</summary>
    private static object Parameters(SubscriptionSnapshot s) => new
    {
        s.TenantId, s.Id, s.Plan, s.BillingCycle, Status = s.Status.ToWire(), s.CancelAtPeriodEnd, s.PendingPlan, s.CurrentPeriodStart, s.CurrentPeriodEnd,
        s.PaymentMethodId, s.StripeSubscriptionId, s.CreatedAt, s.UpdatedAt, s.CanceledAt, s.PastDueSince, s.StripeStateAt, s.ChangeSeq, s.StripeStatusAt,
    };

    private sealed class SubscriptionRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Plan { get; init; } = "";
        public string BillingCycle { get; init; } = "";
        public string Status { get; init; } = "";
        public bool CancelAtPeriodEnd { get; init; }
        public string? PendingPlan { get; init; }
        public DateTime CurrentPeriodStart { get; init; }
        public DateTime CurrentPeriodEnd { get; init; }
        public string? PaymentMethodId { get; init; }
        public string? StripeSubscriptionId { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
        public DateTime? CanceledAt { get; init; }
        public DateTime? PastDueSince { get; init; }
        public DateTime? StripeStateAt { get; init; }
        public int ChangeSeq { get; init; }
        public DateTime? StripeStatusAt { get; init; }

        public SubscriptionSnapshot ToSnapshot() => new(
            TenantId, Id, Plan, BillingCycle, WireNames.Parse<SubscriptionStatus>(Status), CancelAtPeriodEnd, PendingPlan, CurrentPeriodStart.ToUtcOffset(),
            CurrentPeriodEnd.ToUtcOffset(), PaymentMethodId, StripeSubscriptionId, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset(),
            CanceledAt.ToUtcOffset(), PastDueSince.ToUtcOffset(), StripeStateAt.ToUtcOffset(), ChangeSeq, StripeStatusAt.ToUtcOffset());
    }
}
