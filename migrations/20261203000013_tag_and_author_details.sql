-- tags, authors (blog): what Ghost front-ends show of a tag (image, accent colour, SEO and
-- social cards) and of an author (cover image, website, location, social handles, SEO),
-- each field optional.
alter table tags add column details jsonb not null default '{}';
alter table authors add column profile jsonb not null default '{}';
