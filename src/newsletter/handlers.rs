use axum::Form;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::NewsletterState;
use super::model::{
    PreferencesInput, SubscribeRequest, SubscriberQuery, TokenQuery, UnsubscribeQuery,
};
use super::pages;
use super::service::{self, Counts, Preferences, Subscriber};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Query};
use crate::http::middleware::ClientIp;
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    NewsletterState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(subscribe))
        .routes(routes!(confirm_get, confirm_post))
        .routes(routes!(unsubscribe_page, unsubscribe))
        .routes(routes!(preferences, set_preferences))
        .routes(routes!(unsubscribe_html, unsubscribe_html_confirm))
        .routes(routes!(preferences_html, preferences_html_save))
        .routes(routes!(list_subscribers))
        .routes(routes!(export_subscribers))
        .routes(routes!(subscriber_counts))
}

/// The same answer whatever the address's state: it tells nobody who is subscribed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    status: &'static str,
    message: &'static str,
}

const ACCEPTED: Accepted = Accepted {
    status: "accepted",
    message: "If this address can receive mail, a confirmation link is on its way; the subscription starts when it is opened.",
};

/// Subscribes an address to the newsletter (double opt-in: a confirmation email is sent).
#[utoipa::path(post, path = "/v1/newsletter/subscriptions", tag = "newsletter",
    request_body = SubscribeRequest,
    responses((status = 202, body = Accepted), (status = 422, body = Problem),
              (status = 429, description = "Too many attempts from this address", body = Problem)))]
async fn subscribe(
    State(state): State<Core>,
    State(newsletter): State<NewsletterState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<SubscribeRequest>,
) -> Result<(StatusCode, Json<Accepted>)> {
    let (email, version, topics) = request.validate()?;
    service::subscribe(&state, &newsletter, ip, &email, &version, &topics).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `confirmed`, `unsubscribed`, `subscribed` or `not_subscribed`.
    status: &'static str,
}

async fn confirm(state: &Core, query: TokenQuery) -> Result<Json<Status>> {
    service::confirm(state, &query.validate()?).await?;
    Ok(Json(Status {
        status: "confirmed",
    }))
}

/// Confirms a subscription: the link in the confirmation email.
#[utoipa::path(get, path = "/v1/newsletter/confirm", tag = "newsletter", params(TokenQuery),
    responses((status = 200, body = Status), (status = 404, description = "Unknown or expired link", body = Problem)))]
async fn confirm_get(
    State(state): State<Core>,
    Query(query): Query<TokenQuery>,
) -> Result<Json<Status>> {
    confirm(&state, query).await
}

/// Confirms a subscription (for a frontend page that posts the token).
#[utoipa::path(post, path = "/v1/newsletter/confirm", tag = "newsletter", params(TokenQuery),
    responses((status = 200, body = Status), (status = 404, description = "Unknown or expired link", body = Problem)))]
async fn confirm_post(
    State(state): State<Core>,
    Query(query): Query<TokenQuery>,
) -> Result<Json<Status>> {
    confirm(&state, query).await
}

