using NSubstitute;
using Platform.Drivers.Invitations;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Engines.Email;
using Platform.Engines.Invitations;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.UnitTests.Invitations;

/// <summary>Unit tests of the invitation rules and the retry backoff, with the drivers faked.</summary>
public sealed class InvitationRulesTests
{
    private static TenantSnapshot Tenant(string plan) => new(
        Guid.NewGuid(), "T", "slug", plan, TenantStatus.Active, null, null, null, 1, 1, 1, 1, 1, 0, 0, 0,
        DateTimeOffset.UnixEpoch, "created", "{}", false, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);

    [TestCase(4, 0, true, false)]
    [TestCase(4, 1, true, true)]
    [TestCase(4, 1, false, false)]
    [TestCase(5, 0, false, true)]
    public async Task The_free_plan_seat_check_counts_members_and_optionally_pending_invitations(int members, int pending, bool countPending, bool refused)
    {
        var driver = Substitute.For<IInvitationDriver>();
        var session = Substitute.For<IDbSession>();
        var tenant = Tenant("free");
        driver.CountSeatsAsync(session, tenant.Id, null, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns((members, pending));

        Task Check() => InvitationRules.RequireSeatAsync(driver, tenant, null, countPending, DateTimeOffset.UtcNow, session, CancellationToken.None);
        if (refused)
        {
            var e = Assert.ThrowsAsync<QuotaExceededException>(Check);
            Assert.That((e!.Quota, e.Limit, e.Current), Is.EqualTo(("members", 5L, (decimal)(members + (countPending ? pending : 0)))));
        }
        else
        {
            await Check();
            await driver.Received(1).CountSeatsAsync(session, tenant.Id, null, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
        }
    }

    [Test]
    public async Task An_unlimited_plan_never_counts_seats()
    {
        var driver = Substitute.For<IInvitationDriver>();
        await InvitationRules.RequireSeatAsync(driver, Tenant("enterprise"), null, true, DateTimeOffset.UtcNow, Substitute.For<IDbSession>(), CancellationToken.None);
        await driver.DidNotReceiveWithAnyArgs().CountSeatsAsync(default!, default, default, default, default);
    }

    [Test]
    public void Only_owners_invite_owners()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ForbiddenException>(() => InvitationRules.RequireRightToInvite(TenantRole.Admin, TenantRole.Owner));
            Assert.DoesNotThrow(() => InvitationRules.RequireRightToInvite(TenantRole.Owner, TenantRole.Owner));
            Assert.DoesNotThrow(() => InvitationRules.RequireRightToInvite(TenantRole.Admin, TenantRole.Admin));
        });
    }

    [Test]
    public void The_retry_delay_doubles_per_attempt_up_to_the_cap()
    {
        var settings = new EmailOptions { RetryBaseSeconds = 30, MaxRetryDelaySeconds = 200 };
        var delays = Enumerable.Range(1, 5).Select(a => DispatchEmailsHandler.Backoff(a, settings).TotalSeconds);
        Assert.That(delays, Is.EqualTo(new[] { 30.0, 60, 120, 200, 200 }));
    }

    [Test]
    public void Tokens_carry_256_random_bits_and_hash_to_32_bytes()
    {
        var (a, hashA) = InvitationTokens.New();
        var (b, _) = InvitationTokens.New();
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.Not.EqualTo(b));
            Assert.That(a, Has.Length.EqualTo(4 + 43));
            Assert.That(hashA, Has.Length.EqualTo(32));
            Assert.That(InvitationTokens.Hash(a), Is.EqualTo(hashA));
        });
    }
}
