using System.Net;
using Platform.Drivers.Webhooks;
using Platform.Models.Webhooks;

namespace Platform.UnitTests.Webhooks;

/// <summary>Proves the SSRF decision on addresses (no network), and that the delivery client's connect step refuses before dialling when any resolved
/// address is disallowed: every case here is refused, so nothing is ever dialled.</summary>
public sealed class SsrfGuardTests
{
    [TestCase("10.0.0.1", AddressClass.Private)]
    [TestCase("172.16.5.4", AddressClass.Private)]
    [TestCase("192.168.1.1", AddressClass.Private)]
    [TestCase("169.254.169.254", AddressClass.CloudMetadata)]
    [TestCase("169.254.10.1", AddressClass.LinkLocal)]
    [TestCase("fd00:ec2::254", AddressClass.CloudMetadata)]
    [TestCase("::1", AddressClass.Loopback)]
    [TestCase("127.0.0.1", AddressClass.Loopback)]
    [TestCase("100.64.0.1", AddressClass.SharedAddressSpace)]
    [TestCase("::ffff:10.0.0.1", AddressClass.Private)]
    [TestCase("::ffff:169.254.169.254", AddressClass.CloudMetadata)]
    [TestCase("0.0.0.0", AddressClass.Unspecified)]
    [TestCase("::", AddressClass.Unspecified)]
    [TestCase("224.0.0.1", AddressClass.Multicast)]
    [TestCase("ff02::1", AddressClass.Multicast)]
    [TestCase("fe80::1", AddressClass.LinkLocal)]
    [TestCase("fc00::1", AddressClass.Private)]
    [TestCase("64:ff9b::a00:1", AddressClass.Private)]
    [TestCase("2002:a00:1::", AddressClass.Private)]
    public void A_non_public_address_is_refused_even_with_loopback_allowed_unless_it_is_loopback(string address, AddressClass expected)
    {
        var ip = IPAddress.Parse(address);
        Assert.Multiple(() =>
        {
            Assert.That(WebhookAddressPolicy.Classify(ip), Is.EqualTo(expected));
            Assert.That(WebhookAddressPolicy.IsAllowed(ip, allowLoopback: false), Is.False);
            Assert.That(WebhookAddressPolicy.IsAllowed(ip, allowLoopback: true), Is.EqualTo(expected == AddressClass.Loopback));
        });
    }

    [TestCase("93.184.216.34")]
    [TestCase("2606:2800:220:1:248:1893:25c8:1946")]
    [TestCase("8.8.8.8")]
    public void A_public_address_is_allowed(string address)
    {
        var ip = IPAddress.Parse(address);
        Assert.Multiple(() =>
        {
            Assert.That(WebhookAddressPolicy.Classify(ip), Is.EqualTo(AddressClass.Public));
            Assert.That(WebhookAddressPolicy.IsAllowed(ip, allowLoopback: false), Is.True);
        });
    }

    [Test]
    public void A_name_resolving_to_a_private_address_is_refused_before_any_connection()
    {
        var resolver = new Resolver(new() { ["internal.example.test"] = [IPAddress.Parse("10.0.0.1")] });

        var refused = Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttpDriver.ConnectAsync(resolver, allowLoopback: true, new DnsEndPoint("internal.example.test", 443), CancellationToken.None));

        Assert.That(refused!.Message, Is.EqualTo("refused: 10.0.0.1 is private"));
    }

    [Test]
    public void A_mixed_answer_is_refused_as_a_whole_so_the_public_address_is_not_dialled_either()
    {
        // Were the public address dialled, this test would open a connection off the machine: the guard must refuse first.
        var resolver = new Resolver(new() { ["mixed.example.test"] = [IPAddress.Parse("93.184.216.34"), IPAddress.Parse("169.254.169.254")] });

        var refused = Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttpDriver.ConnectAsync(resolver, allowLoopback: false, new DnsEndPoint("mixed.example.test", 443), CancellationToken.None));

        Assert.That(refused!.Message, Is.EqualTo("refused: 169.254.169.254 is cloud_metadata"));
    }

    [TestCase("10.0.0.1", "refused: 10.0.0.1 is private")]
    [TestCase("[::1]", "refused: ::1 is loopback")]
    [TestCase("169.254.169.254", "refused: 169.254.169.254 is cloud_metadata")]
    public void A_literal_address_is_judged_without_resolving(string host, string message)
    {
        var resolver = new Resolver([]);

        var refused = Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttpDriver.ConnectAsync(resolver, allowLoopback: false, new DnsEndPoint(host, 80), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Message, Is.EqualTo(message));
            Assert.That(resolver.Lookups, Is.Zero);
        });
    }

    private sealed class Resolver(Dictionary<string, IPAddress[]> answers) : IWebhookResolver
    {
        public int Lookups { get; private set; }

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            Lookups++;
            return Task.FromResult(answers[host]);
        }
    }
}
