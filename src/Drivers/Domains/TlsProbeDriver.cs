using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Platform.Models.Domains;

namespace Platform.Drivers.Domains;

/// <summary>Asks the reverse proxy which certificate it serves for a custom domain: a TLS handshake to Domains:TlsProbeAddress with the domain as SNI.</summary>
public interface ITlsProbeDriver
{
    /// <summary>Tells whether probing is configured (Domains:TlsProbeAddress is set).</summary>
    bool Enabled { get; }

    /// <summary>Shakes hands with the proxy for the name and returns the served certificate's end, or the error (no handshake, or a certificate for another name).</summary>
    Task<TlsProbe> ProbeAsync(string name, CancellationToken cancellationToken);
}

internal sealed class TlsProbeDriver(DomainsOptions options) : ITlsProbeDriver
{
    public bool Enabled => options.TlsProbeEndPoint() is not null;

    public async Task<TlsProbe> ProbeAsync(string name, CancellationToken cancellationToken)
    {
        var endPoint = options.TlsProbeEndPoint() ?? throw new InvalidOperationException("Domains:TlsProbeAddress is not set.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.TimeoutMilliseconds);
        DateTime? notAfter = null;
        string? servedName = null;
        var nameMatches = false;
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endPoint, timeout.Token);
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = name,
                // The chain is the proxy's business (a private CA is legitimate); what is recorded is that it serves a certificate for this name, and until when.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is not null)
                    {
                        // Read now: the stream disposes the certificate it hands over once the handshake is done.
                        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                        notAfter = leaf.NotAfter.ToUniversalTime();
                        servedName = leaf.GetNameInfo(X509NameType.DnsName, false);
                        nameMatches = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
                    }
                    return true;
                },
            }, timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new TlsProbe(null, $"No TLS handshake for {name} at {endPoint}: {e.Message}");
        }
        if (notAfter is not { } end)
        {
            return new TlsProbe(null, $"The proxy at {endPoint} served no certificate for {name}.");
        }
        return nameMatches
            ? new TlsProbe(new DateTimeOffset(DateTime.SpecifyKind(end, DateTimeKind.Utc)), null)
            : new TlsProbe(null, $"The proxy at {endPoint} served a certificate for {servedName}, not {name}.");
    }
}
