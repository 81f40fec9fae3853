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
        v.finish()?;
        Ok(ValidSiteProfile {
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
        }
    }

    #[test]
    fn a_valid_profile_is_normalised() {
        let p = valid_input().validate().expect("valid");
        assert_eq!(p.contact_email, "hello@northwind.example");
        assert_eq!(p.public_url, "https://northwind.example");
        assert_eq!(p.postal_address.expect("address").country, "GB");
        assert_eq!(p.social_links[0].network, "github");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = SiteProfileInput {
            postal_address: Some(PostalAddressInput::default()),
            social_links: vec![SocialLinkInput::default()],
            phone: Some("call me".into()),
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
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {fields:?}"
            );
        }
    }
}
