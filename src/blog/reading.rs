//! Reading published posts: one post (or where its old slug went), lists, related posts and
//! share counts. Only `status = 'published'` is ever visible here.

use std::collections::HashMap;

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{
    AuthorRef, CoverImage, PartRef, PostFilter, PostSummary, PublicPost, Seo, SeriesNav, SeriesRef,
    ShareCounts, TagRef,
};
use super::render::TocEntry;
use std::sync::Arc;

use super::BlogState;
use super::model::{Kind, PostPage, SharesEntry, SharesView};
use crate::cache::Weigh;
use crate::error::{AppError, Result};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

/// What a slug leads to, as the content cache keeps it (a missing post is `None`).
pub enum CachedPost {
    Page(PostPage),
    /// An old slug: the post's current one.
    Redirect(String),
}

impl Weigh for CachedPost {
    fn weight(&self) -> usize {
        match self {
            Self::Page(page) => page.json_prefix.len() + 256,
            Self::Redirect(slug) => slug.len() + 64,
        }
    }
}

pub fn no_such_post(slug: &str) -> AppError {
    AppError::not_found(format!("No published post has the slug `{slug}`."))
}

/// The published post at `slug` (or where an old slug leads), through the content cache.
pub async fn cached_post(core: &Core, slug: &str) -> Result<Option<Arc<CachedPost>>> {
    core.cache
        .get_or_build(&format!("post:{slug}"), || async {
            Ok(match find_post(core.reads(), slug, Kind::Post).await? {
                Lookup::Found { id, post } => Some(CachedPost::Page(
                    PostPage::new(id, &post).map_err(anyhow::Error::from)?,
                )),
                Lookup::Redirect(to) => Some(CachedPost::Redirect(to)),
                Lookup::Missing => None,
            })
        })
        .await
}

/// The id of the published post at `slug`, following one redirect.
/// The id of the published post at `slug` itself (not one it moved to), or 404.
pub async fn page_id(core: &Core, slug: &str) -> Result<Uuid> {
    match cached_post(core, slug).await?.as_deref() {
        Some(CachedPost::Page(page)) => Ok(page.post_id),
        _ => Err(no_such_post(slug)),
    }
}

pub async fn published_id(core: &Core, slug: &str) -> Result<Option<Uuid>> {
    match cached_post(core, slug).await?.as_deref() {
        Some(CachedPost::Page(page)) => Ok(Some(page.post_id)),
        Some(CachedPost::Redirect(to)) => match cached_post(core, to).await?.as_deref() {
            Some(CachedPost::Page(page)) => Ok(Some(page.post_id)),
            _ => Ok(None),
        },
        None => Ok(None),
    }
}

/// Share counts of a post, a couple of seconds old at most (on the replica that counted a
/// share: current).
pub async fn shares_of(core: &Core, blog: &BlogState, post_id: Uuid) -> Result<Arc<SharesView>> {
    if let Some(entry) = blog.share_counts.get(&post_id) {
        if !entry.should_refresh() {
            return Ok(entry.view.clone());
        }
    }
    let counts = match share_counts(&core.db, post_id).await {
        Ok(counts) => counts,
        Err(err) => {
            // Let the next request try again rather than keep a stale entry marked busy.
            blog.share_counts.invalidate(&post_id);
            return Err(err);
        }
    };
    let entry = Arc::new(SharesEntry::new(SharesView::new(counts)));
    blog.share_counts.insert(post_id, entry.clone());
    Ok(entry.view.clone())
}

pub enum Lookup {
    Found { id: Uuid, post: Box<PublicPost> },
    Redirect(String),
    Missing,
}

/// The columns a whole post is made of.
struct PostRow {
    id: Uuid,
    slug: String,
    title: String,
    excerpt: String,
    body_html: String,
    toc: serde_json::Value,
    word_count: i32,
    reading_minutes: i32,
    cover_image_url: Option<String>,
    cover_image_alt: Option<String>,
    series_id: Option<Uuid>,
    series_part: Option<i32>,
    meta_title: Option<String>,
    meta_description: Option<String>,
    canonical_url: Option<String>,
    published_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    language: String,
}

