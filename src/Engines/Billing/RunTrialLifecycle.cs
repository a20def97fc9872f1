using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Email;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Ends the trials that are over (moves the tenant to the free plan, or suspends it when Billing:TrialEndAction is suspend) and queues the
/// trial-ending email Billing:TrialReminderDays before the end, each exactly once per tenant (a billing_notices row in the same transaction);
/// safe with many copies running (tenants are claimed with FOR UPDATE SKIP LOCKED and re-checked under the lock).</summary>
public sealed record RunTrialLifecycle(int MaxTenants = 500) : IRequest<TrialLifecycleResult>;

/// <summary>Holds what one trial run did: reminders queued and trials ended.</summary>
public sealed record TrialLifecycleResult(int RemindersQueued, int TrialsEnded);

internal sealed class RunTrialLifecycleHandler(
    IDbSessionFactory sessions, TenantSweep sweep, ITenantDriver tenants, IBillingDriver billing, BillingLifecycle lifecycle, BillingOptions options, IClock clock)
    : IRequestHandler<RunTrialLifecycle, TrialLifecycleResult>
{
    private const string EndedNotice = "trial_ended";
    private const string ReminderNotice = "trial_ending";

    public async Task<TrialLifecycleResult> Handle(RunTrialLifecycle command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // Ends first: a trial already over gets no reminder.
        var ended = await ForEachDueAsync(now, EndedNotice, command.MaxTenants, (scope, tenant, ct) => EndAsync(scope, tenant, now, ct), cancellationToken);
        var reminded = await ForEachDueAsync(now.AddDays(options.TrialReminderDays), ReminderNotice, command.MaxTenants,
            (scope, tenant, ct) => RemindAsync(scope, tenant, now, ct), cancellationToken);
        return new TrialLifecycleResult(reminded, ended);
    }

    private async Task<bool> EndAsync(TenantScope scope, TenantSnapshot tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (tenant.TrialEndsAt is not { } endsAt || endsAt > now
            || !await billing.TryRecordBillingNoticeAsync(scope.Session, tenant.Id, EndedNotice, now, cancellationToken))
        {
            return false;
        }
        if (options.SuspendsAtTrialEnd)
        {
            await lifecycle.SetAsync(scope, tenant, PlanCatalog.Find(tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free), TenantStatus.Suspended,
                BillingLifecycle.TrialEndedReason, Caller.System, "trial ended", now, cancellationToken);
        }
        else
        {
            await lifecycle.SetAsync(scope, tenant, PlanCatalog.Get(PlanCatalog.Free), TenantStatus.Active, null, Caller.System, "trial ended", now, cancellationToken);
        }
        return true;
    }

    private async Task<bool> RemindAsync(TenantScope scope, TenantSnapshot tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (tenant.TrialEndsAt is not { } endsAt || endsAt <= now || endsAt > now.AddDays(options.TrialReminderDays))
        {
            return false;
        }
        return await lifecycle.QueueOnceAsync(scope, ReminderNotice, EmailTemplates.TrialEndingKind, null,
            (to, t) => EmailTemplates.TrialEnding(to, t.Name, endsAt, lifecycle.BillingUrl), now, cancellationToken);
    }

    /// <summary>Claims each tenant in trial with the trial ending before a time and no such notice yet, re-checks it under the lock (still in trial,
    /// no live subscription), applies the step and commits; returns how many tenants the step acted on.</summary>
    private async Task<int> ForEachDueAsync(
        DateTimeOffset until, string notice, int limit, Func<TenantScope, TenantSnapshot, CancellationToken, Task<bool>> step, CancellationToken cancellationToken)
    {
        IReadOnlyList<Guid> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await billing.ListTenantsWithTrialDueAsync(lookup, until, notice, limit, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(due, async scope =>
        {
            var tenantId = scope.Tenant.Id;
            var tenant = await tenants.FetchTenantAsync(scope.Session, tenantId, cancellationToken);
            if (tenant is not { Status: TenantStatus.Trial }
                || await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken) is not null
                || !await step(scope, tenant, cancellationToken))
            {
                return false;
            }
            return true;
        }, cancellationToken);
    }
}
