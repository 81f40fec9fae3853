//! What holds for the whole API, whatever the route: every list has one shape, every way a
//! lead is made goes through one path, and a person's export shows exactly what an erasure
//! removes, in every table that holds personal data.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::{WebhookReceiver, wait_until};
use crate::helpers::{TestApp, database_url, drop_database};
use crate::leads::{consultation, plan};
use crate::scheduling::{booking, call_type, host, slots, utc_starts};

/// Every list answers `{"items": [...], "next_cursor": ...}`, public or admin.
#[tokio::test]
async fn every_list_has_the_same_shape() {
    let app = TestApp::spawn().await;
    frontdesk::demo::seed(&app.state.core, 20)
        .await
        .expect("seed");
    let owner = app.owner_token().await;
    let endpoint = app
        .create(
            "/v1/admin/webhooks",
            &owner,
            &json!({ "url": "https://hooks.example.com/x", "events": ["lead.created"] }),
        )
        .await;
    let post_id = app.get_as("/v1/admin/posts", &owner).await.json()["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let public = [
        "/v1/services",
        "/v1/posts",
        "/v1/posts/why-rust-for-web-backends/related",
        "/v1/tags",
        "/v1/authors",
        "/v1/call-types",
        "/v1/search?q=rust",
    ];
    let admin = [
        "/v1/admin/services".to_owned(),
        "/v1/admin/users".to_owned(),
        "/v1/admin/api-tokens".to_owned(),
        "/v1/admin/audit".to_owned(),
        "/v1/admin/posts".to_owned(),
        format!("/v1/admin/posts/{post_id}/revisions"),
        "/v1/admin/authors".to_owned(),
        "/v1/admin/tags".to_owned(),
        "/v1/admin/series".to_owned(),
        "/v1/admin/leads".to_owned(),
        "/v1/admin/emails".to_owned(),
        "/v1/admin/newsletter/subscribers".to_owned(),
        "/v1/admin/webhooks".to_owned(),
        format!(
            "/v1/admin/webhooks/{}/deliveries",
            endpoint["id"].as_str().expect("id")
        ),
        "/v1/admin/outbox".to_owned(),
        "/v1/admin/hosts".to_owned(),
        "/v1/admin/call-types".to_owned(),
        "/v1/admin/bookings".to_owned(),
        "/v1/admin/assistant/conversations".to_owned(),
    ];
    let answers = public
        .iter()
        .map(|p| (p.to_string(), None))
        .chain(admin.iter().map(|p| (p.clone(), Some(owner.as_str()))));
    for (path, token) in answers {
        let response = match token {
            Some(token) => app.get_as(&path, token).await,
            None => app.get(&path).await,
        };
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{path}: {}",
            response.text()
        );
        let body = response.json();
        let keys: BTreeSet<&str> = body
            .as_object()
            .unwrap_or_else(|| panic!("{path} answers an object: {body}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert!(body["items"].is_array(), "{path}: {body}");
        assert!(keys.contains("next_cursor"), "{path}: {body}");
    }
}

/// A lead made by a booking is told to the team and to webhooks like any other lead.
#[tokio::test]
async fn a_lead_made_by_a_booking_is_announced_like_any_other() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let receiver = WebhookReceiver::start().await;
    app.create(
        "/v1/admin/webhooks",
        &owner,
        &json!({ "url": receiver.url(), "events": ["lead.created"] }),
    )
    .await;
    app.put_json(
        "/v1/admin/site",
        &owner,
        &json!({ "firm_name": "Northwind", "contact_email": "team@northwind.example",
                 "public_url": "https://northwind.example" }),
    )
    .await;
    let host = host(&app, &owner, "UTC").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;
    let start = utc_starts(&slots(&app, "intro", "tz=UTC").await)[0].clone();
    let made = app
        .post_json(
            "/v1/bookings",
            None,
            &booking("intro", &start, "ada@example.com"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());

    let delivered = receiver.wait_for(1).await;
    assert_eq!(delivered.len(), 1);
    let event = delivered[0].json();
    assert_eq!(event["event"], "lead.created");
    assert_eq!(event["data"]["kind"], "call");
    assert_eq!(event["data"]["email"], "ada@example.com");
    let team: i64 = app
        .count("outbox_jobs where kind = 'email' and payload->>'purpose' = 'lead_notification' and payload->>'to' = 'team@northwind.example'")
        .await;
    assert_eq!(team, 1, "the team hears of the new lead");
    let confirmations: i64 = app
        .count("outbox_jobs where payload->>'purpose' = 'lead_confirmation'")
        .await;
    assert_eq!(
        confirmations, 0,
        "the booking's own confirmation (with its invite) is the visitor's"
    );
}

/// Export and erasure see the same rows: what an export lists, erasure deletes, kind by
/// kind, and nothing of the person is left anywhere after it.
#[tokio::test]
async fn an_export_shows_exactly_what_an_erasure_removes() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let receiver = WebhookReceiver::start().await;
    app.create(
        "/v1/admin/webhooks",
        &owner,
        &json!({ "url": receiver.url(), "events": ["lead.created", "lead.status_changed"] }),
    )
    .await;
    app.put_json(
        "/v1/admin/site",
        &owner,
        &json!({ "firm_name": "Northwind", "contact_email": "team@northwind.example",
                 "public_url": "https://northwind.example" }),
    )
    .await;
    // Two forms, a booking, the newsletter, a conversation naming the address, a retried
    // request and a status change, all about ada@example.com.
    app.req(axum::http::Method::POST, "/v1/consultations")
        .header("idempotency-key", "ada-1")
        .json(&consultation())
        .send()
        .await;
    let mut her_plan = plan();
    her_plan["email"] = json!("ada@example.com");
    app.post_json("/v1/plan-requests", None, &her_plan).await;
    let host = host(&app, &owner, "UTC").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;
    let start = utc_starts(&slots(&app, "intro", "tz=UTC").await)[0].clone();
    app.post_json(
        "/v1/bookings",
        None,
        &booking("intro", &start, "ada@example.com"),
    )
    .await;
    app.post_json(
        "/v1/newsletter/subscriptions",
        None,
        &json!({ "email": "ada@example.com", "consent": true }),
    )
    .await;
    let conversation = app
        .post_json("/v1/assistant/conversations", None, &json!({}))
        .await
        .json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.post_json(
        &format!("/v1/assistant/conversations/{conversation}/messages"),
        None,
        &json!({ "text": "Please write to ada@example.com about prices." }),
    )
    .await;
    let lead = app.get_as("/v1/admin/leads?kind=plan", &owner).await.json()["items"][0]["id"]
        .as_str()
        .expect("lead")
        .to_owned();
    app.req(
        axum::http::Method::PATCH,
        &format!("/v1/admin/leads/{lead}"),
    )
    .bearer(&owner)
    .json(&json!({ "status": "contacted" }))
    .send()
    .await;
    // Someone else, who must keep everything.
    let mut other = consultation();
    other["email"] = json!("grace@example.com");
    app.post_json("/v1/consultations", None, &other).await;
    wait_until("the outbox to drain", || async {
        app.count("outbox_jobs where status = 'pending'").await == 0
    })
    .await;

    let export = app
        .get_as("/v1/admin/privacy/export?email=Ada@Example.com", &owner)
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    let records = export.json()["records"].clone();
    let exported: BTreeMap<String, i64> = records
        .as_object()
        .expect("records")
        .iter()
        .map(|(kind, list)| (kind.clone(), list.as_array().map_or(0, |l| l.len() as i64)))
        .collect();
    for kind in [
        "leads",
        "emails",
        "webhooks",
        "bookings",
        "newsletter_subscriptions",
        "assistant_conversations",
        "idempotency_records",
        "booking_cap_windows",
    ] {
        assert!(exported[kind] > 0, "{kind} is exported: {exported:?}");
    }
    // The team's and the host's notifications name her: they are hers to see.
    let emails = records["emails"].to_string();
    assert!(emails.contains("team@northwind.example"), "{emails}");

    let erased = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    let counts: BTreeMap<String, i64> =
        serde_json::from_value(erased.json()["counts"].clone()).expect("counts");
    assert_eq!(counts, exported, "erase removes exactly what export shows");

    // Nothing names her any more; the other person keeps everything.
    let left: i64 = sqlx::query_scalar(
        "select (select count(*) from leads where email = 'ada@example.com')
              + (select count(*) from bookings where email = 'ada@example.com')
              + (select count(*) from outbox_jobs where payload::text ilike '%ada@example.com%')
              + (select count(*) from assistant_messages where text ilike '%ada@example.com%')
              + (select count(*) from newsletter_subscribers where email = 'ada@example.com')",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(left, 0);
    let hers_after = app
        .get_as("/v1/admin/privacy/export?email=ada@example.com", &owner)
        .await
        .json()["records"]
        .clone();
    assert!(
        hers_after
            .as_object()
            .expect("records")
            .values()
            .all(|list| list.as_array().is_some_and(Vec::is_empty)),
        "{hers_after}"
    );
    let graces: i64 = app.count("leads where email = 'grace@example.com'").await;
    assert_eq!(graces, 1);
}

/// Every table is classified: covered by an export and erasure, or holding no visitor's
/// personal data. A new table fails this until it is.
#[tokio::test]
async fn every_table_with_personal_data_is_covered_by_export_and_erasure() {
    let app = TestApp::spawn().await;
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&app.db)
    .await
    .expect("tables")
    .into_iter()
    .collect();
    let classified: BTreeSet<String> = frontdesk::privacy::TABLES
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let unclassified: Vec<_> = tables.difference(&classified).collect();
    assert!(
        unclassified.is_empty(),
        "tables not in frontdesk::privacy::TABLES (say who exports and erases their personal data, or that they hold none): {unclassified:?}"
    );
    let stale: Vec<_> = classified.difference(&tables).collect();
    assert!(
        stale.is_empty(),
        "TABLES names tables that do not exist: {stale:?}"
    );
}

