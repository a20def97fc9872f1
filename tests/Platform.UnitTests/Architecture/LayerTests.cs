using System.Reflection;
using MediatR;
using Npgsql;
using Platform.Drivers.Sessions;
using Platform.Engines;
using Platform.Models;

namespace Platform.UnitTests.Architecture;

/// <summary>Proves the design card's layer rules on the built assemblies; each rule is also run against a deliberate violation so that it is known to fail.</summary>
public sealed class LayerTests
{
    private static readonly Assembly Models = typeof(Caller).Assembly;
    private static readonly Assembly Drivers = typeof(IDbSession).Assembly;
    private static readonly Assembly Engines = typeof(EnginesServiceCollectionExtensions).Assembly;
    private static readonly Assembly Api = typeof(Program).Assembly;
    private static readonly Assembly Worker = Assembly.Load("Platform.Worker");

    /// <summary>Maps each layer to the assemblies it must never reference: only downward, never past Engines from the Api or the Worker, never a database library above Drivers.</summary>
    private static readonly Dictionary<Assembly, string[]> Forbidden = new()
    {
        [Models] = ["Platform.Drivers", "Platform.Engines", "Platform.Api", "Platform.Worker", "Npgsql", "Dapper", "MediatR"],
        [Drivers] = ["Platform.Engines", "Platform.Api", "Platform.Worker", "MediatR"],
        [Engines] = ["Platform.Api", "Platform.Worker", "Npgsql", "Dapper"],
        [Api] = ["Platform.Drivers", "Platform.Worker", "Npgsql", "Dapper"],
        [Worker] = ["Platform.Drivers", "Platform.Api", "Npgsql", "Dapper"],
    };

    public static IEnumerable<TestCaseData> Layers() =>
        Forbidden.Keys.Select(a => new TestCaseData(a).SetArgDisplayNames(a.GetName().Name ?? "?"));

    [TestCaseSource(nameof(Layers))]
    public void A_layer_references_only_the_layers_below_it(Assembly layer)
    {
        Assert.That(ForbiddenReferences(layer, Forbidden[layer]), Is.Empty);
    }

    [Test]
    public void The_reference_rule_fails_on_a_deliberate_violation()
    {
        // The test assembly references Drivers and Npgsql: held to the Api's rule, it must be caught.
        Assert.That(ForbiddenReferences(typeof(LayerTests).Assembly, Forbidden[Api]), Is.SupersetOf(new[] { "Platform.Drivers", "Npgsql" }));
    }

    [Test]
    public void Drivers_never_commit()
    {
        var commits = Drivers.GetTypes()
            .Where(t => t.DeclaringType is null && t != typeof(IDbSession) && t.Name != "NpgsqlDbSession")
            .SelectMany(CommitCalls)
            .ToList();
        Assert.That(commits, Is.Empty);
    }

    [Test]
    public void The_commit_rule_fails_on_a_deliberate_violation()
    {
        Assert.That(CommitCalls(typeof(DeliberatelyCommittingDriver)), Has.Count.EqualTo(2));
    }

    [Test]
    public void Drivers_run_statements_only_through_the_session()
    {
        // The session remembers a failed statement and resets the connection's prepared statements (ADR 0170); a driver that runs
        // Dapper or an NpgsqlCommand on the connection itself would bypass that. Listeners and the migrator own their connections.
        var direct = Drivers.GetTypes()
            .Where(t => t.DeclaringType is null && t.Name is not ("NpgsqlDbSession" or "ChannelListener" or "SchemaMigrator"))
            .SelectMany(DirectStatementCalls)
            .ToList();
        Assert.That(direct, Is.Empty);
    }

    [Test]
    public void The_statement_rule_fails_on_a_deliberate_violation()
    {
        Assert.That(DirectStatementCalls(typeof(DeliberatelyDirectDriver)), Has.Count.EqualTo(2));
    }

    [Test]
    public void Engine_handlers_are_internal_and_sealed()
    {
        var handlers = Engines.GetTypes().Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>))).ToList();
        Assert.That(handlers, Is.Not.Empty);
        Assert.That(handlers.Where(t => t.IsPublic || !t.IsSealed).Select(t => t.Name), Is.Empty);
    }

    [Test]
    public void Commands_are_public_sealed_records()
    {
        var commands = Engines.GetTypes().Where(t => t.IsAssignableTo(typeof(IBaseRequest)) && !t.IsInterface).ToList();
        Assert.That(commands, Is.Not.Empty);
        Assert.That(commands.Where(t => !t.IsPublic || !t.IsSealed || !IsRecord(t)).Select(t => t.Name), Is.Empty);
    }

    [Test]
    public void Snapshots_are_sealed_records_without_setters()
    {
        var snapshots = Models.GetTypes().Where(t => t.Name.EndsWith("Snapshot", StringComparison.Ordinal)).ToList();
        Assert.That(snapshots, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(snapshots.Where(t => !t.IsSealed || !IsRecord(t)).Select(t => t.Name), Is.Empty);
            Assert.That(snapshots.SelectMany(t => t.GetProperties()).Where(p => p.SetMethod is { } set && !IsInitOnly(set)).Select(p => p.Name), Is.Empty);
        });
    }

    [Test]
    public void The_record_rule_fails_on_a_deliberate_violation()
    {
        Assert.Multiple(() =>
        {
            Assert.That(IsRecord(typeof(NotARecord)), Is.False);
            Assert.That(IsRecord(typeof(Caller)), Is.True);
        });
    }

    internal static List<string> ForbiddenReferences(Assembly assembly, IEnumerable<string> forbidden) =>
        assembly.GetReferencedAssemblies().Select(r => r.Name!).Intersect(forbidden).ToList();

    private static List<string> CommitCalls(Type type) => IlCalls.CallsIn(type)
        .Where(c => c.Callee.Name is "Commit" or "CommitAsync")
        .Select(c => $"{type.Name}.{c.Caller.Name} calls {c.Callee.DeclaringType?.Name}.{c.Callee.Name}")
        .ToList();

    private static List<string> DirectStatementCalls(Type type) => IlCalls.CallsIn(type)
        .Where(c => c.Callee.DeclaringType == typeof(Dapper.SqlMapper)
            || (c.Callee.DeclaringType is { } declaring && declaring.Namespace is "Npgsql" or "System.Data.Common" && c.Callee.Name.StartsWith("Execute", StringComparison.Ordinal)))
        .Select(c => $"{type.Name}.{c.Caller.Name} calls {c.Callee.DeclaringType?.Name}.{c.Callee.Name}")
        .ToList();

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");

    private sealed class NotARecord;

    private sealed class DeliberatelyDirectDriver
    {
        public static Task<int> WriteAsync(NpgsqlConnection connection) => Dapper.SqlMapper.ExecuteAsync(connection, "SELECT 1");

        public static async Task<int> WriteAsync(NpgsqlCommand command) => await command.ExecuteNonQueryAsync();
    }

    private sealed class DeliberatelyCommittingDriver
    {
        public static async Task SaveAsync(NpgsqlTransaction transaction) => await transaction.CommitAsync();

        public static Task SaveAsync(IDbSession session) => session.CommitAsync(CancellationToken.None);
    }
}
