using Platform.Models.Domains;

namespace Platform.UnitTests.Domains;

/// <summary>Checks the custom domain lifecycle (ADR 0631) pair by pair, and the normalisation of domain names.</summary>
public sealed class DomainLifecycleTests
{
    [TestCase(DomainStatus.Pending, DomainCheck.Found, DomainStatus.Verified)]
    [TestCase(DomainStatus.Pending, DomainCheck.Missing, DomainStatus.Failed)]
    [TestCase(DomainStatus.Pending, DomainCheck.MissingPastGrace, DomainStatus.Failed)]
    [TestCase(DomainStatus.Pending, DomainCheck.Unanswered, DomainStatus.Pending)]
    [TestCase(DomainStatus.Verified, DomainCheck.Found, DomainStatus.Verified)]
    [TestCase(DomainStatus.Verified, DomainCheck.Missing, DomainStatus.Verified)]
    [TestCase(DomainStatus.Verified, DomainCheck.MissingPastGrace, DomainStatus.Pending)]
    [TestCase(DomainStatus.Verified, DomainCheck.Unanswered, DomainStatus.Verified)]
    [TestCase(DomainStatus.Failed, DomainCheck.Found, DomainStatus.Verified)]
    [TestCase(DomainStatus.Failed, DomainCheck.Missing, DomainStatus.Failed)]
    [TestCase(DomainStatus.Failed, DomainCheck.MissingPastGrace, DomainStatus.Failed)]
    [TestCase(DomainStatus.Failed, DomainCheck.Unanswered, DomainStatus.Failed)]
    public void Each_status_and_check_gives_one_next_status(DomainStatus status, DomainCheck check, DomainStatus next) =>
        Assert.That(DomainLifecycle.Next(status, check), Is.EqualTo(next));

    [TestCase("Shop.Example.COM.", "shop.example.com")]
    [TestCase("bücher.example", "xn--bcher-kva.example")]
    [TestCase("BÜCHER.example", "xn--bcher-kva.example")]
    [TestCase("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [TestCase("  a-b.c1.example.org ", "a-b.c1.example.org")]
    public void Names_are_normalised(string input, string expected) =>
        Assert.That(DomainNames.Normalise(input, out _), Is.EqualTo(expected));

    [TestCase(null)]
    [TestCase("")]
    [TestCase("*.example.com")]
    [TestCase("192.0.2.1")]
    [TestCase("::1")]
    [TestCase("[2001:db8::1]")]
    [TestCase("localhost")]
    [TestCase("a..example.com")]
    [TestCase("-a.example.com")]
    [TestCase("a-.example.com")]
    [TestCase("under_score.example.com")]
    [TestCase("example.123")]
    [TestCase("tab\t.example.com")]
    public void Bad_names_are_refused_with_a_reason(string? input)
    {
        Assert.That(DomainNames.Normalise(input, out var problem), Is.Null);
        Assert.That(problem, Is.Not.Null.And.Not.Empty);
    }

    [Test]
    public void A_name_longer_than_253_characters_or_a_label_longer_than_63_is_refused()
    {
        Assert.That(DomainNames.Normalise(new string('a', 64) + ".example.com", out _), Is.Null);
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".com";
        Assert.That(longName.Length, Is.GreaterThan(253));
        Assert.That(DomainNames.Normalise(longName, out _), Is.Null);
    }
}
