using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Engines.Gdpr;
using Platform.Tests.Invitations;

namespace Platform.Tests.Gdpr;

public sealed class PurgeAndErasureTests : DatabaseTest
{
    private static async Task<long> RowsOfTenantAsync(Guid tenantId)
    {
        // Every table with a tenant_id column, counted inside the tenant's scope, plus the tenant row itself.
        return await OwnerSql.CountAsync(
            """
            SELECT (SELECT count(*) FROM tenants WHERE id = @t)
                 + (SELECT count(*) FROM memberships WHERE tenant_id = @t)
                 + (SELECT count(*) FROM audit_log WHERE tenant_id = @t)
                 + (SELECT count(*) FROM invitations WHERE tenant_id = @t)
                 + (SELECT count(*) FROM outbox_messages WHERE tenant_id = @t)
                 + (SELECT count(*) FROM tenant_slugs WHERE tenant_id = @t)
            """, tenantId, ("t", tenantId));
    }

    private static async Task SoftDeleteAsync(TestUser owner, Guid tenantId, int daysAgo)
    {
        using var response = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET deleted_at = now() - make_interval(days => @d) WHERE id = @t",
            tenantId, ("d", daysAgo), ("t", tenantId));
    }

    [Test]
    public async Task The_purge_deletes_every_row_of_tenants_deleted_longer_ago_than_the_window_and_nothing_else()
    {
        var owner = await TestApi.SignUpAsync();
        var old = await TestApi.CreateTenantAsync(owner);
        var recent = await TestApi.CreateTenantAsync(owner);
        var live = await TestApi.CreateTenantAsync(owner);
        foreach (var tenant in new[] { old, recent, live })
        {
            await InvitationApiTests.InviteAsync(owner, tenant, "purge@example.test");
            await TestApi.MemberAsync(tenant, "viewer");
        }
        await SoftDeleteAsync(owner, old, 31);
        await SoftDeleteAsync(owner, recent, 29);
        var recentRows = await RowsOfTenantAsync(recent);
        var liveRows = await RowsOfTenantAsync(live);
        Assert.That(await RowsOfTenantAsync(old), Is.GreaterThan(6));

        using var scope = TestApi.Services.CreateScope();
        var purged = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeDeletedTenants());

        Assert.That(purged, Is.EqualTo(new[] { old }));
        Assert.Multiple(async () =>
        {
            Assert.That(await RowsOfTenantAsync(old), Is.Zero);
            Assert.That(await RowsOfTenantAsync(recent), Is.EqualTo(recentRows));
            Assert.That(await RowsOfTenantAsync(live), Is.EqualTo(liveRows));
        });
        Assert.That(await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeDeletedTenants()), Is.Empty, "a second run finds nothing");
        using var me = await TestApi.Client(owner.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(me, HttpStatusCode.OK);
    }

    [Test]
    public async Task The_audit_log_stays_append_only_outside_the_purge_path()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);

        // The schema owner itself, even naming the tenant as being purged, cannot delete a live tenant's audit rows outside purge_deleted_tenant...
        var asOwner = Assert.ThrowsAsync<PostgresException>(() => OwnerSql.ScalarAsync<object>(
            "SELECT set_config('app.purging_tenant', @t, true); UPDATE audit_log SET action = 'x' WHERE tenant_id = @g",
            tenantId, ("t", tenantId.ToString()), ("g", tenantId)));
        Assert.That(asOwner!.MessageText, Does.Contain("append-only"));

        // ...and the service role has no path at all: it cannot delete, and the purge function refuses a live tenant.
        await using var connection = new NpgsqlConnection(DatabaseFixture.AppConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            "SELECT set_config('app.tenant_id', @t, true), set_config('app.purging_tenant', @t, true); DELETE FROM audit_log WHERE tenant_id = @g",
            connection, transaction);
        command.Parameters.AddWithValue("t", tenantId.ToString());
        command.Parameters.AddWithValue("g", tenantId);
        var asApp = Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.That(asApp!.SqlState, Is.EqualTo("42501"));
        await transaction.RollbackAsync();

        await using var purge = new NpgsqlCommand("SELECT purge_deleted_tenant(@g, now())", connection);
        purge.Parameters.AddWithValue("g", tenantId);
        Assert.That(await purge.ExecuteScalarAsync(), Is.EqualTo(DBNull.Value));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log", tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task Erasing_my_account_removes_memberships_and_anonymises_me_but_the_last_owner_gets_409()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenantId, "admin");
        var ownTenant = await TestApi.CreateTenantAsync(member);

        using (var refused = await TestApi.Client(member.Token).DeleteAsync("/v1/me"))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "last_owner");
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships WHERE user_id = @u", tenantId, ("u", member.Id)), Is.EqualTo(1),
            "a refusal changes nothing");

        using (var delete = await TestApi.Client(member.Token).DeleteAsync($"/v1/tenants/{ownTenant}"))
        {
            await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
        }
        using (var erased = await TestApi.Client(member.Token).DeleteAsync("/v1/me"))
        {
            await TestApi.ExpectAsync(erased, HttpStatusCode.NoContent);
        }

        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships WHERE user_id = @u", tenantId, ("u", member.Id)), Is.Zero);
        var row = await OwnerSql.ScalarAsync<string>(
            "SELECT email::text || '|' || name || '|' || status || '|' || (password_hash IS NULL)::text FROM users WHERE id = @u",
            null, userId: member.Id, ("u", member.Id));
        Assert.That(row, Is.EqualTo($"deleted-{member.Id:N}@erased.invalid|Deleted user|deleted|true"));

        using var login = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = member.Email, password = member.Password });
        await TestApi.ExpectProblemAsync(login, HttpStatusCode.Unauthorized, "unauthorized");
        using var me = await TestApi.Client(member.Token).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(me, HttpStatusCode.Unauthorized, "unauthorized");
        using var members = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/members");
        var ids = (await TestApi.ReadAsync(members))["data"]!.AsArray().Select(m => (string?)m!["user_id"]);
        Assert.That(ids, Does.Not.Contain(member.Id.ToString()));
        using var audit = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log?action=member.erased");
        var rows = (await TestApi.ReadAsync(audit))["data"]!.AsArray();
        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(rows[0]!.ToJsonString(), Does.Not.Contain(member.Email));
    }
}
