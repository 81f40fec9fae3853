use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_token_is_shown_once_works_within_its_scopes_and_stops_when_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let created = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "CMS sync", "scopes": ["catalogue:write"], "expires_in_days": 30 }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let created = created.json();
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("fdt_"));
    assert_eq!(created["scopes"], json!(["catalogue:write"]));
    assert!(created["expires_at"].is_string());

    let listed = app.get_as("/v1/admin/api-tokens", &owner).await;
    assert!(
        !listed.text().contains(&secret),
        "the secret is never shown again"
    );
    assert_eq!(listed.json()["items"][0]["name"], "CMS sync");

    // Within scope: works. Outside: 403.
    let write = app
        .post_json(
            "/v1/admin/services",
            Some(&secret),
            &json!({ "title": "From CMS", "summary": "s" }),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED, "{}", write.text());
    app.get_as("/v1/admin/audit", &secret)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let me = app.get_as("/v1/auth/me", &secret).await.json();
    assert_eq!(me["kind"], "api_token");
    assert_eq!(me["name"], "CMS sync");

    // Its use is recorded, and writes are audited under its name.
    let last_used =
        app.get_as("/v1/admin/api-tokens", &owner).await.json()["items"][0]["last_used_at"].clone();
    assert!(last_used.is_string(), "{last_used}");
    let audit = app
        .get_as("/v1/admin/audit?action=service.create", &owner)
        .await
        .json();
    assert_eq!(audit["items"][0]["actor_kind"], "api_token");
    assert_eq!(audit["items"][0]["actor_label"], "CMS sync");

    let id = created["id"].as_str().expect("id");
    let revoked = app
        .req(Method::DELETE, &format!("/v1/admin/api-tokens/{id}"))
        .bearer(&owner)
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    app.get_as("/v1/auth/me", &secret)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn expired_api_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let created = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "short", "scopes": ["audit:read"], "expires_in_days": 1 }),
        )
        .await
        .json();
    let secret = created["secret"].as_str().expect("secret");
    assert_eq!(
        app.get_as("/v1/admin/audit", secret).await.status,
        StatusCode::OK
    );
    sqlx::query("update api_tokens set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .expect("expire");
    app.get_as("/v1/admin/audit", secret)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn tokens_cannot_manage_people_or_tokens_and_bad_fields_are_listed() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let response = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "", "scopes": ["users:manage", "nonsense"], "expires_in_days": 0 }),
        )
        .await;
    assert_eq!(
        response.field_errors(),
        ["name", "scopes[0]", "scopes[1]", "expires_in_days"]
    );
    let empty = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "x", "scopes": [] }),
        )
        .await;
    assert_eq!(empty.field_errors(), ["scopes"]);
}

#[tokio::test]
async fn an_api_token_cannot_log_out_and_unknown_tokens_are_404() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let secret = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "n", "scopes": ["site:write"] }),
        )
        .await
        .json()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    app.req(Method::POST, "/v1/auth/logout")
        .bearer(&secret)
        .send()
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad-request");
    app.req(
        Method::DELETE,
        &format!("/v1/admin/api-tokens/{}", uuid::Uuid::now_v7()),
    )
    .bearer(&owner)
    .send()
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not-found");
}
