//! What the assistant can do, for both engines. Every action goes through the services the
//! REST API uses: the same search, catalogue, slots, lead capture and booking — no second
//! path into the data.

use std::net::IpAddr;

use chrono::Utc;
use chrono_tz::Tz;
use uuid::Uuid;

use super::App;
use super::model::{QuotePrefill, ServiceCard, SlotOption, Source};
use super::understand;
use crate::blog;
use crate::catalogue::Offering;
use crate::error::Result;
use crate::idempotency::request_hash;
use crate::leads::{self, Submission};
use crate::leads::{ConsultationRequest, LeadReceipt, NewLead, PlanRequest, Utm};
use crate::scheduling::{self as booking, BookingSubmission};
use crate::scheduling::{BookingCreated, BookingRequest};

/// Who the assistant acts for.
#[derive(Clone)]
pub struct Ctx {
    pub app: App,
    pub ip: Option<IpAddr>,
    pub conversation: Uuid,
}

/// A search hit as the assistant uses it.
#[derive(Debug, Clone)]
pub struct Found {
    pub source: Source,
    /// Plain text around the match.
    pub snippet: String,
    /// The share of the question the source covers, from 0 to 1 (1 for a search's hits).
    pub coverage: f32,
    /// How many of the question's ideas it mentions, and whether its title says any.
    pub matched: usize,
    pub titled: bool,
}

/// The site's published posts and services matching `query` (the blog's own search).
pub async fn search_content(ctx: &Ctx, query: &str, limit: i64) -> Result<Vec<Found>> {
    // The search endpoint's own limit: a model's query can be as long as it likes.
    let query: String = query.trim().chars().take(blog::MAX_SEARCH_CHARS).collect();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let results = blog::search(&ctx.app.core, &query, limit).await?;
    Ok(results
        .items
        .into_iter()
        .map(|hit| Found {
            coverage: 1.0,
            matched: usize::MAX,
            titled: true,
            snippet: plain_text(&hit.snippet),
            source: Source {
                kind: hit.kind,
                slug: hit.slug,
                title: hit.title,
                path: hit.path,
            },
        })
        .collect())
}

/// How much of a question a source must cover to be an answer to it.
pub const ANSWERS: f32 = 0.55;
/// How much the best source must cover when it covers half again as much as the next.
pub const STANDS_OUT: f32 = 0.35;

/// Content about what the visitor asked, best first: what covers most of what the question
/// is about (in its words or their synonyms, misspellings corrected), with the share it covers.
pub async fn relevant(ctx: &Ctx, question: &str, limit: usize) -> Result<Vec<Found>> {
    let mut ideas: Vec<blog::Idea> = Vec::new();
    for phrases in understand::ideas(question) {
        // A word the content does not know may be a misspelling of one it does: the
        // corrected word, with its synonyms, says the idea.
        let single = match phrases.as_slice() {
            [word] if !word.contains(' ') => Some(word.clone()),
            _ => None,
        };
        let fixes = match &single {
            Some(word) => blog::correct_word(&ctx.app.core, word).await?,
            None => Vec::new(),
        };
        let mut phrases = phrases;
        for fix in fixes {
            for phrase in understand::ideas(&fix).into_iter().flatten() {
                if !phrases.contains(&phrase) {
                    phrases.push(phrase);
                }
            }
        }
        ideas.push(blog::Idea { phrases });
    }
    Ok(blog::relevant(&ctx.app.core, &ideas, limit)
        .await?
        .into_iter()
        .map(|r| Found {
            snippet: plain_text(&r.hit.snippet),
            coverage: r.coverage,
            matched: r.matched,
            titled: r.titled,
            source: Source {
                kind: r.hit.kind,
                slug: r.hit.slug,
                title: r.hit.title,
                path: r.hit.path,
            },
        })
        .collect())
}

