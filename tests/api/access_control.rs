//! Every admin route refuses a missing, bad or expired token (401) and the wrong role (403).

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

/// Every route of the API; the OpenAPI test checks the document lists exactly these.
pub const ALL_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/v1/site"),
    ("PUT", "/v1/admin/site"),
    ("GET", "/v1/services"),
    ("GET", "/v1/services/{slug}"),
    ("GET", "/v1/admin/services"),
    ("POST", "/v1/admin/services"),
    ("GET", "/v1/admin/services/{id}"),
    ("PUT", "/v1/admin/services/{id}"),
    ("DELETE", "/v1/admin/services/{id}"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/auth/me"),
    ("GET", "/v1/admin/users"),
    ("POST", "/v1/admin/users"),
    ("GET", "/v1/admin/users/{id}"),
    ("PATCH", "/v1/admin/users/{id}"),
    ("DELETE", "/v1/admin/users/{id}"),
    ("GET", "/v1/admin/api-tokens"),
    ("POST", "/v1/admin/api-tokens"),
    ("DELETE", "/v1/admin/api-tokens/{id}"),
    ("GET", "/v1/admin/audit"),
    ("GET", "/v1/posts"),
    ("GET", "/v1/posts/{slug}"),
    ("GET", "/v1/posts/{slug}/related"),
    ("GET", "/v1/posts/{slug}/shares"),
    ("POST", "/v1/posts/{slug}/shares"),
    ("GET", "/widget.js"),
    ("GET", "/widget/{version}/widget.js"),
    ("GET", "/demo"),
    ("GET", "/demo/"),
    ("GET", "/demo/{file}"),
    ("GET", "/v1/tags"),
    ("GET", "/v1/tags/{slug}"),
    ("GET", "/v1/authors"),
    ("GET", "/v1/authors/{slug}"),
    ("GET", "/v1/series/{slug}"),
    ("GET", "/v1/search"),
    ("GET", "/v1/feeds/rss"),
    ("GET", "/v1/feeds/atom"),
    ("GET", "/v1/feeds/json"),
    ("GET", "/sitemap.xml"),
    ("GET", "/sitemaps/{file}"),
    ("GET", "/v1/admin/posts"),
    ("POST", "/v1/admin/posts"),
    ("GET", "/v1/admin/pages"),
    ("POST", "/v1/admin/pages"),
    ("GET", "/v1/pages"),
    ("GET", "/v1/pages/{slug}"),
    ("GET", "/v1/admin/content-api-keys"),
    ("POST", "/v1/admin/content-api-keys"),
    ("DELETE", "/v1/admin/content-api-keys/{id}"),
    ("POST", "/v1/admin/import/ghost"),
    ("GET", "/v1/admin/posts/{id}"),
    ("PUT", "/v1/admin/posts/{id}"),
    ("DELETE", "/v1/admin/posts/{id}"),
    ("GET", "/v1/admin/posts/{id}/preview"),
    ("GET", "/v1/admin/posts/{id}/revisions"),
    ("GET", "/v1/admin/posts/{id}/revisions/{revision}"),
    ("POST", "/v1/admin/posts/{id}/revisions/{revision}/restore"),
    ("GET", "/v1/admin/authors"),
    ("POST", "/v1/admin/authors"),
    ("GET", "/v1/admin/authors/{id}"),
    ("PUT", "/v1/admin/authors/{id}"),
    ("DELETE", "/v1/admin/authors/{id}"),
    ("GET", "/v1/admin/tags"),
    ("POST", "/v1/admin/tags"),
    ("GET", "/v1/admin/tags/{id}"),
    ("PUT", "/v1/admin/tags/{id}"),
    ("DELETE", "/v1/admin/tags/{id}"),
    ("GET", "/v1/admin/series"),
    ("POST", "/v1/admin/series"),
    ("GET", "/v1/admin/series/{id}"),
    ("PUT", "/v1/admin/series/{id}"),
    ("DELETE", "/v1/admin/series/{id}"),
    ("POST", "/v1/consultations"),
    ("POST", "/v1/plan-requests"),
    ("POST", "/v1/newsletter/subscriptions"),
    ("GET", "/v1/newsletter/confirm"),
    ("POST", "/v1/newsletter/confirm"),
    ("GET", "/v1/newsletter/unsubscribe"),
    ("POST", "/v1/newsletter/unsubscribe"),
    ("GET", "/v1/newsletter/preferences"),
    ("PUT", "/v1/newsletter/preferences"),
    ("POST", "/v1/newsletter/events"),
    ("GET", "/newsletter/unsubscribe"),
    ("POST", "/newsletter/unsubscribe"),
    ("GET", "/newsletter/preferences"),
    ("POST", "/newsletter/preferences"),
    ("GET", "/v1/admin/leads"),
    ("GET", "/v1/admin/leads.csv"),
    ("GET", "/v1/admin/leads/{id}"),
    ("PATCH", "/v1/admin/leads/{id}"),
    ("GET", "/v1/admin/outbox"),
    ("POST", "/v1/admin/outbox/{id}/retry"),
    ("GET", "/v1/admin/emails"),
    ("GET", "/v1/admin/emails/{id}"),
    ("GET", "/v1/admin/webhooks"),
    ("POST", "/v1/admin/webhooks"),
    ("GET", "/v1/admin/webhooks/{id}"),
    ("PUT", "/v1/admin/webhooks/{id}"),
    ("DELETE", "/v1/admin/webhooks/{id}"),
    ("GET", "/v1/admin/webhooks/{id}/deliveries"),
    ("GET", "/v1/admin/newsletter/subscribers"),
    ("GET", "/v1/admin/newsletter/subscribers.csv"),
    ("GET", "/v1/admin/newsletter/stats"),
    ("GET", "/v1/admin/newsletter/issues"),
    ("POST", "/v1/admin/newsletter/issues"),
    ("GET", "/v1/admin/newsletter/issues/{id}"),
    ("POST", "/v1/admin/newsletter/issues/{id}/cancel"),
    ("POST", "/v1/admin/newsletter/test-sends"),
    ("GET", "/v1/admin/privacy/export"),
    ("POST", "/v1/admin/privacy/erase"),
    ("GET", "/v1/call-types"),
    ("GET", "/v1/call-types/{slug}"),
    ("GET", "/v1/call-types/{slug}/slots"),
    ("POST", "/v1/bookings"),
    ("GET", "/v1/bookings/{token}"),
    ("POST", "/v1/bookings/{token}/cancel"),
    ("POST", "/v1/bookings/{token}/reschedule"),
    ("GET", "/v1/bookings/{token}/invite.ics"),
    ("GET", "/v1/calendars/{token}"),
    ("GET", "/v1/admin/hosts"),
    ("GET", "/v1/admin/hosts/{id}"),
    ("PUT", "/v1/admin/hosts/{id}"),
    ("DELETE", "/v1/admin/hosts/{id}"),
    ("POST", "/v1/admin/hosts/{id}/overrides"),
    ("DELETE", "/v1/admin/hosts/{id}/overrides/{override_id}"),
    ("POST", "/v1/admin/hosts/{id}/calendar-token"),
    ("GET", "/v1/admin/hosts/{id}/calendars"),
    ("POST", "/v1/admin/hosts/{id}/calendars"),
    ("GET", "/v1/admin/hosts/{id}/calendars/{calendar_id}"),
    ("PUT", "/v1/admin/hosts/{id}/calendars/{calendar_id}"),
    ("DELETE", "/v1/admin/hosts/{id}/calendars/{calendar_id}"),
    (
        "POST",
        "/v1/admin/hosts/{id}/calendars/{calendar_id}/refresh",
    ),
    ("GET", "/v1/admin/call-types"),
    ("POST", "/v1/admin/call-types"),
    ("GET", "/v1/admin/call-types/{id}"),
    ("PUT", "/v1/admin/call-types/{id}"),
    ("DELETE", "/v1/admin/call-types/{id}"),
    ("GET", "/v1/admin/bookings"),
    ("POST", "/v1/admin/bookings/{id}/cancel"),
    ("POST", "/v1/assistant/conversations"),
    ("GET", "/v1/assistant/conversations/{id}"),
    ("POST", "/v1/assistant/conversations/{id}/messages"),
    ("GET", "/v1/admin/assistant/conversations"),
    ("GET", "/v1/admin/assistant/conversations/{id}"),
];

