using Platform.Models;
using Platform.Models.Billing;

namespace Platform.UnitTests.Invoices;

/// <summary>Unit tests of the month pricer's proration rule (docs/decisions/0310) on months of other lengths and on mixed histories.</summary>
public sealed class MonthlyInvoicePricingTests
{
    private static readonly Dictionary<string, decimal> NoUsage = [];

    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    private static PlanSegment Segment(DateTimeOffset from, string plan, string status = "active", string cycle = "monthly", string reason = "plan_changed") =>
        new(from, plan, cycle, WireNames.Parse<SubscriptionStatus>(status), reason);

    [Test]
    public void A_28_day_february_upgrade_on_the_15th_charges_14_and_14_days()
    {
        var priced = MonthlyInvoicePricing.Price(Utc(2027, 2, 1), Utc(2027, 3, 1),
            [Segment(Utc(2027, 1, 3), "starter", reason: "created"), Segment(Utc(2027, 2, 15, 18), "professional")], "professional", NoUsage);

        Assert.Multiple(() =>
        {
            Assert.That(priced.Lines.Select(l => (l.Kind, l.Quantity, l.Divisor, l.AmountCents)), Is.EqualTo(new[]
            {
                ("proration", 14m, 28, 2_450L),
                ("proration", 14m, 28, 9_950L),
            }));
            Assert.That(priced.TotalCents, Is.EqualTo(12_400));
        });
    }

    [Test]
    public void Cancelling_and_subscribing_again_in_a_31_day_month_charges_only_the_paid_days_of_each_plan()
    {
        var priced = MonthlyInvoicePricing.Price(Utc(2026, 12, 1), Utc(2027, 1, 1),
            [
                Segment(Utc(2026, 11, 20), "professional", reason: "created"),
                Segment(Utc(2026, 12, 10, 8), "professional", status: "canceled", reason: "status_changed"),
                Segment(Utc(2026, 12, 22, 8), "starter", reason: "created"),
            ], "starter", NoUsage);

        // Professional in force at the end of days 1-9: 19,900 × 9 / 31 = 5,777.42 -> 5,777; starter days 22-31: 4,900 × 10 / 31 = 1,580.65 -> 1,581.
        Assert.That(priced.Lines.Select(l => (l.Description, l.AmountCents)), Is.EqualTo(new[]
        {
            ("Professional plan, 9 of 31 days", 5_777L),
            ("Starter plan, 10 of 31 days", 1_581L),
        }));
    }

    [Test]
    public void Overages_use_the_quotas_of_the_plan_in_force_at_the_end_of_the_month()
    {
        var usage = new Dictionary<string, decimal> { ["api_calls"] = 150_000 };
        var upgraded = MonthlyInvoicePricing.Price(Utc(2026, 9, 1), Utc(2026, 10, 1),
            [Segment(Utc(2026, 8, 1), "starter", reason: "created"), Segment(Utc(2026, 9, 29), "professional")], "professional", usage);
        var starterAllMonth = MonthlyInvoicePricing.Price(Utc(2026, 9, 1), Utc(2026, 10, 1),
            [Segment(Utc(2026, 8, 1), "starter", reason: "created")], "starter", usage);

        Assert.Multiple(() =>
        {
            Assert.That(upgraded.Lines.Where(l => l.Kind.StartsWith("overage", StringComparison.Ordinal)), Is.Empty);
            Assert.That(starterAllMonth.Lines.Single(l => l.Kind == "overage:api_calls").AmountCents, Is.EqualTo(5_000));
        });
    }

    [Test]
    public void Past_due_still_owes_the_plan_and_a_free_plan_segment_owes_nothing()
    {
        var pastDue = MonthlyInvoicePricing.Price(Utc(2026, 9, 1), Utc(2026, 10, 1),
            [Segment(Utc(2026, 8, 1), "starter", status: "past_due", reason: "status_changed")], "starter", NoUsage);
        var free = MonthlyInvoicePricing.Price(Utc(2026, 9, 1), Utc(2026, 10, 1),
            [Segment(Utc(2026, 8, 1), "free", reason: "created")], "free", NoUsage);

        Assert.Multiple(() =>
        {
            Assert.That(pastDue.TotalCents, Is.EqualTo(4_900));
            Assert.That(free.Lines, Is.Empty);
        });
    }

    [TestCase("2026-10", 2026, 10)]
    [TestCase("2027-02", 2027, 2)]
    public void A_period_parses_to_its_utc_month(string period, int year, int month)
    {
        var parsed = MonthlyInvoicePricing.ParsePeriod(period);
        Assert.That(parsed, Is.EqualTo((Utc(year, month, 1), Utc(year, month, 1).AddMonths(1))));
    }

    [TestCase("2026-1")]
    [TestCase("2026-13")]
    [TestCase("26-10-01")]
    [TestCase("2026/10")]
    [TestCase("-026-10")]
    [TestCase("")]
    [TestCase(null)]
    public void A_malformed_period_is_not_parsed(string? period) =>
        Assert.That(MonthlyInvoicePricing.ParsePeriod(period), Is.Null);
}

/// <summary>Proves the command line knows the close-period verb and lists it in its help.</summary>
public sealed class ClosePeriodVerbTests
{
    [Test]
    public void The_close_period_verb_exists_and_is_listed_in_the_help()
    {
        var original = Console.Out;
        using var help = new StringWriter();
        int? exists;
        int? helpExit;
        try
        {
            Console.SetOut(help);
            exists = Platform.Api.Hosting.PlatformCli.TryRunWithoutHost(["verb-exists", "close-period"]);
            helpExit = Platform.Api.Hosting.PlatformCli.TryRunWithoutHost(["help"]);
        }
        finally
        {
            Console.SetOut(original);
        }
        Assert.Multiple(() =>
        {
            Assert.That(exists, Is.Zero);
            Assert.That(helpExit, Is.Zero);
            Assert.That(help.ToString(), Does.Contain("close-period").And.Contain("YYYY-MM"));
        });
    }
}
