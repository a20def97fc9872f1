using System.Globalization;
using Platform.Drivers.Email;
using Platform.Engines.Billing;
using Platform.Engines.Email;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models.Plans;
using Platform.Models.Usage;
using Platform.Models.Webhooks;

namespace Platform.Engines.Usage;

/// <summary>Queues the usage alert email when a write moves a meter's current-month total across 80, 90 or 100 percent of a finite quota:
/// once per tenant, meter, month and threshold (a billing_notices row), only the highest threshold crossed, in the transaction of the usage.</summary>
internal sealed class UsageAlerts(BillingLifecycle lifecycle, WebhookEvents events, EmailOptions emailOptions)
{
    /// <summary>Is the prefix of the notice key "usage_alert:{meter}:{yyyy-MM}:{percent}".</summary>
    public const string NoticePrefix = "usage_alert:";

    /// <summary>Gets the usage page the emails link to.</summary>
    public string UsageUrl => emailOptions.LinkBaseUrl.TrimEnd('/') + "/usage";

    /// <summary>Queues the alerts the changes crossed inside the open scope (the caller commits); returns how many were queued.
    /// Costs nothing beyond arithmetic unless a threshold was crossed.</summary>
    public async Task<int> QueueCrossedAsync(TenantScope scope, IEnumerable<RollupChange> changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var month = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        var queued = 0;
        foreach (var change in changes)
        {
            // Late events for a closed month (or early ones for the next) change a rollup nobody is being limited by now.
            if (change.PeriodStart != month)
            {
                continue;
            }
            // The effective limits are read (one query, kept by the scope) only for a change in the current month.
            var quota = MeterQuotas.For(scope.Tenant, await scope.LimitsAsync(cancellationToken), change.Meter);
            if (quota is not { } limit || Crossed(change.Before, change.After, limit) is not { } percent)
            {
                continue;
            }
            var notice = NoticeKey(change.Meter, change.PeriodStart, percent);
            if (await lifecycle.QueueOnceAsync(scope, notice, EmailTemplates.UsageAlertKind, null,
                    (to, tenant) => EmailTemplates.UsageAlert(to, tenant.Name, change.Meter, percent, change.After, limit, UsageUrl), now, cancellationToken))
            {
                // The same crossing, once, to the tenant's webhook endpoints.
                await events.EmitAsync(scope.Session, scope.Tenant.Id, WebhookEventTypes.UsageThresholdReached,
                    new UsageThresholdEventData(change.Meter, percent, change.After, limit, change.PeriodStart), cancellationToken);
                queued++;
            }
        }
        return queued;
    }

    /// <summary>Gives the highest threshold (80, 90 or 100) that the total reached going from before to after but had not reached before; null when
    /// none, when the quota is unlimited (-1) or when the total did not grow. A quota of 0 counts any use as 100 percent, as the summary does.</summary>
    public static int? Crossed(decimal before, decimal after, long quota)
    {
        if (quota == PlanCatalog.Unlimited || quota < 0 || after <= before)
        {
            return null;
        }
        var reached = Reached(after, quota);
        return reached > Reached(before, quota) ? reached : null;
    }

    /// <summary>Builds the notice key of one alert.</summary>
    public static string NoticeKey(string meter, DateOnly month, int percent) =>
        string.Create(CultureInfo.InvariantCulture, $"{NoticePrefix}{meter}:{month:yyyy-MM}:{percent}");

    private static int Reached(decimal used, long quota)
    {
        var highest = 0;
        foreach (var threshold in EmailTemplates.UsageAlertThresholds)
        {
            // used / quota >= threshold / 100, exactly and without division (used is at most about 10^21, quota below 10^19).
            if (quota == 0 ? used > 0 : used * 100 >= (decimal)quota * threshold)
            {
                highest = threshold;
            }
        }
        return highest;
    }
}