/// What answers the question: the relevant content covering enough of it.
pub async fn answers(ctx: &Ctx, question: &str, limit: usize) -> Result<Vec<Found>> {
    let found = relevant(ctx, question, limit).await?;
    let Some(best) = found.first().map(|f| f.coverage) else {
        return Ok(found);
    };
    // One idea of several, mentioned only in passing, is a coincidence, not an answer.
    let several = understand::ideas(question).len() >= 2;
    let weak = |f: &Found| several && f.matched < 2 && !f.titled;
    // A long question is rarely covered by half; one source standing clearly above the
    // rest is about it all the same.
    let second = found.get(1).map_or(0.0, |f| f.coverage);
    let stands_out = best >= STANDS_OUT && best >= second * 1.5;
    if (best < ANSWERS && !stands_out) || found.first().is_some_and(weak) {
        return Ok(Vec::new());
    }
    // The others only when they are nearly as good.
    Ok(found
        .into_iter()
        .filter(|f| f.coverage >= best * 0.75 && !weak(f))
        .collect())
}

/// A search snippet without its marks and HTML escapes.
fn plain_text(snippet: &str) -> String {
    snippet
        .replace("<mark>", "")
        .replace("</mark>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

pub async fn list_services(ctx: &Ctx) -> Result<Vec<ServiceCard>> {
    Ok(crate::catalogue::list_published(&ctx.app.db)
        .await?
        .into_iter()
        .map(|o| ServiceCard {
            slug: o.slug,
            title: o.title,
            summary: o.summary,
        })
        .collect())
}

/// A call type the visitor can book.
#[derive(Debug, Clone, PartialEq)]
pub struct CallKind {
    pub slug: String,
    pub name: String,
    pub minutes: i32,
    /// Booking it needs answers the chat does not collect (required questions, a phone
    /// number): it is booked through the form.
    pub asks: bool,
}

/// Active call types, shortest first.
pub async fn call_types(ctx: &Ctx) -> Result<Vec<CallKind>> {
    let mut types: Vec<CallKind> = crate::scheduling::list_call_types(&ctx.app.db, true)
        .await?
        .into_iter()
        .map(|c| CallKind {
            asks: c.questions.iter().any(|q| q.required)
                || c.location.as_ref().is_some_and(|l| l.needs_visitor_phone()),
            slug: c.slug,
            name: c.name,
            minutes: c.duration_minutes,
        })
        .collect();
    types.sort_by_key(|kind| kind.minutes);
    Ok(types)
}

/// What booking a call type asks besides the visitor's name and email: its questions, and
/// whether the host calls the visitor (a phone number is needed).
pub async fn call_questions(
    ctx: &Ctx,
    slug: &str,
) -> Result<(Vec<crate::scheduling::Question>, bool)> {
    let found = crate::scheduling::list_call_types(&ctx.app.db, true)
        .await?
        .into_iter()
        .find(|c| c.slug == slug);
    Ok(found.map_or((Vec::new(), false), |c| {
        let phone = c.location.as_ref().is_some_and(|l| l.needs_visitor_phone());
        (c.questions, phone)
    }))
}

/// Free start times of a call type in the next two weeks, in the visitor's zone: at most
/// `limit`, spread out so the visitor gets a real choice rather than five neighbours.
pub async fn find_slots(
    ctx: &Ctx,
    call_type: &str,
    zone: Tz,
    limit: usize,
) -> Result<Vec<SlotOption>> {
    let from = Utc::now();
    let to = from + chrono::Duration::days(14);
    let slots = booking::free_slots(ctx.app.reads(), call_type, from, to, zone).await?;
    let all: Vec<SlotOption> = slots
        .slots
        .into_iter()
        .map(|s| SlotOption {
            start: s.start,
            start_utc: s.start_utc,
        })
        .collect();
    Ok(spread(all, limit))
}

/// Free times of a call type in the days and part of the day the visitor asked for (in
/// their zone), spread out; empty when that time has none.
pub async fn find_slots_when(
    ctx: &Ctx,
    call_type: &str,
    zone: Tz,
    limit: usize,
    when: understand::When,
) -> Result<Vec<SlotOption>> {
    let now = Utc::now();
    let today = now.with_timezone(&zone).date_naive();
    // Local midnight, or the first hour that exists where a clock change skips midnight.
    let day_start = |days: i64| {
        let date = today + chrono::Duration::days(days);
        (0..3)
            .filter_map(|hour| date.and_hms_opt(hour, 0, 0))
            .find_map(|t| t.and_local_timezone(zone).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let (first, last) = when.days.unwrap_or((0, 13));
    let from = day_start(first).map_or(now, |t| t.max(now));
    let to = day_start(last + 1).unwrap_or(now + chrono::Duration::days(14));
    if to <= from {
        return Ok(Vec::new());
    }
    let slots = booking::free_slots(ctx.app.reads(), call_type, from, to, zone).await?;
    let hours = when.part.map(|p| p.hours());
    let all: Vec<SlotOption> = slots
        .slots
        .into_iter()
        .filter(|s| {
            hours.is_none_or(|(start, end)| {
                let hour = chrono::Timelike::hour(&s.start_utc.with_timezone(&zone));
                (start..end).contains(&hour)
            })
        })
        .map(|s| SlotOption {
            start: s.start,
            start_utc: s.start_utc,
        })
        .collect();
    Ok(spread(all, limit))
}

/// At most two times a day, at least two hours apart; the earliest first.
fn spread(slots: Vec<SlotOption>, limit: usize) -> Vec<SlotOption> {
    const PER_DAY: usize = 2;
    let gap = chrono::Duration::hours(2);
    let mut picked: Vec<SlotOption> = Vec::new();
    for slot in slots {
        if picked.len() == limit {
            break;
        }
        // The local date is the start's first ten characters (RFC 3339 in the visitor's zone).
        let day = slot.start.get(..10).unwrap_or_default();
        let same_day = picked
            .iter()
            .filter(|p| p.start.get(..10) == Some(day))
            .count();
        let too_close = picked
            .last()
            .is_some_and(|p| slot.start_utc - p.start_utc < gap);
        if same_day < PER_DAY && !too_close {
            picked.push(slot);
        }
    }
    picked
}

/// The firm's contact email and phone, from the site profile.
pub async fn contact(ctx: &Ctx) -> Result<(Option<String>, Option<String>)> {
    Ok(match crate::site::get(&ctx.app.db).await? {
        Some(site) => (Some(site.contact_email), site.phone),
        None => (None, None),
    })
}

/// Creates a plan request (a lead) from what the visitor said, exactly as the form would.
pub async fn create_quote(ctx: &Ctx, draft: &QuotePrefill, consent: bool) -> Result<LeadReceipt> {
    let request = PlanRequest {
        name: draft.name.clone().unwrap_or_default(),
        email: draft.email.clone().unwrap_or_default(),
        company: draft.company.clone().unwrap_or_default(),
        project_type: draft.project_type.clone().unwrap_or_else(|| "other".into()),
        services: draft.services.clone(),
        budget_range: draft
            .budget_range
            .clone()
            .unwrap_or_else(|| "not_sure".into()),
        timeline: draft.timeline.clone().unwrap_or_else(|| "flexible".into()),
        description: draft.description.clone().unwrap_or_default(),
        consent,
        consent_text_version: Some("assistant".into()),
        source_page: Some(SOURCE_PAGE.into()),
        utm: Utm::default(),
        website: None,
    };
    let lead = request.validate()?;
    capture(ctx, lead, "quote", request_hash(&request)).await
}

/// Asks for a person to get in touch (a consultation lead), exactly as the form would.
pub async fn request_consultation(
    ctx: &Ctx,
    mut request: ConsultationRequest,
) -> Result<LeadReceipt> {
    request.consent_text_version = Some("assistant".into());
    request.source_page = Some(SOURCE_PAGE.into());
    request.website = None;
    let lead = request.validate()?;
    capture(ctx, lead, "consultation", request_hash(&request)).await
}

async fn capture(ctx: &Ctx, lead: NewLead, kind: &str, hash: Vec<u8>) -> Result<LeadReceipt> {
    let receipt = leads::capture(
        &ctx.app,
        &ctx.app.assistant.leads.config,
        lead,
        Submission {
            ip: ctx.ip,
            // The same request twice in a conversation is answered, not duplicated;
            // different details make a new lead.
            idempotency_key: Some(&format!(
                "assistant-{kind}:{}:{}",
                ctx.conversation,
                hex(&hash)
            )),
            request_hash: hash,
        },
    )
    .await?;
    link(ctx, Some(&receipt.reference), None).await?;
    Ok(receipt)
}

/// Where assistant leads say they came from (the conversation links to its lead).
pub const SOURCE_PAGE: &str = "assistant";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One published service, whole.
pub async fn describe_service(ctx: &Ctx, slug: &str) -> Result<Option<Offering>> {
    crate::catalogue::find_published(&ctx.app.db, slug).await
}

/// Books a call, exactly as the booking form would.
pub async fn book_call(ctx: &Ctx, request: BookingRequest) -> Result<BookingCreated> {
    let valid = request.validate()?;
    let hash = request_hash(&request);
    let key = format!("assistant-booking:{}:{}", ctx.conversation, hex(&hash));
    let created = booking::book(
        &ctx.app,
        &ctx.app.assistant.scheduling,
        BookingSubmission {
            request: valid,
            ip: ctx.ip,
            // A retried booking of the same time in this conversation is the same booking.
            idempotency_key: Some(&key),
            request_hash: hash,
        },
    )
    .await?;
    link(ctx, None, Some(created.booking.id)).await?;
    Ok(created)
}

/// Remembers which lead or booking a conversation led to (for admins).
async fn link(ctx: &Ctx, reference: Option<&str>, booking: Option<Uuid>) -> Result<()> {
    let lead = match reference {
        Some(reference) => crate::leads::id_of_reference(&ctx.app.db, reference).await?,
        None => None,
    };
    sqlx::query!(
        r#"update assistant_conversations set
               lead_id = coalesce($2, lead_id),
               booking_id = coalesce($3, booking_id), updated_at = now()
           where id = $1"#,
        ctx.conversation,
        lead,
        booking
    )
    .execute(&ctx.app.db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_plain_text() {
        let snippet = "A <mark>template</mark> &amp; &lt;b&gt; <mark>Migrations</mark> run; <mark>migrations</mark>";
        assert_eq!(
            plain_text(snippet),
            "A template & <b> Migrations run; migrations"
        );
        assert_eq!(plain_text("&amp;lt;"), "&lt;");
    }

    fn slot(start: &str) -> SlotOption {
        let start_utc = chrono::DateTime::parse_from_rfc3339(start)
            .expect("rfc 3339")
            .with_timezone(&Utc);
        SlotOption {
            start: start.to_owned(),
            start_utc,
        }
    }

    #[test]
    fn offered_times_are_spread_over_days() {
        let every_quarter: Vec<SlotOption> = ["2026-12-07", "2026-12-08", "2026-12-09"]
            .iter()
            .flat_map(|day| {
                (9..17).flat_map(move |h| {
                    [0, 15, 30, 45].map(|m| slot(&format!("{day}T{h:02}:{m:02}:00+01:00")))
                })
            })
            .collect();
        let starts: Vec<String> = spread(every_quarter, 5)
            .into_iter()
            .map(|s| s.start)
            .collect();
        assert_eq!(
            starts,
            [
                "2026-12-07T09:00:00+01:00",
                "2026-12-07T11:00:00+01:00",
                "2026-12-08T09:00:00+01:00",
                "2026-12-08T11:00:00+01:00",
                "2026-12-09T09:00:00+01:00",
            ]
        );
        assert_eq!(spread(vec![slot("2026-12-07T09:00:00Z")], 5).len(), 1);
    }
}
