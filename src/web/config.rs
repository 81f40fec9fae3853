//! The web capability's settings.

use crate::config::{ConfigError, Reader};
use crate::var;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Whether `/demo/` is served.
    pub demo: bool,
}

impl WebConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Web");
        Ok(Self {
            demo: r.flag(var!(
                "DEMO_PAGE",
                "true",
                "serve the demo page at /demo/ (the article page rebuilt from the public API, with the widget); false in production"
            ))?,
        })
    }
}
