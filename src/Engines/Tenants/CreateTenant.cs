using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Engines.Tenants;

/// <summary>Creates a tenant whose owner is the caller, within the fair-use limits (ADR 0520): a paid plan starts with its trial when
/// <see cref="TrialEligibility"/> grants one; otherwise the caller's <c>WhenTrialUnavailable</c> decides: refuse (409 trial_not_available),
/// free (the free plan, active) or paid (the plan, suspended until the first subscription). The free plan starts active.</summary>
public sealed record CreateTenant(Caller Caller, string Name, string Slug, string? Plan, string? BillingEmail, string? WhenTrialUnavailable = null)
    : IRequest<TenantMembershipSnapshot>, ICallerCommand;

/// <summary>Names what a tenant creation does when the plan's trial is not available to the caller.</summary>
public static class TrialFallbacks
{
    public const string Refuse = "refuse";
    public const string Free = "free";
    public const string Paid = "paid";

    public static IReadOnlyList<string> All { get; } = [Refuse, Free, Paid];
}

internal sealed class CreateTenantValidator : AbstractValidator<CreateTenant>
{
    public CreateTenantValidator()
    {
        RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
        RuleFor(c => c.Slug).Must(Slugs.IsValid)
            .WithMessage("The slug must be 3-63 lowercase letters, digits or inner single hyphens.");
        RuleFor(c => c.Plan).Must(p => p is null || PlanCatalog.Find(p) is not null)
            .WithMessage($"The plan must be one of: {string.Join(", ", PlanCatalog.All.Select(p => p.Id))}.");
        RuleFor(c => c.BillingEmail).MaximumLength(254).EmailAddress().When(c => c.BillingEmail is not null);
        RuleFor(c => c.WhenTrialUnavailable).Must(w => w is null || TrialFallbacks.All.Contains(w))
            .WithMessage($"when_trial_unavailable must be one of: {string.Join(", ", TrialFallbacks.All)}.");
    }
}

