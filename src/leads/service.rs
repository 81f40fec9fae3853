//! Capturing leads (with their notifications, in one transaction) and working them.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use sqlx::PgConnection;
use sqlx::types::ipnetwork::IpNetwork;

use crate::db::Db;
use uuid::Uuid;

use super::config::LeadsConfig;
use super::model::{
    Change, Lead, LeadEvent, LeadFilter, LeadKind, LeadReceipt, LeadStatus, LeadWithEvents, NewLead,
};
use crate::audit::AuditActor;
use crate::db::Work;
use crate::error::{AppError, FieldError, Result};
use crate::idempotency::{self, Claim};
use crate::jobs::{Email, NewJobs};
use crate::pagination::{Page, PageParams};
use crate::rate_limit::Guard;
use crate::state::Core;

/// Who a capture request came from and how.
pub struct Submission<'a> {
    pub ip: Option<IpAddr>,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: Vec<u8>,
}

/// Stores the lead and, atomically with it, its notifications: a confirmation to the
/// visitor, a notification to the team, a webhook per subscribed endpoint. A spam lead
/// (honeypot) is stored, answered like any other, and nobody is told.
///
/// Lead capture is the hottest write, so it costs two round trips when it can: one read
/// (what validation and the mails need), then one statement writing the lead, its timeline
/// and its outbox jobs together, which Postgres runs as one transaction. A rate limit or an
/// idempotency key must share a transaction with that write, so then it runs in one.
pub async fn capture(
    core: &Core,
    config: &LeadsConfig,
    lead: NewLead,
    submission: Submission<'_>,
) -> Result<LeadReceipt> {
    let guard = Guard::new(lead.kind.as_str(), submission.ip, config.form_limit);
    if guard.is_active() || submission.idempotency_key.is_some() {
        return capture_guarded(core, config, lead, &submission, guard).await;
    }
    let mut work = Work::single_statement(&core.db).await?;
    let context = context(&mut work, config, &lead).await?;
    let (receipt, _) = write_captured(&mut work, core, &context, lead, submission.ip).await?;
    work.commit().await?;
    Ok(receipt)
}

/// Capture behind the rate limit and the idempotency key, in one transaction with them.
async fn capture_guarded(
    core: &Core,
    config: &LeadsConfig,
    lead: NewLead,
    submission: &Submission<'_>,
    guard: Guard,
) -> Result<LeadReceipt> {
    let scope = idempotency::scope_for(&format!("lead:{}", lead.kind.as_str()), submission.ip);
    let mut work = core.begin().await?;
    guard.hit(&mut *work).await?;
    let claim = idempotency::claim::<LeadReceipt>(
        &mut work,
        &scope,
        submission.idempotency_key,
        &submission.request_hash,
    )
    .await?;
    if let Claim::Replay { body, .. } = claim {
        return Ok(body);
    }
    let context = context(&mut work, config, &lead).await?;
    let email = lead.email.clone();
    let (receipt, _) = write_captured(&mut work, core, &context, lead, submission.ip).await?;
    idempotency::complete(
        &mut work,
        &scope,
        submission.idempotency_key,
        201,
        &receipt,
        &email,
    )
    .await?;
    work.commit().await?;
    Ok(receipt)
}

/// Builds the stored lead and its notifications, then writes them in one statement;
/// returns the visitor's receipt and the lead's id.
async fn write_captured(
    work: &mut Work,
    core: &Core,
    context: &CaptureContext,
    lead: NewLead,
    ip: Option<IpAddr>,
) -> Result<(LeadReceipt, Uuid)> {
    let spam = lead.spam;
    let stored = record(lead, context.reference.clone(), spam)?;
    let mut jobs = NewJobs::default();
    if !spam {
        notifications(&mut jobs, context, &stored)?;
    }
    write_lead(work, core, &stored, ip, spam, &jobs).await?;
    Ok((
        LeadReceipt {
            reference: stored.reference,
            kind: stored.kind,
            received_at: stored.created_at,
        },
        stored.id,
    ))
}

/// What a capture needs to know besides the lead: the firm's name, the team's address, the
/// endpoints to tell, and the lead's reference, all read in one round trip (with which of
/// the services named are published) from the read models the site, the catalogue and
/// webhooks publish for this (see migrations/…_read_models.sql).
struct CaptureContext {
    firm: String,
    team: Option<String>,
    endpoints: Vec<Uuid>,
    reference: String,
}

