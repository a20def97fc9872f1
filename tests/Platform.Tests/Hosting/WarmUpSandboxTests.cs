using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;
using Platform.Engines.Health;
using Platform.Engines.Runs;
using Platform.Engines.Tenants;
using Platform.Engines.Usage;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Tests.Hosting;

/// <summary>The start-up warm-up's sandbox (ADR 0815): what runs inside it is real (sign-up, tenant, key, admission, completion, usage) and
/// sees its own work, but nothing of it is ever committed, no flow outside it sees it, and nothing that outlives it (the key usage counters,
/// the key cache) takes it in.</summary>
public sealed class WarmUpSandboxTests : DatabaseTest
{
    [Test]
    public async Task Work_in_the_sandbox_is_real_inside_invisible_outside_and_gone_after_and_is_neither_counted_nor_cached()
    {
        var sandboxes = TestApi.Services.GetRequiredService<WarmUpSandboxes>();
        var recorder = TestApi.Services.GetRequiredService<IApiKeyUsageRecorder>();
        await using var scope = TestApi.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var name = Guid.NewGuid().ToString("N")[..12];
        Guid userId = default, tenantId = default, keyId = default, runId = default;
        string secret = "";
        Exception? outsideKey = null;
        long runsSeenOutside = -1;
        Platform.Models.Runs.RunStatus? runSeenInside = null;
        var refusedInside = false;

        await sandboxes.RunAsync(
            async ct =>
            {
                var user = await mediator.Send(new SignUp($"warm-up-{name}@warm-up.invalid", "a-long-password-1", "Warm-up", null), ct);
                userId = user.Id;
                var membership = await mediator.Send(new CreateTenant(Caller.User(userId), "Warm-up", "warm-up-" + name, PlanCatalog.Free, null, TrialFallbacks.Free), ct);
                tenantId = membership.Tenant.Id;
                var key = await mediator.Send(new CreateApiKey(Caller.User(userId), tenantId, "warm-up",
                    [ApiKeyPermissions.RunsWrite, ApiKeyPermissions.RunsRead, ApiKeyPermissions.UsageWrite], null, null, null, null), ct);
                keyId = key.Key.Id;
                secret = key.Secret;
            },
            async ct =>
            {
                // Outside the sandbox (this flow left it after the set-up) the key does not exist.
                try
                {
                    await mediator.Send(new AuthenticateApiKey(secret), ct);
                }
                catch (Exception e)
                {
                    outsideKey = e;
                }
                // A warm-up request, inside: the key authenticates, a refused command (unknown worker) returns to its savepoint and the
                // sandbox goes on, a run is admitted and completed, a usage event recorded; a session inside sees the run.
                await sandboxes.RunRequestAsync(async () =>
                {
                    var credentials = await mediator.Send(new AuthenticateApiKey(secret), ct);
                    var caller = Caller.ApiKey(credentials.Id, tenantId, credentials.Permissions.ToHashSet());
                    try
                    {
                        await mediator.Send(new CreateRun(caller, tenantId, "no-such-worker", "warm-up", null, null), ct);
                    }
                    catch (ValidationFailedException)
                    {
                        refusedInside = true;
                    }
                    var run = await mediator.Send(new CreateRun(caller, tenantId, "summarizer", "warm-up", null, null), ct);
                    runId = run.Id;
                    await mediator.Send(new CompleteRun(caller, tenantId, run.Id, true, null, null, 100, 5, null, null, null), ct);
                    await mediator.Send(new RecordUsage(caller, tenantId, [new UsageEventInput("api_calls", 1m, "warm-up-" + name, null)]), ct);
                    runSeenInside = (await mediator.Send(new GetRun(caller, tenantId, run.Id), ct)).Status;
                }, ct);
                // Another transaction never sees what the sandbox did, though the sandbox's sessions "committed" it.
                runsSeenOutside = await OwnerSql.CountAsync("SELECT count(*) FROM runs", tenantId);
            },
            CancellationToken.None);

        var keyAfter = Assert.ThrowsAsync<UnauthorizedException>(() => mediator.Send(new AuthenticateApiKey(secret)));
        Assert.Multiple(async () =>
        {
            Assert.That(outsideKey, Is.InstanceOf<UnauthorizedException>(), "outside the sandbox its key is unknown");
            Assert.That(refusedInside, Is.True);
            Assert.That(runId, Is.Not.EqualTo(Guid.Empty));
            Assert.That(runSeenInside, Is.EqualTo(Platform.Models.Runs.RunStatus.Succeeded), "inside, the sandbox sees its own committed work");
            Assert.That(runsSeenOutside, Is.Zero, "outside, never");
            Assert.That(keyAfter!.Message, Does.Contain("not valid"), "the sandbox's key was not cached");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM users WHERE id = @u", null, ("u", userId)), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM users WHERE email = @e", null, ("e", $"warm-up-{name}@warm-up.invalid")), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM tenants WHERE id = @t", tenantId, ("t", tenantId)), Is.Zero);
            foreach (var table in new[] { "runs", "api_keys", "audit_log", "usage_events", "memberships", "outbox_messages" })
            {
                Assert.That(await OwnerSql.CountAsync($"SELECT count(*) FROM {table} WHERE tenant_id = @t", tenantId, ("t", tenantId)), Is.Zero, table);
            }
            Assert.That(recorder.Drain().Where(u => u.KeyId == keyId || u.TenantId == tenantId), Is.Empty, "the sandbox's requests are not counted");
        });
    }

    [Test]
    public async Task Requests_outside_the_sandbox_are_not_held_by_it_while_it_is_open()
    {
        // A member's real work while the sandbox is open and busy: it neither waits for the sandbox's turn nor lands in it.
        var sandboxes = TestApi.Services.GetRequiredService<WarmUpSandboxes>();
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sandbox = sandboxes.RunAsync(_ => Task.CompletedTask, async ct =>
        {
            await sandboxes.RunRequestAsync(async () =>
            {
                inside.SetResult();
                await release.Task;
            }, ct);
        }, CancellationToken.None);
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));

        using var client = TestApi.Client(owner.Token);
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/api-keys", new { name = "real", permissions = new[] { "runs:write" } })
            .WaitAsync(TimeSpan.FromSeconds(30));
        var created = (await TestApi.ReadAsync(response))["id"]!.GetValue<Guid>();
        release.SetResult();
        await sandbox;

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.Created));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM api_keys WHERE id = @k", tenant, ("k", created)), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Each_lane_is_its_own_sandbox_a_lane_whose_set_up_fails_is_left_out_and_nothing_of_any_lane_outlives_them()
    {
        // ADR 0820: one sandbox per lane, each on its own connection (so that every pooled backend runs the hot paths); a lane's requests see
        // its own set-up and never another lane's; the lanes run at once (each holds its turn while the others run); all is rolled back.
        var sandboxes = TestApi.Services.GetRequiredService<WarmUpSandboxes>();
        IReadOnlyList<(Guid User, Guid Tenant, string Secret)> lanes = [];
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<(int Lane, int Secret), bool>();
        var allInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = 0;
        await sandboxes.RunAsync(
            4,
            async (lane, ct) =>
            {
                await using var scope = TestApi.Services.CreateAsyncScope();
                var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                if (lane == 2)
                {
                    throw new InvalidOperationException("this lane's set-up fails");
                }
                var name = Guid.NewGuid().ToString("N")[..12];
                var user = await mediator.Send(new CreateWarmUpOwner($"warm-up-{name}@warm-up.invalid"), ct);
                var membership = await mediator.Send(new CreateTenant(Caller.User(user), "Warm-up", "warm-up-" + name, PlanCatalog.Free, null, TrialFallbacks.Free), ct);
                var key = await mediator.Send(new CreateApiKey(Caller.User(user), membership.Tenant.Id, "warm-up", [ApiKeyPermissions.RunsWrite], null, null, null, null), ct);
                return (user, membership.Tenant.Id, key.Secret);
            },
            async (live, ct) =>
            {
                lanes = live;
                await Task.WhenAll(live.Select((_, index) => sandboxes.RunRequestAsync(index, async () =>
                {
                    // Every lane holds its turn until all are inside: lanes that shared a sandbox (or a turn) would never all get here.
                    if (Interlocked.Increment(ref inside) == live.Count)
                    {
                        allInside.SetResult();
                    }
                    await allInside.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);
                    await using var scope = TestApi.Services.CreateAsyncScope();
                    var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                    for (var other = 0; other < live.Count; other++)
                    {
                        try
                        {
                            await mediator.Send(new AuthenticateApiKey(live[other].Secret), ct);
                            seen[(index, other)] = true;
                        }
                        catch (UnauthorizedException)
                        {
                            seen[(index, other)] = false;
                        }
                    }
                }, ct)));
            },
            CancellationToken.None);

        await using var outside = TestApi.Services.CreateAsyncScope();
        var refusedOutside = Assert.ThrowsAsync<InvalidOperationException>(() =>
            outside.ServiceProvider.GetRequiredService<IMediator>().Send(new CreateWarmUpOwner($"warm-up-{Guid.NewGuid():N}@warm-up.invalid")));
        Assert.Multiple(async () =>
        {
            Assert.That(lanes, Has.Count.EqualTo(3), "the lane whose set-up failed is left out, the others run");
            Assert.That(inside, Is.EqualTo(3), "the three lanes held their turns at once");
            for (var lane = 0; lane < lanes.Count; lane++)
            {
                for (var other = 0; other < lanes.Count; other++)
                {
                    Assert.That(seen[(lane, other)], Is.EqualTo(lane == other), $"lane {lane} sees the key of lane {other} only if it is its own");
                }
            }
            Assert.That(refusedOutside!.Message, Does.Contain("only inside a warm-up sandbox"));
            foreach (var (user, tenant, _) in lanes)
            {
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM users WHERE id = @u", null, ("u", user)), Is.Zero);
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM tenants WHERE id = @t", tenant, ("t", tenant)), Is.Zero);
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM api_keys WHERE tenant_id = @t", tenant, ("t", tenant)), Is.Zero);
            }
        });
    }
}
