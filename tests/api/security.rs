//! What an attacker tried, and what now holds: limits on every public write, injection into
//! what we send, secrets and trust, and robustness when clients or the database misbehave.
//! Each test fails without its fix.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::fixtures::{WebhookReceiver, unused_addr, wait_until};
use crate::helpers::{PASSWORD, TestApp, blog_basics, post};
use crate::leads::consultation;
use crate::scheduling::{booking, call_type, host, slots, utc_starts};

/// A host and a one-host call type with free slots; returns the slug and some free starts.
async fn bookable(app: &TestApp) -> (String, Vec<String>) {
    let owner = app.owner_token().await;
    let host = host(app, &owner, "UTC").await;
    call_type(app, &owner, "intro", &[host], json!({})).await;
    let starts = utc_starts(&slots(app, "intro", "tz=UTC").await);
    assert!(starts.len() > 10, "{starts:?}");
    (String::from("intro"), starts)
}

async fn book_from(app: &TestApp, peer: &str, body: &Value) -> crate::helpers::TestResponse {
    app.req(Method::POST, "/v1/bookings")
        .peer(peer)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn bookings_are_limited_per_client_and_per_email_address() {
    let app = TestApp::spawn_with(|c| {
        c.scheduling.booking_limit.max = 3;
        c.scheduling.bookings_per_email_per_day = 2;
        c.scheduling.change_limit.max = 2;
    })
    .await;
    let (slug, starts) = bookable(&app).await;

    // One address, many IPs: the third booking for the victim is refused.
    for (i, start) in starts.iter().take(2).enumerate() {
        let made = book_from(
            &app,
            &format!("198.51.100.{}:1000", i + 1),
            &booking(&slug, start, "victim@example.org"),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    }
    let third = book_from(
        &app,
        "198.51.100.9:1000",
        &booking(&slug, &starts[2], "victim@example.org"),
    )
    .await;
    third.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    assert!(third.header("retry-after").is_some());

    // One IP, many addresses: the fourth booking from it is refused.
    let mut tokens = Vec::new();
    for (i, start) in starts[3..6].iter().enumerate() {
        let made = book_from(
            &app,
            "203.0.113.7:1000",
            &booking(&slug, start, &format!("v{i}@example.org")),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
        tokens.push(
            made.json()["manage_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    book_from(
        &app,
        "203.0.113.7:1000",
        &booking(&slug, &starts[6], "v9@example.org"),
    )
    .await
    .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let bookings: i64 = app.count("bookings").await;
    assert_eq!(bookings, 5);

    // Cancelling and moving count against their own limit.
    let cancel = |token: &str| {
        app.req(Method::POST, &format!("/v1/bookings/{token}/cancel"))
            .peer("203.0.113.7:1000")
            .json(&json!({}))
            .send()
    };
    assert_eq!(cancel(&tokens[0]).await.status, StatusCode::OK);
    let moved = app
        .req(
            Method::POST,
            &format!("/v1/bookings/{}/reschedule", tokens[1]),
        )
        .peer("203.0.113.7:1000")
        .json(&json!({ "start": starts[7] }))
        .send()
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    cancel(&tokens[2])
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let emails: i64 = app.count("outbox_jobs where kind = 'email'").await;
    // 5 bookings, a cancellation and a move, each telling visitor and host.
    assert_eq!(emails, 14);
}

#[tokio::test]
async fn share_clicks_and_conversation_reads_are_limited() {
    let app = TestApp::spawn_with(|c| {
        c.blog.share_limit.max = 3;
        c.assistant.read_limit.max = 2;
    })
    .await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create("/v1/admin/posts", &editor, &post("Popular", json!({})))
        .await;
    for _ in 0..3 {
        let shared = app
            .post_json("/v1/posts/popular/shares", None, &json!({ "network": "x" }))
            .await;
        assert_eq!(shared.status, StatusCode::NO_CONTENT, "{}", shared.text());
    }
    app.post_json("/v1/posts/popular/shares", None, &json!({ "network": "x" }))
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let counted: i64 =
        sqlx::query_scalar("select coalesce(sum(count), 0)::int8 from post_share_counts")
            .fetch_one(&app.db)
            .await
            .expect("sum");
    assert_eq!(counted, 3);

    let started = app
        .post_json("/v1/assistant/conversations", None, &json!({}))
        .await
        .json();
    let id = started["id"].as_str().expect("id").to_owned();
    for guess in [id.clone(), Uuid::now_v7().to_string()] {
        let read = app
            .get(&format!("/v1/assistant/conversations/{guess}"))
            .await;
        assert_ne!(read.status, StatusCode::TOO_MANY_REQUESTS);
    }
    app.get(&format!("/v1/assistant/conversations/{id}"))
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
}

#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 1).await;
    let send = |peer: &'static str| {
        app.req(Method::POST, "/v1/consultations")
            .peer(peer)
            .json(&consultation())
            .send()
    };
    assert_eq!(
        send("[2001:db8:1:2::1]:4000").await.status,
        StatusCode::CREATED
    );
    send("[2001:db8:1:2:ffff:ffff:ffff:fffe]:4000")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    assert_eq!(
        send("[2001:db8:1:3::1]:4000").await.status,
        StatusCode::CREATED,
        "another /64 is another client"
    );
}

#[tokio::test]
async fn every_forwarded_for_line_is_read_from_the_right() {
    let app = TestApp::spawn_with(|c| {
        c.leads.form_limit.max = 1;
        c.http.trusted_proxies = vec!["10.0.0.0/8".parse().expect("net")];
    })
    .await;
    // The client forges a first line; the proxy appends the real address as a second one.
    let send = |forged: &'static str| {
        app.req(Method::POST, "/v1/consultations")
            .peer("10.0.0.2:5000")
            .header("x-forwarded-for", forged)
            .header("x-forwarded-for", "198.51.100.7")
            .json(&consultation())
            .send()
    };
    assert_eq!(send("1.1.1.1").await.status, StatusCode::CREATED);
    send("2.2.2.2")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
}

#[tokio::test]
async fn parallel_wrong_passwords_cannot_pass_the_limit_or_lock_the_owner_out() {
    let app = TestApp::spawn().await;
    let email = app.create_admin(Role::Owner).await;
    // The owner signed in before, from 127.0.0.1 (the tests' default peer).
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);

    let mut attempts = Vec::new();
    for i in 0..60 {
        let router = app.router.clone();
        let email = email.clone();
        attempts.push(tokio::spawn(async move {
            let mut request = axum::http::Request::post("/v1/auth/login")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({ "email": email, "password": format!("guess number {i}") }).to_string(),
                ))
                .expect("request");
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([203, 0, 113, (i % 50) as u8 + 1], 6000)),
            ));
            crate::helpers::send_to(router, request).await.status
        }));
    }
    let mut unauthorized = 0;
    let mut limited = 0;
    for attempt in attempts {
        match attempt.await.expect("join") {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        unauthorized, 5,
        "only LOGIN_MAX_FAILURES guesses are checked"
    );
    assert_eq!(limited, 55);

    // The owner, from a network they used before, is not locked out.
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
    // From a new network they are slowed down: one attempt per window / max.
    let slowed = app
        .req(Method::POST, "/v1/auth/login")
        .peer("192.0.2.200:7000")
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await;
    slowed.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let wait: u64 = slowed
        .header("retry-after")
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!(
        wait <= 900 / 5,
        "slowed to one attempt per 180 s, not locked: {wait}"
    );

    // One client failing across many emails is stopped by its own limit (4 × 5).
    let mut last = StatusCode::OK;
    for i in 0..21 {
        last = app
            .req(Method::POST, "/v1/auth/login")
            .peer("198.51.100.99:7000")
            .json(
                &json!({ "email": format!("nobody{i}@example.com"), "password": "wrong password" }),
            )
            .send()
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn names_cannot_inject_lines_into_invites_and_feeds() {
    let app = TestApp::spawn().await;
    let (slug, starts) = bookable(&app).await;
    let mut hostile = booking(&slug, &starts[0], "ada@example.com");
    hostile["first_name"] =
        json!("Ada\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@x\r\nSUMMARY:Free money");
    hostile["last_name"] = json!("Lovelace\rX");
    let refused = app.post_json("/v1/bookings", None, &hostile).await;
    assert_eq!(refused.field_errors(), ["first_name", "last_name"]);
    for name in ["company", "first_name"] {
        let mut lead = consultation();
        lead[name] = json!("Engines\nBcc: everyone@example.com");
        let refused = app.post_json("/v1/consultations", None, &lead).await;
        assert_eq!(refused.field_errors(), [name]);
    }

    // Notes are multi-line: a lone CR becomes a line break, and the invite stays one event.
    let mut notes = booking(&slug, &starts[1], "ada@example.com");
    notes["notes"] = json!("first\rEND:VEVENT\rBEGIN:VEVENT\rUID:evil@x");
    let made = app.post_json("/v1/bookings", None, &notes).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let made = made.json();
    assert_eq!(
        made["booking"]["notes"],
        "first\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil@x"
    );
    let ics = app
        .get(&format!(
            "/v1/bookings/{}/invite.ics",
            made["manage_token"].as_str().expect("t")
        ))
        .await
        .text();
    let lines: Vec<&str> = ics.split("\r\n").collect();
    assert_eq!(
        lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(),
        1,
        "{ics}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("UID:evil")), "{ics}");
    assert!(!ics.replace("\r\n", "").contains('\r'), "{ics}");
}

#[tokio::test]
async fn only_a_plain_email_address_is_taken_and_it_is_matched_everywhere() {
    let app = TestApp::spawn().await;
    for bad in [
        "Eve <victim@example.org>",
        "\"victim\"@example.org",
        "victim@[192.0.2.1]",
        "victim@example.org (Eve)",
    ] {
        let mut lead = consultation();
        lead["email"] = json!(bad);
        let refused = app.post_json("/v1/consultations", None, &lead).await;
        assert_eq!(refused.field_errors(), ["email"], "{bad}");
        let subscribed = app
            .post_json(
                "/v1/newsletter/subscriptions",
                None,
                &json!({ "email": bad, "consent": true }),
            )
            .await;
        assert_eq!(subscribed.field_errors(), ["email"], "{bad}");
    }
    // Stored in one canonical form, so export and erasure find it however it is typed.
    let mut lead = consultation();
    lead["email"] = json!("Victim@Example.ORG");
    app.post_json("/v1/consultations", None, &lead).await;
    let owner = app.owner_token().await;
    let export = app
        .get_as("/v1/admin/privacy/export?email=victim@example.org", &owner)
        .await
        .json();
    assert_eq!(export["records"]["leads"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn table_of_contents_text_is_safe_html_and_author_ids_are_dropped() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let body = "Intro.\n\n## \\<img src=x onerror=alert(1)\\>\n\nText.\n\n<div id=\"site-header\">spoof</div>\n";
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Hostile", json!({ "body": body })),
    )
    .await;
    let page = app.get("/v1/posts/hostile").await.json();
    assert_eq!(page["toc"][0]["text"], "&lt;img src=x onerror=alert(1)&gt;");
    let html = page["html"].as_str().expect("html");
    assert!(!html.contains("site-header"), "{html}");
    assert!(!html.contains("<img"), "{html}");
}

#[tokio::test]
async fn unsubscribe_links_use_a_generated_secret_shared_by_replicas() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let subscribed = app
        .post_json(
            "/v1/newsletter/subscriptions",
            None,
            &json!({ "email": "reader@example.com", "consent": true }),
        )
        .await;
    assert_eq!(subscribed.status, StatusCode::ACCEPTED);
    let url: String = sqlx::query_scalar(
        "select payload->>'unsubscribe_url' from outbox_jobs where payload->>'to' = 'reader@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .expect("link");
    let path = url.trim_start_matches(&app.state.config.http.public_api_url);
    // The link made by one replica works on another.
    assert_eq!(replica.get(path).await.status, StatusCode::OK);
    let stored: i64 = app.count("app_secrets where name = 'link_signing'").await;
    assert_eq!(stored, 1);

    // The old built-in development secret no longer signs anything.
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(
        b"frontdesk development signing secret: set SIGNING_SECRET",
    )
    .expect("key");
    mac.update(b"unsubscribe:reader@example.com");
    let forged =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let forged = app
        .get(&format!(
            "/v1/newsletter/unsubscribe?email=reader@example.com&sig={forged}"
        ))
        .await;
    forged.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn webhooks_never_reach_private_addresses_unless_allowed() {
    let app = TestApp::spawn_with(|c| c.webhooks.allow_private = false).await;
    let owner = app.owner_token().await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://2130706433/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/hook",
        "https://user:secret@hooks.example.com/",
    ] {
        let refused = app
            .post_json(
                "/v1/admin/webhooks",
                Some(&owner),
                &json!({ "url": url, "events": ["lead.created", "lead.created"] }),
            )
            .await;
        assert_eq!(refused.field_errors(), ["url"], "{url}");
    }
    // One stored before the rules (or while private hosts were allowed) is not delivered to,
    // and the log does not say why the connection failed.
    let receiver = WebhookReceiver::start().await;
    sqlx::query(
        "insert into webhook_endpoints (id, url, events, secret) values ($1, $2, '{lead.created}', 'whsec_0123456789abcdef')",
    )
    .bind(Uuid::now_v7())
    .bind(receiver.url())
    .execute(&app.db)
    .await
    .expect("endpoint");
    app.post_json("/v1/consultations", None, &consultation())
        .await;
    // A claim counts the attempt before it is made; the error is written once it failed.
    wait_until("a first failed webhook attempt", || async {
        app.count("outbox_jobs where kind = 'webhook' and last_error is not null")
            .await
            > 0
    })
    .await;
    assert!(receiver.received.lock().await.is_empty());
    let error: String =
        sqlx::query_scalar("select last_error from outbox_jobs where kind = 'webhook'")
            .fetch_one(&app.db)
            .await
            .expect("error");
    assert!(error.contains("public internet address"), "{error}");
}

#[tokio::test]
async fn delivery_errors_do_not_tell_refused_from_timed_out() {
    let app = TestApp::spawn_with(|c| c.webhooks.timeout = Duration::from_secs(1)).await;
    let owner = app.owner_token().await;
    // Nothing listens on one; the other accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for addr in [unused_addr(), silent_addr] {
        app.create(
            "/v1/admin/webhooks",
            &owner,
            &json!({ "url": format!("http://{addr}/hook"), "events": ["lead.created"] }),
        )
        .await;
    }
    app.post_json("/v1/consultations", None, &consultation())
        .await;
    wait_until("two logged deliveries", || async {
        app.count("webhook_deliveries").await >= 2
    })
    .await;
    let errors: Vec<String> = sqlx::query_scalar("select distinct error from webhook_deliveries")
        .fetch_all(&app.db)
        .await
        .expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[tokio::test]
async fn the_model_client_follows_no_redirect() {
    use axum::routing::post as route_post;
    let hit = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let target = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let target_addr = target.local_addr().expect("addr");
    let seen = hit.clone();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            route_post(move || {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                async { "{}" }
            }),
        );
        let _ = axum::serve(target, app).await;
    });
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let redirector_addr = redirector.local_addr().expect("addr");
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            route_post(move || async move {
                axum::response::Redirect::temporary(&format!(
                    "http://{target_addr}/v1/chat/completions"
                ))
            }),
        );
        let _ = axum::serve(redirector, app).await;
    });
    let app = TestApp::spawn_with(|c| {
        c.assistant.llm_url = Some(format!("http://{redirector_addr}/v1"));
    })
    .await;
    let id = app
        .post_json("/v1/assistant/conversations", None, &json!({}))
        .await
        .json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reply = app
        .post_json(
            &format!("/v1/assistant/conversations/{id}/messages"),
            None,
            &json!({ "text": "What services do you offer?" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["engine"], "builtin");
    assert!(
        !hit.load(std::sync::atomic::Ordering::SeqCst),
        "the key was sent on to the redirect's target"
    );
}

#[tokio::test]
async fn api_tokens_stop_when_their_owner_is_no_longer_an_active_owner() {
    let app = TestApp::spawn().await;
    let other_owner = app.owner_token().await;
    let maker = app.owner_token().await;
    let me = app.get_as("/v1/auth/me", &maker).await.json();
    let maker_id = me["id"].as_str().expect("id").to_owned();
    let secret = app
        .create(
            "/v1/admin/api-tokens",
            &maker,
            &json!({ "name": "sync", "scopes": ["catalogue:write", "catalogue:write"] }),
        )
        .await["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let works = || app.get_as("/v1/admin/services", &secret);
    assert_eq!(works().await.status, StatusCode::OK);
    let change = |body: Value| {
        app.req(Method::PATCH, &format!("/v1/admin/users/{maker_id}"))
            .bearer(&other_owner)
            .json(&body)
            .send()
    };
    assert_eq!(
        change(json!({ "role": "editor" })).await.status,
        StatusCode::OK
    );
    works()
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        change(json!({ "role": "owner" })).await.status,
        StatusCode::OK
    );
    assert_eq!(
        works().await.status,
        StatusCode::OK,
        "re-checked, not revoked"
    );
    assert_eq!(
        change(json!({ "active": false })).await.status,
        StatusCode::OK
    );
    works()
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        change(json!({ "active": true })).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&format!("/v1/admin/users/{maker_id}"), &other_owner)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    works()
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn idempotency_records_hold_no_secret_belong_to_their_client_and_are_erased() {
    let app = TestApp::spawn().await;
    let (slug, starts) = bookable(&app).await;
    let body = booking(&slug, &starts[0], "ada@example.com");
    let send = |peer: &'static str| {
        app.req(Method::POST, "/v1/bookings")
            .peer(peer)
            .header("idempotency-key", "booking-key-1")
            .json(&body)
            .send()
    };
    let first = send("198.51.100.1:1000").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let token = first.json()["manage_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let retry = send("198.51.100.1:1000").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    let retry = retry.json();
    assert_eq!(retry["booking"]["id"], first.json()["booking"]["id"]);
    assert!(
        retry["manage_token"].is_null(),
        "the secret is not replayed"
    );

    // Someone else with the same key and body gets no replay: the slot is simply taken.
    send("203.0.113.5:1000")
        .await
        .assert_problem(StatusCode::CONFLICT, "slot-taken");

    let stored: Vec<String> =
        sqlx::query_scalar("select coalesce(response::text, '') from idempotency_keys")
            .fetch_all(&app.db)
            .await
            .expect("records");
    for record in &stored {
        assert!(!record.contains(&token), "{record}");
        assert!(!record.contains("ada@example.com"), "{record}");
        assert!(!record.contains("Lovelace"), "{record}");
    }
    let owner = app.owner_token().await;
    let erased = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    assert_eq!(erased.json()["counts"]["idempotency_records"], 1);
    let left: i64 = app.count("idempotency_keys").await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn an_unreachable_database_answers_503_with_retry_after() {
    let app = TestApp::spawn().await;
    let gone = crate::helpers::server_options().port(unused_addr().port());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(gone);
    let state = frontdesk::AppState::with_signer(
        frontdesk::db::Databases::single(pool),
        (*app.state.config).clone(),
        frontdesk::signing::Signer::from_key(b"test"),
    )
    .expect("state");
    let router = frontdesk::build_router(state);
    for (method, path, body) in [
        ("POST", "/v1/consultations", Some(consultation())),
        ("GET", "/v1/services", None),
    ] {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(axum::body::Body::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            ))
            .expect("request");
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                4000,
            ))));
        let response = crate::helpers::send_to(router.clone(), request).await;
        response.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert_eq!(response.header("retry-after"), Some("5"), "{path}");
    }
}

