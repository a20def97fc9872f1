using FluentValidation;
using MediatR;
using Platform.Engines.Plans;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Checks before expensive work that a meter has room for an amount this month; refuses with 429 quota_exceeded when used plus amount would pass the quota, else returns the meter's line (member or higher, key "usage:read").</summary>
public sealed record CheckQuota(Caller Caller, Guid TenantId, string Meter, decimal Amount) : IRequest<MeterUsage>, ITenantRead, ICallerCommand;

internal sealed class CheckQuotaValidator : AbstractValidator<CheckQuota>
{
    public CheckQuotaValidator(MeterCatalog catalog)
    {
        RuleFor(c => c.Meter).Must(MeterNames.IsValid).WithMessage("The meter name is not valid.");
        RuleFor(c => c.Amount).CustomAsync(async (amount, context, ct) =>
        {
            if (UsageAmounts.Problem(await catalog.GetAsync(ct), context.InstanceToValidate.Meter, amount) is { } problem)
            {
                context.AddFailure("amount", problem);
            }
        });
    }
}

internal sealed class CheckQuotaHandler(TenantGate gate, IUsageDriver usage, IClock clock) : IRequestHandler<CheckQuota, MeterUsage>
{
    public async Task<MeterUsage> Handle(CheckQuota query, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var period = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Member, Access.Read, cancellationToken, keyPermission: "usage:read");
        var rollups = await usage.ListRollupsAsync(scope.Session, query.TenantId, period, period, query.Meter, cancellationToken);
        var line = MeterQuotas.Line(scope.Tenant, await scope.LimitsAsync(cancellationToken), query.Meter, rollups.Sum(r => r.Used), now);
        if (line.Quota is { } quota and not PlanCatalog.Unlimited && line.Used + query.Amount > quota)
        {
            throw new QuotaExceededException(query.Meter, quota, line.Used, line.ResetsAt);
        }
        return line;
    }
}
