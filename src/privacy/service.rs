//! Export and erasure of everything held about one email address: leads (with their
//! timelines), the newsletter subscription, bookings, and the emails and webhooks that
//! carried them, and the assistant conversations they had.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::auth::credentials::email_hash;
use crate::error::Result;
use crate::leads::model::{Lead, LeadEvent, LeadKind, LeadStatus};
use crate::outbox::jobs::JobView;

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadRecord {
    #[serde(flatten)]
    pub lead: Lead,
    pub timeline: Vec<LeadEvent>,
}

/// Everything held about an address.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    pub email: String,
    pub leads: Vec<LeadRecord>,
    #[schema(value_type = Option<Object>)]
    pub newsletter: Option<serde_json::Value>,
    /// Emails sent (or kept) to this address.
    pub emails: Vec<JobView>,
    /// Calls booked with this address.
    #[schema(value_type = Vec<Object>)]
    pub bookings: Vec<serde_json::Value>,
    /// Assistant conversations that led to their leads or bookings or mention the address.
    #[schema(value_type = Vec<Object>)]
    pub conversations: Vec<serde_json::Value>,
    /// Records of their form submissions kept for a day so that a retried request is
    /// answered once (they hold only a reference or an id).
    pub idempotency_records: i64,
}

pub async fn export(db: &PgPool, email: &str) -> Result<PersonalData> {
    let leads = sqlx::query_as!(
        Lead,
        r#"
        select id, reference, kind as "kind: LeadKind", status as "status: LeadStatus", name,
               first_name, last_name, email, phone, company, message, services, project_type,
               budget_range, timeline, consent_text_version, consented_at, source_page, utm,
               assignee_id, created_at, updated_at
        from leads where email = $1 order by id
        "#,
        email
    )
    .fetch_all(db)
    .await?;
    let mut records = Vec::with_capacity(leads.len());
    for lead in leads {
        let timeline = sqlx::query_as!(
            LeadEvent,
            "select id, occurred_at, actor_label, kind, details from lead_events where lead_id = $1 order by id",
            lead.id
        )
        .fetch_all(db)
        .await?;
        records.push(LeadRecord { lead, timeline });
    }
    let newsletter = sqlx::query_scalar!(
        r#"select jsonb_build_object('status', status, 'consent_text_version', consent_text_version,
                  'created_at', created_at, 'confirmed_at', confirmed_at,
                  'unsubscribed_at', unsubscribed_at) as "record!"
           from newsletter_subscribers where email = $1"#,
        email
    )
    .fetch_optional(db)
    .await?;
    let emails = sqlx::query_as!(
        JobView,
        r#"select id, kind, status, attempts, max_attempts, run_at, last_error, delivered_via,
                  payload, created_at, done_at
           from outbox_jobs where kind = 'email' and payload->>'to' = $1 order by id"#,
        email
    )
    .fetch_all(db)
    .await?;
    let bookings = sqlx::query_scalar!(
        r#"select jsonb_build_object('id', b.id, 'call_type', c.slug, 'status', b.status,
                  'starts_at', b.starts_at, 'ends_at', b.ends_at, 'time_zone', b.time_zone,
                  'first_name', b.first_name, 'last_name', b.last_name, 'notes', b.notes,
                  'consent_text_version', b.consent_text_version, 'created_at', b.created_at,
                  'cancelled_at', b.cancelled_at) as "booking!"
           from bookings b join call_types c on c.id = b.call_type_id
           where b.email = $1 order by b.id"#,
        email
    )
    .fetch_all(db)
    .await?;
    let conversations = sqlx::query_scalar!(
        r#"select jsonb_build_object('id', c.id, 'created_at', c.created_at,
                  'messages', coalesce((select jsonb_agg(jsonb_build_object('role', m.role,
                      'text', m.text, 'created_at', m.created_at) order by m.id)
                      from assistant_messages m where m.conversation_id = c.id), '[]'::jsonb))
                  as "conversation!"
           from assistant_conversations c
           where c.lead_id in (select id from leads where email = $1)
              or c.booking_id in (select id from bookings where email = $1)
              or exists (select 1 from assistant_messages m
                         where m.conversation_id = c.id and m.text ~* $2)
           order by c.id"#,
        email,
        whole_address(email)
    )
    .fetch_all(db)
    .await?;
    let idempotency_records =
        crate::idempotency::count_for(&mut *db.acquire().await?, email).await?;
    Ok(PersonalData {
        email: email.to_owned(),
        idempotency_records,
        leads: records,
        newsletter,
        emails,
        bookings,
        conversations,
    })
}

