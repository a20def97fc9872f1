namespace Platform.Models.Billing;

/// <summary>Describes where a subscription is: active (paid up), past_due (money owed) or canceled (over, for good).</summary>
[WireEnum]
public enum SubscriptionStatus
{
    Active,
    PastDue,
    Canceled,
}

/// <summary>Names what can happen to a subscription, whoever reports it: the owner (plan change, cancel), a job (period end, offline
/// dunning), an operator (payment recorded) or Stripe (webhooks).</summary>
public enum SubscriptionEvent
{
    /// <summary>The owner changes the plan (upgrade, downgrade, or withdrawing a pending change).</summary>
    PlanChanged,

    /// <summary>The owner asks to cancel at the period end (only flagged).</summary>
    CancelScheduled,

    /// <summary>The owner cancels now.</summary>
    CanceledNow,

    /// <summary>The period ends without a scheduled cancellation: it rolls (a pending downgrade applies).</summary>
    PeriodRolled,

    /// <summary>The period ends with a scheduled cancellation.</summary>
    PeriodEndedCanceling,

    /// <summary>A payment arrives: Stripe's invoice.paid, or an operator recording an offline payment.</summary>
    PaymentSucceeded,

    /// <summary>A payment fails or falls overdue: Stripe's invoice.payment_failed, or an offline invoice past its due date.</summary>
    PaymentFailed,

    /// <summary>Stripe reports the subscription active or trialing.</summary>
    StripeReportedActive,

    /// <summary>Stripe reports a status that owes money (past_due, unpaid, incomplete, paused).</summary>
    StripeReportedOwing,

    /// <summary>Stripe reports it ended (canceled, incomplete_expired, or customer.subscription.deleted).</summary>
    StripeReportedEnded,
}

/// <summary>Names why a transition is refused.</summary>
public enum SubscriptionRefusal
{
    /// <summary>The subscription is canceled, and canceled is final: nothing moves it again.</summary>
    AlreadyCanceled,
}

/// <summary>Holds the outcome of one event: the new status, or the refusal.</summary>
public readonly record struct SubscriptionTransition(SubscriptionStatus? To, SubscriptionRefusal? Refusal)
{
    public bool Allowed => To is not null;

    public static SubscriptionTransition Move(SubscriptionStatus to) => new(to, null);

    public static SubscriptionTransition Refuse(SubscriptionRefusal why) => new(null, why);
}

/// <summary>Decides the subscription's status: the one list of legal transitions (state × event -> state or refusal), used by the webhook
/// handler, the jobs and the owner's and operators' commands alike (docs/decisions/0411 has the table).</summary>
public static class SubscriptionLifecycle
{
    /// <summary>Gets the status a new subscription starts in: past_due when its first payment is owed, else active.</summary>
    public static SubscriptionStatus Start(bool paymentOwed) => paymentOwed ? SubscriptionStatus.PastDue : SubscriptionStatus.Active;

    /// <summary>Gets the status a new subscription starts in after Stripe created it (null: offline, no Stripe): past_due when Stripe reports
    /// its first payment owed (past_due, unpaid, incomplete), else active.</summary>
    public static SubscriptionStatus StartFromStripe(string? stripeStatus) => Start(stripeStatus is "past_due" or "unpaid" or "incomplete");

    /// <summary>Decides where an event takes a subscription in a status.</summary>
    public static SubscriptionTransition Apply(SubscriptionStatus from, SubscriptionEvent happened)
    {
        if (from == SubscriptionStatus.Canceled)
        {
            return SubscriptionTransition.Refuse(SubscriptionRefusal.AlreadyCanceled);
        }
        return happened switch
        {
            SubscriptionEvent.PlanChanged or SubscriptionEvent.CancelScheduled or SubscriptionEvent.PeriodRolled => SubscriptionTransition.Move(from),
            SubscriptionEvent.CanceledNow or SubscriptionEvent.PeriodEndedCanceling or SubscriptionEvent.StripeReportedEnded =>
                SubscriptionTransition.Move(SubscriptionStatus.Canceled),
            SubscriptionEvent.PaymentSucceeded or SubscriptionEvent.StripeReportedActive => SubscriptionTransition.Move(SubscriptionStatus.Active),
            SubscriptionEvent.PaymentFailed or SubscriptionEvent.StripeReportedOwing => SubscriptionTransition.Move(SubscriptionStatus.PastDue),
            _ => throw new ArgumentOutOfRangeException(nameof(happened), happened, "Unknown subscription event."),
        };
    }

    /// <summary>Maps Stripe's subscription status to our event: active and trialing are active; canceled and incomplete_expired ended; every
    /// other state (past_due, unpaid, incomplete, paused) owes money.</summary>
    public static SubscriptionEvent FromStripe(string stripeStatus) => stripeStatus switch
    {
        "active" or "trialing" => SubscriptionEvent.StripeReportedActive,
        "canceled" or "incomplete_expired" => SubscriptionEvent.StripeReportedEnded,
        _ => SubscriptionEvent.StripeReportedOwing,
    };

    /// <summary>Gets the tenant status a subscription in this status asks for (before billing's and operators' suspensions are considered):
    /// past_due for past_due, active otherwise (a canceled subscription leaves the tenant active on the free plan).</summary>
    public static Tenants.TenantStatus TenantStatusFor(SubscriptionStatus status) =>
        status == SubscriptionStatus.PastDue ? Tenants.TenantStatus.PastDue : Tenants.TenantStatus.Active;
}
