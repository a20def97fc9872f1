using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Runs;
using Platform.Models.Runs;

namespace Platform.Tests.Runs;

/// <summary>Platform:AdmissionConcurrency bounds the run admissions executing at once and queues the rest first in, first out; a full queue
/// answers 503 admission_queue_full with Retry-After and writes nothing, and callers who may not admit never queue (ADR 0800). A probe in the admission command's pipeline counts how many
/// admissions execute at the same moment.</summary>
public sealed class AdmissionConcurrencyTests : DatabaseTest
{
    [Test]
    public async Task Forty_parallel_admissions_execute_at_most_the_bound_at_once_and_all_forty_are_admitted_while_without_the_bound_more_overlap()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();

        var bounded = new Probe(TimeSpan.FromMilliseconds(40));
        await using (var factory = Host(bounded, concurrency: 2, queue: 100))
        {
            var statuses = await Runs.CreateManyAsync(Client(factory, owner.Token), tenantId, 40);
            Assert.That(statuses.Select(s => s.Status), Is.All.EqualTo(HttpStatusCode.Created));
        }
        var unbounded = new Probe(TimeSpan.FromMilliseconds(40));
        await using (var factory = Host(unbounded, concurrency: 0, queue: 100))
        {
            var statuses = await Runs.CreateManyAsync(Client(factory, owner.Token), tenantId, 40);
            Assert.That(statuses.Select(s => s.Status), Is.All.EqualTo(HttpStatusCode.Created));
        }

        Assert.Multiple(async () =>
        {
            Assert.That(bounded.Entered, Is.EqualTo(40));
            Assert.That(bounded.MostAtOnce, Is.EqualTo(2), "the bound holds and is used");
            Assert.That(unbounded.MostAtOnce, Is.GreaterThan(2), "without the bound the same burst overlaps more (the probe can see it)");
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(80));
        });
    }

    [Test]
    public async Task A_full_queue_answers_503_admission_queue_full_with_retry_after_and_the_refused_admission_writes_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var probe = new Probe(TimeSpan.Zero) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var factory = Host(probe, concurrency: 1, queue: 0);
        var client = Client(factory, owner.Token);

        var first = client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "holds the only slot" });
        await probe.FirstEntered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        using var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "finds the queue full" });
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "admission_queue_full");
        // Callers who may not admit never take a place in the queue: with the queue full they are still told who they are not.
        using var anonymous = factory.CreateClient();
        using var noCredential = await anonymous.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "anonymous" });
        anonymous.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "pk_live_not_a_key_of_anyone");
        using var wrongKey = await anonymous.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "wrong key" });
        probe.Gate.SetResult();
        using var admitted = await first;

        Assert.Multiple(async () =>
        {
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(noCredential.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "an anonymous caller is refused before the admission queue");
            Assert.That(wrongKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a wrong credential is refused before the admission queue");
            Assert.That((string?)problem["request_id"], Is.Not.Empty);
            Assert.That(admitted.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(probe.Entered, Is.EqualTo(1), "the refused admission never reached the engine");
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND action = 'run.created'"), Is.EqualTo(1));
        });
    }

    private static WebApplicationFactory<Program> Host(Probe probe, int concurrency, int queue) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Platform:AdmissionConcurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("Platform:AdmissionQueueLimit", queue.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.ConfigureTestServices(s => s.AddSingleton<IPipelineBehavior<CreateRun, RunSnapshot>>(probe));
        });

    private static HttpClient Client(WebApplicationFactory<Program> factory, string token)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Counts the admissions executing at once (and the most ever), holding each for a while or until the gate opens.</summary>
    private sealed class Probe(TimeSpan hold) : IPipelineBehavior<CreateRun, RunSnapshot>
    {
        private int inside;
        private int most;
        private int entered;

        public TaskCompletionSource FirstEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource? Gate { get; init; }

        public int MostAtOnce => Volatile.Read(ref most);

        public int Entered => Volatile.Read(ref entered);

        public async Task<RunSnapshot> Handle(CreateRun request, CancellationToken cancellationToken, RequestHandlerDelegate<RunSnapshot> next)
        {
            Interlocked.Increment(ref entered);
            var now = Interlocked.Increment(ref inside);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }
            FirstEntered.TrySetResult();
            try
            {
                if (Gate is not null)
                {
                    await Gate.Task.WaitAsync(cancellationToken);
                }
                await Task.Delay(hold, cancellationToken);
                return await next();
            }
            finally
            {
                Interlocked.Decrement(ref inside);
            }
        }
    }
}
