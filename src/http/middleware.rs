//! Request middleware: request ids, the client's IP, one span and metrics per request, and
//! rendering every error response as problem+json.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use crate::error::{PROBLEM_CONTENT_TYPE, Problem};
use crate::state::AppState;
use crate::telemetry;

pub const REQUEST_ID: &str = "x-request-id";

/// Request ids are UUIDv7: unique, and sortable by time in logs.
#[derive(Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok())
}

/// The IP of the visitor, as far as we can trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Walks X-Forwarded-For from the right, skipping trusted proxies: the first address that is
/// not one of ours was written by a proxy we trust, about the peer it saw. Anything further
/// left could have been sent by the client itself.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut last_trusted = peer;
    for hop in header.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            return last_trusted;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        last_trusted = ip;
    }
    last_trusted
}

/// Resolves the client IP; opens one span per request (method, route, request id, client
/// IP) closed with the status and latency; and counts the request in the metrics.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = client_ip(peer, forwarded, &state.config.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));

    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = route.as_ref().map_or("unmatched", |r| r.as_str()),
        request_id = request_id(req.headers()).unwrap_or_default(),
        client_ip = %ip,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let response = next.run(req).instrument(span.clone()).await;

    let status = response.status();
    let elapsed = started.elapsed();
    if !span.is_disabled() {
        span.record("status", status.as_u16());
        span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::error!("request completed");
            } else {
                tracing::info!("request completed");
            }
        });
    }
    telemetry::record_request(
        &method,
        route.as_ref().map(MatchedPath::as_str),
        status.as_u16(),
        elapsed.as_secs_f64(),
    );
    response
}

/// Renders error responses as RFC 9457 problem+json with the request id: those our handlers
/// made (a [`Problem`] in the extensions) and bare ones from the router or from layers
/// (404 no route, 405, timeouts, panics).
pub async fn problem_details(req: Request, next: Next) -> Response {
    let request_id = request_id(req.headers()).map(ToOwned::to_owned);
    let response = next.run(req).await;

    let problem = match response.extensions().get::<Problem>() {
        Some(problem) => problem.clone(),
        None if response.status().as_u16() >= 400 && !is_json(response.headers()) => {
            Problem::for_status(response.status())
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<Problem>();
    let body = Problem {
        request_id,
        ..problem
    }
    .to_body();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"))
}

/// What a panicking handler answers; the payload is logged, never sent.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    Problem::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().expect("cidr")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn untrusted_peers_cannot_claim_another_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxies_forward_the_client_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), Some("198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn spoofed_entries_left_of_the_real_client_are_ignored() {
        let trusted = nets(&["10.0.0.0/8"]);
        let header = "6.6.6.6, 198.51.100.7, 10.0.0.3";
        assert_eq!(
            client_ip(ip("10.0.0.2"), Some(header), &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), Some("nonsense"), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(client_ip(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
    }
}
