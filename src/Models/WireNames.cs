using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Models;

/// <summary>Marks an enum whose values travel and are stored as their wire names (see <see cref="WireNames"/>); the drivers register one Dapper handler for each such enum.</summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class WireEnumAttribute : Attribute;

/// <summary>Converts enum values to and from their wire and database names: the member name in snake_case (PastDue is "past_due"), or the name a
/// <see cref="JsonStringEnumMemberNameAttribute"/> gives; parsing accepts exactly those names and nothing else.</summary>
/// <remarks>The rule is the one the API's JsonStringEnumConverter applies (JsonNamingPolicy.SnakeCaseLower, the same attribute for exceptions),
/// so an enum written to JSON and to the database reads the same in both (docs/decisions/0410).</remarks>
public static class WireNames
{
    /// <summary>Gets the wire name of a value; throws for a value the enum does not define.</summary>
    public static string ToWire<TEnum>(this TEnum value) where TEnum : struct, Enum =>
        Map<TEnum>.ToWire.TryGetValue(value, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(TEnum).Name} defines no such value.");

    /// <summary>Reads a wire name; false for null or any other text (case and numbers included).</summary>
    public static bool TryParse<TEnum>(string? value, out TEnum result) where TEnum : struct, Enum
    {
        if (value is not null && Map<TEnum>.FromWire.TryGetValue(value, out result))
        {
            return true;
        }
        result = default;
        return false;
    }

    /// <summary>Reads a wire name, or throws a FormatException naming the enum, the value and the names it knows.</summary>
    public static TEnum Parse<TEnum>(string value) where TEnum : struct, Enum =>
        TryParse<TEnum>(value, out var result)
            ? result
            : throw new FormatException($"Unknown {typeof(TEnum).Name} '{value}'; known: {string.Join(", ", Names<TEnum>())}.");

    /// <summary>Gets every wire name of the enum, in declaration order.</summary>
    public static IReadOnlyList<string> Names<TEnum>() where TEnum : struct, Enum => Map<TEnum>.Names;

    /// <summary>Gets the wire name of a member, by the rule above.</summary>
    public static string NameOf(FieldInfo member) =>
        member.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);

    private static class Map<TEnum> where TEnum : struct, Enum
    {
        public static readonly IReadOnlyList<string> Names;
        public static readonly FrozenDictionary<TEnum, string> ToWire;
        public static readonly FrozenDictionary<string, TEnum> FromWire;

        static Map()
        {
            var members = typeof(TEnum).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => (Value: (TEnum)f.GetValue(null)!, Name: NameOf(f)))
                .ToList();
            Names = members.Select(m => m.Name).ToList();
            ToWire = members.ToFrozenDictionary(m => m.Value, m => m.Name);
            FromWire = members.ToFrozenDictionary(m => m.Name, m => m.Value, StringComparer.Ordinal);
        }
    }
}
