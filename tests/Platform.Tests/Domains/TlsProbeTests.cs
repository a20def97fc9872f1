using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Domains;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Plans;

namespace Platform.Tests.Domains;

/// <summary>Proves that ssl_status is live (ADR 0731): with Domains:TlsProbeAddress at Debian's caddy (on-demand TLS, internal CA) in front of the API,
/// the re-check job shakes hands for each verified domain and records issued, renewing (within Domains:TlsRenewBeforeDays of the end), expired (the end
/// passed) and failed (the proxy serves no certificate: its ask endpoint refuses a tenant without the feature), with the certificate's end.</summary>
public sealed class TlsProbeTests : DatabaseTest
{
    [Test]
    public async Task The_recheck_job_probes_the_proxy_and_records_issued_renewing_expired_and_failed()
    {
        await using var dns = await DnsmasqServer.StartAsync();
        await using var api = await CaddyProcess.StartApiAsync(dns.NameServers);
        await using var caddy = await CaddyProcess.StartAsync(new Uri(api.Urls.First()).Port);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        Dictionary<string, string?> Settings(int renewBeforeDays) => new()
        {
            ["Domains:NameServers"] = dns.NameServers,
            ["Domains:RecheckIntervalSeconds"] = "60",
            ["Domains:TlsProbeAddress"] = $"127.0.0.1:{caddy.HttpsPort}",
            ["Domains:TimeoutMilliseconds"] = "20000",
            ["Domains:TlsRenewBeforeDays"] = renewBeforeDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var engines = TestEngines.Build(Settings(0), clock);
        await using var renewing = TestEngines.Build(Settings(30), clock);
        var mediator = engines.GetRequiredService<IMediator>();

        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional);
        var lapsedTenant = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional);
        var caller = Caller.User(owner.Id);
        var shop = await mediator.Send(new AddDomain(caller, tenantId, "shop.example.test"));
        var lapsed = await mediator.Send(new AddDomain(caller, lapsedTenant, "lapsed.example.test"));
        await dns.ServeAsync((shop.ChallengeName, shop.VerificationToken), (lapsed.ChallengeName, lapsed.VerificationToken));
        Assert.That((await mediator.Send(new VerifyDomain(caller, tenantId, shop.Id))).Status, Is.EqualTo(DomainStatus.Verified));
        Assert.That((await mediator.Send(new VerifyDomain(caller, lapsedTenant, lapsed.Id))).Status, Is.EqualTo(DomainStatus.Verified));
        Assert.That((await mediator.Send(new GetDomain(caller, tenantId, shop.Id))).SslStatus, Is.EqualTo(SslStatus.Pending), "verification alone issues nothing");
        // The second tenant loses the feature: the domain stays verified, but the proxy's ask endpoint refuses it, so no certificate.
        await mediator.Send(new ChangeTenantPlan(Caller.System, lapsedTenant, PlanCatalog.Starter));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await mediator.Send(new RecheckDomains()), Is.EqualTo(new RecheckResult(2, 0, 2)), caddy.Log);
        var issued = await mediator.Send(new GetDomain(caller, tenantId, shop.Id));
        var failed = await mediator.Send(new GetDomain(caller, lapsedTenant, lapsed.Id));
        Assert.Multiple(() =>
        {
            Assert.That(issued.SslStatus, Is.EqualTo(SslStatus.Issued), caddy.Log);
            Assert.That(issued.SslExpiresAt, Is.GreaterThan(DateTimeOffset.UtcNow).And.LessThan(DateTimeOffset.UtcNow.AddDays(30)), "caddy's internal CA issues short certificates");
            Assert.That(issued.SslCheckedAt, Is.EqualTo(clock.UtcNow).Within(TimeSpan.FromSeconds(1)));
            Assert.That(failed.SslStatus, Is.EqualTo(SslStatus.Failed));
            Assert.That(failed.SslExpiresAt, Is.Null);
        });
        var end = issued.SslExpiresAt!.Value;

        // Within 30 days of its end (the default), the same certificate counts as renewing.
        clock.Advance(TimeSpan.FromMinutes(2));
        await renewing.GetRequiredService<IMediator>().Send(new RecheckDomains());
        Assert.That((await mediator.Send(new GetDomain(caller, tenantId, shop.Id))).SslStatus, Is.EqualTo(SslStatus.Renewing));

        // Once its end has passed (by the job's clock; caddy still serves it), expired.
        clock.UtcNow = end.AddHours(1);
        await mediator.Send(new RecheckDomains());
        Assert.That((await mediator.Send(new GetDomain(caller, tenantId, shop.Id))).SslStatus, Is.EqualTo(SslStatus.Expired));

        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'domain.ssl_changed'", tenantId), Is.EqualTo(3),
            "pending -> issued -> renewing -> expired, each audited once");
    }
}
