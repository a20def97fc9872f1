using System.Net;
using System.Net.Sockets;

namespace Platform.Models.Webhooks;

/// <summary>Says why an address may not receive webhooks, or that it may (Public).</summary>
[WireEnum]
public enum AddressClass
{
    Public,
    Loopback,
    Private,
    LinkLocal,
    SharedAddressSpace,
    Multicast,
    CloudMetadata,
    Unspecified,
    Reserved,
}

/// <summary>Decides which resolved addresses a webhook delivery may connect to: public unicast only, plus loopback where the installation allows it (the embedded default). The delivery client asks it after name resolution and before connecting, so a refused address is never dialled.</summary>
public static class WebhookAddressPolicy
{
    private static readonly IPAddress Ec2MetadataV6 = IPAddress.Parse("fd00:ec2::254");
    private static readonly IPAddress MetadataV4 = IPAddress.Parse("169.254.169.254");

    private static readonly (IPNetwork Network, AddressClass Class)[] V4 =
    [
        (IPNetwork.Parse("0.0.0.0/8"), AddressClass.Unspecified),
        (IPNetwork.Parse("127.0.0.0/8"), AddressClass.Loopback),
        (IPNetwork.Parse("10.0.0.0/8"), AddressClass.Private),
        (IPNetwork.Parse("172.16.0.0/12"), AddressClass.Private),
        (IPNetwork.Parse("192.168.0.0/16"), AddressClass.Private),
        (IPNetwork.Parse("100.64.0.0/10"), AddressClass.SharedAddressSpace),
        (IPNetwork.Parse("169.254.0.0/16"), AddressClass.LinkLocal),
        (IPNetwork.Parse("224.0.0.0/4"), AddressClass.Multicast),
        (IPNetwork.Parse("192.0.0.0/24"), AddressClass.Reserved),
        (IPNetwork.Parse("192.0.2.0/24"), AddressClass.Reserved),
        (IPNetwork.Parse("198.18.0.0/15"), AddressClass.Reserved),
        (IPNetwork.Parse("198.51.100.0/24"), AddressClass.Reserved),
        (IPNetwork.Parse("203.0.113.0/24"), AddressClass.Reserved),
        (IPNetwork.Parse("240.0.0.0/4"), AddressClass.Reserved),
    ];

    private static readonly (IPNetwork Network, AddressClass Class)[] V6 =
    [
        (IPNetwork.Parse("fc00::/7"), AddressClass.Private),
        (IPNetwork.Parse("fe80::/10"), AddressClass.LinkLocal),
        (IPNetwork.Parse("fec0::/10"), AddressClass.Reserved),
        (IPNetwork.Parse("ff00::/8"), AddressClass.Multicast),
        (IPNetwork.Parse("2001:db8::/32"), AddressClass.Reserved),
        (IPNetwork.Parse("100::/64"), AddressClass.Reserved),
    ];

    /// <summary>Classifies one address; IPv4 inside IPv6 (mapped, compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by the IPv4 address it carries.</summary>
    public static AddressClass Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (EmbeddedV4(address) is { } v4)
            {
                return Classify(v4);
            }
            if (address.Equals(Ec2MetadataV6))
            {
                return AddressClass.CloudMetadata;
            }
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return AddressClass.Loopback;
            }
            if (address.Equals(IPAddress.IPv6None))
            {
                return AddressClass.Unspecified;
            }
            foreach (var (network, cls) in V6)
            {
                if (network.Contains(address))
                {
                    return cls;
                }
            }
            return AddressClass.Public;
        }
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return AddressClass.Reserved;
        }
        if (address.Equals(MetadataV4))
        {
            return AddressClass.CloudMetadata;
        }
        if (address.Equals(IPAddress.Broadcast))
        {
            return AddressClass.Multicast;
        }
        foreach (var (network, cls) in V4)
        {
            if (network.Contains(address))
            {
                return cls;
            }
        }
        return AddressClass.Public;
    }

    /// <summary>Tells whether a delivery may connect to the address: public ones always, loopback only when allowLoopback.</summary>
    public static bool IsAllowed(IPAddress address, bool allowLoopback)
    {
        var cls = Classify(address);
        return cls == AddressClass.Public || (allowLoopback && cls == AddressClass.Loopback);
    }

    private static IPAddress? EmbeddedV4(IPAddress v6)
    {
        if (v6.IsIPv4MappedToIPv6)
        {
            return v6.MapToIPv4();
        }
        var b = v6.GetAddressBytes();
        // NAT64 well-known prefix 64:ff9b::/96 carries the IPv4 address in its last 32 bits.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        // 6to4 2002::/16 carries it in bits 16-47.
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return new IPAddress(b.AsSpan(2, 4));
        }
        // IPv4-compatible ::a.b.c.d (deprecated, still routable by some stacks); :: and ::1 are not.
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1))
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        return null;
    }
}
