using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;

namespace Platform.Api.Errors;

/// <summary>Turns the empty-bodied error responses Kestrel writes itself (400, 408, 413, 414, 431, before any middleware runs) into problem details.</summary>
/// <remarks>Kestrel has no hook for these (Http1Connection sets a bad-request state and ProduceEnd writes a fixed response), so a connection
/// middleware wraps the transport's output and rewrites only a response whose head arrives in one write as
/// <c>HTTP/1.1 {status} ...</c> with <c>Content-Length: 0</c> and <c>Connection: close</c>; every other write passes straight through (ADR 0197).</remarks>
public static class KestrelRefusals
{
    private static readonly int[] Statuses = [400, 408, 413, 414, 431];

    /// <summary>Adds the rewriting to every endpoint Kestrel listens on.</summary>
    public static void Use(IConnectionBuilder connection) =>
        connection.Use(next => context =>
        {
            context.Transport = new Pipe(context.Transport, new RewritingWriter(context.Transport.Output, context.ConnectionId));
            return next(context);
        });

    /// <summary>Returns the problem-details response replacing a Kestrel error head, or null when the bytes are not one.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> written, string connectionId)
    {
        if (written.Length < 16 || written.Length > 1024 || !written.StartsWith("HTTP/1.1 4"u8) || !written.EndsWith("\r\n\r\n"u8))
        {
            return null;
        }
        var head = Encoding.ASCII.GetString(written);
        if (!int.TryParse(head.AsSpan(9, 3), out var status) || !Statuses.Contains(status)
            || !head.Contains("\r\nContent-Length: 0\r\n", StringComparison.Ordinal)
            || !head.Contains("\r\nConnection: close\r\n", StringComparison.Ordinal))
        {
            return null;
        }
        var (code, title) = status switch
        {
            400 => ("bad_request", "The request is malformed."),
            408 => ("request_timeout", "The request took too long to arrive."),
            413 => ("payload_too_large", "The request body is too large."),
            414 => ("uri_too_long", "The request line is too long."),
            _ => ("request_header_fields_too_large", "The request headers are too large."),
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["type"] = Problems.TypeFor(code),
            ["title"] = title,
            ["status"] = status,
            ["code"] = code,
            ["request_id"] = connectionId,
        });
        var lines = head[..^4].Split("\r\n").Where(l => !l.StartsWith("Content-Length:", StringComparison.Ordinal) && !l.StartsWith("Content-Type:", StringComparison.Ordinal));
        var rewritten = string.Join("\r\n", lines) + $"\r\nContent-Type: application/problem+json\r\nContent-Length: {body.Length}\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(rewritten), .. body];
    }

    private sealed class Pipe(IDuplexPipe inner, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;

        public PipeWriter Output => output;
    }

    /// <summary>Passes writes through, looking only at each write's first bytes to recognise a Kestrel error head.</summary>
    private sealed class RewritingWriter(PipeWriter inner, string connectionId) : PipeWriter
    {
        private Memory<byte> lastMemory;

        public override Memory<byte> GetMemory(int sizeHint = 0) => lastMemory = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (lastMemory = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            // The check costs a few byte comparisons for a write that does not start with "HTTP/1.1 4".
            if (bytes >= 16 && lastMemory.Length >= bytes && lastMemory.Span.StartsWith("HTTP/1.1 4"u8)
                && Rewrite(lastMemory.Span[..bytes], connectionId) is { } replacement)
            {
                inner.Write(replacement);
                return;
            }
            inner.Advance(bytes);
        }

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
