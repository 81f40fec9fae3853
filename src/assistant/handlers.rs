use std::convert::Infallible;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{
    ConversationQuery, ConversationSummary, History, MessageRequest, Reply, StartRequest, Started,
    Streamed,
};
use super::service::{self, Streaming};
use super::{App, AssistantState};
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::extract::{Json, Path, Query};
use crate::http::middleware::ClientIp;
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    AssistantState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(send_message))
        .routes(routes!(history))
        .routes(routes!(admin_list))
        .routes(routes!(admin_get))
}

/// Starts a conversation; the answer holds its id and the greeting.
#[utoipa::path(post, path = "/v1/assistant/conversations", tag = "assistant",
    request_body = StartRequest,
    responses((status = 201, body = Started), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn start(
    State(core): State<Core>,
    State(assistant): State<AssistantState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<StartRequest>,
) -> Result<(StatusCode, Json<Started>)> {
    let state = App { core, assistant };
    let time_zone = request.validate()?;
    let started = service::start(&state, ip, time_zone).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

/// Sends a message; the reply comes as JSON, or — with `Accept: text/event-stream` — as
/// Server-Sent Events: `token` events (`{"text": …}`) as the text is made, a `restart` event
/// if the text so far should be discarded (the model failed and the built-in engine answers),
/// then one `reply` event with the whole structured reply (authoritative: render it in place
/// of the tokens), or an `error` event (`{"status": …, "detail": …}`, and `retry_after` in
/// seconds for a 429).
#[utoipa::path(post, path = "/v1/assistant/conversations/{id}/messages", tag = "assistant",
    params(("id" = Uuid, Path)), request_body = MessageRequest,
    responses((status = 200, description = "The reply (JSON, or text/event-stream when asked for)", body = Reply),
              (status = 404, description = "No such conversation, or expired", body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn send_message(
    State(core): State<Core>,
    State(assistant): State<AssistantState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Json(request): Json<MessageRequest>,
) -> Result<Response> {
    let state = App { core, assistant };
    let (text, time_zone) = request.validate(state.assistant.config.max_message_chars)?;
    if !wants_stream(&headers) {
        let reply = service::answer(&state, ip, id, text, time_zone).await?;
        return Ok(Json(reply).into_response());
    }
    let streaming = service::stream(&state, ip, id, text, time_zone).await?;
    let events = futures_util::stream::unfold(Phase::Tokens(streaming), next_event);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Where a streamed reply is: passing on tokens, then the final event, then done.
enum Phase {
    Tokens(Streaming),
    Finished,
}

// Every event's data is JSON: text may hold carriage returns, which SSE data cannot.
async fn next_event(phase: Phase) -> Option<(std::result::Result<Event, Infallible>, Phase)> {
    let Phase::Tokens(mut streaming) = phase else {
        return None;
    };
    // The sender is dropped when the answer is finished, which ends the tokens.
    if let Some(streamed) = streaming.tokens.recv().await {
        let event = match streamed {
            Streamed::Token(text) => json_event("token", &serde_json::json!({ "text": text })),
            Streamed::Restart => json_event("restart", &serde_json::json!({})),
        };
        return Some((Ok(event), Phase::Tokens(streaming)));
    }
    let last = match streaming.done.await {
        Ok(Ok(reply)) => json_event("reply", &reply),
        Ok(Err(err)) => json_event("error", &error_body(&err)),
        Err(_) => json_event("error", &serde_json::json!({ "detail": SORRY })),
    };
    Some((Ok(last), Phase::Finished))
}

const SORRY: &str = "Something went wrong on our side; please try again.";

fn json_event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("error").data(SORRY))
}

/// A failure after the stream began, as the `error` event's data: the status it would have
/// had and a sentence for the visitor.
fn error_body(err: &AppError) -> serde_json::Value {
    let status = err.status().as_u16();
    let detail = err.for_visitor().unwrap_or_else(|| SORRY.to_owned());
    match err {
        // What the Retry-After header would have said, had the answer not begun.
        AppError::TooManyRequests { retry_after } => serde_json::json!({
            "status": status, "detail": detail, "retry_after": retry_after.as_secs().max(1)
        }),
        _ => serde_json::json!({ "status": status, "detail": detail }),
    }
}

/// The conversation so far.
#[utoipa::path(get, path = "/v1/assistant/conversations/{id}", tag = "assistant",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = History), (status = 404, body = Problem),
              (status = 429, description = "Too many reads from this address", body = Problem)))]
async fn history(
    State(core): State<Core>,
    State(assistant): State<AssistantState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<Uuid>,
) -> Result<Json<History>> {
    let state = App { core, assistant };
    Ok(Json(service::public_history(&state, ip, id).await?))
}

/// Assistant conversations, newest first, with what they led to.
#[utoipa::path(get, path = "/v1/admin/assistant/conversations", tag = "admin", security(("bearer" = [])),
    params(ConversationQuery, PageParams),
    responses((status = 200, body = Page<ConversationSummary>), (status = 401, body = Problem),
              (status = 403, body = Problem)))]
async fn admin_list(
    _auth: Authorized<perm::LeadsRead>,
    State(core): State<Core>,
    State(assistant): State<AssistantState>,
    Query(query): Query<ConversationQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<ConversationSummary>>> {
    let state = App { core, assistant };
    Ok(Json(
        service::list(&state.db, query.led_to_lead_or_booking, &page).await?,
    ))
}

/// One conversation, whole (also after it expired).
#[utoipa::path(get, path = "/v1/admin/assistant/conversations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = History), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_get(
    _auth: Authorized<perm::LeadsRead>,
    State(core): State<Core>,
    State(assistant): State<AssistantState>,
    Path(id): Path<Uuid>,
) -> Result<Json<History>> {
    let state = App { core, assistant };
    Ok(Json(service::history(&state.db, id, true).await?))
}
