//! Leads: what the forms send, how it is validated, and how admins see it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::Result;
use crate::validation::{Bound, Validator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum LeadKind {
    /// "Book a consultation".
    Consultation,
    /// "Get a custom development plan".
    Plan,
    /// A booked call (scheduling).
    Call,
}

impl LeadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Plan => "plan",
            Self::Call => "call",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Consultation, Self::Plan, Self::Call]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Consultation => "consultation request",
            Self::Plan => "development plan request",
            Self::Call => "call booking",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum LeadStatus {
    New,
    Contacted,
    Qualified,
    Proposal,
    Won,
    Lost,
    Spam,
}

impl LeadStatus {
    pub const ALL: [Self; 7] = [
        Self::New,
        Self::Contacted,
        Self::Qualified,
        Self::Proposal,
        Self::Won,
        Self::Lost,
        Self::Spam,
    ];

    pub const NAMES: [&'static str; 7] = [
        "new",
        "contacted",
        "qualified",
        "proposal",
        "won",
        "lost",
        "spam",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Contacted => "contacted",
            Self::Qualified => "qualified",
            Self::Proposal => "proposal",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Spam => "spam",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn rank(self) -> u8 {
        match self {
            Self::New => 0,
            Self::Contacted => 1,
            Self::Qualified => 2,
            Self::Proposal => 3,
            Self::Won | Self::Lost => 4,
            Self::Spam => 5,
        }
    }

    /// new → contacted → qualified → proposal → won | lost (steps may be skipped, never
    /// undone); anything may be marked spam, and spam may go back to new.
    pub fn can_become(self, next: Self) -> bool {
        match (self, next) {
            (a, b) if a == b => true,
            (_, Self::Spam) => true,
            (Self::Spam, Self::New) => true,
            (Self::Spam | Self::Won | Self::Lost, _) => false,
            (a, b) => b.rank() > a.rank(),
        }
    }
}

/// Enumerations of the plan form, as (value, label).
pub const PROJECT_TYPES: &[&str] = &[
    "website",
    "web_app",
    "mobile_app",
    "api_integration",
    "modernisation",
    "ai_assistant",
    "other",
];
pub const BUDGET_RANGES: &[&str] = &[
    "under_10k",
    "10k_25k",
    "25k_50k",
    "50k_100k",
    "over_100k",
    "not_sure",
];
pub const TIMELINES: &[&str] = &[
    "asap",
    "1_3_months",
    "3_6_months",
    "6_plus_months",
    "flexible",
];

pub const UTM_FIELDS: &[&str] = &["source", "medium", "campaign", "term", "content"];

/// Campaign parameters of the page the form was sent from.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

/// "Book a consultation".
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ConsultationRequest {
    #[schema(example = "Ada")]
    pub first_name: String,
    #[schema(example = "Lovelace")]
    pub last_name: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    #[schema(example = "We need a partner to rebuild our customer portal.")]
    pub message: String,
    /// A service of interest: the slug of a published service.
    pub service: Option<String>,
    /// Must be true: the visitor agreed to be contacted.
    pub consent: bool,
    /// Which consent text the visitor saw.
    pub consent_text_version: Option<String>,
    /// The page the form was on.
    pub source_page: Option<String>,
    pub utm: Utm,
    /// Leave empty: a field hidden from people, which only bots fill in.
    pub website: Option<String>,
}

/// "Get a custom development plan".
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PlanRequest {
    #[schema(example = "Grace Hopper")]
    pub name: String,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "Compilers Ltd")]
    pub company: String,
    /// website, web_app, mobile_app, api_integration, modernisation, ai_assistant, other.
    #[schema(example = "web_app")]
    pub project_type: String,
    /// Slugs of published services.
    pub services: Vec<String>,
    /// under_10k, 10k_25k, 25k_50k, 50k_100k, over_100k, not_sure.
    #[schema(example = "25k_50k")]
    pub budget_range: String,
    /// asap, 1_3_months, 3_6_months, 6_plus_months, flexible.
    #[schema(example = "3_6_months")]
    pub timeline: String,
    pub description: String,
    pub consent: bool,
    pub consent_text_version: Option<String>,
    pub source_page: Option<String>,
    pub utm: Utm,
    /// Leave empty (honeypot).
    pub website: Option<String>,
}

/// A lead ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    pub kind: LeadKind,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: String,
    pub services: Vec<String>,
    pub project_type: Option<String>,
    pub budget_range: Option<String>,
    pub timeline: Option<String>,
    pub consent_text_version: String,
    pub source_page: Option<String>,
    pub utm: BTreeMap<String, String>,
    /// The honeypot was filled in: stored as spam, nobody is told.
    pub spam: bool,
}

