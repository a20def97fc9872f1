using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Sessions;

/// <summary>Applies the operator console's application lock: only operator callers, and only at or above the role an action needs.</summary>
internal static class OperatorGate
{
    /// <summary>Returns the operator's role, or refuses with 403 when the caller is no operator or its role is below the minimum.</summary>
    public static OperatorRole Require(Caller caller, OperatorRole minimum)
    {
        if (caller.Kind != CallerKind.Operator || caller.OperatorId is null || !WireNames.TryParse<OperatorRole>(caller.OperatorRole, out var role))
        {
            throw new ForbiddenException("Only operators may do this.");
        }
        if (role < minimum)
        {
            throw new ForbiddenException($"This action needs the {minimum.ToWire()} operator role or higher.");
        }
        return role;
    }
}
