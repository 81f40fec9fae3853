//! What the assistant says (a reply: text and parts a widget can render), what it remembers
//! of a conversation, and the requests it takes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::understand::Intent;
use crate::error::Result;
use crate::validation::Validator;

/// A page the answer drew on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Source {
    /// `post` or `service`.
    pub kind: String,
    /// The post's or service's slug, for the site's own link to it.
    pub slug: String,
    pub title: String,
    /// Where to read it in this API.
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ServiceCard {
    pub slug: String,
    pub title: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SlotOption {
    /// In the visitor's zone.
    pub start: String,
    pub start_utc: DateTime<Utc>,
}

/// How to act on a part: the request the widget (or the visitor) can send.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Action {
    pub method: String,
    pub path: String,
}

/// The quote form, filled in with what the visitor said.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct QuotePrefill {
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub project_type: Option<String>,
    pub services: Vec<String>,
    pub budget_range: Option<String>,
    pub timeline: Option<String>,
    pub description: Option<String>,
}

/// Something a widget renders beside the text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// The posts and services the answer drew on.
    Sources { items: Vec<Source> },
    /// Services to suggest.
    Services { items: Vec<ServiceCard> },
    /// Free call times, with the booking request to send for one.
    Slots {
        call_type: String,
        time_zone: String,
        items: Vec<SlotOption>,
        action: Action,
    },
    /// The "custom development plan" form, prefilled.
    QuoteForm {
        prefill: QuotePrefill,
        action: Action,
    },
    /// Reach a person: the firm's contact details and the consultation form.
    Human {
        email: Option<String>,
        phone: Option<String>,
        action: Action,
    },
    /// A lead the chat created.
    LeadCreated { reference: String },
    /// A call the chat booked.
    BookingCreated {
        start: String,
        host: String,
        /// The visitor's link to move or cancel the call (also emailed). A secret: it is in
        /// this reply only, never in the conversation's stored history.
        manage_url: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Reply {
    pub text: String,
    pub intent: Intent,
    pub parts: Vec<Part>,
    /// `builtin` or `llm`.
    pub engine: String,
}

impl Part {
    /// The part as it is kept in the conversation's history: without secret links.
    pub fn to_keep(&self) -> Self {
        match self {
            Part::BookingCreated { start, host, .. } => Part::BookingCreated {
                start: start.clone(),
                host: host.clone(),
                manage_url: None,
            },
            other => other.clone(),
        }
    }
}

impl Reply {
    pub fn builtin(intent: Intent, text: impl Into<String>, parts: Vec<Part>) -> Self {
        Self {
            text: text.into(),
            intent,
            parts,
            engine: "builtin".into(),
        }
    }
}

/// What a streamed reply sends while it is being made.
#[derive(Debug, Clone, PartialEq)]
pub enum Streamed {
    /// More text.
    Token(String),
    /// Forget the text so far (the model failed midway; the built-in engine answers instead).
    Restart,
}

/// A step-by-step task the assistant is walking the visitor through.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub enum Flow {
    #[default]
    Idle,
    Quote {
        draft: QuotePrefill,
        /// The question asked last.
        asking: QuoteQuestion,
    },
    Booking {
        call_type: String,
        /// The call type's name, for the visitor.
        #[serde(default)]
        call_name: String,
        time_zone: String,
        offered: Vec<SlotOption>,
        chosen: Option<SlotOption>,
        name: Option<String>,
        email: Option<String>,
        asking: BookingQuestion,
    },
    /// A call was offered after a quote request; "yes" starts booking with these details.
    CallOffered {
        name: Option<String>,
        email: Option<String>,
    },
}

/// What the quote flow asked last (stored by name, as `"budget_range"`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum QuoteQuestion {
    Description,
    ProjectType,
    BudgetRange,
    Timeline,
    Name,
    Email,
    Company,
    Consent,
}

/// What the booking flow asked last.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BookingQuestion {
    Slot,
    Name,
    Email,
    Consent,
}

/// What a conversation remembers between messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    #[serde(default)]
    pub flow: Flow,
    /// The visitor's zone, once known.
    #[serde(default)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct StartRequest {
    /// The visitor's IANA zone, for call times.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: Option<String>,
}

impl StartRequest {
    /// The visitor's zone, when they sent one.
    pub fn validate(&self) -> Result<Option<String>> {
        let mut v = Validator::new();
        let zone = time_zone(&mut v, self.time_zone.as_deref());
        v.finish()?;
        Ok(zone)
    }
}

/// An IANA zone's canonical name; empty is none.
fn time_zone(v: &mut Validator, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|z| !z.is_empty())?;
    v.zone("time_zone", value).map(|z| z.name().to_owned())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct MessageRequest {
    #[schema(example = "What services do you offer?")]
    pub text: String,
    /// The visitor's IANA zone, for call times.
    pub time_zone: Option<String>,
}

impl MessageRequest {
    /// The text (at most `max_chars`) and the visitor's zone.
    pub fn validate(&self, max_chars: usize) -> Result<(String, Option<String>)> {
        let mut v = Validator::new();
        let text = v.required_multiline("text", &self.text, max_chars);
        let zone = time_zone(&mut v, self.time_zone.as_deref());
        v.finish()?;
        Ok((text, zone))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Started {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub greeting: Reply,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    /// `visitor` or `assistant`.
    pub role: String,
    pub text: String,
    #[schema(value_type = Vec<Object>)]
    pub parts: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct History {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub messages: i64,
    /// The lead the conversation created, if any.
    pub lead_id: Option<Uuid>,
    /// The call it booked, if any.
    pub booking_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Only conversations that led to a lead or a booking.
    #[serde(default)]
    pub led_to_lead_or_booking: bool,
}
