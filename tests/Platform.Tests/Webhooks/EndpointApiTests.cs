using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Webhooks;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Webhooks;

public sealed class EndpointApiTests : DatabaseTest
{
    [Test]
    public async Task An_endpoint_round_trips_through_create_read_list_change_and_delete_and_each_change_is_audited()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var created = await EndpointSetup.CreateAsync(client, tenantId, new
        {
            url = EndpointSetup.PublicUrl,
            description = "  orders  ",
            event_types = new[] { "run.completed", "run.failed", "run.completed" },
            rate_limit = 50,
            headers = new Dictionary<string, string> { ["X-Team"] = "ops" },
        });
        var id = EndpointSetup.IdOf(created);
        Assert.Multiple(() =>
        {
            Assert.That((string?)created["url"], Is.EqualTo(EndpointSetup.PublicUrl));
            Assert.That((string?)created["description"], Is.EqualTo("orders"));
            Assert.That(created["event_types"]!.AsArray().Select(n => (string?)n), Is.EqualTo(new[] { "run.completed", "run.failed" }));
            Assert.That((int?)created["rate_limit"], Is.EqualTo(50));
            Assert.That((bool?)created["enabled"], Is.True);
            Assert.That((string?)created["headers"]!["X-Team"], Is.EqualTo("ops"));
        });

