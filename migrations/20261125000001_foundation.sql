-- Foundation: admin users, login sessions, API tokens, login throttling, the audit log,
-- the site profile and the services catalogue.

create table admin_users (
    id            uuid primary key,
    email         text not null constraint admin_users_email_key unique
                  constraint admin_users_email_lowercase check (email = lower(email)),
    display_name  text not null,
    role          text not null constraint admin_users_role_check
                  check (role in ('owner', 'editor', 'sales')),
    password_hash text not null,
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);

-- A login token. Only the SHA-256 of the token is stored.
create table auth_sessions (
    id          uuid primary key,
    admin_id    uuid not null references admin_users (id) on delete cascade,
    token_hash  bytea not null constraint auth_sessions_token_hash_key unique,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    revoked_at  timestamptz
);
create index auth_sessions_admin_id_idx on auth_sessions (admin_id);

-- A named token for an integration, limited to its scopes.
create table api_tokens (
    id           uuid primary key,
    name         text not null,
    token_hash   bytea not null constraint api_tokens_token_hash_key unique,
    scopes       text[] not null,
    created_by   uuid references admin_users (id) on delete set null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Failed logins, counted per email (hashed: typed emails need not be real users) and per IP.
create table login_failures (
    id          bigint generated always as identity primary key,
    email_hash  bytea not null,
    ip          inet,
    failed_at   timestamptz not null default now()
);
create index login_failures_email_idx on login_failures (email_hash, failed_at);
create index login_failures_ip_idx on login_failures (ip, failed_at);

-- Every admin write: who, what, when, from where.
create table audit_log (
    id           uuid primary key,
    occurred_at  timestamptz not null default now(),
    actor_kind   text not null constraint audit_log_actor_kind_check
                 check (actor_kind in ('admin', 'api_token', 'cli', 'system')),
    actor_id     uuid,
    actor_label  text not null,
    action       text not null,
    target_type  text not null,
    target_id    text,
    ip           inet,
    details      jsonb not null default '{}'
);
create index audit_log_action_idx on audit_log (action, id desc);
create index audit_log_actor_idx on audit_log (actor_id, id desc);

-- The firm's public profile: exactly one row once set.
create table site_profile (
    singleton      boolean primary key default true constraint site_profile_singleton check (singleton),
    firm_name      text not null,
    tagline        text not null default '',
    contact_email  text not null,
    phone          text,
    postal_address jsonb,
    social_links   jsonb not null default '[]',
    public_url     text not null,
    updated_at     timestamptz not null default now()
);

-- "Our expertise": the firm's offerings.
create table catalogue_services (
    id            uuid primary key,
    slug          text not null constraint catalogue_services_slug_key unique
                  constraint catalogue_services_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title         text not null,
    summary       text not null,
    body_markdown text not null default '',
    icon          text,
    display_order integer not null default 0,
    published     boolean not null default false,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index catalogue_services_public_idx on catalogue_services (display_order, title) where published;
