//! The blog as Ghost's Content API shows it: posts, pages, tags, authors and settings with
//! Ghost's field names and rules (NOTES.md in tests/fixtures/ghost/ describes them, from a
//! real Ghost 6), filtered in NQL, ordered, paginated.
//!
//! Everything but bodies comes from one snapshot of the published content, built once per
//! content generation (see `crate::cache`): filters, orders and counts run over it in
//! memory, and only the bodies of the page of posts answered are read from Postgres.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::nql::{self, Fields, Filter, FilterError};
use crate::error::Result;
use crate::site::SiteProfile;
use crate::state::Core;

/// The server version Ghost clients are told (`content-version: v6.65`, settings.version).
pub const GHOST_VERSION: &str = "6.65";
/// Ghost 6 caps every limit (`all` included) at 100.
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_LIMIT: usize = 15;

pub const POST_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "title",
    "slug",
    "html",
    "comment_id",
    "plaintext",
    "feature_image",
    "featured",
    "visibility",
    "created_at",
    "updated_at",
    "published_at",
    "custom_excerpt",
    "codeinjection_head",
    "codeinjection_foot",
    "custom_template",
    "canonical_url",
    "tags",
    "authors",
    "primary_author",
    "primary_tag",
    "url",
    "excerpt",
    "reading_time",
    "access",
    "comments",
    "og_image",
    "og_title",
    "og_description",
    "twitter_image",
    "twitter_title",
    "twitter_description",
    "meta_title",
    "meta_description",
    "email_subject",
    "frontmatter",
    "feature_image_alt",
    "feature_image_caption",
    "show_title_and_feature_image",
];
const TAG_FIELDS: &[&str] = &[
    "id",
    "name",
    "slug",
    "description",
    "feature_image",
    "visibility",
    "og_image",
    "og_title",
    "og_description",
    "twitter_image",
    "twitter_title",
    "twitter_description",
    "meta_title",
    "meta_description",
    "codeinjection_head",
    "codeinjection_foot",
    "canonical_url",
    "accent_color",
    "count",
    "url",
];
const AUTHOR_FIELDS: &[&str] = &[
    "id",
    "name",
    "slug",
    "profile_image",
    "cover_image",
    "bio",
    "website",
    "location",
    "facebook",
    "twitter",
    "threads",
    "bluesky",
    "mastodon",
    "tiktok",
    "youtube",
    "instagram",
    "linkedin",
    "meta_title",
    "meta_description",
    "count",
    "url",
];

const POST_FILTER: Fields = Fields {
    expansions: &[
        ("tag", "tags.slug"),
        ("tags", "tags.slug"),
        ("author", "authors.slug"),
        ("authors", "authors.slug"),
        ("primary_tag", "primary_tag.slug"),
        ("primary_author", "primary_author.slug"),
    ],
    known: &[
        "id",
        "uuid",
        "title",
        "slug",
        "comment_id",
        "feature_image",
        "featured",
        "visibility",
        "created_at",
        "updated_at",
        "published_at",
        "custom_excerpt",
        "codeinjection_head",
        "codeinjection_foot",
        "custom_template",
        "canonical_url",
        "og_image",
        "og_title",
        "og_description",
        "twitter_image",
        "twitter_title",
        "twitter_description",
        "meta_title",
        "meta_description",
        "email_subject",
        "frontmatter",
        "feature_image_alt",
        "feature_image_caption",
        "type",
        "tags.slug",
        "tags.id",
        "tags.name",
        "tags.visibility",
        "authors.slug",
        "authors.id",
        "authors.name",
        "primary_tag.slug",
        "primary_author.slug",
    ],
    // Ghost drops these (api-filter-utils.js); `status` is forced to published.
    restricted: &[
        "password",
        "email",
        "email_only",
        "html",
        "lexical",
        "locale",
        "mobiledoc",
        "newsletter_id",
        "plaintext",
        "email_recipient_filter",
        "published_by",
        "status",
        "show_title_and_feature_image",
    ],
    dates: &["created_at", "updated_at", "published_at"],
};
const TAG_FILTER: Fields = Fields {
    expansions: &[],
    known: &[
        "id",
        "name",
        "slug",
        "description",
        "feature_image",
        "visibility",
        "og_image",
        "og_title",
        "og_description",
        "twitter_image",
        "twitter_title",
        "twitter_description",
        "meta_title",
        "meta_description",
        "codeinjection_head",
        "codeinjection_foot",
        "canonical_url",
        "accent_color",
    ],
    restricted: &["created_at", "updated_at", "parent_id"],
    dates: &[],
};
const AUTHOR_FILTER: Fields = Fields {
    expansions: &[],
    known: &[
        "id",
        "name",
        "slug",
        "profile_image",
        "cover_image",
        "bio",
        "website",
        "location",
        "facebook",
        "twitter",
        "meta_title",
        "meta_description",
    ],
    restricted: &[
        "password",
        "email",
        "status",
        "last_seen",
        "created_at",
        "updated_at",
        "visibility",
        "roles",
        "locale",
        "accessibility",
    ],
    dates: &[],
};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Posts,
    Pages,
    Tags,
    Authors,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Self::Posts => "posts",
            Self::Pages => "pages",
            Self::Tags => "tags",
            Self::Authors => "authors",
        }
    }

    /// "post", "tag"... for Ghost's messages.
    pub fn singular(self) -> &'static str {
        match self {
            Self::Posts => "post",
            Self::Pages => "page",
            Self::Tags => "tag",
            Self::Authors => "author",
        }
    }

    fn filter_fields(self) -> &'static Fields {
        match self {
            Self::Posts | Self::Pages => &POST_FILTER,
            Self::Tags => &TAG_FILTER,
            Self::Authors => &AUTHOR_FILTER,
        }
    }
}

