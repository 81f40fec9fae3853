use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn admin_writes_are_recorded_with_who_what_and_where() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let me = app.get_as("/v1/auth/me", &owner).await.json();
    let created = app
        .req(Method::POST, "/v1/admin/services")
        .peer("192.0.2.44:1234")
        .bearer(&owner)
        .json(&json!({ "title": "Audited", "summary": "s" }))
        .send()
        .await
        .json();

    let page = app
        .get_as("/v1/admin/audit?action=service.create", &owner)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let entry = &page.json()["items"][0];
    assert_eq!(entry["action"], "service.create");
    assert_eq!(entry["actor_kind"], "admin");
    assert_eq!(entry["actor_id"], me["id"]);
    assert_eq!(entry["actor_label"], me["email"]);
    assert_eq!(entry["target_type"], "service");
    assert_eq!(entry["target_id"], created["id"]);
    assert_eq!(entry["ip"], "192.0.2.44");
    assert_eq!(entry["details"]["slug"], "audited");
    assert!(entry["occurred_at"].is_string());
}

#[tokio::test]
async fn the_log_pages_newest_first_without_repeats_under_inserts() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    for i in 0..5 {
        app.post_json(
            "/v1/admin/services",
            Some(&owner),
            &json!({ "title": format!("S{i}"), "summary": "s" }),
        )
        .await;
    }
    let first = app
        .get_as("/v1/admin/audit?limit=2&action=service.create", &owner)
        .await
        .json();
    let titles = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["details"]["slug"].as_str().expect("slug").to_owned())
            .collect()
    };
    assert_eq!(titles(&first), ["s4", "s3"]);
    // A write between pages does not shift the next page.
    app.post_json(
        "/v1/admin/services",
        Some(&owner),
        &json!({ "title": "S5", "summary": "s" }),
    )
    .await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = app
        .get_as(
            &format!("/v1/admin/audit?limit=2&action=service.create&cursor={cursor}"),
            &owner,
        )
        .await
        .json();
    assert_eq!(titles(&second), ["s2", "s1"]);
    let cursor = second["next_cursor"].as_str().expect("cursor");
    let last = app
        .get_as(
            &format!("/v1/admin/audit?limit=2&action=service.create&cursor={cursor}"),
            &owner,
        )
        .await
        .json();
    assert_eq!(titles(&last), ["s0"]);
    assert!(last["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_paging_parameters_are_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage!", "cursor"),
        ("actor_id=not-a-uuid", "actor_id"),
    ] {
        let response = app
            .get_as(&format!("/v1/admin/audit?{query}"), &owner)
            .await;
        assert_eq!(response.field_errors(), [field], "{query}");
    }
}
