namespace Platform.Models.Billing;

/// <summary>Holds a Checkout Session billing created: its id and the Stripe-hosted page the customer is sent to (a model, so that the API can
/// answer it without seeing the Stripe driver).</summary>
public sealed record StripeCheckoutSessionResult(string Id, string Url);