/// Ghost's refusal of a request, in its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: a filter that does not parse, or names an unknown field.
    BadFilter {
        resource: Resource,
        unknown_field: bool,
    },
    /// 404.
    NotFound(Resource),
    /// 422: a parameter of the wrong form.
    Invalid {
        resource: Resource,
        read: bool,
        context: String,
    },
}

/// The options of a browse or read.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub include: Vec<String>,
    pub fields: Option<Vec<String>>,
    pub formats: Vec<String>,
    pub limit: Option<String>,
    pub page: Option<String>,
    pub order: Option<String>,
    pub filter: Option<String>,
}

/// How one item is looked up.
#[derive(Debug, Clone)]
pub enum Lookup {
    Browse,
    Id(String),
    Slug(String),
}

/// One published post or page, without its body.
struct Item {
    uuid: Uuid,
    /// The Ghost object, tags and authors embedded, and `type` (for filters only).
    object: Value,
    /// Whether the stored body has text and HTML (Ghost leaves out `plaintext` and
    /// `reading_time` for empty ones).
    has_text: bool,
    has_html: bool,
}

/// Everything the Content API answers, but bodies.
pub struct Snapshot {
    posts: Vec<Item>,
    pages: Vec<Item>,
    /// Tags of published posts or pages, by name; with their published-post counts.
    tags: Vec<(Value, i64)>,
    authors: Vec<(Value, i64)>,
    settings: Value,
}

fn ghost_id(id: Uuid) -> String {
    id.simple().to_string()[..24].to_owned()
}

/// Ghost's API date: milliseconds and a numeric offset (the site's zone: UTC here).
pub fn ghost_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

fn text_or_null(s: Option<String>) -> Value {
    s.filter(|s| !s.is_empty())
        .map_or(Value::Null, Value::String)
}

/// The first 500 UTF-16 code units, as JavaScript's `substring(0, 500)` (never splitting a
/// character).
fn first_500(text: &str) -> String {
    let mut units = 0;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if units + c.len_utf16() > 500 {
            end = i;
            break;
        }
        units += c.len_utf16();
    }
    text[..end].to_owned()
}

