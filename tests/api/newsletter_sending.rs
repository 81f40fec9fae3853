//! Sending the newsletter, observed at a real SMTP server on loopback and parsed with a
//! real MIME parser: every confirmed reader exactly once, their own working one-click
//! unsubscribe, HTML and text parts, the firm's address; a replica stopping mid-send;
//! topics; scheduling and "publish and send"; test sends; bounces and complaints.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::app::Config;
use frontdesk::auth::Role;
use mail_parser::MessageParser;
use serde_json::{Value, json};

use crate::fixtures::{Mail, SmtpServer, wait_until};
use crate::helpers::{TestApp, blog_basics, post};

const API: &str = "https://api.northwind.example";

async fn app_with(smtp: &SmtpServer, configure: impl FnOnce(&mut Config)) -> TestApp {
    let url = smtp.url();
    TestApp::spawn_with(move |c| {
        c.mail.smtp_url = Some(url.into());
        c.outbox.poll = Duration::from_millis(50);
        c.outbox.retry_base = Duration::from_millis(200);
        c.http.public_api_url = API.into();
        c.newsletter.send_rate = 0.0;
        configure(c);
    })
    .await
}

/// The site profile (its address goes in the footer), the blog's basics, one published
/// post; returns an editor's token.
async fn newsroom(app: &TestApp) -> String {
    let owner = app.owner_token().await;
    let saved = app
        .put_json(
            "/v1/admin/site",
            &owner,
            &json!({
                "firm_name": "Northwind Software",
                "tagline": "Software that earns its keep",
                "contact_email": "hello@northwind.example",
                "postal_address": {
                    "street": "12 Harbour Street", "locality": "Bristol",
                    "postal_code": "BS1 4RN", "country": "GB"
                },
                "public_url": "https://northwind.example"
            }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    blog_basics(app, &owner).await;
    let editor = app.token_for(Role::Editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Why we write backends in Rust",
            json!({ "slug": "why-rust", "body": "Speed, and [our work](/services/rust).\n\n![A chart](/img/chart.png)" }),
        ),
    )
    .await;
    editor
}

/// `n` readers in `status` named `{prefix}{i}@example.com`, with these topics.
async fn readers(app: &TestApp, prefix: &str, n: i32, status: &str, topics: &[&str]) {
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    sqlx::query(
        "insert into newsletter_subscribers (id, email, status, consent_text_version, confirmed_at, unsubscribed_at, topics)
         select gen_random_uuid(), $1 || i || '@example.com', $2, 'v1',
                case when $2 = 'confirmed' then now() end, case when $2 = 'unsubscribed' then now() end, $4
         from generate_series(1, $3) as i",
    )
    .bind(prefix)
    .bind(status)
    .bind(n)
    .bind(&topics)
    .execute(&app.db)
    .await
    .expect("seed readers");
}

async fn send(app: &TestApp, token: &str, body: &Value) -> Value {
    let made = app
        .post_json("/v1/admin/newsletter/issues", Some(token), body)
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    made.json()
}

async fn issue(app: &TestApp, token: &str, id: &str) -> Value {
    let got = app
        .get_as(&format!("/v1/admin/newsletter/issues/{id}"), token)
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    got.json()
}

async fn wait_sent(app: &TestApp, token: &str, id: &str) -> Value {
    wait_until("the issue to be sent", || async {
        issue(app, token, id).await["status"] == "sent"
    })
    .await;
    issue(app, token, id).await
}

struct Parsed {
    to: String,
    subject: String,
    html: String,
    text: String,
    unsubscribe: String,
    message_id: String,
}

fn parse(mail: &Mail) -> Parsed {
    let message = MessageParser::default()
        .parse(mail.data.as_bytes())
        .expect("a MIME message");
    let unsubscribe = message
        .header_raw("List-Unsubscribe")
        .expect("List-Unsubscribe")
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert_eq!(
        message.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    Parsed {
        to: mail.to.join(","),
        subject: message.subject().unwrap_or_default().to_owned(),
        html: message.body_html(0).expect("an HTML part").into_owned(),
        text: message.body_text(0).expect("a text part").into_owned(),
        unsubscribe,
        message_id: message.message_id().unwrap_or_default().to_owned(),
    }
}

/// The mails each address received.
async fn by_recipient(smtp: &SmtpServer) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for mail in smtp.mails.lock().await.iter() {
        for to in &mail.to {
            *seen.entry(to.clone()).or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test]
async fn a_post_goes_to_every_confirmed_reader_once_with_their_own_one_click_unsubscribe() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |_| {}).await;
    let editor = newsroom(&app).await;
    readers(&app, "reader", 200, "confirmed", &[]).await;
    readers(&app, "pending", 15, "pending", &[]).await;
    readers(&app, "gone", 15, "unsubscribed", &[]).await;

    let made = send(&app, &editor, &json!({ "post": "why-rust" })).await;
    let id = made["id"].as_str().expect("id").to_owned();
    let done = wait_sent(&app, &editor, &id).await;
    let stats = &done["stats"];
    assert_eq!(stats["recipients"], 200, "{done}");
    assert_eq!(stats["sent"], 200, "{done}");
    assert_eq!(stats["failed"], 0, "{done}");
    assert_eq!(done["subject"], "Why we write backends in Rust");
    assert!(done["finished_at"].is_string(), "{done}");

    // Nothing more arrives: each confirmed reader exactly once, nobody else.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = by_recipient(&smtp).await;
    let expected: BTreeSet<String> = (1..=200)
        .map(|i| format!("reader{i}@example.com"))
        .collect();
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");

    let mails: Vec<Parsed> = smtp.mails.lock().await.iter().map(parse).collect();
    let mut links = BTreeSet::new();
    for mail in &mails {
        assert_eq!(mail.subject, "Why we write backends in Rust");
        assert!(
            mail.unsubscribe
                .starts_with(&format!("{API}/v1/newsletter/unsubscribe?email=")),
            "{}",
            mail.unsubscribe
        );
        assert!(
            mail.unsubscribe.contains(&mail.to.replace('@', "%40")),
            "{} for {}",
            mail.unsubscribe,
            mail.to
        );
        for part in [&mail.html, &mail.text] {
            assert!(part.contains("12 Harbour Street"), "{part}");
            assert!(part.contains("BS1 4RN Bristol"), "{part}");
            assert!(part.contains("Northwind Software"), "{part}");
            assert!(part.contains("/newsletter/preferences?email="), "{part}");
            assert!(part.contains("/newsletter/unsubscribe?email="), "{part}");
        }
        assert!(
            mail.html
                .contains("href=\"https://northwind.example/services/rust\"")
        );
        assert!(
            mail.html
                .contains("src=\"https://northwind.example/img/chart.png\"")
        );
        assert!(mail.html.contains("<p style="), "{}", mail.html);
        assert!(mail.text.contains("Speed, and [our work](/services/rust)."));
        links.insert(mail.unsubscribe.clone());
    }
    assert_eq!(links.len(), 200, "every reader has their own link");

    // The footer's unsubscribe link opens a page; opening it changes nothing, its button
    // unsubscribes.
    let other = &mails[3];
    let footer = other
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Unsubscribe: "))
        .expect("unsubscribe link")
        .trim()
        .trim_start_matches(API)
        .to_owned();
    assert!(
        footer.starts_with("/newsletter/unsubscribe?email="),
        "{footer}"
    );
    let page = app.get(&footer).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("<form method=\"post\">"),
        "{}",
        page.text()
    );
    assert_eq!(
        app.count("newsletter_subscribers where status = 'confirmed'")
            .await,
        200
    );
    let pressed = app
        .req(Method::POST, &footer)
        .raw_body("application/x-www-form-urlencoded", "")
        .send()
        .await;
    assert_eq!(pressed.status, StatusCode::OK);
    assert!(pressed.text().contains("You are unsubscribed"));

    // A reader's mail client posts the one-click unsubscribe: that reader only is off.
    let one = &mails[17];
    let path = one.unsubscribe.trim_start_matches(API);
    let clicked = app
        .req(Method::POST, path)
        .raw_body(
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .send()
        .await;
    assert_eq!(clicked.status, StatusCode::OK, "{}", clicked.text());
    let status: String =
        sqlx::query_scalar("select status from newsletter_subscribers where email = $1")
            .bind(&one.to)
            .fetch_one(&app.db)
            .await
            .expect("status");
    assert_eq!(status, "unsubscribed");
    assert_eq!(
        app.count("newsletter_subscribers where status = 'confirmed'")
            .await,
        198
    );
    let after = issue(&app, &editor, &id).await;
    assert_eq!(after["stats"]["unsubscribed_after"], 2, "{after}");

    // A post goes out once.
    let again = app
        .post_json(
            "/v1/admin/newsletter/issues",
            Some(&editor),
            &json!({ "post": "why-rust" }),
        )
        .await;
    again.assert_problem(StatusCode::CONFLICT, "already-sent");
}

#[tokio::test]
async fn a_replica_stopping_mid_send_leaves_the_rest_to_another_and_nobody_gets_it_twice() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |c| {
        c.newsletter.send_rate = 40.0;
        c.outbox.lease = Duration::from_secs(1);
    })
    .await;
    let editor = newsroom(&app).await;
    readers(&app, "reader", 200, "confirmed", &[]).await;
    let asked = std::time::Instant::now();
    let made = send(&app, &editor, &json!({ "post": "why-rust" })).await;
    let id = made["id"].as_str().expect("id").to_owned();

    wait_until("the first mails", || async {
        smtp.mails.lock().await.len() >= 30
    })
    .await;
    // Paced: the deliveries are due 1/40 s apart, so 30 cannot have gone in under 29/40 s.
    assert!(asked.elapsed() >= Duration::from_millis(29 * 1000 / 40));
    let spread: f64 = sqlx::query_scalar(
        "select extract(epoch from max(run_at) - min(run_at))::float8 from outbox_jobs
         where kind = 'newsletter.delivery'",
    )
    .fetch_one(&app.db)
    .await
    .expect("spread");
    assert!((spread - 199.0 / 40.0).abs() < 0.01, "due over {spread} s");
    // The first replica stops; its unstarted jobs are handed back.
    app.state.shutdown.cancel();
    wait_until("the first replica's workers to stop", || async {
        app.count("outbox_jobs where status = 'running'").await == 0
    })
    .await;
    let before = smtp.mails.lock().await.len();
    assert!(before < 200, "the send was over before the stop: {before}");

    // What a replica killed outright leaves: one message in the middle of its SMTP
    // exchange (it may or may not have arrived), three claimed and not started.
    let queued: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "select id, email from newsletter_deliveries where status = 'queued' order by id limit 4",
    )
    .fetch_all(&app.db)
    .await
    .expect("queued");
    assert_eq!(queued.len(), 4);
    let interrupted = &queued[0];
    sqlx::query("update newsletter_deliveries set status = 'sending' where id = $1")
        .bind(interrupted.0)
        .execute(&app.db)
        .await
        .expect("mid-send");
    let ids: Vec<String> = queued.iter().map(|(id, _)| id.to_string()).collect();
    sqlx::query(
        "update outbox_jobs set status = 'running', attempts = attempts + 1,
                locked_until = now() + interval '1 second'
         where payload->>'delivery' = any($1)",
    )
    .bind(&ids)
    .execute(&app.db)
    .await
    .expect("claimed by the dead replica");

    // Another replica (its own workers, the same database) takes over.
    let other = app.replica().await;
    let done = wait_sent(&app, &editor, &id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = by_recipient(&smtp).await;
    assert!(
        seen.values().all(|n| *n == 1),
        "someone got it twice: {seen:?}"
    );
    assert!(
        !seen.contains_key(&interrupted.1),
        "the interrupted one was sent again"
    );
    assert_eq!(seen.len(), 199);
    assert_eq!(done["stats"]["sent"], 199, "{done}");
    assert_eq!(done["stats"]["uncertain"], 1, "{done}");
    other.state.shutdown.cancel();
}

