namespace Platform.Models.Usage;

/// <summary>Holds a meter's state for a quota check, read under the meter's lock: the month's use, the amount held by active reservations
/// and whether the tenant's policy of the meter is hard.</summary>
public sealed record MeterQuotaState(decimal Used, decimal Reserved, bool Hard);

/// <summary>Holds one reservation as a usage event names it: its meter, and whether it was still active (not consumed, not expired) when the event consumed it.</summary>
public sealed record UsageReservationRef(Guid Id, string Meter, bool Active, decimal Amount = 0m);

/// <summary>Holds the answer of a quota check: whether the amount is allowed, the meter's policy, the effective limit (null: none, -1: unlimited),
/// the month's use, the amount held by active reservations (this check's own hold included), what remains (null without a finite limit),
/// the monthly reset, and the reservation made (id and expiry) when one was asked for and the amount was allowed.</summary>
public sealed record QuotaCheckResult(bool Allowed, string Meter, MeterPolicy Policy, long? Limit, decimal Used, decimal Reserved, decimal? Remaining,
    DateTimeOffset ResetsAt, Guid? ReservationId, DateTimeOffset? ReservationExpiresAt);

/// <summary>Holds one meter's figures of a tenant's month for plain quota checks served from memory (ADR 0765): the month's use, the amount held by the
/// reservations active when read, the earliest expiry among those holds (null: none) and whether the tenant's policy of the meter is hard.</summary>
public sealed record MeterQuotaFigures(string Meter, decimal Used, decimal Reserved, DateTimeOffset? NextExpiry, bool Hard);

/// <summary>Holds the outcome of a reservation decided in one statement: the month's use and the active holds read (before this one), whether the policy
/// is hard, and whether the hold was made (false: refused, nothing written).</summary>
public sealed record QuotaHoldResult(decimal Used, decimal Reserved, bool Hard, bool Held);
