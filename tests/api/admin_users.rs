use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

async fn create(app: &TestApp, token: &str, body: &Value) -> crate::helpers::TestResponse {
    app.post_json("/v1/admin/users", Some(token), body).await
}

#[tokio::test]
async fn owners_create_list_read_and_delete_admins() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let created = create(
        &app,
        &owner,
        &json!({ "email": "Sales@Example.com", "role": "sales", "password": PASSWORD, "display_name": "Sam" }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let user = created.json();
    assert_eq!(user["email"], "sales@example.com");
    assert_eq!(user["display_name"], "Sam");
    assert_eq!(user["role"], "sales");
    assert_eq!(user["active"], true);
    assert!(user.get("password_hash").is_none());
    let id = user["id"].as_str().expect("id");

    let list = app.get_as("/v1/admin/users", &owner).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    assert!(list["next_cursor"].is_null());
    let one = app.get_as(&format!("/v1/admin/users/{id}"), &owner).await;
    assert_eq!(one.json()["email"], "sales@example.com");

    // The new admin can log in with the password given.
    assert_eq!(
        app.login("sales@example.com", PASSWORD).await.status,
        StatusCode::OK
    );

    let deleted = app
        .req(Method::DELETE, &format!("/v1/admin/users/{id}"))
        .bearer(&owner)
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get_as(&format!("/v1/admin/users/{id}"), &owner)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn duplicate_emails_conflict() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let body = json!({ "email": "dup@example.com", "role": "editor", "password": PASSWORD });
    assert_eq!(
        create(&app, &owner, &body).await.status,
        StatusCode::CREATED
    );
    let again = json!({ "email": "DUP@example.com", "role": "sales", "password": PASSWORD });
    create(&app, &owner, &again)
        .await
        .assert_problem(StatusCode::CONFLICT, "duplicate-email");
}

#[tokio::test]
async fn every_invalid_field_is_reported() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let response = create(
        &app,
        &owner,
        &json!({ "email": "not-an-email", "role": "king", "password": "short", "display_name": "x".repeat(101) }),
    )
    .await;
    assert_eq!(
        response.field_errors(),
        ["email", "display_name", "role", "password"]
    );

    let unknown_field = create(
        &app,
        &owner,
        &json!({ "email": "a@example.com", "admin": true }),
    )
    .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_deactivated_or_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let me = app.get_as("/v1/auth/me", &owner).await.json();
    let id = me["id"].as_str().expect("id");
    let path = format!("/v1/admin/users/{id}");

    for change in [json!({ "role": "editor" }), json!({ "active": false })] {
        app.req(Method::PATCH, &path)
            .bearer(&owner)
            .json(&change)
            .send()
            .await
            .assert_problem(StatusCode::CONFLICT, "last-owner");
    }
    app.req(Method::DELETE, &path)
        .bearer(&owner)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "last-owner");

    // With a second owner, the first may step down.
    create(
        &app,
        &owner,
        &json!({ "email": "second@example.com", "role": "owner", "password": PASSWORD }),
    )
    .await;
    let demoted = app
        .req(Method::PATCH, &path)
        .bearer(&owner)
        .json(&json!({ "role": "editor" }))
        .send()
        .await;
    assert_eq!(demoted.status, StatusCode::OK);
    assert_eq!(demoted.json()["role"], "editor");
}

#[tokio::test]
async fn a_new_password_signs_the_admin_out_everywhere() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let email = app.create_admin(Role::Sales).await;
    let old_token = app.login(&email, PASSWORD).await.json()["token"]
        .as_str()
        .expect("t")
        .to_owned();
    let id: uuid::Uuid = sqlx::query_scalar("select id from admin_users where email = $1")
        .bind(&email)
        .fetch_one(&app.db)
        .await
        .expect("id");
    let new_password = "a brand new passphrase";
    let changed = app
        .req(Method::PATCH, &format!("/v1/admin/users/{id}"))
        .bearer(&owner)
        .json(&json!({ "password": new_password, "display_name": "Renamed" }))
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["display_name"], "Renamed");
    assert_eq!(
        app.get_as("/v1/auth/me", &old_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.login(&email, new_password).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    for path in [
        format!("/v1/admin/users/{}", uuid::Uuid::now_v7()),
        "/v1/admin/users/not-a-uuid".to_owned(),
    ] {
        app.get_as(&path, &owner)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not-found");
    }
    app.req(
        Method::PATCH,
        &format!("/v1/admin/users/{}", uuid::Uuid::now_v7()),
    )
    .bearer(&owner)
    .json(&json!({ "display_name": "x" }))
    .send()
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not-found");
}