internal sealed class CreateTenantHandler(
    IDbSessionFactory sessions, ITenantDriver tenants, IUserDriver users, IFairUseDriver fairUse, AuthThrottle throttle, FairUseOptions limits,
    AuditTrail audit, IClock clock)
    : IRequestHandler<CreateTenant, TenantMembershipSnapshot>
{
    /// <summary>Is the plan a new tenant trials when it names none.</summary>
    public const string DefaultPlan = PlanCatalog.Professional;

    /// <summary>Is the count of tenant creations per user and UTC day, in the shared PostgreSQL limiter (ADR 0185, 0520).</summary>
    internal static readonly ThrottleRule TenantsPerUserPerDay = new("tenant_create_user", "tenants_per_user_per_day", TimeSpan.FromDays(1));

    public async Task<TenantMembershipSnapshot> Handle(CreateTenant command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        try
        {
            return await CreateAsync(command, userId, cancellationToken);
        }
        catch (PlatformException refusal) when (RuleOf(refusal) is { } rule)
        {
            // The refused transaction rolled back; the refusal is kept in its own, for the operators' list of capped users.
            await using var record = await sessions.OpenAsync(null, null, CancellationToken.None);
            await fairUse.RecordRefusalAsync(record, userId, rule, refusal.Message, clock.UtcNow, CancellationToken.None);
            await record.CommitAsync(CancellationToken.None);
            throw;
        }
    }

    private static string? RuleOf(PlatformException refusal) => refusal switch
    {
        QuotaExceededException { Quota: "tenants_per_user_per_day" } => FairUseRules.TenantsPerDay,
        ConflictException { Code: "tenant_limit_reached" } => FairUseRules.OwnedTenants,
        ConflictException { Code: "trial_not_available" } => FairUseRules.Trial,
        _ => null,
    };

    private async Task<TenantMembershipSnapshot> CreateAsync(CreateTenant command, Guid userId, CancellationToken cancellationToken)
    {
        var requested = PlanCatalog.Get(command.Plan ?? DefaultPlan);
        var now = clock.UtcNow;
        var id = Guid.CreateVersion7();

        await using var session = await sessions.OpenAsync(id, userId, cancellationToken);
        // A valid token of a user that does not exist (erased, or invented by a sign-up of a registered email, ADR 0187) is a 401, not a foreign-key 500.
        if (await users.FetchUserAsync(session, userId, cancellationToken) is not { Status: UserStatus.Active })
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        // One creation per user at a time, over every instance: the counts below cannot be read stale by a parallel request.
        await fairUse.LockUserCreationsAsync(session, userId, cancellationToken);
        // Counted in this transaction: a creation that fails later (slug taken, a cap) takes its count back with the rollback.
        await throttle.CountAsync(session, TenantsPerUserPerDay, userId.ToString("N"), limits.TenantsPerUserPerDay, cancellationToken);
        var cap = (await fairUse.FetchTenantCapAsync(session, userId, cancellationToken))?.MaxOwnedTenants ?? limits.MaxOwnedTenantsPerUser;
        var owned = await fairUse.CountOwnedTenantsAsync(session, userId, cancellationToken);
        if (owned >= cap)
        {
            throw new ConflictException($"You own {owned} tenants, the most one user may own ({cap}); delete one or ask support to raise the limit.", "tenant_limit_reached")
            {
                Extensions = new Dictionary<string, object?> { ["limit"] = cap, ["current"] = owned },
            };
        }
        if (!await tenants.TryClaimSlugAsync(session, command.Slug, id, cancellationToken))
        {
            throw new ConflictException($"The slug '{command.Slug}' is taken.", "slug_taken");
        }

        var verdict = TrialEligibility.Decide(requested, limits.SelfServeTrialPlanSet,
            await fairUse.HadTrialOfFamilyAsync(session, userId, requested.Family, cancellationToken),
            await fairUse.HasOpenAllowanceAsync(session, userId, requested.Family, cancellationToken));
        var (plan, status, trialEndsAt, quotas, reason) = verdict switch
        {
            TrialVerdict.NoTrialNeeded => (requested, TenantStatus.Active, now.AddDays(requested.TrialDays), requested.TenantQuotas, (string?)null),
            TrialVerdict.SelfServe or TrialVerdict.OperatorGrant => (requested, TenantStatus.Trial, now.AddDays(requested.TrialDays), requested.TrialTenantQuotas, null),
            _ => Fallback(command, requested, verdict, now),
        };
        if (verdict.Grants())
        {
            var allowance = verdict == TrialVerdict.OperatorGrant
                ? await fairUse.UseOpenAllowanceAsync(session, userId, requested.Family, id, now, cancellationToken)
                : null;
            await fairUse.InsertTrialGrantAsync(session, userId, requested.Family, id, verdict == TrialVerdict.SelfServe, allowance, now, cancellationToken);
        }

        var tenant = await tenants.InsertTenantAsync(session, new NewTenant(
            id, command.Name.Trim(), command.Slug, plan.Id, status, trialEndsAt, command.BillingEmail, quotas, now), cancellationToken);
        if (reason is not null)
        {
            tenant = await tenants.SetTenantStatusAsync(session, id, TenantStatus.Suspended, reason, null, now, cancellationToken)
                ?? throw new NotFoundException("tenant");
        }
        await tenants.InsertMembershipAsync(session, id, userId, TenantRole.Owner, now, cancellationToken);
        await audit.RecordAsync(session, id, command.Caller, "tenant.created", "tenant", id, null,
            new { tenant.Name, tenant.Slug, tenant.Plan, tenant.Status, owner_user_id = userId, trial = verdict.ToString(), requested_plan = requested.Id },
            cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new TenantMembershipSnapshot(tenant, TenantRole.Owner);
    }

    /// <summary>Applies the caller's choice when the trial is refused: free plan (active), the plan without a trial (suspended until the first
    /// subscription, with the free plan's quotas meanwhile and no trial time left), or the 409 that names the choices.</summary>
    private static (Plan Plan, TenantStatus Status, DateTimeOffset TrialEndsAt, PlanQuotas Quotas, string? Reason) Fallback(
        CreateTenant command, Plan requested, TrialVerdict verdict, DateTimeOffset now)
    {
        var free = PlanCatalog.Get(PlanCatalog.Free);
        return (command.WhenTrialUnavailable ?? TrialFallbacks.Refuse) switch
        {
            TrialFallbacks.Free => (free, TenantStatus.Active, now.AddDays(free.TrialDays), free.TenantQuotas, null),
            TrialFallbacks.Paid => (requested, TenantStatus.Suspended, now, free.TenantQuotas, TenantStatuses.AwaitingSubscriptionReason),
            _ => throw new ConflictException(
                verdict == TrialVerdict.NotSelfServe
                    ? $"The {requested.Id} plan cannot be trialled without our sales team; start on the free plan or on {requested.Id} with a subscription (when_trial_unavailable)."
                    : $"You already had a trial of the {requested.Id} plan; start on the free plan or on {requested.Id} with a subscription (when_trial_unavailable).",
                "trial_not_available")
            {
                Extensions = new Dictionary<string, object?>
                {
                    ["reason"] = verdict.Reason(),
                    ["plan"] = requested.Id,
                    ["choices"] = new[] { TrialFallbacks.Free, TrialFallbacks.Paid },
                },
            },
        };
    }
}
