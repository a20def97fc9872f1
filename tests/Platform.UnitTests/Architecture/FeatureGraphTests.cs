using System.Reflection;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Drivers.Sessions;
using Platform.Engines;
using Platform.Engines.Hosting;

namespace Platform.UnitTests.Architecture;

/// <summary>Proves that the engines' features depend on each other in one direction only, that the pipeline and the other shared folders
/// depend on no feature, that every feature registers itself through a module and that jobs only send commands; each rule is also run
/// against a deliberate violation so that it is known to fail.</summary>
public sealed class FeatureGraphTests
{
    private static readonly Assembly Engines = typeof(EnginesServiceCollectionExtensions).Assembly;

    /// <summary>Lists the engines' features: the canonical names of the project's feature folders.</summary>
    private static readonly HashSet<string> Features =
    [
        "Tenants", "Members", "Users", "ApiKeys", "Plans", "Runs", "Usage", "Billing", "Credits", "Invoices", "Invitations", "Email", "Audit",
        "Operators", "Support", "Gdpr", "Webhooks", "IpAllowlists", "Sso", "Branding", "Domains",
    ];

    [Test]
    public void The_features_form_a_directed_acyclic_graph()
    {
        var graph = Graph(Engines.GetTypes(), "Platform.Engines", Features.Contains);
        Assert.That(Cycles(graph), Is.Empty, Describe(graph));
    }

    [Test]
    public void The_cycle_rule_fails_on_a_deliberate_violation()
    {
        var types = typeof(Deliberate.Left.LeftUseCase).Assembly.GetTypes();
        var graph = Graph(types, "Platform.UnitTests.Architecture.Deliberate", _ => true);
        Assert.That(Cycles(graph), Has.Some.EqualTo("Left -> Right -> Left"));
    }

    [Test]
    public void The_pipeline_and_the_shared_folders_depend_on_no_feature()
    {
        var graph = Graph(Engines.GetTypes(), "Platform.Engines", _ => true);
        var shared = graph.Where(e => !Features.Contains(e.Key))
            .SelectMany(e => e.Value.Where(Features.Contains).Select(to => $"{e.Key} -> {to}"))
            .ToList();
        Assert.That(shared, Is.Empty);
    }

    [Test]
    public void The_shared_folder_rule_fails_on_a_deliberate_violation()
    {
        var graph = Graph(typeof(Deliberate.Left.LeftUseCase).Assembly.GetTypes(), "Platform.UnitTests.Architecture.Deliberate", _ => true);
        Assert.That(graph["Shared"], Does.Contain("Left"));
    }

    [Test]
    public void Every_feature_folder_has_a_module()
    {
        var folders = Engines.GetTypes().Select(t => FeatureOf(t, "Platform.Engines")).OfType<string>().Where(Features.Contains).Distinct();
        var modules = FeatureModules.All.Select(m => m.GetType()).ToList();
        var missing = folders.Where(f => !modules.Any(m => m.Namespace == $"Platform.Engines.{f}" && m.Name == $"{f}Module")).ToList();
        Assert.That(missing, Is.Empty);
    }

    [Test]
    public void Every_job_of_every_module_is_registered_by_the_jobs_composition()
    {
        var services = new ServiceCollection();
        services.AddPlatformJobs();
        var jobs = Engines.GetTypes().Where(t => t.IsSubclassOf(typeof(PeriodicJob)) && !t.IsAbstract).ToList();
        Assert.That(services.Select(d => d.ImplementationType), Is.SupersetOf(jobs));
        Assert.That(jobs, Has.Count.EqualTo(9));
    }

