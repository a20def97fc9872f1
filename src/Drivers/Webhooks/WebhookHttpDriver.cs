using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Drivers.Webhooks;

/// <summary>Resolves a host name to the addresses a webhook delivery may connect to (the SSRF guard judges every one of them).</summary>
public interface IWebhookResolver
{
    /// <summary>Returns every address the name resolves to.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>Resolves through the system's resolver (DNS).</summary>
public sealed class DnsWebhookResolver : IWebhookResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>Holds the delivery client's settings (from Webhooks:TimeoutSeconds, Webhooks:AllowLoopback, Webhooks:MaxInFlightPerEndpoint and
/// Webhooks:MaxConnectionsPerHost).</summary>
public sealed record WebhookClientSettings(int TimeoutSeconds, bool AllowLoopback, int MaxInFlightPerEndpoint = 32, int MaxConnectionsPerHost = 256);

/// <summary>Is thrown by the connect step when a resolved address may not receive webhooks; nothing was dialled.</summary>
public sealed class WebhookAddressRefusedException(IPAddress address, AddressClass addressClass)
    : Exception($"refused: {address} is {addressClass.ToWire()}")
{
    public IPAddress Address { get; } = address;

    public AddressClass AddressClass { get; } = addressClass;
}

/// <summary>Sends one webhook request and tells what came of it.</summary>
public interface IWebhookHttpDriver
{
    /// <summary>POSTs the body with the headers; never throws for the endpoint's faults (status, timeout, refusal), which come back as a failed response.</summary>
    Task<WebhookResponse> SendAsync(WebhookRequest request, CancellationToken cancellationToken);
}

/// <summary>Sends over one HttpClient (one keep-alive pool per host and port, at most Webhooks:MaxConnectionsPerHost connections, ADR 0790), at most Webhooks:MaxInFlightPerEndpoint requests
/// to one endpoint at a time (ADR 0700; the wait for a turn counts against the attempt's timeout, so an attempt never outlasts it and its lease); no
/// redirects followed, no cookies, no proxy, and a connect step that resolves the host itself, refuses the connection when ANY resolved address is not
/// allowed (mixed answers cannot slip through), and only then dials an allowed address.</summary>
internal sealed class WebhookHttpDriver : IWebhookHttpDriver, IDisposable
{
    private const int ExcerptBytes = 1024;

    /// <summary>Is how long an endpoint's gate is kept without a request.</summary>
    internal static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Is how many connections one process dials to one host and port at once (ADR 0790); more wait for a dial to end.</summary>
    internal const int DialsPerHost = 8;

    private readonly HttpClient client;
    // Striped by host and port: a fixed set, never swept; two hosts that share a stripe share its dials, which only paces them.
    private readonly SemaphoreSlim[] dials = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(DialsPerHost, DialsPerHost)).ToArray();
    private readonly WebhookClientSettings settings;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, EndpointGate> gates = new();
    private long nextSweep = Environment.TickCount64 + (long)IdleLifetime.TotalMilliseconds;

    public WebhookHttpDriver(WebhookClientSettings settings, IWebhookResolver resolver)
    {
        this.settings = settings;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(settings.TimeoutSeconds),
            MaxConnectionsPerServer = settings.MaxConnectionsPerHost,
            ConnectCallback = (context, token) => ConnectAsync(resolver, settings.AllowLoopback, context.DnsEndPoint, token,
                dials[(int)((uint)HashCode.Combine(context.DnsEndPoint.Host, context.DnsEndPoint.Port) % (uint)dials.Length)]),
        };
        client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Takes the endpoint's gate (creating it if needed) and counts a user of it, so that the sweep does not drop it under a request.</summary>
    private EndpointGate Acquire(Guid endpointId)
    {
        while (true)
        {
            var gate = gates.GetOrAdd(endpointId, _ => new EndpointGate(settings.MaxInFlightPerEndpoint));
            lock (gate)
            {
                if (!gate.Dropped)
                {
                    gate.Users++;
                    return gate;
                }
            }
        }
    }

    private void Release(EndpointGate gate)
    {
        lock (gate)
        {
            gate.Users--;
            gate.LastUsed = Environment.TickCount64;
        }
        var now = Environment.TickCount64;
        var due = Interlocked.Read(ref nextSweep);
        if (now >= due && Interlocked.CompareExchange(ref nextSweep, now + 60_000, due) == due)
        {
            Sweep(now - (long)IdleLifetime.TotalMilliseconds);
        }
    }

