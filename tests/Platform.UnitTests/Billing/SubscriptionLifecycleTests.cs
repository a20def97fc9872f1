using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Tenants;

namespace Platform.UnitTests.Billing;

public sealed class SubscriptionLifecycleTests
{
    private const SubscriptionStatus A = SubscriptionStatus.Active;
    private const SubscriptionStatus P = SubscriptionStatus.PastDue;

    // Every live status x every event, with the status it must lead to (docs/decisions/0411's table).
    [TestCase(A, SubscriptionEvent.PlanChanged, A)]
    [TestCase(P, SubscriptionEvent.PlanChanged, P)]
    [TestCase(A, SubscriptionEvent.CancelScheduled, A)]
    [TestCase(P, SubscriptionEvent.CancelScheduled, P)]
    [TestCase(A, SubscriptionEvent.CanceledNow, SubscriptionStatus.Canceled)]
    [TestCase(P, SubscriptionEvent.CanceledNow, SubscriptionStatus.Canceled)]
    [TestCase(A, SubscriptionEvent.PeriodRolled, A)]
    [TestCase(P, SubscriptionEvent.PeriodRolled, P)]
    [TestCase(A, SubscriptionEvent.PeriodEndedCanceling, SubscriptionStatus.Canceled)]
    [TestCase(P, SubscriptionEvent.PeriodEndedCanceling, SubscriptionStatus.Canceled)]
    [TestCase(A, SubscriptionEvent.PaymentSucceeded, A)]
    [TestCase(P, SubscriptionEvent.PaymentSucceeded, A)]
    [TestCase(A, SubscriptionEvent.PaymentFailed, P)]
    [TestCase(P, SubscriptionEvent.PaymentFailed, P)]
    [TestCase(A, SubscriptionEvent.StripeReportedActive, A)]
    [TestCase(P, SubscriptionEvent.StripeReportedActive, A)]
    [TestCase(A, SubscriptionEvent.StripeReportedOwing, P)]
    [TestCase(P, SubscriptionEvent.StripeReportedOwing, P)]
    [TestCase(A, SubscriptionEvent.StripeReportedEnded, SubscriptionStatus.Canceled)]
    [TestCase(P, SubscriptionEvent.StripeReportedEnded, SubscriptionStatus.Canceled)]
    public void A_live_subscription_moves_as_the_table_says(SubscriptionStatus from, SubscriptionEvent happened, SubscriptionStatus to)
    {
        var transition = SubscriptionLifecycle.Apply(from, happened);
        Assert.Multiple(() =>
        {
            Assert.That(transition.Allowed, Is.True);
            Assert.That(transition.To, Is.EqualTo(to));
            Assert.That(transition.Refusal, Is.Null);
        });
    }

    [TestCaseSource(nameof(AllEvents))]
    public void Canceled_is_final_whatever_happens(SubscriptionEvent happened)
    {
        var transition = SubscriptionLifecycle.Apply(SubscriptionStatus.Canceled, happened);
        Assert.Multiple(() =>
        {
            Assert.That(transition.Allowed, Is.False);
            Assert.That(transition.To, Is.Null);
            Assert.That(transition.Refusal, Is.EqualTo(SubscriptionRefusal.AlreadyCanceled));
        });
    }

    [Test]
    public void The_table_above_covers_every_live_status_and_event()
    {
        var cases = typeof(SubscriptionLifecycleTests).GetMethod(nameof(A_live_subscription_moves_as_the_table_says))!
            .GetCustomAttributes(typeof(TestCaseAttribute), false).Cast<TestCaseAttribute>()
            .Select(c => ((SubscriptionStatus)c.Arguments[0]!, (SubscriptionEvent)c.Arguments[1]!)).ToHashSet();
        var live = Enum.GetValues<SubscriptionStatus>().Where(s => s != SubscriptionStatus.Canceled);
        Assert.That(cases, Is.EquivalentTo(live.SelectMany(s => AllEvents().Select(e => (s, e)))));
    }

