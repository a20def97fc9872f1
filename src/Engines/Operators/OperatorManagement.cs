using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Holds the rules shared by the operator management commands: only an active super_admin manages operators, and the last active super_admin stays.</summary>
internal static class OperatorManagement
{
    /// <summary>Is the reason code recorded when a management request names none.</summary>
    public const string DefaultReasonCode = "operator_management";

    public const string ReasonCodePattern = "^[a-z0-9_.-]+$";

    /// <summary>Locks the active super_admins' rows (so that concurrent management requests queue) and refuses unless the caller is one of them; returns their ids.</summary>
    public static async Task<IReadOnlyList<Guid>> EnterAsync(IOperatorDriver operators, IDbSession session, Caller caller, CancellationToken cancellationToken)
    {
        OperatorGate.Require(caller, OperatorRole.SuperAdmin);
        var active = await operators.LockActiveSuperAdminsAsync(session, cancellationToken);
        if (!active.Contains(caller.OperatorId!.Value))
        {
            throw new ForbiddenException("Only an active super_admin may manage operators.");
        }
        return active;
    }

    /// <summary>Refuses with 409 last_super_admin when the target is the only active super_admin left (the rows must be locked by EnterAsync).</summary>
    public static void KeepOneSuperAdmin(IReadOnlyList<Guid> activeSuperAdmins, OperatorSnapshot target)
    {
        if (activeSuperAdmins.Count <= 1 && activeSuperAdmins.Contains(target.Id))
        {
            throw new ConflictException("The last active super_admin cannot be disabled or demoted.", "last_super_admin");
        }
    }
}
