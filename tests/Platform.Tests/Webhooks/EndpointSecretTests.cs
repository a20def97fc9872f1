using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Platform.Engines.Webhooks;

namespace Platform.Tests.Webhooks;

/// <summary>The secret format the Standard Webhooks libraries read (whsec_ + standard base64) and its protection at rest; no database.</summary>
public sealed class EndpointSecretTests
{
    [Test]
    public void New_secrets_are_whsec_and_standard_base64_of_32_random_bytes()
    {
        var secrets = Enumerable.Range(0, 200).Select(_ => WebhookSecrets.NewSecret()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(secrets, Is.Unique);
            Assert.That(secrets, Has.All.Match("^whsec_[A-Za-z0-9+/]{43}=$"));
            Assert.That(secrets.Select(s => Convert.FromBase64String(s[6..]).Length), Has.All.EqualTo(32));
            Assert.That(secrets.Select(WebhookSecrets.IsValid), Has.All.True);
        });
    }

    [TestCase(24, true)]
    [TestCase(32, true)]
    [TestCase(64, true)]
    [TestCase(23, false)]
    [TestCase(65, false)]
    [TestCase(0, false)]
    public void A_supplied_secret_must_hold_24_to_64_bytes(int bytes, bool valid) =>
        Assert.That(WebhookSecrets.IsValid("whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes))), Is.EqualTo(valid));

    [TestCase(null)]
    [TestCase("")]
    [TestCase("whsec_")]
    [TestCase("WHSEC_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [TestCase("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [TestCase("whsec_ AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [TestCase("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_")]
    [TestCase("pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public void Malformed_secrets_are_refused(string? secret) => Assert.That(WebhookSecrets.IsValid(secret), Is.False);

    [Test]
    public void A_protected_secret_opens_only_with_the_webhook_purpose()
    {
        var provider = new EphemeralDataProtectionProvider();
        var secret = WebhookSecrets.NewSecret();
        var stored = WebhookSecrets.Protect(provider, secret);
        Assert.Multiple(() =>
        {
            Assert.That(stored, Does.Not.Contain(secret[6..]));
            Assert.That(WebhookSecrets.Unprotect(provider, stored), Is.EqualTo(secret));
            Assert.That(provider.CreateProtector(WebhookSecrets.Purpose).Unprotect(stored), Is.EqualTo(secret));
            Assert.Throws<CryptographicException>(() => provider.CreateProtector("Platform.Operators.TotpSecret.v1").Unprotect(stored));
        });
    }
}
