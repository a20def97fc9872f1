using Platform.Drivers.Billing;
using Platform.Drivers.Stripe;
using Platform.Engines.Sessions;

namespace Platform.Engines.Stripe;

/// <summary>Creates the tenant's Stripe customer on first need, with the idempotency key tenant-{id}-customer, inside the caller's transaction.</summary>
internal static class StripeCustomers
{
    public static async Task<string> EnsureAsync(IBillingDriver billing, IStripeDriver stripe, TenantScope scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var customerId = await billing.FetchStripeCustomerIdAsync(scope.Session, tenantId, cancellationToken);
        if (customerId is null)
        {
            customerId = await stripe.CreateCustomerAsync(tenantId, scope.Tenant.Name, scope.Tenant.BillingEmail, $"tenant-{tenantId}-customer", cancellationToken);
            await billing.InsertStripeCustomerAsync(scope.Session, tenantId, customerId, now, cancellationToken);
        }
        return customerId;
    }
}
