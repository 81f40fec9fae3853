//! The site profile and its validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Result;
use crate::validation::Validator;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PostalAddress {
    #[schema(example = "12 Harbour Street")]
    pub street: String,
    #[schema(example = "Bristol")]
    pub locality: String,
    #[schema(example = "BS1 4RN")]
    pub postal_code: String,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[schema(example = "GB")]
    pub country: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct SocialLink {
    /// A short lowercase name: `linkedin`, `github`, `x`, `mastodon`...
    #[schema(example = "github")]
    pub network: String,
    #[schema(example = "https://github.com/example")]
    pub url: String,
}

/// One link of the site's navigation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NavigationItem {
    #[schema(example = "About")]
    pub label: String,
    /// A path on the site (`/about/`) or an absolute http(s) URL.
    #[schema(example = "/about/")]
    pub url: String,
}

/// What front-ends show around the content (what Ghost calls the site's settings): logo,
/// icon, accent colour, navigation, and the default meta and social card fields. Every
/// field is optional; images are absolute http(s) URLs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    pub logo: Option<String>,
    /// A square image (favicon, app icon).
    pub icon: Option<String>,
    /// `#rrggbb`.
    #[schema(example = "#ff5a1f")]
    pub accent_color: Option<String>,
    pub cover_image: Option<String>,
    pub navigation: Vec<NavigationItem>,
    pub secondary_navigation: Vec<NavigationItem>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub og_image: Option<String>,
    pub og_title: Option<String>,
    pub og_description: Option<String>,
    pub twitter_image: Option<String>,
    pub twitter_title: Option<String>,
    pub twitter_description: Option<String>,
}

pub const MAX_NAVIGATION: usize = 50;

impl Branding {
    fn validate(self, v: &mut Validator) -> Self {
        let image = |v: &mut Validator, field: &str, value: Option<String>| {
            v.optional_http_url(&format!("branding.{field}"), value.as_deref())
        };
        let accent_color = v.optional_color("branding.accent_color", self.accent_color.as_deref());
        let navigation = validate_navigation(v, "branding.navigation", self.navigation);
        let secondary_navigation = validate_navigation(
            v,
            "branding.secondary_navigation",
            self.secondary_navigation,
        );
        let text = |v: &mut Validator, field: &str, value: Option<String>, max: usize| {
            v.optional_text(&format!("branding.{field}"), value.as_deref(), max)
        };
        Self {
            logo: image(v, "logo", self.logo),
            icon: image(v, "icon", self.icon),
            accent_color,
            cover_image: image(v, "cover_image", self.cover_image),
            navigation,
            secondary_navigation,
            meta_title: text(v, "meta_title", self.meta_title, 300),
            meta_description: text(v, "meta_description", self.meta_description, 500),
            og_image: image(v, "og_image", self.og_image),
            og_title: text(v, "og_title", self.og_title, 300),
            og_description: text(v, "og_description", self.og_description, 500),
            twitter_image: image(v, "twitter_image", self.twitter_image),
            twitter_title: text(v, "twitter_title", self.twitter_title, 300),
            twitter_description: text(v, "twitter_description", self.twitter_description, 500),
        }
    }
}

fn validate_navigation(
    v: &mut Validator,
    field: &str,
    items: Vec<NavigationItem>,
) -> Vec<NavigationItem> {
    if items.len() > MAX_NAVIGATION {
        v.error(
            field,
            "too_many",
            format!("{field} may list at most {MAX_NAVIGATION} links"),
        );
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let label = v.required_text(&format!("{field}[{i}].label"), &item.label, 100);
            let url = item.url.trim().to_owned();
            let url_field = format!("{field}[{i}].url");
            let url = if url.starts_with('/') && !url.starts_with("//") {
                v.text(&url_field, &url, 2000)
            } else {
                v.http_url(&url_field, &url)
                    .map(|u| u.to_string())
                    .unwrap_or_default()
            };
            NavigationItem { label, url }
        })
        .collect()
}

/// The firm's public profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteProfile {
    pub firm_name: String,
    pub tagline: String,
    pub contact_email: String,
    pub phone: Option<String>,
    pub postal_address: Option<PostalAddress>,
    pub social_links: Vec<SocialLink>,
    /// The public website, used for absolute links (feeds, emails).
    pub public_url: String,
    pub branding: Branding,
    pub updated_at: DateTime<Utc>,
}

/// The profile as sent to PUT /v1/admin/site: the whole profile, replacing the old one.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SiteProfileInput {
    #[schema(example = "Northwind Software")]
    pub firm_name: String,
    #[schema(example = "Software that earns its keep")]
    pub tagline: String,
    #[schema(example = "hello@northwind.example")]
    pub contact_email: String,
    #[schema(example = "+44 117 496 0000")]
    pub phone: Option<String>,
    pub postal_address: Option<PostalAddressInput>,
    pub social_links: Vec<SocialLinkInput>,
    #[schema(example = "https://northwind.example")]
    pub public_url: String,
    pub branding: Branding,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PostalAddressInput {
    pub street: String,
    pub locality: String,
    pub postal_code: String,
    pub region: Option<String>,
    pub country: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SocialLinkInput {
    pub network: String,
    pub url: String,
}

/// A validated profile, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSiteProfile {
    pub firm_name: String,
    pub tagline: String,
    pub contact_email: String,
    pub phone: Option<String>,
    pub postal_address: Option<PostalAddress>,
    pub social_links: Vec<SocialLink>,
    pub public_url: String,
    pub branding: Branding,
}

