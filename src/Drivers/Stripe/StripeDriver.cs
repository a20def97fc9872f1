using Stripe;

namespace Platform.Drivers.Stripe;

/// <summary>Holds the Stripe settings: the secret key (null means offline billing), an optional API base (tests point it at a local fake) and the price ids per plan and cycle.</summary>
public sealed record StripeSettings(string? SecretKey, string? ApiBase, IReadOnlyDictionary<string, string> PriceIds, string? WebhookSecret = null)
{
    public bool Online => !string.IsNullOrEmpty(SecretKey);

    /// <summary>Gets the Stripe price id of a plan and cycle: configured under Stripe:Prices:{plan}_{cycle}, else "price_{plan}_{cycle}".</summary>
    public string PriceIdFor(string plan, string cycle) =>
        PriceIds.TryGetValue($"{plan}_{cycle}", out var id) ? id : $"price_{plan}_{cycle}";
}

/// <summary>Holds what billing keeps of a Stripe subscription it created.</summary>
public sealed record StripeSubscriptionResult(string Id, string Status);

/// <summary>Holds what billing keeps of a PaymentIntent: its id and the client secret the front end confirms it with (never stored).</summary>
public sealed record StripePaymentIntentResult(string Id, string ClientSecret);

/// <summary>Holds a verified webhook event: its id, type, Stripe's creation time, and the id and metadata of the object it carries.</summary>
public sealed record StripeWebhookEvent(string Id, string Type, DateTimeOffset Created, string? ObjectId, IReadOnlyDictionary<string, string> Metadata);

/// <summary>Calls Stripe through Stripe.net; every call carries the idempotency key the engine derives from its own records.</summary>
public interface IStripeDriver
{
    /// <summary>Gets whether a secret key is configured (online billing).</summary>
    bool Online { get; }

    /// <summary>Creates the tenant's Stripe customer and returns its id.</summary>
    Task<string> CreateCustomerAsync(Guid tenantId, string name, string? email, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Creates a subscription of a customer to a plan's price and returns its id and status.</summary>
    Task<StripeSubscriptionResult> CreateSubscriptionAsync(string customerId, string plan, string cycle, string? paymentMethodId, Guid ourSubscriptionId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Verifies a webhook's Stripe-Signature (HMAC and a 300 s timestamp tolerance) with Stripe.net's EventUtility and returns the event, or throws InvalidSignatureException.</summary>
    StripeWebhookEvent VerifyWebhook(string payload, string? signatureHeader, DateTimeOffset now);

    /// <summary>Creates a PaymentIntent for an amount in minor units of a currency, tagged with our tenant and purchase ids.</summary>
    Task<StripePaymentIntentResult> CreatePaymentIntentAsync(string customerId, long amountCents, string currency, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken);
}

internal sealed class StripeDriver(StripeSettings settings) : IStripeDriver
{
    private readonly Lazy<StripeClient> client = new(() => new StripeClient(new StripeClientOptions
    {
        ApiKey = settings.SecretKey,
        ApiBase = string.IsNullOrEmpty(settings.ApiBase) ? StripeClient.DefaultApiBase : settings.ApiBase,
    }));

    public bool Online => settings.Online;

    public async Task<string> CreateCustomerAsync(Guid tenantId, string name, string? email, string idempotencyKey, CancellationToken cancellationToken)
    {
        var customer = await Client.V1.Customers.CreateAsync(
            new CustomerCreateOptions { Name = name, Email = email, Metadata = new() { ["tenant_id"] = tenantId.ToString() } },
            new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
        return customer.Id;
    }

    public async Task<StripeSubscriptionResult> CreateSubscriptionAsync(string customerId, string plan, string cycle, string? paymentMethodId, Guid ourSubscriptionId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var subscription = await Client.V1.Subscriptions.CreateAsync(
            new SubscriptionCreateOptions
            {
                Customer = customerId,
                Items = [new SubscriptionItemOptions { Price = settings.PriceIdFor(plan, cycle) }],
                DefaultPaymentMethod = paymentMethodId,
                Metadata = new() { ["subscription_id"] = ourSubscriptionId.ToString(), ["plan"] = plan },
            },
            new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
        return new StripeSubscriptionResult(subscription.Id, subscription.Status);
    }

    public async Task<StripePaymentIntentResult> CreatePaymentIntentAsync(string customerId, long amountCents, string currency, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var intent = await Client.V1.PaymentIntents.CreateAsync(
            new PaymentIntentCreateOptions
            {
                Amount = amountCents,
                Currency = currency,
                Customer = customerId,
                AutomaticPaymentMethods = new PaymentIntentAutomaticPaymentMethodsOptions { Enabled = true },
                Metadata = new() { ["tenant_id"] = tenantId.ToString(), ["credit_purchase_id"] = purchaseId.ToString() },
            },
            new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
        return new StripePaymentIntentResult(intent.Id, intent.ClientSecret);
    }

    public StripeWebhookEvent VerifyWebhook(string payload, string? signatureHeader, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(settings.WebhookSecret))
        {
            throw new Models.Errors.InvalidSignatureException("No webhook secret is configured (Stripe:WebhookSecret).");
        }
        if (string.IsNullOrEmpty(signatureHeader))
        {
            throw new Models.Errors.InvalidSignatureException("The Stripe-Signature header is missing.");
        }
        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ConstructEvent(payload, signatureHeader, settings.WebhookSecret, 300, now.ToUnixTimeSeconds(), throwOnApiVersionMismatch: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new Models.Errors.InvalidSignatureException("The webhook signature or payload is not valid.");
        }
        var data = stripeEvent.Data?.Object;
        return new StripeWebhookEvent(
            stripeEvent.Id, stripeEvent.Type, new DateTimeOffset(DateTime.SpecifyKind(stripeEvent.Created, DateTimeKind.Utc)),
            (data as IHasId)?.Id, (data as IHasMetadata)?.Metadata ?? new Dictionary<string, string>());
    }

    private StripeClient Client => settings.Online ? client.Value : throw new InvalidOperationException("Stripe is not configured (Stripe:SecretKey); billing is offline.");
}
