//! Scheduling calls through the API: slots in the visitor's zone, bookings that never
//! collide (100 visitors racing for one slot), managing a booking, invites, and the hosts'
//! side.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::wait_until;
use crate::helpers::{TestApp, TestResponse};

/// An admin made a host, working around the clock every day (so slots exist whenever the
/// test runs), in `zone`.
pub(crate) async fn host(app: &TestApp, token: &str, zone: &str) -> Uuid {
    let email = app.create_admin(Role::Sales).await;
    let id: Uuid = sqlx::query_scalar("select id from admin_users where email = $1")
        .bind(&email)
        .fetch_one(&app.db)
        .await
        .expect("admin");
    let hours: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "start": "00:00", "end": "23:59" }))
        .collect();
    let put = app
        .put_json(
            &format!("/v1/admin/hosts/{id}"),
            token,
            &json!({ "time_zone": zone, "working_hours": hours }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    id
}

pub(crate) async fn call_type(
    app: &TestApp,
    token: &str,
    slug: &str,
    hosts: &[Uuid],
    extra: Value,
) -> Value {
    let mut body = json!({
        "name": slug, "slug": slug, "duration_minutes": 30, "slot_step_minutes": 30,
        "min_notice_minutes": 60, "horizon_days": 14, "host_ids": hosts
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.create("/v1/admin/call-types", token, &body).await
}

pub(crate) async fn slots(app: &TestApp, slug: &str, query: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/v1/call-types/{slug}/slots?{query}"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["slots"].as_array().expect("slots").clone()
}

pub(crate) fn booking(slug: &str, start: &str, email: &str) -> Value {
    json!({
        "call_type": slug, "start": start, "time_zone": "America/New_York",
        "first_name": "Ada", "last_name": "Lovelace", "email": email,
        "notes": "About a new portal.", "consent": true
    })
}

pub(crate) async fn book(app: &TestApp, slug: &str, start: &str, email: &str) -> TestResponse {
    app.post_json("/v1/bookings", None, &booking(slug, start, email))
        .await
}

pub(crate) fn utc_starts(slots: &[Value]) -> Vec<String> {
    slots
        .iter()
        .map(|s| s["start_utc"].as_str().expect("start").to_owned())
        .collect()
}

#[tokio::test]
async fn slots_are_shown_in_the_visitors_zone_and_bad_input_is_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let host = host(&app, &owner, "Europe/London").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;

    let offered = slots(&app, "intro", "tz=America/New_York").await;
    assert!(!offered.is_empty());
    let first = &offered[0];
    let start = first["start"].as_str().expect("start");
    assert!(
        start.ends_with("-05:00") || start.ends_with("-04:00"),
        "{start}"
    );
    let as_utc = chrono::DateTime::parse_from_rfc3339(start)
        .expect("rfc3339")
        .with_timezone(&chrono::Utc);
    assert_eq!(
        as_utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        first["start_utc"]
            .as_str()
            .expect("utc")
            .replace(".000", "")
    );
    let soonest = as_utc - chrono::Utc::now();
    assert!(
        soonest >= chrono::Duration::minutes(59),
        "minimum notice of an hour: {soonest}"
    );

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let one_day = slots(
        &app,
        "intro",
        &format!("tz=Asia/Tokyo&from={today}&to={today}"),
    )
    .await;
    assert!(
        one_day
            .iter()
            .all(|s| s["start"].as_str().expect("s").ends_with("+09:00"))
    );

    for (query, field) in [
        ("tz=Mars/Olympus", "tz"),
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2026-06-01", "to"),
        ("from=tomorrow", "from"),
    ] {
        let response = app
            .get(&format!("/v1/call-types/intro/slots?{query}"))
            .await;
        assert_eq!(response.field_errors(), [field], "{query}");
    }
    app.get("/v1/call-types/nope/slots")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    let listed = app.get("/v1/call-types").await.json()["items"].clone();
    assert_eq!(listed[0]["slug"], "intro");
    assert_eq!(listed[0]["hosts"][0]["time_zone"], "Europe/London");
}

#[tokio::test]
async fn a_booking_is_managed_by_its_token_with_one_invite_uid() {
    let app = TestApp::spawn_with(|c| c.outbox.poll = Duration::from_millis(50)).await;
    let owner = app.owner_token().await;
    let host = host(&app, &owner, "Europe/London").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;
    let offered = utc_starts(&slots(&app, "intro", "").await);

    let created = book(&app, "intro", &offered[0], "Ada@Example.com").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let created = created.json();
    let token = created["manage_token"].as_str().expect("token").to_owned();
    assert_eq!(created["booking"]["status"], "confirmed");
    assert_eq!(created["booking"]["email"], "ada@example.com");
    assert_eq!(created["booking"]["time_zone"], "America/New_York");
    assert!(
        !utc_starts(&slots(&app, "intro", "").await).contains(&offered[0]),
        "the slot is gone"
    );

    let invite = app.get(&format!("/v1/bookings/{token}/invite.ics")).await;
    assert_eq!(
        invite.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let ics = invite.text();
    assert!(
        ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:0"),
        "{ics}"
    );
    let uid = ics
        .lines()
        .find(|l| l.starts_with("UID:"))
        .expect("uid")
        .to_owned();

    let moved = app
        .post_json(
            &format!("/v1/bookings/{token}/reschedule"),
            None,
            &json!({ "start": offered[2] }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["sequence"], 1);
    let ics = app
        .get(&format!("/v1/bookings/{token}/invite.ics"))
        .await
        .text();
    assert!(ics.contains(&uid), "the UID stays");
    assert!(ics.contains("SEQUENCE:1"));
    let free = utc_starts(&slots(&app, "intro", "").await);
    assert!(free.contains(&offered[0]) && !free.contains(&offered[2]));

    let cancelled = app
        .post_json(
            &format!("/v1/bookings/{token}/cancel"),
            None,
            &json!({ "reason": "Clash" }),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let ics = app
        .get(&format!("/v1/bookings/{token}/invite.ics"))
        .await
        .text();
    assert!(
        ics.contains("METHOD:CANCEL") && ics.contains("SEQUENCE:2") && ics.contains(&uid),
        "{ics}"
    );
    assert!(
        utc_starts(&slots(&app, "intro", "").await).contains(&offered[2]),
        "cancel frees the slot"
    );
    app.post_json(&format!("/v1/bookings/{token}/cancel"), None, &json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "already-cancelled");
    app.post_json(
        &format!("/v1/bookings/{token}/reschedule"),
        None,
        &json!({ "start": offered[4] }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "already-cancelled");
    app.get("/v1/bookings/bk_not-a-real-token")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    // The visitor became a lead of kind call, with the booking's story on its timeline.
    let lead: Uuid = sqlx::query_scalar(
        "select id from leads where kind = 'call' and email = 'ada@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .expect("lead");
    let timeline = app
        .get_as(&format!("/v1/admin/leads/{lead}"), &owner)
        .await
        .json()["events"]
        .clone();
    let kinds: Vec<&str> = timeline
        .as_array()
        .expect("t")
        .iter()
        .map(|e| e["kind"].as_str().expect("k"))
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "booking_created",
            "booking_moved",
            "booking_cancelled"
        ]
    );

    // Invites went to both sides each time: booked, moved, cancelled.
    wait_until("six invite emails sent", || async {
        let n: i64 = app
            .count("outbox_jobs where kind = 'email' and status = 'done'")
            .await;
        n == 6
    })
    .await;
    let emails = app
        .get_as("/v1/admin/emails?to=ada@example.com", &owner)
        .await
        .json();
    let methods: Vec<String> = emails["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            e["payload"]["attachment"]["content_type"]
                .as_str()
                .expect("ics")
                .to_owned()
        })
        .collect();
    // Newest first: the cancellation, then the moved and the first invite.
    let methods: Vec<&str> = methods
        .iter()
        .map(|m| m.rsplit("method=").next().unwrap_or_default())
        .collect();
    assert_eq!(methods, ["CANCEL", "REQUEST", "REQUEST"]);
}

#[tokio::test]
async fn a_hundred_visitors_racing_for_one_slot_get_one_booking() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 0).await;
    let owner = app.owner_token().await;
    let host = host(&app, &owner, "Europe/London").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;
    let start = utc_starts(&slots(&app, "intro", "").await)[0].clone();

    let mut tasks = Vec::new();
    for i in 0..100 {
        let router = app.router.clone();
        let body = booking("intro", &start, &format!("visitor{i}@example.com"));
        tasks.push(tokio::spawn(async move {
            let mut request = axum::http::Request::post("/v1/bookings")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .expect("request");
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([198, 51, 100, 2], 40000 + i)),
            ));
            crate::helpers::send_to(router, request).await
        }));
    }
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for task in tasks {
        let response = task.await.expect("join");
        if response.status == StatusCode::CONFLICT {
            assert_eq!(response.json()["type"], "urn:frontdesk:problem:slot-taken");
        }
        *statuses.entry(response.status.as_u16()).or_default() += 1;
    }
    assert_eq!(statuses.get(&201), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&99), "{statuses:?}");
    let confirmed: i64 = app.count("bookings where status = 'confirmed'").await;
    assert_eq!(confirmed, 1);
}

