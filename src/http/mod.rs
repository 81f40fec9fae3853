//! HTTP plumbing: the middleware every request passes through, extractors that answer in
//! our error shape, conditional requests, and the server with its graceful drain. It knows
//! no capability: the routes are composed in `crate::app`.

pub mod conditional;
mod cors;
pub mod extract;
pub mod middleware;
mod observe;
pub mod server;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, header};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::config::CoreConfig;
use crate::state::Core;
use middleware::REQUEST_ID;
use observe::ObserveLayer;

/// Wraps routes in the middleware stack: request id, client IP, tracing, problem+json errors
/// and metrics (`observe`); CORS; compression; panics; timeouts; the body limit.
/// Path prefixes whose routes answer CORS themselves: Ghost's Content API is open to every
/// origin (front-ends call it from browsers with a public key), as Ghost answers it.
pub const OPEN_CORS_PREFIXES: &[&str] = &["/ghost/api/"];

pub fn with_middleware(app: Router, config: &CoreConfig) -> Router {
    // Listed outermost first: a request passes through them top to bottom.
    let layers = ServiceBuilder::new()
        .layer(ObserveLayer::new(&config.http.trusted_proxies))
        .layer(cors::Cors::new(
            cors(&config.http.cors_allowed_origins),
            OPEN_CORS_PREFIXES,
        ))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.http.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes));
    app.layer(layers)
}

fn cors(origins: &[axum::http::HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(REQUEST_ID),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static(REQUEST_ID),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// A body of byte buffers sent one after another, its length known up front (so it goes
/// out with Content-Length, not chunked) and none of them copied.
pub struct JoinedBody<const N: usize> {
    parts: [axum::body::Bytes; N],
    next: usize,
}

impl<const N: usize> JoinedBody<N> {
    pub fn new(parts: [axum::body::Bytes; N]) -> Self {
        Self { parts, next: 0 }
    }
}

impl<const N: usize> http_body::Body for JoinedBody<N> {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        while let Some(part) = this.parts.get_mut(this.next) {
            let part = std::mem::take(part);
            this.next += 1;
            if !part.is_empty() {
                return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(part))));
            }
        }
        std::task::Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.parts
            .iter()
            .skip(self.next)
            .all(axum::body::Bytes::is_empty)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let left: usize = self
            .parts
            .iter()
            .skip(self.next)
            .map(axum::body::Bytes::len)
            .sum();
        http_body::SizeHint::with_exact(u64::try_from(left).unwrap_or(u64::MAX))
    }
}

/// A CSV download: the body with its content type and a file name.
pub fn csv_response(body: Vec<u8>, filename: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Serves until `shutdown` completes, then drains (see [`server`]): readiness answers 503
/// and responses ask for the connection to be closed; after SHUTDOWN_DELAY_SECS new
/// connections are refused and in-flight requests get SHUTDOWN_GRACE_SECS to finish.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    state: Core,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let http = &state.config.http;
    let options = server::ServeOptions {
        header_read_timeout: http.header_read_timeout,
        max_connections: http.max_connections,
        delay: http.shutdown_delay,
        grace: http.shutdown_grace,
    };
    server::serve(listener, router, options, state.shutdown.clone(), shutdown).await
}

/// Serves /metrics on its own listener (METRICS_ADDR), so that it is never exposed with the
/// API by accident; it stops when the state shuts down.
pub async fn serve_metrics(
    listener: TcpListener,
    router: Router,
    state: Core,
) -> std::io::Result<()> {
    let options = server::ServeOptions {
        header_read_timeout: state.config.http.header_read_timeout,
        max_connections: 64,
        delay: std::time::Duration::ZERO,
        grace: std::time::Duration::from_secs(1),
    };
    let stop = state.shutdown.clone();
    server::serve(
        listener,
        router,
        options,
        CancellationToken::new(),
        async move { stop.cancelled().await },
    )
    .await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
