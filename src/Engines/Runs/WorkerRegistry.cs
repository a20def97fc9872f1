using System.Collections.Concurrent;
using System.Text.Json;
using Json.Schema;
using Platform.Drivers.Sessions;
using Platform.Drivers.Runs;
using Platform.Models;
using Platform.Models.Runs;

namespace Platform.Engines.Runs;

/// <summary>Keeps the worker catalogue in memory: admissions and completions would otherwise read it on every run (ADR 0160). Operators
/// change it over HTTP (ADR 0600): a change NOTIFYs every instance, whose <see cref="WorkerCatalogueListenerJob"/> drops the copy; while
/// that listener is not connected the copy lives at most <see cref="TimeToLive"/>, as before the catalogue could change.</summary>
internal sealed class WorkerRegistry(IWorkerDriver workers, IClock clock)
{
    /// <summary>Is how long a loaded registry is used before the next run reads it again.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(1);

    private volatile Loaded? loaded;
    private readonly ConcurrentDictionary<(string Id, string Version, DateTimeOffset? UpdatedAt), JsonSchema?> inputSchemas = new();
    private readonly ConcurrentDictionary<(string Id, string Version, DateTimeOffset? UpdatedAt), JsonSchema?> outputSchemas = new();

    /// <summary>Finds a worker of the registry, reading the whole registry in the given session when the copy in memory is missing or older than a minute.</summary>
    public async Task<WorkerSnapshot?> FindAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var current = loaded;
        if (current is null || now - current.At >= TimeToLive || now < current.At)
        {
            var all = await workers.ListWorkersAsync(session, cancellationToken);
            current = new Loaded(all.ToDictionary(w => w.Id, StringComparer.Ordinal), now);
            loaded = current;
        }
        return current.Workers.GetValueOrDefault(workerId);
    }

    /// <summary>Drops the copy in memory: the next run reads the catalogue again.</summary>
    public void Invalidate()
    {
        loaded = null;
        inputSchemas.Clear();
        outputSchemas.Clear();
    }

    /// <summary>Checks a run's input (JSON text, or null for none) against the worker's input schema; returns the failures by JSON pointer
    /// of the input (empty when it is valid or the worker has no schema).</summary>
    public IReadOnlyDictionary<string, string[]> CheckInput(WorkerSnapshot worker, string? input) =>
        Check(inputSchemas, worker, worker.InputSchema, "input", input);

    /// <summary>Checks a completion's output (JSON text, or null for none) against the worker's output schema (ADR 0717); returns the failures
    /// by JSON pointer of the output, keyed "output/…" (empty when it is valid or the worker has no schema).</summary>
    public IReadOnlyDictionary<string, string[]> CheckOutput(WorkerSnapshot worker, string? output) =>
        Check(outputSchemas, worker, worker.OutputSchema, "output", output);

    private static IReadOnlyDictionary<string, string[]> Check(
        ConcurrentDictionary<(string Id, string Version, DateTimeOffset? UpdatedAt), JsonSchema?> cache, WorkerSnapshot worker, string? schemaText, string root, string? json)
    {
        if (schemaText is null)
        {
            return new Dictionary<string, string[]>();
        }
        var schema = cache.GetOrAdd((worker.Id, worker.Version, worker.UpdatedAt), _ => WorkerSchemas.Build(schemaText));
        if (schema is null)
        {
            return new Dictionary<string, string[]>();
        }
        using var document = JsonDocument.Parse(json ?? "null");
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return new Dictionary<string, string[]>();
        }
        return (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .GroupBy(d => root + d.InstanceLocation)
            .ToDictionary(g => g.Key, g => g.SelectMany(d => d.Errors!.Values).Distinct().ToArray());
    }

    private sealed record Loaded(IReadOnlyDictionary<string, WorkerSnapshot> Workers, DateTimeOffset At);
}

/// <summary>Builds workers' JSON Schemas with JsonSchema.Net, each with a base URI and a registry of its own. Schemas never fetch remote references
/// (no fetcher is set).</summary>
internal static class WorkerSchemas
{
    /// <summary>Builds a schema from its text, or returns null when it is not a schema JsonSchema.Net can evaluate.</summary>
    public static JsonSchema? Build(string text)
    {
        try
        {
            // A registry of its own: a worker's schema is never registered globally, so it can neither see nor shadow another's ids.
            return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"urn:uuid:{Guid.NewGuid()}"));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or NotSupportedException
                                      or KeyNotFoundException or JsonSchemaException or RefResolutionException)
        {
            return null;
        }
    }
}