async fn context(
    conn: &mut PgConnection,
    config: &LeadsConfig,
    lead: &NewLead,
) -> Result<CaptureContext> {
    let row = sqlx::query!(
        r#"
        select (select firm_name from site_identity) as firm_name,
               (select contact_email from site_identity) as contact_email,
               array(select slug from published_services where slug = any($1)) as "known!: Vec<String>",
               array(select endpoint_id from webhook_subscriptions where event = $2) as "endpoints!: Vec<Uuid>",
               nextval('lead_reference_seq') as "number!"
        "#,
        &lead.services,
        LEAD_CREATED
    )
    .fetch_one(&mut *conn)
    .await?;
    let field = |i: usize| match lead.kind {
        LeadKind::Consultation => "service".to_owned(),
        _ => format!("services[{i}]"),
    };
    let errors: Vec<FieldError> = lead
        .services
        .iter()
        .enumerate()
        .filter(|(_, slug)| !row.known.contains(slug))
        .map(|(i, slug)| {
            FieldError::new(
                field(i),
                "unknown",
                format!("no published service has the slug `{slug}`; GET /v1/services lists them"),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(CaptureContext {
        firm: row.firm_name.unwrap_or_else(|| "frontdesk".to_owned()),
        team: config.team_email.clone().or(row.contact_email),
        endpoints: row.endpoints,
        reference: reference(Utc::now(), row.number),
    })
}

const LEAD_CREATED: &str = "lead.created";

/// `FD-2026-000123`: the year and a number from one sequence, so never reused; gaps (a
/// refused request) are harmless. Past a million it simply grows a digit.
fn reference(now: DateTime<Utc>, number: i64) -> String {
    format!("FD-{}-{number:06}", now.year())
}

/// The lead as it will be stored. Times are cut to microseconds, as Postgres keeps them,
/// so the webhook's copy equals what the API later shows.
fn record(lead: NewLead, reference: String, spam: bool) -> Result<Lead> {
    let now = Utc::now().trunc_subsecs(6);
    Ok(Lead {
        id: Uuid::now_v7(),
        reference,
        kind: lead.kind,
        status: if spam {
            LeadStatus::Spam
        } else {
            LeadStatus::New
        },
        name: lead.name,
        first_name: lead.first_name,
        last_name: lead.last_name,
        email: lead.email,
        phone: lead.phone,
        company: lead.company,
        message: lead.message,
        services: lead.services,
        project_type: lead.project_type,
        budget_range: lead.budget_range,
        timeline: lead.timeline,
        consent_text_version: lead.consent_text_version,
        consented_at: now,
        source_page: lead.source_page,
        utm: serde_json::to_value(&lead.utm).map_err(anyhow::Error::from)?,
        assignee_id: None,
        created_at: now,
        updated_at: now,
    })
}

/// Writes the lead, the first entry of its timeline and its outbox jobs in one statement
/// (so in one transaction, even outside an explicit one).
async fn write_lead(
    work: &mut Work,
    core: &Core,
    lead: &Lead,
    ip: Option<IpAddr>,
    spam: bool,
    jobs: &NewJobs,
) -> Result<()> {
    let created = serde_json::json!({ "spam": spam, "source_page": lead.source_page });
    let max_attempts = core.jobs.max_attempts();
    // The job rows as the runner's queue writes them (NewJobs::columns_for).
    let (job_ids, job_kinds, job_payloads) = jobs.columns_for(work, &core.jobs);
    sqlx::query!(
        r#"
        with lead as (
            insert into leads (id, reference, kind, status, name, first_name, last_name, email,
                               phone, company, message, services, project_type, budget_range,
                               timeline, consent_text_version, consented_at, source_page, utm,
                               client_ip, created_at, updated_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                    $18, $19, $20, $17, $17)
            returning id
        ), jobs as (
            insert into outbox_jobs (id, kind, payload, max_attempts)
            select id, kind, payload, $23
            from unnest($24::uuid[], $25::text[], $26::jsonb[]) as t(id, kind, payload)
        )
        insert into lead_events (id, lead_id, actor_label, kind, details)
        select $21, id, 'visitor', 'created', $22 from lead
        "#,
        lead.id,
        lead.reference,
        lead.kind.as_str(),
        lead.status.as_str(),
        lead.name,
        lead.first_name,
        lead.last_name,
        lead.email,
        lead.phone,
        lead.company,
        lead.message,
        &lead.services,
        lead.project_type,
        lead.budget_range,
        lead.timeline,
        lead.consent_text_version,
        lead.created_at,
        lead.source_page,
        lead.utm,
        ip.map(IpNetwork::from),
        Uuid::now_v7(),
        created,
        max_attempts,
        job_ids,
        job_kinds,
        job_payloads,
    )
    .execute(&mut **work)
    .await?;
    Ok(())
}

async fn add_event(
    conn: &mut PgConnection,
    lead_id: Uuid,
    actor: &str,
    kind: &str,
    details: serde_json::Value,
) -> Result<()> {
    sqlx::query!(
        "insert into lead_events (id, lead_id, actor_label, kind, details) values ($1, $2, $3, $4, $5)",
        Uuid::now_v7(),
        lead_id,
        actor,
        kind,
        details
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The mails and webhooks a new lead causes, whatever made it (a form, the assistant, a
/// booking): the team is told and `lead.created` goes to every subscribed endpoint. The
/// visitor gets a confirmation, except for a booked call, whose booking confirmation (with
/// its invite) already is one.
fn notifications(jobs: &mut NewJobs, context: &CaptureContext, lead: &Lead) -> Result<()> {
    if lead.kind != LeadKind::Call {
        jobs.email(&confirmation(&context.firm, lead))?;
    }
    if let Some(team) = &context.team {
        jobs.email(&team_notification(team, lead))?;
    }
    let data = serde_json::to_value(lead).map_err(anyhow::Error::from)?;
    crate::webhooks::add_deliveries(jobs, &context.endpoints, LEAD_CREATED, &data)
}

fn greeting(lead: &Lead) -> &str {
    lead.first_name.as_deref().unwrap_or(&lead.name)
}

pub fn confirmation(firm: &str, lead: &Lead) -> Email {
    Email {
        to: lead.email.clone(),
        subject: format!(
            "We received your {} ({})",
            lead.kind.label(),
            lead.reference
        ),
        text: format!(
            "Hello {},\n\nThank you for your {}. We read every request and will reply within one \
             business day.\n\nYour reference is {}; quote it if you write to us about this.\n\n\
             — {firm}\n",
            greeting(lead),
            lead.kind.label(),
            lead.reference,
        ),
        purpose: "lead_confirmation".into(),
        unsubscribe_url: None,
        html: None,
        attachment: None,
    }
}

pub fn team_notification(team: &str, lead: &Lead) -> Email {
    let mut lines = vec![
        format!("Reference: {}", lead.reference),
        format!("Name: {}", lead.name),
        format!("Email: {}", lead.email),
    ];
    let optional = [
        ("Phone", &lead.phone),
        ("Company", &lead.company),
        ("Project type", &lead.project_type),
        ("Budget", &lead.budget_range),
        ("Timeline", &lead.timeline),
        ("From page", &lead.source_page),
    ];
    lines.extend(
        optional
            .iter()
            .filter_map(|(label, value)| value.as_ref().map(|v| format!("{label}: {v}"))),
    );
    if !lead.services.is_empty() {
        lines.push(format!("Services: {}", lead.services.join(", ")));
    }
    Email {
        to: team.to_owned(),
        subject: format!(
            "New {}: {} ({})",
            lead.kind.label(),
            lead.name,
            lead.reference
        ),
        text: format!("{}\n\n{}\n", lines.join("\n"), lead.message),
        purpose: "lead_notification".into(),
        unsubscribe_url: None,
        html: None,
        attachment: None,
    }
}

/// Leads, newest first, filtered; `limit` rows after the cursor.
pub async fn list(db: &Db, filter: &LeadFilter, page: &PageParams) -> Result<Page<Lead>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = query_leads(db, filter, after, i64::from(limit) + 1).await?;
    Ok(Page::from_rows(rows, limit, |l| l.id))
}

/// How many leads are stored (the assistant's evaluation counts what a conversation kept).
pub async fn count(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar!(r#"select count(*) as "n!" from leads"#)
        .fetch_one(db)
        .await?)
}

/// The most rows one CSV export holds.
pub const EXPORT_MAX: i64 = 50_000;

/// The leads of the filter as CSV, newest first, at most [`EXPORT_MAX`].
pub async fn csv(db: &Db, filter: &LeadFilter) -> Result<Vec<u8>> {
    let leads = query_leads(db, filter, None, EXPORT_MAX).await?;
    super::export::to_csv(&leads)
}

/// The one query that reads leads, whatever picks them.
async fn query_leads(
    db: impl sqlx::PgExecutor<'_>,
    filter: &LeadFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Lead>> {
    Ok(sqlx::query_as!(
        Lead,
        r#"
        select id, reference, kind as "kind: LeadKind", status as "status: LeadStatus", name,
               first_name, last_name, email, phone, company, message, services, project_type,
               budget_range, timeline, consent_text_version, consented_at, source_page, utm,
               assignee_id, created_at, updated_at
        from leads
        where ($1::uuid is null or id < $1)
          and ($2::text is null or kind = $2)
          and ($3::text is null or status = $3)
          and ($4::timestamptz is null or created_at >= $4)
          and ($5::timestamptz is null or created_at < $5)
          and ($6::text is null or search @@ websearch_to_tsquery('simple', $6))
          and ($8::uuid[] is null or id = any($8))
        order by id desc
        limit $7
        "#,
        after,
        filter.kind.map(LeadKind::as_str),
        filter.status.map(LeadStatus::as_str),
        filter.from,
        filter.to,
        filter.text,
        limit,
        filter.ids.as_deref()
    )
    .fetch_all(db)
    .await?)
}

fn not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("No lead has id {id}."))
}

pub async fn get(db: &Db, id: Uuid) -> Result<LeadWithEvents> {
    let mut conn = db.read_session().await?;
    with_events(&mut conn, vec![id])
        .await?
        .pop()
        .ok_or_else(|| not_found(id))
}

/// These leads (oldest first) with their events.
pub(super) async fn with_events(
    conn: &mut PgConnection,
    ids: Vec<Uuid>,
) -> Result<Vec<LeadWithEvents>> {
    let filter = LeadFilter {
        ids: Some(ids.clone()),
        ..LeadFilter::default()
    };
    let mut leads = query_leads(&mut *conn, &filter, None, i64::MAX).await?;
    leads.reverse();
    let mut events = sqlx::query!(
        "select lead_id, id, occurred_at, actor_label, kind, details from lead_events where lead_id = any($1) order by id",
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(leads
        .into_iter()
        .map(|lead| {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut events)
                .into_iter()
                .partition(|e| e.lead_id == lead.id);
            events = rest;
            LeadWithEvents {
                lead,
                events: mine
                    .into_iter()
                    .map(|e| LeadEvent {
                        id: e.id,
                        occurred_at: e.occurred_at,
                        actor_label: e.actor_label,
                        kind: e.kind,
                        details: e.details,
                    })
                    .collect(),
            }
        })
        .collect())
}

pub async fn update(
    core: &Core,
    actor: AuditActor<'_>,
    id: Uuid,
    change: Change,
) -> Result<LeadWithEvents> {
    let label = actor.label();
    let mut tx = core.begin().await?;
    let current = sqlx::query!(
        r#"select status as "status: LeadStatus", assignee_id from leads where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(id))?;
    if let Some(status) = change.status.filter(|s| *s != current.status) {
        if !current.status.can_become(status) {
            return Err(AppError::conflict(
                "invalid-transition",
                format!(
                    "A {} lead cannot become {}: leads move new → contacted → qualified → proposal → won or lost, and anything can be marked spam.",
                    current.status.as_str(),
                    status.as_str()
                ),
            ));
        }
        sqlx::query!(
            "update leads set status = $2, updated_at = now() where id = $1",
            id,
            status.as_str()
        )
        .execute(&mut *tx)
        .await?;
        let details = serde_json::json!({ "from": current.status, "to": status });
        add_event(&mut tx, id, &label, "status_changed", details.clone()).await?;
        let data = serde_json::json!({ "id": id, "from": current.status, "to": status });
        crate::webhooks::publish(&mut tx, &core.jobs, "lead.status_changed", &data).await?;
    }
    if let Some(assignee) = change.assignee.filter(|a| *a != current.assignee_id) {
        if let Some(admin) = assignee {
            check_assignee(&mut tx, admin).await?;
        }
        sqlx::query!(
            "update leads set assignee_id = $2, updated_at = now() where id = $1",
            id,
            assignee
        )
        .execute(&mut *tx)
        .await?;
        add_event(
            &mut tx,
            id,
            &label,
            "assigned",
            serde_json::json!({ "assignee_id": assignee }),
        )
        .await?;
    }
    let noted = change.note.is_some();
    if let Some(note) = change.note {
        add_event(
            &mut tx,
            id,
            &label,
            "note",
            serde_json::json!({ "text": note }),
        )
        .await?;
        sqlx::query!("update leads set updated_at = now() where id = $1", id)
            .execute(&mut *tx)
            .await?;
    }
    // The audit entry names the lead by id only: the person's data stays in the lead.
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::AuditEvent::new("lead.update", "lead", id).with_details(serde_json::json!({
            "status": change.status,
            "assignee_changed": change.assignee.is_some(),
            "note_added": noted,
        })),
    )
    .await?;
    tx.commit().await?;
    get(&core.db, id).await
}

/// Leads go to admins who can work them: active owners and sales.
async fn check_assignee(conn: &mut PgConnection, admin: Uuid) -> Result<()> {
    let ok = sqlx::query_scalar!(
        r#"select exists(select 1 from staff_directory where id = $1 and active and role in ('owner', 'sales')) as "ok!""#,
        admin
    )
    .fetch_one(conn)
    .await?;
    if ok {
        Ok(())
    } else {
        Err(AppError::field(
            "assignee_id",
            "unknown",
            "assignee_id must be an active owner or sales admin",
        ))
    }
}

/// A visitor who booked a call, as a lead.
pub struct CallLead<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub notes: &'a str,
    pub consent_text_version: &'a str,
    pub booking_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    /// The answers to the call type's questions (kept in the lead's timeline).
    pub answers: serde_json::Value,
}

/// A booking makes the visitor a lead of kind `call` — through the same path as every
/// other lead, notifications included — or adds to the open one they have. Runs in the
/// booking's transaction.
pub async fn record_call(
    work: &mut Work,
    core: &Core,
    config: &LeadsConfig,
    call: &CallLead<'_>,
) -> Result<Uuid> {
    let open = sqlx::query_scalar!(
        r#"select id from leads where email = $1 and kind = 'call'
           and status not in ('won', 'lost', 'spam') order by id desc limit 1"#,
        call.email
    )
    .fetch_optional(&mut **work)
    .await?;
    let details = serde_json::json!({
        "booking_id": call.booking_id,
        "starts_at": call.starts_at,
        "answers": call.answers,
    });
    if let Some(lead) = open {
        add_event(work, lead, "visitor", "booking_created", details).await?;
        sqlx::query!("update leads set updated_at = now() where id = $1", lead)
            .execute(&mut **work)
            .await?;
        return Ok(lead);
    }
    let lead = NewLead {
        kind: LeadKind::Call,
        name: format!("{} {}", call.first_name, call.last_name),
        first_name: Some(call.first_name.to_owned()),
        last_name: Some(call.last_name.to_owned()),
        email: call.email.to_owned(),
        phone: None,
        company: None,
        message: call.notes.to_owned(),
        services: Vec::new(),
        project_type: None,
        budget_range: None,
        timeline: None,
        consent_text_version: call.consent_text_version.to_owned(),
        source_page: None,
        utm: Default::default(),
        spam: false,
    };
    let context = context(work, config, &lead).await?;
    let (_, id) = write_captured(work, core, &context, lead, call.ip).await?;
    add_event(work, id, "visitor", "booking_created", details).await?;
    Ok(id)
}

/// The id of the lead with this reference (what the visitor was given).
pub async fn id_of_reference(
    conn: impl sqlx::PgExecutor<'_>,
    reference: &str,
) -> Result<Option<Uuid>> {
    Ok(
        sqlx::query_scalar!("select id from leads where reference = $1", reference)
            .fetch_optional(conn)
            .await?,
    )
}

/// Adds a booking change to a lead's timeline.
pub async fn note_booking(
    conn: &mut PgConnection,
    lead: Uuid,
    kind: &str,
    booking: Uuid,
    actor: &str,
) -> Result<()> {
    add_event(
        conn,
        lead,
        actor,
        kind,
        serde_json::json!({ "booking_id": booking }),
    )
    .await
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn references_are_padded_to_six_digits_and_grow_past_them() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).single();
        let now = now.expect("a valid time");
        assert_eq!(reference(now, 123), "FD-2026-000123");
        // lpad in SQL would cut 1234567 to 123456 and collide; this does not.
        assert_eq!(reference(now, 1_234_567), "FD-2026-1234567");
    }
}
