namespace Platform.Models.Health;

/// <summary>Is the background jobs' backlog across tenants: pending outbox messages, pending webhook deliveries, and the age in seconds of the oldest due one.</summary>
public sealed record JobLagSnapshot(long OutboxPending, long WebhookPending, double OldestDueSeconds);
