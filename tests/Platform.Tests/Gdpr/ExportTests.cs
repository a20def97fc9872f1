using System.Net;
using Npgsql;
using Platform.Engines.Gdpr;
using Platform.Tests.Invitations;

namespace Platform.Tests.Gdpr;

public sealed class ExportTests : DatabaseTest
{
    [Test]
    public async Task The_export_covers_every_tenant_table_in_information_schema()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await InvitationApiTests.InviteAsync(owner, tenantId, "export@example.test");

        using var response = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/export", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var export = await TestApi.ReadAsync(response);
        var exported = export["tables"]!.AsObject().Select(p => p.Key)
            .Concat(export["unreadable"]!.AsObject().Select(p => p.Key)).Order(StringComparer.Ordinal).ToList();

        var expected = new List<string>();
        await using (var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """
                SELECT c.table_name FROM information_schema.columns c
                JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
                ORDER BY c.table_name
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                expected.Add(reader.GetString(0));
            }
        }
        Assert.That(expected, Does.Contain("memberships").And.Contain("audit_log").And.Contain("invitations").And.Contain("outbox_messages"));
        Assert.That(exported, Is.EqualTo(expected.Order(StringComparer.Ordinal).ToList()));
        Assert.That((string?)export["tenant"]!["id"], Is.EqualTo(tenantId.ToString()));
        Assert.That(export["tables"]!["memberships"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(export["tables"]!["invitations"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(export["tables"]!["outbox_messages"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(export["tables"]!["audit_log"]!.AsArray().Count, Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task The_export_redacts_secret_columns_and_holds_no_other_tenants_rows()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var issued = await InvitationApiTests.InviteAsync(owner, tenantId, "secret@example.test");
        var otherOwner = await TestApi.SignUpAsync();
        var otherTenant = await TestApi.CreateTenantAsync(otherOwner);
        await InvitationApiTests.InviteAsync(otherOwner, otherTenant, "elsewhere@example.test");

        using var response = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/export", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.That(response.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"));
        var text = await response.Content.ReadAsStringAsync();
        var export = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)export["tables"]!["invitations"]![0]!["token_hash"], Is.EqualTo("[redacted]"));
            Assert.That(export["redacted_columns"]!.AsArray().Select(n => (string?)n), Does.Contain("invitations.token_hash"));
            Assert.That(text, Does.Not.Contain(otherTenant.ToString()));
            Assert.That(text, Does.Not.Contain("elsewhere@example.test"));
            Assert.That(text, Does.Contain("secret@example.test"));
            Assert.That((long?)export["tenant"]!["tokens_this_month"], Is.EqualTo(0), "usage counts named tokens are not secrets");
        });
        // The outbox payload holds the accept link; the export still carries it, because the owner may read their own mail.
        Assert.That(issued["token"], Is.Not.Null);
    }

    [Test]
    public void Secret_column_names_are_recognised()
    {
        Assert.Multiple(() =>
        {
            foreach (var secret in new[] { "token_hash", "key_hash", "webhook_secret", "client_secret_encrypted", "access_token", "password_hash", "refresh_token" })
            {
                Assert.That(ExportTenantHandler.IsSecretColumn(secret), Is.True, secret);
            }
            foreach (var plain in new[] { "tokens_this_month", "max_tokens_per_month", "total_tokens", "email", "name", "tenant_id" })
            {
                Assert.That(ExportTenantHandler.IsSecretColumn(plain), Is.False, plain);
            }
        });
    }

    [Test]
    public async Task Only_an_owner_may_export_and_other_tenants_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var stranger = await TestApi.SignUpAsync();
        using var byAdmin = await TestApi.Client(admin.Token).PostAsync($"/v1/tenants/{tenantId}/export", null);
        await TestApi.ExpectProblemAsync(byAdmin, HttpStatusCode.Forbidden, "forbidden");
        using var byStranger = await TestApi.Client(stranger.Token).PostAsync($"/v1/tenants/{tenantId}/export", null);
        await TestApi.ExpectProblemAsync(byStranger, HttpStatusCode.NotFound, "not_found");
    }
}
