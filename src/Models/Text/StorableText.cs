namespace Platform.Models.Text;

/// <summary>Tells whether text can be stored by PostgreSQL: no U+0000 and no surrogate without its partner.</summary>
/// <remarks>PostgreSQL refuses both in text and jsonb (22021, 22P05); a refused parameter fails at Bind, the case that once
/// poisoned pooled connections. The edge (StorableTextMiddleware) and the engines' pipeline (StorableTextBehavior) use this check.</remarks>
public static class StorableText
{
    /// <summary>Is the message a refusal names a field with when it holds U+0000.</summary>
    public const string NulMessage = "The text contains U+0000 (NUL), which cannot be stored.";

    /// <summary>Is the message a refusal names a field with when it holds a lone surrogate.</summary>
    public const string SurrogateMessage = "The text contains an unpaired UTF-16 surrogate, which cannot be stored.";

    /// <summary>Returns null when the text can be stored, or the message that says why it cannot.</summary>
    public static string? Problem(ReadOnlySpan<char> text)
    {
        // Both searches are vectorised; text without NUL or surrogates (almost all of it) costs two passes and no branch per char.
        if (text.IndexOf('\0') >= 0)
        {
            return NulMessage;
        }
        var at = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        return at < 0 ? null : SurrogatesArePaired(text[at..]) ? null : SurrogateMessage;
    }

    /// <summary>Tells whether the text can be stored.</summary>
    public static bool IsStorable(ReadOnlySpan<char> text) => Problem(text) is null;

    private static bool SurrogatesArePaired(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }
}
