using System.Data.Common;

namespace Platform.Api.Errors;

/// <summary>Tells a failure to reach the database (refused or broken connection, server shutting down or starting, pool exhausted) from a fault
/// of the request: those answer 503 with Retry-After, not 500 (ADR 0661). The Api references no Npgsql: the ADO.NET base type says it.</summary>
/// <remarks>Only a <see cref="DbException"/> counts (Npgsql wraps a refused or broken socket in one): a socket error of an outgoing HTTP call
/// (Stripe, a webhook receiver) is not the database's.</remarks>
internal static class DatabaseUnavailable
{
    /// <summary>Is the Retry-After of a 503 for an unreachable database, in seconds.</summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>Returns the exception in the chain that says the database is unreachable, or null when none does.</summary>
    public static Exception? Of(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException db && (db.IsTransient || IsUnavailableState(db.SqlState)))
            {
                return e;
            }
        }
        return null;
    }

    /// <summary>Connection exceptions (08), insufficient resources (53), operator intervention: shutdown, crash, cannot connect now (57P01-57P03).</summary>
    private static bool IsUnavailableState(string? state) =>
        state is not null && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
            || state is "57P01" or "57P02" or "57P03");
}
