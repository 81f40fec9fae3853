use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::SchedulingState;
use super::agenda::{self, CalendarToken};
use super::booking::{self, BookingSubmission, Canceller};
use super::calendars::{self, CalendarInput, CalendarView};
use super::model::{
    AdminBooking, BookingCreated, BookingQuery, BookingRequest, BookingView, CallType,
    CallTypeInput, CancelRequest, Host, HostInput, OverrideInput, PublicCallType,
    RescheduleRequest, SlotQuery, Slots,
};
use super::setup;
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::{Json, Path, Query};
use crate::http::middleware::ClientIp;
use crate::idempotency::{IdempotencyKey, request_hash};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    SchedulingState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_call_types))
        .routes(routes!(get_call_type))
        .routes(routes!(call_type_slots))
        .routes(routes!(create_booking))
        .routes(routes!(get_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(reschedule_booking))
        .routes(routes!(booking_invite))
        .routes(routes!(host_calendar))
        .routes(routes!(admin_hosts))
        .routes(routes!(admin_get_host, admin_put_host, admin_delete_host))
        .routes(routes!(admin_add_override))
        .routes(routes!(admin_remove_override))
        .routes(routes!(admin_calendar_token))
        .routes(routes!(admin_host_calendars, admin_add_host_calendar))
        .routes(routes!(
            admin_get_host_calendar,
            admin_replace_host_calendar,
            admin_remove_host_calendar
        ))
        .routes(routes!(admin_refresh_host_calendar))
        .routes(routes!(admin_call_types, admin_create_call_type))
        .routes(routes!(
            admin_get_call_type,
            admin_replace_call_type,
            admin_delete_call_type
        ))
        .routes(routes!(admin_bookings))
        .routes(routes!(admin_cancel_booking))
}

// Public.

/// Active call types.
#[utoipa::path(get, path = "/v1/call-types", tag = "scheduling",
    responses((status = 200, body = Page<PublicCallType>), (status = 304, description = "Not modified")))]
async fn list_call_types(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    let public = setup::public_call_types(&state.db, None).await?;
    Ok(crate::http::conditional::Cacheable::json(&Page::all(public))?.respond(&headers))
}

/// One active call type.
#[utoipa::path(get, path = "/v1/call-types/{slug}", tag = "scheduling",
    params(("slug" = String, Path, example = "discovery-call")),
    responses((status = 200, body = PublicCallType), (status = 304, description = "Not modified"),
              (status = 404, body = Problem)))]
async fn get_call_type(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    let call_type = setup::public_call_type(&state.db, &slug)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("No active call type has the slug `{slug}`."))
        })?;
    Ok(crate::http::conditional::Cacheable::json(&call_type)?.respond(&headers))
}

/// Free start times, shown in the visitor's zone.
#[utoipa::path(get, path = "/v1/call-types/{slug}/slots", tag = "scheduling",
    params(("slug" = String, Path, example = "discovery-call"), SlotQuery),
    responses((status = 200, body = Slots), (status = 404, body = Problem),
              (status = 422, description = "A bad zone or range", body = Problem)))]
async fn call_type_slots(
    State(state): State<Core>,
    Path(slug): Path<String>,
    Query(query): Query<SlotQuery>,
) -> Result<Json<Slots>> {
    let (from, to, zone) = query.validate()?;
    Ok(Json(
        booking::free_slots(state.reads(), &slug, from, to, zone).await?,
    ))
}

/// Books a call. A slot someone else took first answers 409 `slot-taken`.
#[utoipa::path(post, path = "/v1/bookings", tag = "scheduling",
    request_body = BookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = BookingCreated), (status = 404, body = Problem),
              (status = 409, description = "The slot is taken (type slot-taken)", body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn create_booking(
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    ClientIp(ip): ClientIp,
    key: IdempotencyKey,
    Json(request): Json<BookingRequest>,
) -> Result<(StatusCode, Json<BookingCreated>)> {
    let valid = request.validate()?;
    let submission = BookingSubmission {
        request: valid,
        ip,
        idempotency_key: key.0.as_deref(),
        request_hash: request_hash(&request),
    };
    let created = booking::book(&state, &scheduling, submission).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A booking, by the token given when it was made.
#[utoipa::path(get, path = "/v1/bookings/{token}", tag = "scheduling",
    params(("token" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = Problem)))]
async fn get_booking(
    State(state): State<Core>,
    Path(token): Path<String>,
) -> Result<Json<BookingView>> {
    Ok(Json(agenda::by_token(&state.db, &token).await?))
}

/// Cancels the booking; host and visitor get a cancellation (METHOD:CANCEL).
#[utoipa::path(post, path = "/v1/bookings/{token}/cancel", tag = "scheduling",
    params(("token" = String, Path)), request_body = CancelRequest,
    responses((status = 200, body = BookingView), (status = 404, body = Problem),
              (status = 409, description = "Already cancelled", body = Problem),
              (status = 429, body = Problem)))]
