using System.Text.Json;
using FluentValidation;
using MediatR;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Tenants;

/// <summary>Changes a tenant's name, billing email, settings (a JSON object) or onboarding state (admin or higher).</summary>
public sealed record UpdateTenant(Caller Caller, Guid TenantId, TenantChanges Changes)
    : IRequest<TenantMembershipSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class UpdateTenantValidator : AbstractValidator<UpdateTenant>
{
    public UpdateTenantValidator()
    {
        RuleFor(c => c.Changes.Name).NotEmpty().MaximumLength(200).When(c => c.Changes.Name is not null).OverridePropertyName("name");
        RuleFor(c => c.Changes.BillingEmail).MaximumLength(254).EmailAddress().When(c => c.Changes.BillingEmail is not null).OverridePropertyName("billing_email");
        RuleFor(c => c.Changes.OnboardingState).NotEmpty().MaximumLength(64).When(c => c.Changes.OnboardingState is not null).OverridePropertyName("onboarding_state");
        RuleFor(c => c.Changes.Settings).Must(BeAJsonObject).MaximumLength(65_536).When(c => c.Changes.Settings is not null)
            .WithMessage("The settings must be a JSON object of at most 64 KiB.").OverridePropertyName("settings");
    }

    private static bool BeAJsonObject(string? json)
    {
        try
        {
            using var document = JsonDocument.Parse(json ?? "");
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

internal sealed class UpdateTenantHandler(TenantGate gate, ITenantDriver tenants, AuditTrail audit, IClock clock)
    : IRequestHandler<UpdateTenant, TenantMembershipSnapshot>
{
    public async Task<TenantMembershipSnapshot> Handle(UpdateTenant command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var updated = await tenants.UpdateTenantAsync(scope.Session, command.TenantId, command.Changes, clock.UtcNow, cancellationToken)
            ?? throw new NotFoundException("tenant");
        var before = scope.Tenant;
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "tenant.updated", "tenant", command.TenantId,
            new { before.Name, before.BillingEmail, before.OnboardingState, settings = RawJson(before.Settings) },
            new { updated.Name, updated.BillingEmail, updated.OnboardingState, settings = RawJson(updated.Settings) }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new TenantMembershipSnapshot(updated, scope.Role);
    }

    private static JsonElement RawJson(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
