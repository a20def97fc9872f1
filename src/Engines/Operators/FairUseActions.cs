using System.Text.Json;
using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Operators;

/// <summary>Sets how many live tenants one user may own (support+; the target is the user id, the value the action's input), overriding
/// FairUse:MaxOwnedTenantsPerUser for them; reversing it restores the cap it replaced, or the default (ADR 0520).</summary>
internal sealed class SetUserTenantCapAction(IFairUseDriver fairUse, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.SetUserTenantCap;
    public string TargetType => "user";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A user's tenant cap belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var userId = await FairUseTargets.ExistingUserAsync(fairUse, context.Session, context.TargetId, cancellationToken);
        var value = context.Input is int v ? v : throw ValidationFailedException.For("value", "The value is required.");
        var previous = await fairUse.FetchTenantCapAsync(context.Session, userId, cancellationToken);
        await fairUse.UpsertTenantCapAsync(context.Session, new UserTenantCap(userId, value, context.ReasonText, context.ActionId, clock.UtcNow), cancellationToken);
        return new
        {
            value,
            had_cap = previous is not null,
            previous_value = previous?.MaxOwnedTenants,
            previous_reason = previous?.Reason,
            previous_action = previous?.SetByAction,
        };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        var userId = Guid.Parse(original.TargetId);
        using var details = JsonDocument.Parse(original.Details);
        var root = details.RootElement;
        if (root.TryGetProperty("had_cap", out var had) && had.ValueKind == JsonValueKind.True)
        {
            await fairUse.UpsertTenantCapAsync(context.Session, new UserTenantCap(userId, root.GetProperty("previous_value").GetInt32(),
                root.GetProperty("previous_reason").GetString() ?? context.ReasonText, root.GetProperty("previous_action").GetGuid(), clock.UtcNow), cancellationToken);
        }
        else
        {
            await fairUse.DeleteTenantCapAsync(context.Session, userId, cancellationToken);
        }
    }
}

/// <summary>Grants a user one trial of a plan family (billing+; the target is the user id, the plan the action's input): the user's next
/// tenant of that plan starts in trial even when the plan is not self-serve or the user had its trial. Reversing it revokes the grant
/// while unused; a used grant cannot be revoked (409 trial_grant_used).</summary>
internal sealed class GrantTrialAction(IFairUseDriver fairUse, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.GrantTrial;
    public string TargetType => "user";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A user's trial grant belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var userId = await FairUseTargets.ExistingUserAsync(fairUse, context.Session, context.TargetId, cancellationToken);
        var plan = context.Input is string id && PlanCatalog.Find(id) is { PriceMonthlyCents: > 0 } p
            ? p
            : throw ValidationFailedException.For("plan", $"The plan must be a paid plan: {string.Join(", ", PlanCatalog.All.Where(x => x.PriceMonthlyCents > 0).Select(x => x.Id))}.");
        var allowanceId = Guid.CreateVersion7();
        await fairUse.InsertAllowanceAsync(context.Session, allowanceId, userId, plan.Family, context.ActionId, clock.UtcNow, cancellationToken);
        return new { plan = plan.Id, plan_family = plan.Family, allowance_id = allowanceId };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var allowanceId = details.RootElement.GetProperty("allowance_id").GetGuid();
        var revocation = await fairUse.RevokeAllowanceAsync(context.Session, allowanceId, clock.UtcNow, cancellationToken);
        if (revocation == AllowanceRevocation.AlreadyUsed)
        {
            throw new ConflictException("The granted trial is in use by a tenant already; end that trial through billing instead.", "trial_grant_used");
        }
    }
}

/// <summary>Reads the user target of fair-use actions.</summary>
internal static class FairUseTargets
{
    /// <summary>Parses the target as a user id and checks that the user exists; otherwise 404.</summary>
    public static async Task<Guid> ExistingUserAsync(IFairUseDriver fairUse, IDbSession session, string targetId, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(targetId, out var userId) || await fairUse.FetchUserEmailAsync(session, userId, cancellationToken) is null)
        {
            throw new NotFoundException("user");
        }
        return userId;
    }
}

/// <summary>Lists the users who met a fair-use limit (any operator), one row each in user id order, optionally of one rule
/// (owned_tenants, tenants_per_day, trial); computed from the refusals recorded when requests were refused.</summary>
public sealed record ListCappedUsers(Caller Caller, string? Rule, string? Cursor, int Limit) : IRequest<Page<CappedUser>>, ICallerCommand;

internal sealed class ListCappedUsersValidator : AbstractValidator<ListCappedUsers>
{
    public ListCappedUsersValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Rule).Must(r => r is null or FairUseRules.OwnedTenants or FairUseRules.TenantsPerDay or FairUseRules.Trial)
            .WithMessage($"The rule must be one of: {FairUseRules.OwnedTenants}, {FairUseRules.TenantsPerDay}, {FairUseRules.Trial}.");
    }
}

internal sealed class ListCappedUsersHandler(IDbSessionFactory sessions, IFairUseDriver fairUse) : IRequestHandler<ListCappedUsers, Page<CappedUser>>
{
    public async Task<Page<CappedUser>> Handle(ListCappedUsers query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        var after = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var rows = await fairUse.ListCappedUsersAsync(session, query.Rule, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, u => u.UserId);
    }
}
