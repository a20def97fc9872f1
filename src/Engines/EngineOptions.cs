namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>Gets or sets the Stripe secret key; null or empty means billing runs offline.</summary>
    public string? StripeSecretKey { get; set; }

    /// <summary>Gets or sets the Stripe API base address (tests point it at a local fake); null means Stripe's own.</summary>
    public string? StripeApiBase { get; set; }

    /// <summary>Gets the Stripe price id per "{plan}_{cycle}" (for example "professional_monthly").</summary>
    public Dictionary<string, string> StripePriceIds { get; } = [];

    /// <summary>Gets or sets the signing secret of Stripe webhooks (whsec_...); without it every webhook is refused.</summary>
    public string? StripeWebhookSecret { get; set; }
}
