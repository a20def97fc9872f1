using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Platform.Tests.Testing;

/// <summary>Gives every request the same client IP, as a client behind one address would have (the in-process test server has none).</summary>
public sealed class FixedClientIp(IPAddress ip) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Connection.RemoteIpAddress = ip;
            return nextMiddleware();
        });
        next(app);
    };
}

/// <summary>Disposes the responses of a parallel burst.</summary>
public static class Responses
{
    public static void DisposeAll(IEnumerable<HttpResponseMessage> responses)
    {
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }
}
