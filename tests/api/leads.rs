//! Capturing leads: validation, references, idempotency under concurrency, the honeypot,
//! rate limits, and the notifications they cause (real SMTP and webhook servers).

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fixtures::{SmtpServer, WebhookReceiver, wait_until};
use crate::helpers::TestApp;

pub fn consultation() -> Value {
    json!({
        "first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com",
        "phone": "+44 20 7946 0000", "company": "Analytical Engines",
        "message": "We would like to rebuild our customer portal.",
        "consent": true, "consent_text_version": "2026-10",
        "source_page": "/services/web-platforms",
        "utm": { "source": "newsletter", "campaign": "autumn" }
    })
}

pub fn plan() -> Value {
    json!({
        "name": "Grace Hopper", "email": "grace@example.com", "company": "Compilers Ltd",
        "project_type": "web_app", "services": [], "budget_range": "25k_50k",
        "timeline": "3_6_months", "description": "A portal for our customers.", "consent": true
    })
}

/// A site profile, so the team has an address to be told at.
pub async fn with_site(app: &TestApp) {
    let owner = app.owner_token().await;
    let profile = json!({ "firm_name": "Northwind", "contact_email": "team@northwind.example",
                          "public_url": "https://northwind.example" });
    assert_eq!(
        app.put_json("/v1/admin/site", &owner, &profile)
            .await
            .status,
        StatusCode::OK
    );
}

fn is_reference(reference: &str) -> bool {
    let parts: Vec<&str> = reference.split('-').collect();
    parts.len() == 3
        && parts[0] == "FD"
        && parts[1].len() == 4
        && parts[1].chars().all(|c| c.is_ascii_digit())
        && parts[2].len() == 6
        && parts[2].chars().all(|c| c.is_ascii_digit())
}

#[tokio::test]
async fn a_consultation_is_received_stored_and_announced_by_email() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_url = Some(smtp.url().into());
        c.outbox.poll = Duration::from_millis(50);
    })
    .await;
    with_site(&app).await;
    let response = app
        .post_json("/v1/consultations", None, &consultation())
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let receipt = response.json();
    let reference = receipt["reference"].as_str().expect("reference");
    assert!(is_reference(reference), "{reference}");
    assert_eq!(receipt["kind"], "consultation");

    let mails = smtp.wait_for(2).await;
    assert_eq!(mails.len(), 2, "a confirmation and a team notification");
    let to_visitor = mails
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("confirmation");
    assert!(to_visitor.data.contains(reference), "{}", to_visitor.data);
    assert!(
        to_visitor.from.contains("frontdesk@localhost"),
        "MAIL_FROM: {}",
        to_visitor.from
    );
    assert!(
        to_visitor.data.contains("Message-ID: <"),
        "a stable id to de-duplicate on"
    );
    let to_team = mails
        .iter()
        .find(|m| m.to == ["team@northwind.example"])
        .expect("notification");
    assert!(
        to_team
            .data
            .contains("We would like to rebuild our customer portal.")
    );

    let sales = app.token_for(Role::Sales).await;
    let inbox = app.get_as("/v1/admin/leads", &sales).await.json();
    let lead = &inbox["items"][0];
    assert_eq!(lead["reference"], reference);
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["consent_text_version"], "2026-10");
    assert_eq!(lead["utm"]["campaign"], "autumn");
    let emails = app.get_as("/v1/admin/emails", &sales).await.json();
    assert!(
        emails["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["delivered_via"] == "smtp")
    );
}

/// A backlog drains through the workers' batches and their kept SMTP connections: every
/// email arrives once, over far fewer connections than emails (one per mail without the
/// pool; a few more than the workers' two when a connection is handed back to the pool a
/// moment after the next send asked for one).
#[tokio::test]
async fn a_backlog_of_emails_goes_out_once_each_over_reused_connections() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_url = Some(smtp.url().into());
        c.outbox.poll = Duration::from_millis(50);
        c.outbox.workers = 2;
        c.leads.form_limit.max = 0;
    })
    .await;
    with_site(&app).await;
    for _ in 0..12 {
        let response = app
            .post_json("/v1/consultations", None, &consultation())
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    }
    let mails = smtp.wait_for(24).await;
    let ids: std::collections::HashSet<String> = mails
        .iter()
        .filter_map(|m| {
            m.data
                .lines()
                .find(|l| l.starts_with("Message-ID:"))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(ids.len(), 24, "24 distinct messages");
    // Nothing else arrives later (each job is marked delivered once).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails.lock().await.len(), 24);
    let opened = smtp.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..12).contains(&opened),
        "{opened} SMTP connections for 24 mails"
    );
    let left: i64 = sqlx::query_scalar("select count(*) from outbox_jobs where status <> 'done'")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[tokio::test]
