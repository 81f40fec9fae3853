//! What the request middleware needs: the client's IP, rendering error responses as
//! problem+json, and the answer to a panic. The layer itself is in `observe.rs`.

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use crate::error::{PROBLEM_CONTENT_TYPE, Problem};

pub const REQUEST_ID: &str = "x-request-id";

/// The IP of the visitor, as far as we can trust it (see [`client_ip`]); an extractor.
/// `None` only for a request that did not come through the server (a test's own router).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(None)))
    }
}

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

/// Renders error responses as RFC 9457 problem+json with the request id: those our handlers
/// made (a [`Problem`] in the extensions) and bare ones from the router or from layers
/// (404 no route, 405, timeouts, panics). A handler's own JSON or HTML error (a page for
/// people, such as the newsletter's) is left as it is. Error bodies are small and left
/// uncompressed.
pub(super) fn render_problem(request_id: Option<HeaderValue>, response: Response) -> Response {
    let problem = match response.extensions().get::<Problem>() {
        Some(problem) => problem.clone(),
        None if response.status().as_u16() >= 400 && !is_json_or_html(response.headers()) => {
            Problem::for_status(response.status())
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<Problem>();
    let body = Problem {
        request_id: request_id.and_then(|id| id.to_str().ok().map(ToOwned::to_owned)),
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

fn is_json_or_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json") || ct.starts_with("text/html"))
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
