-- Scheduling that knows the hosts' real calendars: connected calendars (CalDAV accounts and
-- iCalendar feeds) with their busy times kept here for every replica, bookings written back
-- into a CalDAV calendar, meeting places, booking questions and reminders.

-- Where a host meets: their own video link and phone number (a call type may use them).
alter table hosts
    add column video_url text,
    add column phone text;

-- A call type's meeting place (null: none said), questions and reminders.
alter table call_types
    add column location jsonb,
    add column questions jsonb not null default '[]',
    add column reminder_minutes integer[] not null default '{}';

-- What the visitor answered (a snapshot of each question with its answer), and their phone
-- number when the host calls them.
alter table bookings
    add column answers jsonb not null default '[]',
    add column phone text not null default '';

-- A host's connected calendar. The URL (a feed's "secret address" is a credential itself)
-- and the password are sealed (AEAD, see src/sealed.rs); admins see only a hint.
create table host_calendars (
    id              uuid primary key,
    host_id         uuid not null references hosts (admin_id) on delete cascade,
    kind            text not null constraint host_calendars_kind_check check (kind in ('caldav', 'ical')),
    name            text not null default '',
    url_sealed      bytea not null,
    url_hint        text not null,
    username        text,
    password_sealed bytea,
    -- CalDAV: the collections read for busy times, and the one bookings are written into
    -- (paths or URLs on the account's server).
    read_paths      text[] not null default '{}',
    write_path      text,
    active          boolean not null default true,
    -- The refresher's bookkeeping: when it last tried, when it last succeeded, and why not.
    attempted_at    timestamptz,
    synced_at       timestamptz,
    last_error      text,
    busy_count      integer not null default 0,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint host_calendars_caldav check (kind = 'ical' or write_path is not null or cardinality(read_paths) > 0)
);
create index host_calendars_host_idx on host_calendars (host_id);
create index host_calendars_due_idx on host_calendars (attempted_at nulls first) where active;

-- Busy times read from a connected calendar (recurrences expanded), replaced whole at each
-- refresh. `uid` lets a booking written into the calendar not count against itself.
create table host_busy (
    calendar_id uuid not null references host_calendars (id) on delete cascade,
    host_id     uuid not null references hosts (admin_id) on delete cascade,
    during      tstzrange not null,
    uid         text not null default ''
);
create index host_busy_host_idx on host_busy using gist (host_id, during);
create index host_busy_calendar_idx on host_busy (calendar_id);

-- Where a booking was written into a host's CalDAV calendar, to update or remove it there.
-- Kept when the booking itself is erased, so that the copy is removed from the calendar too.
create table booking_calendar_events (
    booking_id  uuid not null,
    calendar_id uuid not null references host_calendars (id) on delete cascade,
    href        text not null,
    etag        text,
    written_at  timestamptz not null default now(),
    primary key (booking_id, calendar_id)
);

-- Reminders sent: one per booking, start time and offset, whatever retries or replicas do.
create table booking_reminders (
    booking_id uuid not null references bookings (id) on delete cascade,
    starts_at  timestamptz not null,
    minutes    integer not null,
    sent_at    timestamptz not null default now(),
    primary key (booking_id, starts_at, minutes)
);

alter table outbox_jobs drop constraint outbox_jobs_kind_check,
    add constraint outbox_jobs_kind_check
        check (kind in ('email', 'webhook', 'newsletter.start', 'newsletter.delivery',
                        'calendar.booking', 'booking.reminder'));
