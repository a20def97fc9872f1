using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Sessions;
using Platform.Drivers.Support;

namespace Platform.Tests.Operators;

/// <summary>Checks the database lock under the application lock: row-level security on tickets, append-only founder actions and ticket responses.</summary>
public sealed class OperatorSchemaTests : DatabaseTest
{
    [Test]
    public async Task A_session_of_another_tenant_reads_zero_tickets_even_when_asked_for_them_by_id()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var tenantB = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        using var opened = await TestApi.Client(ownerA.Token).PostAsJsonAsync($"/v1/tenants/{tenantA}/support-tickets",
            new { subject = "s", description = "d", category = "other", priority = "low" });
        await TestApi.ExpectAsync(opened, HttpStatusCode.Created);
        var ticketId = Guid.Parse((string)(await TestApi.ReadAsync(opened))["id"]!);
        var sessions = TestApi.Services.GetRequiredService<IDbSessionFactory>();
        var tickets = TestApi.Services.GetRequiredService<ISupportTicketDriver>();

        await using var session = await sessions.OpenAsync(tenantB, null, CancellationToken.None);
        var byId = await tickets.FetchTicketAsync(session, tenantA, ticketId, CancellationToken.None);
        var listed = await tickets.ListTicketsAsync(session, tenantA, null, null, 10, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(byId, Is.Null);
            Assert.That(listed, Is.Empty);
        });
    }

    [TestCase("UPDATE founder_actions SET reason_code = 'changed'")]
    [TestCase("DELETE FROM founder_actions")]
    public async Task Founder_actions_refuse_update_and_delete_even_for_the_schema_owner(string sql)
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, client) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        using var suspend = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse" });
        await TestApi.ExpectAsync(suspend, HttpStatusCode.Created);

        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);

        var e = Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.That(e!.MessageText, Does.Contain("append-only"));
    }
}
