//! The call itself: where it happens (a video link, a phone call, an address), the
//! questions a visitor answers when booking, and when reminders go out. Set per call type;
//! what a booking stores and shows is resolved here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, FieldError, Result};
use crate::validation::Validator;

/// Where a call type's calls happen.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LocationSpec {
    /// A video call on this link, or (without one) on the host's own `video_url`.
    Video {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// A phone call: `host` calls the visitor (who gives a number when booking), or
    /// `visitor` calls the host's `phone`.
    Phone { caller: String },
    /// In person, at this address.
    Address { address: String },
}

impl LocationSpec {
    pub fn validate(&self, v: &mut Validator) -> LocationSpec {
        match self {
            Self::Video { url } => Self::Video {
                url: url
                    .as_deref()
                    .filter(|u| !u.trim().is_empty())
                    .and_then(|u| v.http_url("location.url", u))
                    .map(|u| u.to_string()),
            },
            Self::Phone { caller } => Self::Phone {
                caller: v.choice("location.caller", caller, &["host", "visitor"]),
            },
            Self::Address { address } => Self::Address {
                address: v.required_multiline("location.address", address, 500),
            },
        }
    }

    /// Whether the visitor must give a phone number when booking.
    pub fn needs_visitor_phone(&self) -> bool {
        matches!(self, Self::Phone { caller } if caller == "host")
    }

    /// What visitors see before booking: the kind, who calls, the address; never a link.
    pub fn public(&self) -> LocationSpec {
        match self {
            Self::Video { .. } => Self::Video { url: None },
            other => other.clone(),
        }
    }
}

/// Where a booked call happens, resolved for its host and visitor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Location {
    /// `video`, `phone` or `address`.
    pub kind: String,
    /// In words: the link, who calls whom on which number, or the address.
    pub text: String,
    /// The video link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The number to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What the host offers to resolve a location with.
pub struct HostContact<'a> {
    pub name: &'a str,
    pub video_url: Option<&'a str>,
    pub phone: Option<&'a str>,
}

pub fn resolve(spec: &LocationSpec, host: &HostContact<'_>, visitor_phone: &str) -> Location {
    match spec {
        LocationSpec::Video { url } => {
            let url = url.as_deref().or(host.video_url).map(str::to_owned);
            Location {
                kind: "video".into(),
                text: url
                    .clone()
                    .unwrap_or_else(|| format!("Video call; {} sends the link.", host.name)),
                url,
                phone: None,
            }
        }
        LocationSpec::Phone { caller } if caller == "host" => Location {
            kind: "phone".into(),
            text: format!("{} calls you on {visitor_phone}", host.name),
            url: None,
            phone: Some(visitor_phone.to_owned()).filter(|p| !p.is_empty()),
        },
        LocationSpec::Phone { .. } => Location {
            kind: "phone".into(),
            text: match host.phone {
                Some(phone) => format!("Call {} on {phone}", host.name),
                None => format!("Phone call; {} sends the number.", host.name),
            },
            url: None,
            phone: host.phone.map(str::to_owned),
        },
        LocationSpec::Address { address } => Location {
            kind: "address".into(),
            text: address.clone(),
            url: None,
            phone: None,
        },
    }
}

/// A question a visitor answers when booking.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Question {
    /// The key of the answer in a booking's `answers` (`a-z`, digits, `_`).
    #[schema(example = "company")]
    pub id: String,
    #[schema(example = "Your company")]
    pub label: String,
    /// `text`, `long_text`, `choice` or `checkbox`.
    #[schema(example = "text")]
    pub kind: String,
    pub required: bool,
    /// The choices of a `choice` question.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

const KINDS: &[&str] = &["text", "long_text", "choice", "checkbox"];

pub fn validate_questions(v: &mut Validator, questions: &[Question]) -> Vec<Question> {
    if questions.len() > 20 {
        v.error("questions", "too_many", "at most 20 questions");
    }
    let mut out: Vec<Question> = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let field = |name: &str| format!("questions[{i}].{name}");
        let id = q.id.trim().to_owned();
        if id.is_empty()
            || id.len() > 40
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            v.error(
                &field("id"),
                "invalid",
                "id must be 1 to 40 characters of a-z, 0-9 and _",
            );
        } else if out.iter().any(|o| o.id == id) {
            v.error(
                &field("id"),
                "duplicate",
                format!("another question has the id `{id}`"),
            );
        }
        let label = v.required_text(&field("label"), &q.label, 200);
        let kind = v.choice(&field("kind"), &q.kind, KINDS);
        let mut options = Vec::new();
        if kind == "choice" {
            if !(2..=20).contains(&q.options.len()) {
                v.error(
                    &field("options"),
                    "invalid",
                    "a choice question has 2 to 20 options",
                );
            }
            for (j, o) in q.options.iter().enumerate() {
                let o = v.required_text(&format!("questions[{i}].options[{j}]"), o, 100);
                if options.contains(&o) {
                    v.error(
                        &format!("questions[{i}].options[{j}]"),
                        "duplicate",
                        "options must differ",
                    );
                }
                options.push(o);
            }
        } else if !q.options.is_empty() {
            v.error(
                &field("options"),
                "invalid",
                "only a choice question has options",
            );
        }
        out.push(Question {
            id,
            label,
            kind,
            required: q.required,
            options,
        });
    }
    out
}

/// A question with the visitor's answer, as a booking stores it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Answer {
    pub id: String,
    pub label: String,
    /// Text, a choice, or true/false for a checkbox.
    #[schema(value_type = Object)]
    pub answer: serde_json::Value,
}

