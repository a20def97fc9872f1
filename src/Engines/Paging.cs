using System.Buffers.Text;
using Platform.Models.Errors;

namespace Platform.Engines;

/// <summary>Encodes and decodes the opaque list cursors and checks page sizes (default 50, at most 200).</summary>
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static string Encode(Guid lastId) => Base64Url.EncodeToString(lastId.ToByteArray());

    public static Guid? DecodeGuid(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[16];
        if (cursor.Length != 22 || !Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != 16)
        {
            throw ValidationFailedException.For("cursor", "The cursor is not one this API issued.");
        }
        return new Guid(bytes);
    }

    /// <summary>Builds a page from rows fetched with limit + 1, so that the next cursor is null on the last page.</summary>
    public static Models.Page<T> ToPage<T>(IReadOnlyList<T> rowsPlusOne, int limit, Func<T, Guid> key)
    {
        if (rowsPlusOne.Count <= limit)
        {
            return new Models.Page<T>(rowsPlusOne, null);
        }
        var items = rowsPlusOne.Take(limit).ToList();
        return new Models.Page<T>(items, Encode(key(items[^1])));
    }
}
