using System.Data;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;

namespace Platform.Tests.Database;

/// <summary>Proves that a statement failing at Bind cannot leave a pooled connection out of step with the server (ADR 0170).</summary>
/// <remarks>Each test uses a pool of one connection, so the failing request and the next innocent one share a connection, as they did under the anonymous login flood.</remarks>
public sealed class PreparedStatementPoisoningTests : DatabaseTest
{
    private const string Nul = "a\u0000b@x.test";

    /// <summary>The minimal stand-alone repro of Npgsql's bug, on plain Npgsql: when this test fails after an Npgsql upgrade, the bug is fixed and ADR 0170's reset can go.</summary>
    [Test]
    public async Task Npgsql_still_breaks_the_next_use_of_a_statement_whose_auto_preparation_failed_at_bind()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseFixture.AppConnectionString)
        {
            MaxPoolSize = 1,
            MaxAutoPrepare = 16,
            AutoPrepareMinUsages = 2,
            ApplicationName = "npgsql-repro",
        };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);

        // The first use only counts; the second prepares (Parse succeeds, Bind fails on the NUL).
        for (var i = 0; i < 2; i++)
        {
            var bad = Assert.ThrowsAsync<PostgresException>(() => EchoAsync(dataSource, Nul));
            Assert.That(bad!.SqlState, Is.EqualTo("22021"));
        }

        // Npgsql throws a plain Exception here, not an NpgsqlException.
        var poisoned = Assert.CatchAsync<Exception>(() => EchoAsync(dataSource, "good@x.test"));
        Assert.That(poisoned!.Message, Does.Contain("unexpected backend message"));
        // Npgsql discards the broken connection; the one after that works again.
        Assert.That(await EchoAsync(dataSource, "good@x.test"), Is.EqualTo("good@x.test"));
    }

    [TestCase("Max Auto Prepare=64;Auto Prepare Min Usages=2")]
    [TestCase("Max Auto Prepare=64;Auto Prepare Min Usages=1")]
    [TestCase("Max Auto Prepare=0")]
    public async Task A_driver_statement_failing_at_bind_leaves_the_pooled_connection_usable(string preparation)
    {
        // The victim's statement must return a row: the poisoned connection fails on the DataRow it does not expect.
        var user = await TestApi.SignUpAsync();
        await using var services = EnginesOnOneConnection(preparation);
        var sessions = services.GetRequiredService<IDbSessionFactory>();
        var users = services.GetRequiredService<IUserDriver>();

        for (var i = 0; i < 5; i++)
        {
            var bad = Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
                await users.FetchCredentialsByEmailAsync(session, Nul, CancellationToken.None);
            });
            Assert.That(bad!.SqlState, Is.EqualTo("22021"));
        }

        var failures = 0;
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
                var credentials = await users.FetchCredentialsByEmailAsync(session, user.Email, CancellationToken.None);
                Assert.That(credentials?.Id, Is.EqualTo(user.Id));
            }
            catch (Exception e) when (e is not AssertionException)
            {
                failures++;
            }
        }
        Assert.That(failures, Is.Zero, "innocent statements after the failed ones");
    }

    [Test]
    public async Task A_value_failing_its_cast_while_the_statement_is_prepared_leaves_the_connection_usable()
    {
        // A custom plan folds the cast while binding: a data error raised at Bind, not a text-encoding one.
        await using var services = EnginesOnOneConnection("Max Auto Prepare=64;Auto Prepare Min Usages=2");
        var sessions = services.GetRequiredService<IDbSessionFactory>();

        for (var i = 0; i < 3; i++)
        {
            var bad = Assert.ThrowsAsync<PostgresException>(() => CastAsync(sessions, "not a number"));
            Assert.That(bad!.SqlState, Is.EqualTo("22P02"));
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await CastAsync(sessions, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(i));
        }
    }

    [Test]
    public async Task A_scoped_batch_read_failing_at_bind_leaves_the_connection_usable()
    {
        await using var services = EnginesOnOneConnection("Max Auto Prepare=64;Auto Prepare Min Usages=1");
        var sessions = services.GetRequiredService<IDbSessionFactory>();
        var tenantId = Guid.NewGuid();

        for (var i = 0; i < 3; i++)
        {
            Assert.ThrowsAsync<PostgresException>(() => ScopedEchoAsync(sessions, tenantId, Nul));
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await ScopedEchoAsync(sessions, tenantId, $"v{i}"), Is.EqualTo($"v{i}"));
        }
    }

    private static ServiceProvider EnginesOnOneConnection(string preparation) =>
        TestEngines.BuildOn($"{DatabaseFixture.AppConnectionString};Maximum Pool Size=1;{preparation}");

    private static async Task<string?> EchoAsync(NpgsqlDataSource dataSource, string value)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("SELECT @value::text, 1", connection, transaction);
        command.Parameters.AddWithValue("value", value);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow);
        return await reader.ReadAsync() ? reader.GetString(0) : null;
    }

    private static async Task<int> CastAsync(IDbSessionFactory sessions, string value)
    {
        await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
        var s = session.Npgsql();
        return await s.QuerySingleAsync<int>(s.Command("SELECT @value::int", new { value }, CancellationToken.None));
    }

    private static async Task<string?> ScopedEchoAsync(IDbSessionFactory sessions, Guid tenantId, string value)
    {
        await using var session = await sessions.OpenScopePendingAsync(tenantId, null, CancellationToken.None);
        var row = await session.Npgsql().ReadScopedAsync<EchoRow>("SELECT @value::text AS value", [("value", value)], CancellationToken.None);
        return row?.Value;
    }

    private sealed class EchoRow
    {
        public string Value { get; init; } = "";
    }
}