/// Ghost's reading time (`@tryghost/helpers` readingMinutes): 275 words a minute, 12 s for
/// the first image, one less for each next, never under 3; the feature image counts.
pub fn reading_time(html: &str, feature_image: bool) -> i64 {
    let mut text = String::with_capacity(html.len());
    let mut images = usize::from(feature_image);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        let tag = &rest[lt..];
        // A tag ends at the first '>' outside quotes.
        let mut quote = None;
        let mut end = None;
        for (i, c) in tag.char_indices().skip(1) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end.filter(|e| *e > 1) else {
            text.push('<');
            rest = &tag[1..];
            continue;
        };
        if tag[1..].starts_with("img") && tag.len() > 4 {
            images += 1;
        }
        text.push(' ');
        rest = &tag[end + 1..];
    }
    text.push_str(rest);
    let latin = |c: char| {
        c.is_ascii_alphanumeric()
            || c == '_'
            || ('\u{c0}'..='\u{ff}').contains(&c)
            || ('\u{392}'..='\u{3c9}').contains(&c)
            || ('\u{410}'..='\u{4f9}').contains(&c)
    };
    let cjk = |c: char| {
        ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{3400}'..='\u{4dbf}').contains(&c)
            || ('\u{f900}'..='\u{faff}').contains(&c)
            || ('\u{3040}'..='\u{309f}').contains(&c)
            || ('\u{ac00}'..='\u{d7af}').contains(&c)
    };
    let mut words = 0usize;
    let mut run: Option<(bool, char, usize)> = None; // (is_cjk, first, length)
    let mut finish = |run: &mut Option<(bool, char, usize)>| {
        if let Some((is_cjk, first, len)) = run.take() {
            words += if is_cjk && first >= '\u{4e00}' {
                len
            } else {
                1
            };
        }
    };
    for c in text.chars() {
        let kind = if latin(c) {
            Some(false)
        } else if cjk(c) {
            Some(true)
        } else {
            None
        };
        match (kind, &mut run) {
            (Some(k), Some((rk, _, len))) if *rk == k => *len += 1,
            (Some(k), _) => {
                finish(&mut run);
                run = Some((k, c, 1));
            }
            (None, _) => finish(&mut run),
        }
    }
    finish(&mut run);
    let mut seconds = words as f64 / (275.0 / 60.0);
    for i in 0..images {
        seconds += (12.0 - i as f64).max(3.0);
    }
    (seconds / 60.0).round() as i64
}

fn site_base(site: Option<&SiteProfile>) -> String {
    let base = site.map_or("http://localhost", |s| s.public_url.as_str());
    format!("{}/", base.trim_end_matches('/'))
}

/// A field of a stored JSON object (a tag's details, an author's profile), or null.
fn detail(details: &Value, key: &str) -> Value {
    details
        .get(key)
        .filter(|v| v.is_string())
        .cloned()
        .unwrap_or(Value::Null)
}

fn tag_object(
    base: &str,
    id: Uuid,
    slug: &str,
    name: &str,
    description: &str,
    details: &Value,
) -> Value {
    let internal = name.starts_with('#');
    let d = |key: &str| detail(details, key);
    json!({
        "id": ghost_id(id), "name": name, "slug": slug,
        "description": text_or_null(Some(description.to_owned())),
        "feature_image": d("feature_image"),
        "visibility": if internal { "internal" } else { "public" },
        "og_image": d("og_image"), "og_title": d("og_title"), "og_description": d("og_description"),
        "twitter_image": d("twitter_image"), "twitter_title": d("twitter_title"),
        "twitter_description": d("twitter_description"), "meta_title": d("meta_title"),
        "meta_description": d("meta_description"), "codeinjection_head": null,
        "codeinjection_foot": null, "canonical_url": d("canonical_url"),
        "accent_color": d("accent_color"),
        "url": if internal { format!("{base}404/") } else { format!("{base}tag/{slug}/") },
    })
}

fn author_object(
    base: &str,
    id: Uuid,
    slug: &str,
    name: &str,
    bio: &str,
    avatar: Option<String>,
    profile: &Value,
) -> Value {
    let p = |key: &str| detail(profile, key);
    json!({
        "id": ghost_id(id), "name": name, "slug": slug, "profile_image": avatar,
        "cover_image": p("cover_image"), "bio": text_or_null(Some(bio.to_owned())),
        "website": p("website"), "location": p("location"), "facebook": p("facebook"),
        "twitter": p("twitter"), "threads": null, "bluesky": null, "mastodon": null,
        "tiktok": null, "youtube": null, "instagram": null, "linkedin": null,
        "meta_title": p("meta_title"), "meta_description": p("meta_description"),
        "url": format!("{base}author/{slug}/"),
    })
}