async fn without_a_key_or_rate_limit_the_lead_and_its_jobs_are_written_together() {
    // The short path: no rate limit, no Idempotency-Key, so no explicit transaction.
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 0).await;
    with_site(&app).await;
    add_endpoint(&app, "http://127.0.0.1:9/hook").await;
    let mut unknown = consultation();
    unknown["service"] = json!("no-such-service");
    assert_eq!(
        app.post_json("/v1/consultations", None, &unknown)
            .await
            .field_errors(),
        ["service"]
    );
    assert_eq!(app.count("leads").await + app.count("outbox_jobs").await, 0);

    let receipt = app
        .post_json("/v1/consultations", None, &consultation())
        .await
        .json();
    let sales = app.token_for(Role::Sales).await;
    let inbox = app.get_as("/v1/admin/leads", &sales).await.json();
    let id = inbox["items"][0]["id"].as_str().expect("id").to_owned();
    let lead = app
        .get_as(&format!("/v1/admin/leads/{id}"), &sales)
        .await
        .json();
    assert_eq!(lead["reference"], receipt["reference"]);
    assert_eq!(lead["created_at"], receipt["received_at"]);
    assert_eq!(lead["events"][0]["kind"], "created");
    assert_eq!(app.count("outbox_jobs where kind = 'email'").await, 2);
    // The webhook carries the lead exactly as the API shows it.
    let sent: Value =
        sqlx::query_scalar("select payload->'data' from outbox_jobs where kind = 'webhook'")
            .fetch_one(&app.db)
            .await
            .expect("webhook job");
    for field in [
        "id",
        "reference",
        "email",
        "status",
        "created_at",
        "consented_at",
        "utm",
    ] {
        assert_eq!(sent[field], lead[field], "{field}");
    }
}

#[tokio::test]
async fn without_smtp_mail_is_kept_for_admins_to_read() {
    let app = TestApp::spawn_with(|c| c.outbox.poll = Duration::from_millis(50)).await;
    with_site(&app).await;
    app.post_json("/v1/plan-requests", None, &plan()).await;
    let sales = app.token_for(Role::Sales).await;
    let url = "/v1/admin/emails?to=grace@example.com";
    wait_until("the confirmation email to be kept", || async {
        app.get_as(url, &sales).await.json()["items"][0]["status"] == "done"
    })
    .await;
    let emails = app.get_as(url, &sales).await.json();
    let email = &emails["items"][0];
    assert_eq!(email["delivered_via"], "kept");
    assert_eq!(email["payload"]["purpose"], "lead_confirmation");
    assert!(
        email["payload"]["text"]
            .as_str()
            .expect("text")
            .contains("Grace Hopper")
    );
    let id = email["id"].as_str().expect("id");
    assert_eq!(
        app.get_as(&format!("/v1/admin/emails/{id}"), &sales)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_invalid_field_is_listed() {
    let app = TestApp::spawn().await;
    let bad = json!({ "email": "nope", "phone": "call me", "service": "Bad Slug", "consent": false,
                      "message": "m".repeat(5001), "utm": { "source": "s".repeat(201) } });
    let response = app.post_json("/v1/consultations", None, &bad).await;
    assert_eq!(
        response.field_errors(),
        [
            "first_name",
            "last_name",
            "email",
            "phone",
            "message",
            "service",
            "consent",
            "utm.source"
        ]
    );
    let bad_plan = json!({ "email": "", "project_type": "spaceship", "budget_range": "", "services": ["ok", "NOT OK"],
                           "timeline": "someday", "consent": false });
    let response = app.post_json("/v1/plan-requests", None, &bad_plan).await;
    assert_eq!(
        response.field_errors(),
        [
            "name",
            "email",
            "company",
            "project_type",
            "services[1]",
            "budget_range",
            "timeline",
            "description",
            "consent"
        ]
    );
    let mut unknown = plan();
    unknown["services"] = json!(["quantum-computing"]);
    let unknown_service = app.post_json("/v1/plan-requests", None, &unknown).await;
    assert_eq!(unknown_service.field_errors(), ["services[0]"]);
    let mut too_long = consultation();
    too_long["first_name"] = json!("x".repeat(101));
    assert_eq!(
        app.post_json("/v1/consultations", None, &too_long)
            .await
            .field_errors(),
        ["first_name"]
    );
}

#[tokio::test]
async fn fifty_concurrent_retries_with_one_key_make_one_lead() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 1000).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let mut request = axum::http::Request::post("/v1/consultations")
                .header("content-type", "application/json")
                .header("idempotency-key", "4b1f0c9e-retry-once")
                .body(axum::body::Body::from(consultation().to_string()))
                .expect("request");
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([198, 51, 100, 1], 50000)),
            ));
            crate::helpers::send_to(router, request).await
        }));
    }
    let mut references = HashSet::new();
    for task in tasks {
        let response = task.await.expect("join");
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        references.insert(
            response.json()["reference"]
                .as_str()
                .expect("ref")
                .to_owned(),
        );
    }
    assert_eq!(references.len(), 1, "every retry got the first answer");
    let leads: i64 = app.count("leads").await;
    assert_eq!(leads, 1);
    let emails: i64 = app.count("outbox_jobs where kind = 'email'").await;
    assert_eq!(
        emails, 1,
        "one confirmation (no site profile, so no team address)"
    );

    // The same key with other content is refused.
    let mut other = consultation();
    other["message"] = json!("Something else entirely.");
    let reused = app
        .req(Method::POST, "/v1/consultations")
        .peer("198.51.100.1:50001")
        .header("idempotency-key", "4b1f0c9e-retry-once")
        .json(&other)
        .send()
        .await;
    assert_eq!(reused.field_errors(), ["Idempotency-Key"]);
    // Another client with the same key and body is not given the first client's answer:
    // keys belong to the client that sent them.
    let stranger = app
        .req(Method::POST, "/v1/consultations")
        .peer("203.0.113.50:40000")
        .header("idempotency-key", "4b1f0c9e-retry-once")
        .json(&consultation())
        .send()
        .await;
    assert_eq!(stranger.status, StatusCode::CREATED, "{}", stranger.text());
    assert!(
        !references.contains(stranger.json()["reference"].as_str().expect("ref")),
        "a stranger must not replay another client's answer"
    );
    // Without a key, each request is a new lead.
    app.post_json("/v1/consultations", None, &consultation())
        .await;
    let leads: i64 = app.count("leads").await;
    assert_eq!(leads, 3);
}

