using System.Collections;
using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using MediatR;
using Platform.Models.Errors;
using Platform.Models.Text;

namespace Platform.Engines.Pipeline;

/// <summary>Refuses a command whose text PostgreSQL cannot store (U+0000, unpaired surrogates) with a validation failure naming the property.</summary>
/// <remarks>The API refuses such text at the edge already; this protects engines called in-process (ADR 0180). It reads the
/// command's stored strings, nested Platform records and sequences of either through getters compiled once per type.</remarks>
internal sealed class StorableTextBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (request is not null && StorableTextInspector.Find(request) is { } errors)
        {
            throw new ValidationFailedException(errors);
        }
        return next();
    }
}

/// <summary>Finds the unstorable strings of an object graph of Platform types, naming each by its snake_case path ("events[2].meter").</summary>
internal static class StorableTextInspector
{
    private const int MaxDepth = 4;
    private static readonly ConcurrentDictionary<Type, Member[]> Members = new();

    /// <summary>Returns the unstorable fields of the object, or null when all of its text can be stored.</summary>
    /// <remarks>A first pass only looks (no allocation but enumerators); names are built by a second pass when it found something.</remarks>
    public static Dictionary<string, string[]>? Find(object value)
    {
        if (IsStorable(value, Kind.Nested, 0))
        {
            return null;
        }
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Name(value, "", Kind.Nested, 0, errors);
        return errors;
    }

    private static bool IsStorable(object value, Kind kind, int depth)
    {
        switch (value)
        {
            case string text:
                return StorableText.IsStorable(text);
            case IEnumerable sequence when kind == Kind.Sequence && depth < MaxDepth:
                foreach (var item in sequence)
                {
                    if (item is not null && !IsStorable(item, Kind.Nested, depth + 1))
                    {
                        return false;
                    }
                }
                return true;
            case not null when kind == Kind.Nested && depth < MaxDepth:
                foreach (var member in MembersOf(value.GetType()))
                {
                    if (member.Get(value) is { } child && !IsStorable(child, member.Kind, depth + 1))
                    {
                        return false;
                    }
                }
                return true;
            default:
                return true;
        }
    }

    private static void Name(object value, string name, Kind kind, int depth, Dictionary<string, string[]> errors)
    {
        switch (value)
        {
            case string text:
                if (StorableText.Problem(text) is { } problem)
                {
                    errors.TryAdd(name, [problem]);
                }
                break;
            case IEnumerable sequence when kind == Kind.Sequence && depth < MaxDepth:
                var index = 0;
                foreach (var item in sequence)
                {
                    if (item is not null)
                    {
                        Name(item, $"{name}[{index}]", Kind.Nested, depth + 1, errors);
                    }
                    index++;
                }
                break;
            case not null when kind == Kind.Nested && depth < MaxDepth:
                foreach (var member in MembersOf(value.GetType()))
                {
                    if (member.Get(value) is { } child)
                    {
                        Name(child, name.Length == 0 ? member.Name : name + "." + member.Name, member.Kind, depth + 1, errors);
                    }
                }
                break;
        }
    }

    private static Member[] MembersOf(Type type) => Members.TryGetValue(type, out var members) ? members : Members.GetOrAdd(type, Describe);

    /// <summary>Lists the members to read of a Platform type, or none for any other type (read once per type, then cached).</summary>
    private static Member[] Describe(Type type) => !IsPlatformType(type) ? [] :
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            // Stored data only: auto-properties (positional and init members of records); computed ones may throw or cost.
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsStatic: false }
                && type.GetField($"<{p.Name}>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance) is not null)
            .Select(p => (Property: p, Kind: KindOf(p.PropertyType)))
            .Where(p => p.Kind != Kind.None)
            .Select(p => new Member(JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Property.Name), p.Kind, Getter(type, p.Property)))
            .ToArray();

    private static Kind KindOf(Type type)
    {
        if (type == typeof(string) || type == typeof(object))
        {
            return Kind.Text;
        }
        if (type.IsValueType)
        {
            return Kind.None;
        }
        var element = type.IsArray ? type.GetElementType() : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        if (element is not null)
        {
            return element == typeof(string) || IsPlatformType(element) ? Kind.Sequence : Kind.None;
        }
        return IsPlatformType(type) ? Kind.Nested : Kind.None;
    }

    private static bool IsPlatformType(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Platform.", StringComparison.Ordinal) == true;

    private static Func<object, object?> Getter(Type type, PropertyInfo property)
    {
        var instance = Expression.Parameter(typeof(object));
        var read = Expression.Property(Expression.Convert(instance, type), property);
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(read, typeof(object)), instance).Compile();
    }

    private enum Kind
    {
        None,
        Text,
        Nested,
        Sequence,
    }

    private sealed record Member(string Name, Kind Kind, Func<object, object?> Get);
}