/// Why a form asks for consent, in its error.
const CONSENT_WHY: &str = "we may only contact you with your agreement";

pub const MAX_MESSAGE: usize = 5_000;
pub const MAX_DESCRIPTION: usize = 10_000;

fn utm(v: &mut Validator, utm: &Utm) -> BTreeMap<String, String> {
    let values = [
        &utm.source,
        &utm.medium,
        &utm.campaign,
        &utm.term,
        &utm.content,
    ];
    UTM_FIELDS
        .iter()
        .zip(values)
        .filter_map(|(name, value)| {
            v.optional_text(&format!("utm.{name}"), value.as_deref(), 200)
                .map(|value| ((*name).to_owned(), value))
        })
        .collect()
}

fn honeypot(website: Option<&str>) -> bool {
    website.is_some_and(|w| !w.trim().is_empty())
}

impl ConsultationRequest {
    pub fn validate(&self) -> Result<NewLead> {
        let mut v = Validator::new();
        let first_name = v.required_text("first_name", &self.first_name, 100);
        let last_name = v.required_text("last_name", &self.last_name, 100);
        let email = v.email("email", &self.email);
        let phone = v.optional_phone("phone", self.phone.as_deref());
        let company = v.optional_text("company", self.company.as_deref(), 200);
        let message = v.required_multiline("message", &self.message, MAX_MESSAGE);
        let services = self
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| vec![v.slug("service", s)])
            .unwrap_or_default();
        let consent_text_version = v.consent(
            self.consent,
            self.consent_text_version.as_deref(),
            CONSENT_WHY,
        );
        let source_page = v.optional_text("source_page", self.source_page.as_deref(), 500);
        let utm = utm(&mut v, &self.utm);
        v.finish()?;
        Ok(NewLead {
            kind: LeadKind::Consultation,
            name: format!("{first_name} {last_name}"),
            first_name: Some(first_name),
            last_name: Some(last_name),
            email,
            phone,
            company,
            message,
            services,
            project_type: None,
            budget_range: None,
            timeline: None,
            consent_text_version,
            source_page,
            utm,
            spam: honeypot(self.website.as_deref()),
        })
    }
}

impl PlanRequest {
    pub fn validate(&self) -> Result<NewLead> {
        let mut v = Validator::new();
        let name = v.required_text("name", &self.name, 200);
        let email = v.email("email", &self.email);
        let company = v.required_text("company", &self.company, 200);
        let project_type = v.choice("project_type", &self.project_type, PROJECT_TYPES);
        if self.services.len() > 10 {
            v.error("services", "too_many", "services may list at most 10");
        }
        let mut services = Vec::new();
        for (i, slug) in self.services.iter().enumerate() {
            let slug = v.slug(&format!("services[{i}]"), slug);
            if !services.contains(&slug) {
                services.push(slug);
            }
        }
        let budget_range = v.choice("budget_range", &self.budget_range, BUDGET_RANGES);
        let timeline = v.choice("timeline", &self.timeline, TIMELINES);
        let description = v.required_multiline("description", &self.description, MAX_DESCRIPTION);
        let consent_text_version = v.consent(
            self.consent,
            self.consent_text_version.as_deref(),
            CONSENT_WHY,
        );
        let source_page = v.optional_text("source_page", self.source_page.as_deref(), 500);
        let utm = utm(&mut v, &self.utm);
        v.finish()?;
        Ok(NewLead {
            kind: LeadKind::Plan,
            name,
            first_name: None,
            last_name: None,
            email,
            phone: None,
            company: Some(company),
            message: description,
            services,
            project_type: Some(project_type),
            budget_range: Some(budget_range),
            timeline: Some(timeline),
            consent_text_version,
            source_page,
            utm,
            spam: honeypot(self.website.as_deref()),
        })
    }
}

/// What a visitor gets back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct LeadReceipt {
    /// Quote it in any message about this request.
    #[schema(example = "FD-2026-000123")]
    pub reference: String,
    pub kind: LeadKind,
    pub received_at: DateTime<Utc>,
}

/// A lead as admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lead {
    pub id: Uuid,
    pub reference: String,
    pub kind: LeadKind,
    pub status: LeadStatus,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: String,
    pub services: Vec<String>,
    pub project_type: Option<String>,
    pub budget_range: Option<String>,
    pub timeline: Option<String>,
    pub consent_text_version: String,
    pub consented_at: DateTime<Utc>,
    pub source_page: Option<String>,
    #[schema(value_type = Object)]
    pub utm: serde_json::Value,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_label: String,
    /// created, status_changed, assigned, note.
    pub kind: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadWithEvents {
    #[serde(flatten)]
    pub lead: Lead,
    /// What happened to the lead, oldest first (`timeline` is the plan's own field).
    pub events: Vec<LeadEvent>,
}

