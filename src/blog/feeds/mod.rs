//! Syndication and discovery: RSS 2.0, Atom and JSON Feed 1.1 of the latest posts (all, or
//! one tag's), and sitemap.xml (an index of sitemaps past the protocol's 50,000 URLs). Links are absolute, from the site profile's public URL:
//! posts at `{public_url}/blog/{slug}`, tags at `/blog/tags/{slug}`, authors at
//! `/blog/authors/{slug}`, series at `/blog/series/{slug}`, services at `/services/{slug}`.

use std::collections::BTreeMap;

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;

use std::sync::Arc;

use crate::error::{AppError, Result};
use crate::http::conditional::Cacheable;
use crate::site::SiteProfile;
use crate::state::Core;

mod handlers;

pub use handlers::router;

pub const FEED_SIZE: i64 = 20;

/// A post as feeds show it.
struct FeedPost {
    slug: String,
    title: String,
    excerpt: String,
    html: String,
    published_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    authors: Vec<String>,
    tags: Vec<String>,
}

/// What a feed is about: the whole blog or one tag.
struct FeedSource {
    site: SiteProfile,
    tag: Option<(String, String)>,
    posts: Vec<FeedPost>,
}

impl FeedSource {
    fn title(&self) -> String {
        match &self.tag {
            Some((_, name)) => format!("{} — {name}", self.site.firm_name),
            None => format!("{} — Blog", self.site.firm_name),
        }
    }

    fn home(&self) -> String {
        match &self.tag {
            Some((slug, _)) => format!("{}/blog/tags/{slug}", self.site.public_url),
            None => format!("{}/blog", self.site.public_url),
        }
    }

    fn description(&self) -> String {
        if self.site.tagline.is_empty() {
            self.title()
        } else {
            self.site.tagline.clone()
        }
    }

    fn post_url(&self, slug: &str) -> String {
        format!("{}/blog/{slug}", self.site.public_url)
    }

    fn updated(&self) -> DateTime<Utc> {
        self.posts
            .iter()
            .map(|p| p.updated_at)
            .max()
            .unwrap_or(self.site.updated_at)
    }
}

/// The kinds of feed.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Json => "application/feed+json",
        }
    }
}

/// The latest posts (of one tag) as a feed; `None` when there is no such tag.
pub async fn feed(db: &Db, tag: Option<&str>, format: Format) -> Result<Option<Vec<u8>>> {
    let Some(source) = load(db, tag).await? else {
        return Ok(None);
    };
    let render = match format {
        Format::Rss => render_rss,
        Format::Atom => render_atom,
        Format::Json => render_json_feed,
    };
    render(&source).map(Some)
}

pub fn no_site() -> AppError {
    AppError::not_found(
        "Feeds need the site profile (its public URL); an owner sets it with PUT /v1/admin/site.",
    )
}

async fn load(db: &Db, tag: Option<&str>) -> Result<Option<FeedSource>> {
    let site = crate::site::get(db).await?.ok_or_else(no_site)?;
    let tag = match tag {
        Some(slug) => match sqlx::query!("select slug, name from tags where slug = $1", slug)
            .fetch_optional(db)
            .await?
        {
            Some(t) => Some((t.slug, t.name)),
            None => return Ok(None),
        },
        None => None,
    };
    let rows = sqlx::query!(
        r#"
        select p.slug, p.title, p.excerpt, p.body_html, p.published_at as "published_at!", p.updated_at,
               array(select a.name from post_authors pa join authors a on a.id = pa.author_id
                     where pa.post_id = p.id order by pa.position) as "authors!",
               array(select t.name from post_tags pt join tags t on t.id = pt.tag_id
                     where pt.post_id = p.id order by t.name) as "tags!"
        from posts p
        where p.status = 'published' and p.kind = 'post'
          and ($1::text is null or exists (select 1 from post_tags pt join tags t on t.id = pt.tag_id
                                            where pt.post_id = p.id and t.slug = $1))
        order by p.published_at desc, p.id desc
        limit $2
        "#,
        tag.as_ref().map(|(slug, _)| slug.as_str()),
        FEED_SIZE,
    )
    .fetch_all(db)
    .await?;
    let posts = rows
        .into_iter()
        .map(|r| FeedPost {
            slug: r.slug,
            title: r.title,
            excerpt: r.excerpt,
            html: r.body_html,
            published_at: r.published_at,
            updated_at: r.updated_at,
            authors: r.authors,
            tags: r.tags,
        })
        .collect();
    Ok(Some(FeedSource { site, tag, posts }))
}

