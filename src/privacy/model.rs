//! Whom a privacy request is about.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::Result;
use crate::validation::Validator;

#[derive(Debug, Default, Deserialize, Serialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PersonRef {
    /// The person's email address.
    #[schema(example = "ada@example.com")]
    email: String,
}

impl PersonRef {
    /// The address, as it is stored.
    pub fn validate(&self) -> Result<String> {
        let mut v = Validator::new();
        let email = v.email("email", &self.email);
        v.finish()?;
        Ok(email)
    }
}
