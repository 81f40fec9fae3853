use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{EventsApplied, Issue, IssueInput, ProviderEvents, TestSendInput, TestSent};
use super::service;
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Query};
use crate::newsletter::NewsletterState;
use crate::pagination::{Page, PageParams};
use crate::signing::BODY_SIGNATURE_HEADER;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    NewsletterState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_issues, create_issue))
        .routes(routes!(get_issue))
        .routes(routes!(cancel_issue))
        .routes(routes!(test_send))
        .routes(routes!(provider_events))
}

/// Sends a post to the list: now, at `send_at`, or (for a scheduled post) when it is
/// published; `"publish": true` publishes it first ("publish and send"). A post is sent once.
#[utoipa::path(post, path = "/v1/admin/newsletter/issues", tag = "admin", security(("bearer" = [])),
    request_body = IssueInput,
    responses((status = 201, body = Issue), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, description = "The post is not published, already sent, or the site profile is missing", body = Problem),
              (status = 422, body = Problem)))]
async fn create_issue(
    Authorized(principal, _): Authorized<perm::NewsletterSend>,
    State(state): State<Core>,
    Json(input): Json<IssueInput>,
) -> Result<(StatusCode, Json<Issue>)> {
    let input = input.validate()?;
    let issue = service::create(&state, (&principal).into(), principal.admin_id(), input).await?;
    Ok((StatusCode::CREATED, Json(issue)))
}

/// Issues, newest first, with how their sending goes.
#[utoipa::path(get, path = "/v1/admin/newsletter/issues", tag = "admin", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<Issue>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn list_issues(
    _auth: Authorized<perm::NewsletterSend>,
    State(state): State<Core>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Issue>>> {
    Ok(Json(service::list(&state.db, &page).await?))
}

/// One issue: its recipients, sent, failed, bounced, unsubscribed after it; progress while
/// it is sending.
#[utoipa::path(get, path = "/v1/admin/newsletter/issues/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Issue), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_issue(
    _auth: Authorized<perm::NewsletterSend>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Issue>> {
    Ok(Json(service::get(&state.db, id).await?))
}

/// Cancels a scheduled issue, or the part of one being sent that has not gone yet.
#[utoipa::path(post, path = "/v1/admin/newsletter/issues/{id}/cancel", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Issue), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, description = "Already sent or cancelled", body = Problem)))]
async fn cancel_issue(
    Authorized(principal, _): Authorized<perm::NewsletterSend>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Issue>> {
    Ok(Json(
        service::cancel(&state, (&principal).into(), id).await?,
    ))
}

/// Sends the message a post would go out as, now, to one address (marked `[Test]`).
#[utoipa::path(post, path = "/v1/admin/newsletter/test-sends", tag = "admin", security(("bearer" = [])),
    request_body = TestSendInput,
    responses((status = 202, body = TestSent), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, description = "The site profile is missing", body = Problem),
              (status = 422, body = Problem)))]
async fn test_send(
    _auth: Authorized<perm::NewsletterSend>,
    State(state): State<Core>,
    Json(input): Json<TestSendInput>,
) -> Result<(StatusCode, Json<TestSent>)> {
    let sent = service::test_send(&state, input.validate()?).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Bounces and complaints from the mail provider (or an adapter in front of it), signed
/// with NEWSLETTER_EVENTS_SECRET as frontdesk signs its own webhooks:
/// `X-Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A hard
/// bounce or a complaint stops all mail to the address.
#[utoipa::path(post, path = "/v1/newsletter/events", tag = "newsletter",
    request_body = ProviderEvents,
    responses((status = 200, body = EventsApplied), (status = 400, body = Problem),
              (status = 401, description = "Missing, wrong or expired signature", body = Problem),
              (status = 404, description = "NEWSLETTER_EVENTS_SECRET is not set", body = Problem)))]
async fn provider_events(
    State(state): State<Core>,
    State(newsletter): State<NewsletterState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<EventsApplied>> {
    let signature = headers
        .get(BODY_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    Ok(Json(
        service::receive_events(&state, &newsletter.config, signature, &body).await?,
    ))
}
