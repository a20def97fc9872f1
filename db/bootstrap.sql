SET client_min_messages = warning;
-- Run once per cluster by a superuser (./platform does it for the embedded cluster).
-- Creates the three roles of the design:
--   platform_owner : owns the schema, runs migrations; not a superuser.
--   platform_app   : the service's login; owns nothing, NOSUPERUSER, NOBYPASSRLS.
--   platform_xt    : NOLOGIN; owns the few SECURITY DEFINER functions that must see
--                    across tenants (login by email, a user's tenant list, slug lookup).
-- psql variables: owner_password, app_password, dbname.
SELECT format('CREATE ROLE platform_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platform_owner') \gexec
SELECT format('CREATE ROLE platform_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platform_app') \gexec
SELECT 'CREATE ROLE platform_xt NOLOGIN NOSUPERUSER NOBYPASSRLS'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'platform_xt') \gexec
GRANT platform_xt TO platform_owner;
SELECT format('CREATE DATABASE %I OWNER platform_owner', :'dbname')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'dbname') \gexec
