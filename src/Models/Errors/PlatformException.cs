namespace Platform.Models.Errors;

/// <summary>Is the base of every refusal the engines raise on purpose; its code is the stable problem-details code.</summary>
public abstract class PlatformException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>Signals that a resource does not exist or belongs to a tenant the caller cannot see.</summary>
public sealed class NotFoundException(string resource) : PlatformException("not_found", $"The {resource} was not found.")
{
    public string Resource { get; } = resource;
}

/// <summary>Signals that the request conflicts with the current state (a taken slug, the last owner, a second completion).</summary>
public sealed class ConflictException(string message, string code = "conflict") : PlatformException(code, message)
{
    /// <summary>Gets members the problem carries beside code and detail (such as the choices a caller has), or null.</summary>
    public IReadOnlyDictionary<string, object?>? Extensions { get; init; }
}

/// <summary>Signals that the caller is known but lacks the right for this action.</summary>
public sealed class ForbiddenException(string message, string code = "forbidden") : PlatformException(code, message)
{
    /// <summary>Gets extra members of the problem (such as the feature and the plans that have it), or null.</summary>
    public IReadOnlyDictionary<string, object?>? Extensions { get; init; }
}

/// <summary>Signals that the caller is not authenticated or its credentials are not valid.</summary>
public sealed class UnauthorizedException(string message) : PlatformException("unauthorized", message);

/// <summary>Signals a write to a suspended or deleted tenant.</summary>
public sealed class TenantSuspendedException() : PlatformException("tenant_suspended", "The tenant is suspended; writes are not allowed.");

/// <summary>Signals input that breaks a rule; the errors name each field and what is wrong with it.</summary>
public sealed class ValidationFailedException(IReadOnlyDictionary<string, string[]> errors)
    : PlatformException("validation_failed", "One or more fields are invalid.")
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public static ValidationFailedException For(string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>Signals a refused admission: the quota's name, its limit, the current value and when it resets (null when it does not).</summary>
public sealed class QuotaExceededException(string quota, long limit, decimal current, DateTimeOffset? resetsAt, string code = "quota_exceeded")
    : PlatformException(code, $"Quota '{quota}' exceeded: {current} of {limit}.")
{
    public string Quota { get; } = quota;
    public long Limit { get; } = limit;
    public decimal Current { get; } = current;
    public DateTimeOffset? ResetsAt { get; } = resetsAt;

    /// <summary>Gets the amount held by active quota reservations when the refusal counted them (null otherwise; ADR 0710).</summary>
    public decimal? Reserved { get; init; }

    /// <summary>Gets what remained of the limit after the month's use and the active reservations when the refusal says it (null otherwise; ADR 0710).</summary>
    public decimal? Remaining { get; init; }

    /// <summary>Gets, for a refused usage batch, each event of the batch with its index as sent, its meter and why it was not written (null otherwise).</summary>
    public IReadOnlyList<RefusedEvent>? RefusedEvents { get; init; }
}

/// <summary>Holds one refused event of a usage batch: its index in the batch as sent, its meter, the reason code (quota_exceeded: it would take
/// its hard meter past the limit) and the meter's figures when it was refused: the limit, the month's use before it (the batch's earlier accepted
/// events included) and what remained after the use and the active reservations (ADR 0770).</summary>
public sealed record RefusedEvent(int Index, string Meter, string Reason, long? Limit = null, decimal? Used = null, decimal? Remaining = null);

/// <summary>Signals that a resource existed but can no longer be used (an expired, revoked or used invitation).</summary>
public sealed class GoneException(string message, string code = "gone") : PlatformException(code, message);
/// <summary>Signals a webhook whose signature is missing, wrong or outside the timestamp tolerance; the API answers 400 and changes nothing.</summary>
public sealed class InvalidSignatureException(string message) : PlatformException("invalid_signature", message);
