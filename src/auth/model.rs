//! What a sign-in sends.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Result;
use crate::validation::Validator;

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    #[schema(example = "owner@example.com")]
    email: String,
    #[schema(example = "correct horse battery staple")]
    password: String,
}

impl LoginRequest {
    /// The email and password, both present (whether they match is the service's question).
    pub fn validate(self) -> Result<(String, String)> {
        let mut v = Validator::new();
        if self.email.trim().is_empty() {
            v.error("email", "required", "email is required");
        }
        if self.password.is_empty() {
            v.error("password", "required", "password is required");
        }
        v.finish()?;
        Ok((self.email, self.password))
    }
}
