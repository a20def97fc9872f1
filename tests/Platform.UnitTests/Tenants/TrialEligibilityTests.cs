using Platform.Engines.Tenants;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.UnitTests.Tenants;

/// <summary>Proves the one trial rule (ADR 0520) and that the catalogue never gives a trial unlimited quotas.</summary>
public sealed class TrialEligibilityTests
{
    private static readonly IReadOnlySet<string> Default = new FairUseOptions().SelfServeTrialPlanSet;

    [Test]
    public void The_default_opens_starter_and_professional_to_self_serve_trials_but_not_enterprise() =>
        Assert.That(Default, Is.EquivalentTo(new[] { PlanCatalog.Starter, PlanCatalog.Professional }));

    [TestCase(PlanCatalog.Free, false, false, TrialVerdict.NoTrialNeeded)]
    [TestCase(PlanCatalog.Free, true, false, TrialVerdict.NoTrialNeeded)]
    [TestCase(PlanCatalog.Starter, false, false, TrialVerdict.SelfServe)]
    [TestCase(PlanCatalog.Professional, false, false, TrialVerdict.SelfServe)]
    [TestCase(PlanCatalog.Professional, true, false, TrialVerdict.AlreadyTrialled)]
    [TestCase(PlanCatalog.Professional, true, true, TrialVerdict.OperatorGrant)]
    [TestCase(PlanCatalog.Enterprise, false, false, TrialVerdict.NotSelfServe)]
    [TestCase(PlanCatalog.Enterprise, true, false, TrialVerdict.NotSelfServe)]
    [TestCase(PlanCatalog.Enterprise, false, true, TrialVerdict.OperatorGrant)]
    public void Decides_from_plan_self_serve_list_ledger_and_grant(string plan, bool hadTrial, bool granted, TrialVerdict expected) =>
        Assert.That(TrialEligibility.Decide(PlanCatalog.Get(plan), Default, hadTrial, granted), Is.EqualTo(expected));

    [Test]
    public void A_plan_listed_in_the_setting_becomes_self_serve()
    {
        var set = new FairUseOptions { SelfServeTrialPlans = "starter, enterprise" }.SelfServeTrialPlanSet;
        Assert.Multiple(() =>
        {
            Assert.That(TrialEligibility.Decide(PlanCatalog.Get(PlanCatalog.Enterprise), set, false, false), Is.EqualTo(TrialVerdict.SelfServe));
            Assert.That(TrialEligibility.Decide(PlanCatalog.Get(PlanCatalog.Professional), set, false, false), Is.EqualTo(TrialVerdict.NotSelfServe));
        });
    }

    [Test]
    public void Only_trials_are_granted_and_only_refusals_refuse()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Enum.GetValues<TrialVerdict>().Where(v => v.Grants()), Is.EquivalentTo(new[] { TrialVerdict.SelfServe, TrialVerdict.OperatorGrant }));
            Assert.That(Enum.GetValues<TrialVerdict>().Where(v => v.Refuses()), Is.EquivalentTo(new[] { TrialVerdict.NotSelfServe, TrialVerdict.AlreadyTrialled }));
        });
    }

    [Test]
    public void Every_paid_plan_has_trial_limits_without_an_unlimited_quota()
    {
        foreach (var plan in PlanCatalog.All.Where(p => p.PriceMonthlyCents > 0))
        {
            Assert.That(plan.TrialLimits, Is.Not.Null, plan.Id);
            Assert.That(Quotas.All.Select(q => Quotas.ValueOf(plan.TrialLimits!, q)), Has.All.GreaterThanOrEqualTo(0), plan.Id);
            Assert.That(plan.LimitsWhile(TenantStatus.Trial), Is.SameAs(plan.TrialLimits));
            Assert.That(plan.LimitsWhile(TenantStatus.Active), Is.SameAs(plan.Limits));
        }
    }
}