fn render_rss(source: &FeedSource) -> Result<Vec<u8>> {
    use rss::extension::dublincore::DublinCoreExtensionBuilder;
    use rss::{CategoryBuilder, ChannelBuilder, GuidBuilder, ItemBuilder};

    let items: Vec<rss::Item> = source
        .posts
        .iter()
        .map(|post| {
            let url = source.post_url(&post.slug);
            ItemBuilder::default()
                .title(Some(post.title.clone()))
                .link(Some(url.clone()))
                .description(Some(post.excerpt.clone()))
                .content(Some(post.html.clone()))
                .guid(Some(
                    GuidBuilder::default().value(url).permalink(true).build(),
                ))
                .pub_date(Some(post.published_at.to_rfc2822()))
                .categories(
                    post.tags
                        .iter()
                        .map(|t| CategoryBuilder::default().name(t.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .dublin_core_ext(Some(
                    DublinCoreExtensionBuilder::default()
                        .creators(post.authors.clone())
                        .build(),
                ))
                .build()
        })
        .collect();
    let namespaces = BTreeMap::from([
        (
            "content".to_owned(),
            "http://purl.org/rss/1.0/modules/content/".to_owned(),
        ),
        (
            "dc".to_owned(),
            "http://purl.org/dc/elements/1.1/".to_owned(),
        ),
    ]);
    let channel = ChannelBuilder::default()
        .title(source.title())
        .link(source.home())
        .description(source.description())
        .language(Some("en".to_owned()))
        .last_build_date(Some(source.updated().to_rfc2822()))
        .generator(Some("frontdesk".to_owned()))
        .namespaces(namespaces)
        .items(items)
        .build();
    let mut out = Vec::new();
    channel
        .pretty_write_to(&mut out, b' ', 2)
        .map_err(|e| anyhow::anyhow!("writing RSS: {e}"))?;
    Ok(out)
}

fn render_atom(source: &FeedSource) -> Result<Vec<u8>> {
    use atom_syndication::{
        CategoryBuilder, ContentBuilder, EntryBuilder, FeedBuilder, FixedDateTime, LinkBuilder,
        PersonBuilder, Text,
    };

    let fixed = |at: DateTime<Utc>| -> FixedDateTime { at.fixed_offset() };
    let entries: Vec<atom_syndication::Entry> = source
        .posts
        .iter()
        .map(|post| {
            let url = source.post_url(&post.slug);
            EntryBuilder::default()
                .title(Text::plain(post.title.clone()))
                .id(url.clone())
                .updated(fixed(post.updated_at))
                .published(Some(fixed(post.published_at)))
                .links(vec![
                    LinkBuilder::default().href(url).rel("alternate").build(),
                ])
                .authors(
                    post.authors
                        .iter()
                        .map(|name| PersonBuilder::default().name(name.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .categories(
                    post.tags
                        .iter()
                        .map(|t| CategoryBuilder::default().term(t.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .summary(Some(Text::plain(post.excerpt.clone())))
                .content(Some(
                    ContentBuilder::default()
                        .value(Some(post.html.clone()))
                        .content_type(Some("html".to_owned()))
                        .build(),
                ))
                .build()
        })
        .collect();
    let feed = FeedBuilder::default()
        .title(Text::plain(source.title()))
        .id(source.home())
        .updated(fixed(source.updated()))
        .subtitle(Some(Text::plain(source.description())))
        .links(vec![
            LinkBuilder::default()
                .href(source.home())
                .rel("alternate")
                .build(),
        ])
        .authors(vec![
            PersonBuilder::default()
                .name(source.site.firm_name.clone())
                .build(),
        ])
        .generator(Some(atom_syndication::Generator {
            value: "frontdesk".to_owned(),
            uri: None,
            version: None,
        }))
        .entries(entries)
        .build();
    let mut out = Vec::new();
    feed.write_to(&mut out)
        .map_err(|e| anyhow::anyhow!("writing Atom: {e}"))?;
    Ok(out)
}

#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    description: String,
    language: &'static str,
    items: Vec<JsonFeedItem>,
}

#[derive(Serialize)]
struct JsonFeedItem {
    id: String,
    url: String,
    title: String,
    summary: String,
    content_html: String,
    date_published: DateTime<Utc>,
    date_modified: DateTime<Utc>,
    authors: Vec<JsonFeedAuthor>,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct JsonFeedAuthor {
    name: String,
}

fn render_json_feed(source: &FeedSource) -> Result<Vec<u8>> {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: source.title(),
        home_page_url: source.home(),
        description: source.description(),
        language: "en",
        items: source
            .posts
            .iter()
            .map(|post| JsonFeedItem {
                id: source.post_url(&post.slug),
                url: source.post_url(&post.slug),
                title: post.title.clone(),
                summary: post.excerpt.clone(),
                content_html: post.html.clone(),
                date_published: post.published_at,
                date_modified: post.updated_at,
                authors: post
                    .authors
                    .iter()
                    .map(|name| JsonFeedAuthor { name: name.clone() })
                    .collect(),
                tags: post.tags.clone(),
            })
            .collect(),
    };
    Ok(serde_json::to_vec(&feed).map_err(anyhow::Error::from)?)
}

/// The most URLs one sitemap may list (the sitemaps.org protocol's limit); past it,
/// /sitemap.xml is an index of `/sitemaps/{n}.xml`, each holding this many at most.
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// What /sitemap.xml or /sitemaps/{n}.xml is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitemapPart {
    /// /sitemap.xml: every page, or the index when there are too many.
    Root,
    /// /sitemaps/{n}.xml, numbered from 1.
    Page(usize),
}

impl SitemapPart {
    /// The page a `/sitemaps/{file}` name asks for: `{n}.xml`, n written plainly (no sign,
    /// no leading zero) from 1.
    pub fn parse_file(file: &str) -> Option<Self> {
        let digits = file.strip_suffix(".xml")?;
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        digits.parse().ok().map(Self::Page)
    }
}

/// sitemap.xml and, past [`SITEMAP_MAX_URLS`] pages, the sitemaps its index lists: all
/// built together from one read, cached together until content changes, so asking for
/// any of them (or for one that does not exist) costs one cache lookup.
pub struct Sitemaps {
    /// `[0]`: /sitemap.xml; `[n]`: /sitemaps/{n}.xml.
    files: Vec<Cacheable>,
}

impl Sitemaps {
    pub fn file(&self, part: SitemapPart) -> Option<&Cacheable> {
        match part {
            SitemapPart::Root => self.files.first(),
            SitemapPart::Page(0) => None,
            SitemapPart::Page(n) => self.files.get(n),
        }
    }
}

/// The sitemaps of the site (see [`Sitemaps`]), built once per change of content however
/// many ask at once, and kept even when they outgrow the cache (100,000 pages make 10 MB).
pub async fn sitemaps(core: &Core) -> Result<Arc<Sitemaps>> {
    core.cache
        .get_or_build_large("sitemaps", || async {
            let db = core.reads();
            let site = crate::site::get(db).await?.ok_or_else(no_site)?;
            let urls = sitemap_urls(db, &site.public_url).await?;
            let pages = urls.len().div_ceil(SITEMAP_MAX_URLS);
            let parts = std::iter::once(SitemapPart::Root)
                .chain((1..=pages).filter(|_| pages > 1).map(SitemapPart::Page));
            let files = parts
                .filter_map(|part| sitemap_xml(&site.public_url, &urls, part, SITEMAP_MAX_URLS))
                .map(|xml| Cacheable::typed(xml, "application/xml; charset=utf-8"))
                .collect();
            Ok(Sitemaps { files })
        })
        .await
}

/// A page of the sitemap: its absolute URL and when it last changed.
type SitemapUrl = (String, Option<DateTime<Utc>>);

/// Every public page, in order.
async fn sitemap_urls(db: &Db, base: &str) -> Result<Vec<SitemapUrl>> {
    let rows = sqlx::query!(
        r#"
        select case kind when 'page' then '/' else '/blog/' end || slug as "path!",
               updated_at as "updated_at!" from posts where status = 'published'
        union all
        select '/blog/tags/' || t.slug, max(p.updated_at) from tags t
            join post_tags pt on pt.tag_id = t.id join posts p on p.id = pt.post_id
            where p.status = 'published' and p.kind = 'post' group by t.slug
        union all
        select '/blog/authors/' || a.slug, max(p.updated_at) from authors a
            join post_authors pa on pa.author_id = a.id join posts p on p.id = pa.post_id
            where p.status = 'published' and p.kind = 'post' group by a.slug
        union all
        select '/blog/series/' || s.slug, max(p.updated_at) from series s
            join posts p on p.series_id = s.id
            where p.status = 'published' group by s.slug
        "#
    )
    .fetch_all(db)
    .await?;
    let services = crate::catalogue::published_pages(db).await?;
    let mut pages: Vec<(String, DateTime<Utc>)> = rows
        .into_iter()
        .map(|r| (r.path, r.updated_at))
        .chain(
            services
                .into_iter()
                .map(|(slug, at)| (format!("/services/{slug}"), at)),
        )
        .collect();
    pages.sort_unstable();
    let fixed = ["/", "/blog", "/services"]
        .into_iter()
        .map(|path| (format!("{base}{path}"), None));
    Ok(fixed
        .chain(
            pages
                .into_iter()
                .map(|(path, at)| (format!("{base}{path}"), Some(at))),
        )
        .collect())
}

fn sitemap_xml(
    base: &str,
    urls: &[SitemapUrl],
    part: SitemapPart,
    per_sitemap: usize,
) -> Option<Vec<u8>> {
    let chunks: Vec<&[SitemapUrl]> = urls.chunks(per_sitemap.max(1)).collect();
    let urlset = |urls: &[SitemapUrl]| {
        let mut xml = String::with_capacity(urls.len() * 96 + 128);
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for (loc, lastmod) in urls {
            push_entry(&mut xml, "url", loc, *lastmod);
        }
        xml.push_str("</urlset>\n");
        xml.into_bytes()
    };
    match part {
        SitemapPart::Root if chunks.len() <= 1 => Some(urlset(urls)),
        SitemapPart::Root => {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            for (n, chunk) in chunks.iter().enumerate() {
                let lastmod = chunk.iter().filter_map(|(_, at)| *at).max();
                push_entry(
                    &mut xml,
                    "sitemap",
                    &format!("{base}/sitemaps/{}.xml", n + 1),
                    lastmod,
                );
            }
            xml.push_str("</sitemapindex>\n");
            Some(xml.into_bytes())
        }
        // Pages exist only while the index does.
        SitemapPart::Page(n) if chunks.len() > 1 => n
            .checked_sub(1)
            .and_then(|i| chunks.get(i))
            .map(|chunk| urlset(chunk)),
        SitemapPart::Page(_) => None,
    }
}

/// One `<url>` or `<sitemap>` entry.
fn push_entry(xml: &mut String, element: &str, loc: &str, lastmod: Option<DateTime<Utc>>) {
    xml.push_str("  <");
    xml.push_str(element);
    xml.push_str("><loc>");
    xml.push_str(&escape_xml(loc));
    xml.push_str("</loc>");
    if let Some(at) = lastmod {
        xml.push_str("<lastmod>");
        xml.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        xml.push_str("</lastmod>");
    }
    xml.push_str("</");
    xml.push_str(element);
    xml.push_str(">\n");
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize) -> Vec<(String, Option<DateTime<Utc>>)> {
        let at = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, day)
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        };
        (1..=n)
            .map(|i| {
                (
                    format!("https://x.example/blog/p{i:03}"),
                    at(u32::try_from(i % 28 + 1).unwrap_or(1)),
                )
            })
            .collect()
    }

    fn text(xml: Option<Vec<u8>>) -> String {
        String::from_utf8(xml.expect("a sitemap")).expect("utf-8")
    }

    #[test]
    fn up_to_the_limit_one_sitemap_lists_every_url() {
        let all = urls(5);
        let xml = text(sitemap_xml("https://x.example", &all, SitemapPart::Root, 5));
        assert!(xml.contains("<urlset"));
        assert_eq!(xml.matches("<url>").count(), 5);
        assert_eq!(
            sitemap_xml("https://x.example", &all, SitemapPart::Page(1), 5),
            None
        );
    }

    #[test]
    fn past_the_limit_the_root_is_an_index_of_sitemaps_that_hold_every_url_once() {
        let all = urls(12);
        let index = text(sitemap_xml("https://x.example", &all, SitemapPart::Root, 5));
        assert!(index.contains("<sitemapindex"));
        assert!(!index.contains("<url>"));
        let pages: Vec<&str> = index
            .split("<loc>")
            .skip(1)
            .filter_map(|s| s.split("</loc>").next())
            .collect();
        assert_eq!(
            pages,
            [
                "https://x.example/sitemaps/1.xml",
                "https://x.example/sitemaps/2.xml",
                "https://x.example/sitemaps/3.xml"
            ]
        );
        let mut seen = Vec::new();
        for n in 1..=3 {
            let page = text(sitemap_xml(
                "https://x.example",
                &all,
                SitemapPart::Page(n),
                5,
            ));
            assert!(page.contains("<urlset"));
            assert!(page.matches("<url>").count() <= 5);
            seen.extend(
                page.split("<loc>")
                    .skip(1)
                    .filter_map(|s| s.split("</loc>").next())
                    .map(str::to_owned),
            );
        }
        let expected: Vec<String> = all.into_iter().map(|(loc, _)| loc).collect();
        assert_eq!(seen, expected);
        assert_eq!(
            sitemap_xml("https://x.example", &urls(12), SitemapPart::Page(4), 5),
            None
        );
        assert_eq!(
            sitemap_xml("https://x.example", &urls(12), SitemapPart::Page(0), 5),
            None
        );
    }

    #[test]
    fn only_plain_page_names_are_pages() {
        assert_eq!(SitemapPart::parse_file("1.xml"), Some(SitemapPart::Page(1)));
        assert_eq!(
            SitemapPart::parse_file("12.xml"),
            Some(SitemapPart::Page(12))
        );
        for bad in [
            "0.xml",
            "01.xml",
            "+1.xml",
            "-1.xml",
            ".xml",
            "1",
            "1.xml.gz",
            "one.xml",
            "99999999999999999999999.xml",
        ] {
            assert_eq!(SitemapPart::parse_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_index_entry_carries_its_newest_change() {
        let all = urls(12);
        let index = text(sitemap_xml("https://x.example", &all, SitemapPart::Root, 5));
        // Entries 1..=5 were changed on days 2..=6 of January.
        assert!(
            index.contains(
                "<loc>https://x.example/sitemaps/1.xml</loc><lastmod>2026-01-06T00:00:00Z</lastmod>"
            ),
            "{index}"
        );
    }
}
