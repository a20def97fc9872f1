using System.Data;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Credits;
using Platform.Models.Email;
using Platform.Models.Invitations;
using Platform.Models.Operators;
using Platform.Models.Runs;
using Platform.Models.Support;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.UnitTests.Text;

public sealed class WireNamesTests
{
    private static readonly JsonSerializerOptions Api = new() { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };

    [Test]
    public void Keeps_the_database_names_the_hand_written_pairs_had()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TenantStatus.PastDue.ToWire(), Is.EqualTo("past_due"));
            Assert.That(TenantStatus.Cancelled.ToWire(), Is.EqualTo("cancelled"));
            Assert.That(OperatorRole.SuperAdmin.ToWire(), Is.EqualTo("super_admin"));
            Assert.That(RunStatus.TimedOut.ToWire(), Is.EqualTo("timed_out"));
            Assert.That(CreditTransactionType.QuotaMonthly.ToWire(), Is.EqualTo("quota_monthly"));
            Assert.That(CreditTransactionType.PlanUpgrade.ToWire(), Is.EqualTo("plan_upgrade"));
            Assert.That(InvitationStatus.Revoked.ToWire(), Is.EqualTo("revoked"));
            Assert.That(TenantRole.Owner.ToWire(), Is.EqualTo("owner"));
        });
    }

    [Test]
    public void Keeps_the_status_names_the_database_checks_allow()
    {
        // The CHECK constraints of db/0001, 0200, 0250, 0300, 0301 and 0310, value by value and in order: no data migration.
        Assert.Multiple(() =>
        {
            Assert.That(WireNames.Names<SubscriptionStatus>(), Is.EqualTo(new[] { "active", "past_due", "canceled" }));
            Assert.That(WireNames.Names<InvoiceStatus>(), Is.EqualTo(new[] { "draft", "open", "paid", "void", "uncollectible" }));
            Assert.That(WireNames.Names<UserStatus>(), Is.EqualTo(new[] { "active", "disabled", "deleted" }));
            Assert.That(WireNames.Names<OperatorStatus>(), Is.EqualTo(new[] { "active", "disabled" }));
            Assert.That(WireNames.Names<SupportTicketStatus>(), Is.EqualTo(new[] { "open", "in_progress", "waiting_on_customer", "resolved", "closed" }));
            Assert.That(WireNames.Names<CreditPurchaseStatus>(), Is.EqualTo(new[] { "pending", "succeeded", "failed" }));
            Assert.That(WireNames.Names<OutboxStatus>(), Is.EqualTo(new[] { "pending", "sent", "failed" }));
            Assert.That(WireNames.Names<TenantStatus>(), Is.EqualTo(new[] { "trial", "active", "past_due", "suspended", "cancelled", "deleted" }));
            Assert.That(WireNames.Names<RunStatus>(), Is.EqualTo(new[] { "running", "succeeded", "failed", "timed_out" }));
        });
    }

    [Test]
    public void A_database_value_the_enum_does_not_know_fails_naming_the_enum_and_the_value()
    {
        // What a driver's row mapping does with a status column (WireNames.Parse), e.g. after a migration added a status the code lacks.
        var refusal = Assert.Throws<FormatException>(() => WireNames.Parse<InvoiceStatus>("refunded"));
        Assert.That(refusal!.Message, Is.EqualTo("Unknown InvoiceStatus 'refunded'; known: draft, open, paid, void, uncollectible."));
        Assert.Throws<FormatException>(() => WireNames.Parse<SupportTicketStatus>("InProgress"));
        Assert.Throws<FormatException>(() => WireNames.Parse<SubscriptionStatus>("trialing"));
    }

    [TestCaseSource(nameof(WireEnums))]
    public void Writes_each_value_as_the_api_json_does_and_reads_it_back(Type type)
    {
        foreach (var value in Enum.GetValues(type))
        {
            var wire = (string)typeof(WireNames).GetMethod(nameof(WireNames.ToWire))!.MakeGenericMethod(type).Invoke(null, [value])!;
            Assert.That(JsonSerializer.Serialize(value, type, Api), Is.EqualTo($"\"{wire}\""), $"{type.Name}.{value}");
            var parsed = typeof(WireNames).GetMethod(nameof(WireNames.Parse))!.MakeGenericMethod(type).Invoke(null, [wire]);
            Assert.That(parsed, Is.EqualTo(value));
        }
    }

    [TestCase("PastDue")]
    [TestCase("Past_Due")]
    [TestCase("2")]
    [TestCase("")]
    [TestCase("past-due")]
    public void Refuses_anything_but_an_exact_wire_name(string text)
    {
        Assert.That(WireNames.TryParse<TenantStatus>(text, out _), Is.False);
        var refusal = Assert.Throws<FormatException>(() => WireNames.Parse<TenantStatus>(text));
        Assert.That(refusal!.Message, Does.Contain("TenantStatus").And.Contain("past_due"));
    }

    [Test]
    public void Refuses_to_write_a_value_the_enum_does_not_define() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TenantStatus)99).ToWire());

    [Test]
    public void Dapper_bypasses_type_handlers_for_enums_so_drivers_convert_through_WireNames()
    {
        // Why drivers pass status.ToWire() and read text columns into strings (docs/decisions/0410): Dapper 2.1 sends an enum parameter
        // as its number and reads an enum column with Enum.Parse, whatever handler is registered for the enum.
        SqlMapper.AddTypeHandler(new ProbeHandler());
        try
        {
#pragma warning disable CS0618 // Dapper marks its parameter-type lookup as internal; it is the lookup every parameter goes through.
            Assert.That(SqlMapper.LookupDbType(typeof(ProbeStatus), "status", false, out var handler), Is.EqualTo(DbType.Int32));
#pragma warning restore CS0618
            Assert.That(handler, Is.Null);
            using var table = new DataTable();
            table.Columns.Add("status", typeof(string));
            table.Rows.Add("timed_out");
            using var reader = table.CreateDataReader();
            Assert.Throws<DataException>(() => reader.Parse<ProbeRow>().ToList());
        }
        finally
        {
            SqlMapper.ResetTypeHandlers();
        }
    }

    private static IEnumerable<Type> WireEnums() =>
        typeof(WireNames).Assembly.GetTypes().Where(t => t.IsEnum && t.GetCustomAttribute<WireEnumAttribute>() is not null);

    private enum ProbeStatus { Running, TimedOut }

    private sealed class ProbeRow
    {
        public ProbeStatus Status { get; init; }
    }

    private sealed class ProbeHandler : SqlMapper.TypeHandler<ProbeStatus>
    {
        public override void SetValue(IDbDataParameter parameter, ProbeStatus value) => parameter.Value = value.ToWire();

        public override ProbeStatus Parse(object value) => WireNames.Parse<ProbeStatus>((string)value);
    }
}