#[tokio::test]
async fn bad_admin_input_is_a_clear_error_not_a_500() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let a = host(&app, &owner, "UTC").await;
    let b = host(&app, &owner, "Europe/Berlin").await;
    // Duplicates that are not next to each other.
    let made = app
        .post_json(
            "/v1/admin/call-types",
            Some(&owner),
            &json!({ "name": "Dup", "slug": "dup", "duration_minutes": 30, "host_ids": [a, b, a] }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.json()["host_ids"].as_array().map(Vec::len), Some(2));
    let hook = app
        .post_json(
            "/v1/admin/webhooks",
            Some(&owner),
            &json!({ "url": "https://hooks.example.com/x",
                     "events": ["lead.created", "newsletter.confirmed", "lead.created"] }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    assert_eq!(hook.json()["events"].as_array().map(Vec::len), Some(2));
    let token = app
        .post_json(
            "/v1/admin/api-tokens",
            Some(&owner),
            &json!({ "name": "t", "scopes": ["leads:read", "audit:read", "leads:read"] }),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.text());
    assert_eq!(token.json()["scopes"].as_array().map(Vec::len), Some(2));

    // A host with a booking cannot be deleted as an admin user: 409, not a foreign-key 500.
    let starts = utc_starts(&slots(&app, "dup", "tz=UTC").await);
    let booked = app
        .post_json(
            "/v1/bookings",
            None,
            &booking("dup", &starts[0], "ada@example.com"),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text());
    let host_of: Uuid = sqlx::query_scalar("select host_id from bookings")
        .fetch_one(&app.db)
        .await
        .expect("host");
    app.delete(&format!("/v1/admin/users/{host_of}"), &owner)
        .await
        .assert_problem(StatusCode::CONFLICT, "host-has-bookings");
}

#[tokio::test]
async fn admin_answers_are_never_stored_by_caches() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    for path in ["/v1/admin/leads", "/v1/admin/users", "/v1/auth/me"] {
        let response = app.get_as(path, &owner).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
    }
    let created = app
        .post_json("/v1/consultations", None, &consultation())
        .await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    // Public content stays cacheable.
    let public = app.get("/v1/services").await;
    assert_eq!(public.header("cache-control"), Some("public, no-cache"));
}

#[tokio::test]
async fn old_jobs_bookings_and_sessions_are_purged() {
    let app = TestApp::spawn().await;
    let (slug, starts) = bookable(&app).await;
    app.post_json(
        "/v1/bookings",
        None,
        &booking(&slug, &starts[0], "a@example.com"),
    )
    .await;
    let recent = app
        .post_json(
            "/v1/bookings",
            None,
            &booking(&slug, &starts[1], "b@example.com"),
        )
        .await
        .json();
    wait_until("the outbox to drain", || async {
        app.count("outbox_jobs where status = 'pending'").await == 0
    })
    .await;
    // Age the first booking and its mails past the retention.
    sqlx::query(
        "update bookings set status = 'cancelled', cancelled_at = now() - interval '100 days' where email = 'a@example.com'",
    )
    .execute(&app.db)
    .await
    .expect("age booking");
    sqlx::query(
        "update outbox_jobs set done_at = now() - interval '100 days' where payload->>'to' = 'a@example.com'",
    )
    .execute(&app.db)
    .await
    .expect("age jobs");
    sqlx::query("update auth_sessions set expires_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .expect("expire sessions");
    frontdesk::jobs::worker::run_housekeeping(
        &app.state.core.db,
        &frontdesk::app::retention_jobs(90),
    )
    .await;
    let old: i64 = app.count("bookings where email = 'a@example.com'").await;
    assert_eq!(old, 0);
    let kept: i64 = app
        .count(&format!(
            "bookings where id = '{}'",
            recent["booking"]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(kept, 1);
    let old_mail: i64 = app
        .count("outbox_jobs where payload->>'to' = 'a@example.com'")
        .await;
    assert_eq!(old_mail, 0);
    let recent_mail: i64 = app
        .count("outbox_jobs where payload->>'to' = 'b@example.com'")
        .await;
    assert_eq!(recent_mail, 1);
    let sessions: i64 = app.count("auth_sessions").await;
    assert_eq!(sessions, 0);
}

/// Over a real TCP port: a client that never finishes its headers is cut off, and the
/// connection cap makes others wait rather than exhausting the process.
#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_capped() {
    let app = TestApp::spawn().await;
    let (addr, stop, server) = serve_over_tcp(&app, |c| {
        c.http.header_read_timeout = Duration::from_secs(1);
        c.http.max_connections = 1;
    })
    .await;

    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = std::time::Instant::now();
    // A second client waits while the slow one holds the only connection...
    let mut waiting = tokio::net::TcpStream::connect(addr).await.expect("connect");
    waiting
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let early =
        tokio::time::timeout(Duration::from_millis(400), waiting.read_to_end(&mut answer)).await;
    assert!(early.is_err(), "answered beyond the connection cap");
    // ...the slow one is cut off by the header timeout...
    let mut rest = Vec::new();
    // Closed (or reset) by the server within the timeout, not held open.
    let _closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("the slow client was held open");
    assert!(started.elapsed() >= Duration::from_millis(800));
    // ...and then the waiting one is served.
    tokio::time::timeout(Duration::from_secs(5), waiting.read_to_end(&mut answer))
        .await
        .expect("served after the slow client left")
        .expect("read");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    let _ = stop.send(());
    server.await.expect("join").expect("served");
}

/// During the shutdown delay every answer asks the client to close its connection, so a
/// balancer moves its pooled connections away before the listener closes.
#[tokio::test]
async fn draining_answers_ask_for_the_connection_to_close() {
    let app = TestApp::spawn().await;
    let (addr, stop, server) =
        serve_over_tcp(&app, |c| c.http.shutdown_delay = Duration::from_secs(2)).await;
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let ask = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.write_all(ask("/health/live").as_bytes())
        .await
        .expect("write");
    let before = read_head(&mut conn).await;
    assert!(before.starts_with("http/1.1 200"), "{before}");
    assert!(!before.contains("connection: close"), "{before}");

    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.write_all(ask("/health/ready").as_bytes())
        .await
        .expect("write");
    let during = read_head(&mut conn).await;
    assert!(during.starts_with("http/1.1 503"), "{during}");
    assert!(during.contains("connection: close"), "{during}");
    server.await.expect("join").expect("served");
}

async fn read_head(conn: &mut tokio::net::TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("answer")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).to_lowercase()
}

type Served = tokio::task::JoinHandle<std::io::Result<()>>;

/// The app's database served over a real TCP port with changed settings; send on the
/// channel to shut it down.
async fn serve_over_tcp(
    app: &TestApp,
    configure: impl FnOnce(&mut frontdesk::Config),
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    Served,
) {
    let mut config = (*app.state.config).clone();
    configure(&mut config);
    let state = frontdesk::AppState::new(app.db.clone(), config)
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(frontdesk::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}
