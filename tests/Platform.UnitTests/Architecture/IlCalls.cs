using System.Reflection;
using System.Reflection.Emit;

namespace Platform.UnitTests.Architecture;

/// <summary>Lists the methods a type's IL calls (including its compiler-generated nested types: async state machines, lambdas).</summary>
public static class IlCalls
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static IEnumerable<(MethodBase Caller, MethodBase Callee)> CallsIn(Type type)
    {
        foreach (var nested in type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
        {
            foreach (var call in CallsIn(nested))
            {
                yield return call;
            }
        }
        foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            foreach (var callee in CalleesOf(method))
            {
                yield return (method, callee);
            }
        }
    }

    private static IEnumerable<MethodBase> CalleesOf(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[position++]);
            }
            if (!OpCodesByValue.TryGetValue(value, out var opcode))
            {
                yield break;
            }
            var operandStart = position;
            position += OperandSize(opcode, il, position);
            if (opcode.OperandType is OperandType.InlineMethod)
            {
                var token = BitConverter.ToInt32(il, operandStart);
                MethodBase? callee = null;
                try
                {
                    callee = method.Module.ResolveMethod(token,
                        method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                        method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                }
                if (callee is not null)
                {
                    yield return callee;
                }
            }
        }
    }

    private static int OperandSize(OpCode opcode, byte[] il, int position) => opcode.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (BitConverter.ToInt32(il, position) * 4),
        _ => 4,
    };
}
