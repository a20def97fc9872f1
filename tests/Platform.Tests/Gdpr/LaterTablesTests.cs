using System.Net;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Gdpr;
using Platform.Tests.Invitations;

namespace Platform.Tests.Gdpr;

/// <summary>Proves that tables added later (as other branches will) are exported and purged without code changes: a parent, a child that references it, and an append-only table.</summary>
public sealed class LaterTablesTests : DatabaseTest
{
    private const string CreateProbes =
        """
        CREATE TABLE probe_parent (tenant_id uuid NOT NULL REFERENCES tenants (id), id integer NOT NULL, api_secret text,
                                   PRIMARY KEY (tenant_id, id));
        CREATE TABLE probe_child (tenant_id uuid NOT NULL, id integer NOT NULL, parent_id integer NOT NULL,
                                  PRIMARY KEY (tenant_id, id),
                                  FOREIGN KEY (tenant_id, parent_id) REFERENCES probe_parent (tenant_id, id));
        CREATE TABLE probe_ledger (tenant_id uuid NOT NULL REFERENCES tenants (id), id integer NOT NULL, PRIMARY KEY (tenant_id, id));
        CREATE TRIGGER probe_ledger_append_only BEFORE UPDATE OR DELETE ON probe_ledger FOR EACH ROW EXECUTE FUNCTION refuse_change();
        DO $$ DECLARE t text; BEGIN
            FOREACH t IN ARRAY ARRAY['probe_parent', 'probe_child', 'probe_ledger'] LOOP
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
                EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
                EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id())', t);
                EXECUTE format('GRANT SELECT, INSERT ON %I TO platform_app', t);
            END LOOP;
        END $$;
        """;

    private const string DropProbes = "DROP TABLE IF EXISTS probe_child, probe_parent, probe_ledger";

    private static Task FillAsync(Guid tenantId) => OwnerSql.ScalarAsync<object>(
        """
        INSERT INTO probe_parent (tenant_id, id, api_secret) VALUES (@t, 1, 'very-secret'), (@t, 2, NULL);
        INSERT INTO probe_child (tenant_id, id, parent_id) VALUES (@t, 1, 1), (@t, 2, 1), (@t, 3, 2);
        INSERT INTO probe_ledger (tenant_id, id) VALUES (@t, 1);
        """, tenantId, ("t", tenantId));

    [Test]
    public async Task Tables_added_later_are_exported_with_secrets_redacted_and_purged_children_first()
    {
        await OwnerSql.ScalarAsync<object>(CreateProbes);
        try
        {
            var owner = await TestApi.SignUpAsync();
            var doomed = await TestApi.CreateTenantAsync(owner);
            var kept = await TestApi.CreateTenantAsync(owner);
            await FillAsync(doomed);
            await FillAsync(kept);

            using (var response = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{doomed}/export", null))
            {
                await TestApi.ExpectAsync(response, HttpStatusCode.OK);
                var text = await response.Content.ReadAsStringAsync();
                var export = System.Text.Json.Nodes.JsonNode.Parse(text)!;
                Assert.Multiple(() =>
                {
                    Assert.That(export["tables"]!["probe_parent"]!.AsArray(), Has.Count.EqualTo(2));
                    Assert.That(export["tables"]!["probe_child"]!.AsArray(), Has.Count.EqualTo(3));
                    Assert.That(export["tables"]!["probe_ledger"]!.AsArray(), Has.Count.EqualTo(1));
                    Assert.That(text, Does.Not.Contain("very-secret"));
                    Assert.That(export["redacted_columns"]!.AsArray().Select(n => (string?)n), Does.Contain("probe_parent.api_secret"));
                });
            }

            using (var delete = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{doomed}"))
            {
                await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
            }
            await OwnerSql.ScalarAsync<object>("UPDATE tenants SET deleted_at = now() - interval '31 days' WHERE id = @t", doomed, ("t", doomed));
            using var scope = TestApi.Services.CreateScope();
            Assert.That(await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeDeletedTenants()), Is.EqualTo(new[] { doomed }));

            const string Count = "SELECT (SELECT count(*) FROM probe_parent) + (SELECT count(*) FROM probe_child) + (SELECT count(*) FROM probe_ledger)";
            Assert.Multiple(async () =>
            {
                Assert.That(await OwnerSql.CountAsync(Count, doomed), Is.Zero);
                Assert.That(await OwnerSql.CountAsync(Count, kept), Is.EqualTo(6));
            });
        }
        finally
        {
            await OwnerSql.ScalarAsync<object>(DropProbes);
        }
    }

    [Test]
    public async Task Six_parallel_purge_jobs_purge_each_due_tenant_exactly_once()
    {
        var owner = await TestApi.SignUpAsync();
        var due = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            var tenantId = await TestApi.CreateTenantAsync(owner);
            await InvitationApiTests.InviteAsync(owner, tenantId, $"p{i}@example.test");
            using var delete = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}");
            await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
            await OwnerSql.ScalarAsync<object>("UPDATE tenants SET deleted_at = now() - interval '40 days' WHERE id = @t", tenantId, ("t", tenantId));
            due.Add(tenantId);
        }

        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var scope = TestApi.Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeDeletedTenants());
        }));

        var purged = runs.SelectMany(r => r).ToList();
        Assert.That(purged, Is.EquivalentTo(due), "every due tenant once, none twice");
        foreach (var tenantId in due)
        {
            Assert.That(await OwnerSql.CountAsync("SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM invitations)", tenantId), Is.Zero);
        }
    }
}
