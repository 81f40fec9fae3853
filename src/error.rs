//! The one error type of the service and its RFC 9457 problem+json rendering.
//!
//! Handlers and services return [`Result<T>`]; `?` converts database and internal errors.
//! The response carries a [`Problem`] in its extensions; the `problem_details` middleware
//! renders it with the request id, so every error body has the same shape.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// One invalid field of a request, named by its path in the JSON body or query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `email` or `postal_address.country` or `social_links[1].url`.
    pub field: String,
    /// Machine-readable reason, e.g. `required`, `too_long`, `invalid_email`.
    pub code: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        problem: &'static str,
        detail: String,
    },
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// What a visitor may read about this failure, in a sentence they can act on
    /// (validation messages, a conflict's detail, the rate limit); `None` for anything
    /// they can do nothing about, which is then a generic apology.
    pub fn for_visitor(&self) -> Option<String> {
        match self {
            Self::Validation(errors) => Some(
                errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Self::Conflict { detail, .. } => Some(detail.clone()),
            Self::TooManyRequests { .. } => Some(
                "We have had many requests from your address; please try again a little later."
                    .into(),
            ),
            _ => None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    pub fn conflict(problem: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            problem,
            detail: detail.into(),
        }
    }

    /// The kind of problem: the last part of its `type` URN (`slot-taken`, `validation`,
    /// `request-in-progress`…). Callers that react to one kind match on this, not on the
    /// variant, since one variant carries many kinds.
    pub fn kind(&self) -> String {
        let problem = self.problem();
        problem
            .problem_type
            .strip_prefix(PROBLEM_PREFIX)
            .unwrap_or(&problem.problem_type)
            .to_owned()
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(err) if is_unavailable(err) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(err) if wraps_unavailable(err) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(err) if is_unstorable_text(err) => StatusCode::BAD_REQUEST,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            Self::Validation(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(
                    status,
                    "validation",
                    "Some fields are invalid; see `errors` for each one.",
                )
            },
            Self::Conflict { problem, detail } => Problem::new(status, problem, detail),
            Self::Unauthorized => Problem::new(
                status,
                "unauthorized",
                "Send a valid bearer token in the Authorization header (POST /v1/auth/login gives one).",
            ),
            Self::InvalidCredentials => Problem::new(
                status,
                "invalid-credentials",
                "The email or password is wrong.",
            ),
            Self::TooManyRequests { retry_after } => Problem::new(
                status,
                "rate-limited",
                format!(
                    "Too many requests; retry after {} seconds.",
                    retry_after.as_secs().max(1)
                ),
            ),
            Self::Database(_) | Self::Internal(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                Problem::new(
                    status,
                    "unavailable",
                    "The service cannot reach its database right now; retry shortly.",
                )
            }
            Self::Database(err) if is_unstorable_text(err) => Problem::new(
                status,
                "bad-request",
                "The request holds text that cannot be stored, such as a NUL character.",
            ),
            Self::Database(_) | Self::Internal(_) => Problem::internal(),
            other => Problem::new(status, Problem::type_for_status(status), other.to_string()),
        }
    }
}

impl From<csv::Error> for AppError {
    fn from(err: csv::Error) -> Self {
        Self::Internal(err.into())
    }
}