/// The published post (or page) with this slug, or the slug it moved to.
pub async fn find_post(db: &Db, slug: &str, kind: Kind) -> Result<Lookup> {
    let row = sqlx::query_as!(
        PostRow,
        r#"
        select id, slug, title, excerpt, body_html, toc, word_count, reading_minutes,
               cover_image_url, cover_image_alt, series_id, series_part, meta_title,
               meta_description, canonical_url, published_at, updated_at, language
        from posts where slug = $1 and status = 'published' and kind = $2
        "#,
        slug,
        kind.as_str()
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        let moved_to = sqlx::query_scalar!(
            r#"select p.slug from post_slug_redirects r join posts p on p.id = r.post_id
               where r.old_slug = $1 and p.status = 'published' and p.kind = $2"#,
            slug,
            kind.as_str()
        )
        .fetch_optional(db)
        .await?;
        return Ok(moved_to.map_or(Lookup::Missing, Lookup::Redirect));
    };
    let id = row.id;
    let post = assemble(db, row).await?;
    Ok(Lookup::Found {
        id,
        post: Box::new(post),
    })
}

/// Any post, whatever its status, as it would read once published (for previews).
pub async fn preview(db: &Db, id: Uuid) -> Result<Option<PublicPost>> {
    let row = sqlx::query_as!(
        PostRow,
        r#"
        select id, slug, title, excerpt, body_html, toc, word_count, reading_minutes,
               cover_image_url, cover_image_alt, series_id, series_part, meta_title,
               meta_description, canonical_url, published_at, updated_at, language
        from posts where id = $1
        "#,
        id
    )
    .fetch_optional(db)
    .await?;
    match row {
        Some(row) => Ok(Some(assemble(db, row).await?)),
        None => Ok(None),
    }
}

async fn assemble(db: &Db, row: PostRow) -> Result<PublicPost> {
    let (authors, tags) = authors_and_tags(db, row.id).await?;
    let series = match row.series_id {
        Some(series_id) => Some(series_nav(db, series_id, row.series_part).await?),
        None => None,
    };
    let toc: Vec<TocEntry> = serde_json::from_value(row.toc).unwrap_or_default();
    Ok(PublicPost {
        seo: Seo {
            meta_title: row.meta_title.unwrap_or_else(|| row.title.clone()),
            meta_description: row.meta_description.unwrap_or_else(|| row.excerpt.clone()),
            canonical_url: row.canonical_url,
        },
        slug: row.slug,
        title: row.title,
        excerpt: row.excerpt,
        html: row.body_html,
        toc,
        word_count: row.word_count,
        reading_minutes: row.reading_minutes,
        cover_image: cover(row.cover_image_url, row.cover_image_alt),
        authors,
        tags,
        series,
        published_at: row.published_at,
        updated_at: row.updated_at,
        language: row.language,
    })
}

fn cover(url: Option<String>, alt: Option<String>) -> Option<CoverImage> {
    url.map(|url| CoverImage {
        url,
        alt: alt.unwrap_or_default(),
    })
}

pub async fn authors_and_tags(db: &Db, post_id: Uuid) -> Result<(Vec<AuthorRef>, Vec<TagRef>)> {
    let mut authors = authors_of(db, &[post_id]).await?;
    let mut tags = tags_of(db, &[post_id]).await?;
    Ok((
        authors.remove(&post_id).unwrap_or_default(),
        tags.remove(&post_id).unwrap_or_default(),
    ))
}

