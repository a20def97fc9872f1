using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MediatR;
using Platform.Drivers.Gdpr;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Engines.Gdpr;

/// <summary>Exports everything a tenant owns (owner): its own row and its rows of every table with a tenant_id column, found in the catalogue at run time and read inside the tenant's row-level-security scope, with secret columns redacted.</summary>
public sealed record ExportTenant(Caller Caller, Guid TenantId) : IRequest<TenantExport>, ITenantRead, ICallerCommand;

/// <summary>Holds a tenant export: the tenant's row, each tenant table's rows by table name, and the tenant tables the service role may not read (with why).</summary>
public sealed record TenantExport(
    Guid TenantId,
    DateTimeOffset ExportedAt,
    JsonObject? Tenant,
    IReadOnlyDictionary<string, JsonArray> Tables,
    IReadOnlyDictionary<string, string> Unreadable,
    IReadOnlyList<string> RedactedColumns);

internal sealed partial class ExportTenantHandler(TenantGate gate, ITenantDataDriver data, AuditTrail audit, IClock clock)
    : IRequestHandler<ExportTenant, TenantExport>
{
    public const string Redacted = "[redacted]";

    public async Task<TenantExport> Handle(ExportTenant command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var tables = new SortedDictionary<string, JsonArray>(StringComparer.Ordinal);
        var unreadable = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var redacted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var table in await data.ListTenantTablesAsync(scope.Session, cancellationToken))
        {
            if (!table.Readable)
            {
                unreadable[table.Name] = "The service role may not read this table; its rows repeat data exported elsewhere or are written by the platform only.";
                continue;
            }
            var rows = JsonNode.Parse(await data.ReadRowsAsJsonAsync(scope.Session, table, command.TenantId, cancellationToken))!.AsArray();
            foreach (var row in rows)
            {
                Redact(row!.AsObject(), table.Name, redacted);
            }
            tables[table.Name] = rows;
        }
        var tenantJson = await data.ReadTenantRowAsJsonAsync(scope.Session, command.TenantId, cancellationToken);
        var tenant = tenantJson is null ? null : JsonNode.Parse(tenantJson)!.AsObject();
        if (tenant is not null)
        {
            Redact(tenant, "tenants", redacted);
        }

        var now = clock.UtcNow;
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "tenant.exported", "tenant", command.TenantId,
            null, new { tables = tables.Count, rows = tables.Values.Sum(t => t.Count) }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new TenantExport(command.TenantId, now, tenant, tables, unreadable, redacted.ToList());
    }

    /// <summary>Tells whether a column holds a secret: its name contains hash, secret, encrypted, password or token (but not tokens, which counts usage).</summary>
    public static bool IsSecretColumn(string column) => SecretColumn().IsMatch(column);

    private static void Redact(JsonObject row, string table, ISet<string> redacted)
    {
        foreach (var name in row.Select(p => p.Key).ToList())
        {
            if (IsSecretColumn(name))
            {
                if (row[name] is not null)
                {
                    row[name] = Redacted;
                }
                redacted.Add($"{table}.{name}");
            }
        }
    }

    [GeneratedRegex("hash|secret|encrypted|password|token(?!s)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretColumn();
}
