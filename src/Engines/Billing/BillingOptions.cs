using System.ComponentModel.DataAnnotations;
using Platform.Models;

namespace Platform.Engines.Billing;

/// <summary>Holds billing's settings (section "Billing"): invoices, the monthly close, dunning, trials and the lifecycle job.</summary>
public sealed class BillingOptions
{
    /// <summary>Gets or sets how many days after issue an offline invoice falls due (Billing:InvoiceDueDays).</summary>
    [Range(0, 365)]
    public int InvoiceDueDays { get; set; } = 14;

    /// <summary>Gets or sets how many tenants the monthly close prices and stores per transaction (Billing:CloseBatchSize).</summary>
    [Range(1, 100_000)]
    public int CloseBatchSize { get; set; } = 1000;

    /// <summary>Gets or sets how often the close job checks whether the previous UTC month still needs closing, in minutes (Billing:CloseJobIntervalMinutes).</summary>
    [Range(1, 1440)]
    public int CloseJobIntervalMinutes { get; set; } = 15;

    /// <summary>Gets or sets how long a subscription may stay past_due before the dunning job suspends the tenant, in days (Billing:DunningGraceDays).</summary>
    [Range(0, 365)]
    public int DunningGraceDays { get; set; } = 7;

    /// <summary>Gets or sets what happens at the end of a trial without a live subscription: "free" (move to the free plan) or "suspend", in any case (Billing:TrialEndAction).</summary>
    [Required]
    [OneOf("free", "suspend")]
    public string TrialEndAction { get; set; } = "free";

    /// <summary>Gets whether a trial that ends without a live subscription suspends the tenant rather than moving it to the free plan.</summary>
    public bool SuspendsAtTrialEnd => string.Equals(TrialEndAction, "suspend", StringComparison.OrdinalIgnoreCase);

    /// <summary>Gets or sets how many days before a trial ends its reminder email is queued (Billing:TrialReminderDays).</summary>
    [Range(0, 365)]
    public int TrialReminderDays { get; set; } = 3;

    /// <summary>Gets or sets the installation's billing currency (Billing:DefaultCurrency, usd or eur): what a tenant is billed in until it chooses one at its
    /// first subscription or Checkout, after which its own is fixed (ADR 0720).</summary>
    [Required]
    [OneOf("usd", "eur")]
    public string DefaultCurrency { get; set; } = "usd";

    /// <summary>Gets the installation's currency as stored: lower-case ISO 4217.</summary>
    public string DefaultCurrencyCode => DefaultCurrency.ToLowerInvariant();

    /// <summary>Gets or sets how often the billing lifecycle job (dunning, trials, period ends) runs, in seconds (Billing:JobIntervalSeconds).</summary>
    [Range(1, 86_400)]
    public int JobIntervalSeconds { get; set; } = 300;
}
