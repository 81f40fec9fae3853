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
