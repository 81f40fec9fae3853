//! What editors send to make and follow issues, what mail providers send about bounces,
//! and what comes back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;
use crate::validation::Validator;

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_PREVIEW_CHARS: usize = 300;

/// A post to send to the list.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IssueInput {
    /// The post's slug (or id).
    #[schema(example = "why-we-write-our-backends-in-rust")]
    pub post: String,
    /// Publish the post now if it is a draft or scheduled ("publish and send").
    pub publish: bool,
    /// When to send. Absent: now, or for a scheduled post, when it is published.
    pub send_at: Option<DateTime<Utc>>,
    /// A tag slug: only subscribers who chose this topic. Absent: every confirmed subscriber.
    #[schema(example = "rust")]
    pub topic: Option<String>,
    /// Absent: the post's title when sending starts.
    pub subject: Option<String>,
    /// The line mail clients show after the subject. Absent: the post's excerpt.
    pub preview_text: Option<String>,
}

/// A validated [`IssueInput`].
#[derive(Debug, Clone)]
pub struct ValidIssue {
    pub post: String,
    pub publish: bool,
    pub send_at: Option<DateTime<Utc>>,
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub preview_text: Option<String>,
}

impl IssueInput {
    pub fn validate(self) -> Result<ValidIssue> {
        let mut v = Validator::new();
        let post = v.required_text("post", &self.post, 200);
        let topic = self
            .topic
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let topic = topic.map(|t| v.slug("topic", t));
        let subject = v.optional_text("subject", self.subject.as_deref(), MAX_SUBJECT_CHARS);
        let preview_text = v.optional_text(
            "preview_text",
            self.preview_text.as_deref(),
            MAX_PREVIEW_CHARS,
        );
        v.finish()?;
        Ok(ValidIssue {
            post,
            publish: self.publish,
            send_at: self.send_at,
            topic,
            subject,
            preview_text,
        })
    }
}

/// A test send: the issue's message, as it would go out now, to one address.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TestSendInput {
    /// The post's slug (or id), in any state: drafts can be tried before publishing.
    pub post: String,
    #[schema(example = "editor@northwind.example")]
    pub email: String,
    pub subject: Option<String>,
    pub preview_text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidTestSend {
    pub post: String,
    pub email: String,
    pub subject: Option<String>,
    pub preview_text: Option<String>,
}

impl TestSendInput {
    pub fn validate(self) -> Result<ValidTestSend> {
        let mut v = Validator::new();
        let post = v.required_text("post", &self.post, 200);
        let email = v.email("email", &self.email);
        let subject = v.optional_text("subject", self.subject.as_deref(), MAX_SUBJECT_CHARS);
        let preview_text = v.optional_text(
            "preview_text",
            self.preview_text.as_deref(),
            MAX_PREVIEW_CHARS,
        );
        v.finish()?;
        Ok(ValidTestSend {
            post,
            email,
            subject,
            preview_text,
        })
    }
}

/// An issue and how its sending goes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issue {
    pub id: Uuid,
    pub post_id: Uuid,
    /// The post's slug when the issue was made.
    pub post_slug: String,
    /// `scheduled`, `sending`, `sent` (nothing left to deliver) or `cancelled`.
    pub status: String,
    /// Set when sending starts (until then, the post's title will be used unless given).
    pub subject: Option<String>,
    pub preview_text: Option<String>,
    pub topic: Option<String>,
    pub send_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// When the last message went out, once nothing is left to deliver.
    pub finished_at: Option<DateTime<Utc>>,
    pub cancelled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub stats: IssueStats,
}

/// Counts of an issue's recipients by what happened to their message.
#[derive(Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct IssueStats {
    /// Confirmed subscribers (of the topic) when sending started.
    pub recipients: i64,
    /// Waiting for their turn (sending is paced).
    pub queued: i64,
    /// Being handed to the mail server now.
    pub sending: i64,
    pub sent: i64,
    /// Refused by the mail server, or out of attempts.
    pub failed: i64,
    /// Unsubscribed, bounced or complained before their turn came: not mailed.
    pub skipped: i64,
    /// The replica sending it stopped mid-delivery: it may or may not have arrived, and is
    /// not sent again (nobody gets an issue twice).
    pub uncertain: i64,
    /// Not sent because the issue was cancelled.
    pub cancelled: i64,
    /// Reported by the mail provider afterwards (POST /v1/newsletter/events).
    pub bounced: i64,
    pub complained: i64,
    /// Recipients who have unsubscribed since sending started.
    pub unsubscribed_after: i64,
}

/// What a test send did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// `queued`: the message is in the outbox (GET /v1/admin/emails shows it).
    pub status: &'static str,
    pub to: String,
    pub subject: String,
}

/// One event from a mail provider.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProviderEvent {
    /// `bounce` or `complaint`; others are ignored.
    #[serde(rename = "type")]
    pub kind: String,
    pub email: String,
    /// For a bounce: `hard` (default: the address does not exist) or `soft` (ignored: a
    /// full mailbox, a server down).
    pub bounce_type: Option<String>,
    /// The Message-ID of the message it is about (`<id@frontdesk>`), when the provider
    /// reports it: counted in that issue's statistics.
    pub message_id: Option<String>,
}

/// A provider's events: one, a list, or `{"events": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ProviderEvents {
    Wrapped { events: Vec<ProviderEvent> },
    Many(Vec<ProviderEvent>),
    One(ProviderEvent),
}

impl ProviderEvents {
    pub fn into_vec(self) -> Vec<ProviderEvent> {
        match self {
            Self::Wrapped { events } | Self::Many(events) => events,
            Self::One(event) => vec![event],
        }
    }
}

/// What was done with a provider's events.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct EventsApplied {
    pub received: usize,
    /// Hard bounces and complaints: those addresses are not mailed again.
    pub applied: usize,
    /// Soft bounces, other kinds and unknown addresses.
    pub ignored: usize,
}
