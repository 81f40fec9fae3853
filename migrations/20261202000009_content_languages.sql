-- The language each post and service is written in (an ISO 639-1 code), and the text search
-- configuration it drives: that language's stemming and stop words, so "Datenbanken" finds
-- "Datenbank" in a German post as "databases" finds "database" in an English one. Languages
-- Postgres has no configuration for are searched word for word ('simple').
-- Rewriting the stored search columns rewrites posts and catalogue_services and rebuilds
-- their search indexes under an exclusive lock: seconds for a blog of thousands of posts
-- (reads wait meanwhile), so run it (MIGRATE_ON_START, or `frontdesk migrate`) when a short
-- pause in reads is acceptable.
create function text_search_config(language text) returns regconfig
    language sql immutable parallel safe strict
    return (case language
        when 'ar' then 'arabic' when 'hy' then 'armenian' when 'eu' then 'basque'
        when 'ca' then 'catalan' when 'da' then 'danish' when 'nl' then 'dutch'
        when 'en' then 'english' when 'fi' then 'finnish' when 'fr' then 'french'
        when 'de' then 'german' when 'el' then 'greek' when 'hi' then 'hindi'
        when 'hu' then 'hungarian' when 'id' then 'indonesian' when 'ga' then 'irish'
        when 'it' then 'italian' when 'lt' then 'lithuanian' when 'ne' then 'nepali'
        when 'no' then 'norwegian' when 'nb' then 'norwegian' when 'pt' then 'portuguese'
        when 'ro' then 'romanian' when 'ru' then 'russian' when 'sr' then 'serbian'
        when 'es' then 'spanish' when 'sv' then 'swedish' when 'ta' then 'tamil'
        when 'tr' then 'turkish' when 'yi' then 'yiddish'
        else 'simple' end)::regconfig;

-- posts (blog)
alter table posts add column language text not null default 'en'
    constraint posts_language_check check (language ~ '^[a-z]{2}$');
alter table posts drop column search;
alter table posts add column search tsvector generated always as (
    setweight(to_tsvector(text_search_config(language), title), 'A') ||
    setweight(to_tsvector(text_search_config(language), excerpt), 'B') ||
    setweight(to_tsvector(text_search_config(language), body_text), 'C')
) stored;
create index posts_search_idx on posts using gin (search);

-- catalogue_services (catalogue)
alter table catalogue_services add column language text not null default 'en'
    constraint catalogue_services_language_check check (language ~ '^[a-z]{2}$');
drop view published_services;
alter table catalogue_services drop column search;
alter table catalogue_services add column search tsvector generated always as (
    setweight(to_tsvector(text_search_config(language), title), 'A') ||
    setweight(to_tsvector(text_search_config(language), summary), 'B') ||
    setweight(to_tsvector(text_search_config(language), body_markdown), 'C')
) stored;
create index catalogue_services_search_idx on catalogue_services using gin (search);

-- catalogue_services (catalogue): what is published, by slug, and what search reads of it.
create view published_services as
    select slug, title, language, search, summary || ' ' || body_markdown as body_text
    from catalogue_services where published;