    [Test]
    public void An_event_the_function_does_not_know_is_an_error_not_a_silent_move() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SubscriptionLifecycle.Apply(A, (SubscriptionEvent)99));

    [TestCase(false, A)]
    [TestCase(true, P)]
    public void A_new_subscription_starts_past_due_only_when_its_payment_is_owed(bool owed, SubscriptionStatus expected) =>
        Assert.That(SubscriptionLifecycle.Start(owed), Is.EqualTo(expected));

    [TestCase(null, A)]
    [TestCase("active", A)]
    [TestCase("trialing", A)]
    [TestCase("past_due", P)]
    [TestCase("unpaid", P)]
    [TestCase("incomplete", P)]
    public void A_subscription_created_in_Stripe_starts_past_due_when_Stripe_reports_its_first_payment_owed(string? stripeStatus, SubscriptionStatus expected) =>
        Assert.That(SubscriptionLifecycle.StartFromStripe(stripeStatus), Is.EqualTo(expected));

    [Test]
    public void The_decision_record_table_is_the_function()
    {
        // docs/decisions/0411 lists the transitions for people; this keeps that table and Apply the same, cell by cell.
        var rows = File.ReadAllLines(Path.Combine(RepositoryRoot(), "docs", "decisions", "0411-subscription-lifecycle-function.md"))
            .Where(l => l.StartsWith('|') && !l.StartsWith("|---", StringComparison.Ordinal))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray())
            .ToList();
        var header = rows[0];
        Assert.That(header.Skip(1), Is.EqualTo(AllEvents().Select(e => e.ToString())), "the table's columns are the events, in declaration order");
        Assert.That(rows.Skip(1).Select(r => r[0]), Is.EqualTo(WireNames.Names<SubscriptionStatus>()), "the table's rows are the statuses, in declaration order");
        Assert.Multiple(() =>
        {
            foreach (var row in rows.Skip(1))
            {
                var from = WireNames.Parse<SubscriptionStatus>(row[0]);
                foreach (var (happened, column) in AllEvents().Select((e, i) => (e, i + 1)))
                {
                    var transition = SubscriptionLifecycle.Apply(from, happened);
                    if (transition.To is { } to)
                    {
                        Assert.That(row[column], Is.EqualTo(to.ToWire()), $"{row[0]} x {happened}");
                    }
                    else
                    {
                        Assert.That(row[1], Does.StartWith($"refused: {transition.Refusal}"), $"{row[0]} x {happened}");
                    }
                }
            }
        });
    }

    [TestCase("active", SubscriptionEvent.StripeReportedActive)]
    [TestCase("trialing", SubscriptionEvent.StripeReportedActive)]
    [TestCase("canceled", SubscriptionEvent.StripeReportedEnded)]
    [TestCase("incomplete_expired", SubscriptionEvent.StripeReportedEnded)]
    [TestCase("past_due", SubscriptionEvent.StripeReportedOwing)]
    [TestCase("unpaid", SubscriptionEvent.StripeReportedOwing)]
    [TestCase("incomplete", SubscriptionEvent.StripeReportedOwing)]
    [TestCase("paused", SubscriptionEvent.StripeReportedOwing)]
    public void Reads_stripe_statuses_as_events(string stripeStatus, SubscriptionEvent expected) =>
        Assert.That(SubscriptionLifecycle.FromStripe(stripeStatus), Is.EqualTo(expected));

    [TestCase(A, TenantStatus.Active)]
    [TestCase(P, TenantStatus.PastDue)]
    [TestCase(SubscriptionStatus.Canceled, TenantStatus.Active)]
    public void The_tenant_follows_its_subscription(SubscriptionStatus status, TenantStatus expected) =>
        Assert.That(SubscriptionLifecycle.TenantStatusFor(status), Is.EqualTo(expected));

    [Test]
    public void Statuses_keep_their_database_names() =>
        Assert.That(WireNames.Names<SubscriptionStatus>(), Is.EqualTo(new[] { "active", "past_due", "canceled" }));

    private static IEnumerable<SubscriptionEvent> AllEvents() => Enum.GetValues<SubscriptionEvent>();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Platform.sln above the test directory.");
    }
}
