namespace Platform.Models;

/// <summary>Identifies who sends a command: a signed-in user, an API key of one tenant, an operator, or the system itself (jobs, seeding, the command line).</summary>
public sealed record Caller(
    CallerKind Kind,
    Guid? UserId = null,
    Guid? ApiKeyId = null,
    Guid? KeyTenantId = null,
    IReadOnlySet<string>? Permissions = null,
    Guid? OperatorId = null,
    string? OperatorRole = null)
{
    public static Caller System { get; } = new(CallerKind.System);

    /// <summary>Gets where the request came from (IP, user agent, request id), for the audit log; null for in-process callers.</summary>
    public RequestOrigin? Origin { get; init; }

    /// <summary>Gets whether an operator caller proved a second factor (TOTP) when signing in.</summary>
    public bool MfaVerified { get; init; }

    public static Caller User(Guid userId) => new(CallerKind.User, UserId: userId);

    public static Caller ApiKey(Guid apiKeyId, Guid tenantId, IReadOnlySet<string> permissions) =>
        new(CallerKind.ApiKey, ApiKeyId: apiKeyId, KeyTenantId: tenantId, Permissions: permissions);

    public static Caller Operator(Guid operatorId, string role) => new(CallerKind.Operator, OperatorId: operatorId, OperatorRole: role);

    public Guid RequireUserId() =>
        UserId ?? throw new Errors.UnauthorizedException("This action needs a signed-in user.");

    /// <summary>Tells whether an API key caller holds a permission such as "runs:write".</summary>
    public bool HasPermission(string permission) => Permissions?.Contains(permission) == true;

    /// <summary>Gets the audit log's actor type: user, api_key, operator or system.</summary>
    public string ActorType => Kind switch
    {
        CallerKind.User => "user",
        CallerKind.ApiKey => "api_key",
        CallerKind.Operator => "operator",
        _ => "system",
    };

    /// <summary>Gets the audit log's actor id (user, key or operator id), null for the system.</summary>
    public Guid? ActorId => UserId ?? ApiKeyId ?? OperatorId;
}

/// <summary>Names the kinds of callers.</summary>
public enum CallerKind
{
    System,
    User,
    ApiKey,
    Operator,
}

/// <summary>Holds where an HTTP request came from: client IP, user agent and request id.</summary>
public sealed record RequestOrigin(string? Ip, string? UserAgent, string? RequestId);

/// <summary>Holds one page of a list and the opaque cursor of the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
