//! Issues: a published post sent once to the confirmed list (or to one topic's readers).
//!
//! Making an issue queues a start job for its time. The start job builds the message from
//! the post as it is then, writes one delivery row per recipient (unique per issue and
//! address) and one outbox job per delivery, due one after another at NEWSLETTER_SEND_RATE:
//! the pace holds across replicas, and a restart anywhere resumes where it was. A delivery
//! job checks, in the statement that claims the row, that its reader is still subscribed
//! and not suppressed; it marks the row `sending` before the message goes to the SMTP
//! server and `sent` after. A row found `sending` again (the replica died in between) is
//! marked `uncertain`, never sent twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::email::{self, Letter};
use super::model::{
    EventsApplied, Issue, IssueStats, ProviderEvent, ProviderEvents, TestSent, ValidIssue,
    ValidTestSend,
};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::blog::{self, MailedPost};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::jobs::mailer::Failure;
use crate::jobs::{Claimed, Email, Mailer, NewJobs};
use crate::newsletter::NewsletterConfig;
use crate::newsletter::service::{preferences_page_url, unsubscribe_page_url, unsubscribe_url};
use crate::pagination::{Page, PageParams};
use crate::site::SiteProfile;
use crate::state::Core;

/// The job that starts an issue's sending at its time.
pub const START_JOB: &str = "newsletter.start";
/// The job that mails one recipient.
pub const DELIVERY_JOB: &str = "newsletter.delivery";

#[derive(Debug, Serialize, Deserialize)]
struct StartJob {
    issue: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeliveryJob {
    delivery: Uuid,
}

fn post_unknown(post: &str) -> AppError {
    AppError::field(
        "post",
        "unknown",
        format!("No post has the slug or id {post:?}."),
    )
}

async fn site_profile(db: &Db) -> Result<SiteProfile> {
    crate::site::get(db).await?.ok_or_else(|| {
        AppError::conflict(
            "site-profile-missing",
            "Set the site profile first (PUT /v1/admin/site): every issue's footer carries the firm's name and postal address.",
        )
    })
}

async fn check_topic(conn: &mut sqlx::PgConnection, topic: Option<&str>) -> Result<()> {
    let Some(topic) = topic else {
        return Ok(());
    };
    if blog::topics(conn)
        .await?
        .iter()
        .any(|(slug, _)| slug == topic)
    {
        Ok(())
    } else {
        Err(AppError::field(
            "topic",
            "unknown",
            format!("No tag has the slug {topic:?}; topics are tag slugs."),
        ))
    }
}

/// Makes an issue of a post: sent now, at `send_at`, or (for a scheduled post) once it is
/// published; with `publish`, the post is published first, in the same unit of work.
pub async fn create(
    core: &Core,
    actor: AuditActor<'_>,
    created_by: Option<Uuid>,
    input: ValidIssue,
) -> Result<Issue> {
    site_profile(&core.db).await?;
    let mut tx = core.begin().await?;
    let post = blog::mailed_post(&mut tx, &input.post)
        .await?
        .ok_or_else(|| post_unknown(&input.post))?;
    check_topic(&mut tx, input.topic.as_deref()).await?;
    let mut status = post.status.as_str();
    if input.publish && status != "published" {
        blog::publish_now(core, &mut tx, actor.clone(), post.id).await?;
        status = "published";
    }
    let now = Utc::now();
    let send_at = match status {
        "published" => input.send_at.unwrap_or(now).max(now),
        "scheduled" => {
            let publishes = post.scheduled_at.unwrap_or(now);
            input.send_at.unwrap_or(publishes).max(publishes)
        }
        other => {
            return Err(AppError::conflict(
                "post-not-published",
                format!(
                    "This post is {other}: publish it first, schedule it, or send with \"publish\": true."
                ),
            ));
        }
    };
    let id = Uuid::now_v7();
    let made = sqlx::query_scalar!(
        r#"insert into newsletter_issues (id, post_id, post_slug, subject, preview_text, topic,
                                          status, send_at, created_by)
           values ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8)
           on conflict (post_id) where status <> 'cancelled' or started_at is not null do nothing
           returning id"#,
        id,
        post.id,
        post.slug,
        input.subject,
        input.preview_text,
        input.topic,
        send_at,
        created_by
    )
    .fetch_optional(&mut *tx)
    .await?;
    if made.is_none() {
        return Err(AppError::conflict(
            "already-sent",
            "This post already has an issue (one not yet sending can be cancelled, and the post sent anew): a post is sent once.",
        ));
    }
    let mut jobs = NewJobs::default();
    let delay = (send_at - now).to_std().unwrap_or_default();
    jobs.job_after(START_JOB, &StartJob { issue: id }, delay)?;
    core.jobs.push(&mut tx, &jobs).await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("newsletter.issue.create", "newsletter_issue", id).with_details(
            serde_json::json!({ "post": post.slug, "topic": input.topic, "send_at": send_at }),
        ),
    )
    .await?;
    tx.commit().await?;
    get(&core.db, id).await
}

