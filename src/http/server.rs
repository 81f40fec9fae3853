//! The HTTP/1.1 server: an accept loop of our own (rather than `axum::serve`) so that a
//! connection has a bounded time to send its headers, the number of open connections is
//! capped, and shutdown drains without failing a request.
//!
//! Shutdown, in order: `draining` is cancelled (readiness answers 503 and every response
//! carries `Connection: close`, so a balancer's pooled keep-alive connections are closed
//! after their next answer instead of under a request); after `delay` the connections
//! already queued are accepted and the listener closes (new ones are refused, which a
//! balancer retries elsewhere even for a POST, since nothing was sent);
//! connections then finish what they are answering (idle ones close at once) within
//! `grace`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, header};
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use pin_project_lite::pin_project;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::Service;

/// How a listener serves and stops.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A connection must send a request's headers within this time, also between requests
    /// on a kept-alive connection (so it is the idle limit too).
    pub header_read_timeout: Duration,
    /// Connections open at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// After the shutdown signal: how long to keep serving (with `Connection: close`).
    pub delay: Duration,
    /// Then: how long requests in flight may take to finish.
    pub grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains as described above.
/// `draining` is cancelled when the drain begins (readiness reads it).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    draining: CancellationToken,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop_accepting = CancellationToken::new();
    {
        let draining = draining.clone();
        let stop = stop_accepting.clone();
        let delay = options.delay;
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!(
                delay_secs = delay.as_secs_f64(),
                "shutting down: readiness answers 503 and connections are asked to close"
            );
            draining.cancel();
            tokio::time::sleep(delay).await;
            stop.cancel();
        });
    }

    let draining = Arc::new(draining);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            biased;
            () = stop_accepting.cancelled() => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = stop_accepting.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        let service = PeerService {
            router: router.clone(),
            peer,
            draining: draining.clone(),
        };
        spawn_connection(&http, &graceful, stream, service, Some(permit));
    }
    // Connections the kernel completed but nobody accepted yet would be reset when the
    // listener closes, after their client sent a request (a balancer cannot safely retry
    // a POST that way): accept and serve what is queued, then close.
    match listener.into_std() {
        Ok(std_listener) => {
            while let Ok((stream, peer)) = std_listener.accept() {
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                    continue;
                };
                let service = PeerService {
                    router: router.clone(),
                    peer,
                    draining: draining.clone(),
                };
                spawn_connection(&http, &graceful, stream, service, None);
            }
        }
        Err(err) => tracing::warn!(%err, "could not drain the listen queue"),
    }
    tracing::info!("refusing new connections; finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.grace) => {
            tracing::warn!(
                grace_secs = options.grace.as_secs_f64(),
                "grace period over; stopping with requests still in flight"
            );
        }
    }
    Ok(())
}

/// Serves one connection in its own task, watched for the graceful shutdown; the permit
/// (its place under MAX_CONNECTIONS) is given back when it closes.
fn spawn_connection(
    http: &hyper::server::conn::http1::Builder,
    graceful: &GracefulShutdown,
    stream: tokio::net::TcpStream,
    service: PeerService,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) {
    let _ = stream.set_nodelay(true);
    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        // A client that goes away mid-request is its own business, not an error here.
        let _ = connection.await;
        drop(permit);
    });
}

/// Accepting fails when the process is out of file descriptors (or a connection died in the
/// backlog); wait a little rather than spin.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One connection's service: tells the router who the peer is, and asks the client to
/// close the connection once draining has begun.
#[derive(Clone)]
struct PeerService {
    router: Router,
    peer: SocketAddr,
    /// Shared, not cloned per request: cloning a token takes a lock.
    draining: Arc<CancellationToken>,
}

impl hyper::service::Service<Request<Incoming>> for PeerService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = PeerFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        // Router is always ready; `call` on a clone is what `oneshot` would do.
        let mut router = self.router.clone();
        PeerFuture {
            inner: router.call(request),
            draining: self.draining.clone(),
        }
    }
}

pin_project! {
    struct PeerFuture {
        #[pin]
        inner: RouteFuture<Infallible>,
        draining: Arc<CancellationToken>,
    }
}

impl Future for PeerFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(Ok(mut response)) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        if this.draining.is_cancelled() {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(response))
    }
}
