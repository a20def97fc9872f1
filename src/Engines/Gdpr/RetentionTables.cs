namespace Platform.Engines.Gdpr;

/// <summary>Names a table whose rows expire after the tenant plan's retention_days, and the timestamptz column that dates a row.</summary>
public sealed record RetentionTable(string Table, string TimeColumn);

/// <summary>Lists, in one place, the tables the plan-retention job trims; a branch adds one line for its table (which must grant DELETE to platform_app). Rollups and invoices are never listed, nor usage_events: they hold the idempotency keys that are kept forever (ADR 0201).</summary>
public static class RetentionTables
{
    public static IReadOnlyList<RetentionTable> All { get; } =
    [
        new("runs", "started_at"),
        new("webhook_deliveries", "created_at"),
    ];
}
