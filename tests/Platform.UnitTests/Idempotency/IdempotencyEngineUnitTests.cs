using Microsoft.AspNetCore.DataProtection;
using NSubstitute;
using Platform.Drivers.Idempotency;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Idempotency;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Idempotency;

namespace Platform.UnitTests.Idempotency;

/// <summary>Unit tests of the idempotency engines with faked drivers (no database).</summary>
public sealed class IdempotencyEngineUnitTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Fingerprint = new byte[32];
    private readonly Guid userId = Guid.NewGuid();
    private IDbSessionFactory sessions = null!;
    private IIdempotencyDriver driver = null!;
    private List<IDbSession> opened = null!;

    [SetUp]
    public void Fakes()
    {
        opened = [];
        sessions = Substitute.For<IDbSessionFactory>();
        sessions.OpenAsync(Arg.Any<Guid?>(), Arg.Any<Guid?>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            var session = Substitute.For<IDbSession>();
            opened.Add(session);
            return session;
        });
        driver = Substitute.For<IIdempotencyDriver>();
    }

    [Test]
    public async Task A_record_released_between_the_failed_claim_and_the_read_is_claimed_again()
    {
        var claimedRow = Record(IdempotencyState.InFlight);
        driver.TryClaimAsync(default!, default!, default!, default!, default, default, default, default, default)
            .ReturnsForAnyArgs((IdempotencyRecordSnapshot?)null, claimedRow);
        driver.FetchAsync(default!, default!, default!, default).ReturnsForAnyArgs((IdempotencyRecordSnapshot?)null);

        var claim = await Handler().Handle(new ClaimIdempotencyKey(Caller.User(userId), null, "k", Fingerprint), CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(claim.Outcome, Is.EqualTo(IdempotencyClaimOutcome.Claimed));
            Assert.That(opened, Has.Count.EqualTo(2));
            await opened[0].DidNotReceive().CommitAsync(Arg.Any<CancellationToken>());
            await opened[1].Received(1).CommitAsync(Arg.Any<CancellationToken>());
            await driver.Received(1).TryClaimAsync(opened[1], new IdempotencyScope(null, userId), "k", Fingerprint, Arg.Any<Guid>(), Now,
                Now.AddMinutes(5), Now.AddHours(24), Arg.Any<CancellationToken>());
        });
    }

    [Test]
    public async Task A_key_held_in_flight_answers_in_flight_and_commits_nothing()
    {
        driver.TryClaimAsync(default!, default!, default!, default!, default, default, default, default, default).ReturnsForAnyArgs((IdempotencyRecordSnapshot?)null);
        driver.FetchAsync(default!, default!, default!, default).ReturnsForAnyArgs(Record(IdempotencyState.InFlight));

        var claim = await Handler().Handle(new ClaimIdempotencyKey(Caller.User(userId), null, "k", Fingerprint), CancellationToken.None);

        Assert.That(claim.Outcome, Is.EqualTo(IdempotencyClaimOutcome.InFlight));
        Assert.That(claim.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)));
        await opened.Single().DidNotReceive().CommitAsync(Arg.Any<CancellationToken>());
    }

    [Test]
    public void An_api_key_of_another_tenant_gets_404_before_any_session_opens()
    {
        var caller = Caller.ApiKey(Guid.NewGuid(), Guid.NewGuid(), new HashSet<string> { "runs:write" });

        Assert.ThrowsAsync<NotFoundException>(() => Handler().Handle(new ClaimIdempotencyKey(caller, Guid.NewGuid(), "k", Fingerprint), CancellationToken.None));
        Assert.That(opened, Is.Empty);
    }

    [Test]
    public void Outside_a_tenant_only_a_signed_in_user_has_keys()
    {
        var caller = Caller.ApiKey(Guid.NewGuid(), Guid.NewGuid(), new HashSet<string> { "runs:write" });

        Assert.ThrowsAsync<UnauthorizedException>(() => Handler().Handle(new ClaimIdempotencyKey(caller, null, "k", Fingerprint), CancellationToken.None));
        Assert.That(opened, Is.Empty);
    }

    private ClaimIdempotencyKeyHandler Handler() => new(
        new IdempotencyRecords(new TenantGate(sessions, Substitute.For<ITenantDriver>()), sessions, new EphemeralDataProtectionProvider()),
        driver, new IdempotencyOptions(), new FixedClock());

    private static IdempotencyRecordSnapshot Record(IdempotencyState state) =>
        new("k", Fingerprint, state, Guid.NewGuid(), Now.AddMinutes(5), null, null, null, Now, null, Now.AddHours(24));

    private sealed class FixedClock : IClock
    {
        public DateTimeOffset UtcNow => Now;
    }
}
