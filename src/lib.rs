//! frontdesk: the backend of a software consultancy's public website.
//!
//! Capabilities live in their own folders (handlers + service + model): `site`,
//! `catalogue`, `blog`, `leads`, `newsletter`, `scheduling`, `assistant`, `privacy`, `auth`, `admin_users`, `api_tokens`,
//! `audit`, `ops`. Shared plumbing sits
//! beside them: `cache`, `config`, `db`, `error`, `http` (router, middleware, extractors),
//! `idempotency`, `outbox` (the job runner), `rate_limit`, `signing`, `state`, `telemetry`,
//! `validation`.

pub mod admin_users;
pub mod api_tokens;
pub mod assistant;
pub mod audit;
pub mod auth;
pub mod blog;
pub mod cache;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod leads;
pub mod newsletter;
pub mod ops;
pub mod outbound;
pub mod outbox;
pub mod pagination;
pub mod personal_data;
pub mod privacy;
pub mod rate_limit;
pub mod scheduling;
pub mod signing;
pub mod site;
pub mod spreadsheet;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod validation;

pub use http::{build_router, serve, shutdown_signal};
pub use state::AppState;
