using System.Globalization;
using System.Text;
using MediatR;
using Platform.Engines.TenantMetrics;
using Platform.Models.TenantMetrics;

namespace Platform.Api.TenantMetrics;

/// <summary>Serves the per-tenant drill-down of seed 003's series at /metrics/tenants in Prometheus's text format: per meter, only the
/// TenantMetrics:TopTenants tenants with the highest share of their monthly quota used, so that a scrape stays bounded at 100,000 tenants (ADR 0660).
/// The same guard as /metrics lets it through (loopback, or Metrics:ScrapeToken).</summary>
public static class TenantMetricsEndpoint
{
    public const string Path = "/metrics/tenants";

    /// <summary>Writes the list: tenant_quota_usage_percent, tenant_quota_used and tenant_quota_limit by tenant_id, plan and meter.</summary>
    public static async Task WriteAsync(HttpContext http)
    {
        var rows = await http.RequestServices.GetRequiredService<IMediator>().Send(new ReadTopTenantQuotaUsage(), http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await http.Response.WriteAsync(Format(rows), http.RequestAborted);
    }

    /// <summary>Formats the rows as Prometheus text exposition (version 0.0.4).</summary>
    public static string Format(IReadOnlyList<TenantQuotaUsage> rows)
    {
        var text = new StringBuilder();
        Family(text, rows, "tenant_quota_usage_percent",
            "Share of a monthly quota the tenant used this month, in percent; only the tenants with the highest share per meter (TenantMetrics:TopTenants).",
            r => r.Percent);
        Family(text, rows, "tenant_quota_used", "Amount of the meter the tenant used this month (the same tenants as tenant_quota_usage_percent).", r => r.Used);
        Family(text, rows, "tenant_quota_limit", "The tenant's effective monthly quota of the meter (plan, then the operator's override).", r => r.Quota);
        return text.ToString();
    }

    private static void Family(StringBuilder text, IReadOnlyList<TenantQuotaUsage> rows, string name, string help, Func<TenantQuotaUsage, decimal> value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        foreach (var row in rows)
        {
            text.Append(name)
                .Append("{tenant_id=\"").Append(row.TenantId.ToString("D"))
                .Append("\",plan=\"").Append(Escape(row.Plan))
                .Append("\",meter=\"").Append(Escape(row.Meter))
                .Append("\"} ").Append(value(row).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static string Escape(string label) => label.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
