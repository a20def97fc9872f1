using Platform.Models.Billing;
using Stripe;

namespace Platform.Drivers.Stripe;

/// <summary>Holds the Stripe settings: the secret key (null means offline billing), an optional API base (tests point it at a local fake) and the price ids per plan and cycle.</summary>
public sealed record StripeSettings(string? SecretKey, string? ApiBase, IReadOnlyDictionary<string, string> PriceIds, string? WebhookSecret = null)
{
    public bool Online => !string.IsNullOrEmpty(SecretKey);

    /// <summary>Gets the Stripe price id of a plan and cycle in a currency (ADR 0720): configured under Stripe:Prices:{plan}_{cycle}_{currency}, else
    /// "price_{plan}_{cycle}_{currency}"; in USD, the primary currency, also Stripe:Prices:{plan}_{cycle}, else "price_{plan}_{cycle}" as before.</summary>
    public string PriceIdFor(string plan, string cycle, string currency = "usd")
    {
        if (PriceIds.TryGetValue($"{plan}_{cycle}_{currency}", out var id))
        {
            return id;
        }
        if (currency == "usd")
        {
            return PriceIds.TryGetValue($"{plan}_{cycle}", out var usd) ? usd : $"price_{plan}_{cycle}";
        }
        return $"price_{plan}_{cycle}_{currency}";
    }
}

/// <summary>Holds what billing keeps of a Stripe subscription it created.</summary>
public sealed record StripeSubscriptionResult(string Id, string Status);

/// <summary>Holds what billing keeps of a PaymentIntent: its id and the client secret the front end confirms it with (never stored).</summary>
public sealed record StripePaymentIntentResult(string Id, string ClientSecret);

/// <summary>Holds what billing keeps of a Stripe invoice it created for one of ours: Stripe's invoice id, status and payment intent (null until Stripe makes one).</summary>
public sealed record StripeInvoiceResult(string Id, string? Status, string? PaymentIntentId);

/// <summary>Is one line billing pushes to a Stripe invoice: an amount in cents, a description and its own idempotency key.</summary>
public sealed record StripeInvoiceLine(long AmountCents, string Description, string IdempotencyKey);

/// <summary>Holds a verified webhook event: its id, type, Stripe's creation time, the id and metadata of the object it carries, the customer it
/// belongs to, and the subscription, invoice or checkout session details when the object is one of those.</summary>
public sealed record StripeWebhookEvent(
    string Id,
    string Type,
    DateTimeOffset Created,
    string? ObjectId,
    IReadOnlyDictionary<string, string> Metadata,
    string? CustomerId = null,
    StripeSubscriptionState? Subscription = null,
    StripeInvoiceState? Invoice = null,
    StripeCheckoutState? Checkout = null,
    StripeCustomerState? Customer = null,
    CardSummary? PaymentMethod = null);

/// <summary>Holds a Stripe customer as customer.updated carries it: its billing email, name and address.</summary>
public sealed record StripeCustomerState(string Id, string? Email, string? Name, PostalAddress? Address);

/// <summary>Holds a Stripe subscription's state as an event carries it: status as Stripe names it, our plan and cycle (null when its price is not one of ours), the period (UTC) and the cancel flag.</summary>
public sealed record StripeSubscriptionState(
    string Id, string Status, string? Plan, string? Cycle, bool CancelAtPeriodEnd, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd);

/// <summary>Holds what billing uses of a Stripe invoice: its id, its subscription, the amount due in minor units, the currency and the customer's email.</summary>
public sealed record StripeInvoiceState(string Id, string? SubscriptionId, long AmountDue, string Currency, string? CustomerEmail);

/// <summary>Holds what billing uses of a completed Checkout session: its id, mode, subscription, client reference (our tenant id when we set it),
/// payment status (paid, unpaid, no_payment_required) and, in payment mode, its PaymentIntent.</summary>
public sealed record StripeCheckoutState(string Id, string? Mode, string? SubscriptionId, string? ClientReferenceId, string? PaymentStatus = null, string? PaymentIntentId = null);


/// <summary>Calls Stripe through Stripe.net; every call carries the idempotency key the engine derives from its own records.</summary>
public interface IStripeDriver
{
    /// <summary>Gets whether a secret key is configured (online billing).</summary>
    bool Online { get; }