/// The visitor's answers checked against the call type's questions: each known, of its
/// kind and within its bounds; every required one given.
pub fn check_answers(
    questions: &[Question],
    given: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Answer>> {
    let mut errors = Vec::new();
    for id in given.keys() {
        if !questions.iter().any(|q| &q.id == id) {
            errors.push(FieldError::new(
                format!("answers.{id}"),
                "unknown",
                format!("this call type asks no question `{id}`"),
            ));
        }
    }
    let mut answers = Vec::new();
    for q in questions {
        let field = format!("answers.{}", q.id);
        let value = given.get(&q.id).filter(|v| !v.is_null());
        let answer = match (q.kind.as_str(), value) {
            ("checkbox", None) => serde_json::Value::Bool(false),
            ("checkbox", Some(serde_json::Value::Bool(b))) => serde_json::Value::Bool(*b),
            ("checkbox", Some(_)) => {
                errors.push(FieldError::new(
                    &field,
                    "invalid",
                    format!("{field} must be true or false"),
                ));
                continue;
            }
            (_, None) => serde_json::Value::String(String::new()),
            (_, Some(serde_json::Value::String(s))) => {
                let mut v = Validator::new();
                let text = match q.kind.as_str() {
                    "long_text" => v.multiline(&field, s, 2_000),
                    "choice" => {
                        let chosen = s.trim().to_owned();
                        if !chosen.is_empty() && !q.options.contains(&chosen) {
                            v.error(
                                &field,
                                "invalid_choice",
                                format!("{field} must be one of {}", q.options.join(", ")),
                            );
                        }
                        chosen
                    }
                    _ => v.text(&field, s, 500),
                };
                if let Err(AppError::Validation(mut found)) = v.finish() {
                    errors.append(&mut found);
                    continue;
                }
                serde_json::Value::String(text)
            }
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    &field,
                    "invalid",
                    format!("{field} must be text"),
                ));
                continue;
            }
        };
        let missing = match &answer {
            serde_json::Value::Bool(b) => !b,
            serde_json::Value::String(s) => s.is_empty(),
            _ => false,
        };
        if q.required && missing {
            errors.push(FieldError::new(
                &field,
                "required",
                format!("{} is required", q.label),
            ));
            continue;
        }
        answers.push(Answer {
            id: q.id.clone(),
            label: q.label.clone(),
            answer,
        });
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The answers as lines for an email or an invite (`Label: answer`), unanswered ones left
/// out.
pub fn answer_lines(answers: &[Answer]) -> String {
    answers
        .iter()
        .filter_map(|a| {
            let shown = match &a.answer {
                serde_json::Value::Bool(true) => "yes".to_owned(),
                serde_json::Value::Bool(false) => "no".to_owned(),
                serde_json::Value::String(s) if s.is_empty() => return None,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(format!("{}: {shown}\n", a.label))
        })
        .collect()
}

/// Reminder offsets in minutes before the start: at most 5, each from 5 minutes to 14
/// days, without repeats, largest first.
pub fn validate_reminders(v: &mut Validator, minutes: &[i32]) -> Vec<i32> {
    if minutes.len() > 5 {
        v.error("reminder_minutes", "too_many", "at most 5 reminders");
    }
    let mut out: Vec<i32> = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let m = v.range_i32(&format!("reminder_minutes[{i}]"), *m, 5, 14 * 24 * 60);
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, kind: &str, required: bool, options: &[&str]) -> Question {
        Question {
            id: id.into(),
            label: id.to_uppercase(),
            kind: kind.into(),
            required,
            options: options.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn answers_are_checked_against_their_questions() {
        let questions = vec![
            q("company", "text", true, &[]),
            q("budget", "choice", false, &["small", "large"]),
            q("nda", "checkbox", true, &[]),
            q("about", "long_text", false, &[]),
        ];
        let given: BTreeMap<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "company": "Acme", "budget": "large", "nda": true
            }))
            .expect("map");
        let answers = check_answers(&questions, &given).expect("valid");
        assert_eq!(answers.len(), 4);
        assert_eq!(
            answer_lines(&answers),
            "COMPANY: Acme\nBUDGET: large\nNDA: yes\n"
        );

        let bad: BTreeMap<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "budget": "huge", "nda": "yes", "other": 1
        }))
        .expect("map");
        let Err(AppError::Validation(errors)) = check_answers(&questions, &bad) else {
            panic!("invalid answers pass");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "answers.other",
            "answers.company",
            "answers.budget",
            "answers.nda",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn locations_resolve_for_the_host_and_the_visitor() {
        let host = HostContact {
            name: "Maya",
            video_url: Some("https://meet.example.com/maya"),
            phone: Some("+44 117 496 0000"),
        };
        let video = resolve(&LocationSpec::Video { url: None }, &host, "");
        assert_eq!(video.url.as_deref(), Some("https://meet.example.com/maya"));
        let calls_you = resolve(
            &LocationSpec::Phone {
                caller: "host".into(),
            },
            &host,
            "+1 555 0100 200",
        );
        assert_eq!(calls_you.text, "Maya calls you on +1 555 0100 200");
        let you_call = resolve(
            &LocationSpec::Phone {
                caller: "visitor".into(),
            },
            &host,
            "",
        );
        assert_eq!(you_call.phone.as_deref(), Some("+44 117 496 0000"));
        let office = resolve(
            &LocationSpec::Address {
                address: "1 Harbour Street, Bristol".into(),
            },
            &host,
            "",
        );
        assert_eq!(
            (office.kind.as_str(), office.text.as_str()),
            ("address", "1 Harbour Street, Bristol")
        );
        assert_eq!(
            LocationSpec::Video {
                url: Some("https://x.example/secret".into())
            }
            .public(),
            LocationSpec::Video { url: None }
        );
    }
}
