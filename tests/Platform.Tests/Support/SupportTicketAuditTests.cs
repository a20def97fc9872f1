using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Support;

/// <summary>Proves that an operator's ticket status changes are audited one row per transition, and that a closed ticket stays closed.</summary>
public sealed class SupportTicketAuditTests : DatabaseTest
{
    [Test]
    public async Task Ticket_status_transitions_are_each_audited_with_old_and_new_and_a_closed_ticket_is_final()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        string ticket;
        using (var opened = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "Runs fail", description = "Every run fails since noon.", category = "technical", priority = "high" }))
        {
            await TestApi.ExpectAsync(opened, HttpStatusCode.Created);
            ticket = (string)(await TestApi.ReadAsync(opened))["id"]!;
        }
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        foreach (var status in new[] { "in_progress", "waiting_on_customer", "in_progress" })
        {
            using var changed = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status });
            await TestApi.ExpectAsync(changed, HttpStatusCode.OK);
        }
        using (var same = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "in_progress" }))
        {
            await TestApi.ExpectProblemAsync(same, HttpStatusCode.Conflict, "status_unchanged");
        }
        using (var resolve = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/resolve", new { resolution = "Fixed upstream." }))
        {
            await TestApi.ExpectAsync(resolve, HttpStatusCode.OK);
        }
        using (var close = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "closed" }))
        {
            await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        }
        using (var reopen = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "open" }))
        {
            await TestApi.ExpectProblemAsync(reopen, HttpStatusCode.Conflict, "ticket_closed");
        }

        using var log = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log?action=support_ticket.");
        var rows = (await TestApi.ReadAsync(log))["data"]!.AsArray().Reverse().ToList();
        var transitions = rows.Where(r => ((string?)r!["action"])!.StartsWith("support_ticket.status_changed", StringComparison.Ordinal)
                                          || (string?)r!["action"] == "support_ticket.resolved")
            .Select(r => $"{(string?)r!["old_values"]!["status"]}->{(string?)r!["new_values"]!["status"]}:{(string?)r!["actor_type"]}")
            .ToList();
        Assert.That(transitions, Is.EqualTo(new[]
        {
            "open->in_progress:operator", "in_progress->waiting_on_customer:operator", "waiting_on_customer->in_progress:operator",
            "in_progress->resolved:operator", "resolved->closed:operator",
        }), "one audit row per transition, none for the refused ones");
    }
}