/// Cancels a scheduled issue, or what is still queued of one being sent.
pub async fn cancel(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<Issue> {
    let mut tx = core.begin().await?;
    let status = sqlx::query_scalar!(
        "select status from newsletter_issues where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(id))?;
    if status == "cancelled" {
        return Err(AppError::conflict(
            "not-cancellable",
            "This issue is already cancelled.",
        ));
    }
    let withheld = sqlx::query!(
        r#"update newsletter_deliveries set status = 'cancelled', updated_at = now()
           where issue_id = $1 and status = 'queued'"#,
        id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if status == "sending" && withheld == 0 {
        return Err(AppError::conflict(
            "not-cancellable",
            "This issue has been sent: nothing is left to cancel.",
        ));
    }
    sqlx::query!(
        r#"update newsletter_issues set status = 'cancelled', updated_at = now(),
                  cancelled_reason = 'cancelled by an admin'
           where id = $1"#,
        id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("newsletter.issue.cancel", "newsletter_issue", id)
            .with_details(serde_json::json!({ "withheld": withheld })),
    )
    .await?;
    tx.commit().await?;
    get(&core.db, id).await
}

fn not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("No newsletter issue has id {id}."))
}

/// One issue with its counts.
pub async fn get(db: &Db, id: Uuid) -> Result<Issue> {
    let mut issues = fetch(db, Some(id), None, 1).await?;
    issues.pop().ok_or_else(|| not_found(id))
}

/// Issues, newest first.
pub async fn list(db: &Db, page: &PageParams) -> Result<Page<Issue>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = fetch(db, None, after, i64::from(limit) + 1).await?;
    Ok(Page::from_rows(rows, limit, |i| i.id))
}

async fn fetch(db: &Db, id: Option<Uuid>, after: Option<Uuid>, limit: i64) -> Result<Vec<Issue>> {
    let rows = sqlx::query!(
        r#"
        select i.id, i.post_id, i.post_slug, i.status, i.subject, i.preview_text, i.topic,
               i.send_at, i.started_at, i.cancelled_reason, i.created_at, i.recipients::int8 as "recipients!",
               c.queued as "queued!", c.sending as "sending!", c.sent as "sent!",
               c.failed as "failed!", c.skipped as "skipped!", c.uncertain as "uncertain!",
               c.cancelled as "cancelled!", c.bounced as "bounced!", c.complained as "complained!",
               c.unsubscribed_after as "unsubscribed_after!", c.last_sent
        from newsletter_issues i
        cross join lateral (
            select count(*) filter (where d.status = 'queued') as queued,
                   count(*) filter (where d.status = 'sending') as sending,
                   count(*) filter (where d.status = 'sent') as sent,
                   count(*) filter (where d.status = 'failed') as failed,
                   count(*) filter (where d.status = 'skipped') as skipped,
                   count(*) filter (where d.status = 'uncertain') as uncertain,
                   count(*) filter (where d.status = 'cancelled') as cancelled,
                   count(*) filter (where d.bounced = 'bounced') as bounced,
                   count(*) filter (where d.bounced = 'complained') as complained,
                   count(*) filter (where s.unsubscribed_at >= i.started_at
                                    and d.status in ('sent', 'uncertain')) as unsubscribed_after,
                   max(d.sent_at) as last_sent
            from newsletter_deliveries d
            left join newsletter_subscribers s on s.email = d.email
            where d.issue_id = i.id
        ) c
        where ($1::uuid is null or i.id = $1) and ($2::uuid is null or i.id < $2)
        order by i.id desc
        limit $3
        "#,
        id,
        after,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let done = r.status == "sending" && r.queued == 0 && r.sending == 0;
            Issue {
                id: r.id,
                post_id: r.post_id,
                post_slug: r.post_slug,
                status: if done { "sent".into() } else { r.status },
                subject: r.subject,
                preview_text: r.preview_text,
                topic: r.topic,
                send_at: r.send_at,
                started_at: r.started_at,
                finished_at: if done {
                    r.last_sent.or(r.started_at)
                } else {
                    None
                },
                cancelled_reason: r.cancelled_reason,
                created_at: r.created_at,
                stats: IssueStats {
                    recipients: r.recipients,
                    queued: r.queued,
                    sending: r.sending,
                    sent: r.sent,
                    failed: r.failed,
                    skipped: r.skipped,
                    uncertain: r.uncertain,
                    cancelled: r.cancelled,
                    bounced: r.bounced,
                    complained: r.complained,
                    unsubscribed_after: r.unsubscribed_after,
                },
            }
        })
        .collect())
}