#[tokio::test]
async fn a_topic_goes_only_to_its_readers_who_choose_it_at_signup_and_from_their_link() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |_| {}).await;
    let editor = newsroom(&app).await;
    readers(&app, "rustacean", 3, "confirmed", &["rust"]).await;
    readers(&app, "designer", 2, "confirmed", &["design"]).await;
    readers(&app, "everything", 2, "confirmed", &[]).await;

    // At signup: topics must be tags.
    let unknown = app
        .post_json(
            "/v1/newsletter/subscriptions",
            None,
            &json!({ "email": "new@example.com", "consent": true, "topics": ["cooking"] }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.field_errors(), ["topics"]);
    let joined = app
        .post_json(
            "/v1/newsletter/subscriptions",
            None,
            &json!({ "email": "new@example.com", "consent": true, "topics": ["rust", "postgres"] }),
        )
        .await;
    assert_eq!(joined.status, StatusCode::ACCEPTED, "{}", joined.text());
    let topics: Vec<String> = sqlx::query_scalar(
        "select topics from newsletter_subscribers where email = 'new@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .expect("topics");
    assert_eq!(topics, ["postgres", "rust"]);
    smtp.wait_for(1).await;
    smtp.mails.lock().await.clear();

    let made = send(
        &app,
        &editor,
        &json!({ "post": "why-rust", "topic": "rust" }),
    )
    .await;
    let id = made["id"].as_str().expect("id").to_owned();
    let done = wait_sent(&app, &editor, &id).await;
    assert_eq!(done["topic"], "rust");
    assert_eq!(done["stats"]["recipients"], 3, "{done}");
    let seen = by_recipient(&smtp).await;
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        [
            "rustacean1@example.com",
            "rustacean2@example.com",
            "rustacean3@example.com"
        ]
    );

    // The preferences link in the footer opens a page that shows and changes the reader's
    // topics; the API answers the same link's query as JSON.
    let mail = parse(&smtp.mails.lock().await[0]);
    let link = mail
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Manage your preferences: "))
        .expect("preferences link")
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("{API}/newsletter/preferences?email=")),
        "{link}"
    );
    let page_path = link.trim_start_matches(API).to_owned();
    let page = app.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(page.header("content-security-policy").is_some());
    let html = page.text();
    assert!(
        html.contains("name=\"topics\" value=\"rust\" checked"),
        "{html}"
    );
    assert!(html.contains("name=\"topics\" value=\"design\">"), "{html}");
    assert!(html.contains(&mail.to), "{html}");
    let saved = app
        .req(Method::POST, &page_path)
        .raw_body(
            "application/x-www-form-urlencoded",
            "topics=design&topics=postgres",
        )
        .send()
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert!(saved.text().contains("Saved."));
    assert!(saved.text().contains("value=\"postgres\" checked"));
    let path = page_path.replace("/newsletter/preferences", "/v1/newsletter/preferences");
    let shown = app.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(shown.json()["topics"], json!(["design", "postgres"]));
    assert_eq!(shown.json()["email"], mail.to);
    let slugs: Vec<String> = shown.json()["available_topics"]
        .as_array()
        .expect("topics")
        .iter()
        .filter_map(|t| t["slug"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(slugs, ["design", "postgres", "rust"]);
    let changed = app
        .req(Method::PUT, &path)
        .json(&json!({ "topics": ["design"] }))
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["topics"], json!(["design"]));
    let bad = app
        .req(Method::PUT, &path)
        .json(&json!({ "topics": ["nope"] }))
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_page = app
        .req(Method::POST, &page_path)
        .raw_body("application/x-www-form-urlencoded", "topics=nope")
        .send()
        .await;
    assert_eq!(bad_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_page.text().contains("No tag has the slug nope"),
        "{}",
        bad_page.text()
    );
    let forged = app
        .get(&page_path.replace(&mail.to.replace('@', "%40"), "eve%40example.com"))
        .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(forged.text().contains("not valid"), "{}", forged.text());
    // The unsubscribe link's signature is not a preferences link's.
    let crossed = mail
        .unsubscribe
        .trim_start_matches(API)
        .replace("/unsubscribe?", "/preferences?");
    assert_eq!(app.get(&crossed).await.status, StatusCode::NOT_FOUND);

    let unknown_topic = app
        .post_json(
            "/v1/admin/newsletter/issues",
            Some(&editor),
            &json!({ "post": "why-rust", "topic": "cooking" }),
        )
        .await;
    assert_eq!(unknown_topic.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn issues_wait_for_their_time_and_publish_and_send_publishes_first() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |c| {
        c.blog.scheduler_interval = Duration::from_secs(1);
    })
    .await;
    let editor = newsroom(&app).await;
    readers(&app, "reader", 2, "confirmed", &[]).await;

    // At a time.
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let made = send(&app, &editor, &json!({ "post": "why-rust", "send_at": at })).await;
    assert_eq!(made["status"], "scheduled");
    let id = made["id"].as_str().expect("id").to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(smtp.mails.lock().await.is_empty(), "sent before its time");
    assert_eq!(issue(&app, &editor, &id).await["status"], "scheduled");
    wait_sent(&app, &editor, &id).await;
    assert!(chrono::Utc::now() >= at);
    assert_eq!(by_recipient(&smtp).await.len(), 2);
    smtp.mails.lock().await.clear();

    // A draft is not sent; with "publish", it is published and sent in one request.
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("A draft", json!({ "slug": "a-draft", "status": "draft" })),
    )
    .await;
    let refused = app
        .post_json(
            "/v1/admin/newsletter/issues",
            Some(&editor),
            &json!({ "post": "a-draft" }),
        )
        .await;
    refused.assert_problem(StatusCode::CONFLICT, "post-not-published");
    assert_eq!(
        app.get("/v1/posts/a-draft").await.status,
        StatusCode::NOT_FOUND
    );
    let made = send(
        &app,
        &editor,
        &json!({ "post": "a-draft", "publish": true }),
    )
    .await;
    assert_eq!(app.get("/v1/posts/a-draft").await.status, StatusCode::OK);
    wait_sent(&app, &editor, made["id"].as_str().expect("id")).await;
    assert_eq!(by_recipient(&smtp).await.len(), 2);
    smtp.mails.lock().await.clear();

    // A scheduled post goes out once the scheduler publishes it.
    let publish_at = chrono::Utc::now() + chrono::Duration::seconds(2);
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Coming soon",
            json!({ "slug": "coming-soon", "status": "scheduled", "scheduled_at": publish_at }),
        ),
    )
    .await;
    let made = send(&app, &editor, &json!({ "post": "coming-soon" })).await;
    let send_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(made["send_at"].clone()).expect("send_at");
    assert!(
        (send_at - publish_at).num_milliseconds().abs() < 1000,
        "{made}"
    );
    let id = made["id"].as_str().expect("id").to_owned();
    let done = wait_sent(&app, &editor, &id).await;
    assert_eq!(done["subject"], "Coming soon");
    assert_eq!(
        app.get("/v1/posts/coming-soon").await.status,
        StatusCode::OK
    );
    assert_eq!(by_recipient(&smtp).await.len(), 2);

    // A scheduled issue can be cancelled; nothing goes out.
    smtp.mails.lock().await.clear();
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Later", json!({ "slug": "later" })),
    )
    .await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let made = send(&app, &editor, &json!({ "post": "later", "send_at": at })).await;
    let id = made["id"].as_str().expect("id").to_owned();
    let cancelled = app
        .post_json(
            &format!("/v1/admin/newsletter/issues/{id}/cancel"),
            Some(&editor),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    assert_eq!(cancelled.json()["status"], "cancelled");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(smtp.mails.lock().await.is_empty());
    assert_eq!(issue(&app, &editor, &id).await["status"], "cancelled");
    // Cancelled before it started, the post may be sent anew; once sent, never again.
    let anew = send(&app, &editor, &json!({ "post": "later" })).await;
    wait_sent(&app, &editor, anew["id"].as_str().expect("id")).await;
    let again = app
        .post_json(
            &format!(
                "/v1/admin/newsletter/issues/{}/cancel",
                anew["id"].as_str().expect("id")
            ),
            Some(&editor),
            &json!({}),
        )
        .await;
    again.assert_problem(StatusCode::CONFLICT, "not-cancellable");
    app.post_json(
        "/v1/admin/newsletter/issues",
        Some(&editor),
        &json!({ "post": "later" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "already-sent");
}

#[tokio::test]
async fn a_test_send_goes_to_one_address_only() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |_| {}).await;
    let editor = newsroom(&app).await;
    readers(&app, "reader", 5, "confirmed", &[]).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Still a draft",
            json!({ "slug": "still-a-draft", "status": "draft" }),
        ),
    )
    .await;
    let sent = app
        .post_json(
            "/v1/admin/newsletter/test-sends",
            Some(&editor),
            &json!({ "post": "still-a-draft", "email": "Editor@Northwind.example" }),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    assert_eq!(sent.json()["to"], "editor@northwind.example");
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.mails.lock().await.len(), 1);
    assert_eq!(mails[0].to, ["editor@northwind.example"]);
    let mail = parse(&mails[0]);
    assert_eq!(mail.subject, "[Test] Still a draft");
    assert!(mail.html.contains("12 Harbour Street"));
    assert!(mail.text.contains("Intro to Still a draft."));
    assert_eq!(app.count("newsletter_issues").await, 0);

    let bad = app
        .post_json(
            "/v1/admin/newsletter/test-sends",
            Some(&editor),
            &json!({ "post": "nope", "email": "not an address" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_errors(), ["email"]);
    let unknown = app
        .post_json(
            "/v1/admin/newsletter/test-sends",
            Some(&editor),
            &json!({ "post": "nope", "email": "a@example.com" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.field_errors(), ["post"]);
}

fn signed(secret: &str, body: &str) -> String {
    frontdesk::signing::sign_body(secret, chrono::Utc::now().timestamp(), body.as_bytes())
}

#[tokio::test]
async fn bounces_and_complaints_stop_mail_to_an_address() {
    const SECRET: &str = "provider-secret";
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |c| {
        c.newsletter.events_secret = Some(SECRET.to_owned().into());
    })
    .await;
    let editor = newsroom(&app).await;
    readers(&app, "reader", 3, "confirmed", &[]).await;
    let made = send(&app, &editor, &json!({ "post": "why-rust" })).await;
    let id = made["id"].as_str().expect("id").to_owned();
    wait_sent(&app, &editor, &id).await;
    let mails: Vec<Parsed> = smtp.mails.lock().await.iter().map(parse).collect();
    let first = mails
        .iter()
        .find(|m| m.to == "reader1@example.com")
        .expect("reader1's mail");

    let body = json!({ "events": [
        { "type": "bounce", "bounce_type": "hard", "email": "reader1@example.com",
          "message_id": format!("<{}>", first.message_id) },
        { "type": "complaint", "email": "reader2@example.com" },
        { "type": "bounce", "bounce_type": "soft", "email": "reader3@example.com" },
        { "type": "bounce", "email": "stranger@example.com" }
    ]})
    .to_string();
    let post_events = |signature: Option<String>, body: String| {
        let mut req = app.req(Method::POST, "/v1/newsletter/events");
        if let Some(signature) = signature {
            req = req.header("X-Frontdesk-Signature", &signature);
        }
        req.raw_body("application/json", body).send()
    };
    let unsigned = post_events(None, body.clone()).await;
    assert_eq!(
        unsigned.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        unsigned.text()
    );
    let forged = post_events(Some(signed("guess", &body)), body.clone()).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let stale = frontdesk::signing::sign_body(
        SECRET,
        chrono::Utc::now().timestamp() - 3600,
        body.as_bytes(),
    );
    assert_eq!(
        post_events(Some(stale), body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let garbage = "{not json";
    let bad = post_events(Some(signed(SECRET, garbage)), garbage.to_owned()).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());

    let applied = post_events(Some(signed(SECRET, &body)), body.clone()).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    assert_eq!(
        applied.json(),
        json!({ "received": 4, "applied": 2, "ignored": 2 })
    );
    let state: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select email, status, suppressed from newsletter_subscribers order by email",
    )
    .fetch_all(&app.db)
    .await
    .expect("readers");
    assert_eq!(
        state,
        [
            (
                "reader1@example.com".into(),
                "confirmed".into(),
                Some("bounced".into())
            ),
            (
                "reader2@example.com".into(),
                "unsubscribed".into(),
                Some("complained".into())
            ),
            ("reader3@example.com".into(), "confirmed".into(), None),
        ]
    );
    let stats = issue(&app, &editor, &id).await["stats"].clone();
    assert_eq!(stats["bounced"], 1, "{stats}");
    assert_eq!(stats["complained"], 1, "{stats}");

    // An event about another message (a confirmation's Message-ID) counts on no issue.
    let other = json!({ "type": "bounce", "email": "reader3@example.com",
                        "message_id": format!("<{}@frontdesk>", uuid::Uuid::now_v7()) })
    .to_string();
    let applied = post_events(Some(signed(SECRET, &other)), other.clone()).await;
    assert_eq!(applied.json()["applied"], 1);
    let stats = issue(&app, &editor, &id).await["stats"].clone();
    assert_eq!(stats["bounced"], 1, "{stats}");
    sqlx::query(
        "update newsletter_subscribers set suppressed = null where email = 'reader3@example.com'",
    )
    .execute(&app.db)
    .await
    .expect("reader3 back");

    // The address that complained is sent nothing, not even a confirmation; the bounced
    // one may confirm again.
    smtp.mails.lock().await.clear();
    for email in ["reader2@example.com", "reader1@example.com"] {
        let again = app
            .post_json(
                "/v1/newsletter/subscriptions",
                None,
                &json!({ "email": email, "consent": true }),
            )
            .await;
        assert_eq!(again.status, StatusCode::ACCEPTED);
    }
    let confirmations = smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.mails.lock().await.len(), 1);
    assert_eq!(confirmations[0].to, ["reader1@example.com"]);
    sqlx::query("update newsletter_subscribers set status = 'confirmed' where email = 'reader1@example.com'")
        .execute(&app.db)
        .await
        .expect("reader1 still bounced, as confirmed");

    // The next issue goes to the one address still good.
    smtp.mails.lock().await.clear();
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Second", json!({ "slug": "second" })),
    )
    .await;
    let made = send(&app, &editor, &json!({ "post": "second" })).await;
    let done = wait_sent(&app, &editor, made["id"].as_str().expect("id")).await;
    assert_eq!(done["stats"]["recipients"], 1, "{done}");
    assert_eq!(
        by_recipient(&smtp)
            .await
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["reader3@example.com"]
    );
}

#[tokio::test]
async fn provider_events_are_refused_when_no_secret_is_set_and_issues_need_a_site_profile() {
    let smtp = SmtpServer::start().await;
    let app = app_with(&smtp, |_| {}).await;
    let body = r#"{"type":"complaint","email":"a@example.com"}"#;
    let refused = app
        .req(Method::POST, "/v1/newsletter/events")
        .header("X-Frontdesk-Signature", &signed("", body))
        .raw_body("application/json", body)
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let owner = app.owner_token().await;
    blog_basics(&app, &owner).await;
    app.create(
        "/v1/admin/posts",
        &owner,
        &post("Hello", json!({ "slug": "hello" })),
    )
    .await;
    let no_profile = app
        .post_json(
            "/v1/admin/newsletter/issues",
            Some(&owner),
            &json!({ "post": "hello" }),
        )
        .await;
    no_profile.assert_problem(StatusCode::CONFLICT, "site-profile-missing");
    let unknown = app
        .post_json(
            "/v1/admin/newsletter/issues",
            Some(&owner),
            &json!({ "post": "" , "surprise": 1 }),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text()
    );
}
