using System.Text.Json;
using Platform.Drivers.Outbox;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Outbox;

namespace Platform.Engines.Email;

/// <summary>Puts an email into the outbox in the caller's transaction, so it is sent if and only if the change that caused it commits.</summary>
internal sealed class EmailOutbox(IOutboxDriver outbox, IClock clock)
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<Guid> EnqueueAsync(IDbSession session, Guid? tenantId, string kind, EmailContent email, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await outbox.EnqueueAsync(session, new NewOutboxMessage(id, tenantId, kind, JsonSerializer.Serialize(email, Json), clock.UtcNow), cancellationToken);
        return id;
    }

    public static EmailContent Read(string payload) =>
        JsonSerializer.Deserialize<EmailContent>(payload, Json) ?? throw new JsonException("The outbox payload is empty.");
}