#[tokio::test]
async fn a_retried_booking_gets_its_first_answer_not_a_conflict_with_itself() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let host = host(&app, &owner, "Europe/London").await;
    call_type(&app, &owner, "intro", &[host], json!({})).await;
    let start = utc_starts(&slots(&app, "intro", "").await)[0].clone();
    let body = booking("intro", &start, "ada@example.com");
    let attempt = |body: Value| {
        app.req(Method::POST, "/v1/bookings")
            .header("idempotency-key", "retry-1")
            .json(&body)
            .send()
    };

    let first = attempt(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    // The slot is taken now, by this very request: its retry is answered the same way.
    let retry = attempt(body).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!(retry.json()["booking"]["id"], first.json()["booking"]["id"]);
    // The same key with other details is refused, and another visitor is told it is taken.
    let other = attempt(booking("intro", &start, "grace@example.com")).await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.text()
    );
    book(&app, "intro", &start, "grace@example.com")
        .await
        .assert_problem(StatusCode::CONFLICT, "slot-taken");
    let bookings: i64 = app.count("bookings").await;
    assert_eq!(bookings, 1);
}

#[tokio::test]
async fn the_database_itself_refuses_overlapping_bookings() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let host = host(&app, &owner, "Europe/London").await;
    let call_type = call_type(&app, &owner, "intro", &[host], json!({})).await;
    let insert = |start: &'static str, end: &'static str| {
        let db = app.db.clone();
        let call_type = call_type["id"]
            .as_str()
            .expect("id")
            .parse::<Uuid>()
            .expect("uuid");
        async move {
            sqlx::query(
                "insert into bookings (id, call_type_id, host_id, starts_at, ends_at, blocked, first_name, last_name,
                                       email, time_zone, consent_text_version, manage_token_hash, ical_uid)
                 values ($1, $2, $3, $4::timestamptz, $5::timestamptz, tstzrange($4::timestamptz, $5::timestamptz),
                         'A', 'B', 'a@example.com', 'UTC', 'v', $6, $7)",
            )
            .bind(Uuid::now_v7())
            .bind(call_type)
            .bind(host)
            .bind(start)
            .bind(end)
            .bind(Uuid::now_v7().as_bytes().to_vec())
            .bind(Uuid::now_v7().to_string())
            .execute(&db)
            .await
        }
    };
    insert("2030-01-07T10:00:00Z", "2030-01-07T10:30:00Z")
        .await
        .expect("first");
    let overlap = insert("2030-01-07T10:15:00Z", "2030-01-07T10:45:00Z")
        .await
        .expect_err("refused");
    let code = overlap
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("23P01"), "exclusion violation");
    insert("2030-01-07T10:30:00Z", "2030-01-07T11:00:00Z")
        .await
        .expect("touching is fine");
}

