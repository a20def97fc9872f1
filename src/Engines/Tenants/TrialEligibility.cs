using Platform.Models.Plans;

namespace Platform.Engines.Tenants;

/// <summary>Says how a new tenant on a plan starts: with no trial (the free plan), with a trial (self-serve or granted by an operator), or refused a trial and why.</summary>
public enum TrialVerdict
{
    /// <summary>The plan is free: the tenant starts active, no trial is involved.</summary>
    NoTrialNeeded,

    /// <summary>A self-serve trial: the user's first of this plan family, and the plan may be trialled self-serve.</summary>
    SelfServe,

    /// <summary>A trial an operator granted the user for this plan family (it is used up by this tenant).</summary>
    OperatorGrant,

    /// <summary>Refused: the plan is not open to self-serve trials (enterprise by default).</summary>
    NotSelfServe,

    /// <summary>Refused: the user already had a self-serve trial of this plan family.</summary>
    AlreadyTrialled,
}

/// <summary>Is the one rule of who gets a trial (ADR 0520): the free plan needs none; an operator's unused grant for the plan family always
/// gives one; otherwise the plan must be listed in FairUse:SelfServeTrialPlans and the user must not have had a trial of its family.
/// Pure: the caller reads the ledger (under the user's creation lock) and records the result.</summary>
public static class TrialEligibility
{
    public static TrialVerdict Decide(Plan plan, IReadOnlySet<string> selfServePlans, bool userHadTrialOfFamily, bool hasOperatorGrant)
    {
        if (plan.PriceMonthlyCents == 0)
        {
            return TrialVerdict.NoTrialNeeded;
        }
        if (hasOperatorGrant)
        {
            return TrialVerdict.OperatorGrant;
        }
        if (!selfServePlans.Contains(plan.Id))
        {
            return TrialVerdict.NotSelfServe;
        }
        return userHadTrialOfFamily ? TrialVerdict.AlreadyTrialled : TrialVerdict.SelfServe;
    }

    /// <summary>Tells whether a verdict lets the tenant start in trial.</summary>
    public static bool Grants(this TrialVerdict verdict) => verdict is TrialVerdict.SelfServe or TrialVerdict.OperatorGrant;

    /// <summary>Tells whether a verdict refuses the trial the caller asked for.</summary>
    public static bool Refuses(this TrialVerdict verdict) => verdict is TrialVerdict.NotSelfServe or TrialVerdict.AlreadyTrialled;

    /// <summary>Gives the wire reason of a refusal (the problem's "reason" extension).</summary>
    public static string Reason(this TrialVerdict verdict) => verdict switch
    {
        TrialVerdict.NotSelfServe => "plan_not_self_serve",
        TrialVerdict.AlreadyTrialled => "trial_already_used",
        _ => "none",
    };
}