#[tokio::test]
async fn the_honeypot_answers_like_success_stores_spam_and_tells_nobody() {
    let app = TestApp::spawn().await;
    with_site(&app).await;
    let mut bot = consultation();
    bot["website"] = json!("http://cheap-pills.example");
    let response = app.post_json("/v1/consultations", None, &bot).await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert!(is_reference(
        response.json()["reference"].as_str().expect("ref")
    ));
    let status: String = sqlx::query_scalar("select status from leads")
        .fetch_one(&app.db)
        .await
        .expect("lead");
    assert_eq!(status, "spam");
    let jobs: i64 = app.count("outbox_jobs").await;
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn each_client_ip_is_rate_limited() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 3).await;
    for _ in 0..3 {
        let ok = app
            .req(Method::POST, "/v1/consultations")
            .peer("203.0.113.7:1")
            .json(&consultation())
            .send()
            .await;
        assert_eq!(ok.status, StatusCode::CREATED);
    }
    let limited = app
        .req(Method::POST, "/v1/consultations")
        .peer("203.0.113.7:1")
        .json(&consultation())
        .send()
        .await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=600).contains(&retry_after));
    let other = app
        .req(Method::POST, "/v1/consultations")
        .peer("203.0.113.8:1")
        .json(&consultation())
        .send()
        .await;
    assert_eq!(
        other.status,
        StatusCode::CREATED,
        "another visitor is not affected"
    );
}

fn verify(secret: &str, received: &crate::fixtures::Received) -> bool {
    let signature = received.header("x-frontdesk-signature");
    let Some((t, v1)) = signature.split_once(',') else {
        return false;
    };
    let timestamp = t.trim_start_matches("t=");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    hex::encode(mac.finalize().into_bytes()) == v1.trim_start_matches("v1=")
}

