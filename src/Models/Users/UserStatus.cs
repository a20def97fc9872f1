namespace Platform.Models.Users;

/// <summary>Describes a user account: active (may sign in), disabled or deleted (may not).</summary>
[WireEnum]
public enum UserStatus
{
    Active,
    Disabled,
    Deleted,
}
