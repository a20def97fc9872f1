namespace Platform.Models;

/// <summary>Identifies who sends a command: a signed-in user, or the system itself (jobs, seeding, the command line).</summary>
public sealed record Caller(CallerKind Kind, Guid? UserId)
{
    public static Caller System { get; } = new(CallerKind.System, null);

    public static Caller User(Guid userId) => new(CallerKind.User, userId);

    public Guid RequireUserId() =>
        UserId ?? throw new Errors.UnauthorizedException("This action needs a signed-in user.");
}

/// <summary>Names the kinds of callers.</summary>
public enum CallerKind
{
    System,
    User,
}

/// <summary>Holds one page of a list and the opaque cursor of the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
