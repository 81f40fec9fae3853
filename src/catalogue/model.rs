//! An offering of the firm ("Our expertise"), as visitors and as admins see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;
use crate::validation::{Validator, slugify};

/// An offering as stored, for admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Offering {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// An icon name or URL for the frontend.
    pub icon: Option<String>,
    /// Lower comes first.
    pub display_order: i32,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The language it is written in (ISO 639-1).
    pub language: String,
}

/// An offering as the public site shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicOffering {
    #[schema(example = "web-development")]
    pub slug: String,
    #[schema(example = "Web development")]
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub icon: Option<String>,
    pub display_order: i32,
    /// ISO 639-1.
    pub language: String,
}

impl From<Offering> for PublicOffering {
    fn from(o: Offering) -> Self {
        Self {
            slug: o.slug,
            title: o.title,
            summary: o.summary,
            body: o.body,
            icon: o.icon,
            display_order: o.display_order,
            language: o.language,
        }
    }
}

/// An offering as sent by an admin (create, or replace with PUT).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OfferingInput {
    #[schema(example = "Web development")]
    pub title: String,
    /// Generated from the title when absent.
    #[schema(example = "web-development")]
    pub slug: Option<String>,
    #[schema(example = "Fast, accessible web applications, from first sketch to production.")]
    pub summary: String,
    /// Markdown.
    pub body: String,
    #[schema(example = "code")]
    pub icon: Option<String>,
    pub display_order: i32,
    pub published: bool,
    /// The language it is written in, an ISO 639-1 code (search stems its words in that
    /// language). Absent: `en` for a new service, unchanged for an existing one.
    #[serde(default)]
    #[schema(example = "en")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOffering {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub icon: Option<String>,
    pub display_order: i32,
    pub published: bool,
    pub language: Option<String>,
}

pub const MAX_BODY_CHARS: usize = 50_000;

impl OfferingInput {
    pub fn validate(self) -> Result<ValidOffering> {
        let mut v = Validator::new();
        let title = v.required_text("title", &self.title, 120);
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(slug) => v.slug("slug", slug),
            None if title.is_empty() => String::new(),
            None => {
                let generated = slugify(&title);
                if generated.is_empty() {
                    v.error(
                        "slug",
                        "required",
                        "slug is required: the title has no letters or digits to make one from",
                    );
                }
                generated
            }
        };
        let summary = v.required_multiline("summary", &self.summary, 300);
        let body = v.multiline("body", &self.body, MAX_BODY_CHARS);
        let icon = v.optional_text("icon", self.icon.as_deref(), 200);
        let display_order = v.range_i32("display_order", self.display_order, -10_000, 10_000);
        let language = v.optional_language("language", self.language.as_deref());
        v.finish()?;
        Ok(ValidOffering {
            language,
            title,
            slug,
            summary,
            body,
            icon,
            display_order,
            published: self.published,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn the_slug_comes_from_the_title_when_absent() {
        let input = OfferingInput {
            title: "Cloud & DevOps".into(),
            summary: "Pipelines".into(),
            ..OfferingInput::default()
        };
        assert_eq!(input.validate().expect("valid").slug, "cloud-devops");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = OfferingInput {
            title: "x".repeat(121),
            slug: Some("Not A Slug".into()),
            summary: String::new(),
            display_order: 99_999,
            ..OfferingInput::default()
        };
        let Err(AppError::Validation(errors)) = input.validate() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "slug", "summary", "display_order"]);
    }
}