fn settings_object(base: &str, site: Option<&SiteProfile>) -> Value {
    let b = site.map(|s| s.branding.clone()).unwrap_or_default();
    let nav = |items: &[crate::site::NavigationItem]| -> Value {
        items
            .iter()
            .map(|n| json!({"label": n.label, "url": n.url}))
            .collect()
    };
    let social = |network: &str| -> Value {
        site.and_then(|s| s.social_links.iter().find(|l| l.network == network))
            .map_or(Value::Null, |l| Value::String(l.url.clone()))
    };
    json!({
        "title": site.map(|s| s.firm_name.clone()),
        "description": site.map(|s| s.tagline.clone()),
        "logo": b.logo, "icon": b.icon, "accent_color": b.accent_color,
        "cover_image": b.cover_image,
        "facebook": social("facebook"),
        "twitter": if social("twitter").is_null() { social("x") } else { social("twitter") },
        "threads": social("threads"), "bluesky": social("bluesky"), "mastodon": social("mastodon"),
        "tiktok": social("tiktok"), "youtube": social("youtube"), "instagram": social("instagram"),
        "linkedin": social("linkedin"),
        "locale": "en", "timezone": "Etc/UTC",
        "codeinjection_head": null, "codeinjection_foot": null,
        "navigation": nav(&b.navigation), "secondary_navigation": nav(&b.secondary_navigation),
        "meta_title": b.meta_title, "meta_description": b.meta_description,
        "og_image": b.og_image, "og_title": b.og_title, "og_description": b.og_description,
        "twitter_image": b.twitter_image, "twitter_title": b.twitter_title,
        "twitter_description": b.twitter_description,
        // No members, tiers, comments or donations: what Ghost answers for a site that does
        // not use them.
        "members_support_address": "noreply", "members_enabled": false,
        "donations_enabled": false, "allow_self_signup": false, "members_invite_only": false,
        "members_signup_access": "none", "paid_members_enabled": false,
        "firstpromoter_account": null, "portal_button_style": "icon-and-text",
        "portal_button_signup_text": "Subscribe", "portal_button_icon": null,
        "portal_signup_terms_html": null, "portal_signup_checkbox_required": false,
        "portal_signup_gift_promotion": false, "portal_account_gift_promotion": false,
        "portal_plans": ["free"], "portal_default_plan": "yearly", "portal_name": false,
        "portal_button": false, "comments_enabled": "off", "recommendations_enabled": false,
        "outbound_link_tagging": false,
        "default_email_address": site.map(|s| s.contact_email.clone()),
        "support_email_address": site.map(|s| s.contact_email.clone()),
        "editor_default_email_recipients": "disabled", "labs": {},
        "transistor_portal_enabled": false, "transistor_portal_heading": null,
        "transistor_portal_description": null, "transistor_portal_button_text": null,
        "transistor_portal_url_template": null,
        "site_uuid": null, "lang": "en", "url": base, "version": GHOST_VERSION,
    })
}

/// The snapshot, built once per content generation.
pub async fn snapshot(core: &Core) -> Result<Arc<Snapshot>> {
    core.cache
        .get_or_build_large("ghost:snapshot", || build(core))
        .await
}

