//! What operators ask of the job runner.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::Result;
use crate::validation::Validator;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `pending`, `running`, `done` or `parked`.
    status: Option<String>,
    /// `email` or `webhook`.
    kind: Option<String>,
}

impl JobQuery {
    pub fn validate(&self) -> Result<JobFilter> {
        let mut v = Validator::new();
        let status = v.optional_choice(
            "status",
            self.status.as_deref(),
            &["pending", "running", "done", "parked"],
        );
        let kind = v.optional_choice("kind", self.kind.as_deref(), &["email", "webhook"]);
        v.finish()?;
        Ok(JobFilter { status, kind })
    }
}

/// Which jobs an admin asks for.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
}