async fn add_endpoint(app: &TestApp, url: &str) -> String {
    let owner = app.owner_token().await;
    let created = app
        .create(
            "/v1/admin/webhooks",
            &owner,
            &json!({ "url": url, "events": ["lead.created"], "secret": "whsec_test_secret_0123456789" }),
        )
        .await;
    assert_eq!(created["secret"], "whsec_test_secret_0123456789");
    created["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn webhooks_are_signed_and_survive_the_receiver_being_down_for_a_while() {
    let addr = crate::fixtures::unused_addr();
    let app = TestApp::spawn_with(|c| {
        c.outbox.poll = Duration::from_millis(50);
        c.outbox.retry_base = Duration::from_millis(100);
        c.outbox.max_attempts = 50;
        c.leads.form_limit.max = 100;
    })
    .await;
    let endpoint = add_endpoint(&app, &format!("http://{addr}/hook")).await;
    for _ in 0..5 {
        app.post_json("/v1/consultations", None, &consultation())
            .await;
    }
    // Nothing listens yet: let deliveries fail a few times, then bring the receiver up.
    let owner = app.owner_token().await;
    wait_until("five failed deliveries in the log", || async {
        let log = app
            .get_as(&format!("/v1/admin/webhooks/{endpoint}/deliveries"), &owner)
            .await
            .json();
        log["items"].as_array().is_some_and(|l| l.len() >= 5)
    })
    .await;
    let receiver = WebhookReceiver::start_at(addr).await;
    receiver.wait_for(5).await;
    wait_until("all five webhooks delivered", || async {
        let done: i64 = app
            .count("outbox_jobs where kind = 'webhook' and status = 'done'")
            .await;
        done == 5
    })
    .await;
    // Give a duplicate, if any were coming, time to arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = receiver.received.lock().await.clone();
    let ids: HashSet<&str> = received
        .iter()
        .map(|r| r.header("x-frontdesk-delivery"))
        .collect();
    assert_eq!(ids.len(), 5, "every lead's webhook arrived");
    assert_eq!(received.len(), 5, "none twice");
    for delivery in &received {
        assert!(
            verify("whsec_test_secret_0123456789", delivery),
            "signature checks out"
        );
        assert_eq!(delivery.header("x-frontdesk-event"), "lead.created");
        let body = delivery.json();
        assert_eq!(body["id"], delivery.header("x-frontdesk-delivery"));
        assert_eq!(body["data"]["email"], "ada@example.com");
    }
    let log = app
        .get_as(&format!("/v1/admin/webhooks/{endpoint}/deliveries"), &owner)
        .await
        .json();
    let failures = log["items"]
        .as_array()
        .expect("log")
        .iter()
        .filter(|d| d["error"].is_string())
        .count();
    assert!(failures >= 5, "failed attempts are logged too");
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_parked_and_can_be_retried() {
    let receiver = WebhookReceiver::start().await;
    receiver
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let app = TestApp::spawn_with(|c| {
        c.outbox.poll = Duration::from_millis(50);
        c.outbox.retry_base = Duration::from_millis(50);
        c.outbox.max_attempts = 3;
    })
    .await;
    add_endpoint(&app, &receiver.url()).await;
    app.post_json("/v1/consultations", None, &consultation())
        .await;
    let owner = app.owner_token().await;
    let url = "/v1/admin/outbox?status=parked";
    wait_until("a parked webhook job", || async {
        !app.get_as(url, &owner).await.json()["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    })
    .await;
    let parked = app.get_as(url, &owner).await.json();
    let job = &parked["items"][0];
    assert_eq!(job["kind"], "webhook");
    assert_eq!(job["attempts"], 3);
    assert!(job["last_error"].as_str().expect("error").contains("500"));
    assert_eq!(receiver.received.lock().await.len(), 3);

    receiver
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let id = job["id"].as_str().expect("id");
    let retried = app
        .req(Method::POST, &format!("/v1/admin/outbox/{id}/retry"))
        .bearer(&owner)
        .send()
        .await;
    assert_eq!(retried.status, StatusCode::ACCEPTED);
    receiver.wait_for(4).await;
    wait_until("the retried webhook delivered", || async {
        app.get_as("/v1/admin/outbox?status=done&kind=webhook", &owner)
            .await
            .json()["items"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    })
    .await;
    let again = app
        .req(Method::POST, &format!("/v1/admin/outbox/{id}/retry"))
        .bearer(&owner)
        .send()
        .await;
    again.assert_problem(StatusCode::CONFLICT, "not-retryable");
}

#[tokio::test]
async fn webhook_endpoint_rules() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let bad = app
        .post_json(
            "/v1/admin/webhooks",
            Some(&owner),
            &json!({ "url": "ftp://x", "events": ["lead.deleted"], "secret": "short" }),
        )
        .await;
    assert_eq!(bad.field_errors(), ["url", "events[0]", "secret"]);
    let created = app
        .create(
            "/v1/admin/webhooks",
            &owner,
            &json!({ "url": "https://crm.example/hook", "events": ["lead.created"] }),
        )
        .await;
    let secret = created["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_"));
    let listed = app.get_as("/v1/admin/webhooks", &owner).await;
    assert!(!listed.text().contains(secret), "the secret is shown once");
    let id = created["id"].as_str().expect("id");
    let updated = app
        .put_json(&format!("/v1/admin/webhooks/{id}"), &owner, &json!({ "url": "https://crm.example/v2", "events": ["lead.status_changed"], "active": false }))
        .await
        .json();
    assert_eq!(updated["active"], false);
    assert_eq!(
        app.delete(&format!("/v1/admin/webhooks/{id}"), &owner)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_as(&format!("/v1/admin/webhooks/{id}"), &owner)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
