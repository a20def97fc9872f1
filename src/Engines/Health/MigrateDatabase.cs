using MediatR;
using Platform.Drivers.Schema;

namespace Platform.Engines.Health;

/// <summary>Applies pending migrations with the owner role's connection string and returns the scripts applied.</summary>
public sealed record MigrateDatabase(string OwnerConnectionString) : IRequest<IReadOnlyList<string>>;

internal sealed class MigrateDatabaseHandler(SchemaMigrator migrator) : IRequestHandler<MigrateDatabase, IReadOnlyList<string>>
{
    public Task<IReadOnlyList<string>> Handle(MigrateDatabase command, CancellationToken cancellationToken) =>
        migrator.MigrateAsync(command.OwnerConnectionString, cancellationToken);
}
