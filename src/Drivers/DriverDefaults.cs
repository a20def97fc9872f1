using Dapper;

namespace Platform.Drivers;

internal static class DriverDefaults
{
    private static int initialised;

    /// <summary>Sets Dapper's global options once: snake_case columns map to PascalCase properties.</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref initialised, 1) == 0)
        {
            DefaultTypeMap.MatchNamesWithUnderscores = true;
        }
    }
}