        using var get = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}");
        await TestApi.ExpectAsync(get, HttpStatusCode.OK);
        var read = await get.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(read, Does.Not.Contain("whsec_"));
            Assert.That(JsonNode.Parse(read)!.AsObject().ContainsKey("secret"), Is.False);
        });

        using var list = await client.GetAsync(EndpointSetup.Endpoints(tenantId));
        var listed = await TestApi.ReadAsync(list);
        Assert.That(listed["data"]!.AsArray().Select(e => (string?)e!["id"]), Is.EqualTo(new[] { id.ToString() }));
        Assert.That(listed.ToJsonString(), Does.Not.Contain("whsec_"));

        // null means every type and no limit; left-out fields keep their value.
        using var patch = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}",
            JsonContent.Create(new { description = "all events", event_types = (string[]?)null, rate_limit = (int?)null }));
        await TestApi.ExpectAsync(patch, HttpStatusCode.OK);
        var patched = await TestApi.ReadAsync(patch);
        Assert.Multiple(() =>
        {
            Assert.That((string?)patched["description"], Is.EqualTo("all events"));
            Assert.That(patched["event_types"], Is.Null);
            Assert.That(patched["rate_limit"], Is.Null);
            Assert.That((string?)patched["url"], Is.EqualTo(EndpointSetup.PublicUrl));
            Assert.That((string?)patched["headers"]!["X-Team"], Is.EqualTo("ops"));
        });
        using var patch2 = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}",
            JsonContent.Create(new { event_types = new[] { "invoice.paid" }, rate_limit = 7, headers = new Dictionary<string, string>() }));
        var patched2 = await TestApi.ReadAsync(patch2);
        Assert.Multiple(() =>
        {
            Assert.That(patched2["event_types"]!.AsArray().Select(n => (string?)n), Is.EqualTo(new[] { "invoice.paid" }));
            Assert.That((int?)patched2["rate_limit"], Is.EqualTo(7));
            Assert.That(patched2["headers"]!.AsObject(), Is.Empty);
        });

        using var delete = await client.DeleteAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}");
        await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
        using var gone = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}");
        await TestApi.ExpectProblemAsync(gone, HttpStatusCode.NotFound, "not_found");

        var audit = await Keys.ReadRowAsync(tenantId,
            "SELECT string_agg(action, ',' ORDER BY occurred_at, action) AS actions, bool_or(new_values::text LIKE '%ops%') AS leaked FROM audit_log WHERE resource_type = 'webhook_endpoint'");
        Assert.That(((string)audit!["actions"]!).Split(','), Is.EquivalentTo(new[]
        {
            "webhook.endpoint_created", "webhook.endpoint_updated", "webhook.endpoint_updated", "webhook.endpoint_deleted",
        }));
        Assert.That(audit["leaked"], Is.Not.EqualTo(true), "The audit log keeps header names, not their values.");
    }

    [Test]
    public async Task The_secret_is_shown_once_as_whsec_of_32_bytes_and_stored_only_protected()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var created = await EndpointSetup.CreateAsync(client, tenantId);
        var secret = (string)created["secret"]!;
        Assert.That(secret, Does.StartWith("whsec_"));
        Assert.That(Convert.FromBase64String(secret["whsec_".Length..]), Has.Length.EqualTo(32));

        var row = await Keys.ReadRowAsync(tenantId, "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = @id", ("id", EndpointSetup.IdOf(created)));
        var stored = (string)row!["secret"]!;
        Assert.That(stored, Does.Not.Contain(secret["whsec_".Length..]));
        var protector = TestApi.Services.GetRequiredService<IDataProtectionProvider>();
        Assert.That(WebhookSecrets.Unprotect(protector, stored), Is.EqualTo(secret));
        Assert.That(row["previous_secret"], Is.Null);

        var other = await EndpointSetup.CreateAsync(client, tenantId);
        Assert.That((string)other["secret"]!, Is.Not.EqualTo(secret));
    }

    [Test]
    public async Task A_caller_supplied_secret_is_kept_and_a_malformed_one_is_refused()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var mine = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 24).Select(i => (byte)i).ToArray());
        var created = await EndpointSetup.CreateAsync(client, tenantId, new { url = EndpointSetup.PublicUrl, secret = mine });
        Assert.That((string?)created["secret"], Is.EqualTo(mine));

        foreach (var bad in new[] { "whsec_", "whsec_" + Convert.ToBase64String(new byte[16]), "sk_" + Convert.ToBase64String(new byte[32]), "whsec_!!!!", "whsec_" + Convert.ToBase64String(new byte[65]) })
        {
            using var response = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl, secret = bad });
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!["secret"], Is.Not.Null, bad);
        }
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(1));
    }

    [Test]
    public async Task Rotation_returns_a_new_secret_once_and_keeps_the_former_one_signing_for_the_grace_period()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var created = await EndpointSetup.CreateAsync(client, tenantId);
        var id = EndpointSetup.IdOf(created);
        var before = await Keys.ReadRowAsync(tenantId, "SELECT secret FROM webhook_endpoints WHERE id = @id", ("id", id));

        using var rotate = await client.PostAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/secret/rotate", null);
        await TestApi.ExpectAsync(rotate, HttpStatusCode.OK);
        var rotated = await TestApi.ReadAsync(rotate);
        var secret = (string)rotated["secret"]!;
        Assert.Multiple(() =>
        {
            Assert.That(secret, Is.Not.EqualTo((string)created["secret"]!));
            Assert.That(WebhookSecrets.KeyOf(secret), Has.Length.EqualTo(32));
            Assert.That((DateTimeOffset)rotated["previous_secret_expires_at"]!,
                Is.EqualTo(DateTimeOffset.UtcNow.AddHours(24)).Within(TimeSpan.FromMinutes(1)));
        });

        var after = await Keys.ReadRowAsync(tenantId, "SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoints WHERE id = @id", ("id", id));
        var protector = TestApi.Services.GetRequiredService<IDataProtectionProvider>();
        Assert.Multiple(() =>
        {
            Assert.That(after!["previous_secret"], Is.EqualTo(before!["secret"]), "The former protected value moves to previous_secret unchanged.");
            Assert.That(WebhookSecrets.Unprotect(protector, (string)after["secret"]!), Is.EqualTo(secret));
        });

        using var get = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}");
        var read = await get.Content.ReadAsStringAsync();
        Assert.That(read, Does.Not.Contain("whsec_"));
        Assert.That((string?)JsonNode.Parse(read)!["previous_secret_expires_at"], Is.Not.Null);
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM audit_log WHERE action = 'webhook.secret_rotated'"), Is.EqualTo(1));
    }

    [Test]
    public async Task Viewers_and_members_read_but_only_admins_change_and_api_keys_are_refused()
    {
        var (owner, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var admin = TestApi.Client((await TestApi.MemberAsync(tenantId, "admin")).Token);
        foreach (var role in new[] { "viewer", "member" })
        {
            var reader = TestApi.Client((await TestApi.MemberAsync(tenantId, role)).Token);
            using (var list = await reader.GetAsync(EndpointSetup.Endpoints(tenantId)))
            {
                await TestApi.ExpectAsync(list, HttpStatusCode.OK);
            }
            using (var get = await reader.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}"))
            {
                await TestApi.ExpectAsync(get, HttpStatusCode.OK);
            }
            using (var deliveries = await reader.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries"))
            {
                await TestApi.ExpectAsync(deliveries, HttpStatusCode.OK);
            }
            foreach (var write in Writes(tenantId, id))
            {
                using var response = await reader.SendAsync(write());
                await TestApi.ExpectProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
            }
        }
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(1));

        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using (var byKey = await TestApi.Client(key.Secret).GetAsync(EndpointSetup.Endpoints(tenantId)))
        {
            await TestApi.ExpectProblemAsync(byKey, HttpStatusCode.Forbidden, "forbidden");
        }

        var second = await EndpointSetup.CreateAsync(admin, tenantId);
        using var adminDelete = await admin.DeleteAsync($"{EndpointSetup.Endpoints(tenantId)}/{EndpointSetup.IdOf(second)}");
        await TestApi.ExpectAsync(adminDelete, HttpStatusCode.OK);
    }

    [Test]
    public async Task Another_tenants_endpoint_and_message_ids_are_not_found_on_every_route()
    {
        var (_, tenantA, clientA) = await EndpointSetup.TenantAsync();
        var (_, tenantB, clientB) = await EndpointSetup.TenantAsync();
        var theirs = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(clientB, tenantB));
        var theirMessage = await EndpointSetup.SeedMessageAsync(tenantB, [theirs], "failed", DateTimeOffset.UtcNow.AddMinutes(-5));
        EndpointSetup.IdOf(await EndpointSetup.CreateAsync(clientA, tenantA));

        var requests = new List<Func<HttpRequestMessage>>(Writes(tenantA, theirs).Skip(1))
        {
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Endpoints(tenantA)}/{theirs}"),
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Endpoints(tenantA)}/{theirs}/deliveries"),
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Messages(tenantA)}/{EndpointSetup.MessageId(theirMessage)}"),
            () => new HttpRequestMessage(HttpMethod.Post, $"{EndpointSetup.Messages(tenantA)}/{EndpointSetup.MessageId(theirMessage)}/retry"),
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Endpoints(tenantA)}/not-a-uuid"),
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Messages(tenantA)}/msg_nothex"),
            // B's own ids under B's tenant but through A's owner: the tenant itself is not A's owner's.
            () => new HttpRequestMessage(HttpMethod.Get, $"{EndpointSetup.Endpoints(tenantB)}/{theirs}"),
        };
        foreach (var request in requests)
        {
            using var message = request();
            var description = $"{message.Method} {message.RequestUri}";
            using var response = await clientA.SendAsync(message);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), description);
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }
        var row = await Keys.ReadRowAsync(tenantB,
            "SELECT (SELECT count(*) FROM webhook_endpoints) AS endpoints, (SELECT status FROM outbox_messages WHERE kind = 'webhook') AS status");
        Assert.Multiple(() =>
        {
            Assert.That(row!["endpoints"], Is.EqualTo(1L));
            Assert.That(row["status"], Is.EqualTo("failed"));
        });
    }

    [Test]
    public async Task Enabling_an_endpoint_clears_failing_since_and_disabled_reason()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE webhook_endpoints SET enabled = false, failing_since = now() - interval '6 days', disabled_reason = 'failing for 5 days' WHERE id = @id", ("id", id));
            await scope.CommitAsync();
        }
        using var get = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}");
        var disabled = await TestApi.ReadAsync(get);
        Assert.That((string?)disabled["disabled_reason"], Is.EqualTo("failing for 5 days"));

        using var patch = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}", JsonContent.Create(new { enabled = true }));
        var enabled = await TestApi.ReadAsync(patch);
        Assert.Multiple(() =>
        {
            Assert.That((bool?)enabled["enabled"], Is.True);
            Assert.That(enabled["failing_since"], Is.Null);
            Assert.That(enabled["disabled_reason"], Is.Null);
        });

        // Disabling by hand keeps no reason of its own and leaves failing_since alone.
        using var off = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}", JsonContent.Create(new { enabled = false }));
        Assert.That((bool?)(await TestApi.ReadAsync(off))["enabled"], Is.False);
    }

    [Test]
    public async Task Deleting_an_endpoint_removes_its_queued_deliveries_and_its_log_but_not_other_endpoints_ones()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var doomed = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        var kept = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        await EndpointSetup.SeedMessageAsync(tenantId, [doomed, kept], "failed", DateTimeOffset.UtcNow.AddMinutes(-3), attempts: 2);
        await EndpointSetup.SeedMessageAsync(tenantId, [doomed], "pending", DateTimeOffset.UtcNow.AddMinutes(-1), attempts: 0);

        using var delete = await client.DeleteAsync($"{EndpointSetup.Endpoints(tenantId)}/{doomed}");
        await TestApi.ExpectAsync(delete, HttpStatusCode.OK);

        var row = await Keys.ReadRowAsync(tenantId,
            """
            SELECT (SELECT count(*) FROM outbox_messages WHERE endpoint_id = @d) AS doomed_deliveries,
                   (SELECT count(*) FROM webhook_attempts WHERE endpoint_id = @d) AS doomed_attempts,
                   (SELECT count(*) FROM outbox_messages WHERE endpoint_id = @k) AS kept_deliveries,
                   (SELECT count(*) FROM webhook_attempts WHERE endpoint_id = @k) AS kept_attempts
            """, ("d", doomed), ("k", kept));
        Assert.Multiple(() =>
        {
            Assert.That(row!["doomed_deliveries"], Is.EqualTo(0L));
            Assert.That(row["doomed_attempts"], Is.EqualTo(0L));
            Assert.That(row["kept_deliveries"], Is.EqualTo(1L));
            Assert.That(row["kept_attempts"], Is.EqualTo(2L));
        });
    }

    [Test]
    public async Task A_plan_without_webhooks_is_refused_naming_the_feature_and_writes_nothing()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("free");
        using var response = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.Forbidden, "feature_not_in_plan");
        Assert.That((string?)problem["detail"], Does.Contain("webhooks"));
        using var list = await client.GetAsync(EndpointSetup.Endpoints(tenantId));
        await TestApi.ExpectAsync(list, HttpStatusCode.OK);
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    /// <summary>Lists one request of every write route on an endpoint.</summary>
    internal static IEnumerable<Func<HttpRequestMessage>> Writes(Guid tenantId, Guid endpointId)
    {
        var at = $"{EndpointSetup.Endpoints(tenantId)}/{endpointId}";
        yield return () => new HttpRequestMessage(HttpMethod.Post, EndpointSetup.Endpoints(tenantId)) { Content = JsonContent.Create(new { url = EndpointSetup.PublicUrl }) };
        yield return () => new HttpRequestMessage(HttpMethod.Patch, at) { Content = JsonContent.Create(new { description = "x" }) };
        yield return () => new HttpRequestMessage(HttpMethod.Delete, at);
        yield return () => new HttpRequestMessage(HttpMethod.Post, $"{at}/secret/rotate");
        yield return () => new HttpRequestMessage(HttpMethod.Post, $"{at}/test");
        yield return () => new HttpRequestMessage(HttpMethod.Post, $"{at}/recover?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}");
    }
}