/// Whether the link's address is subscribed. Opening the link changes nothing (mail
/// scanners open links); unsubscribing is a POST to the same URL.
#[utoipa::path(get, path = "/v1/newsletter/unsubscribe", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, body = Status), (status = 404, description = "Not a valid link", body = Problem)))]
async fn unsubscribe_page(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Json<Status>> {
    let (email, sig) = query.parts()?;
    let subscribed = service::is_subscribed(&state.db, &state.signer, &email, sig).await?;
    Ok(Json(Status {
        status: if subscribed {
            "subscribed"
        } else {
            "not_subscribed"
        },
    }))
}

/// Unsubscribes the link's address. Also the RFC 8058 one-click target: mail clients POST
/// `List-Unsubscribe=One-Click` here; any body is accepted.
#[utoipa::path(post, path = "/v1/newsletter/unsubscribe", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, body = Status), (status = 404, description = "Not a valid link", body = Problem)))]
async fn unsubscribe(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Json<Status>> {
    let (email, sig) = query.parts()?;
    service::unsubscribe(&state.db, &state.signer, &email, sig).await?;
    Ok(Json(Status {
        status: "unsubscribed",
    }))
}

/// A reader's preferences: the link in every issue's footer.
#[utoipa::path(get, path = "/v1/newsletter/preferences", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, body = Preferences), (status = 404, description = "Not a valid link, or not on the list", body = Problem)))]
async fn preferences(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Json<Preferences>> {
    let (email, sig) = query.parts()?;
    Ok(Json(
        service::preferences(&state.db, &state.signer, &email, sig).await?,
    ))
}

/// Changes a reader's topics (from their preferences link).
#[utoipa::path(put, path = "/v1/newsletter/preferences", tag = "newsletter", params(UnsubscribeQuery),
    request_body = PreferencesInput,
    responses((status = 200, body = Preferences), (status = 404, description = "Not a valid link, or not on the list", body = Problem),
              (status = 422, body = Problem)))]
async fn set_preferences(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
    Json(input): Json<PreferencesInput>,
) -> Result<Json<Preferences>> {
    let (email, sig) = query.parts()?;
    let topics = input.validate()?;
    Ok(Json(
        service::set_topics(&state, &email, sig, &topics).await?,
    ))
}

/// The reader's unsubscribe page (HTML, linked from every issue): a button, since opening a
/// link must change nothing.
#[utoipa::path(get, path = "/newsletter/unsubscribe", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 404, description = "Not a valid link", content_type = "text/html")))]
async fn unsubscribe_html(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Response {
    let page = match query.parts() {
        Ok((email, sig)) => service::unsubscribe_page(&state, &email, sig, false).await,
        Err(err) => Err(err),
    };
    pages::unsubscribe(page)
}

/// The unsubscribe page's button: unsubscribes the link's address.
#[utoipa::path(post, path = "/newsletter/unsubscribe", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 404, description = "Not a valid link", content_type = "text/html")))]
async fn unsubscribe_html_confirm(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Response {
    let page = match query.parts() {
        Ok((email, sig)) => service::unsubscribe_page(&state, &email, sig, true).await,
        Err(err) => Err(err),
    };
    pages::unsubscribe(page)
}

/// The reader's preferences page (HTML, linked from every issue): topics as checkboxes.
#[utoipa::path(get, path = "/newsletter/preferences", tag = "newsletter", params(UnsubscribeQuery),
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 404, description = "Not a valid link, or not on the list", content_type = "text/html")))]
async fn preferences_html(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
) -> Response {
    let page = match query.parts() {
        Ok((email, sig)) => service::preferences_page(&state, &email, sig, None).await,
        Err(err) => Err(err),
    };
    pages::preferences(page)
}

/// The preferences page's form (`topics=a&topics=b`, form-encoded): saves the topics.
#[utoipa::path(post, path = "/newsletter/preferences", tag = "newsletter", params(UnsubscribeQuery),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`topics`, repeated"),
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 404, description = "Not a valid link, or not on the list", content_type = "text/html"),
              (status = 422, description = "A topic that is not a tag", content_type = "text/html")))]
async fn preferences_html_save(
    State(state): State<Core>,
    Query(query): Query<UnsubscribeQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let page = match (
        query.parts(),
        PreferencesInput::from_form(fields).validate(),
    ) {
        (Ok((email, sig)), Ok(topics)) => {
            service::preferences_page(&state, &email, sig, Some(&topics)).await
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    };
    pages::preferences(page)
}

/// Newsletter subscribers, newest first.
#[utoipa::path(get, path = "/v1/admin/newsletter/subscribers", tag = "admin", security(("bearer" = [])),
    params(SubscriberQuery, PageParams),
    responses((status = 200, body = Page<Subscriber>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn list_subscribers(
    _auth: Authorized<perm::NewsletterRead>,
    State(state): State<Core>,
    Query(query): Query<SubscriberQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Subscriber>>> {
    Ok(Json(
        service::list(&state.db, query.validate()?.as_deref(), &page).await?,
    ))
}

/// Subscribers as CSV (email, status, dates).
#[utoipa::path(get, path = "/v1/admin/newsletter/subscribers.csv", tag = "admin", security(("bearer" = [])),
    params(SubscriberQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export_subscribers(
    _auth: Authorized<perm::NewsletterRead>,
    State(state): State<Core>,
    Query(query): Query<SubscriberQuery>,
) -> Result<Response> {
    let csv = service::csv(&state.db, query.validate()?.as_deref()).await?;
    Ok(crate::http::csv_response(csv, "subscribers.csv"))
}

/// How many addresses are in each state.
#[utoipa::path(get, path = "/v1/admin/newsletter/stats", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Counts), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn subscriber_counts(
    _auth: Authorized<perm::NewsletterRead>,
    State(state): State<Core>,
) -> Result<Json<Counts>> {
    Ok(Json(service::counts(&state.db).await?))
}
