-- The newsletter that sends: a published post goes out as an issue to the confirmed list.
--
-- Subscribers choose topics (tag slugs; none: only what is sent to everyone), and an
-- address that hard-bounced or complained is suppressed: never mailed an issue again.
alter table newsletter_subscribers
    add column topics        text[] not null default '{}',
    add column suppressed    text constraint newsletter_subscribers_suppressed_check
                             check (suppressed in ('bounced', 'complained')),
    add column suppressed_at timestamptz;

-- An issue: one post sent once. The message is built from the post when sending starts
-- (`subject`, `html`, `text` hold it then, with per-recipient placeholders), so edits made
-- while it is scheduled go out and edits made while it is sending do not split the list.
create table newsletter_issues (
    id               uuid primary key,
    post_id          uuid not null,
    -- The post's slug when the issue was made (for admins; the post may be renamed later).
    post_slug        text not null,
    -- Empty until sending starts: the post's title and excerpt at that time.
    subject          text,
    preview_text     text,
    -- A tag slug: only subscribers who chose it. Null: every confirmed subscriber.
    topic            text,
    status           text not null constraint newsletter_issues_status_check
                     check (status in ('scheduled', 'sending', 'cancelled')),
    send_at          timestamptz not null,
    cancelled_reason text,
    created_by       uuid,
    html             text,
    text_body        text,
    recipients       integer not null default 0,
    started_at       timestamptz,
    -- When its last delivery is due: the next issue's pace starts after it.
    paced_until      timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint newsletter_issues_started check (status <> 'sending' or started_at is not null)
);
-- A post goes out once: a second issue of it would mail everyone twice. Only an issue
-- cancelled before it started sending frees the post.
create unique index newsletter_issues_post_key on newsletter_issues (post_id)
    where status <> 'cancelled' or started_at is not null;
create index newsletter_issues_order_idx on newsletter_issues (created_at desc, id desc);

-- One row per recipient of an issue, made when sending starts: the unique key is the
-- promise that nobody gets one issue twice. `sending` is written before the message goes
-- to the SMTP server and `sent` after; a delivery found `sending` again (its worker died
-- between the two) is marked `uncertain` and not sent again.
create table newsletter_deliveries (
    id          uuid primary key,
    issue_id    uuid not null references newsletter_issues (id) on delete cascade,
    email       text not null,
    status      text not null default 'queued' constraint newsletter_deliveries_status_check
                check (status in ('queued', 'sending', 'sent', 'failed', 'skipped', 'uncertain', 'cancelled')),
    via         text,
    error       text,
    -- What the provider reported afterwards.
    bounced     text constraint newsletter_deliveries_bounced_check
                check (bounced in ('bounced', 'complained')),
    sent_at     timestamptz,
    updated_at  timestamptz not null default now(),
    constraint newsletter_deliveries_once unique (issue_id, email)
);
create index newsletter_deliveries_email_idx on newsletter_deliveries (email);

-- The outbox carries the newsletter's two kinds of job: starting an issue at its time, and
-- mailing one recipient.
alter table outbox_jobs drop constraint outbox_jobs_kind_check,
    add constraint outbox_jobs_kind_check
        check (kind in ('email', 'webhook', 'newsletter.start', 'newsletter.delivery'));