fn letter_for(
    post: &MailedPost,
    subject: Option<&str>,
    preview: Option<&str>,
    site: &SiteProfile,
) -> Letter {
    let subject = subject.unwrap_or(&post.title);
    let preview = preview.unwrap_or(&post.excerpt);
    email::compose(post, subject, preview, site)
}

/// Sends the message `post` would go out as now to one address, through the outbox.
pub async fn test_send(core: &Core, input: ValidTestSend) -> Result<TestSent> {
    let site = site_profile(&core.db).await?;
    let mut tx = core.begin().await?;
    let post = blog::mailed_post(&mut tx, &input.post)
        .await?
        .ok_or_else(|| post_unknown(&input.post))?;
    let letter = letter_for(
        &post,
        input.subject.as_deref(),
        input.preview_text.as_deref(),
        &site,
    );
    let subject = format!("[Test] {}", letter.subject);
    let email = addressed(
        core,
        &letter,
        &input.email,
        subject.clone(),
        "newsletter_test",
    );
    core.jobs.email(&mut tx, &email).await?;
    tx.commit().await?;
    Ok(TestSent {
        status: "queued",
        to: input.email,
        subject,
    })
}

/// The letter addressed to `to`, with their own links.
fn addressed(core: &Core, letter: &Letter, to: &str, subject: String, purpose: &str) -> Email {
    let base = &core.config.http.public_api_url;
    // The header is the one-click (RFC 8058) API target; the footer links open pages.
    let unsubscribe = unsubscribe_url(base, &core.signer, to);
    let (html, text) = letter.personalize(
        &unsubscribe_page_url(base, &core.signer, to),
        &preferences_page_url(base, &core.signer, to),
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html: Some(html),
        purpose: purpose.to_owned(),
        unsubscribe_url: Some(unsubscribe),
        attachment: None,
    }
}

