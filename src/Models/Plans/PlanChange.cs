using Platform.Models.Billing;
using Platform.Models.Tenants;

namespace Platform.Models.Plans;

/// <summary>Holds the outcome of a plan change: the tenant as it is now and the features it lost at once, in name order (empty for an upgrade).
/// A downgrade keeps the data (SSO settings, domains, branding, endpoints) but stops the features; the response says which.</summary>
public sealed record PlanChange(TenantSnapshot Tenant, IReadOnlyList<string> FeaturesLost);

/// <summary>Holds the outcome of a subscription change: the subscription and the features the tenant lost at once (a cancellation now, or an
/// upgrade never loses any; a downgrade waits for the period end and loses them then).</summary>
public sealed record SubscriptionChange(SubscriptionSnapshot Subscription, IReadOnlyList<string> FeaturesLost);
