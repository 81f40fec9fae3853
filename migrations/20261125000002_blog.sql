-- The blog: authors, tags, series, posts (rendered at save), revisions, slug redirects and
-- share counters; full-text search over posts and the services catalogue.

create table authors (
    id          uuid primary key,
    slug        text not null constraint authors_slug_key unique
                constraint authors_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        text not null,
    bio         text not null default '',
    avatar_url  text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create table tags (
    id          uuid primary key,
    slug        text not null constraint tags_slug_key unique
                constraint tags_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        text not null,
    description text not null default '',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create table series (
    id          uuid primary key,
    slug        text not null constraint series_slug_key unique
                constraint series_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title       text not null,
    description text not null default '',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

create table posts (
    id               uuid primary key,
    slug             text not null constraint posts_slug_key unique
                     constraint posts_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title            text not null,
    excerpt          text not null,
    excerpt_is_generated boolean not null default false,
    body_markdown    text not null,
    -- Rendered when saved: sanitized HTML, the table of contents, plain text for search.
    body_html        text not null,
    body_text        text not null,
    toc              jsonb not null default '[]',
    word_count       integer not null,
    reading_minutes  integer not null,
    cover_image_url  text,
    cover_image_alt  text,
    series_id        uuid references series (id),
    series_part      integer constraint posts_series_part_positive check (series_part > 0),
    meta_title       text,
    meta_description text,
    canonical_url    text,
    status           text not null default 'draft' constraint posts_status_check
                     check (status in ('draft', 'scheduled', 'published', 'archived')),
    scheduled_at     timestamptz,
    published_at     timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    search           tsvector generated always as (
                         setweight(to_tsvector('english', title), 'A') ||
                         setweight(to_tsvector('english', excerpt), 'B') ||
                         setweight(to_tsvector('english', body_text), 'C')
                     ) stored,
    constraint posts_series_part_key unique (series_id, series_part),
    constraint posts_series_part_needs_series check (series_part is null or series_id is not null),
    constraint posts_scheduled_needs_time check (status <> 'scheduled' or scheduled_at is not null),
    constraint posts_published_needs_time check (status <> 'published' or published_at is not null)
);
create index posts_public_order_idx on posts (published_at desc, id desc) where status = 'published';
create index posts_due_idx on posts (scheduled_at) where status = 'scheduled';
create index posts_search_idx on posts using gin (search);
create index posts_series_idx on posts (series_id, series_part);

create table post_authors (
    post_id   uuid not null references posts (id) on delete cascade,
    author_id uuid not null references authors (id) on delete restrict,
    position  integer not null,
    primary key (post_id, author_id)
);
create index post_authors_author_idx on post_authors (author_id);

create table post_tags (
    post_id uuid not null references posts (id) on delete cascade,
    tag_id  uuid not null references tags (id) on delete cascade,
    primary key (post_id, tag_id)
);
create index post_tags_tag_idx on post_tags (tag_id);

-- A renamed post keeps answering at its old slugs, with a permanent redirect.
create table post_slug_redirects (
    old_slug   text primary key,
    post_id    uuid not null references posts (id) on delete cascade,
    created_at timestamptz not null default now()
);

-- The state of a post before each update, so an editor can restore it.
create table post_revisions (
    id          uuid primary key,
    post_id     uuid not null references posts (id) on delete cascade,
    revision    integer not null,
    snapshot    jsonb not null,
    created_by  text not null,
    created_at  timestamptz not null default now(),
    constraint post_revisions_number_key unique (post_id, revision)
);

-- Share counts, spread over shards so a burst on one post does not queue on one row.
create table post_share_counts (
    post_id uuid not null references posts (id) on delete cascade,
    network text not null constraint post_share_counts_network_check check (network in
            ('x', 'linkedin', 'facebook', 'reddit', 'hacker_news', 'email', 'copy_link')),
    shard   smallint not null,
    count   bigint not null default 0,
    primary key (post_id, network, shard)
);

alter table catalogue_services add column search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', summary), 'B') ||
    setweight(to_tsvector('english', body_markdown), 'C')
) stored;
create index catalogue_services_search_idx on catalogue_services using gin (search);