/// The start job: builds the message and queues one paced delivery per recipient.
async fn start(
    core: &Core,
    config: &NewsletterConfig,
    issue_id: Uuid,
) -> anyhow::Result<&'static str> {
    let mut tx = core.begin().await?;
    let Some(issue) = sqlx::query!(
        r#"select post_id, topic, subject, preview_text, status from newsletter_issues
           where id = $1 for update"#,
        issue_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok("skipped");
    };
    if issue.status != "scheduled" {
        return Ok("skipped");
    }
    let post = blog::mailed_post_by_id(&mut tx, issue.post_id).await?;
    let post = match post {
        Some(post) if post.status == "published" => post,
        Some(post) if post.status == "scheduled" => {
            let publishes = post.scheduled_at.unwrap_or_else(Utc::now);
            if publishes > Utc::now() + chrono::Duration::seconds(1) {
                // The post was moved later: the issue follows it.
                sqlx::query!(
                    "update newsletter_issues set send_at = $2, updated_at = now() where id = $1",
                    issue_id,
                    publishes
                )
                .execute(&mut *tx)
                .await?;
                let mut jobs = NewJobs::default();
                let delay = (publishes - Utc::now()).to_std().unwrap_or_default();
                jobs.job_after(START_JOB, &StartJob { issue: issue_id }, delay)?;
                core.jobs.push(&mut tx, &jobs).await?;
                tx.commit().await?;
                return Ok("rescheduled");
            }
            anyhow::bail!("waiting for the scheduler to publish the post");
        }
        other => {
            let reason = match other {
                Some(post) => format!("the post is {}, not published", post.status),
                None => "the post was deleted".to_owned(),
            };
            sqlx::query!(
                r#"update newsletter_issues set status = 'cancelled', cancelled_reason = $2,
                          updated_at = now() where id = $1"#,
                issue_id,
                reason
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(issue = %issue_id, reason, "newsletter issue not sent");
            return Ok("cancelled");
        }
    };
    let site = site_profile(&core.db)
        .await
        .context("the site profile is not set")?;
    let letter = letter_for(
        &post,
        issue.subject.as_deref(),
        issue.preview_text.as_deref(),
        &site,
    );
    let recipients = sqlx::query_scalar!(
        r#"select email from newsletter_subscribers
           where status = 'confirmed' and suppressed is null
             and ($1::text is null or $1 = any(topics))
           order by email"#,
        issue.topic
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = recipients.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query!(
        r#"insert into newsletter_deliveries (id, issue_id, email)
           select id, $1, email from unnest($2::uuid[], $3::text[]) as t(id, email)
           on conflict (issue_id, email) do nothing"#,
        issue_id,
        &ids,
        &recipients
    )
    .execute(&mut *tx)
    .await?;
    // The pace is the list's, not each issue's: an issue starting while another is still
    // going out is queued after it (the lock makes concurrent starts take turns).
    sqlx::query!("select pg_advisory_xact_lock(hashtext('newsletter.pace'))")
        .execute(&mut *tx)
        .await?;
    let gap = if config.send_rate > 0.0 {
        1.0 / config.send_rate
    } else {
        0.0
    };
    let busy_for = sqlx::query_scalar!(
        r#"select greatest(extract(epoch from max(paced_until) - now()), 0)::float8 as "secs!"
           from newsletter_issues where status = 'sending' and id <> $1"#,
        issue_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let start_in = if gap > 0.0 { busy_for + gap } else { 0.0 };
    let mut jobs = NewJobs::default();
    for (i, id) in ids.iter().enumerate() {
        let delay = Duration::try_from_secs_f64(start_in + gap * i as f64).unwrap_or_default();
        jobs.job_after(DELIVERY_JOB, &DeliveryJob { delivery: *id }, delay)?;
    }
    core.jobs.push(&mut tx, &jobs).await?;
    let paced_for = start_in + gap * ids.len() as f64;
    sqlx::query!(
        r#"update newsletter_issues set status = 'sending', started_at = now(), updated_at = now(),
                  subject = $2, preview_text = $3, html = $4, text_body = $5, recipients = $6,
                  paced_until = now() + make_interval(secs => $7)
           where id = $1"#,
        issue_id,
        letter.subject,
        issue.preview_text.unwrap_or_else(|| post.excerpt.clone()),
        letter.html,
        letter.text,
        i32::try_from(recipients.len()).unwrap_or(i32::MAX),
        paced_for
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(issue = %issue_id, recipients = recipients.len(), "newsletter issue sending");
    Ok("started")
}

async fn give_up(db: &Db, issue: Uuid, reason: &str) -> anyhow::Result<()> {
    sqlx::query!(
        r#"update newsletter_issues set status = 'cancelled', cancelled_reason = $2, updated_at = now()
           where id = $1 and status = 'scheduled'"#,
        issue,
        reason
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Starts issues (the job runner's handler for [`START_JOB`]).
pub struct Starter {
    core: Core,
    config: Arc<NewsletterConfig>,
}

impl Starter {
    pub fn new(core: Core, config: Arc<NewsletterConfig>) -> Self {
        Self { core, config }
    }
}

impl crate::jobs::JobHandler for Starter {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> crate::jobs::worker::Delivery<'a> {
        Box::pin(async move {
            let last = job.attempts >= job.max_attempts;
            let StartJob { issue } = serde_json::from_value(job.payload.clone())?;
            match start(&self.core, &self.config, issue).await {
                Err(err) if last => {
                    // Not left `scheduled` for ever: cancelled, with why.
                    give_up(&self.core.db, issue, &format!("could not start: {err:#}")).await?;
                    Err(err)
                }
                other => other,
            }
        })
    }
}

/// Mails one recipient each (the job runner's handler for [`DELIVERY_JOB`]).
pub struct Sender {
    core: Core,
    mailer: Mailer,
    /// The last issue's letter: consecutive deliveries are nearly always of one issue.
    letter: Mutex<Option<(Uuid, Arc<Letter>)>>,
}

impl Sender {
    pub fn new(core: Core, mailer: Mailer) -> Self {
        Self {
            core,
            mailer,
            letter: Mutex::new(None),
        }
    }

    async fn letter(&self, issue: Uuid) -> anyhow::Result<Arc<Letter>> {
        if let Ok(last) = self.letter.lock() {
            if let Some((id, letter)) = last.as_ref().filter(|(id, _)| *id == issue) {
                debug_assert_eq!(*id, issue);
                return Ok(letter.clone());
            }
        }
        let row = sqlx::query!(
            r#"select subject as "subject!", html as "html!", text_body as "text!"
               from newsletter_issues where id = $1 and html is not null"#,
            issue
        )
        .fetch_one(&self.core.db)
        .await
        .context("reading the issue's message")?;
        let letter = Arc::new(Letter {
            subject: row.subject,
            html: row.html,
            text: row.text,
        });
        if let Ok(mut last) = self.letter.lock() {
            *last = Some((issue, letter.clone()));
        }
        Ok(letter)
    }

    async fn deliver(&self, job: &Claimed) -> anyhow::Result<&'static str> {
        let DeliveryJob { delivery } = serde_json::from_value(job.payload.clone())?;
        let db = &self.core.db;
        // Claims the row: sent only if still queued (or its previous try certainly failed),
        // the issue not cancelled, and the reader still subscribed (to its topic) and not
        // suppressed.
        let Some(claimed) = sqlx::query!(
            r#"
            with d as (
                select id, status, email, issue_id from newsletter_deliveries
                where id = $1 for update
            ), next as (
                select d.id, case
                    when d.status = 'sending' then 'uncertain'
                    when i.status = 'cancelled' then 'cancelled'
                    when s.status = 'confirmed' and s.suppressed is null
                         and (i.topic is null or i.topic = any(s.topics)) then 'sending'
                    else 'skipped' end as status
                from d join newsletter_issues i on i.id = d.issue_id
                left join newsletter_subscribers s on s.email = d.email
                where d.status in ('queued', 'sending')
            )
            update newsletter_deliveries n set status = next.status, updated_at = now()
            from next where n.id = next.id
            returning n.status, n.email, n.issue_id
            "#,
            delivery
        )
        .fetch_optional(db)
        .await?
        else {
            return Ok("skipped");
        };
        match claimed.status.as_str() {
            "sending" => {}
            "uncertain" => {
                tracing::warn!(delivery = %delivery, "a newsletter delivery was interrupted mid-send; not sending it again");
                return Ok("uncertain");
            }
            _ => return Ok("skipped"),
        }
        let last = job.attempts >= job.max_attempts;
        let again = if last { "failed" } else { "queued" };
        let letter = match self.letter(claimed.issue_id).await {
            Ok(letter) => letter,
            Err(err) => {
                record(db, delivery, again, None, Some(&format!("{err:#}"))).await?;
                return Err(err);
            }
        };
        let email = addressed(
            &self.core,
            &letter,
            &claimed.email,
            letter.subject.clone(),
            "newsletter_issue",
        );
        match self.mailer.deliver(delivery, &email).await {
            Ok(via) => {
                // Recorded, or (after one more try) left `sending`: then it becomes
                // `uncertain` rather than a second message.
                if record(db, delivery, "sent", Some(via), None).await.is_err() {
                    record(db, delivery, "sent", Some(via), None).await?;
                }
                Ok(via)
            }
            Err(err) => {
                // SMTP errors often quote the address: kept and logged without it.
                let error = format!("{err:#}").replace(&claimed.email, "<recipient>");
                match Failure::of(&err) {
                    Failure::Refused => {
                        record(db, delivery, "failed", None, Some(&error)).await?;
                        Ok("refused")
                    }
                    Failure::Unknown => {
                        // It may have arrived: not sent again.
                        record(db, delivery, "uncertain", None, Some(&error)).await?;
                        tracing::warn!(delivery = %delivery, error, "a newsletter message was cut off mid-send; not sending it again");
                        Ok("uncertain")
                    }
                    Failure::NotSent => {
                        record(db, delivery, again, None, Some(&error)).await?;
                        Err(anyhow::anyhow!(error))
                    }
                }
            }
        }
    }
}

async fn record(
    db: &Db,
    delivery: Uuid,
    status: &str,
    via: Option<&str>,
    error: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query!(
        r#"update newsletter_deliveries set status = $2, via = coalesce($3, via), error = $4,
                  sent_at = case when $2 = 'sent' then now() else sent_at end, updated_at = now()
           where id = $1 and status = 'sending'"#,
        delivery,
        status,
        via,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

impl crate::jobs::JobHandler for Sender {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> crate::jobs::worker::Delivery<'a> {
        Box::pin(Sender::deliver(self, job))
    }
}

/// Events a provider POSTed: `signature` (X-Frontdesk-Signature) must sign `body` with
/// NEWSLETTER_EVENTS_SECRET, made within five minutes.
pub async fn receive_events(
    core: &Core,
    config: &NewsletterConfig,
    signature: Option<&str>,
    body: &[u8],
) -> Result<EventsApplied> {
    let Some(secret) = &config.events_secret else {
        return Err(AppError::not_found(
            "Mail-provider events are not accepted here: NEWSLETTER_EVENTS_SECRET is not set.",
        ));
    };
    let signed = signature.is_some_and(|header| {
        crate::signing::verify_body(
            secret.expose_secret(),
            header,
            body,
            Utc::now().timestamp(),
            EVENT_TOLERANCE_SECS,
        )
    });
    if !signed {
        return Err(AppError::Unauthorized);
    }
    let events: ProviderEvents = serde_json::from_slice(body).map_err(|err| {
        AppError::BadRequest(format!(
            "The body is not a provider event, a list of them or {{\"events\": [...]}}: {err}"
        ))
    })?;
    apply_events(core, events.into_vec()).await
}

/// How old a provider's signature may be.
const EVENT_TOLERANCE_SECS: i64 = 300;

/// Applies a mail provider's events: a hard bounce or a complaint suppresses the address
/// (a complaint also unsubscribes it), and is counted on the issue it is about.
async fn apply_events(core: &Core, events: Vec<ProviderEvent>) -> Result<EventsApplied> {
    let received = events.len();
    let mut applied = 0;
    let mut tx = core.begin().await?;
    for event in events {
        let Ok(email) = crate::validation::parse_email(&event.email) else {
            continue;
        };
        let bounce_type = event.bounce_type.as_deref().map(str::to_ascii_lowercase);
        let kind = match (
            event.kind.to_ascii_lowercase().as_str(),
            bounce_type.as_deref(),
        ) {
            ("bounce", None | Some("hard" | "permanent")) => "bounced",
            ("complaint", _) => "complained",
            _ => continue,
        };
        let marked = sqlx::query!(
            r#"update newsletter_subscribers set
                   suppressed = case when suppressed = 'complained' then suppressed else $2 end,
                   suppressed_at = coalesce(suppressed_at, now()),
                   status = case when $2 = 'complained' then 'unsubscribed' else status end,
                   unsubscribed_at = case when $2 = 'complained' and status <> 'unsubscribed'
                                          then now() else unsubscribed_at end,
                   confirm_token_hash = case when $2 = 'complained' then null else confirm_token_hash end,
                   updated_at = now()
               where email = $1"#,
            email,
            kind
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 0 {
            continue;
        }
        applied += 1;
        // The message it is about; without one, the address's latest issue. A Message-ID
        // that is no issue's (a confirmation, a test send) counts on none.
        let about = event.message_id.as_deref().map(|m| {
            m.trim()
                .trim_start_matches('<')
                .split('@')
                .next()
                .and_then(|id| Uuid::parse_str(id).ok())
        });
        let (given, message) = match about {
            None => (false, None),
            Some(id) => (true, id),
        };
        sqlx::query!(
            r#"update newsletter_deliveries set bounced = $3, updated_at = now()
               where id = case when $4 then $1 else
                   (select id from newsletter_deliveries where email = $2 and status = 'sent'
                    order by sent_at desc limit 1) end
                 and email = $2"#,
            message,
            email,
            kind,
            given
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(EventsApplied {
        received,
        applied,
        ignored: received - applied,
    })
}