#[tokio::test]
async fn slots_go_to_the_host_with_fewest_calls_and_honour_buffers_and_caps() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let a = host(&app, &owner, "Europe/London").await;
    let b = host(&app, &owner, "Europe/London").await;
    call_type(
        &app,
        &owner,
        "buffered",
        &[a, b],
        json!({ "buffer_after_minutes": 30, "daily_cap": 1 }),
    )
    .await;
    // Far enough ahead that one London day holds all the slots used here.
    let day = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let query = format!("tz=Europe/London&from={day}&to={day}");
    let offered = utc_starts(&slots(&app, "buffered", &query).await);
    let first = book(&app, "buffered", &offered[20], "one@example.com")
        .await
        .json();
    let second = book(&app, "buffered", &offered[20], "two@example.com")
        .await
        .json();
    let hosts: Vec<String> =
        sqlx::query_scalar("select host_id::text from bookings order by created_at")
            .fetch_all(&app.db)
            .await
            .expect("hosts");
    assert_ne!(
        hosts[0], hosts[1],
        "the second booking went to the free host"
    );
    assert_eq!(first["booking"]["status"], "confirmed");
    assert_eq!(second["booking"]["status"], "confirmed");
    // Each host has reached the cap of one call that day: nothing more is offered then.
    assert!(slots(&app, "buffered", &query).await.is_empty());
    book(&app, "buffered", &offered[30], "three@example.com")
        .await
        .assert_problem(StatusCode::CONFLICT, "slot-taken");
}

