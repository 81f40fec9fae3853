//! Logging (human-readable or JSON) and the Prometheus metrics recorder.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, OnceLock, RwLock};

use axum::http::Method;
use metrics::{Counter, Histogram};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second initialisation (tests) is harmless, so its error is ignored.
    let _ = match format {
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
}

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION.to_owned()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0, 10.0,
                    ],
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours just stays unused.
            let _ = metrics::set_global_recorder(recorder);
            // Histogram samples wait in a buffer until drained; without this, memory would
            // grow with every request between scrapes.
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            handle
        })
        .clone()
}

/// Counts a request and records its latency. The metric handles are looked up once per
/// (method, route, status) and reused, so the hot path allocates nothing.
pub fn record_request(method: &Method, route: Option<&str>, status: u16, seconds: f64) {
    let key = (
        method_label(method),
        route.map_or("unmatched", intern_route),
        status,
    );
    let known = REQUEST_METRICS
        .read()
        .ok()
        .and_then(|handles| handles.get(&key).cloned());
    let (counter, histogram) = known.unwrap_or_else(|| register(key));
    counter.increment(1);
    histogram.record(seconds);
}

type RequestKey = (&'static str, &'static str, u16);

static REQUEST_METRICS: LazyLock<RwLock<HashMap<RequestKey, (Counter, Histogram)>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

fn register(key: RequestKey) -> (Counter, Histogram) {
    let (method, route, status) = key;
    let handles = (
        metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status.to_string()),
        metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route),
    );
    if let Ok(mut map) = REQUEST_METRICS.write() {
        map.insert(key, handles.clone());
    }
    handles
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Route templates are few (the router's own), so each is kept once for the process.
fn intern_route(route: &str) -> &'static str {
    static ROUTES: LazyLock<RwLock<HashSet<&'static str>>> =
        LazyLock::new(|| RwLock::new(HashSet::new()));
    if let Some(known) = ROUTES.read().ok().and_then(|set| set.get(route).copied()) {
        return known;
    }
    let Ok(mut set) = ROUTES.write() else {
        return "unknown";
    };
    if let Some(known) = set.get(route).copied() {
        return known;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}
