use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn an_admin_logs_in_sees_themselves_and_logs_out() {
    let app = TestApp::spawn().await;
    let email = app.create_admin(Role::Editor).await;
    let login = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let body = login.json();
    let token = body["token"].as_str().expect("token");
    assert!(token.starts_with("fds_"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["admin"]["email"], email);
    assert_eq!(body["admin"]["role"], "editor");
    assert!(body["expires_at"].is_string());

    let me = app.get_as("/v1/auth/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.json();
    assert_eq!(me["kind"], "admin");
    assert_eq!(me["email"], email);
    assert_eq!(
        me["permissions"],
        json!(["catalogue:write", "content:write", "newsletter:send"])
    );

    let logout = app
        .req(Method::POST, "/v1/auth/logout")
        .bearer(token)
        .send()
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    app.get_as("/v1/auth/me", token)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn only_a_hash_of_the_token_is_stored() {
    let app = TestApp::spawn().await;
    let token = app.owner_token().await;
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from auth_sessions")
        .fetch_all(&app.db)
        .await
        .expect("sessions");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token.as_bytes());
    assert_eq!(stored[0].len(), 32, "a SHA-256 digest");
}

fn without_request_id(mut body: Value) -> Value {
    body.as_object_mut().expect("object").remove("request_id");
    body
}

#[tokio::test]
async fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let email = app.create_admin(Role::Owner).await;
    let wrong_password = app.login(&email, "not the password at all").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    let a = wrong_password.assert_problem(StatusCode::UNAUTHORIZED, "invalid-credentials");
    let b = unknown_email.assert_problem(StatusCode::UNAUTHORIZED, "invalid-credentials");
    assert_eq!(without_request_id(a), without_request_id(b));
}

#[tokio::test]
async fn missing_login_fields_are_all_listed() {
    let app = TestApp::spawn().await;
    let response = app.post_json("/v1/auth/login", None, &json!({})).await;
    assert_eq!(response.field_errors(), ["email", "password"]);
}

#[tokio::test]
async fn repeated_failures_are_throttled_even_for_the_right_password() {
    let app = TestApp::spawn_with(|c| c.auth.login_max_failures = 3).await;
    let email = app.create_admin(Role::Owner).await;
    for _ in 0..3 {
        let response = app.login(&email, "wrong password, again").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = app.login(&email, PASSWORD).await;
    throttled.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let retry_after: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    // An unknown email is throttled the same way, so the 429 reveals nothing either.
    for _ in 0..3 {
        app.login("ghost@example.com", "whatever password").await;
    }
    app.login("ghost@example.com", "whatever password")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");

    // Other admins are not locked out by someone else's failures.
    let other = app.create_admin(Role::Editor).await;
    assert_eq!(app.login(&other, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_success_clears_earlier_failures() {
    let app = TestApp::spawn_with(|c| c.auth.login_max_failures = 3).await;
    let email = app.create_admin(Role::Owner).await;
    for _ in 0..2 {
        app.login(&email, "wrong password, again").await;
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
    for _ in 0..2 {
        app.login(&email, "wrong password, again").await;
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_deactivated_admin_loses_access_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let email = app.create_admin(Role::Editor).await;
    let editor_token = app.login(&email, PASSWORD).await.json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id: uuid::Uuid = sqlx::query_scalar("select id from admin_users where email = $1")
        .bind(&email)
        .fetch_one(&app.db)
        .await
        .expect("id");
    let patch = app
        .req(Method::PATCH, &format!("/v1/admin/users/{id}"))
        .bearer(&owner)
        .json(&json!({ "active": false }))
        .send()
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text());
    app.get_as("/v1/auth/me", &editor_token)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.login(&email, PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid-credentials");
}
