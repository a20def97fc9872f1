namespace Platform.Models.Email;

/// <summary>Describes an outbox message: pending (due or leased), sent, or failed for good after its last attempt.</summary>
[WireEnum]
public enum OutboxStatus
{
    Pending,
    Sent,
    Failed,
}
