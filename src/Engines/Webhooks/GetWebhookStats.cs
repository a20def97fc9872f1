using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Operators;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Reads the operator's webhook figures across tenants since a time (default: the last 24 hours): attempts, successes, failures, latency p50/p99,
/// deliveries by status and the pending backlog. Any operator.</summary>
public sealed record GetWebhookStats(Caller Caller, DateTimeOffset? Since) : IRequest<WebhookStatsSnapshot>, ICallerCommand;

internal sealed class GetWebhookStatsValidator : AbstractValidator<GetWebhookStats>
{
    public GetWebhookStatsValidator(IClock clock) =>
        RuleFor(c => c.Since).Must(s => s is null || (s.Value <= clock.UtcNow && s.Value >= clock.UtcNow.AddDays(-3650)))
            .WithMessage("since must be a time in the past (at most ten years ago).");
}

internal sealed class GetWebhookStatsHandler(IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, IClock clock)
    : IRequestHandler<GetWebhookStats, WebhookStatsSnapshot>
{
    public async Task<WebhookStatsSnapshot> Handle(GetWebhookStats query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await deliveries.StatsAsync(session, query.Since ?? now.AddHours(-24), now, cancellationToken);
    }
}