const EDITORS: &[Role] = &[Role::Owner, Role::Editor];
const SALES: &[Role] = &[Role::Owner, Role::Sales];
const OWNERS: &[Role] = &[Role::Owner];

/// The routes that need a token, with the roles allowed on each.
const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("PUT", "/v1/admin/site", &[Role::Owner]),
    ("GET", "/v1/admin/services", &[Role::Owner, Role::Editor]),
    ("POST", "/v1/admin/services", &[Role::Owner, Role::Editor]),
    (
        "GET",
        "/v1/admin/services/{id}",
        &[Role::Owner, Role::Editor],
    ),
    (
        "PUT",
        "/v1/admin/services/{id}",
        &[Role::Owner, Role::Editor],
    ),
    (
        "DELETE",
        "/v1/admin/services/{id}",
        &[Role::Owner, Role::Editor],
    ),
    (
        "POST",
        "/v1/auth/logout",
        &[Role::Owner, Role::Editor, Role::Sales],
    ),
    (
        "GET",
        "/v1/auth/me",
        &[Role::Owner, Role::Editor, Role::Sales],
    ),
    ("GET", "/v1/admin/users", &[Role::Owner]),
    ("POST", "/v1/admin/users", &[Role::Owner]),
    ("GET", "/v1/admin/users/{id}", &[Role::Owner]),
    ("PATCH", "/v1/admin/users/{id}", &[Role::Owner]),
    ("DELETE", "/v1/admin/users/{id}", &[Role::Owner]),
    ("GET", "/v1/admin/api-tokens", &[Role::Owner]),
    ("POST", "/v1/admin/api-tokens", &[Role::Owner]),
    ("DELETE", "/v1/admin/api-tokens/{id}", &[Role::Owner]),
    ("GET", "/v1/admin/audit", &[Role::Owner]),
    ("GET", "/v1/admin/posts", EDITORS),
    ("POST", "/v1/admin/posts", EDITORS),
    ("GET", "/v1/admin/pages", EDITORS),
    ("POST", "/v1/admin/pages", EDITORS),
    ("GET", "/v1/admin/content-api-keys", OWNERS),
    ("POST", "/v1/admin/content-api-keys", OWNERS),
    ("DELETE", "/v1/admin/content-api-keys/{id}", OWNERS),
    ("POST", "/v1/admin/import/ghost", OWNERS),
    ("GET", "/v1/admin/posts/{id}", EDITORS),
    ("PUT", "/v1/admin/posts/{id}", EDITORS),
    ("DELETE", "/v1/admin/posts/{id}", EDITORS),
    ("GET", "/v1/admin/posts/{id}/preview", EDITORS),
    ("GET", "/v1/admin/posts/{id}/revisions", EDITORS),
    ("GET", "/v1/admin/posts/{id}/revisions/{revision}", EDITORS),
    (
        "POST",
        "/v1/admin/posts/{id}/revisions/{revision}/restore",
        EDITORS,
    ),
    ("GET", "/v1/admin/authors", EDITORS),
    ("POST", "/v1/admin/authors", EDITORS),
    ("GET", "/v1/admin/authors/{id}", EDITORS),
    ("PUT", "/v1/admin/authors/{id}", EDITORS),
    ("DELETE", "/v1/admin/authors/{id}", EDITORS),
    ("GET", "/v1/admin/tags", EDITORS),
    ("POST", "/v1/admin/tags", EDITORS),
    ("GET", "/v1/admin/tags/{id}", EDITORS),
    ("PUT", "/v1/admin/tags/{id}", EDITORS),
    ("DELETE", "/v1/admin/tags/{id}", EDITORS),
    ("GET", "/v1/admin/series", EDITORS),
    ("POST", "/v1/admin/series", EDITORS),
    ("GET", "/v1/admin/series/{id}", EDITORS),
    ("PUT", "/v1/admin/series/{id}", EDITORS),
    ("DELETE", "/v1/admin/series/{id}", EDITORS),
    ("GET", "/v1/admin/leads", SALES),
    ("GET", "/v1/admin/leads.csv", SALES),
    ("GET", "/v1/admin/leads/{id}", SALES),
    ("PATCH", "/v1/admin/leads/{id}", SALES),
    ("GET", "/v1/admin/outbox", OWNERS),
    ("POST", "/v1/admin/outbox/{id}/retry", OWNERS),
    ("GET", "/v1/admin/emails", SALES),
    ("GET", "/v1/admin/emails/{id}", SALES),
    ("GET", "/v1/admin/webhooks", OWNERS),
    ("POST", "/v1/admin/webhooks", OWNERS),
    ("GET", "/v1/admin/webhooks/{id}", OWNERS),
    ("PUT", "/v1/admin/webhooks/{id}", OWNERS),
    ("DELETE", "/v1/admin/webhooks/{id}", OWNERS),
    ("GET", "/v1/admin/webhooks/{id}/deliveries", OWNERS),
    ("GET", "/v1/admin/newsletter/subscribers", SALES),
    ("GET", "/v1/admin/newsletter/subscribers.csv", SALES),
    ("GET", "/v1/admin/newsletter/stats", SALES),
    ("GET", "/v1/admin/newsletter/issues", EDITORS),
    ("POST", "/v1/admin/newsletter/issues", EDITORS),
    ("GET", "/v1/admin/newsletter/issues/{id}", EDITORS),
    ("POST", "/v1/admin/newsletter/issues/{id}/cancel", EDITORS),
    ("POST", "/v1/admin/newsletter/test-sends", EDITORS),
    ("GET", "/v1/admin/privacy/export", OWNERS),
    ("POST", "/v1/admin/privacy/erase", OWNERS),
    ("GET", "/v1/admin/hosts", SALES),
    ("GET", "/v1/admin/hosts/{id}", SALES),
    ("PUT", "/v1/admin/hosts/{id}", SALES),
    ("DELETE", "/v1/admin/hosts/{id}", SALES),
    ("POST", "/v1/admin/hosts/{id}/overrides", SALES),
    (
        "DELETE",
        "/v1/admin/hosts/{id}/overrides/{override_id}",
        SALES,
    ),
    ("POST", "/v1/admin/hosts/{id}/calendar-token", SALES),
    ("GET", "/v1/admin/hosts/{id}/calendars", SALES),
    ("POST", "/v1/admin/hosts/{id}/calendars", SALES),
    ("GET", "/v1/admin/hosts/{id}/calendars/{calendar_id}", SALES),
    ("PUT", "/v1/admin/hosts/{id}/calendars/{calendar_id}", SALES),
    (
        "DELETE",
        "/v1/admin/hosts/{id}/calendars/{calendar_id}",
        SALES,
    ),
    (
        "POST",
        "/v1/admin/hosts/{id}/calendars/{calendar_id}/refresh",
        SALES,
    ),
    ("GET", "/v1/admin/call-types", SALES),
    ("POST", "/v1/admin/call-types", SALES),
    ("GET", "/v1/admin/call-types/{id}", SALES),
    ("PUT", "/v1/admin/call-types/{id}", SALES),
    ("DELETE", "/v1/admin/call-types/{id}", SALES),
    ("GET", "/v1/admin/bookings", SALES),
    ("POST", "/v1/admin/bookings/{id}/cancel", SALES),
    ("GET", "/v1/admin/assistant/conversations", SALES),
    ("GET", "/v1/admin/assistant/conversations/{id}", SALES),
];

