using FluentValidation;
using MediatR;
using Platform.Drivers.Usage;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Asks whether a tenant may spend an amount of a meter now and, with Reserve, holds the amount for ReserveSeconds (the default from
/// Usage:ReservationDefaultSeconds) so that no other check or usage event can spend it (member or higher, key "quota:check"; ADR 0710).
/// A hard meter whose month's use plus active holds plus the amount would pass the effective limit is refused with 429 quota_exceeded;
/// a soft meter is always allowed and only reports the figures.</summary>
public sealed record CheckAndReserveQuota(Caller Caller, Guid TenantId, string? Meter, decimal? Amount, bool Reserve = false, int? ReserveSeconds = null)
    : IRequest<QuotaCheckResult>, ITenantRead, ICallerCommand;

internal sealed class CheckAndReserveQuotaValidator : AbstractValidator<CheckAndReserveQuota>
{
    public CheckAndReserveQuotaValidator(MeterCatalog catalog, UsageOptions options)
    {
        RuleFor(c => c.Meter).Must(MeterNames.IsValid).WithMessage("The meter must be 1 to 63 lowercase letters, digits or underscores, starting with a letter.");
        RuleFor(c => c.Amount).CustomAsync(async (amount, context, ct) =>
        {
            if (UsageAmounts.Problem(await catalog.GetAsync(ct), context.InstanceToValidate.Meter, amount) is { } problem)
            {
                context.AddFailure("amount", problem);
            }
        });
        RuleFor(c => c.ReserveSeconds).InclusiveBetween(1, options.ReservationMaxSeconds).When(c => c.ReserveSeconds is not null)
            .WithMessage($"reserve_seconds must be from 1 to {options.ReservationMaxSeconds}.");
        RuleFor(c => c.ReserveSeconds).Null().When(c => !c.Reserve)
            .WithMessage("reserve_seconds needs reserve: true.");
    }
}

internal sealed class CheckAndReserveQuotaHandler(TenantGate gate, IReservationDriver reservations, UsageOptions options, IClock clock)
    : IRequestHandler<CheckAndReserveQuota, QuotaCheckResult>
{
    public async Task<QuotaCheckResult> Handle(CheckAndReserveQuota command, CancellationToken cancellationToken)
    {
        var meter = command.Meter!;
        var amount = MeterPrecision.Normalize(command.Amount!.Value);
        var now = clock.UtcNow;
        var resetsAt = Meters.NextMonthStart(now);
        var period = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        // A plain check writes nothing and is allowed while the tenant is suspended; a reservation is a write.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, command.Reserve ? Access.Write : Access.Read,
            cancellationToken, keyPermission: ApiKeyPermissions.QuotaCheck);
        var limit = MeterQuotas.For(scope.Tenant, await scope.LimitsAsync(cancellationToken), meter);
        if (command.Reserve)
        {
            // Checks that reserve, and hard ingestions of the meter, pass one at a time: what this check reads below includes every hold and
            // every hard batch committed before it, and a batch in flight counts this hold once it gets the lock (RecordUsage).
            await reservations.LockMeterAsync(scope.Session, command.TenantId, meter, cancellationToken);
        }
        var state = await reservations.ReadStateAsync(scope.Session, command.TenantId, meter, period, now, cancellationToken);
        var finite = limit is { } l && l != PlanCatalog.Unlimited;
        if (finite && state.Hard && state.Used + state.Reserved + amount > limit!.Value)
        {
            throw new QuotaExceededException(meter, limit.Value, state.Used, resetsAt)
            {
                Reserved = state.Reserved,
                Remaining = Math.Max(0m, limit.Value - state.Used - state.Reserved),
            };
        }
        Guid? reservationId = null;
        DateTimeOffset? expiresAt = null;
        var reserved = state.Reserved;
        if (command.Reserve)
        {
            reservationId = Guid.NewGuid();
            expiresAt = now.AddSeconds(command.ReserveSeconds ?? Math.Min(options.ReservationDefaultSeconds, options.ReservationMaxSeconds));
            await reservations.InsertAsync(scope.Session, command.TenantId, reservationId.Value, meter, amount, now, expiresAt.Value, cancellationToken);
            reserved += amount;
        }
        await scope.CommitAsync(cancellationToken);
        decimal? remaining = finite ? Math.Max(0m, limit!.Value - state.Used - reserved) : null;
        return new QuotaCheckResult(true, meter, state.Hard ? MeterPolicy.Hard : MeterPolicy.Soft, limit, state.Used, MeterPrecision.Normalize(reserved),
            remaining is { } r ? MeterPrecision.Normalize(r) : null, resetsAt, reservationId, expiresAt);
    }
}
