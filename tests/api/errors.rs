//! The middleware and the error shape: problem+json everywhere, request ids, limits,
//! timeouts, panics, CORS, compression and the client IP.

use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use frontdesk::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, send_to};

#[tokio::test]
async fn request_ids_are_generated_echoed_and_quoted_in_problems() {
    let app = TestApp::spawn().await;
    let generated = app.get("/health/live").await;
    let id = generated.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let sent = app
        .req(Method::GET, "/v1/services/missing")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await;
    assert_eq!(sent.header("x-request-id"), Some("trace-abc-123"));
    let body = sent.assert_problem(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(body["request_id"], "trace-abc-123");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let app = TestApp::spawn().await;
    app.get("/v1/nothing-here")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.req(Method::DELETE, "/v1/services")
        .send()
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
}

#[tokio::test]
async fn malformed_bodies_are_explained() {
    let app = TestApp::spawn().await;
    let not_json = app
        .req(Method::POST, "/v1/auth/login")
        .raw_body("application/json", "{\"email\": ")
        .send()
        .await;
    not_json.assert_problem(StatusCode::BAD_REQUEST, "bad-request");

    let wrong_type = app
        .req(Method::POST, "/v1/auth/login")
        .raw_body("text/plain", "email=a")
        .send()
        .await;
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");

    let wrong_field_type = app
        .post_json(
            "/v1/auth/login",
            None,
            &json!({ "email": 42, "password": "x" }),
        )
        .await;
    assert_eq!(wrong_field_type.field_errors(), ["email"]);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::spawn_with(|c| c.http.body_limit_bytes = 1024).await;
    let big = json!({ "email": "a@example.com", "password": "x".repeat(2000) });
    let response = app.post_json("/v1/auth/login", None, &big).await;
    response.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
}

#[tokio::test]
async fn database_failures_are_500s_that_reveal_nothing() {
    let app = TestApp::spawn().await;
    sqlx::query("drop table catalogue_services cascade")
        .execute(&app.db)
        .await
        .expect("sabotage");
    let response = app.get("/v1/services").await;
    let body = response.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    let text = body.to_string();
    assert!(!text.contains("catalogue_services"), "{text}");
    assert!(!text.contains("relation"), "{text}");
}

/// Routes of the test's own, wrapped in the production middleware.
fn with_test_routes(app: &TestApp, routes: Router<frontdesk::AppState>) -> Router {
    frontdesk::http::with_middleware(routes.with_state(app.state.clone()), &app.state.core.config)
}

fn get_request(path: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .expect("request")
}

async fn boom() -> &'static str {
    panic!("secret internals")
}

#[tokio::test]
async fn a_panicking_handler_gives_a_500_problem() {
    let app = TestApp::spawn().await;
    let router = with_test_routes(&app, Router::new().route("/boom", get(boom)));
    let response = send_to(router, get_request("/boom")).await;
    let body = response.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(!body.to_string().contains("secret internals"));
}

#[tokio::test]
async fn slow_requests_are_stopped_with_503() {
    let app = TestApp::spawn_with(|c| c.http.request_timeout = Duration::from_millis(200)).await;
    let router = with_test_routes(
        &app,
        Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        ),
    );
    let response = send_to(router, get_request("/slow")).await;
    response.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn cors_admits_only_configured_origins() {
    let app = TestApp::spawn_with(|c| {
        c.http.cors_allowed_origins = vec![crate::helpers::header_value("https://www.example.com")];
    })
    .await;
    let allowed = app
        .req(Method::GET, "/v1/services")
        .header("origin", "https://www.example.com")
        .send()
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://www.example.com")
    );
    let other = app
        .req(Method::GET, "/v1/services")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    let preflight = app
        .req(Method::OPTIONS, "/v1/admin/services")
        .header("origin", "https://www.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    let allowed_headers = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let response = app
        .req(Method::GET, "/openapi.json")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(&response.body[..2], &[0x1f, 0x8b], "gzip magic bytes");
}

/// The audit log records the client IP: the peer's, unless the peer is a trusted proxy.
#[tokio::test]
async fn client_ip_comes_from_forwarded_for_only_through_trusted_proxies() {
    let app =
        TestApp::spawn_with(|c| c.http.trusted_proxies = vec!["10.0.0.0/8".parse().expect("cidr")])
            .await;
    let token = app.token_for(Role::Editor).await;
    let offering = json!({ "title": "Via proxy", "summary": "s" });
    let through_proxy = app
        .req(Method::POST, "/v1/admin/services")
        .peer("10.1.2.3:5000")
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.7")
        .bearer(&token)
        .json(&offering)
        .send()
        .await;
    assert_eq!(through_proxy.status, StatusCode::CREATED);
    let direct = app
        .req(Method::POST, "/v1/admin/services")
        .peer("203.0.113.5:5000")
        .header("x-forwarded-for", "198.51.100.7")
        .bearer(&token)
        .json(&json!({ "title": "Direct", "summary": "s" }))
        .send()
        .await;
    assert_eq!(direct.status, StatusCode::CREATED);

    let ips: Vec<String> = sqlx::query_scalar(
        "select host(ip) from audit_log where action = 'service.create' order by id",
    )
    .fetch_all(&app.db)
    .await
    .expect("audit rows");
    assert_eq!(ips, ["198.51.100.7", "203.0.113.5"]);
}
