namespace Platform.Models;

/// <summary>Gives the current UTC time; tests replace it to cross midnights and month ends.</summary>
public interface IClock
{
    DateTimeOffset UtcNow { get; }
}

/// <summary>Reads the system clock.</summary>
public sealed class SystemClock : IClock
{
    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;
}