const ROLES: [Role; 3] = [Role::Owner, Role::Editor, Role::Sales];

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> crate::helpers::TestResponse {
    let path = path
        .replace("{id}", &uuid::Uuid::now_v7().to_string())
        .replace("{slug}", "anything")
        .replace("{revision}", "1")
        .replace("{override_id}", &uuid::Uuid::now_v7().to_string());
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.req(method.clone(), &path);
    if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        req = req.json(&json!({}));
    }
    if let Some(token) = token {
        req = req.bearer(token);
    }
    req.send().await
}

#[tokio::test]
async fn protected_routes_refuse_missing_bad_and_expired_tokens() {
    let app = TestApp::spawn().await;
    let expired = app.owner_token().await;
    sqlx::query("update auth_sessions set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .expect("expire the session");

    for (method, path, _) in PROTECTED {
        for (case, token) in [
            ("no token", None),
            ("malformed token", Some("not-a-token")),
            (
                "unknown session",
                Some("fds_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            (
                "unknown api token",
                Some("fdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            ("expired session", Some(expired.as_str())),
        ] {
            let response = call(&app, method, path, token).await;
            assert_eq!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {case}"
            );
            response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(
                response.header("www-authenticate"),
                Some("Bearer"),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn protected_routes_refuse_the_wrong_role_and_admit_the_right_one() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, app.token_for(role).await));
    }
    for (method, path, allowed) in PROTECTED {
        // Logging out would spend the token; check it last, separately.
        if *path == "/v1/auth/logout" {
            continue;
        }
        for (role, token) in &tokens {
            let response = call(&app, method, path, Some(token)).await;
            if allowed.contains(role) {
                assert!(
                    !matches!(
                        response.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "{method} {path} as {role:?} should be allowed, got {}",
                    response.status
                );
            } else {
                response.assert_problem(StatusCode::FORBIDDEN, "forbidden");
            }
        }
    }
    for (role, token) in &tokens {
        let response = call(&app, "POST", "/v1/auth/logout", Some(token)).await;
        assert_eq!(
            response.status,
            StatusCode::NO_CONTENT,
            "logout as {role:?}"
        );
    }
}
