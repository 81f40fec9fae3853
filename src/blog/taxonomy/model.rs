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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tag {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
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
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TagInput {
    #[schema(example = "Rust")]
    pub name: String,
    pub slug: Option<String>,
    pub description: String,
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
        v.finish()?;
        Ok(term)
    }
}

impl TagInput {
    pub fn validate(self) -> Result<ValidTerm> {
        let mut v = Validator::new();
        let term = validate_term(
            &mut v,
            "name",
            &self.name,
            self.slug.as_deref(),
            "description",
            &self.description,
        );
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