#[tokio::test]
async fn hosts_set_up_calls_see_bookings_cancel_and_subscribe() {
    let app =
        TestApp::spawn_with(|c| c.http.public_api_url = "https://api.northwind.example".into())
            .await;
    let sales = app.token_for(Role::Sales).await;
    let owner = app.owner_token().await;
    let bad_host = app
        .put_json(
            &format!("/v1/admin/hosts/{}", Uuid::now_v7()),
            &sales,
            &json!({ "time_zone": "Nowhere/Land", "working_hours": [{ "weekday": 9, "start": "17:00", "end": "09:00" }] }),
        )
        .await;
    assert_eq!(
        bad_host.field_errors(),
        [
            "time_zone",
            "working_hours[0].weekday",
            "working_hours[0].end"
        ]
    );
    let host = host(&app, &sales, "America/New_York").await;
    let unknown = app
        .post_json(
            "/v1/admin/call-types",
            Some(&sales),
            &json!({ "name": "X", "duration_minutes": 30, "host_ids": [Uuid::now_v7()] }),
        )
        .await;
    assert_eq!(unknown.field_errors(), ["host_ids[0]"]);
    let bad_type = app
        .post_json(
            "/v1/admin/call-types",
            Some(&sales),
            &json!({ "name": "", "duration_minutes": 1, "host_ids": [] }),
        )
        .await;
    assert_eq!(
        bad_type.field_errors(),
        ["name", "duration_minutes", "host_ids"]
    );
    call_type(&app, &sales, "intro", &[host], json!({})).await;

    let day_off = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let with_override = app
        .post_json(
            &format!("/v1/admin/hosts/{host}/overrides"),
            Some(&sales),
            &json!({ "date": day_off, "kind": "day_off" }),
        )
        .await;
    assert_eq!(with_override.status, StatusCode::CREATED);
    let query = format!("tz=America/New_York&from={day_off}&to={day_off}");
    assert!(
        slots(&app, "intro", &query).await.is_empty(),
        "a day off offers nothing"
    );

    let start = utc_starts(&slots(&app, "intro", "").await)[0].clone();
    book(&app, "intro", &start, "ada@example.com").await;
    let listed = app
        .get_as(
            &format!("/v1/admin/bookings?host_id={host}&status=confirmed"),
            &sales,
        )
        .await
        .json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    let booking_id = listed["items"][0]["id"].as_str().expect("id").to_owned();

    let feed_url = app
        .post_json(
            &format!("/v1/admin/hosts/{host}/calendar-token"),
            Some(&sales),
            &json!({}),
        )
        .await
        .json()["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let feed_path = feed_url.trim_start_matches("https://api.northwind.example");
    let feed = app.get(feed_path).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed.text().contains("BEGIN:VEVENT"));
    app.post_json(
        &format!("/v1/admin/hosts/{host}/calendar-token"),
        Some(&sales),
        &json!({}),
    )
    .await;
    assert_eq!(
        app.get(feed_path).await.status,
        StatusCode::NOT_FOUND,
        "the old address stops working"
    );

    let cancelled = app
        .post_json(
            &format!("/v1/admin/bookings/{booking_id}/cancel"),
            Some(&sales),
            &json!({ "reason": "Host unwell" }),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    let told: i64 = app.count("outbox_jobs where payload->>'to' = 'ada@example.com' and payload->'attachment'->>'content_type' like '%method=CANCEL'").await;
    assert_eq!(told, 1, "the visitor is told");
    let listed = app
        .get_as("/v1/admin/bookings?status=cancelled", &sales)
        .await
        .json();
    assert!(
        listed["items"][0]["cancelled_by"]
            .as_str()
            .expect("by")
            .starts_with("host:")
    );
    let audit = app
        .get_as("/v1/admin/audit?action=booking.cancel", &owner)
        .await
        .json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
    app.req(Method::DELETE, &format!("/v1/admin/hosts/{host}"))
        .bearer(&sales)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "host-has-bookings");
}
