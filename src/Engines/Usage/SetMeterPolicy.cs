using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Sets the tenant's policy of a meter (admin or higher): hard refuses usage events beyond the meter's effective monthly quota with 429 and
/// writes nothing; soft (the default) allows them, alerts and bills the overage (ADR 0563).</summary>
public sealed record SetMeterPolicy(Caller Caller, Guid TenantId, string Meter, MeterPolicy Policy) : IRequest<MeterPolicy>, ITenantWrite, ICallerCommand;

internal sealed class SetMeterPolicyValidator : AbstractValidator<SetMeterPolicy>
{
    public SetMeterPolicyValidator()
    {
        RuleFor(c => c.Meter).Must(MeterNames.IsValid).WithMessage("The meter must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.");
        RuleFor(c => c.Policy).IsInEnum();
    }
}

internal sealed class SetMeterPolicyHandler(TenantGate gate, IUsageDriver usage, AuditTrail audit, IClock clock) : IRequestHandler<SetMeterPolicy, MeterPolicy>
{
    public async Task<MeterPolicy> Handle(SetMeterPolicy command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var before = await usage.IsHardAsync(scope.Session, command.TenantId, command.Meter, cancellationToken) ? MeterPolicy.Hard : MeterPolicy.Soft;
        var policy = await usage.SetMeterPolicyAsync(scope.Session, command.TenantId, command.Meter, command.Policy, now, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "usage.policy_set", "usage_meter_policy", null,
            new { meter = command.Meter, policy = before.ToWire() }, new { meter = command.Meter, policy = policy.ToWire() }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return policy;
    }
}