async fn cancel_booking(
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Json(request): Json<CancelRequest>,
) -> Result<Json<BookingView>> {
    let reason = request.validate()?;
    Ok(Json(
        booking::cancel_by_token(&state, &scheduling, &token, reason.as_deref(), ip).await?,
    ))
}

/// Moves the booking to another free start (same invite UID, higher SEQUENCE).
#[utoipa::path(post, path = "/v1/bookings/{token}/reschedule", tag = "scheduling",
    params(("token" = String, Path)), request_body = RescheduleRequest,
    responses((status = 200, body = BookingView), (status = 404, body = Problem),
              (status = 409, description = "The new slot is taken, or the booking is cancelled", body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn reschedule_booking(
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Json(request): Json<RescheduleRequest>,
) -> Result<Json<BookingView>> {
    let start = request.validate()?;
    Ok(Json(
        booking::reschedule(&state, &scheduling, &token, start, ip).await?,
    ))
}

fn calendar_response(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    response
}

/// The booking's invite (.ics), as it stands.
#[utoipa::path(get, path = "/v1/bookings/{token}/invite.ics", tag = "scheduling",
    params(("token" = String, Path)),
    responses((status = 200, description = "iCalendar", content_type = "text/calendar"), (status = 404, body = Problem)))]
async fn booking_invite(State(state): State<Core>, Path(token): Path<String>) -> Result<Response> {
    Ok(calendar_response(
        agenda::invite_by_token(&state, &token).await?,
    ))
}

/// A host's calendar feed (the secret address from POST /v1/admin/hosts/{id}/calendar-token).
#[utoipa::path(get, path = "/v1/calendars/{token}", tag = "scheduling",
    params(("token" = String, Path)),
    responses((status = 200, description = "iCalendar", content_type = "text/calendar"), (status = 404, body = Problem)))]
async fn host_calendar(State(state): State<Core>, Path(token): Path<String>) -> Result<Response> {
    Ok(calendar_response(
        agenda::host_feed(&state.db, &token).await?,
    ))
}

// Admin: hosts' connected calendars.

