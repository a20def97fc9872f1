using Microsoft.AspNetCore.DataProtection;
using NSubstitute;
using OtpNet;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Operators;
using Platform.Engines.Throttles;
using Platform.Drivers.Throttles;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.UnitTests.Operators;

/// <summary>Unit tests of the operator engines with faked drivers (no database).</summary>
public sealed class OperatorEngineUnitTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void A_locked_operator_is_refused_before_the_password_is_checked()
    {
        var sessions = Substitute.For<IDbSessionFactory>();
        sessions.OpenAsync(null, null, Arg.Any<CancellationToken>()).Returns(Substitute.For<IDbSession>());
        var operators = Substitute.For<IOperatorDriver>();
        var op = new OperatorSnapshot(Guid.NewGuid(), "a@b.test", "A", OperatorRole.Support, false, OperatorStatus.Active, 5, Now.AddMinutes(10), null, null, Now);
        operators.FetchCredentialsByEmailAsync(Arg.Any<IDbSession>(), "a@b.test", Arg.Any<CancellationToken>())
            .Returns(new OperatorCredentials(op, "hash", null));
        operators.ReserveLoginAttemptAsync(Arg.Any<IDbSession>(), op.Id, LogInOperator.MaxFailures, Now, Now.AddMinutes(LogInOperator.LockMinutes), Arg.Any<CancellationToken>())
            .Returns(new LoginAttempt(false, 5, Now.AddMinutes(10)));
        var hasher = Substitute.For<IPasswordHasher>();
        var handler = new LogInOperatorHandler(sessions, operators, hasher, Totp(), Throttle(Admitting()), new Platform.Engines.Throttles.AuthThrottleOptions(), Clock());

        var e = Assert.ThrowsAsync<QuotaExceededException>(() => handler.Handle(new LogInOperator("a@b.test", "right password", null, null), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Code, Is.EqualTo("rate_limited"));
            Assert.That(e.ResetsAt, Is.EqualTo(Now.AddMinutes(10)));
            hasher.DidNotReceiveWithAnyArgs().VerifyAsync(default!, default!, default);
            operators.DidNotReceiveWithAnyArgs().RecordSuccessfulLoginAsync(default!, default, default, default, default);
        });
    }

    [Test]
    public void An_ip_over_its_login_limit_is_refused_before_the_operator_is_looked_up()
    {
        var sessions = Substitute.For<IDbSessionFactory>();
        sessions.OpenAsync(null, null, Arg.Any<CancellationToken>()).Returns(Substitute.For<IDbSession>());
        var operators = Substitute.For<IOperatorDriver>();
        var throttles = Substitute.For<IThrottleDriver>();
        throttles.TryCountAttemptAsync(Arg.Any<IDbSession>(), "operator_login_ip", "203.0.113.5", Now, Now.AddMinutes(1), 3, Arg.Any<CancellationToken>()).Returns((int?)null);
        var handler = new LogInOperatorHandler(sessions, operators, Substitute.For<IPasswordHasher>(), Totp(), Throttle(throttles),
            new Platform.Engines.Throttles.AuthThrottleOptions { OperatorLoginsPerMinutePerIp = 3 }, Clock());

        var e = Assert.ThrowsAsync<QuotaExceededException>(() => handler.Handle(new LogInOperator("a@b.test", "pw", null, "203.0.113.5"), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Code, Is.EqualTo("rate_limited"));
            Assert.That(e.ResetsAt, Is.EqualTo(Now.AddMinutes(1)));
            operators.DidNotReceiveWithAnyArgs().FetchCredentialsByEmailAsync(default!, default!, default);
        });
    }

    [Test]
    public void The_operator_gate_refuses_non_operators_and_lower_roles()
    {
        var support = Caller.Operator(Guid.NewGuid(), "support");

        Assert.Multiple(() =>
        {
            Assert.That(OperatorGate.Require(support, OperatorRole.Support), Is.EqualTo(OperatorRole.Support));
            Assert.Throws<ForbiddenException>(() => OperatorGate.Require(support, OperatorRole.SuperAdmin));
            Assert.Throws<ForbiddenException>(() => OperatorGate.Require(Caller.User(Guid.NewGuid()), OperatorRole.Viewer));
            Assert.Throws<ForbiddenException>(() => OperatorGate.Require(Caller.System, OperatorRole.Viewer));
            Assert.Throws<ForbiddenException>(() => OperatorGate.Require(Caller.Operator(Guid.NewGuid(), "root"), OperatorRole.Viewer));
        });
    }

    [Test]
    public void Totp_secrets_are_stored_encrypted_and_accept_only_codes_within_one_step()
    {
        var totp = Totp();
        var secret = TotpSecrets.NewSecret();
        var stored = totp.Protect(secret);
        var generator = new Totp(Base32Encoding.ToBytes(secret));

        Assert.Multiple(() =>
        {
            Assert.That(stored, Does.Not.Contain(secret));
            Assert.That(totp.Verify(stored, generator.ComputeTotp(Now.UtcDateTime)), Is.True);
            Assert.That(totp.Verify(stored, generator.ComputeTotp(Now.UtcDateTime.AddSeconds(-30))), Is.True);
            Assert.That(totp.Verify(stored, generator.ComputeTotp(Now.UtcDateTime.AddSeconds(-90))), Is.False);
            Assert.That(totp.Verify(stored, "12345"), Is.False);
            Assert.That(totp.Verify(stored, null), Is.False);
        });
    }

    [Test]
    public void Reversal_of_an_already_reversed_action_is_refused_before_any_write()
    {
        var sessions = Substitute.For<IDbSessionFactory>();
        sessions.OpenAsync(null, null, Arg.Any<CancellationToken>()).Returns(Substitute.For<IDbSession>());
        var actions = Substitute.For<IFounderActionDriver>();
        var original = new FounderActionSnapshot(Guid.NewGuid(), FounderActionTypes.SuspendTenant, "tenant", Guid.NewGuid().ToString(), Guid.NewGuid(),
            "abuse", null, Guid.NewGuid(), true, true, null, Guid.NewGuid(), "{}", Now);
        actions.FetchAsync(Arg.Any<IDbSession>(), original.Id, Arg.Any<CancellationToken>()).Returns(original);
        var type = Substitute.For<IFounderActionType>();
        type.Name.Returns(FounderActionTypes.SuspendTenant);
        var handler = new ReverseFounderActionHandler(sessions, null!, actions, new FounderActionLog(actions, Clock()), [type]);

        var e = Assert.ThrowsAsync<ConflictException>(() =>
            handler.Handle(new ReverseFounderAction(Caller.Operator(Guid.NewGuid(), "super_admin"), original.Id, "oops", null), CancellationToken.None));

        Assert.That(e!.Code, Is.EqualTo("action_already_reversed"));
        actions.DidNotReceiveWithAnyArgs().TryAppendAsync(default!, default!, default);
    }

    private static AuthThrottle Throttle(IThrottleDriver driver) => new(driver, Clock());

    private static IThrottleDriver Admitting()
    {
        var driver = Substitute.For<IThrottleDriver>();
        driver.TryCountAttemptAsync(default!, default!, default!, default, default, default, default).ReturnsForAnyArgs(1);
        return driver;
    }

    private static TotpSecrets Totp() => new(new EphemeralDataProtectionProvider(), Clock());

    private static IClock Clock()
    {
        var clock = Substitute.For<IClock>();
        clock.UtcNow.Returns(Now);
        return clock;
    }
}
