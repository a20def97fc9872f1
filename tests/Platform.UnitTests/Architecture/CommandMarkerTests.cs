using System.Reflection;
using MediatR;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;

namespace Platform.UnitTests.Architecture;

/// <summary>Every tenant command says whether it reads or writes, so that the usage summary's eviction cannot be forgotten (ADR 0412).</summary>
public sealed class CommandMarkerTests
{
    private static readonly Assembly Engines = typeof(IFeatureModule).Assembly;

    [Test]
    public void Every_tenant_command_is_exactly_one_of_read_or_write()
    {
        Assert.That(Unmarked(Engines.GetTypes()), Is.Empty);
    }

    [Test]
    public void Every_request_naming_a_tenant_is_a_tenant_command()
    {
        Assert.That(TenantRequestsWithoutMarker(Engines.GetTypes()), Is.Empty);
    }

    [Test]
    public void The_marker_rules_fail_on_deliberate_violations()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Unmarked([typeof(UnmarkedCommand), typeof(BothCommand), typeof(ReadCommand), typeof(WriteCommand)]),
                Is.EquivalentTo(new[] { nameof(UnmarkedCommand), nameof(BothCommand) }));
            Assert.That(TenantRequestsWithoutMarker([typeof(UnmarkedRequest), typeof(ReadCommand)]),
                Is.EquivalentTo(new[] { nameof(UnmarkedRequest) }));
        });
    }

    [Test]
    public void The_forgotten_reads_are_reads()
    {
        // These fifteen only read; before the markers were required, they evicted the usage summary on every call. (GetCredits, the
        // sixteenth unmarked one, adds the month's plan grant on first need: it is a write.)
        string[] reads =
        [
            "ListCreditTransactions", "ListInvitations", "GetEntitlements", "GetAdminTenant", "ListApiKeys", "ListSupportTickets",
            "GetSupportTicket", "ExportTenant", "GetWorkerConfig", "ListMembers", "GetBillingSummary", "ListInvoices", "GetInvoice",
            "ListAuditLog", "GetTenant",
        ];
        var byName = Engines.GetTypes().Where(t => typeof(ITenantCommand).IsAssignableFrom(t) && !t.IsInterface).ToDictionary(t => t.Name);
        Assert.That(reads.Where(r => !byName.TryGetValue(r, out var t) || !typeof(ITenantRead).IsAssignableFrom(t)), Is.Empty);
    }

    private static IEnumerable<string> Unmarked(IEnumerable<Type> types) => types
        .Where(t => !t.IsInterface && !t.IsAbstract && typeof(ITenantCommand).IsAssignableFrom(t))
        .Where(t => typeof(ITenantRead).IsAssignableFrom(t) == typeof(ITenantWrite).IsAssignableFrom(t))
        .Select(t => t.Name);

    private static IEnumerable<string> TenantRequestsWithoutMarker(IEnumerable<Type> types) => types
        .Where(t => !t.IsInterface && !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
        .Where(t => t.GetProperty("TenantId", BindingFlags.Public | BindingFlags.Instance)?.PropertyType == typeof(Guid))
        .Where(t => !typeof(ITenantCommand).IsAssignableFrom(t))
        .Select(t => t.Name);

    private sealed record UnmarkedCommand(Guid TenantId) : IRequest<int>, ITenantCommand;

    private sealed record BothCommand(Guid TenantId) : IRequest<int>, ITenantRead, ITenantWrite;

    private sealed record ReadCommand(Guid TenantId) : IRequest<int>, ITenantRead;

    private sealed record WriteCommand(Guid TenantId) : IRequest<int>, ITenantWrite;

    private sealed record UnmarkedRequest(Guid TenantId) : IRequest<int>;
}
