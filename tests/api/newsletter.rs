//! The newsletter: double opt-in that reveals nothing, confirmation, one-click unsubscribe
//! by signed link, resubscribing, and the admin list.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::fixtures::SmtpServer;
use crate::helpers::TestApp;

async fn subscribe(app: &TestApp, email: &str) -> crate::helpers::TestResponse {
    app.post_json(
        "/v1/newsletter/subscriptions",
        None,
        &json!({ "email": email, "consent": true }),
    )
    .await
}

/// The confirmation link of the newest mail to `to`.
fn link_in(mail: &str, path: &str) -> String {
    let unfolded = mail.replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find(path).expect("link in the mail");
    unfolded[start..]
        .split(|c: char| c.is_whitespace() || c == '>')
        .next()
        .expect("link")
        .to_owned()
}

#[tokio::test]
async fn double_opt_in_confirm_unsubscribe_and_come_back() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_url = Some(smtp.url().into());
        c.outbox.poll = Duration::from_millis(50);
        c.http.public_api_url = "https://api.northwind.example".into();
    })
    .await;
    let first = subscribe(&app, "Reader@Example.com").await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["reader@example.com"]);
    assert!(
        mail.data
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        mail.data
    );

    let confirm = link_in(
        &mail.data,
        "https://api.northwind.example/v1/newsletter/confirm?token=",
    );
    let path = confirm.trim_start_matches("https://api.northwind.example");
    let confirmed = app.get(path).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    assert_eq!(confirmed.json()["status"], "confirmed");
    assert_eq!(
        app.get(path).await.status,
        StatusCode::NOT_FOUND,
        "a link works once"
    );

    // The form says the same thing whatever the state, so it reveals nothing.
    let again = subscribe(&app, "reader@example.com").await;
    assert_eq!(again.json(), first.json());
    let stranger = subscribe(&app, "someone-else@example.com").await;
    assert_eq!(stranger.json(), first.json());

    let owner = app.owner_token().await;
    let stats = app
        .get_as("/v1/admin/newsletter/stats", &owner)
        .await
        .json();
    assert_eq!(
        stats,
        json!({ "pending": 1, "confirmed": 1, "unsubscribed": 0 })
    );

    // One-click unsubscribe: the link from the List-Unsubscribe header, POSTed.
    let unsubscribe = link_in(
        &mail.data,
        "https://api.northwind.example/v1/newsletter/unsubscribe?",
    );
    let unsubscribe = unsubscribe.trim_start_matches("https://api.northwind.example");
    let looked = app.get(unsubscribe).await.json();
    assert_eq!(
        looked["status"], "subscribed",
        "opening the link changes nothing"
    );
    let done = app
        .req(Method::POST, unsubscribe)
        .raw_body(
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .send()
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.json()["status"], "unsubscribed");
    let forged = unsubscribe.replace("reader%40example.com", "someone-else%40example.com");
    assert_eq!(
        app.req(Method::POST, &forged).send().await.status,
        StatusCode::NOT_FOUND
    );

    // Coming back works: a new confirmation.
    subscribe(&app, "reader@example.com").await;
    let mails = smtp.wait_for(3).await;
    let newest = mails
        .iter()
        .rev()
        .find(|m| m.to == ["reader@example.com"])
        .expect("mail");
    let path = link_in(
        &newest.data,
        "https://api.northwind.example/v1/newsletter/confirm?token=",
    );
    let path = path.trim_start_matches("https://api.northwind.example");
    assert_eq!(
        app.req(Method::POST, path).send().await.status,
        StatusCode::OK
    );
    let stats = app
        .get_as("/v1/admin/newsletter/stats", &owner)
        .await
        .json();
    assert_eq!(stats["confirmed"], 1);
}

#[tokio::test]
async fn signup_needs_an_address_and_consent() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/v1/newsletter/subscriptions",
            None,
            &json!({ "email": "nope", "consent": false }),
        )
        .await;
    assert_eq!(response.field_errors(), ["email", "consent"]);
    assert_eq!(
        app.get("/v1/newsletter/confirm?token=nl_made_up")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/newsletter/confirm").await.field_errors(),
        ["token"]
    );
}

#[tokio::test]
async fn a_burst_of_signups_sends_one_confirmation() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 100).await;
    for _ in 0..5 {
        subscribe(&app, "eager@example.com").await;
    }
    let sent: i64 = app
        .count("outbox_jobs where payload->>'to' = 'eager@example.com'")
        .await;
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn admins_list_and_export_subscribers() {
    let app = TestApp::spawn().await;
    subscribe(&app, "one@example.com").await;
    subscribe(&app, "two@example.com").await;
    let sales = app.token_for(Role::Sales).await;
    let list = app
        .get_as("/v1/admin/newsletter/subscribers?status=pending", &sales)
        .await
        .json();
    let emails: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, ["two@example.com", "one@example.com"]);
    let csv = app
        .get_as("/v1/admin/newsletter/subscribers.csv", &sales)
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.text().starts_with("email,status,"));
    assert_eq!(csv.text().lines().count(), 3);
    assert_eq!(
        app.get_as("/v1/admin/newsletter/subscribers?status=maybe", &sales)
            .await
            .field_errors(),
        ["status"]
    );
    let none: Value = app
        .get_as("/v1/admin/newsletter/subscribers?status=confirmed", &sales)
        .await
        .json();
    assert_eq!(none["items"], json!([]));
}
