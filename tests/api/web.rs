//! The widget script and the demo page, served by the binary.

use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_widget_is_served_with_an_etag_and_by_a_versioned_address() {
    let app = TestApp::spawn().await;
    let widget = app.get("/widget.js").await;
    assert_eq!(widget.status, StatusCode::OK);
    assert_eq!(
        widget.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        widget.body,
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/web/widget.js")).expect("widget")
    );
    assert!(
        widget
            .header("cache-control")
            .is_some_and(|c| c.contains("max-age=3600")),
        "{:?}",
        widget.header("cache-control")
    );
    assert_eq!(
        widget.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
    let etag = widget.header("etag").expect("etag").to_owned();
    let again = app
        .req(Method::GET, "/widget.js")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let version = etag.trim_matches('"')[..16].to_owned();
    let pinned = app.get(&format!("/widget/{version}/widget.js")).await;
    assert_eq!(pinned.status, StatusCode::OK);
    assert_eq!(pinned.body, widget.body);
    assert_eq!(
        pinned.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    app.get("/widget/0000000000000000/widget.js")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn the_demo_page_is_served_under_a_strict_policy_unless_turned_off() {
    let app = TestApp::spawn().await;
    let bare = app.get("/demo").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.header("location"), Some("/demo/"));
    let page = app.get("/demo/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("demo.js"));
    let csp = page.header("content-security-policy").expect("csp");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    for (file, kind) in [("demo.js", "text/javascript"), ("demo.css", "text/css")] {
        let served = app.get(&format!("/demo/{file}")).await;
        assert_eq!(served.status, StatusCode::OK, "{file}");
        assert!(
            served
                .header("content-type")
                .is_some_and(|t| t.starts_with(kind))
        );
    }
    for missing in [
        "/demo/nope.js",
        "/demo/..%2Fwidget.js",
        "/demo/%2e%2e%2fCargo.toml",
    ] {
        app.get(missing)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not-found");
    }

    let production = TestApp::spawn_with(|c| c.web.demo = false).await;
    for path in ["/demo", "/demo/", "/demo/demo.js"] {
        production
            .get(path)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not-found");
    }
    assert_eq!(production.get("/widget.js").await.status, StatusCode::OK);
}
