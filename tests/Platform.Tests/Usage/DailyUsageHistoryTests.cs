using System.Net;
using System.Net.Http.Json;
using Platform.Tests.ApiKeys;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Usage;

/// <summary>Proves the daily usage history (ADR 0740): granularity=day lists every UTC day of a month per meter, each day equal to what SQL computes
/// from the raw events (exact decimals; a gauge's time-weighted level), the days of a summed meter add up to its monthly rollup, the current month
/// stops at today, and bad input gets problem details while other tenants get 404.</summary>
public sealed class DailyUsageHistoryTests : DatabaseTest
{
    [Test]
    public async Task Each_day_of_a_month_matches_the_raw_events_in_sql_and_the_days_add_up_to_the_monthly_rollup()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var user = TestApi.Client(owner.Token);
        using (var response = await user.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 1.2345m, idempotency_key = "g1", occurred_at = Utc(2026, 10, 1) },
            new { meter = "gpu_hours", amount = 2.0001m, idempotency_key = "g2", occurred_at = Utc(2026, 10, 1, 23) },
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "g3", occurred_at = Utc(2026, 10, 15, 12), worker_id = "summarizer" },
            new { meter = "gpu_hours", amount = 7m, idempotency_key = "g4", occurred_at = Utc(2026, 10, 31, 23) },
            new { meter = "gpu_hours", amount = 9m, idempotency_key = "g5", occurred_at = Utc(2026, 11, 1) },
            new { meter = "gpu_hours", amount = 3m, idempotency_key = "g6", occurred_at = Utc(2026, 9, 30, 23) },
            new { meter = "storage_gb", amount = 30m, idempotency_key = "s1", occurred_at = Utc(2026, 10, 1) },
            new { meter = "storage_gb", amount = 60m, idempotency_key = "s2", occurred_at = Utc(2026, 10, 11, 12) },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        async Task<List<(string Meter, DateTimeOffset Start, DateTimeOffset End, decimal Used)>> DaysAsync(HttpClient client, string query)
        {
            using var response = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?granularity=day&{query}");
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            return (await TestApi.ReadAsync(response))["data"]!.AsArray()
                .Select(r => ((string)r!["meter"]!, DateTimeOffset.Parse((string)r["period_start"]!), DateTimeOffset.Parse((string)r["period_end"]!), (decimal)r["used"]!))
                .ToList();
        }

        var october = await DaysAsync(user, "month=2026-10");
        var gpu = october.Where(d => d.Meter == "gpu_hours").ToList();
        Assert.That(gpu.Select(d => d.Start), Is.EqualTo(Enumerable.Range(0, 31).Select(i => Utc(2026, 10, 1).AddDays(i))));
        Assert.That(gpu.All(d => d.End == d.Start.AddDays(1)));
        foreach (var day in gpu)
        {
            var expected = await OwnerSql.ScalarAsync<decimal>(
                "SELECT coalesce(sum(amount), 0) FROM usage_events WHERE meter = 'gpu_hours' AND occurred_at >= @from AND occurred_at < @to",
                tenantId, ("from", day.Start), ("to", day.End));
            Assert.That(day.Used, Is.EqualTo(expected), day.Start.ToString("O"));
        }
        Assert.That(gpu[0].Used, Is.EqualTo(3.2346m));
        Assert.That(gpu[30].Used, Is.EqualTo(7m));
        var rollup = await OwnerSql.ScalarAsync<decimal>(
            "SELECT used FROM usage_rollups WHERE meter = 'gpu_hours' AND period_start = DATE '2026-10-01'", tenantId);
        Assert.That(gpu.Sum(d => d.Used), Is.EqualTo(rollup));
        Assert.That(rollup, Is.EqualTo(10.7346m));

        // The gauge: 30 GB until 11 October noon, then 60 GB; the 11th is the time-weighted 45, every later day 60.
        var storage = october.Where(d => d.Meter == "storage_gb").ToList();
        Assert.That(storage, Has.Count.EqualTo(31));
        foreach (var day in storage)
        {
            var expected = await OwnerSql.ScalarAsync<decimal>("SELECT usage_meter_value(@t, 'storage_gb', @from, @to)", tenantId,
                ("t", tenantId), ("from", day.Start), ("to", day.End));
            Assert.That(day.Used, Is.EqualTo(expected), day.Start.ToString("O"));
        }
        Assert.That(storage.Select(d => d.Used).Distinct(), Is.EqualTo(new[] { 30m, 45m, 60m }));
        Assert.That(storage[10].Used, Is.EqualTo(45m));

        // Filters: one meter, one worker; an API key with usage:read reads the same days.
        var worker = await DaysAsync(user, "month=2026-10&worker_id=summarizer");
        Assert.That(worker.Where(d => d.Used != 0).Select(d => (d.Meter, d.Start, d.Used)), Is.EqualTo(new[] { ("gpu_hours", Utc(2026, 10, 15), 0.5m) }));
        Assert.That(worker, Has.Count.EqualTo(31));
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["usage:read"]);
        Assert.That(await DaysAsync(TestApi.Client(key.Secret), "month=2026-10&meter=gpu_hours"), Is.EqualTo(gpu));

        // September has only its last day's 3 hours; a future month has no days; the current month runs up to today.
        var september = await DaysAsync(user, "month=2026-09");
        Assert.That(september, Has.Count.EqualTo(30));
        Assert.That(september.Where(d => d.Used != 0).Select(d => (d.Start, d.Used)), Is.EqualTo(new[] { (Utc(2026, 9, 30), 3m) }));
        Assert.That(await DaysAsync(user, "month=2999-01"), Is.Empty);
        using (var response = await user.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "tokens", amount = 5, idempotency_key = "now" } }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        var before = DateTimeOffset.UtcNow.Day;
        var current = await DaysAsync(user, "meter=tokens");
        var after = DateTimeOffset.UtcNow.Day;
        Assert.That(current.Count, Is.EqualTo(before).Or.EqualTo(after));
        Assert.That(current[^1].Used, Is.EqualTo(5m));
        Assert.That(current.Take(current.Count - 1).All(d => d.Used == 0));
    }

    [Test]
    public async Task Bad_granularity_month_and_mixed_ranges_get_problem_details_and_other_tenants_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        foreach (var query in new[]
                 {
                     "granularity=week", "granularity=day&month=2026-13", "granularity=day&month=26-10", "granularity=day&month=2026-1",
                     "granularity=day&month=1999-12", "granularity=day&from=2026-10-01T00:00:00Z", "month=2026-10", "granularity=day&meter=Bad!",
                 })
        {
            using var response = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?{query}");
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        var other = await TestApi.SignUpAsync();
        var otherTenant = await TestApi.CreateTenantAsync(other);
        using var foreign = await client.GetAsync($"/v1/tenants/{otherTenant}/usage/history?granularity=day&month=2026-10");
        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
