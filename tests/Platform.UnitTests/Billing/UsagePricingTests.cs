using Platform.Models.Billing;
using Platform.Models.Plans;

namespace Platform.UnitTests.Billing;

/// <summary>Proves the pricing rule: base plus overages, each line exact in decimal and rounded once, half away from zero.</summary>
public sealed class UsagePricingTests
{
    private static readonly DateTimeOffset October = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void The_seed_example_comes_to_exactly_276_dollars_30()
    {
        var usage = new Dictionary<string, decimal> { ["api_calls"] = 1_050_000m, ["storage_gb"] = 1_100m, ["gpu_hours"] = 210m };

        var priced = UsagePricing.Price(PlanCatalog.Get(PlanCatalog.Professional), October, October.AddMonths(1), usage);

        Assert.Multiple(() =>
        {
            Assert.That(priced.Lines.Select(l => (l.Kind, l.AmountCents)), Is.EqualTo(new[]
            {
                ("base", 19_900L), ("overage:api_calls", 5_000L), ("overage:storage_gb", 230L), ("overage:gpu_hours", 2_500L),
            }));
            Assert.That(priced.Lines.Select(l => l.Quantity).Skip(1), Is.EqualTo(new[] { 50_000m, 100m, 10m }));
            Assert.That(priced.TotalCents, Is.EqualTo(27_630));
            Assert.That(priced.Currency, Is.EqualTo("usd"));
        });
    }

    [TestCase(1_000_005, 1)]     // 5 calls over = 0.5 cent: half rounds away from zero
    [TestCase(1_000_004, 0)]     // 0.4 cent rounds down, and the line still shows
    [TestCase(1_000_015, 2)]     // 1.5 cents -> 2
    [TestCase(1_000_025, 3)]     // 2.5 cents -> 3 (banker's rounding would give 2)
    public void Each_line_is_rounded_once_half_away_from_zero(long apiCalls, long expectedCents)
    {
        var priced = UsagePricing.Price(PlanCatalog.Get(PlanCatalog.Professional), October, October.AddMonths(1),
            new Dictionary<string, decimal> { ["api_calls"] = apiCalls });

        Assert.That(priced.Lines.Single(l => l.Kind == "overage:api_calls").AmountCents, Is.EqualTo(expectedCents));
    }

    [Test]
    public void Usage_within_quota_and_unlimited_plans_add_no_overage_lines()
    {
        var usage = new Dictionary<string, decimal> { ["api_calls"] = 5_000_000m, ["storage_gb"] = 99_999m, ["gpu_hours"] = 1_000m };

        var enterprise = UsagePricing.Price(PlanCatalog.Get(PlanCatalog.Enterprise), October, October.AddMonths(1), usage);
        var withinQuota = UsagePricing.Price(PlanCatalog.Get(PlanCatalog.Professional), October, October.AddMonths(1),
            new Dictionary<string, decimal> { ["api_calls"] = 1_000_000m });

        Assert.Multiple(() =>
        {
            Assert.That(enterprise.Lines.Select(l => l.Kind), Is.EqualTo(new[] { "base" }));
            Assert.That(enterprise.TotalCents, Is.EqualTo(99_900));
            Assert.That(withinQuota.TotalCents, Is.EqualTo(19_900));
        });
    }
}
