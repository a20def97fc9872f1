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

internal sealed class CheckAndReserveQuotaHandler(TenantGate gate, IReservationDriver reservations, QuotaFiguresCache figures, UsageOptions options, IClock clock)
    : IRequestHandler<CheckAndReserveQuota, QuotaCheckResult>
{
    public async Task<QuotaCheckResult> Handle(CheckAndReserveQuota command, CancellationToken cancellationToken)
    {
        var meter = command.Meter!;
        var amount = MeterPrecision.Normalize(command.Amount!.Value);
        var now = clock.UtcNow;
        var period = DateOnly.FromDateTime(Meters.MonthStart(now).UtcDateTime);
        if (!command.Reserve && command.Caller.Kind is CallerKind.ApiKey or CallerKind.User)
        {
            return await CheckFromMemoryAsync(command, meter, amount, now, period, cancellationToken);
        }
        // A plain check writes nothing and is allowed while the tenant is suspended; a reservation is a write.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, command.Reserve ? Access.Write : Access.Read,
            cancellationToken, keyPermission: ApiKeyPermissions.QuotaCheck);
        var limit = MeterQuotas.For(scope.Tenant, await scope.LimitsAsync(cancellationToken), meter);
        long? finite = limit is { } l && l != PlanCatalog.Unlimited ? l : null;
        if (!command.Reserve)
        {
            // A plain check spends nothing: no lock, nothing written; it reads what is committed.
            var state = await reservations.ReadStateAsync(scope.Session, command.TenantId, meter, period, now, cancellationToken);
            Decide(meter, amount, limit, state.Used, state.Reserved, state.Hard, now);
            return Answer(meter, limit, state.Used, state.Reserved, state.Hard, now, null, null);
        }
        // One statement decides and holds (ADR 0765): a hold that can be refused (hard policy, finite limit) takes the meter's lock inside it, as hard
        // ingestions of the meter do (RecordUsage), so it counts every hold and hard batch committed before it and a batch in flight counts this hold
        // once it gets the lock (ADR 0710); a hold that cannot be refused takes no lock.
        var reservationId = Guid.NewGuid();
        var expiresAt = now.AddSeconds(command.ReserveSeconds ?? Math.Min(options.ReservationDefaultSeconds, options.ReservationMaxSeconds));
        var hold = await reservations.ReserveAsync(scope.Session, command.TenantId, reservationId, meter, amount, period, now, expiresAt, finite, cancellationToken);
        if (!hold.Held)
        {
            Decide(meter, amount, limit, hold.Used, hold.Reserved, hard: true, now);
            throw new InvalidOperationException("reserve_quota refused a hold that the limit allows.");
        }
        await scope.CommitAsync(cancellationToken);
        // This instance's next plain checks count the hold at once (a reservation is a tenant read for the usage summary, which it does not change).
        figures.Evict(command.TenantId);
        return Answer(meter, limit, hold.Used, hold.Reserved + amount, hold.Hard, now, reservationId, expiresAt);
    }

    /// <summary>Answers a plain check of an API key or a member from the tenant's figures held in memory, read at most Usage:SummaryCacheMilliseconds ago
    /// by one statement shared by the callers that missed (ADR 0765): no transaction, no lock, nothing written. A member's role is read through the gate
    /// the first time and then kept with those figures (ADR 0795), so it is as old as they are at most: any tenant write evicts both.</summary>
    private async Task<QuotaCheckResult> CheckFromMemoryAsync(CheckAndReserveQuota command, string meter, decimal amount, DateTimeOffset now, DateOnly period,
        CancellationToken cancellationToken)
    {
        var caller = command.Caller;
        if (caller.Kind == CallerKind.ApiKey && caller.KeyTenantId != command.TenantId)
        {
            throw new NotFoundException("tenant");
        }
        var held = await figures.GetOrFillAsync(command.TenantId, period, () => ReadFiguresAsync(command.TenantId, period, CancellationToken.None), cancellationToken,
            usable: f => f.NextExpiry is not { } expiry || clock.UtcNow < expiry);
        if (caller.Kind == CallerKind.ApiKey)
        {
            TenantGate.CheckKey(command.TenantId, caller, held.Tenant, Access.Read, ApiKeyPermissions.QuotaCheck);
        }
        else
        {
            var userId = caller.RequireUserId();
            if (!held.Roles.TryGetValue(userId, out var role))
            {
                // Not a member: 404 here, and nothing is kept. The role is kept in the entry read before it, so a role read before a change of the
                // membership lands only in figures that the change's eviction has already dropped.
                await using (var scope = await gate.EnterAsync(command.TenantId, caller, TenantRole.Member, Access.Read, cancellationToken))
                {
                    role = scope.Role;
                }
                held.Remember(userId, role);
            }
            TenantGate.CheckMember(held.Tenant, role, TenantRole.Member, Access.Read);
        }
        var limit = MeterQuotas.For(held.Tenant, held.Limits, meter);
        var state = held.Meters.GetValueOrDefault(meter);
        var (used, reserved, hard) = state is null ? (0m, 0m, false) : (state.Used, state.Reserved, state.Hard);
        used = figures.Used(command.TenantId, period, meter, used);
        Decide(meter, amount, limit, used, reserved, hard, now);
        return Answer(meter, limit, used, reserved, hard, now, null, null);
    }

    private async Task<QuotaFiguresCache.Filled> ReadFiguresAsync(Guid tenantId, DateOnly period, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(tenantId, Caller.System, TenantRole.Member, Access.Read, cancellationToken);
        var limits = await scope.LimitsAsync(cancellationToken);
        var meters = await reservations.ListFiguresAsync(scope.Session, tenantId, period, clock.UtcNow, cancellationToken);
        return new QuotaFiguresCache.Filled(scope.Tenant, limits, meters.ToDictionary(m => m.Meter, StringComparer.Ordinal));
    }

    /// <summary>Refuses with 429 quota_exceeded when the meter is hard and used plus held plus amount would pass a finite limit.</summary>
    private static void Decide(string meter, decimal amount, long? limit, decimal used, decimal reserved, bool hard, DateTimeOffset now)
    {
        if (limit is { } l && l != PlanCatalog.Unlimited && hard && used + reserved + amount > l)
        {
            throw new QuotaExceededException(meter, l, used, Meters.NextMonthStart(now))
            {
                Reserved = reserved,
                Remaining = Math.Max(0m, l - used - reserved),
            };
        }
    }

    private static QuotaCheckResult Answer(string meter, long? limit, decimal used, decimal reserved, bool hard, DateTimeOffset now, Guid? reservationId,
        DateTimeOffset? expiresAt)
    {
        decimal? remaining = limit is { } l && l != PlanCatalog.Unlimited ? Math.Max(0m, l - used - reserved) : null;
        return new QuotaCheckResult(true, meter, hard ? MeterPolicy.Hard : MeterPolicy.Soft, limit, used, MeterPrecision.Normalize(reserved),
            remaining is { } r ? MeterPrecision.Normalize(r) : null, Meters.NextMonthStart(now), reservationId, expiresAt);
    }
}
