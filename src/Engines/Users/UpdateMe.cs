using System.Text;
using System.Text.Json;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Changes the signed-in user's profile: each field as sent in the JSON body (absent: unchanged; null clears avatar_url and default_tenant_id); name 1-200 characters (trimmed), avatar_url https only (at most 2,048), preferences a JSON object (at most 16 KiB, depth 10) that replaces the stored one, default_tenant_id a live tenant the user is a member of.</summary>
public sealed record UpdateMe(Caller Caller, JsonElement Name, JsonElement AvatarUrl, JsonElement Preferences, JsonElement DefaultTenantId) : IRequest<Me>;

internal sealed class UpdateMeHandler(IDbSessionFactory sessions, IUserDriver users, IAccountDriver accounts, ITenantDriver tenants, IClock clock)
    : IRequestHandler<UpdateMe, Me>
{
    public const int MostPreferencesBytes = 16 * 1024;
    public const int MostPreferencesDepth = 10;

    public async Task<Me> Handle(UpdateMe command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        var errors = new Dictionary<string, string[]>();
        var change = new ProfileChange(userId, false, null, false, null, false, null, false, null, clock.UtcNow);

        switch (command.Name.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.String when command.Name.GetString()!.Trim() is { Length: >= 1 and <= 200 } name && !HasControl(name):
                change = change with { SetName = true, Name = name };
                break;
            default:
                errors["name"] = ["Must be a string of 1 to 200 characters (trimmed), without control characters."];
                break;
        }

        switch (command.AvatarUrl.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.Null:
                change = change with { SetAvatarUrl = true, AvatarUrl = null };
                break;
            case JsonValueKind.String when IsHttpsUrl(command.AvatarUrl.GetString()!):
                change = change with { SetAvatarUrl = true, AvatarUrl = command.AvatarUrl.GetString() };
                break;
            default:
                errors["avatar_url"] = ["Must be an absolute https URL of at most 2048 characters, or null."];
                break;
        }

        switch (command.Preferences.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.Object:
                var json = JsonSerializer.Serialize(command.Preferences);
                if (Encoding.UTF8.GetByteCount(json) > MostPreferencesBytes)
                {
                    errors["preferences"] = [$"Must serialize to at most {MostPreferencesBytes} bytes."];
                }
                else if (Depth(command.Preferences) > MostPreferencesDepth)
                {
                    errors["preferences"] = [$"Must nest at most {MostPreferencesDepth} levels deep."];
                }
                else if (HasNul(command.Preferences))
                {
                    errors["preferences"] = ["Must not hold NUL characters."];
                }
                else
                {
                    change = change with { SetPreferences = true, PreferencesJson = json };
                }
                break;
            default:
                errors["preferences"] = ["Must be a JSON object."];
                break;
        }

        switch (command.DefaultTenantId.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.Null:
                change = change with { SetDefaultTenant = true, DefaultTenantId = null };
                break;
            case JsonValueKind.String when command.DefaultTenantId.TryGetGuid(out var tenantId):
                change = change with { SetDefaultTenant = true, DefaultTenantId = tenantId };
                break;
            default:
                errors["default_tenant_id"] = ["Must be a tenant id (uuid) or null."];
                break;
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        await using (var session = await sessions.OpenAsync(change.DefaultTenantId, userId, cancellationToken))
        {
            if (change.DefaultTenantId is { } t && !await accounts.IsMemberOfSessionTenantAsync(session, t, userId, cancellationToken))
            {
                throw ValidationFailedException.For("default_tenant_id", "Must be a tenant you are a member of.");
            }
            if (!await accounts.UpdateProfileAsync(session, change, cancellationToken))
            {
                throw new UnauthorizedException("The account no longer exists or is disabled.");
            }
            await session.CommitAsync(cancellationToken);
        }

        await using var read = await sessions.OpenAsync(null, userId, cancellationToken);
        var user = await users.FetchUserAsync(read, userId, cancellationToken)
            ?? throw new UnauthorizedException("The account no longer exists or is disabled.");
        var memberships = await tenants.ListMyTenantsAsync(read, after: null, limit: 1000, cancellationToken);
        return new Me(user, memberships);
    }

    private static bool HasControl(string value) => value.Any(char.IsControl);

    private static bool IsHttpsUrl(string value) =>
        value.Length <= 2048 && !value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
        && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Length > 0;

    private static int Depth(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => 1 + element.EnumerateObject().Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + element.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    private static bool HasNul(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Any(p => p.Name.Contains('\0') || HasNul(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(HasNul),
        JsonValueKind.String => element.GetString()!.Contains('\0'),
        _ => false,
    };
}
