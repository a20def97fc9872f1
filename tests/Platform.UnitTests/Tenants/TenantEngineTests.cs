using NSubstitute;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Audit;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Drivers.Webhooks;
using Platform.Engines.ApiKeys;
using Platform.Engines.Audit;
using Platform.Engines.Members;
using Platform.Engines.Sessions;
using Platform.Engines.Tenants;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Audit;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.UnitTests.Tenants;

/// <summary>Unit tests of the tenant engine's rules with NSubstitute fakes of its drivers: no database.</summary>
public sealed class TenantEngineTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly Guid userId = Guid.NewGuid();
    private IDbSessionFactory sessions = null!;
    private IDbSession session = null!;
    private ITenantDriver tenants = null!;
    private IMemberDriver members = null!;
    private IAuditDriver auditDriver = null!;
    private AuditTrail audit = null!;
    private IClock clock = null!;
    private IApiKeyDriver apiKeys = null!;

    private KeyCustody Custody() => new(apiKeys, new ApiKeyCache(clock), audit, Events(), clock);

    private WebhookEvents Events() => new(Substitute.For<IWebhookEventDriver>(), new WebhooksOptions(), clock);

    [SetUp]
    public void Fakes()
    {
        session = Substitute.For<IDbSession>();
        sessions = Substitute.For<IDbSessionFactory>();
        sessions.OpenAsync(Arg.Any<Guid?>(), Arg.Any<Guid?>(), Arg.Any<CancellationToken>()).Returns(session);
        sessions.OpenScopePendingAsync(Arg.Any<Guid>(), Arg.Any<Guid?>(), Arg.Any<CancellationToken>()).Returns(session);
        tenants = Substitute.For<ITenantDriver>();
        members = Substitute.For<IMemberDriver>();
        auditDriver = Substitute.For<IAuditDriver>();
        clock = Substitute.For<IClock>();
        clock.UtcNow.Returns(Now);
        audit = new AuditTrail(auditDriver, clock);
        apiKeys = Substitute.For<IApiKeyDriver>();
    }

    [TearDown]
    public ValueTask DisposeSession() => session.DisposeAsync();

    /// <summary>Gives a user driver that finds the caller as an active user, as CreateTenant checks before it writes.</summary>
    private IUserDriver ActiveUser()
    {
        var users = Substitute.For<IUserDriver>();
        users.FetchUserAsync(Arg.Any<IDbSession>(), userId, Arg.Any<CancellationToken>())
            .Returns(new UserSnapshot(userId, "u@example.test", "U", UserStatus.Active, null, null, "{}", null, Now, Now));
        return users;
    }

    /// <summary>Gives the create handler with a fair-use ledger that is empty (no tenants owned, no trial taken) and a limiter that counts.</summary>
    private CreateTenantHandler CreateHandler()
    {
        var fairUse = Substitute.For<IFairUseDriver>();
        var throttles = Substitute.For<Platform.Drivers.Throttles.IThrottleDriver>();
        throttles.TryCountAttemptAsync(default!, default!, default!, default, default, default, default).ReturnsForAnyArgs(1);
        return new CreateTenantHandler(sessions, tenants, ActiveUser(), fairUse, new Platform.Engines.Throttles.AuthThrottle(throttles, clock),
            new FairUseOptions(), audit, clock);
    }

    [Test]
    public async Task Create_makes_the_caller_owner_writes_an_audit_row_and_commits_once()
    {
        tenants.TryClaimSlugAsync(session, "acme", Arg.Any<Guid>(), Arg.Any<CancellationToken>()).Returns(true);
        tenants.InsertTenantAsync(session, Arg.Any<NewTenant>(), Arg.Any<CancellationToken>())
            .Returns(call => Tenant(call.Arg<NewTenant>().Id, call.Arg<NewTenant>().Status, call.Arg<NewTenant>().TrialEndsAt));
        var handler = CreateHandler();

        var created = await handler.Handle(new CreateTenant(Caller.User(userId), "Acme", "acme", null, null), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(created.Role, Is.EqualTo(TenantRole.Owner));
            Assert.That(created.Tenant.Status, Is.EqualTo(TenantStatus.Trial));
            Assert.That(created.Tenant.TrialEndsAt, Is.EqualTo(Now.AddDays(14)));
        });
        await tenants.Received(1).InsertMembershipAsync(session, created.Tenant.Id, userId, TenantRole.Owner, Now, Arg.Any<CancellationToken>());
        await auditDriver.Received(1).AppendAsync(session, Arg.Is<AuditRecord>(r => r.Action == "tenant.created" && r.ActorId == userId), Arg.Any<CancellationToken>());
        await session.Received(1).CommitAsync(Arg.Any<CancellationToken>());
        await sessions.Received(1).OpenAsync(created.Tenant.Id, userId, Arg.Any<CancellationToken>());
    }

    [Test]
    public async Task Create_with_a_taken_slug_is_a_conflict_and_writes_nothing()
    {
        tenants.TryClaimSlugAsync(session, "taken", Arg.Any<Guid>(), Arg.Any<CancellationToken>()).Returns(false);
        var handler = CreateHandler();

        var error = Assert.ThrowsAsync<ConflictException>(() => handler.Handle(new CreateTenant(Caller.User(userId), "X", "taken", null, null), CancellationToken.None));

        Assert.That(error!.Code, Is.EqualTo("slug_taken"));
        await tenants.DidNotReceiveWithAnyArgs().InsertTenantAsync(default!, default!, default);
        await tenants.DidNotReceiveWithAnyArgs().InsertMembershipAsync(default!, default, default, default, default, default);
        await session.DidNotReceiveWithAnyArgs().CommitAsync(default);
        await session.Received(1).DisposeAsync();
    }

    [Test]
    public async Task Create_on_the_free_plan_starts_active()
    {
        tenants.TryClaimSlugAsync(session, "free-co", Arg.Any<Guid>(), Arg.Any<CancellationToken>()).Returns(true);
        tenants.InsertTenantAsync(session, Arg.Any<NewTenant>(), Arg.Any<CancellationToken>())
            .Returns(call => Tenant(call.Arg<NewTenant>().Id, call.Arg<NewTenant>().Status, null));
        var handler = CreateHandler();

        var created = await handler.Handle(new CreateTenant(Caller.User(userId), "Free", "free-co", "free", null), CancellationToken.None);

        Assert.That(created.Tenant.Status, Is.EqualTo(TenantStatus.Active));
    }

    [Test]
    public void Get_by_a_non_member_is_not_found()
    {
        var tenantId = Guid.NewGuid();
        tenants.FetchAccessAsync(session, tenantId, userId, Arg.Any<CancellationToken>()).Returns((TenantMembershipSnapshot?)null);
        var handler = new GetTenantHandler(new TenantGate(sessions, tenants));

        Assert.ThrowsAsync<NotFoundException>(() => handler.Handle(new GetTenant(Caller.User(userId), tenantId), CancellationToken.None));
    }

    [Test]
    public async Task Update_by_a_viewer_is_forbidden_and_touches_nothing()
    {
        var tenantId = Guid.NewGuid();
        tenants.FetchAccessAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new TenantMembershipSnapshot(Tenant(tenantId, TenantStatus.Active, null), TenantRole.Viewer));
        var handler = new UpdateTenantHandler(new TenantGate(sessions, tenants), tenants, audit, clock);

        Assert.ThrowsAsync<ForbiddenException>(() => handler.Handle(
            new UpdateTenant(Caller.User(userId), tenantId, new TenantChanges("New", null, null, null)), CancellationToken.None));
        await tenants.DidNotReceiveWithAnyArgs().UpdateTenantAsync(default!, default, default!, default, default);
        await session.DidNotReceiveWithAnyArgs().CommitAsync(default);
    }

    [Test]
    public void Update_of_a_suspended_tenant_is_refused_even_for_its_owner()
    {
        var tenantId = Guid.NewGuid();
        tenants.FetchAccessAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new TenantMembershipSnapshot(Tenant(tenantId, TenantStatus.Suspended, null), TenantRole.Owner));
        var handler = new UpdateTenantHandler(new TenantGate(sessions, tenants), tenants, audit, clock);

        Assert.ThrowsAsync<TenantSuspendedException>(() => handler.Handle(
            new UpdateTenant(Caller.User(userId), tenantId, new TenantChanges("New", null, null, null)), CancellationToken.None));
    }

    [Test]
    public async Task Demoting_the_last_owner_is_a_conflict_and_changes_nothing()
    {
        var tenantId = Guid.NewGuid();
        tenants.FetchAccessAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new TenantMembershipSnapshot(Tenant(tenantId, TenantStatus.Active, null), TenantRole.Owner));
        members.FetchMemberAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new MemberSnapshot(tenantId, userId, "o@example.test", "O", TenantRole.Owner, Now, Now));
        members.CountOwnersAsync(session, tenantId, Arg.Any<CancellationToken>()).Returns(1);
        var handler = new ChangeMemberRoleHandler(new TenantGate(sessions, tenants), tenants, members, Custody(), audit, Events(), clock);

        var error = Assert.ThrowsAsync<ConflictException>(() => handler.Handle(
            new ChangeMemberRole(Caller.User(userId), tenantId, userId, TenantRole.Admin), CancellationToken.None));

        Assert.That(error!.Code, Is.EqualTo("last_owner"));
        await tenants.Received(1).LockTenantAsync(session, tenantId, Arg.Any<CancellationToken>());
        await members.DidNotReceiveWithAnyArgs().UpdateMemberRoleAsync(default!, default, default, default, default, default);
        await session.DidNotReceiveWithAnyArgs().CommitAsync(default);
    }

    [Test]
    public void An_admin_cannot_make_an_owner()
    {
        var tenantId = Guid.NewGuid();
        var target = Guid.NewGuid();
        tenants.FetchAccessAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new TenantMembershipSnapshot(Tenant(tenantId, TenantStatus.Active, null), TenantRole.Admin));
        members.FetchMemberAsync(session, tenantId, userId, Arg.Any<CancellationToken>())
            .Returns(new MemberSnapshot(tenantId, userId, "a@example.test", "A", TenantRole.Admin, Now, Now));
        members.FetchMemberAsync(session, tenantId, target, Arg.Any<CancellationToken>())
            .Returns(new MemberSnapshot(tenantId, target, "m@example.test", "M", TenantRole.Member, Now, Now));
        var handler = new ChangeMemberRoleHandler(new TenantGate(sessions, tenants), tenants, members, Custody(), audit, Events(), clock);

        Assert.ThrowsAsync<ForbiddenException>(() => handler.Handle(
            new ChangeMemberRole(Caller.User(userId), tenantId, target, TenantRole.Owner), CancellationToken.None));
    }

    [Test]
    public void A_key_of_another_tenant_is_not_found_before_any_session_opens()
    {
        var gate = new TenantGate(sessions, tenants);
        var key = Caller.ApiKey(Guid.NewGuid(), Guid.NewGuid(), new HashSet<string> { "runs:read" });

        Assert.ThrowsAsync<NotFoundException>(() => gate.EnterAsync(Guid.NewGuid(), key, TenantRole.Viewer, Access.Read, CancellationToken.None, "runs:read"));
        sessions.DidNotReceiveWithAnyArgs().OpenAsync(default, default, default);
        _ = sessions.DidNotReceiveWithAnyArgs().OpenScopePendingAsync(default, default, default);
    }

    private static TenantSnapshot Tenant(Guid id, TenantStatus status, DateTimeOffset? trialEndsAt) => new(
        id, "Acme", "acme", "professional", status, trialEndsAt, null, null, 20, 10_000, 20, 10_000_000, 20,
        0, 0, 0, Now, "created", "{}", false, Now, Now, null);
}
