//! The on-site assistant: a chat that helps visitors explore the services, answers from the
//! site's own content (with its sources), prefills and sends a quote request, and finds and
//! books a call. Two engines answer: a built-in one that needs nothing (`builtin`, with
//! `understand` for what a message means), and any OpenAI-compatible model when configured
//! (`llm`), which falls back to the built-in one when it fails. Both act only through
//! `tools`, which call the same services as the REST API.

mod builtin;
mod config;
mod eval;
mod handlers;
mod llm;
mod model;
pub(crate) mod personal_data;
mod service;
mod tools;
mod understand;

pub use config::AssistantConfig;
pub use eval::cases as evaluation_cases;
pub use eval::{Case, Outcome, plant_secret_visitor, run as evaluate, scores};
pub use handlers::router;
pub use service::{Assistant, forget_old};

use std::ops::Deref;
use std::sync::Arc;

use crate::leads::LeadsState;
use crate::scheduling::SchedulingState;
use crate::state::Core;

/// What the assistant keeps besides the plumbing: its configuration and engines, and the
/// states of what it acts through (lead capture, scheduling).
#[derive(Clone)]
pub struct AssistantState(Arc<AssistantInner>);

pub struct AssistantInner {
    pub config: AssistantConfig,
    pub engine: Assistant,
    pub leads: LeadsState,
    pub scheduling: SchedulingState,
}

impl AssistantState {
    pub fn new(config: AssistantConfig, leads: LeadsState, scheduling: SchedulingState) -> Self {
        let engine = Assistant::from_config(&config);
        Self(Arc::new(AssistantInner {
            config,
            engine,
            leads,
            scheduling,
        }))
    }
}

impl Deref for AssistantState {
    type Target = AssistantInner;

    fn deref(&self) -> &AssistantInner {
        &self.0
    }
}

/// The plumbing and the assistant's state together: what its services work with.
#[derive(Clone)]
pub struct App {
    pub core: Core,
    pub assistant: AssistantState,
}

impl Deref for App {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
