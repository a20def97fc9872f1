using System.Net;
using Platform.Tests.Email;

namespace Platform.Tests.Invitations;

/// <summary>Proves that resending a pending invitation rotates its token (the old one stops working) and queues a new email.</summary>
public sealed class InvitationResendTests : DatabaseTest
{
    [Test]
    public async Task Resending_a_pending_invitation_rotates_the_token_and_queues_a_new_email()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var first = await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email);
        var id = (string)first["invitation"]!["id"]!;

        using var resend = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/invitations/{id}/resend", null);
        await TestApi.ExpectAsync(resend, HttpStatusCode.OK);
        var second = (string)(await TestApi.ReadAsync(resend))["token"]!;

        Assert.That(second, Is.Not.EqualTo((string)first["token"]!));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'email.invitation'", tenantId), Is.EqualTo(2));
        Assert.That(await OutboxSecretTests.RowsHoldingAsync(second, tenantId), Is.Empty);
        using (var old = await InvitationApiTests.AcceptAsync(invitee, (string)first["token"]!))
        {
            await TestApi.ExpectProblemAsync(old, HttpStatusCode.NotFound, "not_found");
        }
        using (var accepted = await InvitationApiTests.AcceptAsync(invitee, second))
        {
            await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        }
        using var again = await InvitationApiTests.AcceptAsync(invitee, second);
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Gone, "invitation_expired");
    }
}
