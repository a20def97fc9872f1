using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Platform.Api.Hosting;
using Platform.Models.Errors;
using Platform.Models.Text;

namespace Platform.Api.Input;

/// <summary>Refuses with 422 any request whose headers, route values, query or JSON body hold text PostgreSQL cannot store (U+0000, unpaired surrogates).</summary>
/// <remarks>It runs before authentication, so no credential, id or body with such text reaches an engine or the database (ADR 0180).
/// A JSON body is read once into memory (it is at most Platform:MaxRequestBodyBytes) and scanned token by token: every string
/// and property name at any depth, including documents bound to JsonElement. Raw invalid UTF-8 gets 400, as malformed JSON does;
/// malformed JSON itself is left to the binder, which names the position.</remarks>
internal sealed class StorableTextMiddleware(RequestDelegate next, PlatformOptions options)
{
    private const int MaxErrors = 20;

    public async Task InvokeAsync(HttpContext context)
    {
        Dictionary<string, string[]>? errors = null;
        var request = context.Request;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                Check(ref errors, "header:", name, value);
            }
        }
        foreach (var (key, value) in request.RouteValues)
        {
            if (value is string text)
            {
                Check(ref errors, "route:", key, text);
            }
        }
        if (request.QueryString.HasValue)
        {
            foreach (var (key, values) in request.Query)
            {
                if (StorableText.Problem(key) is { } keyProblem)
                {
                    Add(ref errors, "query", keyProblem);
                    continue;
                }
                foreach (var value in values)
                {
                    Check(ref errors, "query:", key, value);
                }
            }
        }
        if (errors is null && IsJson(request) && (request.ContentLength is null or > 0))
        {
            var body = await ReadBodyAsync(request, options.MaxRequestBodyBytes, context.RequestAborted);
            request.Body = new MemoryStream(body.Array!, body.Offset, body.Count, writable: false);
            if (!Utf8.IsValid(body))
            {
                throw new BadHttpRequestException("The body is not valid UTF-8.", StatusCodes.Status400BadRequest);
            }
            errors = JsonTextScan.FindUnstorable(body, MaxErrors);
        }
        if (errors is not null)
        {
            throw new ValidationFailedException(errors);
        }
        await next(context);
    }

    /// <summary>Tells whether the body is JSON as the binder will: the two usual Content-Type values are matched as text, without the media
    /// type parser's allocations (ADR 0812); any other value goes through the parser the binder uses.</summary>
    private static bool IsJson(HttpRequest request)
    {
        var contentType = request.ContentType;
        return string.Equals(contentType, "application/json", StringComparison.OrdinalIgnoreCase)
            || string.Equals(contentType, "application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)
            || contentType is not null && request.HasJsonContentType();
    }

    /// <summary>Checks one text; the field's name (kind + name) is only built for a problem, so a clean request allocates none (ADR 0812).</summary>
    private static void Check(ref Dictionary<string, string[]>? errors, string kind, string name, string? text)
    {
        if (text is not null && StorableText.Problem(text) is { } problem)
        {
            Add(ref errors, kind + name, problem);
        }
    }

    private static void Add(ref Dictionary<string, string[]>? errors, string field, string problem)
    {
        errors ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (errors.Count < MaxErrors)
        {
            errors.TryAdd(field, [problem]);
        }
    }

    /// <summary>Reads the whole body, refusing more than the limit with 413 (Kestrel enforces it too; the test host does not).</summary>
    private static async Task<ArraySegment<byte>> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream(request.ContentLength is { } length and <= int.MaxValue ? (int)length : 4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new BadHttpRequestException("The request body is too large.", StatusCodes.Status413PayloadTooLarge);
                }
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return new ArraySegment<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>Finds the strings and property names of a UTF-8 JSON document that PostgreSQL cannot store, naming each by its path (a.b[2].c).</summary>
internal static class JsonTextScan
{
    /// <summary>Returns the unstorable fields by path, or null when there are none or the JSON is malformed (the binder refuses that).</summary>
    /// <remarks>The caller has checked that the bytes are valid UTF-8. Unescaped JSON text then cannot hold U+0000 (raw control
    /// characters are not JSON) or a surrogate (UTF-8 has none), so only strings with a \u escape are decoded.</remarks>
    public static Dictionary<string, string[]>? FindUnstorable(ReadOnlySpan<byte> json, int maxErrors)
    {
        Dictionary<string, string[]>? errors = null;
        var path = new Path();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        path.NextElement();
                        path.Push(reader.TokenType == JsonTokenType.StartArray);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var frame = path.Top;
                        frame.NameStart = (int)reader.TokenStartIndex;
                        frame.NameLength = reader.ValueSpan.Length + 2;
                        if (Problem(ref reader) is { } nameProblem)
                        {
                            // The name itself is not echoed: the field is the object that holds it.
                            frame.NameLength = -1;
                            Add(ref errors, path.Format(json, path.Depth - 1), "A property name: " + nameProblem);
                        }
                        break;
                    case JsonTokenType.String:
                        path.NextElement();
                        if (Problem(ref reader) is { } problem)
                        {
                            Add(ref errors, path.Format(json, path.Depth), problem);
                        }
                        break;
                    default:
                        path.NextElement();
                        break;
                }
                if (errors?.Count >= maxErrors)
                {
                    break;
                }
            }
        }
        catch (JsonException)
        {
            return errors;
        }
        return errors;
    }

    private static string? Problem(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped || reader.ValueSpan.IndexOf("\\u"u8) < 0)
        {
            return null;
        }
        var length = reader.ValueSpan.Length;
        var rented = length > 256 ? ArrayPool<char>.Shared.Rent(length) : null;
        Span<char> chars = rented is null ? stackalloc char[256] : rented;
        try
        {
            var written = reader.CopyString(chars);
            return StorableText.Problem(chars[..written]);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a \uD800-\uDFFF escape without its partner.
            return StorableText.SurrogateMessage;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static void Add(ref Dictionary<string, string[]>? errors, string field, string problem)
    {
        errors ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
        errors.TryAdd(field, [problem]);
    }

    /// <summary>Is the current position: one frame per open object or array, reused as the depth goes up and down.</summary>
    private sealed class Path
    {
        private readonly List<Frame> frames = [];

        public int Depth { get; private set; }

        public Frame Top => frames[Depth - 1];

        public void Push(bool isArray)
        {
            if (Depth == frames.Count)
            {
                frames.Add(new Frame());
            }
            frames[Depth].Reset(isArray);
            Depth++;
        }

        public void Pop() => Depth--;

        public void NextElement()
        {
            if (Depth > 0 && Top.IsArray)
            {
                Top.Index++;
            }
        }

        /// <summary>Names the position of the first levels as System.Text.Json does without its "$.": "config.a.b", "events[3].meter", "body" for the root.</summary>
        public string Format(ReadOnlySpan<byte> json, int levels)
        {
            var name = new System.Text.StringBuilder();
            for (var i = 0; i < levels; i++)
            {
                var frame = frames[i];
                if (frame.IsArray)
                {
                    name.Append('[').Append(frame.Index).Append(']');
                }
                else if (frame.NameLength >= 0)
                {
                    var reader = new Utf8JsonReader(json.Slice(frame.NameStart, frame.NameLength));
                    reader.Read();
                    if (name.Length > 0)
                    {
                        name.Append('.');
                    }
                    name.Append(reader.GetString());
                }
            }
            return name.Length == 0 ? "body" : name.ToString();
        }
    }

    /// <summary>Is one level of the path: an array and its current index, or an object and where its current property name's token lies.</summary>
    private sealed class Frame
    {
        public bool IsArray { get; private set; }
        public int Index { get; set; }
        public int NameStart { get; set; }
        public int NameLength { get; set; }

        public void Reset(bool isArray)
        {
            IsArray = isArray;
            Index = -1;
            NameStart = 0;
            NameLength = -1;
        }
    }
}