pub const MAX_SOCIAL_LINKS: usize = 20;

impl SiteProfileInput {
    pub fn validate(self) -> Result<ValidSiteProfile> {
        let mut v = Validator::new();
        let firm_name = v.required_text("firm_name", &self.firm_name, 120);
        let tagline = v.text("tagline", &self.tagline, 200);
        let contact_email = v.email("contact_email", &self.contact_email);
        let phone = v.optional_text("phone", self.phone.as_deref(), 40);
        if let Some(phone) = &phone {
            v.phone("phone", phone);
        }
        let postal_address = self.postal_address.map(|a| validate_address(&mut v, a));
        if self.social_links.len() > MAX_SOCIAL_LINKS {
            v.error(
                "social_links",
                "too_many",
                format!("at most {MAX_SOCIAL_LINKS} social links"),
            );
        }
        let social_links = self
            .social_links
            .into_iter()
            .enumerate()
            .map(|(i, link)| validate_link(&mut v, i, link))
            .collect();
        let public_url = v
            .http_url("public_url", &self.public_url)
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let branding = self.branding.validate(&mut v);
        v.finish()?;
        Ok(ValidSiteProfile {
            branding,
            firm_name,
            tagline,
            contact_email,
            phone,
            postal_address,
            social_links,
            public_url,
        })
    }
}

/// Digits with the usual separators and an optional leading +; 7 to 15 digits (E.164).
fn validate_address(v: &mut Validator, a: PostalAddressInput) -> PostalAddress {
    let country = a.country.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        v.error(
            "postal_address.country",
            "invalid_country",
            "postal_address.country must be a two-letter ISO 3166-1 code, like GB or US",
        );
    }
    PostalAddress {
        street: v.required_text("postal_address.street", &a.street, 200),
        locality: v.required_text("postal_address.locality", &a.locality, 100),
        postal_code: v.text("postal_address.postal_code", &a.postal_code, 20),
        region: v.optional_text("postal_address.region", a.region.as_deref(), 100),
        country,
    }
}

fn validate_link(v: &mut Validator, index: usize, link: SocialLinkInput) -> SocialLink {
    let field = format!("social_links[{index}].network");
    let network = link.network.trim().to_lowercase();
    let well_formed = !network.is_empty()
        && network.len() <= 40
        && network
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !well_formed {
        v.error(
            &field,
            "invalid_network",
            format!("{field} must be a short name like `linkedin` (letters, digits, - and _)"),
        );
    }
    let url = v
        .http_url(&format!("social_links[{index}].url"), &link.url)
        .map(|u| u.to_string())
        .unwrap_or_default();
    SocialLink { network, url }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn valid_input() -> SiteProfileInput {
        SiteProfileInput {
            firm_name: "Northwind".into(),
            tagline: "Software".into(),
            contact_email: "Hello@Northwind.example".into(),
            phone: Some("+44 117 496 0000".into()),
            postal_address: Some(PostalAddressInput {
                street: "1 Road".into(),
                locality: "Bristol".into(),
                postal_code: "BS1".into(),
                region: None,
                country: "gb".into(),
            }),
            social_links: vec![SocialLinkInput {
                network: "GitHub".into(),
                url: "https://github.com/northwind".into(),
            }],
            public_url: "https://northwind.example/".into(),
            branding: Branding {
                accent_color: Some("#FF5A1F".into()),
                navigation: vec![NavigationItem {
                    label: "About".into(),
                    url: "/about/".into(),
                }],
                ..Branding::default()
            },
        }
    }

    #[test]
    fn a_valid_profile_is_normalised() {
        let p = valid_input().validate().expect("valid");
        assert_eq!(p.contact_email, "hello@northwind.example");
        assert_eq!(p.public_url, "https://northwind.example");
        assert_eq!(p.postal_address.expect("address").country, "GB");
        assert_eq!(p.social_links[0].network, "github");
        assert_eq!(p.branding.accent_color.as_deref(), Some("#ff5a1f"));
        assert_eq!(p.branding.navigation[0].url, "/about/");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = SiteProfileInput {
            postal_address: Some(PostalAddressInput::default()),
            social_links: vec![SocialLinkInput::default()],
            phone: Some("call me".into()),
            branding: Branding {
                accent_color: Some("red".into()),
                navigation: vec![NavigationItem {
                    label: String::new(),
                    url: "javascript:alert(1)".into(),
                }],
                ..Branding::default()
            },
            ..SiteProfileInput::default()
        };
        let Err(AppError::Validation(errors)) = input.validate() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "firm_name",
            "contact_email",
            "phone",
            "postal_address.country",
            "postal_address.street",
            "postal_address.locality",
            "social_links[0].network",
            "social_links[0].url",
            "public_url",
            "branding.accent_color",
            "branding.navigation[0].label",
            "branding.navigation[0].url",
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {fields:?}"
            );
        }
    }
}