async fn build(core: &Core) -> Result<Snapshot> {
    let db = core.reads();
    let site = crate::site::get(db).await?;
    let base = site_base(site.as_ref());
    let rows = sqlx::query!(
        r#"
        select id, kind, slug, title, excerpt, excerpt_is_generated, body_html, body_text,
               cover_image_url, cover_image_alt, cover_image_caption, featured, meta_title,
               meta_description, canonical_url, social, show_title_and_feature_image,
               created_at, updated_at, published_at as "published_at!"
        from posts where status = 'published'
        order by published_at desc, id desc
        "#
    )
    .fetch_all(db)
    .await?;
    let tag_rows = sqlx::query!(
        r#"select pt.post_id, t.id, t.slug, t.name, t.description, t.details
           from post_tags pt join tags t on t.id = pt.tag_id join posts p on p.id = pt.post_id
           where p.status = 'published' order by pt.post_id, pt.position, t.name"#
    )
    .fetch_all(db)
    .await?;
    let author_rows = sqlx::query!(
        r#"select pa.post_id, a.id, a.slug, a.name, a.bio, a.avatar_url, a.profile
           from post_authors pa join authors a on a.id = pa.author_id join posts p on p.id = pa.post_id
           where p.status = 'published' order by pa.post_id, pa.position"#
    )
    .fetch_all(db)
    .await?;
    let mut tags: HashMap<Uuid, (Value, i64)> = HashMap::new();
    let mut post_tags: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for r in tag_rows {
        tags.entry(r.id).or_insert_with(|| {
            (
                tag_object(&base, r.id, &r.slug, &r.name, &r.description, &r.details),
                0,
            )
        });
        post_tags.entry(r.post_id).or_default().push(r.id);
    }
    let mut authors: HashMap<Uuid, (Value, i64)> = HashMap::new();
    let mut post_authors: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for r in author_rows {
        authors.entry(r.id).or_insert_with(|| {
            (
                author_object(
                    &base,
                    r.id,
                    &r.slug,
                    &r.name,
                    &r.bio,
                    r.avatar_url.clone(),
                    &r.profile,
                ),
                0,
            )
        });
        post_authors.entry(r.post_id).or_default().push(r.id);
    }
    let mut posts = Vec::new();
    let mut pages = Vec::new();
    for r in rows {
        let is_page = r.kind == "page";
        let tag_ids = post_tags.remove(&r.id).unwrap_or_default();
        let author_ids = post_authors.remove(&r.id).unwrap_or_default();
        if !is_page {
            for id in &tag_ids {
                if let Some(t) = tags.get_mut(id) {
                    t.1 += 1;
                }
            }
            for id in &author_ids {
                if let Some(a) = authors.get_mut(id) {
                    a.1 += 1;
                }
            }
        }
        let tag_list: Vec<Value> = tag_ids
            .iter()
            .filter_map(|id| tags.get(id).map(|t| t.0.clone()))
            .collect();
        let author_list: Vec<Value> = author_ids
            .iter()
            .filter_map(|id| authors.get(id).map(|a| a.0.clone()))
            .collect();
        let primary_tag = tag_list
            .first()
            .filter(|t| t["visibility"] == "public")
            .cloned()
            .unwrap_or(Value::Null);
        let primary_author = author_list.first().cloned().unwrap_or(Value::Null);
        let custom_excerpt = (!r.excerpt_is_generated).then(|| r.excerpt.clone());
        let excerpt = match &custom_excerpt {
            Some(e) => Value::String(e.clone()),
            None if r.body_text.is_empty() => Value::Null,
            None => Value::String(first_500(&r.body_text)),
        };
        let social = |k: &str| r.social.get(k).cloned().unwrap_or(Value::Null);
        let id = ghost_id(r.id);
        let mut object = json!({
            "id": id, "uuid": r.id.to_string(), "title": r.title, "slug": r.slug,
            "comment_id": id, "feature_image": r.cover_image_url, "featured": r.featured,
            "visibility": "public", "created_at": ghost_date(r.created_at),
            "updated_at": ghost_date(r.updated_at), "published_at": ghost_date(r.published_at),
            "custom_excerpt": custom_excerpt, "codeinjection_head": null,
            "codeinjection_foot": null, "custom_template": null,
            "canonical_url": r.canonical_url, "tags": tag_list, "authors": author_list,
            "primary_author": primary_author, "primary_tag": primary_tag,
            "url": format!("{base}{}/", r.slug), "excerpt": excerpt,
            "access": true, "comments": false,
            "og_image": social("og_image"), "og_title": social("og_title"),
            "og_description": social("og_description"), "twitter_image": social("twitter_image"),
            "twitter_title": social("twitter_title"),
            "twitter_description": social("twitter_description"),
            "meta_title": r.meta_title, "meta_description": r.meta_description,
            "frontmatter": null, "feature_image_alt": r.cover_image_alt,
            "feature_image_caption": r.cover_image_caption,
            "type": if is_page { "page" } else { "post" },
        });
        if let Some(map) = object.as_object_mut() {
            if is_page {
                map.insert(
                    "show_title_and_feature_image".into(),
                    Value::Bool(r.show_title_and_feature_image),
                );
            } else {
                map.insert("email_subject".into(), Value::Null);
            }
            if !r.body_html.is_empty() {
                map.insert(
                    "reading_time".into(),
                    json!(reading_time(&r.body_html, r.cover_image_url.is_some())),
                );
            }
        }
        let item = Item {
            uuid: r.id,
            object,
            has_text: !r.body_text.is_empty(),
            has_html: !r.body_html.is_empty(),
        };
        if is_page {
            pages.push(item);
        } else {
            posts.push(item);
        }
    }
    let by_name = |mut list: Vec<(Value, i64)>| {
        list.sort_by(|a, b| text_order(&a.0["name"], &b.0["name"]));
        list
    };
    // Pages default to title order.
    pages.sort_by(|a, b| text_order(&a.object["title"], &b.object["title"]));
    Ok(Snapshot {
        posts,
        pages,
        tags: by_name(tags.into_values().collect()),
        authors: by_name(authors.into_values().collect()),
        settings: settings_object(&base, site.as_ref()),
    })
}

