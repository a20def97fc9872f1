using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Models;

namespace Platform.Tests.Invoices;

/// <summary>Sets up what a monthly close reads: subscriptions made at chosen moments (through the real engine, so the plan-history trigger runs) and usage per meter.</summary>
internal static class InvoiceTestSupport
{
    public static DateTimeOffset Utc(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    /// <summary>Sends a command through an engines container whose clock reads the given moment.</summary>
    public static async Task<T> AtAsync<T>(DateTimeOffset moment, IRequest<T> command)
    {
        await using var engines = TestEngines.Build(clock: new ManualClock(moment));
        using var scope = engines.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }

    public static Task SubscribeAtAsync(DateTimeOffset moment, Guid tenantId, string plan, string cycle = "monthly") =>
        AtAsync(moment, new SubscribeTenant(Caller.System, tenantId, plan, cycle, null));

    /// <summary>Records usage of a meter in the month starting at periodStart through billing_usage_inputs (api_calls, storage_gb, gpu_hours).</summary>
    public static Task PutUsageAsync(Guid tenantId, DateTimeOffset periodStart, string meter, decimal quantity) =>
        OwnerSql.ScalarAsync<object>(
            "INSERT INTO billing_usage_inputs (tenant_id, period_start, meter, quantity) VALUES (@t, @p, @m, @q)",
            tenantId, ("t", tenantId), ("p", periodStart), ("m", meter), ("q", quantity));

    /// <summary>Closes a month through an engines container whose clock reads the given moment.</summary>
    public static Task<BillingCloseSummary> CloseAsync(string period, DateTimeOffset now) =>
        AtAsync(now, new CloseBillingPeriod(Caller.System, period));

    /// <summary>Reads a tenant's period invoice for the month: total, status and number, or null.</summary>
    public static async Task<(long Total, string Status, long Number)?> InvoiceAsync(Guid tenantId, DateTimeOffset periodStart)
    {
        var total = await OwnerSql.ScalarAsync<long?>("SELECT total_cents FROM invoices WHERE tenant_id = @t AND period_start = @p", tenantId, ("t", tenantId), ("p", periodStart));
        if (total is null)
        {
            return null;
        }
        var status = await OwnerSql.ScalarAsync<string>("SELECT status FROM invoices WHERE tenant_id = @t AND period_start = @p", tenantId, ("t", tenantId), ("p", periodStart));
        var number = await OwnerSql.ScalarAsync<long>("SELECT number FROM invoices WHERE tenant_id = @t AND period_start = @p", tenantId, ("t", tenantId), ("p", periodStart));
        return (total.Value, status!, number);
    }

    /// <summary>Reads a tenant's invoice lines for the month as "kind meter quantity/divisor × unit = amount" strings, in order.</summary>
    public static async Task<IReadOnlyList<string>> LinesAsync(Guid tenantId, DateTimeOffset periodStart)
    {
        var text = await OwnerSql.ScalarAsync<string>(
            """
            SELECT coalesce(string_agg(l.kind || ' ' || coalesce(l.meter, '-') || ' ' || trim_scale(l.quantity) || '/' || l.divisor || ' x '
                                       || trim_scale(l.unit_price_cents) || ' = ' || l.amount_cents, '|' ORDER BY l.line_no), '')
            FROM invoice_lines l JOIN invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id
            WHERE i.tenant_id = @t AND i.period_start = @p
            """, tenantId, ("t", tenantId), ("p", periodStart));
        return string.IsNullOrEmpty(text) ? [] : text.Split('|');
    }
}
