namespace Platform.Models.Errors;

/// <summary>Signals that the payment provider (Stripe) refused or failed a call, translated into a problem the caller can act on (ADR 0722):
/// 402 a card declined, 409 a conflict with what Stripe holds, 422 a request Stripe finds invalid, 502 Stripe failed, 503 Stripe unreachable
/// or rate limited (retry after RetryAfterSeconds). The provider's own message and decline code are carried; its keys and ids of others never.</summary>
public sealed class PaymentProviderException(int status, string code, string message, string? providerCode = null, string? declineCode = null)
    : PlatformException(code, message)
{
    /// <summary>Gets the HTTP status of the problem: 402, 409, 422, 502 or 503.</summary>
    public int Status { get; } = status;

    /// <summary>Gets Stripe's error code (card_declined, resource_missing, …), or null.</summary>
    public string? ProviderCode { get; } = providerCode;

    /// <summary>Gets Stripe's decline code of a declined card (insufficient_funds, …), or null.</summary>
    public string? DeclineCode { get; } = declineCode;

    /// <summary>Is how long a caller should wait before retrying a 503, in seconds.</summary>
    public const int RetryAfterSeconds = 5;
}
