using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.Edge;

/// <summary>Replays over HTTP the pattern that once poisoned the shared connection pool (a NUL failing at Bind), then checks that unrelated callers are all served.</summary>
/// <remarks>The edge now refuses the NUL before any engine runs (ADR 0180), and the data layer survives one that gets through
/// (sessions reset prepared statements after a failed statement); these tests keep both promises visible from the outside.</remarks>
public sealed class PoisoningReproductionTests : DatabaseTest
{
    [Test]
    public async Task Two_hundred_anonymous_logins_with_a_NUL_leave_thirty_valid_logins_all_served()
    {
        var user = await TestApi.SignUpAsync();
        var hostile = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = "a\u0000b@x.test", password = "whatever it is" });
            return response.StatusCode;
        }));
        // One after another, as a person signs in: parallel attempts on one account are throttled on purpose (ADR 0185).
        var valid = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = user.Password });
            valid.Add(response.StatusCode);
        }
        Assert.Multiple(() =>
        {
            Assert.That(hostile, Has.All.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That(valid, Has.All.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Two_hundred_tenant_creations_with_a_NUL_leave_forty_valid_ones_by_another_user_all_served()
    {
        var attacker = await TestApi.SignUpAsync();
        var other = await TestApi.SignUpAsync();
        // Forty trial tenants of one user: forty trial grants, as support would give (one self-serve trial per family, ADR 0520).
        for (var i = 0; i < 40; i++)
        {
            await TestApi.GrantTrialAsync(other.Id, "professional");
        }
        var hostile = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await TestApi.Client(attacker.Token).PostAsJsonAsync("/v1/tenants", new { name = "a\u0000b", slug = $"nul-{i}-{Guid.NewGuid():N}"[..30] });
            return response.StatusCode;
        }));
        var valid = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await TestApi.Client(other.Token).PostAsJsonAsync("/v1/tenants", new { name = "Valid", slug = "ok-" + Guid.NewGuid().ToString("N")[..20] });
            return response.StatusCode;
        }));
        Assert.Multiple(() =>
        {
            Assert.That(hostile, Has.All.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That(valid, Has.All.EqualTo(HttpStatusCode.Created));
        });
    }
}
