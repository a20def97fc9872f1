using System.Text;
using Platform.Api.Idempotency;
using Platform.Models.Idempotency;

namespace Platform.UnitTests.Idempotency;

/// <summary>Checks the pure rules of Idempotency-Key: which header values are keys, which outcomes are kept, and what makes two requests the same.</summary>
public sealed class IdempotencyRuleTests
{
    [TestCase("a", true)]
    [TestCase("order 42 ~!", true)]
    [TestCase("", false)]
    [TestCase("caf\u00e9", false)]
    [TestCase("new\nline", false)]
    [TestCase("del\u007f", false)]
    public void Keys_are_1_to_255_printable_ascii_characters(string key, bool valid) =>
        Assert.That(IdempotencyKeys.IsValid(key), Is.EqualTo(valid));

    [Test]
    public void A_key_may_be_255_characters_long_but_not_256() => Assert.Multiple(() =>
    {
        Assert.That(IdempotencyKeys.IsValid(new string('x', 255)), Is.True);
        Assert.That(IdempotencyKeys.IsValid(new string('x', 256)), Is.False);
    });

    [TestCase(200, true)]
    [TestCase(201, true)]
    [TestCase(402, true)]
    [TestCase(403, true)]
    [TestCase(404, true)]
    [TestCase(409, true)]
    [TestCase(410, true)]
    [TestCase(400, false)]
    [TestCase(413, false)]
    [TestCase(422, false)]
    [TestCase(429, false)]
    [TestCase(500, false)]
    [TestCase(503, false)]
    public void Successes_and_refusals_are_kept_while_bad_input_rate_limits_and_server_errors_release_the_key(int status, bool stored) =>
        Assert.That(IdempotencyKeys.IsStored(status), Is.EqualTo(stored));

    [Test]
    public void Member_order_and_whitespace_do_not_change_the_fingerprint_but_a_value_the_method_or_the_route_does()
    {
        static byte[] Hash(string method, string route, string json) => RequestFingerprint.Compute(method, route, Encoding.UTF8.GetBytes(json));

        var first = Hash("POST", "/runs", """{"a":1,"b":{"y":[1,2],"x":"\u00e9"}}""");
        Assert.Multiple(() =>
        {
            Assert.That(first, Has.Length.EqualTo(32));
            Assert.That(Hash("post", "/runs", """ { "b" : { "x" : "é", "y" : [ 1, 2 ] }, "a" : 1 } """), Is.EqualTo(first));
            Assert.That(Hash("POST", "/runs", """{"a":2,"b":{"y":[1,2],"x":"é"}}"""), Is.Not.EqualTo(first));
            Assert.That(Hash("POST", "/runs", """{"a":1,"b":{"y":[2,1],"x":"é"}}"""), Is.Not.EqualTo(first));
            Assert.That(Hash("PUT", "/runs", """{"a":1,"b":{"y":[1,2],"x":"é"}}"""), Is.Not.EqualTo(first));
            Assert.That(Hash("POST", "/credits", """{"a":1,"b":{"y":[1,2],"x":"é"}}"""), Is.Not.EqualTo(first));
        });
    }

    [Test]
    public void A_body_that_is_not_json_counts_by_its_bytes() => Assert.Multiple(() =>
    {
        Assert.That(RequestFingerprint.Canonical(Encoding.UTF8.GetBytes("not { json")), Is.EqualTo(Encoding.UTF8.GetBytes("not { json")));
        Assert.That(RequestFingerprint.Canonical([]), Is.Empty);
    });
}
