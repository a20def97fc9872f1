namespace Platform.Tests.Email;

/// <summary>Removes the verification emails that every sign-up queues (ADR 0530), for tests that count the outbox's messages exactly.</summary>
internal static class QueuedAccountEmails
{
    public static async Task DropAsync()
    {
        // Platform-wide messages (tenant_id null) are visible to no service or owner session: only the superuser can remove them.
        using var superuser = Superuser.Start();
        await superuser.QueryAsync("DELETE FROM outbox_messages WHERE kind = 'email.verify_email'");
    }
}
