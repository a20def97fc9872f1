namespace Platform.Models.Support;

/// <summary>Describes where a support ticket is; closed is final.</summary>
[WireEnum]
public enum SupportTicketStatus
{
    Open,
    InProgress,
    WaitingOnCustomer,
    Resolved,
    Closed,
}