/// `Some(None)` when the field is present and null (unassign), `None` when absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// Changes to a lead; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LeadUpdate {
    /// new, contacted, qualified, proposal, won, lost or spam.
    pub status: Option<String>,
    /// An admin id, or null to unassign.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    /// A note added to the lead's events.
    pub note: Option<String>,
}

/// A validated change to a lead.
pub struct Change {
    pub status: Option<LeadStatus>,
    pub assignee: Option<Option<Uuid>>,
    pub note: Option<String>,
}

impl LeadUpdate {
    pub fn validate(&self) -> Result<Change> {
        let mut v = Validator::new();
        let status = v
            .optional_choice("status", self.status.as_deref(), &LeadStatus::NAMES)
            .and_then(|s| LeadStatus::parse(&s));
        let note = self
            .note
            .as_ref()
            .map(|note| v.required_multiline("note", note, 5_000));
        if status.is_none() && self.assignee_id.is_none() && note.is_none() && v.is_valid() {
            v.error(
                "body",
                "empty",
                "send at least one of status, assignee_id, note",
            );
        }
        v.finish()?;
        Ok(Change {
            status,
            assignee: self.assignee_id,
            note,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// consultation, plan or call.
    kind: Option<String>,
    /// new, contacted, qualified, proposal, won, lost or spam.
    status: Option<String>,
    /// Created on or after (a date like 2026-11-01, or an RFC 3339 time).
    from: Option<String>,
    /// Created before (a date, exclusive, or an RFC 3339 time).
    to: Option<String>,
    /// Words to find in name, email, company, reference and message.
    q: Option<String>,
}

impl LeadQuery {
    pub fn validate(&self) -> Result<LeadFilter> {
        let mut v = Validator::new();
        let kind = v
            .optional_choice(
                "kind",
                self.kind.as_deref(),
                &["consultation", "plan", "call"],
            )
            .and_then(|k| LeadKind::parse(&k));
        let status = v
            .optional_choice("status", self.status.as_deref(), &LeadStatus::NAMES)
            .and_then(|s| LeadStatus::parse(&s));
        let from = v.date_or_instant(
            "from",
            self.from.as_deref(),
            chrono_tz::Tz::UTC,
            Bound::Start,
        );
        let to = v.date_or_instant("to", self.to.as_deref(), chrono_tz::Tz::UTC, Bound::Start);
        let text = v.optional_text("q", self.q.as_deref(), 200);
        v.finish()?;
        Ok(LeadFilter {
            kind,
            status,
            from,
            to,
            text,
            ids: None,
        })
    }
}

/// What the inbox shows.
#[derive(Debug, Default)]
pub struct LeadFilter {
    pub kind: Option<LeadKind>,
    pub status: Option<LeadStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub text: Option<String>,
    /// Only these leads.
    pub ids: Option<Vec<Uuid>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn the_pipeline_only_moves_forward_but_spam_can_be_undone() {
        use LeadStatus::*;
        assert!(New.can_become(Contacted));
        assert!(New.can_become(Proposal), "steps may be skipped");
        assert!(Proposal.can_become(Won) && Proposal.can_become(Lost));
        assert!(!Qualified.can_become(Contacted));
        assert!(!Won.can_become(Lost));
        assert!(Won.can_become(Spam));
        assert!(Spam.can_become(New));
        assert!(!Spam.can_become(Won));
    }

    #[test]
    fn every_bad_consultation_field_is_reported() {
        let request = ConsultationRequest {
            email: "nope".into(),
            phone: Some("call me".into()),
            message: "x".repeat(MAX_MESSAGE + 1),
            service: Some("Not A Slug".into()),
            utm: Utm {
                source: Some("s".repeat(201)),
                ..Utm::default()
            },
            ..ConsultationRequest::default()
        };
        let Err(AppError::Validation(errors)) = request.validate() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "message",
                "service",
                "consent",
                "utm.source"
            ]
        );
    }

    #[test]
    fn the_honeypot_marks_spam() {
        let request = ConsultationRequest {
            first_name: "A".into(),
            last_name: "B".into(),
            email: "a@example.com".into(),
            message: "Hi".into(),
            consent: true,
            website: Some("http://spam.example".into()),
            ..ConsultationRequest::default()
        };
        assert!(request.validate().expect("valid").spam);
    }
}
