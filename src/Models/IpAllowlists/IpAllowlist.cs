using System.Net;

namespace Platform.Models.IpAllowlists;

/// <summary>Holds one allowlist entry: a CIDR in its normal form (such as 203.0.113.0/24 or 2001:db8::/32) and an optional description.</summary>
public sealed record IpAllowlistEntry(string Cidr, string? Description);

/// <summary>Holds what an instance needs to check a caller's address for a tenant: whether the allowlist is enforced (the plan has ip_allowlist and
/// the list is not empty) and its networks.</summary>
public sealed record TenantIpAllowlist(Guid TenantId, bool Enforced, IReadOnlyList<IPNetwork> Networks)
{
    /// <summary>Tells whether a caller at this address may use the tenant's routes (always, when not enforced; never, without an address).</summary>
    public bool Allows(IPAddress? address) => !Enforced || IpAllowlistRules.Matches(Networks, address);
}

/// <summary>Parses and checks allowlist entries with System.Net.IPNetwork.</summary>
public static class IpAllowlistRules
{
    /// <summary>Is the most entries a tenant's list may hold.</summary>
    public const int MaxEntries = 100;

    /// <summary>Is the longest description, in characters.</summary>
    public const int MaxDescriptionLength = 200;

    /// <summary>Parses a CIDR (an address alone means /32 or /128); host bits must be zero. Returns null when it is not one.</summary>
    public static IPNetwork? Parse(string? cidr)
    {
        if (string.IsNullOrWhiteSpace(cidr) || cidr.Length > 64)
        {
            return null;
        }
        var text = cidr.Trim();
        if (!text.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(text, out var single))
        {
            return new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        return IPNetwork.TryParse(text, out var network) ? network : null;
    }

    /// <summary>Tells whether the address is in one of the networks (an IPv4 address mapped to IPv6 counts as IPv4).</summary>
    public static bool Matches(IReadOnlyList<IPNetwork> networks, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }
        var normal = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return networks.Any(n => n.Contains(normal));
    }
}