async fn authors_of(db: &Db, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<AuthorRef>>> {
    let rows = sqlx::query!(
        r#"select pa.post_id, a.slug, a.name, a.avatar_url
           from post_authors pa join authors a on a.id = pa.author_id
           where pa.post_id = any($1) order by pa.post_id, pa.position"#,
        ids
    )
    .fetch_all(db)
    .await?;
    let mut map: HashMap<Uuid, Vec<AuthorRef>> = HashMap::new();
    for r in rows {
        map.entry(r.post_id).or_default().push(AuthorRef {
            slug: r.slug,
            name: r.name,
            avatar_url: r.avatar_url,
        });
    }
    Ok(map)
}

async fn tags_of(db: &Db, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<TagRef>>> {
    let rows = sqlx::query!(
        r#"select pt.post_id, t.slug, t.name
           from post_tags pt join tags t on t.id = pt.tag_id
           where pt.post_id = any($1) order by pt.post_id, pt.position, t.name"#,
        ids
    )
    .fetch_all(db)
    .await?;
    let mut map: HashMap<Uuid, Vec<TagRef>> = HashMap::new();
    for r in rows {
        map.entry(r.post_id).or_default().push(TagRef {
            slug: r.slug,
            name: r.name,
        });
    }
    Ok(map)
}

async fn series_nav(db: &Db, series_id: Uuid, part: Option<i32>) -> Result<SeriesNav> {
    let series = sqlx::query!(
        r#"select s.slug, s.title,
                  (select count(*) from posts p where p.series_id = s.id and p.status = 'published') as "total!"
           from series s where s.id = $1"#,
        series_id
    )
    .fetch_one(db)
    .await?;
    let neighbour = |rows: Vec<(String, String, Option<i32>)>| {
        rows.into_iter().next().map(|(slug, title, part)| PartRef {
            slug,
            title,
            part: part.unwrap_or_default(),
        })
    };
    let (previous, next) = match part {
        Some(part) => {
            let previous = sqlx::query!(
                r#"select slug, title, series_part from posts
                   where series_id = $1 and status = 'published' and series_part < $2
                   order by series_part desc limit 1"#,
                series_id,
                part
            )
            .fetch_all(db)
            .await?
            .into_iter()
            .map(|r| (r.slug, r.title, r.series_part))
            .collect();
            let next = sqlx::query!(
                r#"select slug, title, series_part from posts
                   where series_id = $1 and status = 'published' and series_part > $2
                   order by series_part limit 1"#,
                series_id,
                part
            )
            .fetch_all(db)
            .await?
            .into_iter()
            .map(|r| (r.slug, r.title, r.series_part))
            .collect();
            (neighbour(previous), neighbour(next))
        }
        None => (None, None),
    };
    Ok(SeriesNav {
        slug: series.slug,
        title: series.title,
        part,
        total_parts: series.total,
        previous,
        next,
    })
}

/// Where a page of posts starts: after this post in (published_at, id) order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListCursor {
    published_at: DateTime<Utc>,
    id: Uuid,
}

/// The columns a post summary is made of.
struct SummaryRow {
    id: Uuid,
    slug: String,
    title: String,
    excerpt: String,
    cover_image_url: Option<String>,
    cover_image_alt: Option<String>,
    reading_minutes: i32,
    published_at: Option<DateTime<Utc>>,
    series_part: Option<i32>,
    series_slug: Option<String>,
    series_title: Option<String>,
}

/// Summaries for these rows, with their authors and tags, in the rows' order.
async fn summaries(
    db: &Db,
    rows: Vec<SummaryRow>,
) -> Result<Vec<(Uuid, Option<DateTime<Utc>>, PostSummary)>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut authors = authors_of(db, &ids).await?;
    let mut tags = tags_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let series = r.series_slug.map(|slug| SeriesRef {
                slug,
                title: r.series_title.unwrap_or_default(),
                part: r.series_part,
            });
            let summary = PostSummary {
                authors: authors.remove(&r.id).unwrap_or_default(),
                tags: tags.remove(&r.id).unwrap_or_default(),
                slug: r.slug,
                title: r.title,
                excerpt: r.excerpt,
                cover_image: cover(r.cover_image_url, r.cover_image_alt),
                series,
                reading_minutes: r.reading_minutes,
                published_at: r.published_at,
            };
            (r.id, r.published_at, summary)
        })
        .collect())
}

