using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Usage;

/// <summary>Proves meters as data (ADR 0640): each aggregation the service keeps (sum, count, max, unique_count, latest, time-weighted gauge) equals
/// a direct SQL computation over the raw events on randomised event sets sent in parallel batches, and storage reported hourly bills as GB-months.</summary>
public sealed class MeterAggregationTests : DatabaseTest
{
    private static readonly (string Key, string Aggregation, string? Property)[] Aggregated =
    [
        ("p_sum", "sum", null), ("p_count", "count", null), ("p_max", "max", null),
        ("p_unique", "unique_count", "user"), ("p_latest", "latest", null), ("p_gauge", "gauge", null),
    ];

    /// <summary>Is each aggregation computed independently of the service: over the raw rows, with the gauge's level segments clipped to the month.</summary>
    private static string DirectSql(string aggregation) => aggregation switch
    {
        "sum" => "SELECT coalesce(sum(amount), 0) FROM usage_events WHERE meter = @m AND occurred_at >= @f AND occurred_at < @t",
        "count" => "SELECT count(*)::numeric FROM usage_events WHERE meter = @m AND occurred_at >= @f AND occurred_at < @t",
        "max" => "SELECT coalesce(max(amount), 0) FROM usage_events WHERE meter = @m AND occurred_at >= @f AND occurred_at < @t",
        "unique_count" => "SELECT count(DISTINCT metadata ->> 'user')::numeric FROM usage_events WHERE meter = @m AND occurred_at >= @f AND occurred_at < @t",
        "latest" => """
                    SELECT coalesce((SELECT amount FROM usage_events WHERE meter = @m AND occurred_at >= @f AND occurred_at < @t
                                     ORDER BY occurred_at DESC, recorded_at DESC, idempotency_key DESC LIMIT 1), 0)
                    """,
        "gauge" => """
                   SELECT round(coalesce(sum(s.amount * extract(epoch FROM (least(s.next_at, @t) - greatest(s.occurred_at, @f)))), 0)
                                / extract(epoch FROM (@t::timestamptz - @f::timestamptz)), 6)
                   FROM (SELECT amount, occurred_at,
                                lead(occurred_at, 1, 'infinity'::timestamptz) OVER (ORDER BY occurred_at, recorded_at, idempotency_key) AS next_at
                         FROM usage_events WHERE meter = @m) s
                   WHERE s.occurred_at < @t AND s.next_at > @f
                   """,
        _ => throw new ArgumentOutOfRangeException(nameof(aggregation)),
    };

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public async Task Every_aggregation_equals_a_direct_sql_computation_over_the_raw_events(int seed)
    {
        foreach (var (key, aggregation, property) in Aggregated)
        {
            await OwnerSql.ScalarAsync<object>(
                "INSERT INTO meters (key, name, unit, decimals, aggregation, unique_property) VALUES (@k, @k, 'units', 3, @a, @p)",
                null, ("k", key), ("a", aggregation), ("p", (object?)property ?? DBNull.Value));
        }
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var random = new Random(seed);
        var start = Utc(2026, 9, 1);
        // A few shared instants make ties (same occurred_at) common; the rest spread over September to November.
        var instants = Enumerable.Range(0, 8).Select(_ => start.AddSeconds(random.Next(0, 91 * 86_400))).ToArray();
        var events = new List<object>();
        for (var i = 0; i < 240; i++)
        {
            var at = random.Next(4) == 0 ? instants[random.Next(instants.Length)] : start.AddSeconds(random.Next(0, 91 * 86_400));
            var meter = Aggregated[random.Next(Aggregated.Length)].Key;
            // Some keys repeat with another amount: the first stored wins, the rest are duplicates.
            var idempotencyKey = random.Next(10) == 0 && i > 0 ? $"e{random.Next(i)}" : $"e{i}";
            var amount = random.Next(0, 1_000_000) / 1000m;
            events.Add(random.Next(5) == 0
                ? new { meter, amount, idempotency_key = idempotencyKey, occurred_at = at }
                : new { meter, amount, idempotency_key = idempotencyKey, occurred_at = at, metadata = new { user = $"u{random.Next(7)}", n = i } });
        }
        var batches = new List<List<object>>();
        for (var i = 0; i < events.Count;)
        {
            var size = random.Next(1, 40);
            batches.Add(events.Skip(i).Take(size).ToList());
            i += size;
        }
        // Batches go in parallel: the rollups of aggregated meters are computed under a per-meter lock, so the last one sees every event.
        var responses = await Task.WhenAll(batches.Select(b => client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", b)));
        foreach (var response in responses)
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            response.Dispose();
        }

        using var history = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=2026-09-01T00:00:00Z&to=2026-11-30T00:00:00Z");
        await TestApi.ExpectAsync(history, HttpStatusCode.OK);
        var served = (await TestApi.ReadAsync(history))["data"]!.AsArray()
            .ToDictionary(r => ((string)r!["meter"]!, DateTimeOffset.Parse((string)r["period_start"]!, CultureInfo.InvariantCulture)), r => (decimal)r!["used"]!);
        var compared = 0;
        foreach (var (key, aggregation, _) in Aggregated)
        {
            for (var month = start; month < Utc(2026, 12, 1); month = month.AddMonths(1))
            {
                var expected = await OwnerSql.ScalarAsync<decimal>(DirectSql(aggregation), tenantId, ("m", key), ("f", month), ("t", month.AddMonths(1)));
                Assert.That(served.GetValueOrDefault((key, month)), Is.EqualTo(expected), $"{key} ({aggregation}) in {month:yyyy-MM}, seed {seed}");
                compared += expected > 0 ? 1 : 0;
            }
        }
        Assert.That(compared, Is.GreaterThanOrEqualTo(15), "the random set gives most meters a value in most months");
    }

    [Test]
    public async Task Storage_reported_every_hour_bills_the_hand_calculated_gb_months_and_the_level_persists()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        // 40 GB from 31 October 23:00; in November (720 hours) the first report comes at hour 24: 100 GB hourly to hour 359, then 250 GB to the end.
        // November: (24 x 40 + 336 x 100 + 360 x 250) / 720 = 124,560 / 720 = 173 GB-months. October: 40 x 1 / 744 = 0.053763 (6 decimals).
        var events = new List<object> { new { meter = "storage_gb", amount = 40m, idempotency_key = "oct", occurred_at = Utc(2026, 10, 31, 23) } };
        for (var hour = 24; hour < 720; hour++)
        {
            events.Add(new { meter = "storage_gb", amount = hour < 360 ? 100m : 250m, idempotency_key = $"h{hour}", occurred_at = Utc(2026, 11, 1).AddHours(hour) });
        }
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", events))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        using var history = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?meter=storage_gb&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z");
        var rows = (await TestApi.ReadAsync(history))["data"]!.AsArray();
        Assert.That(rows.Select(r => (decimal)r!["used"]!), Is.EqualTo(new[] { 0.053763m, 173m }));

        // The level persists: the current month (no report in it) is 250 GB all month, not 0 and not the sum of the reports.
        using var summary = await client.GetAsync($"/v1/tenants/{tenantId}/usage");
        var lines = (await TestApi.ReadAsync(summary))["meters"]!.AsArray().ToDictionary(m => (string)m!["meter"]!, m => m!);
        Assert.That((decimal)lines["storage_gb"]["used"]!, Is.EqualTo(250m));

        // free includes 10 GB: 163 GB-months over at 2.3 cents = 374.9 -> 375 cents.
        await CloseAsync("2026-11", Utc(2026, 12, 2));
        Assert.That(await LinesAsync(tenantId, Utc(2026, 11, 1)), Is.EqualTo(new[] { "overage storage_gb 163/1 x 2.3 = 375" }));
    }
}
