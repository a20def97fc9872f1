using System.Data;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Invitations;
using Platform.Models.Operators;
using Platform.Models.Runs;
using Platform.Models.Tenants;

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
    public void The_dapper_handler_writes_text_and_reads_it_back()
    {
        var handler = new Platform.Drivers.WireEnumTypeHandler<RunStatus>();
        var parameter = new NpgsqlParameter();
        handler.SetValue(parameter, RunStatus.TimedOut);
        Assert.Multiple(() =>
        {
            Assert.That(parameter.Value, Is.EqualTo("timed_out"));
            Assert.That(parameter.DbType, Is.EqualTo(DbType.String));
            Assert.That(handler.Parse("timed_out"), Is.EqualTo(RunStatus.TimedOut));
            Assert.Throws<FormatException>(() => handler.Parse("TimedOut"));
        });
    }

    private static IEnumerable<Type> WireEnums() =>
        typeof(WireNames).Assembly.GetTypes().Where(t => t.IsEnum && t.GetCustomAttribute<WireEnumAttribute>() is not null);
}