    /// <summary>Drops the gates without a user and unused since before idleBefore (a tick count).</summary>
    internal void Sweep(long idleBefore)
    {
        foreach (var (endpointId, gate) in gates)
        {
            lock (gate)
            {
                if (gate.Dropped || gate.Users > 0 || gate.LastUsed >= idleBefore)
                {
                    continue;
                }
                gate.Dropped = true;
            }
            gates.TryRemove(new KeyValuePair<Guid, EndpointGate>(endpointId, gate));
            gate.Turns.Dispose();
        }
    }

    private sealed class EndpointGate(int turns)
    {
        public SemaphoreSlim Turns { get; } = new(turns, turns);

        public int Users { get; set; }

        public long LastUsed { get; set; } = Environment.TickCount64;

        public bool Dropped { get; set; }
    }

    /// <summary>Resolves the endpoint's host (or takes its literal address), judges every address with WebhookAddressPolicy, and connects to the first allowed one;
    /// with a dial gate, only while holding one of its turns.</summary>
    /// <remarks>The gate paces new connections to a host (ADR 0790): when a burst of deliveries meets an empty pool, the client would otherwise dial every
    /// connection it may open at once, and a receiver that accepts them more slowly than they come overflows its accept queue; the kernel drops those
    /// handshakes and retries them only after 1 s and 3 s, which the deliveries then wait in their slots.</remarks>
    internal static async ValueTask<Stream> ConnectAsync(IWebhookResolver resolver, bool allowLoopback, DnsEndPoint endPoint, CancellationToken cancellationToken,
        SemaphoreSlim? dialGate = null)
    {
        var addresses = IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await resolver.ResolveAsync(endPoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        foreach (var address in addresses)
        {
            if (!WebhookAddressPolicy.IsAllowed(address, allowLoopback))
            {
                throw new WebhookAddressRefusedException(address, WebhookAddressPolicy.Classify(address));
            }
        }
        if (dialGate is not null)
        {
            await dialGate.WaitAsync(cancellationToken);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            dialGate?.Release();
        }
    }

    public async Task<WebhookResponse> SendAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Url)
        {
            Content = new StringContent(request.Body, Encoding.UTF8, "application/json"),
        };
        message.Content.Headers.ContentType!.CharSet = null;
        message.Headers.TryAddWithoutValidation("User-Agent", "Platform-Webhooks/1");
        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        var clock = Stopwatch.StartNew();
        var gate = Acquire(request.EndpointId);
        var entered = false;
        try
        {
            await gate.Turns.WaitAsync(timeout.Token);
            entered = true;
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var excerpt = await ExcerptAsync(response, timeout.Token);
            var latency = Elapsed(clock);
            return status is >= 200 and < 300
                ? new WebhookResponse(true, status, latency, excerpt, null)
                : new WebhookResponse(false, status, latency, excerpt,
                    status is >= 300 and < 400 ? $"HTTP {status}: redirects are not followed" : $"HTTP {status}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookResponse(false, null, Elapsed(clock), null, entered
                ? $"timeout: no answer within {settings.TimeoutSeconds} s"
                : $"timeout: not sent within {settings.TimeoutSeconds} s ({settings.MaxInFlightPerEndpoint} requests to this endpoint were in flight)");
        }
        catch (HttpRequestException e)
        {
            return new WebhookResponse(false, null, Elapsed(clock), null, Describe(e));
        }
        finally
        {
            if (entered)
            {
                gate.Turns.Release();
            }
            Release(gate);
        }
    }

    public void Dispose() => client.Dispose();

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is WebhookAddressRefusedException refused)
            {
                return refused.Message;
            }
        }
        var root = e.InnerException ?? e;
        return $"connection failed: {root.Message}";
    }

    private static int Elapsed(Stopwatch clock) => (int)Math.Min(int.MaxValue, clock.ElapsedMilliseconds);

    /// <summary>Reads at most the first KiB of the answer as text (invalid UTF-8 becomes U+FFFD) and leaves the rest unread.</summary>
    private static async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[ExcerptBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        if (read == 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(buffer, 0, read).Replace("\0", "", StringComparison.Ordinal);
        // A KiB of bytes may decode to more than 1024 characters only if it does not; cut at 1024 characters to fit the column.
        // Never between the halves of a surrogate pair: an unpaired half cannot be stored (ADR 0180).
        if (text.Length <= ExcerptBytes)
        {
            return text;
        }
        return char.IsHighSurrogate(text[ExcerptBytes - 1]) ? text[..(ExcerptBytes - 1)] : text[..ExcerptBytes];
    }
}