    [Test]
    public void Jobs_only_send_commands()
    {
        var violations = Engines.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(PeriodicJob)) && !t.IsAbstract)
            .SelectMany(NonCommandCalls)
            .ToList();
        Assert.That(violations, Is.Empty);
    }

    [Test]
    public void The_job_rule_fails_on_a_deliberate_violation()
    {
        Assert.That(NonCommandCalls(typeof(DeliberatelyDrivingJob)), Has.Count.EqualTo(2));
    }

    /// <summary>Lists what a job calls beyond the mediator, the records it sends and receives, its options, logging and its own base: a driver, a
    /// service of the engines or a service resolved by hand is a rule that belongs in a handler.</summary>
    private static List<string> NonCommandCalls(Type job) => IlCalls.CallsIn(job)
        .Where(c => c.Callee.DeclaringType is { } owner && owner != job && !IsAllowedForJobs(c.Callee, owner))
        .Select(c => $"{job.Name}.{c.Caller.Name} calls {c.Callee.DeclaringType!.Name}.{c.Callee.Name}")
        .ToList();

    private static bool IsAllowedForJobs(MethodBase callee, Type owner)
    {
        if (owner.Name.EndsWith("Options", StringComparison.Ordinal))
        {
            return true;
        }
        if (owner.Namespace?.StartsWith("Platform.Drivers", StringComparison.Ordinal) == true)
        {
            return false;
        }
        if (owner == typeof(ServiceProviderServiceExtensions) || owner == typeof(ServiceProviderKeyedServiceExtensions))
        {
            // Resolving the mediator by hand is the base's own move; anything else is a service the job should not hold.
            return callee.Name == nameof(ServiceProviderServiceExtensions.CreateAsyncScope)
                || callee is MethodInfo { IsGenericMethod: true } m && m.GetGenericArguments().SequenceEqual([typeof(IMediator)]);
        }
        if (owner.Namespace?.StartsWith("Platform.", StringComparison.Ordinal) == true)
        {
            var root = owner.IsGenericType ? owner.GetGenericTypeDefinition() : owner;
            // A wake-up signal tells a job when to look, never what to do (Platform.Engines.Hosting.JobWakeup).
            return root == typeof(PeriodicJob) || root == typeof(JobWakeup) || root.GetMethod("<Clone>$") is not null || root.Name.EndsWith("Options", StringComparison.Ordinal)
                || owner.IsNested && owner.DeclaringType is { } outer && outer.IsSubclassOf(typeof(PeriodicJob));
        }
        return true;
    }

    /// <summary>Maps each folder (the namespace segment after the root) to the folders its types reference in their signatures, fields and IL.</summary>
    private static Dictionary<string, HashSet<string>> Graph(IEnumerable<Type> types, string root, Func<string, bool> counts)
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var type in types.Where(t => t.DeclaringType is null))
        {
            if (FeatureOf(type, root) is not { } from || !counts(from))
            {
                continue;
            }
            var edges = graph.TryGetValue(from, out var set) ? set : graph[from] = [];
            foreach (var referenced in References(type).Select(t => FeatureOf(t, root)).OfType<string>())
            {
                if (referenced != from && counts(referenced))
                {
                    edges.Add(referenced);
                }
            }
        }
        return graph;
    }

    private static string? FeatureOf(Type type, string root)
    {
        var ns = (type.IsNested ? Outermost(type) : type).Namespace;
        return ns is not null && ns.StartsWith(root + ".", StringComparison.Ordinal) ? ns[(root.Length + 1)..].Split('.')[0] : null;
    }

    private static Type Outermost(Type type) => type.DeclaringType is { } outer ? Outermost(outer) : type;

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Lists the types a type (and its nested types: closures, state machines) names: base, interfaces, fields, properties, signatures, calls.</summary>
    private static IEnumerable<Type> References(Type type)
    {
        var named = new List<Type?> { type.BaseType };
        named.AddRange(type.GetInterfaces());
        foreach (var nested in type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
        {
            named.AddRange(References(nested));
        }
        named.AddRange(type.GetFields(All).Select(f => f.FieldType));
        named.AddRange(type.GetProperties(All).Select(p => p.PropertyType));
        foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            named.AddRange(method.GetParameters().Select(p => p.ParameterType));
            if (method is MethodInfo info)
            {
                named.Add(info.ReturnType);
            }
        }
        foreach (var (_, callee) in IlCalls.CallsIn(type))
        {
            named.Add(callee.DeclaringType);
            named.AddRange(callee.GetParameters().Select(p => p.ParameterType));
            if (callee is MethodInfo info)
            {
                named.Add(info.ReturnType);
                if (info.IsGenericMethod)
                {
                    named.AddRange(info.GetGenericArguments());
                }
            }
        }
        return named.OfType<Type>().SelectMany(Unwrap);
    }

    /// <summary>Yields a type with its element and generic argument types (Task&lt;InvoiceSnapshot[]&gt; names InvoiceSnapshot).</summary>
    private static IEnumerable<Type> Unwrap(Type type)
    {
        yield return type;
        if (type.HasElementType && type.GetElementType() is { } element)
        {
            foreach (var inner in Unwrap(element))
            {
                yield return inner;
            }
        }
        if (type.IsGenericType)
        {
            foreach (var inner in type.GetGenericArguments().SelectMany(Unwrap))
            {
                yield return inner;
            }
        }
    }

    /// <summary>Lists one cycle per strongly connected component of more than one folder, as "A -> B -> A".</summary>
    private static List<string> Cycles(Dictionary<string, HashSet<string>> graph)
    {
        var cycles = new List<string>();
        foreach (var start in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (PathBack(graph, start) is { } path && path.Min(StringComparer.Ordinal) == start)
            {
                cycles.Add(string.Join(" -> ", path.Append(start)));
            }
        }
        return cycles;
    }

    /// <summary>Finds a shortest path from start back to start, or null.</summary>
    private static List<string>? PathBack(Dictionary<string, HashSet<string>> graph, string start)
    {
        var previous = new Dictionary<string, string>();
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (next == start)
                {
                    var path = new List<string> { node };
                    while (path[0] != start)
                    {
                        path.Insert(0, previous[path[0]]);
                    }
                    return path;
                }
                if (next != start && previous.TryAdd(next, node))
                {
                    queue.Enqueue(next);
                }
            }
        }
        return null;
    }

    private static string Describe(Dictionary<string, HashSet<string>> graph) =>
        string.Join("\n", graph.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"{e.Key} -> {string.Join(", ", e.Value.Order(StringComparer.Ordinal))}"));

    /// <summary>Writes the feature graph for the ADR and the README (run it with --filter to read it).</summary>
    [Test]
    public void Prints_the_feature_graph()
    {
        var graph = Graph(Engines.GetTypes(), "Platform.Engines", Features.Contains);
        TestContext.Out.WriteLine(Describe(graph));
        Assert.That(graph.Keys, Is.SupersetOf(new[] { "Runs", "Usage", "Billing" }));
    }

    private sealed class DeliberatelyDrivingJob(IServiceScopeFactory scopes, IDbSessionFactory sessions) : PeriodicJob(scopes, NullLogger.Instance)
    {
        protected override TimeSpan Interval => TimeSpan.FromMinutes(1);

        protected override string FailureMessage => "failed";

        protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
        {
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
    }
}
