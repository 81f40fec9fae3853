#![recursion_limit = "256"]
//! frontdesk: the backend of a software consultancy's public website.
//!
//! `app` is the composition root. Capabilities live in their own folders (handlers +
//! service + model), each owning its tables: `site`, `catalogue`, `blog`, `leads`,
//! `newsletter`, `scheduling`, `assistant`, `webhooks`, `privacy`, `auth` (users, sign-in,
//! tokens), `audit`, `ops`, and `demo` (seeding). Shared plumbing sits beside them and knows
//! none of them: `cache`, `config`, `db`, `error`, `http`, `idempotency`, `jobs` (the job
//! runner), `outbound`, `pagination`, `personal_data`, `rate_limit`, `signing`,
//! `spreadsheet`, `state`, `telemetry`, `tokens`, `validation`.

pub mod app;

pub mod assistant;
pub mod audit;
pub mod auth;
pub mod blog;
pub mod catalogue;
pub mod demo;
pub mod leads;
pub mod newsletter;
pub mod ops;
pub mod privacy;
pub mod scheduling;
pub mod site;
pub mod web;
pub mod webhooks;

pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod memory;
pub mod outbound;
pub mod pagination;
pub mod personal_data;
pub mod rate_limit;
pub mod sealed;
pub mod signing;
pub mod spreadsheet;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod validation;

pub use app::{AppState, Config, build_router, openapi, serve, serve_metrics};
pub use http::shutdown_signal;
