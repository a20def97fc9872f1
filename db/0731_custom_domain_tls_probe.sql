-- ssl_status becomes live (ADR 0731): the re-check job shakes hands with the reverse proxy (Domains:TlsProbeAddress) for each verified domain and
-- records the served certificate's end and when it looked.
ALTER TABLE custom_domains
    ADD COLUMN ssl_expires_at timestamptz,
    ADD COLUMN ssl_checked_at timestamptz;
