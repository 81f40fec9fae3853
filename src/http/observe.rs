//! The outermost layer, wrapped around every request: its request id (kept from the client
//! or a new UUIDv7, echoed back), the client's IP, one tracing span closed with the status
//! and latency, problem+json for every error response, and the request metrics.
//!
//! A hand-written tower service rather than `axum::middleware::from_fn`: it polls the inner
//! service's future in place, where `from_fn` clones the whole inner stack and boxes a
//! future on every request, a cost visible on the hottest reads.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use ipnet::IpNet;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::Span;

use super::middleware::{ClientIp, REQUEST_ID, client_ip, render_problem};
use crate::telemetry;

#[derive(Clone)]
pub struct ObserveLayer {
    trusted_proxies: Arc<[IpNet]>,
}

impl ObserveLayer {
    pub fn new(trusted_proxies: &[IpNet]) -> Self {
        Self {
            trusted_proxies: trusted_proxies.into(),
        }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    trusted_proxies: Arc<[IpNet]>,
}

/// A client's id is kept if it is short and printable; otherwise we make one.
fn usable_request_id(value: &HeaderValue) -> bool {
    (1..=128).contains(&value.len()) && value.as_bytes().iter().all(|b| b.is_ascii_graphic())
}

fn new_request_id() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

impl<S, B> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response<B>>,
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = match req.headers().get(REQUEST_ID) {
            Some(id) if usable_request_id(id) => id.clone(),
            _ => {
                let id = new_request_id();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        // Only a trusted proxy's headers are read at all; every X-Forwarded-For line counts
        // (a proxy may append its own line instead of extending the client's).
        let ip = if self.trusted_proxies.is_empty() {
            peer
        } else {
            let mut lines = req.headers().get_all("x-forwarded-for").iter();
            match (lines.next(), lines.next()) {
                (None, _) => peer,
                (Some(one), None) => client_ip(peer, one.to_str().ok(), &self.trusted_proxies),
                (Some(_), Some(_)) => {
                    let joined = req
                        .headers()
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect::<Vec<_>>()
                        .join(",");
                    client_ip(peer, Some(&joined), &self.trusted_proxies)
                }
            }
        };
        req.extensions_mut().insert(ClientIp(Some(ip)));

        let method = req.method().clone();
        let route = req.extensions().get::<MatchedPath>().cloned();
        let span = tracing::info_span!(
            "request",
            method = %method,
            route = route.as_ref().map_or("unmatched", MatchedPath::as_str),
            request_id = request_id.to_str().unwrap_or_default(),
            client_ip = %ip,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ObserveFuture {
            inner,
            span,
            started,
            method,
            route,
            request_id,
        }
    }
}

pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        started: Instant,
        method: Method,
        route: Option<MatchedPath>,
        request_id: HeaderValue,
    }
}

impl<F, B, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.span.enter();
            match this.inner.poll(cx) {
                Poll::Ready(result) => result,
                Poll::Pending => return Poll::Pending,
            }
        };
        let response = match result {
            Ok(response) => response.map(Body::new),
            Err(err) => return Poll::Ready(Err(err)),
        };
        let mut response = render_problem(Some(this.request_id.clone()), response);
        let headers = response.headers_mut();
        headers.insert(REQUEST_ID, this.request_id.clone());
        // Only what a handler marked cacheable may be kept: admin answers, bookings and
        // conversations carry personal data, and no intermediary should store them.
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }

        let status = response.status();
        let elapsed = this.started.elapsed();
        if !this.span.is_disabled() {
            this.span.record("status", status.as_u16());
            this.span
                .record("latency_ms", elapsed.as_secs_f64() * 1000.0);
            this.span.in_scope(|| {
                if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                    // Draining, timeouts, an unreachable database: a state, logged once
                    // by what caused it.
                    tracing::warn!("request completed");
                } else if status.is_server_error() {
                    tracing::error!("request completed");
                } else {
                    tracing::info!("request completed");
                }
            });
        }
        telemetry::record_request(
            this.method,
            this.route.as_ref().map(MatchedPath::as_str),
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
        Poll::Ready(Ok(response))
    }
}
