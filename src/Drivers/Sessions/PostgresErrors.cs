using Npgsql;

namespace Platform.Drivers.Sessions;

/// <summary>Names the PostgreSQL error states the drivers translate.</summary>
internal static class PostgresErrors
{
    public const string UniqueViolation = "23505";
    public const string ForeignKeyViolation = "23503";

    public static bool IsUniqueViolation(this PostgresException e, string constraint) =>
        e.SqlState == UniqueViolation && e.ConstraintName == constraint;
}
