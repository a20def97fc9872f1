namespace Platform.Drivers.Sessions;

/// <summary>Runs one SQL statement on a session in one call: the statement, its parameters and the cancellation, nothing else.</summary>
/// <remarks>
/// Each helper goes through <see cref="NpgsqlDbSession"/>, which refuses a statement before a pending tenant scope is sent and remembers a
/// failure so the connection's prepared statements are reset (ADR 0170). Drivers use these instead of building a command themselves.
/// </remarks>
internal static class SessionQueries
{
    /// <summary>Runs a query and returns its rows, mapped by Dapper to <typeparamref name="T"/>.</summary>
    public static Task<IEnumerable<T>> QueryAsync<T>(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.QueryAsync<T>(s.Command(sql, parameters, cancellationToken));
    }

    /// <summary>Runs a query and returns its rows, each mapped from its row type to what the driver returns.</summary>
    public static async Task<IReadOnlyList<T>> ListAsync<TRow, T>(this IDbSession session, string sql, object? parameters, Func<TRow, T> map, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<TRow>(sql, parameters, cancellationToken);
        return rows.Select(map).ToList();
    }

    /// <summary>Runs a query for at most one row (more is an error) and returns it, or the default when there is none.</summary>
    public static Task<T?> QuerySingleOrDefaultAsync<T>(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.QuerySingleOrDefaultAsync<T>(s.Command(sql, parameters, cancellationToken));
    }

    /// <summary>Runs a query for at most one row (more is an error) and returns it mapped from its row type, or null when there is none.</summary>
    public static async Task<T?> FetchAsync<TRow, T>(this IDbSession session, string sql, object? parameters, Func<TRow, T> map, CancellationToken cancellationToken)
        where T : class
    {
        var row = await session.QuerySingleOrDefaultAsync<TRow>(sql, parameters, cancellationToken);
        return row is null ? null : map(row);
    }

    /// <summary>Runs a query for exactly one row and returns it.</summary>
    public static Task<T> QuerySingleAsync<T>(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.QuerySingleAsync<T>(s.Command(sql, parameters, cancellationToken));
    }

    /// <summary>Runs a query and returns its first row, or the default when there is none.</summary>
    public static Task<T?> QueryFirstOrDefaultAsync<T>(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.QueryFirstOrDefaultAsync<T>(s.Command(sql, parameters, cancellationToken));
    }

    /// <summary>Runs a statement and returns the number of rows it affected.</summary>
    public static Task<int> ExecuteAsync(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.ExecuteAsync(s.Command(sql, parameters, cancellationToken));
    }

    /// <summary>Runs a query and returns the first column of its first row.</summary>
    public static Task<T?> ExecuteScalarAsync<T>(this IDbSession session, string sql, object? parameters, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        return s.ExecuteScalarAsync<T>(s.Command(sql, parameters, cancellationToken));
    }
}
