using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Drivers.Schema;
using Respawn;

namespace Platform.Tests;

/// <summary>Migrates the run's throwaway database once per run and resets it between tests with Respawn.</summary>
/// <remarks>
/// ./platform test starts the database and names it in ConnectionStrings__Platform; without it (dotnet test from an IDE or the
/// command line) the fixture starts its own through scripts/test-db.sh, the same logic, and stops and deletes it at the end.
/// </remarks>
[SetUpFixture]
public sealed class DatabaseFixture
{
    private static Respawner? respawner;
    private static OwnDatabase? ownDatabase;

    public static string AppConnectionString { get; private set; } = "";
    public static string OwnerConnectionString { get; private set; } = "";

    /// <summary>Gets the key encryption key of the Data Protection key ring that every host of this run uses (ADR 0196).</summary>
    public static string KeyEncryptionKey { get; private set; } = "";

    [OneTimeSetUp]
    public async Task MigrateAsync()
    {
        if (Environment.GetEnvironmentVariable("ConnectionStrings__Platform") is not { Length: > 0 })
        {
            StartOwnDatabase();
        }
        AppConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Platform")!;
        OwnerConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__PlatformOwner") is { Length: > 0 } owner
            ? owner
            : throw new InvalidOperationException("ConnectionStrings__Platform is set but ConnectionStrings__PlatformOwner is not: set both, or neither to let the tests start their own PostgreSQL.");
        Environment.SetEnvironmentVariable("Auth__SigningKey", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        Environment.SetEnvironmentVariable("Platform__RunJobs", "false");
        // ./platform test sets one; a run through dotnet test alone gets its own.
        KeyEncryptionKey = Environment.GetEnvironmentVariable("DataProtection__KeyEncryptionKey") is { Length: > 0 } kek
            ? kek
            : Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        Environment.SetEnvironmentVariable("DataProtection__KeyEncryptionKey", KeyEncryptionKey);
        // Every in-process request comes without a client IP, so all of them share the per-IP bucket "unknown" (ADR 0185): the
        // shared hosts turn the per-IP limits off and let password hashing queue; the throttle tests set their own limits per host.
        foreach (var perIp in new[] { "LoginAttemptsPerMinutePerIp", "OperatorLoginsPerMinutePerIp", "InvitationAttemptsPerMinutePerIp", "SignUpsPerHourPerIp" })
        {
            Environment.SetEnvironmentVariable("Auth__" + perIp, "0");
        }
        Environment.SetEnvironmentVariable("Auth__PasswordHashingWaitMilliseconds", "30000");
        // Fair use (ADR 0520): the shared hosts let one test user own and create many tenants and trial enterprise self-serve, as the
        // tests written before these limits do in their setup; the one-trial-per-family rule stays on. The fair-use tests (Tenants/FairUseTests)
        // start their own hosts with the shipped defaults or the limits they test.
        Environment.SetEnvironmentVariable("FairUse__SelfServeTrialPlans", "starter,professional,enterprise");
        Environment.SetEnvironmentVariable("FairUse__MaxOwnedTenantsPerUser", "100000");
        Environment.SetEnvironmentVariable("FairUse__TenantsPerUserPerDay", "0");
        // Members' requests (ADR 0715): the shared hosts neither count them as api_calls (the tests written before that check exact api_calls
        // and the usage lines read by a signed-in owner) nor limit them per user (tests send hundreds of parallel requests as one user);
        // Usage/UserRequestsTests start their own hosts with the shipped defaults or the limits they test.
        Environment.SetEnvironmentVariable("Usage__CountUserRequests", "false");
        Environment.SetEnvironmentVariable("Usage__UserRequestsPerMinute", "0");
        // No test may query a name server off the machine: custom domain checks go to a closed loopback port unless a test points them at its dnsmasq.
        Environment.SetEnvironmentVariable("Domains__NameServers", "127.0.0.1:9");
        Environment.SetEnvironmentVariable("Domains__TimeoutMilliseconds", "500");

        await new SchemaMigrator(NullLogger<SchemaMigrator>.Instance).MigrateAsync(OwnerConnectionString, CancellationToken.None);
        await using var connection = new NpgsqlConnection(OwnerConnectionString);
        await connection.OpenAsync();
        respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            // The worker registry is a catalogue seeded by its migration, not test data (the workers tests register go at each reset); the Data Protection key ring outlives tests
            // as it outlives requests (hosts keep it in memory, and a host built later must still open what an earlier one protected).
            TablesToIgnore =
            [
                new Respawn.Graph.Table("public", "schemaversions"), new Respawn.Graph.Table("public", "workers"),
                new Respawn.Graph.Table("public", "worker_versions"), new Respawn.Graph.Table("public", "data_protection_keys"),
                // The meter catalogue is seeded by its migration too (db/0640); meters and prices tests add go at each reset.
                new Respawn.Graph.Table("public", "meters"), new Respawn.Graph.Table("public", "meter_prices"),
                new Respawn.Graph.Table("public", "meter_currency_prices"),
            ],
        });
        await using var seeded = new NpgsqlCommand("SELECT array_agg(id) FROM workers", connection);
        seededWorkers = (string[])(await seeded.ExecuteScalarAsync())!;
        await using var meters = new NpgsqlCommand("SELECT array_agg(key) FROM meters", connection);
        seededMeters = (string[])(await meters.ExecuteScalarAsync())!;
        await using var prices = new NpgsqlCommand("SELECT jsonb_agg(p)::text FROM meter_prices p", connection);
        seededPrices = (string)(await prices.ExecuteScalarAsync())!;
        // The meters' prices in other currencies than usd (db/0775), restored with them.
        await using var currencyPrices = new NpgsqlCommand("SELECT coalesce(jsonb_agg(c), '[]')::text FROM meter_currency_prices c", connection);
        seededCurrencyPrices = (string)(await currencyPrices.ExecuteScalarAsync())!;
    }

    /// <summary>Holds the meters' prices in other currencies the migrations seeded, restored at every reset.</summary>
    private static string seededCurrencyPrices = "[]";

    /// <summary>Holds the meters and prices the migrations seeded, restored at every reset.</summary>
    private static string[] seededMeters = [];
    private static string seededPrices = "[]";

    /// <summary>Holds the workers the migrations seeded; the ones tests register through the catalogue routes go at every reset.</summary>
    private static string[] seededWorkers = [];

    [OneTimeTearDown]
    public static void TearDown()
    {
        TestApi.DisposeShared();
        ownDatabase?.Stop();
    }

    /// <summary>Starts the run's own PostgreSQL and names it in the variables ./platform test would have set, for the hosts the tests build.</summary>
    private static void StartOwnDatabase()
    {
        ownDatabase = OwnDatabase.Start();
        // A run that is cancelled or crashes skips the teardown: the process's exit still stops the cluster and deletes its folder.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ownDatabase.Stop();
        Environment.SetEnvironmentVariable("ConnectionStrings__Platform", ownDatabase.AppConnectionString);
        Environment.SetEnvironmentVariable("ConnectionStrings__PlatformOwner", ownDatabase.OwnerConnectionString);
        Environment.SetEnvironmentVariable("PLATFORM_TEST_SUPERUSER_SOCKET", ownDatabase.Socket);
        Environment.SetEnvironmentVariable("PLATFORM_TEST_PORT", ownDatabase.Port);
        Environment.SetEnvironmentVariable("PLATFORM_TEST_PG_BIN", ownDatabase.Binaries);
    }

    /// <summary>Empties every table but the migrations journal (about 10 ms).</summary>
    /// <remarks>The shared in-process host runs the background jobs (email and webhook dispatch, the API keys' usage flush), whose
    /// writes can meet the reset's locks in the other order: PostgreSQL then aborts one side with a deadlock (40P01). The reset
    /// is the side to try again; the job retries on its next tick by itself.</remarks>
    public static async Task ResetAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(OwnerConnectionString);
                await connection.OpenAsync();
                await respawner!.ResetAsync(connection);
                await using var workers = new NpgsqlCommand(
                    """
                    DELETE FROM worker_versions WHERE NOT (worker_id = ANY (@seeded));
                    DELETE FROM workers WHERE NOT (id = ANY (@seeded));
                    DELETE FROM meter_prices;
                    DELETE FROM meters WHERE NOT (key = ANY (@meters));
                    INSERT INTO meter_prices SELECT * FROM jsonb_populate_recordset(NULL::meter_prices, @prices::jsonb);
                    INSERT INTO meter_currency_prices SELECT * FROM jsonb_populate_recordset(NULL::meter_currency_prices, @currencyPrices::jsonb);
                    """, connection);
                workers.Parameters.AddWithValue("seeded", seededWorkers);
                workers.Parameters.AddWithValue("meters", seededMeters);
                workers.Parameters.AddWithValue("prices", seededPrices);
                workers.Parameters.AddWithValue("currencyPrices", seededCurrencyPrices);
                await workers.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
                await Task.Delay(50 * attempt);
            }
        }
    }
}

/// <summary>Is the base of tests that commit to the database: each starts from empty tables.</summary>
public abstract class DatabaseTest
{
    [SetUp]
    public Task ResetDatabaseAsync() => DatabaseFixture.ResetAsync();
}
