//! What the blog stores and shows: posts as admins write them and as visitors read them.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::render::TocEntry;
use crate::error::Result;
use crate::pagination::PageParams;
use crate::validation::Validator;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum PostStatus {
    Draft,
    Scheduled,
    Published,
    Archived,
}

impl PostStatus {
    pub const NAMES: [&'static str; 4] = ["draft", "scheduled", "published", "archived"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Scheduled,
            Self::Published,
            Self::Archived,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// The two kinds of content: posts (the blog: feed, series, shares) and pages (About, case
/// studies, legal: the same writing model, outside the feed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Kind {
    Post,
    Page,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Page => "page",
        }
    }

    /// "post" or "page", for messages.
    pub fn noun(self) -> &'static str {
        self.as_str()
    }
}

/// The networks a share can be counted for.
pub const NETWORKS: [&str; 7] = [
    "x",
    "linkedin",
    "facebook",
    "reddit",
    "hacker_news",
    "email",
    "copy_link",
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct AuthorRef {
    pub slug: String,
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct TagRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverImage {
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Seo {
    /// Falls back to the title.
    pub meta_title: String,
    /// Falls back to the excerpt.
    pub meta_description: String,
    pub canonical_url: Option<String>,
}

/// A post's place in its series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesRef {
    pub slug: String,
    pub title: String,
    pub part: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartRef {
    pub slug: String,
    pub title: String,
    pub part: i32,
}

/// The series of a post, with the published parts before and after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesNav {
    pub slug: String,
    pub title: String,
    pub part: Option<i32>,
    /// Published parts of the series.
    pub total_parts: i64,
    pub previous: Option<PartRef>,
    pub next: Option<PartRef>,
}

/// A post in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostSummary {
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub cover_image: Option<CoverImage>,
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    pub series: Option<SeriesRef>,
    pub reading_minutes: i32,
    pub published_at: Option<DateTime<Utc>>,
}

/// A whole post as visitors read it (share counts are added when answering).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPost {
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    /// Sanitized HTML with an `id` on every heading.
    pub html: String,
    /// "In this article": the h2s, with their h3s nested.
    pub toc: Vec<TocEntry>,
    pub word_count: i32,
    pub reading_minutes: i32,
    pub cover_image: Option<CoverImage>,
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    pub series: Option<SeriesNav>,
    pub seo: Seo,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The language it is written in (ISO 639-1), for the page's `lang`.
    pub language: String,
}

/// Share counts of a post: every network, and the total.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq, Default)]
pub struct ShareCounts {
    #[schema(value_type = Object, example = json!({"x": 3, "linkedin": 5}))]
    pub counts: BTreeMap<&'static str, i64>,
    pub total: i64,
}

impl ShareCounts {
    pub fn from_rows(rows: impl IntoIterator<Item = (String, i64)>) -> Self {
        let mut counts: BTreeMap<&'static str, i64> = NETWORKS.iter().map(|n| (*n, 0)).collect();
        for (network, count) in rows {
            if let Some(name) = NETWORKS.iter().find(|n| **n == network) {
                counts.insert(name, count);
            }
        }
        let total = counts.values().sum();
        Self { counts, total }
    }
}

/// Share counts ready to be spliced into a post's JSON, with a hash for its ETag.
#[derive(Debug)]
pub struct SharesView {
    pub counts: ShareCounts,
    hash: u64,
    /// What follows a post's JSON prefix: `,"shares":{...}}`.
    suffix: Bytes,
    /// The ETag of the post read with these counts, made by the first read that needs it
    /// (the counts change every few seconds at most, the reads far more often), with the
    /// version of the post it was made for.
    etag: std::sync::OnceLock<(u64, Bytes)>,
}

impl SharesView {
    pub fn new(counts: ShareCounts) -> Self {
        let json = serde_json::to_vec(&counts).unwrap_or_else(|_| b"{}".to_vec());
        let hash = stable_hash(&json);
        let mut suffix = Vec::with_capacity(json.len() + 12);
        suffix.extend_from_slice(b",\"shares\":");
        suffix.extend_from_slice(&json);
        suffix.push(b'}');
        Self {
            counts,
            hash,
            suffix: Bytes::from(suffix),
            etag: std::sync::OnceLock::new(),
        }
    }
}

/// A post's JSON with its share counts, in two parts that are sent one after the other
/// (neither copied: both are shared with the caches), and the ETag of the two.
#[derive(Debug, Clone)]
pub struct PostAnswer {
    pub body: [Bytes; 2],
    /// ASCII: `W/"p…"`.
    pub etag: Bytes,
}

/// Share counts as a replica caches them: refreshed when older than [`SharesEntry::TTL`] by
/// one request while the others keep answering with these, so an expiry never sends a
/// burst of identical queries to the database.
#[derive(Debug)]
pub struct SharesEntry {
    pub view: std::sync::Arc<SharesView>,
    fetched_at: std::time::Instant,
    refreshing: std::sync::atomic::AtomicBool,
}

impl SharesEntry {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(2);

