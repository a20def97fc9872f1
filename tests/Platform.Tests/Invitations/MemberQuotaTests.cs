using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.Invitations;

/// <summary>Proves the plan's member limit (free: 5) is exact under concurrency, counted as members plus pending invitations at invite and members at accept.</summary>
public sealed class MemberQuotaTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_the_free_plan_seats_under_40_parallel_invitations()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = $"p{i}@example.test", role = "member" })));
        var created = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(created, Is.EqualTo(4), "1 owner + 4 pending invitations = the free plan's 5 members");
            Assert.That(refused, Has.Count.EqualTo(36));
        });
        var problem = await TestApi.ExpectProblemAsync(refused[0], HttpStatusCode.TooManyRequests, "quota_exceeded");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("members"));
            Assert.That((long?)problem["limit"], Is.EqualTo(5));
            Assert.That((long?)problem["current"], Is.EqualTo(5));
        });
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invitations", tenantId), Is.EqualTo(4));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages", tenantId), Is.EqualTo(4), "one email per invitation, none for refusals");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Accepts_exactly_the_free_seats_when_more_invitations_are_pending_than_seats()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var invitees = new List<TestUser>();
        var tokens = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var invitee = await TestApi.SignUpAsync();
            invitees.Add(invitee);
            tokens.Add((string)(await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email))["token"]!);
        }
        // Two members join another way after the invitations: 3 members, 4 pending, 2 seats left of 5.
        await TestApi.MemberAsync(tenantId, "viewer");
        await TestApi.MemberAsync(tenantId, "viewer");

        var responses = await Task.WhenAll(invitees.Select((u, i) => InvitationApiTests.AcceptAsync(u, tokens[i])));
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(2));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(2));
        });
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships", tenantId), Is.EqualTo(5));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task The_same_token_accepted_20_times_in_parallel_makes_exactly_one_membership()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var token = (string)(await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email))["token"]!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => InvitationApiTests.AcceptAsync(invitee, token)));
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(1));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Gone), Is.EqualTo(19));
        });
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships WHERE user_id = @u", tenantId, ("u", invitee.Id)), Is.EqualTo(1));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
