using FluentValidation;
using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Engines.Plans;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Webhooks;

namespace Platform.Engines.Billing;

/// <summary>Closes an ended UTC month ("yyyy-MM") for every tenant (the system, or a billing or super_admin operator): prices each tenant's month and stores one open invoice per tenant that owes something; closing again creates nothing new.</summary>
public sealed record CloseBillingPeriod(Caller Caller, string? Period) : IRequest<BillingCloseSummary>, ICallerCommand;

/// <summary>Holds what a close did: the month, invoices created now and their total in cents, tenants skipped because the month was already invoiced for them, and tenants with nothing to bill.</summary>
public sealed record BillingCloseSummary(
    string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, int InvoicesCreated, long CreatedTotalCents,
    long SkippedAlreadyInvoiced, int NothingToBill, long PeriodInvoices, long PeriodTotalCents, TimeSpan Elapsed);

internal sealed class CloseBillingPeriodValidator : AbstractValidator<CloseBillingPeriod>
{
    public CloseBillingPeriodValidator()
    {
        RuleFor(c => c.Period).NotEmpty().Must(p => MonthlyInvoicePricing.ParsePeriod(p) is not null)
            .WithMessage("The period must be a month written yyyy-MM, such as 2026-10.");
    }
}

internal sealed class CloseBillingPeriodHandler(
    IDbSessionFactory sessions, IInvoiceDriver invoices, IStripeDriver stripe, IMediator mediator, WebhookEvents events, BillingOptions options, MeterCatalog meterCatalog, IClock clock, ILogger<CloseBillingPeriodHandler> logger)
    : IRequestHandler<CloseBillingPeriod, BillingCloseSummary>
{
    public async Task<BillingCloseSummary> Handle(CloseBillingPeriod command, CancellationToken cancellationToken)
    {
        var caller = command.Caller;
        if (caller.Kind != CallerKind.System)
        {
            var role = OperatorGate.Require(caller, OperatorRole.Billing);
            if (role is not (OperatorRole.Billing or OperatorRole.SuperAdmin))
            {
                throw new ForbiddenException("Closing a billing period needs the billing or super_admin operator role.");
            }
        }
        var (start, end) = MonthlyInvoicePricing.ParsePeriod(command.Period)!.Value;
        var now = clock.UtcNow;
        if (end > now)
        {
            throw ValidationFailedException.For("period", $"The month {command.Period} has not ended yet; it can be closed from {end:yyyy-MM-dd}T00:00Z on.");
        }
        var started = System.Diagnostics.Stopwatch.StartNew();

        long existingBefore;
        MeterPricing pricing;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            existingBefore = (await invoices.FetchPeriodTotalsAsync(session, start, cancellationToken)).Invoices;
            // The catalogue's prices as they are now, read afresh (not the in-memory copy): a price set a moment ago applies (ADR 0640).
            var catalogue = await meterCatalog.LoadAsync(session, now, cancellationToken);
            pricing = new MeterPricing(catalogue.Prices, catalogue.Meters);
        }

        var created = 0;
        var createdTotal = 0L;
        var lostToOtherClosers = 0;
        var nothingToBill = 0;
        var dueDate = DateOnly.FromDateTime(now.UtcDateTime).AddDays(options.InvoiceDueDays);
        Guid? after = null;
        while (true)
        {
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            var candidates = await invoices.FetchCloseCandidatesAsync(session, start, end, after, options.CloseBatchSize, cancellationToken);
            if (candidates.Count == 0)
            {
                break;
            }
            after = candidates[^1].TenantId;
            var priced = new List<PricedInvoice>(candidates.Count);
            foreach (var candidate in candidates)
            {
                var period = MonthlyInvoicePricing.Price(start, end, candidate.Segments, candidate.Plan, candidate.Usage, candidate.Overrides, pricing,
                    candidate.Currency ?? options.DefaultCurrencyCode);
                if (stripe.Online)
                {
                    // Online, Stripe's subscription charges the plan's base (and its prorations) itself: our invoice carries what Stripe does not
                    // bill, the overages, and is pushed to Stripe after this commit (docs/decisions/0330).
                    period = period with { Lines = period.Lines.Where(l => l.Kind.StartsWith("overage:", StringComparison.Ordinal)).ToList() };
                }
                if (period.TotalCents > 0)
                {
                    priced.Add(new PricedInvoice(candidate.TenantId, Guid.CreateVersion7(), period, dueDate));
                }
                else
                {
                    nothingToBill++;
                }
            }
            if (priced.Count == 0)
            {
                continue;
            }
            var issued = await invoices.InsertPeriodInvoicesAsync(session, start, priced, caller.ActorType, caller.ActorId, now, cancellationToken);
            var byId = priced.ToDictionary(p => p.Id);
            await events.EmitAcrossTenantsAsync(session, WebhookEventTypes.InvoiceCreated, issued.Select(i => (i.TenantId, new InvoiceEventData(
                i.Id, i.Number, null, InvoiceStatus.Open, byId[i.Id].Priced.Currency, i.TotalCents, byId[i.Id].DueDate, null))), cancellationToken);
            await session.CommitAsync(cancellationToken);
            created += issued.Count;
            createdTotal += issued.Sum(i => i.TotalCents);
            lostToOtherClosers += priced.Count - issued.Count;
        }

        (long Invoices, long TotalCents) totals;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            totals = await invoices.FetchPeriodTotalsAsync(session, start, cancellationToken);
            await invoices.MarkPeriodClosedAsync(session, start, end, totals.Invoices, now, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        if (stripe.Online)
        {
            // After the invoices are committed: a pass safe to re-run (keys from our invoice ids); the lifecycle job retries what fails here.
            try
            {
                while (await mediator.Send(new PushInvoicesToStripe(), cancellationToken) > 0)
                {
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Billing: pushing {Period}'s invoices to Stripe failed; the lifecycle job retries", command.Period);
            }
        }
        return new BillingCloseSummary(command.Period!, start, end, created, createdTotal, existingBefore + lostToOtherClosers, nothingToBill,
            totals.Invoices, totals.TotalCents, started.Elapsed);
    }
}
