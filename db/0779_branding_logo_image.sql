-- The tenant's logo as an image Platform keeps (ADR 0779), beside the logo URL: invoice PDFs embed it without fetching anything, so a
-- document renders the same bytes offline (ADR 0601, 0723). A PNG of at most 64 KB; the API checks the rest (dimensions, structure).
ALTER TABLE tenant_branding ADD COLUMN logo_png bytea
    CHECK (octet_length(logo_png) <= 65536 AND substring(logo_png FROM 1 FOR 8) = '\x89504e470d0a1a0a'::bytea);
