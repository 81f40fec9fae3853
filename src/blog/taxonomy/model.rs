//! Authors, tags and series: what they hold, and their validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::blog::model::PostSummary;
use crate::error::Result;
use crate::validation::{Validator, slugify};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Markdown.
    pub bio: String,
    pub avatar_url: Option<String>,
    #[schema(value_type = AuthorProfile)]
    pub profile: sqlx::types::Json<AuthorProfile>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tag {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    #[schema(value_type = TagDetails)]
    pub details: sqlx::types::Json<TagDetails>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorInput {
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// Generated from the name when absent.
    pub slug: Option<String>,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub profile: AuthorProfile,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TagInput {
    #[schema(example = "Rust")]
    pub name: String,
    pub slug: Option<String>,
    pub description: String,
    pub details: TagDetails,
}

/// What front-ends may show of a tag besides its name and description (Ghost's tag
/// fields); every field optional, images and URLs absolute http(s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TagDetails {
    pub feature_image: Option<String>,
    /// `#rrggbb`.
    pub accent_color: Option<String>,
    pub canonical_url: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub og_image: Option<String>,
    pub og_title: Option<String>,
    pub og_description: Option<String>,
    pub twitter_image: Option<String>,
    pub twitter_title: Option<String>,
    pub twitter_description: Option<String>,
}

/// What front-ends may show of an author besides name, bio and avatar (Ghost's staff
/// profile); every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorProfile {
    pub cover_image: Option<String>,
    pub website: Option<String>,
    #[schema(example = "Bristol")]
    pub location: Option<String>,
    /// A Facebook page name.
    pub facebook: Option<String>,
    /// An X (Twitter) handle: `@northwind`.
    pub twitter: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
}

fn optional_http_url(v: &mut Validator, field: &str, value: Option<String>) -> Option<String> {
    v.optional_http_url(field, value.as_deref())
}

impl TagDetails {
    pub fn validate(self, v: &mut Validator) -> Self {
        let accent_color = v.optional_color("details.accent_color", self.accent_color.as_deref());
        let text = |v: &mut Validator, field: &str, value: Option<String>, max: usize| {
            v.optional_text(&format!("details.{field}"), value.as_deref(), max)
        };
        Self {
            feature_image: optional_http_url(v, "details.feature_image", self.feature_image),
            accent_color,
            canonical_url: optional_http_url(v, "details.canonical_url", self.canonical_url),
            meta_title: text(v, "meta_title", self.meta_title, 300),
            meta_description: text(v, "meta_description", self.meta_description, 500),
            og_image: optional_http_url(v, "details.og_image", self.og_image),
            og_title: text(v, "og_title", self.og_title, 300),
            og_description: text(v, "og_description", self.og_description, 500),
            twitter_image: optional_http_url(v, "details.twitter_image", self.twitter_image),
            twitter_title: text(v, "twitter_title", self.twitter_title, 300),
            twitter_description: text(v, "twitter_description", self.twitter_description, 500),
        }
    }
}

impl AuthorProfile {
    pub fn validate(self, v: &mut Validator) -> Self {
        let text = |v: &mut Validator, field: &str, value: Option<String>, max: usize| {
            v.optional_text(&format!("profile.{field}"), value.as_deref(), max)
        };
        Self {
            cover_image: optional_http_url(v, "profile.cover_image", self.cover_image),
            website: optional_http_url(v, "profile.website", self.website),
            location: text(v, "location", self.location, 150),
            facebook: text(v, "facebook", self.facebook, 100),
            twitter: text(v, "twitter", self.twitter, 100),
            meta_title: text(v, "meta_title", self.meta_title, 300),
            meta_description: text(v, "meta_description", self.meta_description, 500),
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SeriesInput {
    #[schema(example = "Building a web API in Rust")]
    pub title: String,
    pub slug: Option<String>,
    pub description: String,
}

/// A validated author, tag or series: a display name, a slug, a description and, for
/// authors, an avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTerm {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub url: Option<String>,
    /// A tag's details or an author's profile (JSON), `{}` for a series.
    pub extra: serde_json::Value,
}

fn validate_term(
    v: &mut Validator,
    name_field: &str,
    name: &str,
    slug: Option<&str>,
    description_field: &str,
    description: &str,
) -> ValidTerm {
    let name = v.required_text(name_field, name, 120);
    let slug = match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => v.slug("slug", slug),
        None => {
            let generated = slugify(&name);
            if generated.is_empty() && !name.is_empty() {
                v.error(
                    "slug",
                    "required",
                    "slug is required: the name has no letters or digits to make one from",
                );
            }
            generated
        }
    };
    let description = v.multiline(description_field, description, 5_000);
    ValidTerm {
        name,
        slug,
        description,
        url: None,
        extra: serde_json::json!({}),
    }
}

impl AuthorInput {
    pub fn validate(self) -> Result<ValidTerm> {
        let mut v = Validator::new();
        let mut term = validate_term(
            &mut v,
            "name",
            &self.name,
            self.slug.as_deref(),
            "bio",
            &self.bio,
        );
        term.url = self
            .avatar_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|url| v.http_url("avatar_url", url))
            .map(|u| u.to_string());
        term.extra = serde_json::to_value(self.profile.validate(&mut v)).unwrap_or_default();
        v.finish()?;
        Ok(term)
    }
}

impl TagInput {
    pub fn validate(self) -> Result<ValidTerm> {
        let mut v = Validator::new();
        let mut term = validate_term(
            &mut v,
            "name",
            &self.name,
            self.slug.as_deref(),
            "description",
            &self.description,
        );
        term.extra = serde_json::to_value(self.details.validate(&mut v)).unwrap_or_default();
        v.finish()?;
        Ok(term)
    }
}

impl SeriesInput {
    pub fn validate(self) -> Result<ValidTerm> {
        let mut v = Validator::new();
        let term = validate_term(
            &mut v,
            "title",
            &self.title,
            self.slug.as_deref(),
            "description",
            &self.description,
        );
        v.finish()?;
        Ok(term)
    }
}

/// A tag as visitors see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicTag {
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Published posts with this tag.
    pub post_count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicAuthor {
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub post_count: i64,
}

/// A series and its published parts, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicSeries {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub parts: Vec<PostSummary>,
}