/// `seed-demo --posts N` makes N posts, on a database that holds only admin users, and
/// prints a sign-in that works.
#[tokio::test]
async fn seed_demo_honours_the_number_of_posts_and_prints_a_working_sign_in() {
    let db = format!("frontdesk_seed_{}", uuid::Uuid::new_v4().simple());
    let url = database_url(&db);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .output()
            .expect("run")
    };
    let refused = run(&["seed-demo", "--posts", "0"]);
    assert!(!refused.status.success());
    // An admin made first, as the README's walkthrough does, does not stop the seed.
    let mut create = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args([
            "admin",
            "create",
            "--email",
            "owner@example.com",
            "--role",
            "owner",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write as _;
        let mut stdin = create.stdin.take().expect("stdin");
        stdin
            .write_all(b"correct horse battery staple\n")
            .expect("password");
    }
    assert!(create.wait().expect("wait").success());
    let seeded = run(&["seed-demo", "--posts", "5"]);
    let stdout = String::from_utf8_lossy(&seeded.stdout).into_owned();
    assert!(
        seeded.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let posts: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(posts, 5, "{stdout}");
    let again = run(&["seed-demo"]);
    assert!(!again.status.success(), "a second seed is refused");
    pool.close().await;

    // The printed sign-in works.
    let password = stdout
        .split_whitespace()
        .find(|w| w.starts_with("demo-"))
        .expect("a password is printed");
    let config = frontdesk::Config::with_database_url(&url);
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let state = frontdesk::AppState::new(pool.clone(), config)
        .await
        .expect("state");
    let router = frontdesk::build_router(state);
    let mut request = axum::http::Request::post("/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({ "email": "maya@northwind.example", "password": password }).to_string(),
        ))
        .expect("request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            4000,
        ))));
    let login = crate::helpers::send_to(router, request).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let me: Value = login.json();
    assert_eq!(me["admin"]["role"], "sales", "{me}");
    pool.close().await;
    drop_database(&db).await;
}
