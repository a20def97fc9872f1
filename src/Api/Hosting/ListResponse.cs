using Platform.Models;

namespace Platform.Api.Hosting;

/// <summary>Is the wire form of a list page; next_cursor is null on the last page.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Data, string? NextCursor)
{
    public static ListResponse<T> From<TSource>(Page<TSource> page, Func<TSource, T> map) =>
        new(page.Items.Select(map).ToList(), page.NextCursor);
}
