using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Benchmarks;

/// <summary>Benchmarks the monthly close: seeds tenants with a professional subscription and the seed example's usage for the last ended month
/// (as the superuser, in one statement), then runs `close-period` of the service's command line twice (the close, then an idempotent re-run)
/// and returns its section of the report.</summary>
internal static partial class CloseBenchmark
{
    public static async Task<string> RunAsync(BenchEnvironment env)
    {
        var tenants = env.Int("BENCH_CLOSE_TENANTS", 10_000);
        var inv = CultureInfo.InvariantCulture;
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        var period = start.ToString("yyyy-MM", inv);
        var tag = Guid.NewGuid().ToString("N")[..8];
        await BenchSetup.RunAsSuperuserAsync(env, $"""
            WITH t AS (
                INSERT INTO tenants (id, name, slug, plan, status, max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys, is_synthetic)
                SELECT gen_random_uuid(), 'Close bench ' || g, 'close-{tag}-' || g, 'professional', 'active', 20, 10000, 20, 10000000, 20, true
                FROM generate_series(1, {tenants}) g
                RETURNING id
            ), s AS (
                INSERT INTO subscriptions (tenant_id, id, plan, billing_cycle, status, current_period_start, current_period_end, created_at, updated_at)
                SELECT t.id, gen_random_uuid(), 'professional', 'monthly', 'active', '{start.AddDays(-10):O}', '{start.AddDays(20):O}', '{start.AddDays(-10):O}', '{start.AddDays(-10):O}'
                FROM t
                RETURNING tenant_id
            )
            INSERT INTO billing_usage_inputs (tenant_id, period_start, meter, quantity)
            SELECT s.tenant_id, '{start:O}', m.meter, m.quantity
            FROM s CROSS JOIN (VALUES ('api_calls', 1050000), ('storage_gb', 1100), ('gpu_hours', 210)) AS m (meter, quantity);
            ANALYZE;
            """);

        var first = await ClosePeriodAsync(period);
        var second = await ClosePeriodAsync(period);
        var perSecond = first.Invoiced / first.CloseSeconds;
        var section = new StringBuilder()
            .AppendLine()
            .AppendLine("## Monthly close (`./platform close-period`)")
            .AppendLine()
            .AppendLine($"{tenants:N0} tenants with a professional subscription and the seed example's usage ($276.30 each) in {period}, beside every tenant the")
            .AppendLine("benchmarks above created. The close runs through the service's command line (`close-period`), as the system caller, in batches")
            .AppendLine("of 1,000 tenants per transaction; seconds are the close's own (the process start is given apart).")
            .AppendLine()
            .AppendLine("| benchmark | result | goal | |")
            .AppendLine("|---|---|---|---|")
            .AppendLine(inv, $"| close of {period}: invoices created | {first.Invoiced:N0} invoices in {first.CloseSeconds:F2} s ({perSecond:F0} invoices/s; process incl. start {first.ProcessSeconds:F1} s) | {tenants:N0} in < 10 s | {(first.Invoiced >= tenants && first.CloseSeconds < 10 ? "met" : "**not met**")} |")
            .AppendLine(inv, $"| the same close again (idempotent) | {second.Invoiced:N0} created, {second.Skipped:N0} skipped in {second.CloseSeconds:F2} s | nothing new | {(second.Invoiced == 0 ? "met" : "**not met**")} |");
        Console.WriteLine(section.ToString());
        return section.ToString();
    }

    private static async Task<(int Invoiced, long Skipped, double CloseSeconds, double ProcessSeconds)> ClosePeriodAsync(string period)
    {
        var api = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Api", "bin", "Release", "net10.0", "Platform.Api.dll"));
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo("dotnet", [api, "close-period", period]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"close-period failed ({process.ExitCode}): {errors}{output}");
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.Write(output);
        return (
            int.Parse(Invoiced().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(Skipped().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(Seconds().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            elapsed);
    }

    [GeneratedRegex(@"tenants invoiced now:\s+(\d+)")]
    private static partial Regex Invoiced();

    [GeneratedRegex(@"skipped as already invoiced:\s+(\d+)")]
    private static partial Regex Skipped();

    [GeneratedRegex(@" in (\d+\.\d+) s:")]
    private static partial Regex Seconds();
}
