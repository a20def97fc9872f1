using System.Net;
using Platform.Models.IpAllowlists;

namespace Platform.Engines.IpAllowlists;

/// <summary>Holds the network settings (section "Network").</summary>
public sealed class NetworkOptions
{
    /// <summary>Gets or sets the reverse proxies whose X-Forwarded-For is honoured, comma-separated addresses or CIDRs (Network:KnownProxies);
    /// empty (the default) honours none: the client's address is the connection's.</summary>
    public string KnownProxies { get; set; } = "";

    /// <summary>Gets the known proxies as networks, or null when one of them is not an address or CIDR.</summary>
    public IReadOnlyList<IPNetwork>? ProxyNetworks()
    {
        var networks = new List<IPNetwork>();
        foreach (var part in KnownProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IpAllowlistRules.Parse(part) is not { } network)
            {
                return null;
            }
            networks.Add(network);
        }
        return networks;
    }
}
