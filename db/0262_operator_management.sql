-- Operator management over HTTP (issue 5): TOTP enrolment by the operator, and a reset that forces it.
-- totp_pending_secret_protected: a secret handed out by POST /v1/admin/auth/totp/enroll, active only once a code
-- from it is confirmed. totp_enrolment_required: set by a TOTP reset (and by promotion to super_admin without TOTP);
-- until it is cleared by a confirmed enrolment, the operator's tokens open only the enrolment routes.
ALTER TABLE platform_users
    ADD COLUMN totp_pending_secret_protected text,
    ADD COLUMN totp_enrolment_required boolean NOT NULL DEFAULT false;
