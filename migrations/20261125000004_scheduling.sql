-- Scheduling calls: hosts with weekly hours and date overrides, call types, and bookings
-- that can never overlap for one host (an exclusion constraint, buffers included).

create extension if not exists btree_gist;

create table hosts (
    admin_id            uuid primary key references admin_users (id) on delete cascade,
    time_zone           text not null,
    active              boolean not null default true,
    calendar_token_hash bytea constraint hosts_calendar_token_key unique,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

create table host_working_hours (
    id         uuid primary key,
    host_id    uuid not null references hosts (admin_id) on delete cascade,
    weekday    smallint not null constraint host_working_hours_weekday_check check (weekday between 1 and 7),
    start_time time not null,
    end_time   time not null,
    constraint host_working_hours_order check (end_time > start_time)
);
create index host_working_hours_host_idx on host_working_hours (host_id);

create table host_date_overrides (
    id         uuid primary key,
    host_id    uuid not null references hosts (admin_id) on delete cascade,
    day        date not null,
    kind       text not null constraint host_date_overrides_kind_check check (kind in ('day_off', 'extra')),
    start_time time,
    end_time   time,
    created_at timestamptz not null default now(),
    constraint host_date_overrides_hours check (
        (kind = 'day_off' and start_time is null and end_time is null)
        or (kind = 'extra' and start_time is not null and end_time > start_time))
);
create index host_date_overrides_host_idx on host_date_overrides (host_id, day);

create table call_types (
    id                    uuid primary key,
    slug                  text not null constraint call_types_slug_key unique
                          constraint call_types_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name                  text not null,
    description           text not null default '',
    duration_minutes      integer not null constraint call_types_duration check (duration_minutes between 5 and 480),
    buffer_before_minutes integer not null default 0 check (buffer_before_minutes between 0 and 240),
    buffer_after_minutes  integer not null default 0 check (buffer_after_minutes between 0 and 240),
    min_notice_minutes    integer not null default 240 check (min_notice_minutes >= 0),
    horizon_days          integer not null default 30 check (horizon_days between 1 and 365),
    slot_step_minutes     integer not null default 15 check (slot_step_minutes between 5 and 240),
    daily_cap             integer check (daily_cap > 0),
    active                boolean not null default true,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now()
);

create table call_type_hosts (
    call_type_id uuid not null references call_types (id) on delete cascade,
    host_id      uuid not null references hosts (admin_id) on delete cascade,
    primary key (call_type_id, host_id)
);

create table bookings (
    id                   uuid primary key,
    call_type_id         uuid not null references call_types (id),
    host_id              uuid not null references hosts (admin_id),
    starts_at            timestamptz not null,
    ends_at              timestamptz not null,
    -- The time the booking takes from the host: the call and its buffers.
    blocked              tstzrange not null,
    status               text not null default 'confirmed'
                         constraint bookings_status_check check (status in ('confirmed', 'cancelled')),
    first_name           text not null,
    last_name            text not null,
    email                text not null,
    notes                text not null default '',
    time_zone            text not null,
    consent_text_version text not null,
    lead_id              uuid references leads (id) on delete set null,
    manage_token_hash    bytea not null constraint bookings_manage_token_key unique,
    ical_uid             text not null constraint bookings_ical_uid_key unique,
    ical_sequence        integer not null default 0,
    cancelled_at         timestamptz,
    cancelled_by         text,
    cancel_reason        text,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint bookings_order check (ends_at > starts_at),
    -- Two confirmed bookings of one host can never overlap, whoever inserts them.
    constraint bookings_no_overlap exclude using gist (host_id with =, blocked with &&)
        where (status = 'confirmed')
);
create index bookings_host_time_idx on bookings (host_id, starts_at);
create index bookings_email_idx on bookings (email);