/// A Postgres regular expression (for `~*`) matching `email` as a whole address in free
/// text: "ana@example.com" is not found in "diana@example.com" or "ana@example.com.au", but
/// is at the end of a sentence.
fn whole_address(email: &str) -> String {
    // In Postgres regular expressions a backslash before a non-alphanumeric character
    // makes it literal.
    let escaped: String = email
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect();
    // In JSON text a line break before the address is the two characters `\n`.
    format!(r"(^|[^[:alnum:]._%+-]|\\[nrt]){escaped}($|[^[:alnum:]._%+-]|\.($|[^[:alnum:]]))")
}

/// What an erasure removed, by kind; all that remains of the person.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Erased {
    pub counts: BTreeMap<String, i64>,
}

/// Erases the address everywhere, in one transaction, and records only the counts (under a
/// hash of the address) and an audit entry without the address.
pub async fn erase(db: &PgPool, actor: AuditActor<'_>, email: &str) -> Result<Erased> {
    let mut tx = db.begin().await?;
    let lead_ids = sqlx::query_scalar!("select id from leads where email = $1", email)
        .fetch_all(&mut *tx)
        .await?;
    let lead_ids_text: Vec<String> = lead_ids.iter().map(Uuid::to_string).collect();
    let pattern = whole_address(email);
    // Any job that mentions the address (mail to them, the team's notification about them,
    // webhooks carrying their lead) or one of their leads goes.
    let webhooks = sqlx::query!(
        r#"delete from outbox_jobs where kind = 'webhook'
           and (payload::text ~* $1 or payload->'data'->>'id' = any($2))"#,
        pattern,
        &lead_ids_text
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let emails = sqlx::query!(
        "delete from outbox_jobs where kind = 'email' and payload::text ~* $1",
        pattern
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Before the leads and bookings: a conversation is found through them too.
    let conversations = sqlx::query!(
        r#"delete from assistant_conversations c
           where c.lead_id in (select id from leads where email = $1)
              or c.booking_id in (select id from bookings where email = $1)
              or exists (select 1 from assistant_messages m
                         where m.conversation_id = c.id and m.text ~* $2)"#,
        email,
        pattern
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let bookings = sqlx::query!("delete from bookings where email = $1", email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let leads = sqlx::query!("delete from leads where email = $1", email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let subscriptions = sqlx::query!("delete from newsletter_subscribers where email = $1", email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let retries = crate::idempotency::erase(&mut tx, email).await?;
    let counts: BTreeMap<String, i64> = [
        ("leads", leads),
        ("newsletter_subscriptions", subscriptions),
        ("emails", emails),
        ("webhook_deliveries", webhooks),
        ("bookings", bookings),
        ("assistant_conversations", conversations),
        ("idempotency_records", retries),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), i64::try_from(v).unwrap_or(i64::MAX)))
    .collect();
    let counts_json = serde_json::to_value(&counts).map_err(anyhow::Error::from)?;
    sqlx::query!(
        "insert into privacy_erasures (id, email_hash, counts) values ($1, $2, $3)",
        Uuid::now_v7(),
        email_hash(email),
        counts_json
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("privacy.erase", "person", "erased").with_details(counts_json),
    )
    .await?;
    tx.commit().await?;
    Ok(Erased { counts })
}
