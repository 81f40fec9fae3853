use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn liveness_and_readiness_are_ok_when_healthy() {
    let app = TestApp::spawn().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json()["status"], "ok");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["database"], "ok");
}

#[tokio::test]
async fn readiness_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);

    let mut conn = sqlx::PgConnection::connect_with(&crate::helpers::server_options())
        .await
        .expect("connect");
    use sqlx::{Connection, Executor};
    conn.execute(format!("drop database {} with (force)", app.db_name).as_str())
        .await
        .expect("drop the app's database");

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["database"], "unreachable");
    // Liveness does not depend on the database: the process itself is fine.
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
}

#[tokio::test]
async fn readiness_is_503_once_shutdown_begins() {
    let app = TestApp::spawn().await;
    app.state.shutdown.cancel();
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "shutting_down");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = TestApp::spawn().await;
    app.get("/v1/services").await;
    app.get("/v1/services/no-such-thing").await;
    // Not on the API's listener: only on METRICS_ADDR's.
    app.get("/metrics")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    let request = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .expect("request");
    let metrics = crate::helpers::send_to(
        frontdesk::ops::metrics_router(app.state.core.clone()),
        request,
    )
    .await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/plain"))
    );
    let text = metrics.text();
    let has_line = |route: &str, status: &str| {
        text.lines().any(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(has_line("/v1/services", "200"), "{text}");
    assert!(has_line("/v1/services/{slug}", "404"), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("db_pool_connections{state=\"idle\"}"),
        "{text}"
    );
}

/// Every route the router serves is described, with its method.
#[tokio::test]
async fn openapi_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = crate::access_control::ALL_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(described, expected);
    // Operation ids name operations uniquely (client generators and validators need it).
    let mut ids = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().expect("operationId");
            if let Some(other) = ids.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} is used by {other} and by {method} {path}");
            }
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn interactive_docs_are_served() {
    let app = TestApp::spawn().await;
    let docs = app.req(Method::GET, "/docs").send().await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html"))
    );
    let html = docs.text();
    assert!(html.contains("/openapi.json"), "{html}");
    // Everything the page loads comes from this server: no CDN.
    assert!(
        !html.contains("https://") && !html.contains("//cdn"),
        "{html}"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000, "the UI's script is served");
}
