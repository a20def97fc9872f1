using Platform.Drivers.Sessions;
using Platform.Models.Branding;

namespace Platform.Drivers.Branding;

/// <summary>Reads and writes a tenant's branding.</summary>
public interface IBrandingDriver
{
    /// <summary>Fetches the tenant's branding, or null when it set none (or the session cannot see the tenant).</summary>
    Task<TenantBranding?> FetchBrandingAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Stores the tenant's branding, replacing what it had.</summary>
    Task SaveBrandingAsync(IDbSession session, Guid tenantId, TenantBranding branding, string updatedBy, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class BrandingDriver : IBrandingDriver
{
    public Task<TenantBranding?> FetchBrandingAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken) =>
        session.FetchAsync(
            """
            SELECT logo_url, custom_css_url, primary_color, product_name, email_sender_name, logo_png
            FROM tenant_branding WHERE tenant_id = @tenantId
            """,
            new { tenantId }, (Row r) => new TenantBranding(r.LogoUrl, r.CustomCssUrl, r.PrimaryColor, r.ProductName, r.EmailSenderName) { LogoPng = r.LogoPng },
            cancellationToken);

    public async Task SaveBrandingAsync(IDbSession session, Guid tenantId, TenantBranding branding, string updatedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO tenant_branding (tenant_id, logo_url, custom_css_url, primary_color, product_name, email_sender_name, logo_png, updated_by, updated_at)
            VALUES (@tenantId, @LogoUrl, @CustomCssUrl, @PrimaryColor, @ProductName, @EmailSenderName, @LogoPng, @updatedBy, @now)
            ON CONFLICT (tenant_id) DO UPDATE SET
                logo_url = excluded.logo_url, custom_css_url = excluded.custom_css_url, primary_color = excluded.primary_color,
                product_name = excluded.product_name, email_sender_name = excluded.email_sender_name, logo_png = excluded.logo_png,
                updated_by = excluded.updated_by, updated_at = excluded.updated_at
            """,
            new { tenantId, branding.LogoUrl, branding.CustomCssUrl, branding.PrimaryColor, branding.ProductName, branding.EmailSenderName, branding.LogoPng, updatedBy, now },
            cancellationToken);
    }

    private sealed class Row
    {
        public string? LogoUrl { get; init; }
        public string? CustomCssUrl { get; init; }
        public string? PrimaryColor { get; init; }
        public string? ProductName { get; init; }
        public string? EmailSenderName { get; init; }
        public byte[]? LogoPng { get; init; }
    }
}
