-- Leads (consultation and plan requests), their timeline, idempotency keys, rate-limit
-- counters, the outbox of notifications (email and webhooks), webhook endpoints and their
-- delivery log, newsletter subscribers, and records of privacy erasures.

create sequence lead_reference_seq;

create table leads (
    id                   uuid primary key,
    reference            text not null constraint leads_reference_key unique
                         default 'FD-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('lead_reference_seq')::text, 6, '0'),
    kind                 text not null constraint leads_kind_check check (kind in ('consultation', 'plan', 'call')),
    status               text not null default 'new' constraint leads_status_check check
                         (status in ('new', 'contacted', 'qualified', 'proposal', 'won', 'lost', 'spam')),
    name                 text not null,
    first_name           text,
    last_name            text,
    email                text not null,
    phone                text,
    company              text,
    message              text not null default '',
    services             text[] not null default '{}',
    project_type         text,
    budget_range         text,
    timeline             text,
    consent_text_version text not null,
    consented_at         timestamptz not null,
    source_page          text,
    utm                  jsonb not null default '{}',
    client_ip            inet,
    assignee_id          uuid references admin_users (id) on delete set null,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    search               tsvector generated always as (
                             to_tsvector('simple', coalesce(name, '') || ' ' || email || ' ' ||
                                         coalesce(company, '') || ' ' || reference || ' ' || message)
                         ) stored
);
create index leads_inbox_idx on leads (id desc);
create index leads_email_idx on leads (email);
create index leads_search_idx on leads using gin (search);

-- What happened to a lead: created, status changes, assignment, notes.
create table lead_events (
    id          uuid primary key,
    lead_id     uuid not null references leads (id) on delete cascade,
    occurred_at timestamptz not null default now(),
    actor_label text not null,
    kind        text not null,
    details     jsonb not null default '{}'
);
create index lead_events_lead_idx on lead_events (lead_id, id);

-- A retried public POST with the same key gets the first answer and creates nothing new.
create table idempotency_keys (
    scope         text not null,
    key           text not null,
    request_hash  bytea not null,
    status        smallint,
    response      jsonb,
    created_at    timestamptz not null default now(),
    primary key (scope, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- Fixed-window counters shared by all replicas.
create table rate_limit_counters (
    bucket       text not null,
    window_start timestamptz not null,
    hits         integer not null,
    primary key (bucket, window_start)
);

create table webhook_endpoints (
    id          uuid primary key,
    url         text not null,
    events      text[] not null,
    secret      text not null,
    description text not null default '',
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- Work to do after a transaction commits, claimed by workers with FOR UPDATE SKIP LOCKED.
-- The job id is the delivery id a receiver can de-duplicate on.
create table outbox_jobs (
    id           uuid primary key,
    kind         text not null constraint outbox_jobs_kind_check check (kind in ('email', 'webhook')),
    payload      jsonb not null,
    status       text not null default 'pending' constraint outbox_jobs_status_check
                 check (status in ('pending', 'running', 'done', 'parked')),
    attempts     integer not null default 0,
    max_attempts integer not null,
    run_at       timestamptz not null default now(),
    locked_until timestamptz,
    last_error   text,
    delivered_via text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    done_at      timestamptz
);
create index outbox_jobs_due_idx on outbox_jobs (run_at) where status in ('pending', 'running');
create index outbox_jobs_kind_idx on outbox_jobs (kind, id desc);
create index outbox_jobs_parked_idx on outbox_jobs (id desc) where status = 'parked';

create table webhook_deliveries (
    id          uuid primary key,
    job_id      uuid not null references outbox_jobs (id) on delete cascade,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    attempt     integer not null,
    status_code integer,
    error       text,
    duration_ms integer not null,
    occurred_at timestamptz not null default now()
);
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc);

create table newsletter_subscribers (
    id                   uuid primary key,
    email                text not null constraint newsletter_subscribers_email_key unique,
    status               text not null constraint newsletter_subscribers_status_check
                         check (status in ('pending', 'confirmed', 'unsubscribed')),
    confirm_token_hash   bytea,
    confirm_expires_at   timestamptz,
    confirmation_sent_at timestamptz,
    consent_text_version text not null,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    confirmed_at         timestamptz,
    unsubscribed_at      timestamptz
);
create index newsletter_subscribers_token_idx on newsletter_subscribers (confirm_token_hash);

-- An erasure leaves only counts, under a hash of the address.
create table privacy_erasures (
    id          uuid primary key,
    email_hash  bytea not null,
    counts      jsonb not null,
    erased_at   timestamptz not null default now()
);
