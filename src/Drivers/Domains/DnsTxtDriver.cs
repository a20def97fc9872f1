using DnsClient;
using Platform.Models.Domains;

namespace Platform.Drivers.Domains;

/// <summary>Looks up TXT records through DnsClient, asking the configured name servers (Domains:NameServers) or the machine's.</summary>
public interface IDnsTxtDriver
{
    /// <summary>Returns the texts of the name's TXT records (none when it has none or does not exist), or the error when no definite answer came.</summary>
    Task<TxtLookup> LookupTxtAsync(string name, CancellationToken cancellationToken);
}

internal sealed class DnsTxtDriver : IDnsTxtDriver
{
    private readonly LookupClient client;

    public DnsTxtDriver(DomainsOptions options)
    {
        var servers = options.NameServerEndpoints() ?? [];
        var settings = servers.Count > 0 ? new LookupClientOptions(servers.Select(s => new NameServer(s)).ToArray()) : new LookupClientOptions();
        // Verification must see the record as published now: no cache, and an error is an error (not an empty answer).
        settings.UseCache = false;
        settings.Timeout = TimeSpan.FromMilliseconds(options.TimeoutMilliseconds);
        settings.Retries = 1;
        settings.ThrowDnsErrors = false;
        settings.ContinueOnDnsError = false;
        settings.UseTcpFallback = true;
        client = new LookupClient(settings);
    }

    public async Task<TxtLookup> LookupTxtAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken);
            if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
            {
                return new TxtLookup([], $"The name servers answered {response.Header.ResponseCode} for {name}.");
            }
            return new TxtLookup(response.Answers.TxtRecords().SelectMany(r => r.Text).ToList(), null);
        }
        catch (DnsResponseException e)
        {
            return new TxtLookup([], $"No answer from the name servers for {name}: {e.Message}");
        }
    }
}
