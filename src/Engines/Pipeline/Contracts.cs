using Platform.Models;

namespace Platform.Engines.Pipeline;

/// <summary>Marks a command that acts inside one tenant; the logging behaviour records its tenant id.</summary>
public interface ITenantCommand
{
    Guid TenantId { get; }
}

/// <summary>Marks a tenant command that only reads: it leaves the tenant's cached usage summary in place (UsageSummaryEviction, ADR 0164).</summary>
public interface ITenantRead : ITenantCommand;

/// <summary>Marks a command sent on behalf of a caller.</summary>
public interface ICallerCommand
{
    Caller Caller { get; }
}
