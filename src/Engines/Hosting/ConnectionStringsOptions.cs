using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Hosting;

/// <summary>Holds the connection strings (section "ConnectionStrings").</summary>
public sealed class ConnectionStringsOptions
{
    /// <summary>Gets or sets the service's connection, role platform_app (ConnectionStrings:Platform).</summary>
    [Required(ErrorMessage = "ConnectionStrings:Platform is not set; ./platform run sets it for the embedded database.")]
    public string? Platform { get; set; }

    /// <summary>Gets or sets the connection of the LISTEN connection (ConnectionStrings:PlatformListener); null uses the service's own. Set it to a direct
    /// (or session-pooled) connection when the service's goes through PgBouncer in transaction mode (ADR 0161).</summary>
    public string? PlatformListener { get; set; }

    /// <summary>Gets or sets the owner role's connection, used only to apply migrations (ConnectionStrings:PlatformOwner).</summary>
    public string? PlatformOwner { get; set; }
}
