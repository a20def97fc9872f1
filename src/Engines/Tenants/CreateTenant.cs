using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Engines.Tenants;

/// <summary>Creates a tenant whose owner is the caller; a paid plan starts with its trial (14 days), the free plan starts active.</summary>
public sealed record CreateTenant(Caller Caller, string Name, string Slug, string? Plan, string? BillingEmail)
    : IRequest<TenantMembershipSnapshot>, ICallerCommand;

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
    }
}

internal sealed class CreateTenantHandler(IDbSessionFactory sessions, ITenantDriver tenants, IUserDriver users, AuditTrail audit, IClock clock)
    : IRequestHandler<CreateTenant, TenantMembershipSnapshot>
{
    /// <summary>Is the plan a new tenant trials when it names none.</summary>
    public const string DefaultPlan = PlanCatalog.Professional;

    public async Task<TenantMembershipSnapshot> Handle(CreateTenant command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        var plan = PlanCatalog.Get(command.Plan ?? DefaultPlan);
        var now = clock.UtcNow;
        var id = Guid.CreateVersion7();

        await using var session = await sessions.OpenAsync(id, userId, cancellationToken);
        // A valid token of a user that does not exist (erased, or invented by a sign-up of a registered email, ADR 0187) is a 401, not a foreign-key 500.
        if (await users.FetchUserAsync(session, userId, cancellationToken) is not { Status: UserStatus.Active })
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        if (!await tenants.TryClaimSlugAsync(session, command.Slug, id, cancellationToken))
        {
            throw new ConflictException($"The slug '{command.Slug}' is taken.", "slug_taken");
        }
        var isFree = plan.PriceMonthlyCents == 0;
        var tenant = await tenants.InsertTenantAsync(session, new NewTenant(
            id, command.Name.Trim(), command.Slug, plan.Id,
            isFree ? TenantStatus.Active : TenantStatus.Trial,
            now.AddDays(plan.TrialDays), command.BillingEmail, plan.TenantQuotas, now), cancellationToken);
        await tenants.InsertMembershipAsync(session, id, userId, TenantRole.Owner, now, cancellationToken);
        await audit.RecordAsync(session, id, command.Caller, "tenant.created", "tenant", id, null,
            new { tenant.Name, tenant.Slug, tenant.Plan, tenant.Status, owner_user_id = userId }, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new TenantMembershipSnapshot(tenant, TenantRole.Owner);
    }
}
