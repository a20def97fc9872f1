using System.Data;
using System.Reflection;
using Dapper;
using Platform.Models;

namespace Platform.Drivers;

internal static class DriverDefaults
{
    private static int initialised;

    /// <summary>Sets Dapper's global options once: snake_case columns map to PascalCase properties, and every [WireEnum] of the models
    /// is written and read as its wire name (one <see cref="WireEnumTypeHandler{TEnum}"/> per enum).</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref initialised, 1) == 0)
        {
            DefaultTypeMap.MatchNamesWithUnderscores = true;
            foreach (var type in WireEnums)
            {
                SqlMapper.AddTypeHandler(type, (SqlMapper.ITypeHandler)Activator.CreateInstance(typeof(WireEnumTypeHandler<>).MakeGenericType(type))!);
            }
        }
    }

    /// <summary>Gets every enum of the models marked [WireEnum].</summary>
    public static IReadOnlyList<Type> WireEnums { get; } =
        [.. typeof(WireNames).Assembly.GetTypes().Where(t => t.IsEnum && t.GetCustomAttribute<WireEnumAttribute>() is not null)];
}

/// <summary>Writes an enum parameter as its wire name (text) and reads a text column back through <see cref="WireNames"/>, refusing unknown names.</summary>
internal sealed class WireEnumTypeHandler<TEnum> : SqlMapper.TypeHandler<TEnum> where TEnum : struct, Enum
{
    public override void SetValue(IDbDataParameter parameter, TEnum value)
    {
        parameter.DbType = DbType.String;
        parameter.Value = value.ToWire();
    }

    public override TEnum Parse(object value) =>
        value is string text ? WireNames.Parse<TEnum>(text) : throw new FormatException($"A {typeof(TEnum).Name} is read from text, not {value.GetType().Name}.");
}