/// Text in case-insensitive order, then binary.
fn text_order(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (
        a.as_str().unwrap_or_default(),
        b.as_str().unwrap_or_default(),
    );
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

fn value_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(_), Value::String(_)) => text_order(a, b),
        _ => Ordering::Equal,
    }
}

/// The settings answer's object.
pub fn settings(snapshot: &Snapshot) -> &Value {
    &snapshot.settings
}

/// What a browse or read answers, before bodies are added.
pub struct Plan {
    resource: Resource,
    /// Indexes into the resource's list, in answer order.
    chosen: Vec<usize>,
    /// `None` for a read.
    pub pagination: Option<Value>,
    options: Options,
}

/// The order of `order=...`: known, unrestricted fields only (others are dropped, as Ghost
/// drops them).
fn parse_order(order: &str, fields: &Fields) -> Vec<(String, bool)> {
    order
        .split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next()?.to_owned();
            let descending = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            let known = fields.known.contains(&field.as_str())
                || (field == "count.posts")
                || field == "reading_time";
            (known && !field.contains('.') || field == "count.posts").then_some((field, descending))
        })
        .collect()
}

pub fn plan(
    snapshot: &Snapshot,
    resource: Resource,
    lookup: &Lookup,
    options: Options,
) -> std::result::Result<Plan, Refusal> {
    for format in &options.formats {
        if !matches!(
            format.as_str(),
            "html" | "plaintext" | "mobiledoc" | "lexical"
        ) {
            return Err(Refusal::Invalid {
                resource,
                read: !matches!(lookup, Lookup::Browse),
                context: "Validation (AllowedValues) failed for formats".into(),
            });
        }
    }
    let objects: Vec<(&Value, i64)> = match resource {
        Resource::Posts => snapshot.posts.iter().map(|i| (&i.object, 0)).collect(),
        Resource::Pages => snapshot.pages.iter().map(|i| (&i.object, 0)).collect(),
        Resource::Tags => snapshot.tags.iter().map(|(v, n)| (v, *n)).collect(),
        Resource::Authors => snapshot.authors.iter().map(|(v, n)| (v, *n)).collect(),
    };
    let find = |key: &str, wanted: &str| {
        objects
            .iter()
            .position(|(o, _)| o[key].as_str() == Some(wanted))
    };
    match lookup {
        Lookup::Id(id) => {
            if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Refusal::Invalid {
                    resource,
                    read: true,
                    context: "Validation (matches) failed for id undefined.id".into(),
                });
            }
            let at = find("id", &id.to_ascii_lowercase()).ok_or(Refusal::NotFound(resource))?;
            return Ok(Plan {
                resource,
                chosen: vec![at],
                pagination: None,
                options,
            });
        }
        Lookup::Slug(slug) => {
            let at = find("slug", slug).ok_or(Refusal::NotFound(resource))?;
            return Ok(Plan {
                resource,
                chosen: vec![at],
                pagination: None,
                options,
            });
        }
        Lookup::Browse => {}
    }
    let page = match options.page.as_deref() {
        None | Some("") => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(p) => p.max(1),
            Err(_) => {
                return Err(Refusal::Invalid {
                    resource,
                    read: false,
                    context: "Validation (matches) failed for page undefined.page".into(),
                });
            }
        },
    };
    let limit = match options.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(0) => DEFAULT_LIMIT,
            Ok(n) => n.min(MAX_LIMIT),
            // `all`, and anything else, is the cap in Ghost 6.
            Err(_) => MAX_LIMIT,
        },
    };
    let fields = resource.filter_fields();
    let filter: Option<Filter> = match options.filter.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => nql::parse(text)
            .and_then(|f| match f {
                Some(f) => nql::resolve(f, fields),
                None => Ok(None),
            })
            .map_err(|e| Refusal::BadFilter {
                resource,
                unknown_field: matches!(e, FilterError::UnknownField(_)),
            })?,
    };
    let slug_order = options
        .filter
        .as_deref()
        .and_then(|f| nql::parse(f).ok().flatten())
        .as_ref()
        .and_then(nql::slug_list);
    let mut chosen: Vec<usize> = (0..objects.len())
        .filter(|i| {
            filter
                .as_ref()
                .is_none_or(|f| nql::matches(f, objects[*i].0, fields))
        })
        .collect();
    let order = options
        .order
        .as_deref()
        .map(|o| parse_order(o, fields))
        .unwrap_or_default();
    if !order.is_empty() {
        // Stable: ties keep the default order.
        chosen.sort_by(|a, b| {
            for (field, descending) in &order {
                let ordering = if field == "count.posts" {
                    objects[*a].1.cmp(&objects[*b].1)
                } else {
                    value_order(&objects[*a].0[field], &objects[*b].0[field])
                };
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
    } else if let Some(slugs) = slug_order {
        chosen.sort_by_key(|i| {
            let slug = objects[*i].0["slug"].as_str().unwrap_or_default();
            slugs.iter().position(|s| s == slug).unwrap_or(usize::MAX)
        });
    }
    let total = chosen.len();
    let pages = total.div_ceil(limit).max(1);
    let start = (page - 1).saturating_mul(limit);
    let chosen: Vec<usize> = chosen.into_iter().skip(start).take(limit).collect();
    let pagination = json!({
        "page": page, "limit": limit, "pages": pages, "total": total,
        "next": if page < pages { Some(page + 1) } else { None },
        "prev": if page > 1 { Some(page - 1) } else { None },
    });
    Ok(Plan {
        resource,
        chosen,
        pagination: Some(pagination),
        options,
    })
}

impl Plan {
    /// The ids whose bodies the answer needs (posts and pages asked with html or
    /// plaintext), to read in one query.
    pub fn body_ids(&self, snapshot: &Snapshot) -> Vec<Uuid> {
        let items = match self.resource {
            Resource::Posts => &snapshot.posts,
            Resource::Pages => &snapshot.pages,
            _ => return Vec::new(),
        };
        if !self.wants("html") && !self.wants("plaintext") {
            return Vec::new();
        }
        self.chosen.iter().map(|i| items[*i].uuid).collect()
    }

    /// Whether the answer carries this body format: asked for (html by default) and, when
    /// fields are named, named too.
    fn wants(&self, format: &str) -> bool {
        let asked = if self.options.formats.is_empty() {
            format == "html"
        } else {
            self.options.formats.iter().any(|f| f == format)
        };
        asked && self.selected(format)
    }

    /// The answer: `{resource: [...], meta: {pagination}}` for a browse, `{resource: [one]}`
    /// for a read. `bodies` holds (html, text) by id.
    pub fn answer(&self, snapshot: &Snapshot, bodies: &HashMap<Uuid, (String, String)>) -> Value {
        let include = |name: &str| self.options.include.iter().any(|i| i == name);
        let list: Vec<Value> = self
            .chosen
            .iter()
            .map(|i| match self.resource {
                Resource::Posts | Resource::Pages => {
                    let item = if self.resource == Resource::Posts {
                        &snapshot.posts[*i]
                    } else {
                        &snapshot.pages[*i]
                    };
                    self.post(
                        item,
                        bodies.get(&item.uuid),
                        include("tags"),
                        include("authors"),
                    )
                }
                Resource::Tags => {
                    let (o, n) = &snapshot.tags[*i];
                    self.counted(o, *n, TAG_FIELDS, include("count.posts"))
                }
                Resource::Authors => {
                    let (o, n) = &snapshot.authors[*i];
                    self.counted(o, *n, AUTHOR_FIELDS, include("count.posts"))
                }
            })
            .collect();
        let mut answer = Map::new();
        answer.insert(self.resource.name().into(), Value::Array(list));
        if let Some(pagination) = &self.pagination {
            answer.insert("meta".into(), json!({ "pagination": pagination }));
        }
        Value::Object(answer)
    }

    fn selected(&self, name: &str) -> bool {
        self.options
            .fields
            .as_ref()
            .is_none_or(|fields| fields.iter().any(|f| f == name))
    }

    fn counted(&self, object: &Value, count: i64, order: &[&str], with_count: bool) -> Value {
        let mut out = Map::new();
        for name in order {
            if *name == "count" {
                if with_count && self.options.fields.is_none() {
                    out.insert("count".into(), json!({ "posts": count }));
                }
            } else if self.selected(name) {
                if let Some(v) = object.get(*name) {
                    out.insert((*name).into(), v.clone());
                }
            }
        }
        Value::Object(out)
    }

    fn post(
        &self,
        item: &Item,
        body: Option<&(String, String)>,
        with_tags: bool,
        with_authors: bool,
    ) -> Value {
        let fields = self.options.fields.is_some();
        let mut out = Map::new();
        for name in POST_FIELDS {
            let value = match *name {
                "html" => {
                    if !self.wants("html") {
                        continue;
                    }
                    body.map(|b| Value::String(b.0.clone()))
                }
                "plaintext" => {
                    if !self.wants("plaintext") || !item.has_text {
                        continue;
                    }
                    body.map(|b| Value::String(b.1.clone()))
                }
                "tags" if !with_tags => continue,
                "authors" if !with_authors => continue,
                "primary_tag" if !with_tags || fields => continue,
                "primary_author" if !with_authors || fields => continue,
                "tags" | "authors" => item.object.get(*name).cloned(),
                "reading_time" if !item.has_html => continue,
                _ if !self.selected(name) => continue,
                _ => item.object.get(*name).cloned(),
            };
            if let Some(value) = value {
                out.insert((*name).into(), value);
            }
        }
        Value::Object(out)
    }
}

/// The bodies (html, plain text) of these posts.
pub async fn bodies(core: &Core, ids: &[Uuid]) -> Result<HashMap<Uuid, (String, String)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(sqlx::query!(
        "select id, body_html, body_text from posts where id = any($1)",
        ids
    )
    .fetch_all(core.reads())
    .await?
    .into_iter()
    .map(|r| (r.id, (r.body_html, r.body_text)))
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_time_follows_ghosts_formula() {
        let words = "word ".repeat(1375);
        assert_eq!(reading_time(&format!("<p>{words}</p>"), false), 5);
        assert_eq!(reading_time("<p>short</p>", false), 0);
        // 12 s + 11 s of images and 275 words (60 s): 83 s, one minute.
        let html = format!(
            "<p>{}</p><img src=\"a.png\" alt=\"a > b\"><img src='b'>",
            "w ".repeat(275)
        );
        assert_eq!(reading_time(&html, false), 1);
        assert_eq!(reading_time("<p>中文字</p>", false), 0);
    }

    #[test]
    fn excerpts_cut_at_500_utf16_units() {
        let text = "é".repeat(600);
        assert_eq!(first_500(&text).chars().count(), 500);
        let emoji = "😀".repeat(300);
        assert_eq!(first_500(&emoji).chars().count(), 250);
    }

    #[test]
    fn dates_are_ghosts() {
        let t = DateTime::parse_from_rfc3339("2021-03-04T09:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(ghost_date(t), "2021-03-04T09:30:00.000+00:00");
    }
}
