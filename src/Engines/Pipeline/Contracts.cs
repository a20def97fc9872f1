using Platform.Models;

namespace Platform.Engines.Pipeline;

/// <summary>Marks a command that acts inside one tenant; the logging behaviour records its tenant id.</summary>
/// <remarks>Never implemented directly: every tenant command says whether it reads (<see cref="ITenantRead"/>) or writes
/// (<see cref="ITenantWrite"/>), and an architecture test holds each to exactly one, so a new command cannot leave it out (ADR 0412).</remarks>
public interface ITenantCommand
{
    Guid TenantId { get; }
}

/// <summary>Marks a tenant command that changes nothing: it leaves the tenant's cached usage summary in place (ADR 0164, 0412).</summary>
public interface ITenantRead : ITenantCommand;

/// <summary>Marks a tenant command that may change the tenant's rows: after it ran in this process, committed or refused, the tenant's
/// cached usage summary is evicted (UsageSummaryEviction, ADR 0164, 0412).</summary>
public interface ITenantWrite : ITenantCommand;

/// <summary>Marks a command sent on behalf of a caller.</summary>
public interface ICallerCommand
{
    Caller Caller { get; }
}
