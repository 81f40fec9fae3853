//! The firm's public profile: name, tagline, contact details, address, social links and the
//! public site URL.

mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use model::{
    Branding, NavigationItem, PostalAddress, PostalAddressInput, SiteProfile, SiteProfileInput,
    SocialLinkInput,
};
pub use service::{get, identity, put};
