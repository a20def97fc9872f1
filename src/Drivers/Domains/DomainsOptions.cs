using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Platform.Drivers.Domains;

/// <summary>Holds the custom domain settings (section "Domains"): the name servers that verification asks, and the re-check job's timing.</summary>
public sealed class DomainsOptions
{
    /// <summary>Gets or sets the name servers to ask, comma-separated IP:port or IP (port 53), such as "127.0.0.1:5353" (Domains:NameServers); empty asks
    /// the machine's own resolvers.</summary>
    public string NameServers { get; set; } = "";

    /// <summary>Gets or sets how long one DNS query may take, in milliseconds (Domains:TimeoutMilliseconds).</summary>
    [Range(100, 60_000)]
    public int TimeoutMilliseconds { get; set; } = 3000;

    /// <summary>Gets or sets how often verified domains are re-checked, in seconds (Domains:RecheckIntervalSeconds).</summary>
    [Range(1, 604_800)]
    public int RecheckIntervalSeconds { get; set; } = 3600;

    /// <summary>Gets or sets how long a verified domain's record may be missing before the domain goes back to pending, in hours (Domains:GraceHours).</summary>
    [Range(0, 8760)]
    public int GraceHours { get; set; } = 72;

    /// <summary>Gets or sets how many domains one tenant may hold (Domains:MaxPerTenant).</summary>
    [Range(1, 10_000)]
    public int MaxPerTenant { get; set; } = 20;

    /// <summary>Gets or sets where the reverse proxy terminates TLS for custom domains, IP:port such as "127.0.0.1:443" (Domains:TlsProbeAddress): the
    /// re-check job shakes hands there with each verified domain as SNI and records ssl_status from the served certificate; empty leaves ssl_status alone.</summary>
    public string TlsProbeAddress { get; set; } = "";

    /// <summary>Gets or sets how many days before its end a served certificate counts as renewing (Domains:TlsRenewBeforeDays).</summary>
    [Range(0, 365)]
    public int TlsRenewBeforeDays { get; set; } = 30;

    /// <summary>Gets the TLS probe address as an endpoint, or null when it is not set or not IP:port.</summary>
    public IPEndPoint? TlsProbeEndPoint() =>
        IPEndPoint.TryParse(TlsProbeAddress.Trim(), out var endpoint) && endpoint.Port > 0 ? endpoint : null;

    /// <summary>Gets the name servers as endpoints (none: the system's), or null when one of them is not IP or IP:port.</summary>
    public IReadOnlyList<IPEndPoint>? NameServerEndpoints()
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var part in NameServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPEndPoint.TryParse(part, out var endpoint) && endpoint.Port is >= 0 and <= 65_535)
            {
                endpoints.Add(endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint);
            }
            else
            {
                return null;
            }
        }
        return endpoints;
    }
}
