using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Models;
using Platform.Tests.Operators;

namespace Platform.Tests.Tenants;

/// <summary>Proves the fair-use rules of tenant creation (issue 19, ADR 0520) through the real API and database: the owned-tenant cap and the
/// one-trial rule hold under parallel requests, the daily count refuses with Retry-After, trials get finite limits, and operators see the users
/// who met a limit and lift it or grant a trial with a reversible founder action.</summary>
public sealed class FairUseTests : DatabaseTest
{
    private static readonly string[] QuotaFields = ["max_workers", "max_runs_per_day", "max_concurrent_runs", "max_tokens_per_month", "max_api_keys"];

    [Test]
    public async Task Fifty_parallel_creations_by_one_user_at_a_cap_of_ten_create_exactly_ten()
    {
        await using var host = Host(("MaxOwnedTenantsPerUser", "10"));
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "free" })));

        var created = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        Assert.That((created, refused.Count), Is.EqualTo((10, 40)), string.Join(", ", responses.Select(r => (int)r.StatusCode)));
        var body = await TestApi.ExpectProblemAsync(refused[0], HttpStatusCode.Conflict, "tenant_limit_reached");
        Assert.That(((int?)body["limit"], (int?)body["current"]), Is.EqualTo((10, 10)));
        var list = await TestApi.ReadAsync(await client.GetAsync("/v1/tenants?limit=200"));
        Assert.That(list["data"]!.AsArray(), Has.Count.EqualTo(10));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task A_deleted_tenant_frees_its_place_under_the_cap()
    {
        await using var host = Host(("MaxOwnedTenantsPerUser", "2"));
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);
        var first = await CreateAsync(client, "free", HttpStatusCode.Created);
        await CreateAsync(client, "free", HttpStatusCode.Created);
        await CreateAsync(client, "free", HttpStatusCode.Conflict);

        await TestApi.ExpectAsync(await client.DeleteAsync($"/v1/tenants/{first["id"]}"), HttpStatusCode.OK);

        await CreateAsync(client, "free", HttpStatusCode.Created);
    }

    [Test]
    public async Task One_self_serve_trial_per_user_and_plan_family_and_the_caller_chooses_the_fallback()
    {
        await using var host = Host();
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);

        var trial = await CreateAsync(client, "professional", HttpStatusCode.Created);
        Assert.That((string?)trial["status"], Is.EqualTo("trial"));

        using var refused = await client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "professional" });
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "trial_not_available");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["reason"], Is.EqualTo("trial_already_used"));
            Assert.That(problem["choices"]!.AsArray().Select(c => (string?)c), Is.EqualTo(new[] { "free", "paid" }));
        });

        var free = await CreateAsync(client, "professional", HttpStatusCode.Created, "free");
        var paid = await CreateAsync(client, "professional", HttpStatusCode.Created, "paid");
        // Another family is another trial.
        var starter = await CreateAsync(client, "starter", HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(((string?)free["plan"], (string?)free["status"]), Is.EqualTo(("free", "active")));
            Assert.That(((string?)paid["plan"], (string?)paid["status"]), Is.EqualTo(("professional", "suspended")));
            Assert.That((string?)paid["suspended_reason"], Is.EqualTo("billing: awaiting the first subscription"));
            Assert.That((int?)paid["max_workers"], Is.EqualTo(2), "no paid capacity before the subscription");
            Assert.That(((string?)starter["plan"], (string?)starter["status"]), Is.EqualTo(("starter", "trial")));
        });

        // The paid choice becomes the plan with its full limits once its owner subscribes.
        using var subscribed = await client.PostAsJsonAsync($"/v1/tenants/{paid["id"]}/subscription", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(subscribed, HttpStatusCode.OK);
        var after = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{paid["id"]}"));
        Assert.That(((string?)after["status"], (int?)after["max_workers"], (string?)after["suspended_reason"]), Is.EqualTo(("active", 20, (string?)null)));
    }

    [Test]
    public async Task Ten_parallel_trial_creations_by_one_user_start_exactly_one_trial()
    {
        await using var host = Host();
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "starter" })));

        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(9));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Enterprise_is_not_trialled_self_serve_until_an_operator_grants_one_trial_with_finite_limits()
    {
        await using var host = Host();
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);

        using (var refused = await client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "enterprise" }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "trial_not_available");
            Assert.That((string?)problem["reason"], Is.EqualTo("plan_not_self_serve"));
        }

        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing");
        using var granted = await billing.PostAsJsonAsync($"/v1/admin/users/{user.Id}/trials", new { plan = "enterprise", reason_code = "sales_pilot" });
        await TestApi.ExpectAsync(granted, HttpStatusCode.Created);
        var grant = await TestApi.ReadAsync(granted);
        Assert.Multiple(() =>
        {
            Assert.That((string?)grant["action_type"], Is.EqualTo("user.trial_grant"));
            Assert.That((string?)grant["target_id"], Is.EqualTo(user.Id.ToString()));
            Assert.That(grant["tenant_id"], Is.Null);
        });

        var enterprise = await CreateAsync(client, "enterprise", HttpStatusCode.Created);
        Assert.That((string?)enterprise["status"], Is.EqualTo("trial"));
        AssertFinite(enterprise);
        var features = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{enterprise["id"]}/features"));
        Assert.That(features["quotas"]!.AsObject().Select(q => (long)q.Value!), Has.None.EqualTo(-1L), features.ToJsonString());

        // The grant is used up: the next enterprise tenant is refused again, and the used grant cannot be revoked.
        await CreateAsync(client, "enterprise", HttpStatusCode.Conflict);
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        using var reverse = await admin.PostAsJsonAsync($"/v1/admin/actions/{grant["id"]}/reverse", new { reason_code = "mistake" });
        await TestApi.ExpectProblemAsync(reverse, HttpStatusCode.Conflict, "trial_grant_used");
    }

    [Test]
    public async Task A_revoked_trial_grant_gives_no_trial()
    {
        await using var host = Host();
        var user = await TestApi.SignUpAsync();
        using var client = Client(host, user);
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing");
        using var granted = await billing.PostAsJsonAsync($"/v1/admin/users/{user.Id}/trials", new { plan = "enterprise", reason_code = "sales_pilot" });
        var grant = await TestApi.ReadAsync(granted);
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var reverse = await admin.PostAsJsonAsync($"/v1/admin/actions/{grant["id"]}/reverse", new { reason_code = "mistake" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);

        await CreateAsync(client, "enterprise", HttpStatusCode.Conflict);
    }

    [Test]
    public async Task Creations_per_user_and_day_are_counted_across_instances_and_refused_with_retry_after()
    {
        var now = DateTimeOffset.UtcNow;
        var clock = new ManualClock(now);
        var untilMidnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) - now;
        await using var one = Host(clock, ("TenantsPerUserPerDay", "3"));
        await using var two = Host(clock, ("TenantsPerUserPerDay", "3"));
        var user = await TestApi.SignUpAsync();
        using var first = Client(one, user);
        using var second = Client(two, user);

        await CreateAsync(first, "free", HttpStatusCode.Created);
        // A creation refused for another reason does not use up the day's count.
        var taken = Slug();
        await TestApi.ExpectAsync(await second.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = taken, plan = "free" }), HttpStatusCode.Created);
        await TestApi.ExpectProblemAsync(await first.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = taken, plan = "free" }), HttpStatusCode.Conflict, "slug_taken");
        await CreateAsync(second, "free", HttpStatusCode.Created);

        using var refused = await first.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "free" });
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("tenants_per_user_per_day"));
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(untilMidnight.TotalSeconds)))));
        });

        clock.Advance(untilMidnight);
        await CreateAsync(second, "free", HttpStatusCode.Created);
    }

    [Test]
    public async Task Operators_list_capped_users_and_lift_a_cap_with_a_reversible_action()
    {
        await using var host = Host(("MaxOwnedTenantsPerUser", "1"));
        var user = await TestApi.SignUpAsync();
        var bystander = await TestApi.SignUpAsync();
        using var client = Client(host, user);
        await CreateAsync(client, "enterprise", HttpStatusCode.Conflict);
        await CreateAsync(client, "free", HttpStatusCode.Created);
        await CreateAsync(client, "free", HttpStatusCode.Conflict);
        using var bystanderClient = Client(host, bystander);
        await CreateAsync(bystanderClient, "free", HttpStatusCode.Created);

        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer");
        var capped = await TestApi.ReadAsync(await viewer.GetAsync("/v1/admin/users/capped"));
        var row = capped["data"]!.AsArray().Single()!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)row["user_id"], Is.EqualTo(user.Id.ToString()));
            Assert.That((string?)row["email"], Is.EqualTo(user.Email));
            Assert.That(row["rules"]!.AsArray().Select(r => (string?)r), Is.EqualTo(new[] { "owned_tenants", "trial" }));
            Assert.That(((int?)row["refusals"], (int?)row["owned_tenants"]), Is.EqualTo((2, 1)));
            Assert.That(row["tenant_cap_override"]?.GetValueKind(), Is.Null.Or.EqualTo(System.Text.Json.JsonValueKind.Null));
        });
        var trialOnly = await TestApi.ReadAsync(await viewer.GetAsync("/v1/admin/users/capped?rule=tenants_per_day"));
        Assert.That(trialOnly["data"]!.AsArray(), Is.Empty);

        using (var forbidden = await viewer.PutAsJsonAsync($"/v1/admin/users/{user.Id}/tenant-cap", new { value = 3, reason_code = "customer_agency" }))
        {
            Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        }
        var (_, support) = await OperatorTestSupport.SignedInAsync("support");
        using var lifted = await support.PutAsJsonAsync($"/v1/admin/users/{user.Id}/tenant-cap", new { value = 3, reason_code = "customer_agency", reason_note = "agency with clients" });
        await TestApi.ExpectAsync(lifted, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(lifted);
        Assert.That((string?)action["action_type"], Is.EqualTo("user.tenant_cap_set"));

        await CreateAsync(client, "free", HttpStatusCode.Created);
        await CreateAsync(client, "free", HttpStatusCode.Created);
        await CreateAsync(client, "free", HttpStatusCode.Conflict);
        var listed = await TestApi.ReadAsync(await viewer.GetAsync("/v1/admin/users/capped?rule=owned_tenants"));
        Assert.That((int?)listed["data"]![0]!["tenant_cap_override"], Is.EqualTo(3));
        var actions = await TestApi.ReadAsync(await viewer.GetAsync("/v1/admin/actions?action_type=user.tenant_cap_set"));
        Assert.That((string?)actions["data"]![0]!["reason_note"], Is.EqualTo("agency with clients"));

        // Reversal brings the default back: three owned, one allowed.
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        await TestApi.ExpectAsync(await admin.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "agency_left" }), HttpStatusCode.Created);
        using var again = await client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan = "free" });
        var problem = await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "tenant_limit_reached");
        Assert.That(((int?)problem["limit"], (int?)problem["current"]), Is.EqualTo((1, 3)));
        using var secondReversal = await admin.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "agency_left" });
        await TestApi.ExpectProblemAsync(secondReversal, HttpStatusCode.Conflict, "action_already_reversed");
    }

    [Test]
    public async Task Operator_actions_on_an_unknown_user_are_not_found()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        using var cap = await admin.PutAsJsonAsync($"/v1/admin/users/{Guid.NewGuid()}/tenant-cap", new { value = 3, reason_code = "x" });
        await TestApi.ExpectProblemAsync(cap, HttpStatusCode.NotFound, "not_found");
        var user = await TestApi.SignUpAsync();
        using var free = await admin.PostAsJsonAsync($"/v1/admin/users/{user.Id}/trials", new { plan = "free", reason_code = "x" });
        await TestApi.ExpectProblemAsync(free, HttpStatusCode.UnprocessableEntity, "validation_failed");
    }

    [Test]
    public async Task No_self_serve_creation_hands_out_an_unlimited_quota()
    {
        await using var host = Host(("SelfServeTrialPlans", "starter,professional,enterprise"));
        foreach (var plan in new[] { "free", "starter", "professional", "enterprise" })
        {
            var user = await TestApi.SignUpAsync();
            using var client = Client(host, user);
            foreach (var fallback in new[] { "refuse", "free", "paid", "free", "paid" })
            {
                using var response = await client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan, when_trial_unavailable = fallback });
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    continue;
                }
                var tenant = await TestApi.ReadAsync(response);
                AssertFinite(tenant);
                var features = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant["id"]}/features"));
                Assert.That(features["quotas"]!.AsObject().Select(q => (long)q.Value!), Has.None.EqualTo(-1L), $"{plan}/{fallback}: {features.ToJsonString()}");
            }
        }
    }

    private static void AssertFinite(JsonNode tenant)
    {
        foreach (var field in QuotaFields)
        {
            Assert.That((long?)tenant[field], Is.GreaterThanOrEqualTo(0), $"{field} of {tenant["plan"]}/{tenant["status"]}");
        }
    }

    private static async Task<JsonNode> CreateAsync(HttpClient client, string plan, HttpStatusCode expected, string? whenTrialUnavailable = null)
    {
        using var response = await client.PostAsJsonAsync("/v1/tenants", new { name = "T", slug = Slug(), plan, when_trial_unavailable = whenTrialUnavailable });
        await TestApi.ExpectAsync(response, expected);
        return await TestApi.ReadAsync(response);
    }

    private static string Slug() => "f-" + Guid.NewGuid().ToString("N")[..12];

    private static HttpClient Client(WebApplicationFactory<Program> host, TestUser user)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.Token);
        return client;
    }

    private static WebApplicationFactory<Program> Host(params (string Key, string Value)[] settings) => Host(null, settings);

    /// <summary>Starts an API instance on the test database with the shipped fair-use defaults (the shared host relaxes them), the given
    /// FairUse settings on top, and optionally its own clock.</summary>
    private static WebApplicationFactory<Program> Host(IClock? clock, params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("FairUse:SelfServeTrialPlans", "starter,professional");
            b.UseSetting("FairUse:MaxOwnedTenantsPerUser", 10.ToString(CultureInfo.InvariantCulture));
            b.UseSetting("FairUse:TenantsPerUserPerDay", 20.ToString(CultureInfo.InvariantCulture));
            foreach (var (key, value) in settings)
            {
                b.UseSetting("FairUse:" + key, value);
            }
            if (clock is not null)
            {
                b.ConfigureTestServices(s => s.AddSingleton(clock));
            }
        });
}
