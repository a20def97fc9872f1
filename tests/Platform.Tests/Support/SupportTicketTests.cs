using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Support;

public sealed class SupportTicketTests : DatabaseTest
{
    [Test]
    public async Task A_member_opens_a_ticket_and_a_viewer_reads_it_but_cannot_open_one()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenantId, "member");
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");

        var ticket = await OpenAsync(member, tenantId);
        using var viewerOpens = await TestApi.Client(viewer.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "s", description = "d", category = "billing", priority = "low" });
        using var list = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/support-tickets");
        using var one = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/support-tickets/{ticket}");

        await TestApi.ExpectProblemAsync(viewerOpens, HttpStatusCode.Forbidden, "forbidden");
        var listed = (await TestApi.ReadAsync(list))["data"]!.AsArray();
        var read = await TestApi.ReadAsync(one);
        Assert.Multiple(() =>
        {
            Assert.That(listed.Select(t => (string?)t!["id"]), Is.EqualTo(new[] { ticket }));
            Assert.That((string?)read["status"], Is.EqualTo("open"));
            Assert.That((string?)read["category"], Is.EqualTo("technical"));
            Assert.That((Guid?)read["opened_by"], Is.EqualTo(member.Id));
        });
    }

    [Test]
    public async Task The_owner_of_a_suspended_tenant_can_still_open_a_ticket_but_a_member_cannot()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenantId, "member");
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        using (var suspend = await support.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "payment_failed" }))
        {
            await TestApi.ExpectAsync(suspend, HttpStatusCode.Created);
        }

        var ticket = await OpenAsync(owner, tenantId);
        using var memberOpens = await TestApi.Client(member.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "s", description = "d", category = "billing", priority = "low" });

        Assert.That(ticket, Is.Not.Empty);
        await TestApi.ExpectProblemAsync(memberOpens, HttpStatusCode.Forbidden, "tenant_suspended");
    }

    [Test]
    public async Task A_member_of_another_tenant_never_sees_the_tickets()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        var ticket = await OpenAsync(ownerA, tenantA);
        var clientB = TestApi.Client(ownerB.Token);

        using var viaA = await clientB.GetAsync($"/v1/tenants/{tenantA}/support-tickets/{ticket}");
        using var listA = await clientB.GetAsync($"/v1/tenants/{tenantA}/support-tickets");
        using var viaB = await clientB.GetAsync($"/v1/tenants/{tenantB}/support-tickets/{ticket}");
        using var commentViaB = await clientB.PostAsJsonAsync($"/v1/tenants/{tenantB}/support-tickets/{ticket}/responses", new { body = "me too" });
        using var listB = await clientB.GetAsync($"/v1/tenants/{tenantB}/support-tickets");

        await TestApi.ExpectProblemAsync(viaA, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(listA, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(viaB, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(commentViaB, HttpStatusCode.NotFound, "not_found");
        Assert.That((await TestApi.ReadAsync(listB))["data"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Operators_list_respond_change_status_and_resolve_and_every_change_is_audited()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        var ticketA = await OpenAsync(ownerA, tenantA, priority: "urgent");
        var ticketB = await OpenAsync(ownerB, tenantB);
        var (support, client) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        using var all = await client.GetAsync("/v1/admin/support-tickets");
        using var urgent = await client.GetAsync("/v1/admin/support-tickets?priority=urgent");
        using var ofB = await client.GetAsync($"/v1/admin/support-tickets?tenant_id={tenantB}");
        using var respond = await client.PostAsJsonAsync($"/v1/admin/support-tickets/{ticketA}/responses", new { body = "Looking into it." });
        using var progress = await client.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticketA}", new { status = "in_progress" });
        using var resolve = await client.PostAsJsonAsync($"/v1/admin/support-tickets/{ticketA}/resolve", new { resolution = "Quota raised." });

        Assert.That(Ids(await TestApi.ReadAsync(all)), Is.EquivalentTo(new[] { ticketA, ticketB }));
        Assert.That(Ids(await TestApi.ReadAsync(urgent)), Is.EqualTo(new[] { ticketA }));
        Assert.That(Ids(await TestApi.ReadAsync(ofB)), Is.EqualTo(new[] { ticketB }));
        await TestApi.ExpectAsync(respond, HttpStatusCode.Created);
        await TestApi.ExpectAsync(progress, HttpStatusCode.OK);
        await TestApi.ExpectAsync(resolve, HttpStatusCode.OK);

        using var seen = await TestApi.Client(ownerA.Token).GetAsync($"/v1/tenants/{tenantA}/support-tickets/{ticketA}");
        var ticket = await TestApi.ReadAsync(seen);
        Assert.Multiple(() =>
        {
            Assert.That((string?)ticket["status"], Is.EqualTo("resolved"));
            Assert.That((string?)ticket["resolution"], Is.EqualTo("Quota raised."));
            Assert.That((Guid?)ticket["resolved_by"], Is.EqualTo(support.Id));
            Assert.That(ticket["responses"]!.AsArray().Select(r => (string?)r!["body"]), Is.EqualTo(new[] { "Looking into it." }));
            Assert.That((string?)ticket["responses"]![0]!["author_type"], Is.EqualTo("operator"));
        });
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantA),
            Is.EqualTo(new[] { "support_ticket.responded", "support_ticket.status_changed", "support_ticket.resolved" }));
        using var actions = await client.GetAsync($"/v1/admin/actions?tenant_id={tenantA}");
        var types = (await TestApi.ReadAsync(actions))["data"]!.AsArray().Select(a => (string?)a!["action_type"]).ToList();
        Assert.That(types, Is.EquivalentTo(new[] { "support_ticket.respond", "support_ticket.change_status", "support_ticket.resolve" }));
    }

    [Test]
    public async Task Operator_ticket_actions_are_irreversible_and_viewers_cannot_respond()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var ticket = await OpenAsync(owner, tenantId);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var (_, superAdmin) = await OperatorTestSupport.SignedInAsync("super_admin");
        using var respond = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/responses", new { body = "Hello" });
        using var actions = await support.GetAsync("/v1/admin/actions");
        var actionId = (string)(await TestApi.ReadAsync(actions))["data"]![0]!["id"]!;

        using var viewerResponds = await viewer.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/responses", new { body = "Hi" });
        using var viewerReads = await viewer.GetAsync($"/v1/admin/support-tickets/{ticket}");
        using var reverse = await superAdmin.PostAsync($"/v1/admin/actions/{actionId}/reverse", null);

        await TestApi.ExpectProblemAsync(viewerResponds, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectAsync(viewerReads, HttpStatusCode.OK);
        await TestApi.ExpectProblemAsync(reverse, HttpStatusCode.Conflict, "action_irreversible");
    }

    [Test]
    public async Task Bad_ticket_input_gets_4xx_problem_details()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var ticket = await OpenAsync(owner, tenantId);
        var ownerClient = TestApi.Client(owner.Token);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        using var badCategory = await ownerClient.PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "s", description = "d", category = "gossip", priority = "low" });
        using var noSubject = await ownerClient.PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets", new { description = "d", category = "other" });
        using var badStatusFilter = await ownerClient.GetAsync($"/v1/tenants/{tenantId}/support-tickets?status=lost");
        using var resolveWithout = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/resolve", new { });
        using var badStatus = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "done" });
        using var emptyResponse = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/responses", new { body = "" });
        using var unknownTicket = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{Guid.NewGuid()}/responses", new { body = "x" });
        using var badTenantFilter = await support.GetAsync("/v1/admin/support-tickets?tenant_id=not-a-uuid");

        var category = await TestApi.ExpectProblemAsync(badCategory, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(category["errors"]!.AsObject().ContainsKey("category"), Is.True);
        var subject = await TestApi.ExpectProblemAsync(noSubject, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(subject["errors"]!.AsObject().ContainsKey("subject"), Is.True);
        await TestApi.ExpectProblemAsync(badStatusFilter, HttpStatusCode.UnprocessableEntity, "validation_failed");
        var resolution = await TestApi.ExpectProblemAsync(resolveWithout, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(resolution["errors"]!.AsObject().ContainsKey("resolution"), Is.True);
        await TestApi.ExpectProblemAsync(badStatus, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(emptyResponse, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(unknownTicket, HttpStatusCode.NotFound, "not_found");
        Assert.That((int)badTenantFilter.StatusCode, Is.EqualTo(400));
        using var seen = await ownerClient.GetAsync($"/v1/tenants/{tenantId}/support-tickets/{ticket}");
        var body = await TestApi.ReadAsync(seen);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["status"], Is.EqualTo("open"));
            Assert.That(body["responses"]!.AsArray(), Is.Empty);
        });
    }

    private static List<string?> Ids(System.Text.Json.Nodes.JsonNode page) => page["data"]!.AsArray().Select(t => (string?)t!["id"]).ToList();

    private static async Task<string> OpenAsync(TestUser user, Guid tenantId, string priority = "normal")
    {
        using var response = await TestApi.Client(user.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "Runs fail", description = "Every run fails since noon.", category = "technical", priority });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return (string)(await TestApi.ReadAsync(response))["id"]!;
    }
}