/// Published posts (or pages), newest first. The cursor is the last post's (published_at,
/// id), so a page never repeats or skips a post when others are published meanwhile.
pub async fn list_posts(
    db: &Db,
    kind: Kind,
    filter: &PostFilter,
    page: &PageParams,
) -> Result<Page<PostSummary>> {
    let limit = page.limit()?;
    let after: Option<ListCursor> = page.decode()?;
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"
        select p.id, p.slug, p.title, p.excerpt, p.cover_image_url, p.cover_image_alt,
               p.reading_minutes, p.published_at, p.series_part,
               s.slug as "series_slug?", s.title as "series_title?"
        from posts p left join series s on s.id = p.series_id
        where p.status = 'published' and p.kind = $7
          and ($1::timestamptz is null or (p.published_at, p.id) < ($1, $2))
          and ($3::text is null or exists (
                select 1 from post_tags pt join tags t on t.id = pt.tag_id
                where pt.post_id = p.id and t.slug = $3))
          and ($4::text is null or exists (
                select 1 from post_authors pa join authors a on a.id = pa.author_id
                where pa.post_id = p.id and a.slug = $4))
          and ($5::text is null or s.slug = $5)
        order by p.published_at desc, p.id desc
        limit $6
        "#,
        after.as_ref().map(|c| c.published_at),
        after.as_ref().map(|c| c.id),
        filter.tag,
        filter.author,
        filter.series,
        i64::from(limit) + 1,
        kind.as_str(),
    )
    .fetch_all(db)
    .await?;
    let page = Page::from_rows(
        summaries(db, rows).await?,
        limit,
        |(id, published_at, _)| ListCursor {
            published_at: published_at.unwrap_or_default(),
            id: *id,
        },
    );
    Ok(Page {
        items: page.items.into_iter().map(|(_, _, s)| s).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Posts related to this one: the same series first, then shared tags, then similar words in
/// the title and text. Only published posts, never the post itself.
pub async fn related(db: &Db, post_id: Uuid, limit: i64) -> Result<Vec<PostSummary>> {
    let ids = sqlx::query_scalar!(
        r#"
        with source as (
            select id, series_id,
                   to_tsquery(text_search_config(language), coalesce(nullif(array_to_string(
                       tsvector_to_array(to_tsvector(text_search_config(language), title)), ' | '), ''), 'nothing')) as words
            from posts where id = $1
        )
        select p.id as "id!"
        from posts p, source
        where p.status = 'published' and p.kind = 'post' and p.id <> source.id
        order by
            (p.series_id is not null and p.series_id = source.series_id) desc,
            (select count(*) from post_tags a join post_tags b on a.tag_id = b.tag_id
             where a.post_id = source.id and b.post_id = p.id) desc,
            ts_rank(p.search, source.words) desc,
            p.published_at desc
        limit $2
        "#,
        post_id,
        limit
    )
    .fetch_all(db)
    .await?;
    summaries_by_id(db, &ids).await
}

/// Summaries of these published posts, in this order.
pub async fn summaries_by_id(db: &Db, ids: &[Uuid]) -> Result<Vec<PostSummary>> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"
        select p.id, p.slug, p.title, p.excerpt, p.cover_image_url, p.cover_image_alt,
               p.reading_minutes, p.published_at, p.series_part,
               s.slug as "series_slug?", s.title as "series_title?"
        from posts p left join series s on s.id = p.series_id
        where p.id = any($1) and p.status = 'published'
        "#,
        ids
    )
    .fetch_all(db)
    .await?;
    let mut by_id: HashMap<Uuid, PostSummary> = summaries(db, rows)
        .await?
        .into_iter()
        .map(|(id, _, summary)| (id, summary))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub async fn share_counts(db: &Db, post_id: Uuid) -> Result<ShareCounts> {
    let rows = sqlx::query!(
        r#"select network, sum(count)::bigint as "count!" from post_share_counts
           where post_id = $1 group by network"#,
        post_id
    )
    .fetch_all(db)
    .await?;
    Ok(ShareCounts::from_rows(
        rows.into_iter().map(|r| (r.network, r.count)),
    ))
}
