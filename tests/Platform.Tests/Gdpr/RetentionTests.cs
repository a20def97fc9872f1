using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Gdpr;

namespace Platform.Tests.Gdpr;

public sealed class RetentionTests : DatabaseTest
{
    [Test]
    public async Task Rows_older_than_the_plan_retention_are_purged_per_tenant_and_missing_tables_are_skipped()
    {
        var owner = await TestApi.SignUpAsync();
        var free = await TestApi.CreateTenantAsync(owner, plan: "free");             // 7 days
        var professional = await TestApi.CreateTenantAsync(owner, plan: "professional"); // 90 days
        var enterprise = await TestApi.CreateTenantAsync(owner, plan: "enterprise");    // 365 days

        // A stand-in for a table another branch registers, shaped like the rules require.
        await OwnerSql.ScalarAsync<object>(
            """
            CREATE TABLE retention_probe (tenant_id uuid NOT NULL REFERENCES tenants (id), id serial, happened_at timestamptz NOT NULL,
                                          PRIMARY KEY (tenant_id, id));
            ALTER TABLE retention_probe ENABLE ROW LEVEL SECURITY;
            ALTER TABLE retention_probe FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON retention_probe USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
            GRANT SELECT, INSERT, DELETE ON retention_probe TO platform_app;
            """);
        try
        {
            foreach (var tenant in new[] { free, professional, enterprise })
            {
                await OwnerSql.ScalarAsync<object>(
                    """
                    INSERT INTO retention_probe (tenant_id, happened_at)
                    SELECT @t, now() - make_interval(days => d) FROM unnest(ARRAY[1, 6, 8, 30, 89, 91, 364, 366]) AS d
                    """, tenant, ("t", tenant));
            }

            using var scope = TestApi.Services.CreateScope();
            var deleted = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(
                new PurgeExpiredRows([new RetentionTable("retention_probe", "happened_at"), new RetentionTable("not_created_yet", "created_at")]));

            Assert.That(deleted, Is.EqualTo(6 + 3 + 1));
            Assert.Multiple(async () =>
            {
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_probe", free), Is.EqualTo(2));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_probe", professional), Is.EqualTo(5));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_probe", enterprise), Is.EqualTo(7));
            });
        }
        finally
        {
            await OwnerSql.ScalarAsync<object>("DROP TABLE retention_probe");
        }
    }

    [Test]
    public async Task The_real_retention_list_trims_old_runs_and_keeps_a_retry_whose_parent_expired()
    {
        var owner = await TestApi.SignUpAsync();
        var free = await TestApi.CreateTenantAsync(owner, plan: "free"); // 7 days
        var (parent, child, old, recent) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO runs (tenant_id, id, worker_id, task, status, parent_run_id, attempt, actor_type, started_at)
            VALUES (@t, @parent, 'summarizer', 'x', 'failed', NULL, 1, 'system', now() - interval '10 days'),
                   (@t, @child, 'summarizer', 'x', 'succeeded', @parent, 2, 'system', now() - interval '3 days'),
                   (@t, @old, 'summarizer', 'x', 'succeeded', NULL, 1, 'system', now() - interval '8 days'),
                   (@t, @recent, 'summarizer', 'x', 'succeeded', NULL, 1, 'system', now() - interval '1 day')
            """, free, ("t", free), ("parent", parent), ("child", child), ("old", old), ("recent", recent));

        using var scope = TestApi.Services.CreateScope();
        var deleted = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeExpiredRows());

        Assert.Multiple(async () =>
        {
            Assert.That(deleted, Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs WHERE id IN (@child, @recent)", free, ("child", child), ("recent", recent)), Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs", free), Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs WHERE id = @child AND parent_run_id IS NULL", free, ("child", child)), Is.EqualTo(1));
        });
    }

    [Test]
    public void The_retention_list_never_names_rollups_or_invoices()
    {
        Assert.That(RetentionTables.All.Select(t => t.Table), Has.None.Contains("rollup").And.None.Contains("invoice"));
    }
}
