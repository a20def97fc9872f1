using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Platform.Api.Hosting;

namespace Platform.Tests.Domains;

/// <summary>Runs Debian's caddy with its internal CA and on-demand TLS asking the API, bound to loopback on free ports, its state in a temporary folder.</summary>
internal sealed class CaddyProcess : IAsyncDisposable
{
    /// <summary>Starts the real API (Kestrel on a free loopback port) with the given name servers, for caddy to ask and proxy to.</summary>
    public static async Task<WebApplication> StartApiAsync(string nameServers)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(Program).Assembly.GetName().Name });
        // No start-up warm-up: see LiveService.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Domains:NameServers"] = nameServers, ["Platform:WarmUp"] = "false" });
        builder.AddPlatformApi();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UsePlatformApi();
        await app.StartAsync();
        return app;
    }

    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly string folder;

    private CaddyProcess(Process process, string folder, int httpsPort)
    {
        this.process = process;
        this.folder = folder;
        HttpsPort = httpsPort;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpsPort { get; }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    public static async Task<CaddyProcess> StartAsync(int apiPort)
    {
        var folder = Directory.CreateTempSubdirectory("platform-caddy-").FullName;
        int httpPort = FreePort(), httpsPort = FreePort();
        var caddyfile = Path.Combine(folder, "Caddyfile");
        await File.WriteAllTextAsync(caddyfile,
            $$"""
            {
            	admin off
            	default_bind 127.0.0.1
            	http_port {{httpPort}}
            	https_port {{httpsPort}}
            	skip_install_trust
            	storage file_system {
            		root {{folder}}/data
            	}
            	on_demand_tls {
            		ask http://127.0.0.1:{{apiPort}}/v1/domains/allowed
            	}
            }

            https:// {
            	tls internal {
            		on_demand
            	}
            	reverse_proxy 127.0.0.1:{{apiPort}}
            }
            """);
        var start = new ProcessStartInfo(File.Exists("/usr/bin/caddy") ? "/usr/bin/caddy" : "caddy")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in new[] { "run", "--config", caddyfile, "--adapter", "caddyfile" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["HOME"] = folder;
        start.Environment["XDG_DATA_HOME"] = Path.Combine(folder, "xdg");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(folder, "xdg");
        var caddy = new CaddyProcess(Process.Start(start) ?? throw new InvalidOperationException("caddy did not start."), folder, httpsPort);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            Assert.That(caddy.process.HasExited, Is.False, $"caddy exited; is Debian's caddy installed? {caddy.Log}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, httpsPort);
                if (File.Exists(caddy.RootPath))
                {
                    return caddy;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"caddy did not listen or create its CA in time. {caddy.Log}");
            await Task.Delay(100);
        }
    }

    private string RootPath => Path.Combine(folder, "data", "pki", "authorities", "local", "root.crt");

    /// <summary>Gives a client that connects every name to caddy on 127.0.0.1 (the URL's name is the SNI and Host) and trusts only caddy's local root.</summary>
    public HttpClient Client(Action<X509Certificate2> seen)
    {
        var root = X509CertificateLoader.LoadCertificateFromFile(RootPath);
        var intermediate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Path.GetDirectoryName(RootPath)!, "intermediate.crt"));
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    {
                        return false;
                    }
                    var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(root);
                    chain.ChainPolicy.ExtraStore.Add(intermediate);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    var trusted = chain.Build(leaf);
                    if (trusted)
                    {
                        seen(leaf);
                    }
                    return trusted;
                },
            },
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left in the temporary folder.
        }
    }
}