/// A host's connected calendars (CalDAV accounts, iCalendar feeds): whether each was read,
/// and its last error. Passwords are never shown, addresses only as a hint.
#[utoipa::path(get, path = "/v1/admin/hosts/{id}/calendars", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The host's admin id")),
    responses((status = 200, body = Page<CalendarView>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_host_calendars(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Page<CalendarView>>> {
    Ok(Json(Page::all(calendars::list(&state.db, id).await?)))
}

/// Connects a calendar to a host; it is read at once, and the answer says how that went.
#[utoipa::path(post, path = "/v1/admin/hosts/{id}/calendars", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CalendarInput,
    responses((status = 201, body = CalendarView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_add_host_calendar(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    Path(id): Path<Uuid>,
    Json(input): Json<CalendarInput>,
) -> Result<(StatusCode, Json<CalendarView>)> {
    let valid = input.validate(scheduling.calendars.config().allow_private)?;
    let view = calendars::add(
        &state,
        &scheduling.calendars,
        (&principal).into(),
        id,
        valid,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One connected calendar.
#[utoipa::path(get, path = "/v1/admin/hosts/{id}/calendars/{calendar_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("calendar_id" = Uuid, Path)),
    responses((status = 200, body = CalendarView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_get_host_calendar(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path((id, calendar_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CalendarView>> {
    Ok(Json(calendars::get(&state.db, id, calendar_id).await?))
}

/// Replaces a connected calendar's settings (without `password`, the stored one is kept);
/// it is read again at once.
#[utoipa::path(put, path = "/v1/admin/hosts/{id}/calendars/{calendar_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("calendar_id" = Uuid, Path)), request_body = CalendarInput,
    responses((status = 200, body = CalendarView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_replace_host_calendar(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    Path((id, calendar_id)): Path<(Uuid, Uuid)>,
    Json(input): Json<CalendarInput>,
) -> Result<Json<CalendarView>> {
    let valid = input.validate(scheduling.calendars.config().allow_private)?;
    Ok(Json(
        calendars::replace(
            &state,
            &scheduling.calendars,
            (&principal).into(),
            id,
            calendar_id,
            valid,
        )
        .await?,
    ))
}

/// Disconnects a calendar: its busy times stop counting at once.
#[utoipa::path(delete, path = "/v1/admin/hosts/{id}/calendars/{calendar_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("calendar_id" = Uuid, Path)),
    responses((status = 204, description = "Disconnected"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_remove_host_calendar(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path((id, calendar_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode> {
    calendars::remove(&state.db, (&principal).into(), id, calendar_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads a connected calendar again now.
#[utoipa::path(post, path = "/v1/admin/hosts/{id}/calendars/{calendar_id}/refresh", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("calendar_id" = Uuid, Path)),
    responses((status = 200, body = CalendarView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_refresh_host_calendar(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    State(scheduling): State<SchedulingState>,
    Path((id, calendar_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CalendarView>> {
    Ok(Json(
        calendars::refresh(&state, &scheduling.calendars, id, calendar_id).await?,
    ))
}

// Admin: hosts.

/// Hosts with their hours and overrides.
#[utoipa::path(get, path = "/v1/admin/hosts", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<Host>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn admin_hosts(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
) -> Result<Json<Page<Host>>> {
    Ok(Json(Page::all(setup::list_hosts(&state.db).await?)))
}

/// One host.
#[utoipa::path(get, path = "/v1/admin/hosts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The admin user's id")),
    responses((status = 200, body = Host), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_get_host(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Host>> {
    Ok(Json(setup::get_host(&state.db, id).await?))
}

/// Makes an admin a host, or replaces their zone and weekly hours.
#[utoipa::path(put, path = "/v1/admin/hosts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The admin user's id")), request_body = HostInput,
    responses((status = 200, body = Host), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_put_host(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<HostInput>,
) -> Result<Json<Host>> {
    Ok(Json(
        setup::put_host(&state.db, (&principal).into(), id, input.validate()?).await?,
    ))
}

/// Stops an admin being a host (refused once they have bookings: deactivate instead).
#[utoipa::path(delete, path = "/v1/admin/hosts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn admin_delete_host(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    setup::delete_host(&state.db, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a date override: a day off, or extra hours.
#[utoipa::path(post, path = "/v1/admin/hosts/{id}/overrides", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = OverrideInput,
    responses((status = 201, body = Host), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_add_override(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<OverrideInput>,
) -> Result<(StatusCode, Json<Host>)> {
    let host = setup::add_override(&state.db, (&principal).into(), id, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(host)))
}

/// Removes a date override.
#[utoipa::path(delete, path = "/v1/admin/hosts/{id}/overrides/{override_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("override_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_remove_override(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path((id, override_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode> {
    setup::remove_override(&state.db, (&principal).into(), id, override_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret calendar-feed address for the host (the previous one stops working).
#[utoipa::path(post, path = "/v1/admin/hosts/{id}/calendar-token", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 201, body = CalendarToken), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_calendar_token(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<CalendarToken>)> {
    let token = setup::new_calendar_token(&state.db, (&principal).into(), id).await?;
    let url = format!("{}/v1/calendars/{token}", state.config.http.public_api_url);
    Ok((StatusCode::CREATED, Json(CalendarToken { url })))
}

// Admin: call types.

/// Every call type.
#[utoipa::path(get, path = "/v1/admin/call-types", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<CallType>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn admin_call_types(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
) -> Result<Json<Page<CallType>>> {
    Ok(Json(Page::all(
        setup::list_call_types(&state.db, false).await?,
    )))
}

/// Adds a call type.
#[utoipa::path(post, path = "/v1/admin/call-types", tag = "admin", security(("bearer" = [])),
    request_body = CallTypeInput,
    responses((status = 201, body = CallType), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn admin_create_call_type(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Json(input): Json<CallTypeInput>,
) -> Result<(StatusCode, Json<CallType>)> {
    let call_type =
        setup::save_call_type(&state.db, (&principal).into(), None, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(call_type)))
}

/// One call type.
#[utoipa::path(get, path = "/v1/admin/call-types/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CallType), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_get_call_type(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<CallType>> {
    Ok(Json(setup::call_type_by_id(&state.db, id).await?))
}

/// Replaces a call type.
#[utoipa::path(put, path = "/v1/admin/call-types/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CallTypeInput,
    responses((status = 200, body = CallType), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn admin_replace_call_type(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<CallTypeInput>,
) -> Result<Json<CallType>> {
    let valid = input.validate()?;
    setup::call_type_by_id(&state.db, id).await?;
    Ok(Json(
        setup::save_call_type(&state.db, (&principal).into(), Some(id), valid).await?,
    ))
}

/// Deletes a call type that has no bookings.
#[utoipa::path(delete, path = "/v1/admin/call-types/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn admin_delete_call_type(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    setup::delete_call_type(&state.db, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Admin: bookings.

/// Bookings by start time.
#[utoipa::path(get, path = "/v1/admin/bookings", tag = "admin", security(("bearer" = [])),
    params(BookingQuery, PageParams),
    responses((status = 200, body = Page<AdminBooking>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn admin_bookings(
    _auth: Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Query(query): Query<BookingQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<AdminBooking>>> {
    let filter = query.validate()?;
    Ok(Json(agenda::list(&state.db, &filter, &page).await?))
}

/// Cancels a booking as its host; the visitor is told by email.
#[utoipa::path(post, path = "/v1/admin/bookings/{id}/cancel", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CancelRequest,
    responses((status = 200, body = BookingView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn admin_cancel_booking(
    Authorized(principal, _): Authorized<perm::SchedulingManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(request): Json<CancelRequest>,
) -> Result<Json<BookingView>> {
    let reason = request.validate()?;
    Ok(Json(
        booking::cancel(
            &state,
            id,
            Canceller::Host((&principal).into()),
            reason.as_deref(),
        )
        .await?,
    ))
}