    /// <summary>Creates the tenant's Stripe customer and returns its id.</summary>
    Task<string> CreateCustomerAsync(Guid tenantId, string name, string? email, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Creates a subscription of a customer to a plan's price, tagged with our tenant and subscription ids, and returns its id and status.</summary>
    Task<StripeSubscriptionResult> CreateSubscriptionAsync(string customerId, string plan, string cycle, string? paymentMethodId, Guid ourSubscriptionId, string idempotencyKey, CancellationToken cancellationToken, Guid? tenantId = null, string currency = "usd");

    /// <summary>Moves a subscription's item to a plan's price: with create_prorations (an upgrade, charged now for the rest of the period) or none (a downgrade, billed from the next renewal).</summary>
    Task<StripeSubscriptionResult> ChangeSubscriptionPriceAsync(string stripeSubscriptionId, string plan, string cycle, bool prorate, string idempotencyKey, CancellationToken cancellationToken,
        string currency = "usd");

    /// <summary>Sets or clears a subscription's cancel_at_period_end flag.</summary>
    Task<StripeSubscriptionResult> SetCancelAtPeriodEndAsync(string stripeSubscriptionId, bool cancelAtPeriodEnd, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Cancels a subscription now (DELETE /v1/subscriptions/{id}).</summary>
    Task<StripeSubscriptionResult> CancelSubscriptionNowAsync(string stripeSubscriptionId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Verifies a webhook's Stripe-Signature (HMAC and a 300 s timestamp tolerance) with Stripe.net's EventUtility and returns the event, or throws InvalidSignatureException.</summary>
    StripeWebhookEvent VerifyWebhook(string payload, string? signatureHeader, DateTimeOffset now);

    /// <summary>Creates a PaymentIntent for an amount in minor units of a currency, tagged with our tenant and purchase ids.</summary>
    /// <summary>Creates a Stripe invoice for the customer (charge_automatically, auto_advance) with our ids as metadata, attaches one invoice item per line
    /// (each with its own key), finalizes it and returns its id, status and payment intent; every call carries a key derived from our invoice.</summary>
    Task<StripeInvoiceResult> CreateFinalizedInvoiceAsync(string customerId, string currency, Guid tenantId, Guid ourInvoiceId, long number, IReadOnlyList<StripeInvoiceLine> lines,
        string idempotencyKey, string finalizeIdempotencyKey, CancellationToken cancellationToken);

    Task<StripePaymentIntentResult> CreatePaymentIntentAsync(string customerId, long amountCents, string currency, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Refunds an amount in minor units of a PaymentIntent (POST /v1/refunds), tagged with our tenant and purchase ids, and returns the refund's id.</summary>
    Task<string> RefundPaymentIntentAsync(string paymentIntentId, long amountCents, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Creates a Checkout Session in subscription mode for the customer and a plan's price (promotion codes allowed), tagged with our
    /// tenant, plan and cycle (the session and its subscription), and returns its id and URL.</summary>
    Task<StripeCheckoutSessionResult> CreateSubscriptionCheckoutAsync(string customerId, Guid tenantId, string plan, string cycle, string successUrl, string cancelUrl,
        string idempotencyKey, CancellationToken cancellationToken, string currency = "usd");

    /// <summary>Creates a Checkout Session in payment mode for one credit pack (an inline price), tagged with our tenant and purchase ids
    /// (the session and its PaymentIntent), and returns its id and URL.</summary>
    Task<StripeCheckoutSessionResult> CreatePackCheckoutAsync(string customerId, Guid tenantId, Guid purchaseId, string packName, long amountCents, string currency,
        string successUrl, string cancelUrl, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Creates a customer-portal session (cards, invoices, cancellation) returning to a URL, and returns the portal's URL.</summary>
    Task<string> CreatePortalSessionAsync(string customerId, string returnUrl, CancellationToken cancellationToken);
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
        return await StripeErrors.CallAsync<string>(async () =>
        {
            var customer = await Client.V1.Customers.CreateAsync(
                new CustomerCreateOptions { Name = name, Email = email, Metadata = new() { ["tenant_id"] = tenantId.ToString() } },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return customer.Id;
        }, cancellationToken);
    }

    public async Task<StripeSubscriptionResult> CreateSubscriptionAsync(string customerId, string plan, string cycle, string? paymentMethodId, Guid ourSubscriptionId, string idempotencyKey, CancellationToken cancellationToken, Guid? tenantId = null, string currency = "usd")
    {
        return await StripeErrors.CallAsync<StripeSubscriptionResult>(async () =>
        {
            var metadata = new Dictionary<string, string> { ["subscription_id"] = ourSubscriptionId.ToString(), ["plan"] = plan };
            if (tenantId is not null)
            {
                metadata["tenant_id"] = tenantId.Value.ToString();
            }
            var subscription = await Client.V1.Subscriptions.CreateAsync(
                new SubscriptionCreateOptions
                {
                    Customer = customerId,
                    Items = [new SubscriptionItemOptions { Price = settings.PriceIdFor(plan, cycle, currency) }],
                    DefaultPaymentMethod = paymentMethodId,
                    Metadata = metadata,
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeSubscriptionResult(subscription.Id, subscription.Status);
        }, cancellationToken);
    }

    public async Task<StripeSubscriptionResult> ChangeSubscriptionPriceAsync(string stripeSubscriptionId, string plan, string cycle, bool prorate, string idempotencyKey, CancellationToken cancellationToken,
        string currency = "usd")
    {
        return await StripeErrors.CallAsync<StripeSubscriptionResult>(async () =>
        {
            // The item id is read first (a GET needs no idempotency key); the change itself carries the key.
            var current = await Client.V1.Subscriptions.GetAsync(stripeSubscriptionId, null, null, cancellationToken);
            var item = current.Items?.Data?.FirstOrDefault()
                ?? throw new InvalidOperationException($"The Stripe subscription {stripeSubscriptionId} has no item.");
            var subscription = await Client.V1.Subscriptions.UpdateAsync(
                stripeSubscriptionId,
                new SubscriptionUpdateOptions
                {
                    Items = [new SubscriptionItemOptions { Id = item.Id, Price = settings.PriceIdFor(plan, cycle, currency) }],
                    ProrationBehavior = prorate ? "create_prorations" : "none",
                    Metadata = new() { ["plan"] = plan },
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeSubscriptionResult(subscription.Id, subscription.Status);
        }, cancellationToken);
    }

    public async Task<StripeSubscriptionResult> SetCancelAtPeriodEndAsync(string stripeSubscriptionId, bool cancelAtPeriodEnd, string idempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<StripeSubscriptionResult>(async () =>
        {
            var subscription = await Client.V1.Subscriptions.UpdateAsync(
                stripeSubscriptionId, new SubscriptionUpdateOptions { CancelAtPeriodEnd = cancelAtPeriodEnd },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeSubscriptionResult(subscription.Id, subscription.Status);
        }, cancellationToken);
    }

    public async Task<StripeSubscriptionResult> CancelSubscriptionNowAsync(string stripeSubscriptionId, string idempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<StripeSubscriptionResult>(async () =>
        {
            var subscription = await Client.V1.Subscriptions.CancelAsync(
                stripeSubscriptionId, new SubscriptionCancelOptions(), new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeSubscriptionResult(subscription.Id, subscription.Status);
        }, cancellationToken);
    }

    public async Task<StripePaymentIntentResult> CreatePaymentIntentAsync(string customerId, long amountCents, string currency, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<StripePaymentIntentResult>(async () =>
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
        }, cancellationToken);
    }

    public async Task<string> RefundPaymentIntentAsync(string paymentIntentId, long amountCents, Guid tenantId, Guid purchaseId, string idempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<string>(async () =>
        {
            var refund = await Client.V1.Refunds.CreateAsync(
                new RefundCreateOptions
                {
                    PaymentIntent = paymentIntentId,
                    Amount = amountCents,
                    Metadata = new() { ["tenant_id"] = tenantId.ToString(), ["credit_purchase_id"] = purchaseId.ToString() },
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return refund.Id;
        }, cancellationToken);
    }

    public async Task<StripeInvoiceResult> CreateFinalizedInvoiceAsync(string customerId, string currency, Guid tenantId, Guid ourInvoiceId, long number, IReadOnlyList<StripeInvoiceLine> lines,
        string idempotencyKey, string finalizeIdempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<StripeInvoiceResult>(async () =>
        {
            var metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId.ToString(), ["invoice_id"] = ourInvoiceId.ToString(), ["number"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            // The invoice first, then items attached to it by id: pending items of the customer (Stripe's subscription prorations) are never swept in.
            var invoice = await Client.V1.Invoices.CreateAsync(
                new InvoiceCreateOptions
                {
                    Customer = customerId,
                    Currency = currency,
                    CollectionMethod = "charge_automatically",
                    AutoAdvance = true,
                    PendingInvoiceItemsBehavior = "exclude",
                    Description = $"Usage invoice {number}",
                    Metadata = metadata,
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            foreach (var line in lines)
            {
                await Client.V1.InvoiceItems.CreateAsync(
                    new InvoiceItemCreateOptions
                    {
                        Customer = customerId,
                        Invoice = invoice.Id,
                        Amount = line.AmountCents,
                        Currency = currency,
                        Description = line.Description,
                        Metadata = metadata,
                    },
                    new RequestOptions { IdempotencyKey = line.IdempotencyKey }, cancellationToken);
            }
            var finalized = await Client.V1.Invoices.FinalizeInvoiceAsync(
                invoice.Id, new InvoiceFinalizeOptions { AutoAdvance = true }, new RequestOptions { IdempotencyKey = finalizeIdempotencyKey }, cancellationToken);
            var paymentIntentId = finalized.Payments?.Data?.Select(p => p.Payment?.PaymentIntentId).FirstOrDefault(id => !string.IsNullOrEmpty(id));
            return new StripeInvoiceResult(finalized.Id, finalized.Status, paymentIntentId);
        }, cancellationToken);
    }

    public async Task<StripeCheckoutSessionResult> CreateSubscriptionCheckoutAsync(string customerId, Guid tenantId, string plan, string cycle, string successUrl, string cancelUrl,
        string idempotencyKey, CancellationToken cancellationToken, string currency = "usd")
    {
        return await StripeErrors.CallAsync<StripeCheckoutSessionResult>(async () =>
        {
            var metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId.ToString(), ["plan"] = plan, ["cycle"] = cycle, ["currency"] = currency };
            var session = await Client.V1.Checkout.Sessions.CreateAsync(
                new global::Stripe.Checkout.SessionCreateOptions
                {
                    Mode = "subscription",
                    Customer = customerId,
                    ClientReferenceId = tenantId.ToString(),
                    LineItems = [new global::Stripe.Checkout.SessionLineItemOptions { Price = settings.PriceIdFor(plan, cycle, currency), Quantity = 1 }],
                    AllowPromotionCodes = true,
                    SuccessUrl = successUrl,
                    CancelUrl = cancelUrl,
                    Metadata = metadata,
                    SubscriptionData = new global::Stripe.Checkout.SessionSubscriptionDataOptions { Metadata = new Dictionary<string, string>(metadata) },
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeCheckoutSessionResult(session.Id, session.Url);
        }, cancellationToken);
    }

    public async Task<StripeCheckoutSessionResult> CreatePackCheckoutAsync(string customerId, Guid tenantId, Guid purchaseId, string packName, long amountCents, string currency,
        string successUrl, string cancelUrl, string idempotencyKey, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<StripeCheckoutSessionResult>(async () =>
        {
            var metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId.ToString(), ["credit_purchase_id"] = purchaseId.ToString() };
            var session = await Client.V1.Checkout.Sessions.CreateAsync(
                new global::Stripe.Checkout.SessionCreateOptions
                {
                    Mode = "payment",
                    Customer = customerId,
                    ClientReferenceId = tenantId.ToString(),
                    LineItems =
                    [
                        new global::Stripe.Checkout.SessionLineItemOptions
                        {
                            Quantity = 1,
                            PriceData = new global::Stripe.Checkout.SessionLineItemPriceDataOptions
                            {
                                Currency = currency,
                                UnitAmount = amountCents,
                                ProductData = new global::Stripe.Checkout.SessionLineItemPriceDataProductDataOptions { Name = packName },
                            },
                        },
                    ],
                    SuccessUrl = successUrl,
                    CancelUrl = cancelUrl,
                    Metadata = metadata,
                    PaymentIntentData = new global::Stripe.Checkout.SessionPaymentIntentDataOptions { Metadata = new Dictionary<string, string>(metadata) },
                },
                new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return new StripeCheckoutSessionResult(session.Id, session.Url);
        }, cancellationToken);
    }

    public async Task<string> CreatePortalSessionAsync(string customerId, string returnUrl, CancellationToken cancellationToken)
    {
        return await StripeErrors.CallAsync<string>(async () =>
        {
            var session = await Client.V1.BillingPortal.Sessions.CreateAsync(
                new global::Stripe.BillingPortal.SessionCreateOptions { Customer = customerId, ReturnUrl = returnUrl }, cancellationToken: cancellationToken);
            return session.Url;
        }, cancellationToken);
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
        var metadata = new Dictionary<string, string>((data as IHasMetadata)?.Metadata ?? new Dictionary<string, string>());
        var created = Utc(stripeEvent.Created);
        return data switch
        {
            Subscription subscription => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, subscription.Id, metadata,
                subscription.CustomerId, Subscription: ReadSubscription(subscription)),
            Invoice invoice => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, invoice.Id,
                Merge(metadata, invoice.Parent?.SubscriptionDetails?.Metadata), invoice.CustomerId,
                Invoice: new StripeInvoiceState(invoice.Id, invoice.Parent?.SubscriptionDetails?.SubscriptionId, invoice.AmountDue,
                    invoice.Currency ?? "usd", invoice.CustomerEmail)),
            global::Stripe.Checkout.Session session => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, session.Id, metadata,
                session.CustomerId, Checkout: new StripeCheckoutState(session.Id, session.Mode, session.SubscriptionId, session.ClientReferenceId, session.PaymentStatus, session.PaymentIntentId)),
            Customer customer => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, customer.Id, metadata, customer.Id,
                Customer: new StripeCustomerState(customer.Id, customer.Email, customer.Name, customer.Address is { } a
                    ? new PostalAddress(a.Line1, a.Line2, a.PostalCode, a.City, a.State, a.Country?.ToUpperInvariant())
                    : null)),
            PaymentMethod method => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, method.Id, metadata, method.CustomerId,
                PaymentMethod: new CardSummary(method.Id, method.Card?.Brand, method.Card?.Last4, method.Card is null ? null : (int)method.Card.ExpMonth,
                    method.Card is null ? null : (int)method.Card.ExpYear)),
            _ => new StripeWebhookEvent(stripeEvent.Id, stripeEvent.Type, created, (data as IHasId)?.Id, metadata),
        };
    }

    private StripeSubscriptionState ReadSubscription(Subscription subscription)
    {
        var item = subscription.Items?.Data?.FirstOrDefault();
        var (plan, cycle) = PlanOfPrice(item?.Price);
        plan ??= subscription.Metadata?.GetValueOrDefault("plan") is { } named && Models.Plans.PlanCatalog.Find(named) is not null ? named : null;
        return new StripeSubscriptionState(
            subscription.Id, subscription.Status, plan, cycle, subscription.CancelAtPeriodEnd,
            item is null || item.CurrentPeriodStart == default ? null : Utc(item.CurrentPeriodStart),
            item is null || item.CurrentPeriodEnd == default ? null : Utc(item.CurrentPeriodEnd));
    }

    /// <summary>Maps a Stripe price back to our plan and cycle through the configured price ids; the cycle falls back to the price's interval.</summary>
    private (string? Plan, string? Cycle) PlanOfPrice(Price? price)
    {
        var fallbackCycle = price?.Recurring?.Interval switch { "year" => "annual", "month" => "monthly", _ => null };
        if (price?.Id is null)
        {
            return (null, fallbackCycle);
        }
        foreach (var plan in Models.Plans.PlanCatalog.All)
        {
            foreach (var cycle in new[] { "monthly", "annual" })
            {
                if (plan.Prices.Any(p => settings.PriceIdFor(plan.Id, cycle, p.Currency) == price.Id))
                {
                    return (plan.Id, cycle);
                }
            }
        }
        return (null, fallbackCycle);
    }

    private static Dictionary<string, string> Merge(Dictionary<string, string> first, IDictionary<string, string>? second)
    {
        foreach (var (key, value) in second ?? new Dictionary<string, string>())
        {
            first.TryAdd(key, value);
        }
        return first;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private StripeClient Client => settings.Online ? client.Value : throw new InvalidOperationException("Stripe is not configured (Stripe:SecretKey); billing is offline.");
}
