using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MediatR;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Sessions;
using Platform.Engines.Billing;
using Platform.Engines.Credits;
using Platform.Engines.Members;
using Platform.Engines.Tenants;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Webhooks;

/// <summary>Proves that each change Platform reports writes its event in its own transaction: the event and one delivery per subscribed, enabled endpoint,
/// nothing when the change does not commit, nothing when no endpoint subscribes; and that each event's data is what the catalogue says.</summary>
public sealed class EventEmissionTests
{
    // Loopback's discard port: whatever the dispatcher does with these deliveries, it never leaves the machine (and is refused outside the embedded default).
    private const string Url = "https://127.0.0.1:9/hooks";

    private static IMediator Mediator(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<IMediator>();

    /// <summary>Inserts an endpoint as the schema owner inside the tenant's scope; eventTypes null subscribes to every type.</summary>
    internal static async Task<Guid> AddEndpointAsync(Guid tenantId, string[]? eventTypes, bool enabled = true)
    {
        var id = Guid.CreateVersion7();
        var secret = TestApi.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Platform.Webhooks.Secret.v1")
            .Protect("whsec_" + Convert.ToBase64String(new byte[32]));
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync(
            """
            INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, enabled, secret, created_at, updated_at)
            VALUES (@t, @id, @url, @types, @enabled, @secret, now(), now())
            """,
            ("t", tenantId), ("id", id), ("url", Url), ("types", (object?)eventTypes ?? DBNull.Value), ("enabled", enabled), ("secret", secret));
        await scope.CommitAsync();
        return id;
    }

    /// <summary>Reads the tenant's events of a type, oldest first, as their stored bodies.</summary>
    private static async Task<List<JsonNode>> EventsAsync(Guid tenantId, string type)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await using var command = scope.Command("SELECT payload::text FROM webhook_events WHERE tenant_id = @t AND type = @type ORDER BY created_at, id",
            ("t", tenantId), ("type", type));
        var bodies = new List<JsonNode>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                bodies.Add(JsonNode.Parse(reader.GetString(0))!);
            }
        }
        await scope.CommitAsync();
        return bodies;
    }

    /// <summary>Counts the pending deliveries of the tenant's events of a type to one endpoint.</summary>
    private static Task<long> DeliveriesAsync(Guid tenantId, Guid endpointId, string type) =>
        RunCalls.ScalarAsync(tenantId,
            """
            SELECT count(*) FROM outbox_messages o JOIN webhook_events e ON e.tenant_id = o.tenant_id AND e.id = o.event_id
            WHERE o.tenant_id = @t AND o.kind = 'webhook' AND o.endpoint_id = @endpoint AND e.type = @type
            """, ("endpoint", endpointId), ("type", type));

    private static Task<long> AllEventsAsync(Guid tenantId) => RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM webhook_events WHERE tenant_id = @t");

    [Test]
    public async Task A_completed_run_is_delivered_to_each_endpoint_that_subscribes_to_it_and_to_no_other()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var all = await AddEndpointAsync(tenantId, null);
        var failuresOnly = await AddEndpointAsync(tenantId, [WebhookEventTypes.RunFailed]);
        var disabled = await AddEndpointAsync(tenantId, null, enabled: false);
        var client = TestApi.Client(owner.Token);

        var ok = await RunCalls.CreateRunAsync(client, tenantId);
        using (var completed = await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)ok["id"]!), tokens: 321))
        {
            await TestApi.ExpectAsync(completed, HttpStatusCode.OK);
        }
        var bad = await RunCalls.CreateRunAsync(client, tenantId);
        using (var failed = await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)bad["id"]!), success: false))
        {
            await TestApi.ExpectAsync(failed, HttpStatusCode.OK);
        }

        var completedEvents = await EventsAsync(tenantId, WebhookEventTypes.RunCompleted);
        Assert.That(completedEvents, Has.Count.EqualTo(1));
        var body = completedEvents[0];
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["type"], Is.EqualTo("run.completed"));
            Assert.That(DateTimeOffset.TryParse((string?)body["timestamp"], out _), Is.True);
            Assert.That((string?)body["data"]!["run_id"], Is.EqualTo((string)ok["id"]!));
            Assert.That((string?)body["data"]!["status"], Is.EqualTo("succeeded"));
            Assert.That((long?)body["data"]!["total_tokens"], Is.EqualTo(321));
            Assert.That((string?)body["data"]!["worker_id"], Is.EqualTo("summarizer"));
        });
        Assert.That(await DeliveriesAsync(tenantId, all, WebhookEventTypes.RunCompleted), Is.EqualTo(1));
        Assert.That(await DeliveriesAsync(tenantId, failuresOnly, WebhookEventTypes.RunCompleted), Is.Zero);
        Assert.That(await DeliveriesAsync(tenantId, all, WebhookEventTypes.RunFailed), Is.EqualTo(1));
        Assert.That(await DeliveriesAsync(tenantId, failuresOnly, WebhookEventTypes.RunFailed), Is.EqualTo(1));
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND endpoint_id = @e", ("e", disabled)), Is.Zero);
    }

    [Test]
    public async Task A_tenant_without_endpoints_writes_no_event()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var client = TestApi.Client(owner.Token);
        var run = await RunCalls.CreateRunAsync(client, tenantId);
        using var completed = await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!));
        await TestApi.ExpectAsync(completed, HttpStatusCode.OK);

        Assert.That(await AllEventsAsync(tenantId), Is.Zero);
    }

    [Test]
    public async Task An_event_exists_only_if_its_transaction_commits()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var endpoint = await AddEndpointAsync(tenantId, null);
        var sessions = TestApi.Services.GetRequiredService<IDbSessionFactory>();
        var events = TestApi.Services.GetRequiredService<WebhookEvents>();

        await using (var rolledBack = await sessions.OpenAsync(tenantId, owner.Id, CancellationToken.None))
        {
            Assert.That(await events.EmitAsync(rolledBack, tenantId, WebhookEventTypes.CreditsLow, new CreditsLowEventData(3, 10), CancellationToken.None), Is.EqualTo(1));
        }
        Assert.That(await AllEventsAsync(tenantId), Is.Zero);

        await using (var committed = await sessions.OpenAsync(tenantId, owner.Id, CancellationToken.None))
        {
            await events.EmitAsync(committed, tenantId, WebhookEventTypes.CreditsLow, new CreditsLowEventData(3, 10), CancellationToken.None);
            await committed.CommitAsync(CancellationToken.None);
        }
        Assert.That(await DeliveriesAsync(tenantId, endpoint, WebhookEventTypes.CreditsLow), Is.EqualTo(1));
    }

    [Test]
    public void The_emitter_refuses_a_type_outside_the_catalogue_and_data_of_another_type()
    {
        var events = TestApi.Services.GetRequiredService<WebhookEvents>();
        Assert.Throws<ArgumentException>(() => events.Create(Guid.NewGuid(), "run.exploded", new CreditsLowEventData(1, 2)));
        Assert.Throws<ArgumentException>(() => events.Create(Guid.NewGuid(), WebhookEventTypes.RunCompleted, new CreditsLowEventData(1, 2)));
    }

    [Test]
    public async Task Role_changes_and_removals_are_reported_with_the_member_and_the_former_role()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, null);
        var member = await TestApi.MemberAsync(tenantId, "member");
        var leaver = await TestApi.MemberAsync(tenantId, "viewer");
        using var scope = TestApi.Services.CreateScope();

        await Mediator(scope).Send(new ChangeMemberRole(Caller.User(owner.Id), tenantId, member.Id, TenantRole.Admin));
        await Mediator(scope).Send(new RemoveMember(Caller.User(owner.Id), tenantId, member.Id));
        await Mediator(scope).Send(new RemoveMember(Caller.User(leaver.Id), tenantId, leaver.Id));

        var changed = (await EventsAsync(tenantId, WebhookEventTypes.MemberRoleChanged)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)changed["user_id"], Is.EqualTo(member.Id.ToString()));
            Assert.That((string?)changed["email"], Is.EqualTo(member.Email));
            Assert.That((string?)changed["role"], Is.EqualTo("admin"));
            Assert.That((string?)changed["previous_role"], Is.EqualTo("member"));
        });
        var removed = (await EventsAsync(tenantId, WebhookEventTypes.MemberRemoved)).Select(e => e["data"]!).ToList();
        Assert.That(removed.Select(d => ((string?)d["user_id"], (string?)d["reason"], (string?)d["role"])),
            Is.EqualTo(new[] { (member.Id.ToString(), "removed", "admin"), (leaver.Id.ToString(), "left", "viewer") }));
    }

    [Test]
    public async Task An_accepted_invitation_reports_the_acceptance_and_the_new_member()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, [WebhookEventTypes.InvitationAccepted, WebhookEventTypes.MemberAdded]);
        var invitee = await TestApi.SignUpAsync("Ada");
        var issued = await Invitations.InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email, "admin");
        using var accepted = await Invitations.InvitationApiTests.AcceptAsync(invitee, (string)issued["token"]!);
        Assert.That(accepted.IsSuccessStatusCode, Is.True, await accepted.Content.ReadAsStringAsync());

        var invitation = (await EventsAsync(tenantId, WebhookEventTypes.InvitationAccepted)).Single()["data"]!;
        var added = (await EventsAsync(tenantId, WebhookEventTypes.MemberAdded)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)invitation["invitation_id"], Is.EqualTo((string)issued["invitation"]!["id"]!));
            Assert.That((string?)invitation["user_id"], Is.EqualTo(invitee.Id.ToString()));
            Assert.That((string?)invitation["role"], Is.EqualTo("admin"));
            Assert.That((string?)added["user_id"], Is.EqualTo(invitee.Id.ToString()));
            Assert.That((string?)added["name"], Is.EqualTo("Ada"));
            Assert.That((string?)added["role"], Is.EqualTo("admin"));
        });
    }

    [Test]
    public async Task Api_keys_created_and_revoked_are_reported_without_their_secret()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, [WebhookEventTypes.ApiKeyCreated, WebhookEventTypes.ApiKeyRevoked]);
        var client = TestApi.Client(owner.Token);
        using var created = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "deploys", permissions = new[] { "runs:read" } });
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var key = await TestApi.ReadAsync(created);
        using var revoked = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/tenants/{tenantId}/api-keys/{(string)key["id"]!}")
        {
            Content = JsonContent.Create(new { reason = "rotated" }),
        });
        Assert.That(revoked.IsSuccessStatusCode, Is.True, await revoked.Content.ReadAsStringAsync());

        var createdEvent = (await EventsAsync(tenantId, WebhookEventTypes.ApiKeyCreated)).Single();
        var revokedEvent = (await EventsAsync(tenantId, WebhookEventTypes.ApiKeyRevoked)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)createdEvent["data"]!["api_key_id"], Is.EqualTo((string)key["id"]!));
            Assert.That((string?)createdEvent["data"]!["name"], Is.EqualTo("deploys"));
            Assert.That(createdEvent.ToJsonString(), Does.Not.Contain((string)key["key"]!));
            Assert.That((string?)revokedEvent["api_key_id"], Is.EqualTo((string)key["id"]!));
            Assert.That((string?)revokedEvent["reason"], Is.EqualTo("rotated"));
        });
    }

    [Test]
    public async Task Suspension_and_its_lifting_are_reported_once_each()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, null);
        using var scope = TestApi.Services.CreateScope();

        await Mediator(scope).Send(new SuspendTenant(Caller.System, tenantId, "abuse report 42"));
        await Mediator(scope).Send(new UnsuspendTenant(Caller.System, tenantId));

        var suspended = (await EventsAsync(tenantId, WebhookEventTypes.TenantSuspended)).Single()["data"]!;
        var lifted = (await EventsAsync(tenantId, WebhookEventTypes.TenantUnsuspended)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)suspended["status"], Is.EqualTo("suspended"));
            Assert.That((string?)suspended["previous_status"], Is.EqualTo("trial"));
            Assert.That((string?)suspended["reason"], Is.EqualTo("abuse report 42"));
            Assert.That((string?)lifted["status"], Is.EqualTo("trial"));
            Assert.That((string?)lifted["reason"], Is.EqualTo("abuse report 42"));
        });
    }

    [Test]
    public async Task Subscribing_and_canceling_report_the_subscription()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, [WebhookEventTypes.SubscriptionUpdated, WebhookEventTypes.SubscriptionCanceled]);
        using var scope = TestApi.Services.CreateScope();

        var subscription = (await Mediator(scope).Send(new SubscribeTenant(Caller.User(owner.Id), tenantId, "professional", "monthly", null))).Subscription;
        await Mediator(scope).Send(new CancelSubscription(Caller.User(owner.Id), tenantId, AtPeriodEnd: true));
        await Mediator(scope).Send(new CancelSubscription(Caller.User(owner.Id), tenantId, AtPeriodEnd: false));

        var updates = (await EventsAsync(tenantId, WebhookEventTypes.SubscriptionUpdated)).Select(e => e["data"]!).ToList();
        var canceled = (await EventsAsync(tenantId, WebhookEventTypes.SubscriptionCanceled)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That(updates.Select(u => ((string?)u["plan"], (string?)u["status"], (bool?)u["cancel_at_period_end"])),
                Is.EqualTo(new[] { ("professional", "active", (bool?)false), ("professional", "active", (bool?)true) }));
            Assert.That((string?)updates[0]["subscription_id"], Is.EqualTo(subscription.Id.ToString()));
            Assert.That((string?)canceled["status"], Is.EqualTo("canceled"));
        });
    }

    [Test]
    public async Task The_debit_that_takes_the_balance_to_the_threshold_reports_low_credits_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        await AddEndpointAsync(tenantId, [WebhookEventTypes.CreditsLow]);
        using var scope = TestApi.Services.CreateScope();
        var threshold = scope.ServiceProvider.GetRequiredService<WebhooksOptions>().CreditsLowThreshold;
        // The starter plan grants 50 credits a month: spend down to just above the threshold, then across it, then below it.
        await Mediator(scope).Send(new DebitCredits(Caller.User(owner.Id), tenantId, 50 - threshold - 1, "a"));
        Assert.That(await EventsAsync(tenantId, WebhookEventTypes.CreditsLow), Is.Empty);
        await Mediator(scope).Send(new DebitCredits(Caller.User(owner.Id), tenantId, 1, "b"));
        await Mediator(scope).Send(new DebitCredits(Caller.User(owner.Id), tenantId, 1, "c"));

        var low = (await EventsAsync(tenantId, WebhookEventTypes.CreditsLow)).Single()["data"]!;
        Assert.That(((long?)low["balance"], (long?)low["threshold"]), Is.EqualTo(((long?)threshold, (long?)threshold)));
    }

    [Test]
    public async Task Crossing_a_usage_threshold_is_reported_once_with_the_meter_and_the_percentage()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await AddEndpointAsync(tenantId, [WebhookEventTypes.UsageThresholdReached]);
        var client = TestApi.Client(owner.Token);
        // The free plan allows 100,000 tokens a month: 85,000 crosses 80 %, 1,000 more crosses nothing.
        foreach (var tokens in new[] { 85_000L, 1_000L })
        {
            var run = await RunCalls.CreateRunAsync(client, tenantId);
            using var completed = await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!), tokens);
            await TestApi.ExpectAsync(completed, HttpStatusCode.OK);
        }

        var reached = (await EventsAsync(tenantId, WebhookEventTypes.UsageThresholdReached)).Single()["data"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)reached["meter"], Is.EqualTo("tokens"));
            Assert.That((int?)reached["threshold_percent"], Is.EqualTo(80));
            Assert.That((long?)reached["used"], Is.EqualTo(85_000));
            Assert.That((long?)reached["quota"], Is.EqualTo(100_000));
        });
    }

    [Test]
    public async Task Events_of_several_tenants_emitted_outside_any_tenant_reach_only_their_own_tenants_endpoints()
    {
        var owner = await TestApi.SignUpAsync();
        var subscribed = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var silent = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var endpoint = await AddEndpointAsync(subscribed, [WebhookEventTypes.InvoiceCreated]);
        var sessions = TestApi.Services.GetRequiredService<IDbSessionFactory>();
        var events = TestApi.Services.GetRequiredService<WebhookEvents>();
        var invoice = new InvoiceEventData(Guid.NewGuid(), 7, null, Models.Billing.InvoiceStatus.Open, "usd", 4_900, null, null);

        await using (var session = await sessions.OpenAsync(null, null, CancellationToken.None))
        {
            var deliveries = await events.EmitAcrossTenantsAsync(session, WebhookEventTypes.InvoiceCreated,
                [(subscribed, invoice), (silent, invoice with { InvoiceId = Guid.NewGuid() })], CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
            Assert.That(deliveries, Is.EqualTo(1));
        }

        Assert.That(await DeliveriesAsync(subscribed, endpoint, WebhookEventTypes.InvoiceCreated), Is.EqualTo(1));
        Assert.That((string?)(await EventsAsync(subscribed, WebhookEventTypes.InvoiceCreated)).Single()["data"]!["invoice_id"], Is.EqualTo(invoice.InvoiceId.ToString()));
        Assert.That(await AllEventsAsync(silent), Is.Zero);
    }
}
