using System.Globalization;
using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Billing;

namespace Platform.Drivers.Billing;

/// <summary>Reads and writes invoices: the monthly close's cross-tenant functions, a tenant's invoices and lines, and the paid and Stripe states.</summary>
public interface IInvoiceDriver
{
    /// <summary>Lists up to limit tenants, in id order after the given one, that have no invoice for the month yet, with their plan history and usage (billing_close_candidates, cross-tenant).</summary>
    Task<IReadOnlyList<CloseCandidate>> FetchCloseCandidatesAsync(IDbSession session, DateTimeOffset periodStart, DateTimeOffset periodEnd, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the month's invoices and sums their totals in cents, across tenants.</summary>
    Task<(long Invoices, long TotalCents)> FetchPeriodTotalsAsync(IDbSession session, DateTimeOffset periodStart, CancellationToken cancellationToken);

    /// <summary>Numbers and stores priced invoices (open, with their lines and an audit row each) for tenants that have none for the month yet, and returns those stored; waits for other closers on the number counter.</summary>
    Task<IReadOnlyList<IssuedInvoice>> InsertPeriodInvoicesAsync(IDbSession session, DateTimeOffset periodStart, IReadOnlyList<PricedInvoice> invoices, string actorType, Guid? actorId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Tells whether the month's close has finished before.</summary>
    Task<bool> IsPeriodClosedAsync(IDbSession session, DateTimeOffset periodStart, CancellationToken cancellationToken);

    /// <summary>Records that the month's close finished, with the month's invoice count.</summary>
    Task MarkPeriodClosedAsync(IDbSession session, DateTimeOffset periodStart, DateTimeOffset periodEnd, long invoices, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists the tenant's invoices, newest first, optionally of one status, after the cursor id, at most limit rows.</summary>
    Task<IReadOnlyList<InvoiceSnapshot>> ListInvoicesAsync(IDbSession session, Guid tenantId, InvoiceStatus? status, Guid? before, int limit, CancellationToken cancellationToken);

    /// <summary>Fetches one of the tenant's invoices, or null.</summary>
    Task<InvoiceSnapshot?> FetchInvoiceAsync(IDbSession session, Guid tenantId, Guid invoiceId, CancellationToken cancellationToken);

    /// <summary>Fetches the lines of one of the tenant's invoices, in order.</summary>
    Task<IReadOnlyList<InvoiceLineSnapshot>> ListLinesAsync(IDbSession session, Guid tenantId, Guid invoiceId, CancellationToken cancellationToken);

    /// <summary>Marks an open (or uncollectible) invoice paid at the given time, recording Stripe's invoice id when given, and returns it; null when it is not payable (unknown, or already paid or void).</summary>
    Task<InvoiceSnapshot?> MarkPaidAsync(IDbSession session, Guid tenantId, Guid invoiceId, DateTimeOffset paidAt, string? stripeInvoiceId, CancellationToken cancellationToken);

    /// <summary>Sets an invoice's status to uncollectible or void (from open), and returns it; null when it is not open.</summary>
    Task<InvoiceSnapshot?> SetUnpaidStatusAsync(IDbSession session, Guid tenantId, Guid invoiceId, InvoiceStatus status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records Stripe's invoice and payment intent ids on an invoice pushed to Stripe, and returns it.</summary>
    Task<InvoiceSnapshot?> SetStripeIdsAsync(IDbSession session, Guid tenantId, Guid invoiceId, string stripeInvoiceId, string? stripePaymentIntentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Finds the tenant's invoice that Stripe knows by this id, or null.</summary>
    Task<InvoiceSnapshot?> FetchByStripeInvoiceIdAsync(IDbSession session, Guid tenantId, string stripeInvoiceId, CancellationToken cancellationToken);

    /// <summary>Finds the tenant of the invoice Stripe knows by this id, across tenants (invoice_tenant_by_stripe_id), or null.</summary>
    Task<Guid?> FindTenantByStripeInvoiceIdAsync(IDbSession session, string stripeInvoiceId, CancellationToken cancellationToken);

    /// <summary>Lists up to limit tenants (across tenants) with an open invoice Stripe does not collect that was due before today and that are not marked past_due for it yet (tenants_with_overdue_offline_invoices).</summary>
    Task<IReadOnlyList<Guid>> ListTenantsWithOverdueOfflineInvoicesAsync(IDbSession session, DateOnly today, int limit, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's open invoice that Stripe does not collect with the earliest due date before today, or null.</summary>
    Task<InvoiceSnapshot?> FetchOldestOverdueOfflineInvoiceAsync(IDbSession session, Guid tenantId, DateOnly today, CancellationToken cancellationToken);

    /// <summary>Lists up to limit open invoices with an amount that Stripe does not hold yet, oldest first, across tenants (invoices_to_push_to_stripe).</summary>
    Task<IReadOnlyList<(Guid TenantId, Guid InvoiceId)>> ListInvoicesToPushToStripeAsync(IDbSession session, int limit, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts a failed push of an open invoice not yet in Stripe and keeps the error (at most 500 characters); the next attempt may run
    /// after firstDelay doubled per earlier failure, at most maxDelay. Returns the attempts so far and when the next may run, or null when the
    /// invoice is no longer waiting for a push.</summary>
    Task<(int Attempts, DateTimeOffset NextAttemptAt)?> RecordStripePushFailureAsync(
        IDbSession session, Guid tenantId, Guid invoiceId, string error, TimeSpan firstDelay, TimeSpan maxDelay, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists up to limit tenants (across tenants) that are past_due with no live subscription and hold an open invoice Stripe does not collect due (its day started) before a time (tenants_past_due_by_invoice_since).</summary>
    Task<IReadOnlyList<Guid>> ListTenantsPastDueByInvoiceSinceAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);
}

internal sealed class InvoiceDriver : IInvoiceDriver
{
    private const string Columns =
        """
        tenant_id, id, number, kind, status, currency, period_start, period_end, subtotal_cents, total_cents, due_date, issued_at,
        paid_at, stripe_invoice_id, stripe_payment_intent_id, created_at, updated_at
        """;

    private const string LineColumns = "line_no, kind, meter, description, quantity, unit_price_cents, divisor, amount_cents";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<IReadOnlyList<CloseCandidate>> FetchCloseCandidatesAsync(IDbSession session, DateTimeOffset periodStart, DateTimeOffset periodEnd, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<CandidateRow>(
            "SELECT c.tenant_id, c.plan, c.segments, c.usage, billing_quota_overrides(c.tenant_id) AS overrides, billing_currency_of(c.tenant_id) AS currency "
            + "FROM billing_close_candidates(@periodStart, @periodEnd, @after, @limit) c",
            new { periodStart, periodEnd, after, limit }, cancellationToken);
        return rows.Select(r => new CloseCandidate(
            r.TenantId,
            r.Plan,
            JsonSerializer.Deserialize<List<SegmentJson>>(r.Segments, Json)!
                .Select(g => new PlanSegment(g.ValidFrom.ToUniversalTime(), g.Plan, g.BillingCycle, WireNames.Parse<SubscriptionStatus>(g.Status), g.Reason)).ToList(),
            JsonSerializer.Deserialize<Dictionary<string, decimal>>(r.Usage, Json)!,
            JsonSerializer.Deserialize<Dictionary<string, long>>(r.Overrides, Json)!) { Currency = r.Currency }).ToList();
    }

    public async Task<(long Invoices, long TotalCents)> FetchPeriodTotalsAsync(IDbSession session, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        return await session.QuerySingleAsync<(long, long)>(
            "SELECT invoices, total_cents FROM billing_period_invoice_totals(@periodStart)", new { periodStart }, cancellationToken);
    }

    public async Task<IReadOnlyList<IssuedInvoice>> InsertPeriodInvoicesAsync(IDbSession session, DateTimeOffset periodStart, IReadOnlyList<PricedInvoice> invoices, string actorType, Guid? actorId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Serialize(invoices.Select((i, n) => new
        {
            ord = n + 1,
            tenant_id = i.TenantId,
            id = i.Id,
            currency = i.Priced.Currency,
            period_end = i.Priced.PeriodEnd,
            subtotal_cents = i.Priced.TotalCents,
            total_cents = i.Priced.TotalCents,
            due_date = i.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            lines = i.Priced.Lines.Select(l => new
            {
                kind = l.Kind.StartsWith("overage:", StringComparison.Ordinal) ? "overage" : l.Kind,
                meter = l.Kind.StartsWith("overage:", StringComparison.Ordinal) ? l.Kind["overage:".Length..] : null,
                description = l.Description,
                quantity = l.Quantity,
                unit_price_cents = l.UnitPriceCents,
                divisor = l.Divisor,
                amount_cents = l.AmountCents,
            }),
        }));
        var rows = await session.QueryAsync<(Guid TenantId, Guid Id, long Number, long TotalCents)>(
            "SELECT tenant_id, id, number, total_cents FROM billing_insert_period_invoices(@periodStart, @payload, @actorType, @actorId, @now)",
            new { periodStart, payload, actorType, actorId, now }, cancellationToken);
        return rows.Select(r => new IssuedInvoice(r.TenantId, r.Id, r.Number, r.TotalCents)).ToList();
    }

    public async Task<bool> IsPeriodClosedAsync(IDbSession session, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM billing_periods WHERE period_start = @periodStart)", new { periodStart }, cancellationToken);
    }

    public async Task MarkPeriodClosedAsync(IDbSession session, DateTimeOffset periodStart, DateTimeOffset periodEnd, long invoices, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO billing_periods (period_start, period_end, closed_at, invoices) VALUES (@periodStart, @periodEnd, @now, @invoices)
            ON CONFLICT (period_start) DO UPDATE SET closed_at = excluded.closed_at, invoices = excluded.invoices
            """,
            new { periodStart, periodEnd, now, invoices = (int)invoices }, cancellationToken);
    }

    public async Task<IReadOnlyList<InvoiceSnapshot>> ListInvoicesAsync(IDbSession session, Guid tenantId, InvoiceStatus? status, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {Columns}
             FROM invoices
            WHERE tenant_id = @tenantId AND (@status::text IS NULL OR status = @status::text) AND (@before::uuid IS NULL OR id < @before::uuid)
            ORDER BY id DESC
            LIMIT @limit
            """,
            new { tenantId, status = status?.ToWire(), before, limit }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<InvoiceSnapshot?> FetchInvoiceAsync(IDbSession session, Guid tenantId, Guid invoiceId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM invoices WHERE tenant_id = @tenantId AND id = @invoiceId", new { tenantId, invoiceId }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<InvoiceLineSnapshot>> ListLinesAsync(IDbSession session, Guid tenantId, Guid invoiceId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {LineColumns} FROM invoice_lines WHERE tenant_id = @tenantId AND invoice_id = @invoiceId ORDER BY line_no",
            new { tenantId, invoiceId }, (LineRow r) => new InvoiceLineSnapshot(r.LineNo, r.Kind, r.Meter, r.Description, r.Quantity, r.UnitPriceCents, r.Divisor, r.AmountCents), cancellationToken);
    }

    public async Task<InvoiceSnapshot?> MarkPaidAsync(IDbSession session, Guid tenantId, Guid invoiceId, DateTimeOffset paidAt, string? stripeInvoiceId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE invoices SET status = 'paid', paid_at = @paidAt, stripe_invoice_id = coalesce(@stripeInvoiceId, stripe_invoice_id), updated_at = @paidAt
            WHERE tenant_id = @tenantId AND id = @invoiceId AND status IN ('open', 'uncollectible')
            RETURNING {Columns}
            """,
            new { tenantId, invoiceId, paidAt, stripeInvoiceId }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<InvoiceSnapshot?> SetUnpaidStatusAsync(IDbSession session, Guid tenantId, Guid invoiceId, InvoiceStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (status is not (InvoiceStatus.Uncollectible or InvoiceStatus.Void))
        {
            throw new ArgumentException("Only uncollectible or void.", nameof(status));
        }
        return await session.FetchAsync(
            $"""
            UPDATE invoices SET status = @status, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @invoiceId AND status = 'open'
            RETURNING {Columns}
            """,
            new { tenantId, invoiceId, status = status.ToWire(), now }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<InvoiceSnapshot?> SetStripeIdsAsync(IDbSession session, Guid tenantId, Guid invoiceId, string stripeInvoiceId, string? stripePaymentIntentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE invoices SET stripe_invoice_id = @stripeInvoiceId,
                stripe_payment_intent_id = coalesce(@stripePaymentIntentId, stripe_payment_intent_id),
                stripe_push_next_at = NULL, stripe_push_error = NULL, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @invoiceId
            RETURNING {Columns}
            """,
            new { tenantId, invoiceId, stripeInvoiceId, stripePaymentIntentId, now }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<InvoiceSnapshot?> FetchByStripeInvoiceIdAsync(IDbSession session, Guid tenantId, string stripeInvoiceId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM invoices WHERE tenant_id = @tenantId AND stripe_invoice_id = @stripeInvoiceId LIMIT 1",
            new { tenantId, stripeInvoiceId }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<Guid?> FindTenantByStripeInvoiceIdAsync(IDbSession session, string stripeInvoiceId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<Guid?>(
            "SELECT invoice_tenant_by_stripe_id(@stripeInvoiceId)", new { stripeInvoiceId }, cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsWithOverdueOfflineInvoicesAsync(IDbSession session, DateOnly today, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_with_overdue_offline_invoices FROM tenants_with_overdue_offline_invoices(@today::date, @limit)",
            new { today = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<InvoiceSnapshot?> FetchOldestOverdueOfflineInvoiceAsync(IDbSession session, Guid tenantId, DateOnly today, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            SELECT {Columns}
             FROM invoices
            WHERE tenant_id = @tenantId AND status = 'open' AND stripe_invoice_id IS NULL AND due_date < @today::date
            ORDER BY due_date, number
            LIMIT 1
            """,
            new { tenantId, today = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) }, (InvoiceRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<(Guid TenantId, Guid InvoiceId)>> ListInvoicesToPushToStripeAsync(IDbSession session, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<(Guid, Guid)>(
            "SELECT tenant_id, invoice_id FROM invoices_to_push_to_stripe(@limit, @now)", new { limit, now }, cancellationToken);
        return rows.ToList();
    }

    public async Task<(int Attempts, DateTimeOffset NextAttemptAt)?> RecordStripePushFailureAsync(
        IDbSession session, Guid tenantId, Guid invoiceId, string error, TimeSpan firstDelay, TimeSpan maxDelay, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The exponent is capped so that the doubling cannot overflow an interval however many attempts there were.
        var row = await session.QuerySingleOrDefaultAsync<PushFailureRow>(
            """
            UPDATE invoices SET stripe_push_attempts = stripe_push_attempts + 1,
                stripe_push_next_at = @now + least(@firstDelay * power(2, least(stripe_push_attempts, 30)), @maxDelay),
                stripe_push_error = left(@error, 500), updated_at = @now
            WHERE tenant_id = @tenantId AND id = @invoiceId AND status = 'open' AND stripe_invoice_id IS NULL
            RETURNING stripe_push_attempts AS attempts, stripe_push_next_at AS next_attempt_at
            """,
            new { tenantId, invoiceId, error, firstDelay, maxDelay, now }, cancellationToken);
        return row is null ? null : (row.Attempts, new DateTimeOffset(DateTime.SpecifyKind(row.NextAttemptAt, DateTimeKind.Utc)));
    }

    private sealed class PushFailureRow
    {
        public int Attempts { get; init; }
        public DateTime NextAttemptAt { get; init; }
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsPastDueByInvoiceSinceAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_past_due_by_invoice_since FROM tenants_past_due_by_invoice_since(@before, @limit)", new { before, limit }, cancellationToken);
        return rows.ToList();
    }

    private sealed class CandidateRow
    {
        public Guid TenantId { get; init; }
        public string Plan { get; init; } = "";
        public string Segments { get; init; } = "[]";
        public string Usage { get; init; } = "{}";
        public string Overrides { get; init; } = "{}";
        public string? Currency { get; init; }
    }

    private sealed class SegmentJson
    {
        public DateTimeOffset ValidFrom { get; init; }
        public string Plan { get; init; } = "";
        public string BillingCycle { get; init; } = "";
        public string Status { get; init; } = "";
        public string Reason { get; init; } = "";
    }

    private sealed class LineRow
    {
        public int LineNo { get; init; }
        public string Kind { get; init; } = "";
        public string? Meter { get; init; }
        public string Description { get; init; } = "";
        public decimal Quantity { get; init; }
        public decimal UnitPriceCents { get; init; }
        public int Divisor { get; init; }
        public long AmountCents { get; init; }
    }

    private sealed class InvoiceRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public long Number { get; init; }
        public string Kind { get; init; } = "";
        public string Status { get; init; } = "";
        public string Currency { get; init; } = "";
        public DateTime PeriodStart { get; init; }
        public DateTime PeriodEnd { get; init; }
        public long SubtotalCents { get; init; }
        public long TotalCents { get; init; }
        public DateTime? DueDate { get; init; }
        public DateTime? IssuedAt { get; init; }
        public DateTime? PaidAt { get; init; }
        public string? StripeInvoiceId { get; init; }
        public string? StripePaymentIntentId { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public InvoiceSnapshot ToSnapshot() => new(
            TenantId, Id, Number, Kind, WireNames.Parse<InvoiceStatus>(Status), Currency, PeriodStart.ToUtcOffset(), PeriodEnd.ToUtcOffset(), SubtotalCents, TotalCents,
            DueDate is { } due ? DateOnly.FromDateTime(due) : null, IssuedAt.ToUtcOffset(), PaidAt.ToUtcOffset(), StripeInvoiceId,
            StripePaymentIntentId, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }
}
