-- Pages beside posts, the fields Ghost front-ends read (featured, captions, social cards,
-- tag order, site branding), Content API keys, and what a Ghost import remembers.

-- posts (blog): a page is a post of kind 'page' (same writing model: rendering, revisions,
-- drafts, slugs with redirects), outside the feed, series and share counts. Slugs stay
-- unique across both kinds: a Ghost site answers both at /{slug}/.
alter table posts
    add column kind text not null default 'post'
        constraint posts_kind_check check (kind in ('post', 'page')),
    add column featured boolean not null default false,
    -- 'markdown' (rendered at save) or 'html' (sanitized at save: imported bodies).
    add column body_format text not null default 'markdown'
        constraint posts_body_format_check check (body_format in ('markdown', 'html')),
    add column cover_image_caption text,
    -- Open Graph and Twitter card overrides: {og_image, og_title, og_description,
    -- twitter_image, twitter_title, twitter_description}, each optional.
    add column social jsonb not null default '{}',
    -- Pages: whether the front-end shows the title and cover image.
    add column show_title_and_feature_image boolean not null default true,
    add constraint posts_page_outside_series check (kind = 'post' or series_id is null);
drop index posts_public_order_idx;
create index posts_public_order_idx on posts (kind, published_at desc, id desc) where status = 'published';

-- The order of a post's tags: the first public one is its primary tag.
alter table post_tags add column position integer not null default 0;

-- site_profile (site): logo, icon, accent colour, navigation, default meta and social fields.
alter table site_profile add column branding jsonb not null default '{}';

-- Content API keys (blog): 26 hex characters as Ghost's clients require; public by design
-- (front-ends ship them to browsers), kept as a SHA-256 digest all the same.
create table content_api_keys (
    id          uuid primary key,
    name        text not null,
    key_sha256  bytea not null constraint content_api_keys_key unique,
    key_hint    text not null,
    created_by  text not null,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);

-- What a Ghost import made, by the export's own ids, so running it again changes nothing.
create table ghost_imports (
    kind       text not null constraint ghost_imports_kind_check
               check (kind in ('post', 'tag', 'author')),
    ghost_id   text not null,
    local_id   uuid not null,
    slug       text not null,
    imported_at timestamptz not null default now(),
    primary key (kind, ghost_id)
);
