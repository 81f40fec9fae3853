use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::LeadsState;
use super::model::{
    ConsultationRequest, Lead, LeadQuery, LeadReceipt, LeadUpdate, LeadWithEvents, NewLead,
    PlanRequest,
};
use super::service::{self, Submission};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Path, Query};
use crate::http::middleware::ClientIp;
use crate::idempotency::{IdempotencyKey, request_hash};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    LeadsState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(book_consultation))
        .routes(routes!(request_plan))
        .routes(routes!(list_leads))
        .routes(routes!(export_leads))
        .routes(routes!(get_lead, update_lead))
}

async fn capture(
    state: &Core,
    leads: &LeadsState,
    ip: Option<std::net::IpAddr>,
    key: IdempotencyKey,
    hash: Vec<u8>,
    lead: NewLead,
) -> Result<(StatusCode, Json<LeadReceipt>)> {
    let submission = Submission {
        ip,
        idempotency_key: key.0.as_deref(),
        request_hash: hash,
    };
    let receipt = service::capture(state, &leads.config, lead, submission).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// "Book a consultation". Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/consultations", tag = "leads",
    request_body = ConsultationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body get the first answer")),
    responses(
        (status = 201, description = "Received", body = LeadReceipt),
        (status = 422, description = "Invalid fields, each listed; or the key was used for another request", body = Problem),
        (status = 429, description = "Too many submissions from this address; see Retry-After", body = Problem)))]
async fn book_consultation(
    State(state): State<Core>,
    State(leads): State<LeadsState>,
    ClientIp(ip): ClientIp,
    key: IdempotencyKey,
    Json(request): Json<ConsultationRequest>,
) -> Result<(StatusCode, Json<LeadReceipt>)> {
    let lead = request.validate()?;
    capture(&state, &leads, ip, key, request_hash(&request), lead).await
}

/// "Get a custom development plan". Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/plan-requests", tag = "leads",
    request_body = PlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body get the first answer")),
    responses(
        (status = 201, description = "Received", body = LeadReceipt),
        (status = 422, description = "Invalid fields, each listed; or the key was used for another request", body = Problem),
        (status = 429, description = "Too many submissions from this address; see Retry-After", body = Problem)))]
async fn request_plan(
    State(state): State<Core>,
    State(leads): State<LeadsState>,
    ClientIp(ip): ClientIp,
    key: IdempotencyKey,
    Json(request): Json<PlanRequest>,
) -> Result<(StatusCode, Json<LeadReceipt>)> {
    let lead = request.validate()?;
    capture(&state, &leads, ip, key, request_hash(&request), lead).await
}

/// The lead inbox, newest first.
#[utoipa::path(get, path = "/v1/admin/leads", tag = "admin", security(("bearer" = [])),
    params(LeadQuery, PageParams),
    responses((status = 200, body = Page<Lead>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn list_leads(
    _auth: Authorized<perm::LeadsRead>,
    State(state): State<Core>,
    Query(query): Query<LeadQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Lead>>> {
    Ok(Json(
        service::list(&state.db, &query.validate()?, &page).await?,
    ))
}

/// The filtered leads as CSV (same filters as the inbox).
#[utoipa::path(get, path = "/v1/admin/leads.csv", tag = "admin", security(("bearer" = [])),
    params(LeadQuery),
    responses((status = 200, description = "CSV, one lead per row", content_type = "text/csv"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn export_leads(
    _auth: Authorized<perm::LeadsRead>,
    State(state): State<Core>,
    Query(query): Query<LeadQuery>,
) -> Result<Response> {
    let csv = service::csv(&state.db, &query.validate()?).await?;
    Ok(crate::http::csv_response(csv, "leads.csv"))
}

/// One lead with its events.
#[utoipa::path(get, path = "/v1/admin/leads/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = LeadWithEvents), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_lead(
    _auth: Authorized<perm::LeadsRead>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<LeadWithEvents>> {
    Ok(Json(service::get(&state.db, id).await?))
}

/// Moves a lead along the pipeline, assigns it, or adds a note.
#[utoipa::path(patch, path = "/v1/admin/leads/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LeadUpdate,
    responses((status = 200, body = LeadWithEvents), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, description = "Not a possible status change", body = Problem),
              (status = 422, body = Problem)))]
async fn update_lead(
    Authorized(principal, _): Authorized<perm::LeadsWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(update): Json<LeadUpdate>,
) -> Result<Json<LeadWithEvents>> {
    let change = update.validate()?;
    let lead = service::update(&state, (&principal).into(), id, change).await?;
    Ok(Json(lead))
}