/// How long a client is asked to wait when the database cannot be reached or is saturated.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The database cannot be reached, or is saturated: the connection was refused, reset or
/// could not be set up (TLS), the pool is closed or had no free connection in time, or the
/// server is shutting down, starting or out of connections. Retrying later helps; the
/// request itself was fine.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 53300 too many connections; 57P01..57P03 the
            // server is shutting down, crashed, or not yet accepting connections.
            code.starts_with("08") || matches!(&*code, "53300" | "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// An internal error whose cause is an unreachable database (`.context(...)` wraps it).
fn wraps_unavailable(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(is_unavailable)
}

/// Postgres refuses some text a request can carry (a NUL byte in a query parameter or a
/// header the validators do not see); that is the caller's mistake, not a server error.
fn is_unstorable_text(err: &sqlx::Error) -> bool {
    const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    const UNTRANSLATABLE_CHARACTER: &str = "22P05";
    matches!(
        err.as_database_error().and_then(|db| db.code()).as_deref(),
        Some(CHARACTER_NOT_IN_REPERTOIRE | UNTRANSLATABLE_CHARACTER)
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause chain goes to the log, inside the request span; never to the client.
            tracing::error!(error = ?anyhow_chain(&self), "request failed");
            if let Self::Database(sqlx::Error::Database(db)) = &self {
                // A named statement that exists already, or not at all: another client's
                // statements on this server connection.
                if matches!(db.code().as_deref(), Some("42P05" | "26000")) {
                    tracing::error!(
                        "prepared statements collide: DATABASE_URL seems to lead to a transaction-mode pooler (PgBouncer); set DATABASE_POOLER=transaction and DATABASE_DIRECT_URL"
                    );
                }
            }
        }
        let mut response = self.problem().into_response();
        match self {
            Self::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after } => {
                let secs = retry_after.as_secs().max(1);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Self::ServiceUnavailable(_) | Self::Database(_) | Self::Internal(_)
                if status == StatusCode::SERVICE_UNAVAILABLE =>
            {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_AFTER.as_secs()),
                );
            }
            _ => {}
        }
        response
    }
}

fn anyhow_chain(err: &AppError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

const PROBLEM_PREFIX: &str = "urn:frontdesk:problem:";

/// RFC 9457 problem details. `type` is a URN naming the kind of problem; the README lists them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "urn:frontdesk:problem:validation")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request id, also sent as the `x-request-id` header; quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every invalid field (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("{PROBLEM_PREFIX}{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            request_id: None,
            errors: Vec::new(),
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; it has been logged. Quote the request id if you report it.",
        )
    }

    /// A problem for an error response produced outside our handlers (a router 404 or 405,
    /// a timeout, a body limit), so that those answer in the same shape.
    pub fn for_status(status: StatusCode) -> Self {
        let detail = match status {
            StatusCode::NOT_FOUND => "No such route; /openapi.json lists every route.",
            StatusCode::METHOD_NOT_ALLOWED => {
                "This route does not accept this method; /openapi.json lists the methods."
            }
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than the limit.",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                "The request took too long and was stopped; retry shortly."
            }
            StatusCode::REQUEST_TIMEOUT => "The request took too long and was stopped.",
            s if s.is_server_error() => return Self::internal(),
            _ => "The request could not be handled.",
        };
        Self::new(status, Self::type_for_status(status), detail)
    }

    fn type_for_status(status: StatusCode) -> &'static str {
        match status {
            StatusCode::BAD_REQUEST => "bad-request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            StatusCode::UNPROCESSABLE_ENTITY => "validation",
            StatusCode::TOO_MANY_REQUESTS => "rate-limited",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => "unavailable",
            StatusCode::REQUEST_TIMEOUT => "timeout",
            _ => "error",
        }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Serializes the problem; falls back to a fixed body if serialization ever failed.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            br#"{"type":"urn:frontdesk:problem:internal","title":"Internal Server Error","status":500,"detail":"error"}"#.to_vec()
        })
    }
}

/// The response is rendered later by the `problem_details` middleware, which knows the
/// request id; the status is set now so that layers in between see it.
impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = self.status_code().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Turns a violation of a named database constraint into a meaningful error.
pub trait ConstraintExt<T> {
    fn on_constraint(self, name: &str, make: impl FnOnce() -> AppError) -> Result<T>;
}

impl<T, E: Into<AppError>> ConstraintExt<T> for std::result::Result<T, E> {
    fn on_constraint(self, name: &str, make: impl FnOnce() -> AppError) -> Result<T> {
        self.map_err(|err| match err.into() {
            AppError::Database(sqlx::Error::Database(db)) if db.constraint() == Some(name) => {
                make()
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_reveal_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("password=hunter2 in table secrets"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn validation_lists_every_field() {
        let err = AppError::Validation(vec![
            FieldError::new("a", "required", "a is required"),
            FieldError::new("b", "too_long", "b is too long"),
        ]);
        let body: serde_json::Value =
            serde_json::from_slice(&err.problem().to_body()).expect("json");
        assert_eq!(body["status"], 422);
        assert_eq!(body["type"], "urn:frontdesk:problem:validation");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
    }
}
