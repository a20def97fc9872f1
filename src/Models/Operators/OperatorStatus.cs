namespace Platform.Models.Operators;

/// <summary>Describes an operator account: active (may sign in) or disabled by a super admin.</summary>
[WireEnum]
public enum OperatorStatus
{
    Active,
    Disabled,
}
