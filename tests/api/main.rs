//! Integration tests: the real router against a real Postgres, one fresh database per test.

mod access_control;
mod admin_users;
mod api_tokens;
mod architecture;
mod assistant;
mod audit;
mod auth;
mod blog_reading;
mod blog_writing;
mod calendars;
mod catalogue;
mod cli;
mod conventions;
mod errors;
mod fixtures;
mod fleet;
mod helpers;
mod inbox;
mod leads;
mod newsletter;
mod newsletter_sending;
mod ops;
mod scheduling;
mod security;
mod site;
mod web;
