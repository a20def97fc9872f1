using System.Net;
using Platform.Models.Sso;

namespace Platform.UnitTests.Sso;

/// <summary>Proves the SSRF guard of the SSO issuer (ADR 0733): the decision is the webhook guard's (public addresses only, loopback only where the
/// installation allows it), applied to an address literal at save time and to every resolved address at discovery time.</summary>
public sealed class IssuerAddressTests
{
    [TestCase("https://idp.example.com", false, true)]
    [TestCase("https://login.microsoftonline.com/tenant/v2.0", false, true)]
    [TestCase("https://8.8.8.8", false, true)]
    [TestCase("http://idp.example.com", false, false)]
    [TestCase("http://idp.example.com", true, false)]
    [TestCase("https://10.0.0.5", false, false)]
    [TestCase("https://172.16.3.4/realms/x", false, false)]
    [TestCase("https://192.168.1.10", true, false)]
    [TestCase("https://169.254.169.254/latest/meta-data", true, false)]
    [TestCase("https://169.254.10.1", false, false)]
    [TestCase("https://100.64.0.1", false, false)]
    [TestCase("https://[fe80::1]", false, false)]
    [TestCase("https://[fd00:ec2::254]", true, false)]
    [TestCase("https://[fc00::7]", false, false)]
    [TestCase("https://[::ffff:10.0.0.1]", false, false)]
    [TestCase("https://[64:ff9b::a9fe:a9fe]", false, false)]
    [TestCase("https://0.0.0.0", true, false)]
    [TestCase("https://127.0.0.1:8443", false, false)]
    [TestCase("https://localhost", false, false)]
    [TestCase("http://127.0.0.1:5000", false, false)]
    [TestCase("http://127.0.0.1:5000", true, true)]
    [TestCase("https://[::1]", true, true)]
    [TestCase("http://localhost:9000", true, true)]
    public void The_issuer_is_accepted_at_save_only_on_an_allowed_address(string issuer, bool allowLoopback, bool valid) =>
        Assert.That(SsoRules.IsValidIssuer(issuer, allowLoopback), Is.EqualTo(valid));

    [TestCase("93.184.216.34", false, true)]
    [TestCase("2606:4700::6810:85e5", false, true)]
    [TestCase("10.1.2.3", false, false)]
    [TestCase("192.168.0.1", true, false)]
    [TestCase("169.254.169.254", true, false)]
    [TestCase("fd00:ec2::254", true, false)]
    [TestCase("fe80::1", false, false)]
    [TestCase("::ffff:192.168.1.1", false, false)]
    [TestCase("2002:a00:1::", false, false)]
    [TestCase("127.0.0.1", false, false)]
    [TestCase("127.0.0.1", true, true)]
    [TestCase("::1", true, true)]
    public void A_resolved_address_is_judged_by_the_webhook_guards_decision(string address, bool allowLoopback, bool allowed)
    {
        var ip = IPAddress.Parse(address);
        Assert.That(SsoRules.IsAllowedIssuerAddress(ip, allowLoopback), Is.EqualTo(allowed));
        Assert.That(SsoRules.IsAllowedIssuerAddress(ip, allowLoopback), Is.EqualTo(Models.Webhooks.WebhookAddressPolicy.IsAllowed(ip, allowLoopback)),
            "one decision, not a second one");
    }
}
