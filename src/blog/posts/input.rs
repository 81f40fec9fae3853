//! A post as an editor sends it, and its validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::blog::model::PostStatus;
use crate::error::Result;
use crate::validation::{Validator, slugify};

/// A whole post (create, or replace with PUT). Authors, tags and the series are named by slug.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PostInput {
    #[schema(example = "Why we write our backends in Rust")]
    pub title: String,
    /// Generated from the title when absent. Changing it keeps the old one as a redirect.
    pub slug: Option<String>,
    /// Generated from the body when absent.
    pub excerpt: Option<String>,
    /// Markdown.
    #[schema(example = "## The short answer\n\nSpeed and correctness.")]
    pub body: String,
    pub cover_image_url: Option<String>,
    /// Required with a cover image.
    pub cover_image_alt: Option<String>,
    /// Author slugs, in byline order.
    pub authors: Vec<String>,
    /// Tag slugs.
    pub tags: Vec<String>,
    /// Series slug.
    pub series: Option<String>,
    /// Part number within the series; the next free one when absent.
    pub series_part: Option<i32>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    /// `draft` (default), `scheduled`, `published` or `archived`.
    pub status: Option<String>,
    /// With `scheduled`: when to publish (in the future).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The language it is written in, an ISO 639-1 code: search stems its words in that
    /// language. Absent: `en` for a new post, unchanged for an existing one.
    #[schema(example = "en")]
    pub language: Option<String>,
    /// Shown first by front-ends that feature posts (and filterable in the Content API).
    pub featured: bool,
    /// `markdown` (default) or `html`: an HTML body (an imported one) is sanitized as it is.
    pub body_format: Option<String>,
    /// The cover image's caption; simple HTML (links, emphasis) is kept, sanitized.
    pub cover_image_caption: Option<String>,
    /// Open Graph and Twitter card overrides.
    pub social: SocialCards,
    /// Pages: whether the front-end shows the title and cover image (default true).
    pub show_title_and_feature_image: Option<bool>,
}

/// How a post looks when shared: Open Graph and Twitter card overrides, each optional
/// (front-ends fall back to the title, excerpt and cover image).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SocialCards {
    pub og_image: Option<String>,
    pub og_title: Option<String>,
    pub og_description: Option<String>,
    pub twitter_image: Option<String>,
    pub twitter_title: Option<String>,
    pub twitter_description: Option<String>,
}

impl SocialCards {
    fn validate(self, v: &mut Validator) -> Self {
        Self {
            og_image: optional_url(v, "social.og_image", self.og_image.as_deref()),
            og_title: v.optional_text("social.og_title", self.og_title.as_deref(), 300),
            og_description: v.optional_text(
                "social.og_description",
                self.og_description.as_deref(),
                500,
            ),
            twitter_image: optional_url(v, "social.twitter_image", self.twitter_image.as_deref()),
            twitter_title: v.optional_text(
                "social.twitter_title",
                self.twitter_title.as_deref(),
                300,
            ),
            twitter_description: v.optional_text(
                "social.twitter_description",
                self.twitter_description.as_deref(),
                500,
            ),
        }
    }
}

/// What a post's body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub const NAMES: [&'static str; 2] = ["markdown", "html"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }
}

/// A validated post; names of related things are not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPost {
    pub title: String,
    pub slug: String,
    pub excerpt: Option<String>,
    pub body: String,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub series_part: Option<i32>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub status: PostStatus,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub featured: bool,
    pub body_format: BodyFormat,
    pub cover_image_caption: Option<String>,
    pub social: SocialCards,
    pub show_title_and_feature_image: bool,
}

pub const MAX_BODY_CHARS: usize = 200_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_AUTHORS: usize = 10;
pub const GENERATED_EXCERPT_CHARS: usize = 220;

