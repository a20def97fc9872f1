using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Models;
using Platform.Tests.ApiKeys;
using Platform.Tests.Operators;

namespace Platform.Tests.Usage;

/// <summary>Members' requests count as api_calls beside API keys' (operators' do not), and the per-user rate limit is exact across two hosts (ADR 0715).
/// The shared hosts turn both off (DatabaseFixture); these tests start hosts with the shipped default or the limit they test.</summary>
public sealed class UserRequestsTests : DatabaseTest
{
    private const string ApiCallsSql = "SELECT coalesce(sum(used), 0)::bigint FROM usage_rollups WHERE meter = 'api_calls'";

    private static WebApplicationFactory<Program> Host(int? userRequestsPerMinute = null, IClock? clock = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Usage:CountUserRequests", "true");
            // Without a limit given, the shipped default (UsageOptions) applies.
            b.UseSetting("Usage:UserRequestsPerMinute", userRequestsPerMinute?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "1200");
            b.ConfigureTestServices(s =>
            {
                if (clock is not null)
                {
                    s.AddSingleton(clock);
                }
            });
        });

    [Test]
    public async Task Members_and_keys_requests_count_as_api_calls_exactly_across_two_hosts_and_operators_and_non_members_do_not()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var stranger = await TestApi.SignUpAsync();
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, operatorClient) = await OperatorTestSupport.SignedInAsync("super_admin");
        var operatorToken = operatorClient.DefaultRequestHeaders.Authorization!.Parameter!;
        var before = await OwnerSql.CountAsync(ApiCallsSql, tenantId);
        var hostA = Host();
        var hostB = Host();
        var hosts = new[] { hostA, hostB };

        var members = Enumerable.Range(0, 30).Select(i => hosts[i % 2].Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/usage"))
            .Concat(Enumerable.Range(0, 11).Select(i =>
            {
                // "current" resolved from X-Tenant-ID counts for that tenant too.
                var client = hosts[i % 2].Client(viewer.Token);
                client.DefaultRequestHeaders.Add("X-Tenant-ID", tenantId.ToString());
                return client.GetAsync("/v1/tenants/current/features");
            }))
            .Concat(Enumerable.Range(0, 9).Select(i => hosts[i % 2].Client(key.Secret).GetAsync($"/v1/tenants/{tenantId}/usage")));
        var responses = await Task.WhenAll(members);
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
        var others = await Task.WhenAll(
            Enumerable.Range(0, 6).Select(i => hosts[i % 2].Client(stranger.Token).GetAsync($"/v1/tenants/{tenantId}/usage"))
                .Concat(Enumerable.Range(0, 5).Select(i => hosts[i % 2].Client(operatorToken).GetAsync($"/v1/admin/tenants/{tenantId}"))));
        Assert.Multiple(() =>
        {
            Assert.That(others.Take(6).Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.NotFound), "a non-member");
            Assert.That(others.Skip(6).Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK), "an operator");
        });

        // 30 + 11 members' requests and 9 key requests; the stranger's 404s and the operator's reads are not the tenant's calls.
        const long expected = 30 + 11 + 9;
        var counted = 0L;
        for (var attempt = 0; attempt < 100 && counted < before + expected; attempt++)
        {
            await Task.Delay(100);
            counted = await OwnerSql.CountAsync(ApiCallsSql, tenantId);
        }
        Assert.That(counted - before, Is.EqualTo(expected));
        await hostA.DisposeAsync();
        await hostB.DisposeAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(ApiCallsSql, tenantId) - before, Is.EqualTo(expected), "stopping a host counted requests again");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM user_rate_windows", tenantId), Is.EqualTo(2), "the stranger got a window");
        });
        foreach (var response in responses.Concat(others))
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task The_per_user_limit_admits_exactly_the_limit_of_60_parallel_requests_across_two_hosts_per_user_and_tenant()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var otherTenant = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        // A stopped clock keeps every request in one one-minute window whatever the machine's speed.
        var clock = new StoppedClock(DateTimeOffset.UtcNow);
        using var hostA = Host(userRequestsPerMinute: 15, clock: clock);
        using var hostB = Host(userRequestsPerMinute: 15, clock: clock);
        var clients = new[] { hostA.Client(owner.Token), hostB.Client(owner.Token) };

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => clients[i % 2].GetAsync($"/v1/tenants/{tenantId}/features")));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(15));
            Assert.That(limited, Has.Count.EqualTo(45));
        });
        var problem = await TestApi.ExpectProblemAsync(limited[0], HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("user_requests_per_minute"));
            Assert.That((long?)problem["limit"], Is.EqualTo(15));
            Assert.That(limited[0].Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        });

        // The limit is per user and per tenant: another member of the tenant, and the same user in another tenant, still get in.
        using (var other = await hostB.Client(admin.Token).GetAsync($"/v1/tenants/{tenantId}/features"))
        {
            await TestApi.ExpectAsync(other, HttpStatusCode.OK);
        }
        using (var elsewhere = await hostA.Client(owner.Token).GetAsync($"/v1/tenants/{otherTenant}/features"))
        {
            await TestApi.ExpectAsync(elsewhere, HttpStatusCode.OK);
        }
        Assert.That(await OwnerSql.CountAsync("SELECT request_count::bigint FROM user_rate_windows WHERE user_id = @u", tenantId, ("u", owner.Id)),
            Is.EqualTo(15), "a refused request was counted in the window");

        // Two windows later the old requests have left the sliding window entirely.
        clock.UtcNow = clock.UtcNow.AddMinutes(2);
        using var next = await clients[0].GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectAsync(next, HttpStatusCode.OK);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task The_shipped_default_lets_a_dashboard_burst_of_200_parallel_requests_through()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            // The shared hosts' environment turns the limit off: put the shipped default back by reading it from the options class.
            b.UseSetting("Usage:UserRequestsPerMinute", new Platform.Engines.Usage.UsageOptions().UserRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        Assert.That(new Platform.Engines.Usage.UsageOptions().UserRequestsPerMinute, Is.GreaterThanOrEqualTo(600));
        var client = host.Client(owner.Token);
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => client.GetAsync($"/v1/tenants/{tenantId}/features")));
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(await OwnerSql.CountAsync("SELECT request_count::bigint FROM user_rate_windows WHERE user_id = @u", tenantId, ("u", owner.Id)),
            Is.GreaterThanOrEqualTo(200));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task A_removed_members_window_goes_with_the_membership_and_the_former_member_is_then_neither_limited_nor_counted()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        using var host = Host(userRequestsPerMinute: 1000);
        using (var first = await host.Client(admin.Token).GetAsync($"/v1/tenants/{tenantId}/features"))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM user_rate_windows WHERE user_id = @u", tenantId, ("u", admin.Id)), Is.EqualTo(1));

        using (var remove = await host.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/members/{admin.Id}"))
        {
            Assert.That((int)remove.StatusCode, Is.InRange(200, 299), await remove.Content.ReadAsStringAsync());
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM user_rate_windows WHERE user_id = @u", tenantId, ("u", admin.Id)), Is.Zero);
        using (var after = await host.Client(admin.Token).GetAsync($"/v1/tenants/{tenantId}/features"))
        {
            await TestApi.ExpectProblemAsync(after, HttpStatusCode.NotFound, "not_found");
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM user_rate_windows WHERE user_id = @u", tenantId, ("u", admin.Id)), Is.Zero);
    }
}
