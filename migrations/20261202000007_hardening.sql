-- Hardening after an attacker's review: a generated link-signing key shared by every
-- replica, login attempts counted before the password is checked, sessions that remember
-- where they were opened, idempotency records that can be erased, and indexes for the
-- retention purge.

-- Secrets the service makes for itself (e.g. the link-signing key when SIGNING_SECRET is
-- unset): made once, shared by every replica.
create table app_secrets (
    name       text primary key,
    value      bytea not null,
    created_at timestamptz not null default now()
);

-- A login is counted as a failure from the moment it is tried; a success removes its row.
-- The IP is the client's address, or its /64 for IPv6.
create index login_failures_recent_idx on login_failures (failed_at);

-- Where a session was opened (the client's IP, or its /64): a sign-in from a network the
-- admin used before is not slowed down by failures that strangers caused.
alter table auth_sessions add column client_ip inet;
create index auth_sessions_expires_idx on auth_sessions (expires_at);

-- Idempotency records are scoped to the client that made them (in `scope`), keep only
-- what a replay needs, and name the person by a hash of their address so that an erasure
-- finds them.
alter table idempotency_keys add column email_hash bytea;
create index idempotency_keys_email_idx on idempotency_keys (email_hash) where email_hash is not null;

-- Retention: what the housekeeping purge looks for.
create index outbox_jobs_done_idx on outbox_jobs (done_at) where status = 'done';
create index webhook_deliveries_occurred_idx on webhook_deliveries (occurred_at);
create index bookings_retention_idx on bookings (ends_at);