impl PostInput {
    pub fn validate(self, now: DateTime<Utc>) -> Result<ValidPost> {
        let mut v = Validator::new();
        let title = v.required_text("title", &self.title, 200);
        let slug = slug_of(&mut v, self.slug.as_deref(), &title);
        let excerpt = v.optional_multiline("excerpt", self.excerpt.as_deref(), 500);
        let body = v.multiline("body", &self.body, MAX_BODY_CHARS);
        if body.is_empty() {
            v.error("body", "required", "body is required (markdown)");
        }
        let cover_image_url =
            optional_url(&mut v, "cover_image_url", self.cover_image_url.as_deref());
        let cover_image_alt =
            v.optional_text("cover_image_alt", self.cover_image_alt.as_deref(), 300);
        if cover_image_url.is_some() && cover_image_alt.is_none() {
            v.error(
                "cover_image_alt",
                "required",
                "cover_image_alt is required with a cover image: describe it for screen readers",
            );
        }
        let authors = slug_list(&mut v, "authors", self.authors, MAX_AUTHORS);
        let tags = slug_list(&mut v, "tags", self.tags, MAX_TAGS);
        let series = self
            .series
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| v.slug("series", s));
        if let Some(part) = self.series_part {
            if series.is_none() {
                v.error("series_part", "needs_series", "series_part needs a series");
            }
            v.range_i32("series_part", part, 1, 10_000);
        }
        let meta_title = v.optional_text("meta_title", self.meta_title.as_deref(), 120);
        let meta_description =
            v.optional_text("meta_description", self.meta_description.as_deref(), 320);
        let canonical_url = optional_url(&mut v, "canonical_url", self.canonical_url.as_deref());
        let status = v
            .optional_choice("status", self.status.as_deref(), &PostStatus::NAMES)
            .and_then(|s| PostStatus::parse(&s))
            .unwrap_or(PostStatus::Draft);
        let scheduled_at = match status {
            PostStatus::Scheduled => match self.scheduled_at {
                Some(at) if at > now => Some(at),
                Some(_) => {
                    v.error(
                        "scheduled_at",
                        "in_the_past",
                        "scheduled_at must be in the future",
                    );
                    None
                }
                None => {
                    v.error(
                        "scheduled_at",
                        "required",
                        "scheduled_at is required to schedule a post",
                    );
                    None
                }
            },
            // Only meaningful when scheduling; otherwise ignored.
            _ => None,
        };
        let language = v.optional_language("language", self.language.as_deref());
        let body_format = match v
            .optional_choice(
                "body_format",
                self.body_format.as_deref(),
                &BodyFormat::NAMES,
            )
            .as_deref()
        {
            Some("html") => BodyFormat::Html,
            _ => BodyFormat::Markdown,
        };
        let cover_image_caption = v
            .optional_multiline(
                "cover_image_caption",
                self.cover_image_caption.as_deref(),
                1000,
            )
            .map(|caption| ammonia::clean(&caption));
        let social = self.social.validate(&mut v);
        v.finish()?;
        Ok(ValidPost {
            language,
            title,
            slug,
            excerpt,
            body,
            cover_image_url,
            cover_image_alt,
            authors,
            tags,
            series,
            series_part: self.series_part,
            meta_title,
            meta_description,
            canonical_url,
            status,
            scheduled_at,
            featured: self.featured,
            body_format,
            cover_image_caption,
            social,
            show_title_and_feature_image: self.show_title_and_feature_image.unwrap_or(true),
        })
    }
}

fn slug_of(v: &mut Validator, given: Option<&str>, title: &str) -> String {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => v.slug("slug", slug),
        None if title.is_empty() => String::new(),
        None => {
            let slug = slugify(title);
            if slug.is_empty() {
                v.error(
                    "slug",
                    "required",
                    "slug is required: the title has no letters or digits to make one from",
                );
            }
            slug
        }
    }
}

fn optional_url(v: &mut Validator, field: &str, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|s| !s.is_empty())?;
    v.http_url(field, value).map(|u| u.to_string())
}

fn slug_list(v: &mut Validator, field: &str, items: Vec<String>, max: usize) -> Vec<String> {
    if items.len() > max {
        v.error(field, "too_many", format!("{field} may list at most {max}"));
    }
    let mut seen = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let slug = v.slug(&format!("{field}[{i}]"), item);
        if !seen.contains(&slug) {
            seen.push(slug);
        }
    }
    seen
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Only posts with this status: draft, scheduled, published or archived.
    status: Option<String>,
}

impl StatusQuery {
    pub fn validate(&self) -> Result<Option<PostStatus>> {
        let mut v = Validator::new();
        let status = v
            .optional_choice("status", self.status.as_deref(), &PostStatus::NAMES)
            .and_then(|s| PostStatus::parse(&s));
        v.finish()?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn defaults_draft_and_generates_the_slug() {
        let valid = PostInput {
            title: "Hello, Rust!".into(),
            body: "Body".into(),
            ..PostInput::default()
        }
        .validate(now())
        .expect("valid");
        assert_eq!(valid.slug, "hello-rust");
        assert_eq!(valid.status, PostStatus::Draft);
    }

    #[test]
    fn scheduling_needs_a_future_time() {
        let input = |at| PostInput {
            title: "T".into(),
            body: "B".into(),
            status: Some("scheduled".into()),
            scheduled_at: at,
            ..PostInput::default()
        };
        assert!(
            input(Some(now() + chrono::Duration::hours(1)))
                .validate(now())
                .is_ok()
        );
        for at in [None, Some(now() - chrono::Duration::hours(1))] {
            let Err(AppError::Validation(errors)) = input(at).validate(now()) else {
                panic!("expected an error");
            };
            assert_eq!(errors[0].field, "scheduled_at");
        }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = PostInput {
            title: String::new(),
            slug: Some("Bad Slug".into()),
            body: String::new(),
            cover_image_url: Some("not a url".into()),
            authors: vec!["Ada Lovelace".into()],
            tags: vec!["ok".into(), "NOT OK".into()],
            series_part: Some(0),
            canonical_url: Some("ftp://x".into()),
            status: Some("live".into()),
            ..PostInput::default()
        };
        let Err(AppError::Validation(errors)) = input.validate(now()) else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "slug",
                "body",
                "cover_image_url",
                "authors[0]",
                "tags[1]",
                "series_part",
                "series_part",
                "canonical_url",
                "status"
            ]
        );
    }
}
