namespace Platform.Engines.Stripe;

/// <summary>Holds the Stripe settings (section "Stripe"); without a secret key billing runs offline.</summary>
public sealed class StripeOptions
{
    /// <summary>Gets or sets the Stripe secret key (Stripe:SecretKey); null or empty means billing runs offline.</summary>
    public string? SecretKey { get; set; }

    /// <summary>Gets or sets the Stripe API base address (Stripe:ApiBase; tests point it at a local fake); null means Stripe's own.</summary>
    public string? ApiBase { get; set; }

    /// <summary>Gets or sets the signing secret of Stripe webhooks, whsec_... (Stripe:WebhookSecret); without it every webhook is refused.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Gets the Stripe price id per "{plan}_{cycle}", for example Stripe:Prices:professional_monthly.</summary>
    public Dictionary<string, string> Prices { get; } = [];
}
