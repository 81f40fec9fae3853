//! CORS through tower-http's `CorsLayer`, for every request that needs it: a preflight, or
//! any request that carries an Origin. A request without one (a server-side render, curl,
//! a same-origin page) only gets the headers `CorsLayer` gives every response (with these
//! settings, Vary and Access-Control-Expose-Headers), which this layer learns from
//! `CorsLayer` itself once, at start-up, and then adds as they are, without building the
//! layer's per-request state. Should that lesson fail, every request goes through
//! `CorsLayer`.
//!
//! The settings are shared behind an `Arc`: the router clones its middleware for every
//! request, and `CorsLayer` holds lists that would be copied each time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use futures_util::FutureExt as _;
use pin_project_lite::pin_project;
use tower::{Layer, Service, ServiceExt as _};
use tower_http::cors::{self, CorsLayer};

#[derive(Clone)]
pub struct Cors {
    shared: Arc<Shared>,
}

struct Shared {
    layer: CorsLayer,
    /// Paths (by prefix) whose routes answer CORS themselves (an API open to every origin).
    open: &'static [&'static str],
    /// What `layer` puts on a response to a GET without an Origin; `None`: unknown.
    plain: Option<HeaderMap>,
}

impl Cors {
    /// `open`: path prefixes left to their routes (they answer preflights and set
    /// Access-Control-Allow-Origin themselves).
    pub fn new(layer: CorsLayer, open: &'static [&'static str]) -> Self {
        // Ask the layer what it adds to a plain request's response: exactly those headers,
        // whatever its settings are.
        let probe = layer
            .clone()
            .layer(tower::service_fn(|_: Request| async {
                Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
            }))
            .oneshot(Request::new(Body::empty()))
            .now_or_never()
            .and_then(Result::ok);
        if probe.is_none() {
            tracing::warn!(
                "could not learn the CORS layer's headers; every request goes through it"
            );
        }
        Self {
            shared: Arc::new(Shared {
                plain: probe.map(|response| response.headers().clone()),
                layer,
                open,
            }),
        }
    }
}

impl<S> Layer<S> for Cors {
    type Service = CorsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CorsService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CorsService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, B> Service<Request> for CorsService<S>
where
    S: Service<Request, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Default,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = CorsFuture<S::Future, cors::ResponseFuture<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let path = request.uri().path();
        if self
            .shared
            .open
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            return CorsFuture::Open {
                inner: self.inner.call(request),
            };
        }
        if self.shared.plain.is_some()
            && request.method() != Method::OPTIONS
            && !request.headers().contains_key(header::ORIGIN)
        {
            return CorsFuture::Plain {
                inner: self.inner.call(request),
                shared: self.shared.clone(),
            };
        }
        // The service that was polled ready serves this request; a clone takes its place.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        CorsFuture::Cors {
            inner: self.shared.layer.layer(ready).call(request),
        }
    }
}

pin_project! {
    #[project = CorsProj]
    pub enum CorsFuture<F, C> {
        Plain { #[pin] inner: F, shared: Arc<Shared> },
        Open { #[pin] inner: F },
        Cors { #[pin] inner: C },
    }
}

impl<F, C, B, E> Future for CorsFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    C: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CorsProj::Cors { inner } => inner.poll(cx),
            CorsProj::Open { inner } => inner.poll(cx),
            CorsProj::Plain { inner, shared } => {
                let mut response = std::task::ready!(inner.poll(cx))?;
                let headers = response.headers_mut();
                // As CorsLayer does: Vary is appended, the others replace.
                for (name, value) in shared.plain.iter().flatten() {
                    if name == header::VARY {
                        headers.append(name, value.clone());
                    } else {
                        headers.insert(name, value.clone());
                    }
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::HeaderValue;

    fn layer() -> CorsLayer {
        CorsLayer::new()
            .allow_origin(cors::AllowOrigin::list([HeaderValue::from_static(
                "https://site.example",
            )]))
            .allow_methods([Method::GET, Method::POST])
            .expose_headers([header::ETAG])
    }

    async fn respond(request: Request, ours: bool) -> Response {
        let inner = tower::service_fn(|_: Request| async {
            let mut response = Response::new(Body::empty());
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
            Ok::<_, std::convert::Infallible>(response)
        });
        let result = if ours {
            Cors::new(layer(), &[]).layer(inner).oneshot(request).await
        } else {
            layer().layer(inner).oneshot(request).await
        };
        match result {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn request(method: Method, origin: Option<&'static str>) -> Request {
        let mut builder = Request::builder().method(method).uri("/x");
        if let Some(origin) = origin {
            builder = builder
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
        }
        builder.body(Body::empty()).expect("request")
    }

    /// Whatever path a request takes here, its response has the headers tower-http's layer
    /// alone would have given it.
    #[tokio::test]
    async fn every_response_carries_what_the_cors_layer_alone_would_give() {
        let cases = [
            (Method::GET, None),
            (Method::POST, None),
            (Method::OPTIONS, None),
            (Method::GET, Some("https://site.example")),
            (Method::GET, Some("https://elsewhere.example")),
            (Method::OPTIONS, Some("https://site.example")),
        ];
        for (method, origin) in cases {
            let ours = respond(request(method.clone(), origin), true).await;
            let theirs = respond(request(method.clone(), origin), false).await;
            assert_eq!(ours.status(), theirs.status(), "{method} {origin:?}");
            assert_eq!(ours.headers(), theirs.headers(), "{method} {origin:?}");
        }
        let plain = respond(request(Method::GET, None), true).await;
        let vary: Vec<_> = plain.headers().get_all(header::VARY).iter().collect();
        assert_eq!(vary.len(), 2, "the inner Vary is kept: {vary:?}");
    }
}
