using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Email;
using Platform.Drivers.Plans;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Engines.Email;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Engines.Tenants;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Email;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Billing;

/// <summary>Holds billing's tenant rules in one place, used inside an open tenant scope by webhooks, jobs and commands: the tenant's plan,
/// quotas and status follow its subscription, billing's own suspensions are told apart from an operator's, and notices are queued once.</summary>
internal sealed class BillingLifecycle(
    ITenantDriver tenants, IBillingDriver billing, IMemberDriver members, AuditTrail audit, TenantNotices notices, WebhookEvents events, EmailOptions emailOptions,
    IFeatureOverrideDriver features, TenantAccessChanges access, ICreditDriver credits, CreditsOptions creditsOptions, IQuotaDriver quotas)
{
    /// <summary>Is the suspended_reason the dunning job writes; a payment lifts only a suspension with this reason (or the trial's), never an operator's.</summary>
    public const string DunningReason = "billing: payment overdue past the grace period";

    /// <summary>Is the suspended_reason the trial job writes when Billing:TrialEndAction is suspend; subscribing lifts it.</summary>
    public const string TrialEndedReason = "billing: trial ended without a subscription";

    /// <summary>Tells whether the tenant is suspended by billing (dunning, trial end, or created on a paid plan awaiting its first subscription, ADR 0520) rather than by an operator.</summary>
    public static bool IsBillingSuspension(TenantSnapshot tenant) =>
        tenant.Status == TenantStatus.Suspended && tenant.SuspendedReason is DunningReason or TrialEndedReason or TenantStatuses.AwaitingSubscriptionReason;

    /// <summary>Decides a subscription's next status through <see cref="SubscriptionLifecycle"/>; null when the event is refused (canceled is final).</summary>
    public static SubscriptionStatus? Next(SubscriptionStatus status, SubscriptionEvent happened) =>
        SubscriptionLifecycle.Apply(status, happened).To;

    /// <summary>Gets the billing page the emails link to.</summary>
    public string BillingUrl => emailOptions.LinkBaseUrl.TrimEnd('/') + "/billing";

    /// <summary>Makes the tenant's plan, quotas and status follow the subscription: canceled -> free; past_due -> past_due; active -> active
    /// (lifting billing's own suspension). An operator's suspension and a deleted tenant are left as they are; a dunning suspension stays until paid.
    /// Writes one audit row when something changed and returns the tenant as it is now.</summary>
    public async Task<TenantSnapshot> FollowAsync(TenantScope scope, SubscriptionSnapshot subscription, Caller caller, string cause, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var tenant = await tenants.FetchTenantAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("tenant");
        if (tenant.Status == TenantStatus.Deleted)
        {
            return tenant;
        }
        var plan = PlanCatalog.Get(subscription.Status == SubscriptionStatus.Canceled ? PlanCatalog.Free : subscription.Plan);
        TenantStatus status;
        string? reason = null;
        if (tenant.Status == TenantStatus.Suspended && !IsBillingSuspension(tenant))
        {
            (status, reason) = (TenantStatus.Suspended, tenant.SuspendedReason);
        }
        else if (tenant.Status == TenantStatus.Suspended && tenant.SuspendedReason == DunningReason && subscription.Status != SubscriptionStatus.Active)
        {
            (status, reason) = (TenantStatus.Suspended, DunningReason);
        }
        else
        {
            status = SubscriptionLifecycle.TenantStatusFor(subscription.Status);
        }
        return await SetAsync(scope, tenant, plan, status, reason, caller, cause, now, cancellationToken);
    }

    /// <summary>Records that the tenant paid what it owed, inside the caller's transaction (the tenant row is locked first): a past_due subscription
    /// becomes active and a tenant that is past_due or suspended by billing becomes active again; an operator's suspension stays. Returns the tenant.</summary>
    public async Task<TenantSnapshot> RecordPaymentAsync(TenantScope scope, Caller caller, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        await tenants.LockTenantAsync(scope.Session, tenantId, cancellationToken);
        var subscription = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
        if (subscription is not null)
        {
            var paid = subscription;
            if (Next(subscription.Status, SubscriptionEvent.PaymentSucceeded) is { } next && next != subscription.Status)
            {
                paid = await billing.SaveSubscriptionAsync(scope.Session, subscription with { Status = next, PastDueSince = null, UpdatedAt = now }, cancellationToken)
                    ?? throw new NotFoundException("subscription");
                await audit.RecordAsync(scope.Session, tenantId, caller, "subscription.paid", "subscription", paid.Id,
                    new { subscription.Status, subscription.PastDueSince }, new { paid.Status }, cancellationToken);
                await SubscriptionChangedAsync(scope, subscription, paid, cancellationToken);
            }
            return await FollowAsync(scope, paid, caller, "payment recorded", now, cancellationToken);
        }
        // No subscription (a usage invoice paid after cancellation): only billing's own suspension or past_due is lifted.
        var tenant = await tenants.FetchTenantAsync(scope.Session, tenantId, cancellationToken) ?? throw new NotFoundException("tenant");
        return tenant.Status == TenantStatus.PastDue || IsBillingSuspension(tenant)
            ? await SetAsync(scope, tenant, PlanCatalog.Find(tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free), TenantStatus.Active, null,
                caller, "payment recorded", now, cancellationToken)
            : tenant;
    }

    /// <summary>Sets the tenant's plan (with its quotas), status and suspension reason when they differ, with one audit row, and returns the tenant.</summary>
    public async Task<TenantSnapshot> SetAsync(
        TenantScope scope, TenantSnapshot tenant, Plan plan, TenantStatus status, string? reason, Caller caller, string cause, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (plan.Id == tenant.Plan && status == tenant.Status && reason == tenant.SuspendedReason)
        {
            return tenant;
        }
        var updated = tenant;
        if (plan.Id != tenant.Plan || status != tenant.Status)
        {
            updated = await billing.SetTenantPlanForBillingAsync(scope.Session, tenant.Id, plan.Id, Quotas.ToTenantQuotas(plan.LimitsWhile(status, reason)), status, now, cancellationToken)
                ?? throw new NotFoundException("tenant");
        }
        if (reason != tenant.SuspendedReason)
        {
            updated = await tenants.SetTenantStatusAsync(scope.Session, tenant.Id, status, reason, tenant.DeletedAt, now, cancellationToken)
                ?? throw new NotFoundException("tenant");
        }
        await audit.RecordAsync(scope.Session, tenant.Id, caller, "tenant.billing_changed", "tenant", tenant.Id,
            new { tenant.Plan, tenant.Status, reason = tenant.SuspendedReason },
            new { updated.Plan, updated.Status, reason = updated.SuspendedReason, cause }, cancellationToken);
        // An upgrade within the month grants the difference of the monthly credits at once (plan_upgrade, ADR 0650); a downgrade takes nothing back.
        if (updated.Status != TenantStatus.Deleted
            && EffectiveLimits.Of(updated, await quotas.ListOverridesAsync(scope.Session, tenant.Id, cancellationToken)) is { } limits)
        {
            await CreditLedger.OpenAccountAsync(credits, audit, creditsOptions, scope, now, cancellationToken, limits.CreditsPerMonth);
        }
        // A downgrade or cancellation keeps the data but stops the features at once, on every instance (ADR 0550).
        await FeatureLoss.RecordAsync(features, audit, scope, caller, tenant, updated, cancellationToken);
        await access.AnnounceAsync(scope, cancellationToken);
        await TenantEvents.StatusChangedAsync(events, scope.Session, tenant, updated, cancellationToken);
        return updated;
    }

    /// <summary>Emits subscription.canceled when the subscription became canceled, else subscription.updated when its plan, cycle, status, pending plan,
    /// cancellation flag or period changed (before is null for a new subscription); in the caller's transaction.</summary>
    public async Task SubscriptionChangedAsync(TenantScope scope, SubscriptionSnapshot? before, SubscriptionSnapshot after, CancellationToken cancellationToken)
    {
        if (after.Status == SubscriptionStatus.Canceled)
        {
            if (before?.Status != SubscriptionStatus.Canceled)
            {
                await events.EmitAsync(scope.Session, after.TenantId, WebhookEventTypes.SubscriptionCanceled, SubscriptionEventData.From(after), cancellationToken);
            }
            return;
        }
        var data = SubscriptionEventData.From(after);
        if (before is null || SubscriptionEventData.From(before) != data)
        {
            await events.EmitAsync(scope.Session, after.TenantId, WebhookEventTypes.SubscriptionUpdated, data, cancellationToken);
        }
    }

    /// <summary>Queues an email once per notice key (the billing_notices row is written in the same transaction), to the billing email, else the
    /// given fallback, else the first owner; returns false when it was already queued or nobody can receive it.</summary>
    public async Task<bool> QueueOnceAsync(
        TenantScope scope, string notice, string kind, string? fallbackRecipient, Func<string, TenantSnapshot, EmailContent> render, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await billing.TryRecordBillingNoticeAsync(scope.Session, scope.Tenant.Id, notice, now, cancellationToken))
        {
            return false;
        }
        var recipient = scope.Tenant.BillingEmail ?? fallbackRecipient ?? await FirstOwnerEmailAsync(scope, cancellationToken);
        if (recipient is null)
        {
            return false;
        }
        await notices.QueueInScopeAsync(scope, Caller.System, recipient, kind, render, cancellationToken);
        return true;
    }

    private async Task<string?> FirstOwnerEmailAsync(TenantScope scope, CancellationToken cancellationToken)
    {
        var list = await members.ListMembersAsync(scope.Session, scope.Tenant.Id, null, 200, cancellationToken);
        return list.FirstOrDefault(m => m.Role == TenantRole.Owner)?.Email;
    }
}