    pub fn new(view: SharesView) -> Self {
        Self {
            view: std::sync::Arc::new(view),
            fetched_at: std::time::Instant::now(),
            refreshing: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// True for the one caller that should refresh a stale entry.
    pub fn should_refresh(&self) -> bool {
        self.fetched_at.elapsed() > Self::TTL
            && self
                .refreshing
                .compare_exchange(
                    false,
                    true,
                    std::sync::atomic::Ordering::AcqRel,
                    std::sync::atomic::Ordering::Acquire,
                )
                .is_ok()
    }
}

/// The response of GET /v1/posts/{slug}: the post and its share counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostView {
    #[serde(flatten)]
    pub post: PublicPost,
    pub shares: ShareCounts,
}

/// A published post, serialized once when cached: the JSON object without its closing
/// brace, so live share counts can be appended without serializing the body again.
#[derive(Debug)]
pub struct PostPage {
    pub post_id: Uuid,
    pub json_prefix: Bytes,
    /// Hash of the prefix; combined with the counts into the ETag.
    pub content_hash: u64,
}

impl PostPage {
    pub fn new(post_id: Uuid, post: &PublicPost) -> Result<Self, serde_json::Error> {
        let mut json = serde_json::to_vec(post)?;
        json.pop(); // the closing brace
        json.shrink_to_fit(); // kept in the cache: no spare capacity
        let content_hash = stable_hash(&json);
        Ok(Self {
            post_id,
            json_prefix: Bytes::from(json),
            content_hash,
        })
    }

    /// The complete JSON with these counts.
    /// The post's answer with these counts.
    pub fn answer(&self, shares: &SharesView) -> PostAnswer {
        let etag = match shares.etag.get() {
            Some((version, etag)) if *version == self.content_hash => etag.clone(),
            // The first version of the post read with these counts keeps its place; a
            // newer one (the post changed in the last seconds) is made for each read
            // until the counts are next refreshed.
            _ => {
                let etag = Bytes::from(self.etag(shares));
                let _ = shares.etag.set((self.content_hash, etag.clone()));
                etag
            }
        };
        PostAnswer {
            body: [self.json_prefix.clone(), shares.suffix.clone()],
            etag,
        }
    }

    pub fn with_shares(&self, shares: &SharesView) -> Vec<u8> {
        [&self.json_prefix[..], &shares.suffix[..]].concat()
    }

    /// Changes when the post or its counts change.
    pub fn etag(&self, shares: &SharesView) -> String {
        format!("W/\"p{:016x}{:016x}\"", self.content_hash, shares.hash)
    }
}

/// The first 64 bits of SHA-256: stable across processes and releases, so replicas agree
/// on ETags.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only posts with this tag (slug).
    tag: Option<String>,
    /// Only posts by this author (slug).
    author: Option<String>,
    /// Only posts of this series (slug).
    series: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// How many (1 to 20, default 4).
    limit: Option<i64>,
}

impl RelatedQuery {
    pub fn limit(&self) -> Result<i64> {
        let mut v = Validator::new();
        let limit = v.range("limit", self.limit.unwrap_or(4), 1, 20);
        v.finish()?;
        Ok(limit)
    }
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ShareRequest {
    /// x, linkedin, facebook, reddit, hacker_news, email or copy_link.
    #[schema(example = "linkedin")]
    network: String,
}

impl ShareRequest {
    /// The network, one of [`NETWORKS`].
    pub fn network(&self) -> Result<&'static str> {
        let mut v = Validator::new();
        let value = v.choice("network", &self.network, &NETWORKS);
        v.finish()?;
        Ok(NETWORKS
            .iter()
            .find(|n| **n == value)
            .copied()
            .unwrap_or("copy_link"))
    }
}

impl ListQuery {
    /// The filter, and the cache key of the page it asks for (after the page's parameters
    /// are checked, so bad parameters are never cached).
    pub fn validate(self, page: &PageParams) -> Result<(PostFilter, String)> {
        page.limit()?;
        let key = format!(
            "posts?tag={}&author={}&series={}&limit={}&cursor={}",
            self.tag.as_deref().unwrap_or_default(),
            self.author.as_deref().unwrap_or_default(),
            self.series.as_deref().unwrap_or_default(),
            page.limit.unwrap_or_default(),
            page.cursor.as_deref().unwrap_or_default(),
        );
        let filter = PostFilter {
            tag: self.tag,
            author: self.author,
            series: self.series,
        };
        Ok((filter, key))
    }
}

/// Which published posts a list shows.
#[derive(Debug, Default, Clone)]
pub struct PostFilter {
    pub tag: Option<String>,
    pub author: Option<String>,
    pub series: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> PublicPost {
        PublicPost {
            slug: "s".into(),
            title: "T".into(),
            excerpt: "e".into(),
            html: "<p>x</p>".into(),
            toc: vec![],
            word_count: 1,
            reading_minutes: 1,
            cover_image: None,
            authors: vec![],
            tags: vec![],
            series: None,
            language: "en".into(),
            seo: Seo {
                meta_title: "T".into(),
                meta_description: "e".into(),
                canonical_url: None,
            },
            published_at: None,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_page_with_shares_is_the_view_serialized_whole() {
        let post = post();
        let shares = ShareCounts::from_rows([("x".to_owned(), 2), ("email".to_owned(), 1)]);
        let page = PostPage::new(Uuid::now_v7(), &post).expect("json");
        let view = SharesView::new(shares.clone());
        let spliced: serde_json::Value =
            serde_json::from_slice(&page.with_shares(&view)).expect("valid JSON");
        let whole = serde_json::to_value(PostView { post, shares }).expect("json");
        assert_eq!(spliced, whole);
        assert_eq!(whole["shares"]["total"], 3);
        assert_eq!(whole["shares"]["counts"]["linkedin"], 0);
    }

    #[test]
    fn the_etag_changes_with_the_counts() {
        let page = PostPage::new(Uuid::now_v7(), &post()).expect("json");
        let none = SharesView::new(ShareCounts::from_rows([]));
        let one = SharesView::new(ShareCounts::from_rows([("x".to_owned(), 1)]));
        let one_again = SharesView::new(ShareCounts::from_rows([("x".to_owned(), 1)]));
        assert_ne!(page.etag(&none), page.etag(&one));
        assert_eq!(page.etag(&one), page.etag(&one_again));
    }
}
