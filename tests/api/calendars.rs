//! The hosts' real calendars, against real peers on loopback: an iCalendar feed served by a
//! test HTTP server, a Radicale CalDAV server (PyPI `radicale`, started here), an SMTP
//! server and a webhook receiver. Busy times remove exactly the right slots (a weekly
//! meeting with a moved instance, an event in another zone, an all-day event, a transparent
//! one); bookings appear in the CalDAV calendar, move and disappear; a calendar that goes
//! away leaves slots served with a stale flag; reminders go out once; booking and content
//! events reach webhooks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::fixtures::{SmtpServer, WebhookReceiver, unused_addr, wait_until};
use crate::helpers::TestApp;
use crate::scheduling::{call_type, host, utc_starts};

/// The Monday the tests look at: at least two days ahead.
fn monday() -> NaiveDate {
    let mut day = (Utc::now() + Days::days(2)).date_naive();
    while day.weekday() != chrono::Weekday::Mon {
        day = day.succ_opt().expect("a next day");
    }
    day
}

fn stamp(day: NaiveDate, hh: u32, mm: u32) -> String {
    format!("{}T{hh:02}{mm:02}00", day.format("%Y%m%d"))
}

fn at(day: NaiveDate, hh: u32, mm: u32) -> String {
    format!("{}T{hh:02}:{mm:02}:00Z", day.format("%Y-%m-%d"))
}

/// The events of the cases, around Monday `d` (the host works in UTC).
fn busy_events(d: NaiveDate) -> Vec<String> {
    let week_before = d - Days::days(7);
    let next = d + Days::days(1);
    vec![
        // Weekly at 10:00 UTC from the week before; this Monday's instance moved to 15:00.
        format!(
            "BEGIN:VEVENT\r\nUID:weekly-sync\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=UTC:{}\r\nDTEND;TZID=UTC:{}\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Team sync\r\nEND:VEVENT\r\n",
            stamp(week_before, 10, 0),
            stamp(week_before, 11, 0)
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:weekly-sync\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID;TZID=UTC:{}\r\nDTSTART:{}Z\r\nDTEND:{}Z\r\nSUMMARY:Team sync (moved)\r\nEND:VEVENT\r\n",
            stamp(d, 10, 0),
            stamp(d, 15, 0),
            stamp(d, 16, 0)
        ),
        // 09:00 in New York.
        format!(
            "BEGIN:VEVENT\r\nUID:new-york\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=America/New_York:{}\r\nDURATION:PT30M\r\nEND:VEVENT\r\n",
            stamp(d, 9, 0)
        ),
        // Free time does not block; the next day is blocked whole.
        format!(
            "BEGIN:VEVENT\r\nUID:lunch\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:{}Z\r\nDTEND:{}Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            stamp(d, 11, 0),
            stamp(d, 12, 0)
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:offsite\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nEND:VEVENT\r\n",
            next.format("%Y%m%d"),
            (next + Days::days(1)).format("%Y%m%d")
        ),
    ]
}

fn calendar(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//frontdesk tests//EN\r\n{}END:VCALENDAR\r\n",
        events.concat()
    )
}

/// 12:00 New York in UTC (14:00 or 13:00 depending on DST).
fn new_york_nine(d: NaiveDate) -> String {
    use chrono::TimeZone;
    let local = chrono_tz::America::New_York
        .from_local_datetime(&d.and_hms_opt(9, 0, 0).expect("time"))
        .single()
        .expect("one instant");
    local
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

async fn day_slots(app: &TestApp, slug: &str, day: NaiveDate) -> (Vec<String>, bool) {
    let response = app
        .get(&format!(
            "/v1/call-types/{slug}/slots?from={}&to={}&time_zone=UTC",
            at(day, 0, 0),
            at(day + Days::days(1), 0, 0)
        ))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    let slots = body["slots"].as_array().expect("slots").clone();
    (utc_starts(&slots), body["stale"].as_bool().expect("stale"))
}

/// The slots the cases must remove and keep.
async fn assert_busy_times_respected(app: &TestApp, slug: &str, d: NaiveDate) {
    let (monday, stale) = day_slots(app, slug, d).await;
    assert!(!stale, "a calendar just read is not stale");
    let has = |t: String| monday.contains(&t);
    assert!(
        has(at(d, 10, 0)),
        "the moved instance frees 10:00: {monday:?}"
    );
    assert!(
        !has(at(d, 15, 0)) && !has(at(d, 15, 30)),
        "the moved instance blocks 15:00-16:00"
    );
    assert!(has(at(d, 14, 30)) && has(at(d, 16, 0)));
    assert!(!has(new_york_nine(d)), "09:00 New York is busy");
    assert!(has(at(d, 11, 0)), "a transparent event blocks nothing");
    let (next_week, _) = day_slots(app, slug, d + Days::days(7)).await;
    assert!(
        !next_week.contains(&at(d + Days::days(7), 10, 0)),
        "the next instance blocks 10:00"
    );
    assert!(!next_week.contains(&at(d + Days::days(7), 10, 30)));
    assert!(next_week.contains(&at(d + Days::days(7), 11, 0)));
    let (offsite, _) = day_slots(app, slug, d + Days::days(1)).await;
    assert!(
        offsite.is_empty(),
        "an all-day event blocks the day: {offsite:?}"
    );
}

fn calendars_app(config: &mut frontdesk::Config) {
    config.scheduling.calendars.allow_private = true;
    // Every booking reads the calendars again (the default skips one read in the last 10 s).
    config.scheduling.calendars.confirm_fresh = Duration::ZERO;
}

/// A loopback HTTP server answering every GET with `body` (500 once `body` is None).
struct FeedServer {
    addr: SocketAddr,
    body: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FeedServer {
    async fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let body = Arc::new(Mutex::new(Some(body)));
        let shared = body.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 8192];
                    let _ = socket.read(&mut request).await;
                    let answer = match shared.lock().await.clone() {
                        Some(body) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { addr, body, task }
    }

    fn url(&self) -> String {
        format!("http://{}/calendar/secret-token-123/basic.ics", self.addr)
    }
}

/// Reads a connected calendar again now; its view.
async fn refresh(app: &TestApp, token: &str, host: Uuid, id: &str) -> Value {
    let refreshed = app
        .post_json(
            &format!("/v1/admin/hosts/{host}/calendars/{id}/refresh"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    refreshed.json()
}

async fn connect(app: &TestApp, token: &str, host: Uuid, body: &Value) -> Value {
    let created = app
        .post_json(
            &format!("/v1/admin/hosts/{host}/calendars"),
            Some(token),
            body,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    created.json()
}

#[tokio::test]
async fn an_icalendar_feed_removes_exactly_its_busy_times_and_a_lost_feed_is_stale() {
    let app = TestApp::spawn_with(calendars_app).await;
    let owner = app.owner_token().await;
    let maya = host(&app, &owner, "UTC").await;
    call_type(
        &app,
        &owner,
        "intro",
        &[maya],
        json!({ "horizon_days": 30, "min_notice_minutes": 0 }),
    )
    .await;
    let d = monday();
    let feed = FeedServer::start(calendar(&busy_events(d))).await;

    // Without the feed, every half hour is free.
    let (before, _) = day_slots(&app, "intro", d).await;
    assert!(before.contains(&at(d, 15, 0)) && before.contains(&new_york_nine(d)));

    let connected = connect(
        &app,
        &owner,
        maya,
        &json!({ "kind": "ical", "name": "Google", "url": feed.url() }),
    )
    .await;
    assert_eq!(connected["last_error"], Value::Null, "{connected}");
    assert_eq!(connected["stale"], false);
    assert!(connected["synced_at"].is_string());
    // The secret address is never shown again, only where it is.
    let text = connected.to_string();
    assert!(!text.contains("secret-token-123"), "{text}");
    assert_eq!(connected["url_hint"], format!("http://{}/…", feed.addr));
    assert_busy_times_respected(&app, "intro", d).await;

    // The feed fails: the last busy times still count, and the slots say they may be stale.
    *feed.body.lock().await = None;
    let id = connected["id"].as_str().expect("id");
    let view = refresh(&app, &owner, maya, id).await;
    assert_eq!(view["stale"], true);
    assert!(
        view["last_error"].as_str().expect("error").contains("500"),
        "{view}"
    );
    assert!(!view.to_string().contains("secret-token-123"));
    let (monday_slots, stale) = day_slots(&app, "intro", d).await;
    assert!(stale);
    assert!(
        !monday_slots.contains(&at(d, 15, 0)),
        "the busy times read last still count"
    );

    // Gone altogether: a booking still works (the feed is tried first, briefly), never a 5xx.
    feed.task.abort();
    let booked = crate::scheduling::book(&app, "intro", &at(d, 12, 0), "ada@example.com").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text());
    let listed = app
        .get_as(&format!("/v1/admin/hosts/{maya}/calendars"), &owner)
        .await;
    let items = listed.json()["items"].clone();
    assert!(
        items[0]["last_error"]
            .as_str()
            .expect("error")
            .contains("could not reach"),
        "{items}"
    );

    // Disconnected: its busy times stop counting at once.
    let removed = app
        .delete(&format!("/v1/admin/hosts/{maya}/calendars/{id}"), &owner)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let (after, stale) = day_slots(&app, "intro", d).await;
    assert!(!stale);
    assert!(after.contains(&at(d, 15, 0)));
}

#[tokio::test]
async fn calendar_input_is_checked_and_private_servers_refused_by_default() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let maya = host(&app, &owner, "UTC").await;
    for (body, field) in [
        (
            json!({ "kind": "outlook", "url": "https://calendar.example.com/a.ics" }),
            "kind",
        ),
        (json!({ "kind": "ical", "url": "not a url" }), "url"),
        (
            json!({ "kind": "ical", "url": "http://127.0.0.1:9/x.ics" }),
            "url",
        ),
        (
            json!({ "kind": "ical", "url": "https://calendar.example.com/a.ics", "password": "x" }),
            "kind",
        ),
        (
            json!({ "kind": "caldav", "url": "https://dav.example.com/maya/", "write": "https://evil.example.net/steal/" }),
            "write",
        ),
    ] {
        let response = app
            .post_json(
                &format!("/v1/admin/hosts/{maya}/calendars"),
                Some(&owner),
                &body,
            )
            .await;
        response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(
            response.field_errors().contains(&field.to_owned()),
            "{body}: {}",
            response.text()
        );
    }
    let unknown = app
        .post_json(
            &format!("/v1/admin/hosts/{}/calendars", Uuid::now_v7()),
            Some(&owner),
            &json!({ "kind": "ical", "url": "https://calendar.example.com/a.ics" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
}

/// Radicale on a free loopback port with one user, its storage in a temporary directory;
/// killed when dropped.
struct Radicale {
    addr: SocketAddr,
    child: Option<std::process::Child>,
    dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        self.stop();
    }
}

const DAV_USER: &str = "maya";
const DAV_PASSWORD: &str = "a-caldav-app-password";

impl Radicale {
    /// `None` when Radicale is not installed (`pip install radicale`); CI installs it and
    /// sets FRONTDESK_REQUIRE_RADICALE, so there it can never be skipped.
    async fn start() -> Option<Self> {
        let installed = std::process::Command::new("python3")
            .args(["-c", "import radicale"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var_os("FRONTDESK_REQUIRE_RADICALE").is_none(),
                "Radicale is required here: pip install radicale"
            );
            eprintln!("skipped: Radicale is not installed (pip install radicale)");
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("frontdesk-radicale-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("users"), format!("{DAV_USER}:{DAV_PASSWORD}\n")).expect("users");
        let mut radicale = Self {
            addr: unused_addr(),
            child: None,
            dir: TempDir(dir),
        };
        radicale.run().await;
        Some(radicale)
    }

    /// Starts the server (again) on its address, over its storage.
    async fn run(&mut self) {
        let dir = &self.dir.0;
        let child = std::process::Command::new("python3")
            .args(["-m", "radicale", "--server-hosts", &self.addr.to_string()])
            .arg("--storage-filesystem-folder")
            .arg(dir.join("store"))
            .args([
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-encryption",
                "plain",
            ])
            .arg("--auth-htpasswd-filename")
            .arg(dir.join("users"))
            .args(["--logging-level", "warning"])
            .stdout(std::process::Stdio::null())
            // Its own log, kept beside its storage (warnings only).
            .stderr(
                std::fs::File::create(dir.join("radicale.log"))
                    .map_or_else(|_| std::process::Stdio::null(), std::process::Stdio::from),
            )
            .spawn()
            .expect("start radicale");
        self.child = Some(child);
        let addr = self.addr;
        wait_until("Radicale to listen", || async {
            tokio::net::TcpStream::connect(addr).await.is_ok()
        })
        .await;
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn request(&self, method: &str, path: &str, body: Option<String>) -> (u16, String) {
        let client = reqwest::Client::new();
        let mut request = client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                self.url(path),
            )
            .basic_auth(DAV_USER, Some(DAV_PASSWORD));
        if let Some(body) = body {
            request = request.header("content-type", "text/calendar").body(body);
        }
        let response = request.send().await.expect("radicale answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn a_caldav_calendar_blocks_its_busy_times_and_holds_the_bookings() {
    let Some(radicale) = Radicale::start().await else {
        return;
    };
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(|c| {
        calendars_app(c);
        c.mail.smtp_url = Some(smtp_url.into());
    })
    .await;
    let owner = app.owner_token().await;
    let maya = host(&app, &owner, "UTC").await;
    call_type(
        &app,
        &owner,
        "intro",
        &[maya],
        json!({ "horizon_days": 30, "min_notice_minutes": 0, "slot_step_minutes": 15 }),
    )
    .await;
    let d = monday();
    assert_eq!(
        radicale.request("MKCALENDAR", "/maya/work/", None).await.0,
        201
    );
    assert_eq!(
        radicale
            .request("MKCALENDAR", "/maya/personal/", None)
            .await
            .0,
        201
    );
    // The cases, one resource each, spread over two calendars.
    let events = busy_events(d);
    for (i, event) in events.iter().enumerate() {
        let (folder, name) = if i == 1 {
            ("work", "weekly-sync-moved")
        } else if i % 2 == 0 {
            ("work", "e")
        } else {
            ("personal", "e")
        };
        let body = if i == 0 {
            calendar(&events[0..2])
        } else if i == 1 {
            continue;
        } else {
            calendar(std::slice::from_ref(event))
        };
        let (status, text) = radicale
            .request("PUT", &format!("/maya/{folder}/{name}{i}.ics"), Some(body))
            .await;
        assert_eq!(status, 201, "{text}");
    }

    // A wrong password is an error an admin sees, not a crash.
    let wrong = connect(
        &app,
        &owner,
        maya,
        &json!({
            "kind": "caldav", "url": radicale.url("/"), "username": DAV_USER, "password": "wrong",
            "read": ["/maya/personal/"]
        }),
    )
    .await;
    assert!(
        wrong["last_error"].as_str().expect("error").contains("401"),
        "{wrong}"
    );
    assert!(
        !wrong.to_string().contains("wrong\""),
        "the password is never shown"
    );
    // Put right with PUT; a later PUT without a password keeps the stored one.
    let path = format!(
        "/v1/admin/hosts/{maya}/calendars/{}",
        wrong["id"].as_str().expect("id")
    );
    let settings = json!({
        "kind": "caldav", "name": "Work", "url": radicale.url("/"), "username": DAV_USER,
        "password": DAV_PASSWORD, "read": ["/maya/work/", "maya/personal"],
        "write": format!("http://someone:their-secret@{}/maya/work/", radicale.addr)
    });
    let fixed = app.put_json(&path, &owner, &settings).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    assert!(
        !fixed.text().contains("their-secret"),
        "no credentials kept in a path"
    );
    let mut renamed = settings.clone();
    renamed["name"] = json!("Work calendar");
    renamed["password"] = Value::Null;
    renamed["write"] = json!("/maya/work/");
    let connected = app.put_json(&path, &owner, &renamed).await.json();
    assert_eq!(connected["name"], "Work calendar");
    assert_eq!(connected["last_error"], Value::Null, "{connected}");
    assert_eq!(connected["has_password"], true);
    assert!(!connected.to_string().contains(DAV_PASSWORD));
    let stored: Vec<u8> =
        sqlx::query_scalar("select password_sealed from host_calendars where id = $1")
            .bind(Uuid::parse_str(connected["id"].as_str().expect("id")).expect("uuid"))
            .fetch_one(&app.db)
            .await
            .expect("row");
    assert!(
        !stored
            .windows(DAV_PASSWORD.len())
            .any(|w| w == DAV_PASSWORD.as_bytes()),
        "sealed at rest"
    );
    assert_busy_times_respected(&app, "intro", d).await;

    // Someone adds a meeting in the calendar: booking that time is refused, because the
    // calendar is read again just before a booking is confirmed.
    let (status, _) = radicale
        .request(
            "PUT",
            "/maya/work/late-add.ics",
            Some(calendar(&[format!(
                "BEGIN:VEVENT\r\nUID:late-add\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:{}Z\r\nDTEND:{}Z\r\nEND:VEVENT\r\n",
                stamp(d, 12, 0),
                stamp(d, 12, 30)
            )])),
        )
        .await;
    assert_eq!(status, 201);
    let refused = crate::scheduling::book(&app, "intro", &at(d, 12, 0), "eve@example.com").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());

    // A booking appears in the host's calendar, with its UID…
    let booked = crate::scheduling::book(&app, "intro", &at(d, 13, 0), "ada@example.com").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text());
    let created = booked.json();
    let id = created["booking"]["id"].as_str().expect("id").to_owned();
    let token = created["manage_token"].as_str().expect("token").to_owned();
    let resource = format!("/maya/work/{id}.ics");
    wait_until("the booking in the CalDAV calendar", || async {
        radicale.request("GET", &resource, None).await.0 == 200
    })
    .await;
    let (_, copy) = radicale.request("GET", &resource, None).await;
    assert!(copy.contains(&format!("UID:{id}@frontdesk")), "{copy}");
    assert!(
        copy.contains(&format!("DTSTART:{}Z", stamp(d, 13, 0))),
        "{copy}"
    );
    assert!(
        !copy.contains("METHOD:") && !copy.contains("ATTENDEE"),
        "{copy}"
    );
    // …which, read back from the calendar, does not count against its own booking: moving
    // it by a quarter of an hour, onto the time its copy holds, works.
    let calendar_id = connected["id"].as_str().expect("id").to_owned();
    refresh(&app, &owner, maya, &calendar_id).await;
    let copies_read: i64 = sqlx::query_scalar("select count(*) from host_busy where uid = $1")
        .bind(format!("{id}@frontdesk"))
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(copies_read, 1, "the copy is read back as a busy time");
    let nudged = app
        .post_json(
            &format!("/v1/bookings/{token}/reschedule"),
            None,
            &json!({ "start": at(d, 13, 15) }),
        )
        .await;
    assert_eq!(nudged.status, StatusCode::OK, "{}", nudged.text());
    let moved_to = at(d, 16, 30);
    // It moves with a reschedule…
    let moved = app
        .post_json(
            &format!("/v1/bookings/{token}/reschedule"),
            None,
            &json!({ "start": moved_to }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    wait_until("the CalDAV copy to move", || async {
        let (_, body) = radicale.request("GET", &resource, None).await;
        body.contains(&format!("DTSTART:{}Z", stamp(d, 16, 30)))
    })
    .await;
    // …and disappears on cancel.
    let cancelled = app
        .post_json(
            &format!("/v1/bookings/{token}/cancel"),
            None,
            &json!({ "reason": "Plans changed" }),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    wait_until("the CalDAV copy to go", || async {
        radicale.request("GET", &resource, None).await.0 == 404
    })
    .await;
    wait_until("the copy's record to go", || async {
        let left: i64 = sqlx::query_scalar("select count(*) from booking_calendar_events")
            .fetch_one(&app.db)
            .await
            .expect("count");
        left == 0
    })
    .await;

    // The server goes away: slots are still served, marked stale, never a 5xx.
    let mut radicale = radicale;
    radicale.stop();
    let refreshed = refresh(&app, &owner, maya, &calendar_id).await;
    assert!(
        refreshed["last_error"]
            .as_str()
            .expect("error")
            .contains("could not reach")
    );
    let (slots, stale) = day_slots(&app, "intro", d).await;
    assert!(stale);
    assert!(
        !slots.contains(&at(d, 15, 0)),
        "the busy times read last still count"
    );
    let _ = smtp;
}

/// Reminder emails queued (whether sent yet or not), and reminders recorded as sent.
async fn reminders_queued(app: &TestApp) -> (i64, i64) {
    let emails: i64 = sqlx::query_scalar(
        "select count(*) from outbox_jobs where kind = 'email' and payload->>'purpose' like 'booking.reminder.%'",
    )
    .fetch_one(&app.db)
    .await
    .expect("emails");
    let sent: i64 = sqlx::query_scalar("select count(*) from booking_reminders")
        .fetch_one(&app.db)
        .await
        .expect("reminders");
    (emails, sent)
}

/// Waits until every reminder job has run.
async fn reminders_run(app: &TestApp) {
    wait_until("the reminder jobs to run", || async {
        let pending: i64 = sqlx::query_scalar(
            "select count(*) from outbox_jobs where kind = 'booking.reminder' and status <> 'done'",
        )
        .fetch_one(&app.db)
        .await
        .expect("count");
        pending == 0
    })
    .await;
}

/// Makes the reminder jobs of a booking due now (the test does not wait the hours), and
/// returns when they were due.
async fn due_now(app: &TestApp, booking: &str) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar(
        r#"with due as (select id, run_at from outbox_jobs where kind = 'booking.reminder'
                        and payload->>'booking_id' = $1 and status = 'pending')
           update outbox_jobs o set run_at = now() from due where o.id = due.id returning due.run_at"#,
    )
    .bind(booking)
    .fetch_all(&app.db)
    .await
    .expect("reminders")
}

#[tokio::test]
async fn a_call_has_a_place_questions_reminders_and_webhook_events() {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let hooks = WebhookReceiver::start().await;
    let app = TestApp::spawn_with(|c| c.mail.smtp_url = Some(smtp_url.into())).await;
    let owner = app.owner_token().await;
    let maya = host(&app, &owner, "UTC").await;
    let put = app
        .put_json(
            &format!("/v1/admin/hosts/{maya}"),
            &owner,
            &json!({ "time_zone": "UTC", "working_hours": (1..=7).map(|d| json!({ "weekday": d, "start": "00:00", "end": "23:59" })).collect::<Vec<_>>(),
                     "video_url": "https://meet.example.com/maya", "phone": "+44 117 496 0000" }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    app.create(
        "/v1/admin/webhooks",
        &owner,
        &json!({ "url": hooks.url(), "events": ["booking.created", "booking.rescheduled", "booking.cancelled", "post.published", "post.updated", "post.unpublished", "site.changed"] }),
    )
    .await;
    call_type(&app, &owner, "video", &[maya], json!({
        "horizon_days": 30, "min_notice_minutes": 0, "location": { "kind": "video" },
        "reminder_minutes": [1440, 60],
        "questions": [
            { "id": "company", "label": "Company", "kind": "text", "required": true },
            { "id": "budget", "label": "Budget", "kind": "choice", "options": ["< 10k", "10k+"] },
            { "id": "nda", "label": "NDA needed", "kind": "checkbox" }
        ]
    }))
    .await;
    call_type(&app, &owner, "phone", &[maya], json!({
        "horizon_days": 30, "min_notice_minutes": 0, "location": { "kind": "phone", "caller": "host" }
    }))
    .await;
    // Visitors see the questions and the kind of place, never the link before booking.
    let public = app.get("/v1/call-types/video").await.json();
    assert_eq!(public["questions"].as_array().expect("questions").len(), 3);
    assert_eq!(public["location"], json!({ "kind": "video" }));
    assert_eq!(
        app.get("/v1/call-types/phone").await.json()["phone_required"],
        true
    );

    let d = monday();
    let mut request = crate::scheduling::booking("video", &at(d, 10, 0), "ada@example.com");
    // Answers are validated like every other input.
    request["answers"] = json!({ "budget": "a lot", "color": "red" });
    let bad = app.post_json("/v1/bookings", None, &request).await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let fields = bad.field_errors();
    for f in ["answers.company", "answers.budget", "answers.color"] {
        assert!(fields.contains(&f.to_owned()), "{f}: {fields:?}");
    }
    let mut phone = crate::scheduling::booking("phone", &at(d, 11, 0), "ada@example.com");
    let no_phone = app.post_json("/v1/bookings", None, &phone).await;
    assert!(
        no_phone.field_errors().contains(&"phone".to_owned()),
        "{}",
        no_phone.text()
    );

    request["answers"] =
        json!({ "company": "Analytical Engines Ltd", "budget": "10k+", "nda": true });
    let booked = app.post_json("/v1/bookings", None, &request).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text());
    let created = booked.json();
    let booking = &created["booking"];
    let id = booking["id"].as_str().expect("id").to_owned();
    let token = created["manage_token"].as_str().expect("token").to_owned();
    assert_eq!(booking["location"]["url"], "https://meet.example.com/maya");
    assert_eq!(
        booking["answers"][0],
        json!({ "id": "company", "label": "Company", "answer": "Analytical Engines Ltd" })
    );

    // The confirmation and the invite carry the place, the answers and the manage link.
    let mails = smtp.wait_for(2).await;
    let visitor = mails
        .iter()
        .find(|m| m.to.contains(&"ada@example.com".to_owned()))
        .expect("visitor mail");
    let body = visitor.data.replace("=\r\n", "").replace("=\n", "");
    assert!(body.contains("https://meet.example.com/maya"), "{body}");
    assert!(body.contains("Company: Analytical Engines Ltd"), "{body}");
    assert!(
        body.contains(&format!("/v1/bookings/{token}")),
        "the manage link: {body}"
    );
    let invite = app
        .get(&format!("/v1/bookings/{token}/invite.ics"))
        .await
        .text();
    let unfolded = invite.replace("\r\n ", "");
    assert!(
        unfolded.contains("LOCATION:https://meet.example.com/maya"),
        "{invite}"
    );
    assert!(
        unfolded.contains("URL:https://meet.example.com/maya"),
        "{invite}"
    );
    assert!(
        unfolded.contains(&format!("/v1/bookings/{token}")),
        "{invite}"
    );
    // The host's feed and agenda show where, and the answers (the feed without the
    // visitor's manage link).
    let agenda = app.get_as("/v1/admin/bookings", &owner).await.json();
    assert_eq!(agenda["items"][0]["location"]["kind"], "video");
    assert_eq!(agenda["items"][0]["answers"][2]["answer"], true);
    let feed_url = app
        .post_json(
            &format!("/v1/admin/hosts/{maya}/calendar-token"),
            Some(&owner),
            &json!({}),
        )
        .await
        .json()["url"]
        .as_str()
        .expect("feed url")
        .to_owned();
    let feed_path = &feed_url[feed_url.find("/v1/").expect("path")..];
    let feed = app.get(feed_path).await.text().replace("\r\n ", "");
    assert!(
        feed.contains("LOCATION:https://meet.example.com/maya"),
        "{feed}"
    );
    assert!(feed.contains("Company: Analytical Engines Ltd"), "{feed}");
    assert!(
        !feed.contains(&token),
        "the feed never carries the manage link"
    );
    // The lead keeps the answers.
    let lead_answers: Value = sqlx::query_scalar(
        "select details->'answers' from lead_events where kind = 'booking_created'",
    )
    .fetch_one(&app.db)
    .await
    .expect("lead event");
    assert_eq!(lead_answers[0]["answer"], "Analytical Engines Ltd");

    // Reminders are queued for their moment: a day and an hour before.
    let start: DateTime<Utc> = at(d, 10, 0).parse().expect("start");
    let mut due = due_now(&app, &id).await;
    due.sort();
    assert_eq!(due.len(), 2);
    assert!(
        (due[0] - (start - Days::minutes(1440))).num_seconds().abs() < 5,
        "{due:?}"
    );
    assert!(
        (due[1] - (start - Days::minutes(60))).num_seconds().abs() < 5,
        "{due:?}"
    );
    let mails = smtp.wait_for(6).await;
    let reminders: Vec<_> = mails
        .iter()
        .filter(|m| m.data.contains("Subject: Reminder"))
        .collect();
    assert_eq!(
        reminders.len(),
        4,
        "two reminders, to the visitor and the host"
    );
    // Exactly once: the same reminder run again sends nothing.
    sqlx::query("update outbox_jobs set status = 'pending', run_at = now(), done_at = null where kind = 'booking.reminder'")
        .execute(&app.db)
        .await
        .expect("rerun");
    reminders_run(&app).await;
    assert_eq!(
        reminders_queued(&app).await,
        (4, 2),
        "a rerun sends nothing"
    );

    // Moved: the old reminders are stale, new ones are queued; cancelled: none go out.
    let moved = app
        .post_json(
            &format!("/v1/bookings/{token}/reschedule"),
            None,
            &json!({ "start": at(d, 14, 0) }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let cancelled = app
        .post_json(&format!("/v1/bookings/{token}/cancel"), None, &json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(
        due_now(&app, &id).await.len(),
        2,
        "the moved booking's reminders"
    );
    reminders_run(&app).await;
    assert_eq!(
        reminders_queued(&app).await,
        (4, 2),
        "none for the moved and then cancelled call"
    );

    phone["phone"] = json!("+1 555 010 0200");
    let by_phone = app.post_json("/v1/bookings", None, &phone).await;
    assert_eq!(by_phone.status, StatusCode::CREATED, "{}", by_phone.text());
    assert_eq!(
        by_phone.json()["booking"]["location"]["text"],
        format!(
            "{} calls you on +1 555 010 0200",
            by_phone.json()["booking"]["host_name"]
                .as_str()
                .expect("name")
        )
    );

    // Content events for a static site and a CRM.
    crate::helpers::blog_basics(&app, &owner).await;
    let post = app
        .create(
            "/v1/admin/posts",
            &owner,
            &crate::helpers::post(
                "Calendars that tell the truth",
                json!({ "status": "published" }),
            ),
        )
        .await;
    let post_id = post["id"].as_str().expect("id");
    let mut changed = crate::helpers::post(
        "Calendars that tell the truth",
        json!({ "status": "published" }),
    );
    changed["excerpt"] = json!("Now with busy times.");
    let put = app
        .put_json(&format!("/v1/admin/posts/{post_id}"), &owner, &changed)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    changed["status"] = json!("draft");
    app.put_json(&format!("/v1/admin/posts/{post_id}"), &owner, &changed)
        .await;

    wait_until("every webhook event", || async {
        let got: Vec<String> = hooks
            .received
            .lock()
            .await
            .iter()
            .map(|r| r.json()["event"].as_str().unwrap_or_default().to_owned())
            .collect();
        [
            "booking.created",
            "booking.rescheduled",
            "booking.cancelled",
            "post.published",
            "post.updated",
            "post.unpublished",
            "site.changed",
        ]
        .iter()
        .all(|e| got.iter().any(|g| g == e))
    })
    .await;
    let received = hooks.received.lock().await.clone();
    let cancel = received
        .iter()
        .find(|r| r.json()["event"] == "booking.cancelled")
        .expect("cancel");
    assert_eq!(
        cancel.json()["data"]["cancelled_by"],
        "visitor",
        "{}",
        cancel.json()
    );
    assert!(
        !cancel.header("x-frontdesk-signature").is_empty(),
        "signed like the lead events"
    );
    let published = received
        .iter()
        .find(|r| r.json()["event"] == "post.published")
        .expect("published");
    assert_eq!(published.json()["data"]["slug"], post["slug"]);
}

#[tokio::test]
async fn the_scheduled_publisher_tells_webhooks_too() {
    let hooks = WebhookReceiver::start().await;
    let app = TestApp::spawn_with(|c| c.blog.scheduler_interval = Duration::from_millis(200)).await;
    let owner = app.owner_token().await;
    app.create(
        "/v1/admin/webhooks",
        &owner,
        &json!({ "url": hooks.url(), "events": ["post.published", "site.changed"] }),
    )
    .await;
    crate::helpers::blog_basics(&app, &owner).await;
    let soon = (Utc::now() + Days::seconds(5)).to_rfc3339();
    app.create(
        "/v1/admin/posts",
        &owner,
        &crate::helpers::post(
            "Out on its own",
            json!({ "status": "scheduled", "scheduled_at": soon }),
        ),
    )
    .await;
    // Two deliveries, in either order.
    let site_changed = |r: &crate::fixtures::Received| {
        r.json()["event"] == "site.changed" && r.json()["data"]["change"] == "post.published"
    };
    wait_until(
        "post.published and site.changed from the scheduler",
        || async {
            let got = hooks.received.lock().await;
            got.iter().any(|r| r.json()["event"] == "post.published")
                && got.iter().any(site_changed)
        },
    )
    .await;
    let got = hooks.received.lock().await.clone();
    let published = got
        .iter()
        .find(|r| r.json()["event"] == "post.published")
        .expect("published");
    assert_eq!(published.json()["data"]["title"], "Out on its own");
    let changed = got.iter().find(|r| site_changed(r)).expect("site.changed");
    assert_eq!(
        changed.json()["data"]["slug"],
        published.json()["data"]["slug"]
    );
}

#[tokio::test]
async fn a_booking_made_while_the_caldav_server_is_down_reaches_it_when_it_is_back() {
    let Some(mut radicale) = Radicale::start().await else {
        return;
    };
    let app = TestApp::spawn_with(|c| {
        calendars_app(c);
        c.outbox.retry_base = Duration::from_millis(200);
        c.scheduling.calendars.confirm_wait = Duration::from_millis(500);
        c.scheduling.calendars.refresh = Duration::from_secs(1);
    })
    .await;
    let owner = app.owner_token().await;
    let maya = host(&app, &owner, "UTC").await;
    call_type(
        &app,
        &owner,
        "intro",
        &[maya],
        json!({ "horizon_days": 30, "min_notice_minutes": 0 }),
    )
    .await;
    assert_eq!(
        radicale.request("MKCALENDAR", "/maya/work/", None).await.0,
        201
    );
    connect(&app, &owner, maya, &json!({
        "kind": "caldav", "url": radicale.url("/maya/work/"), "username": DAV_USER, "password": DAV_PASSWORD,
        "write": ""
    }))
    .await;
    radicale.stop();
    let d = monday();
    let booked = crate::scheduling::book(&app, "intro", &at(d, 9, 0), "ada@example.com").await;
    assert_eq!(
        booked.status,
        StatusCode::CREATED,
        "a booking does not wait for a calendar that is down: {}",
        booked.text()
    );
    let id = booked.json()["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    wait_until("a failed attempt to write the copy", || async {
        let failed: i64 = sqlx::query_scalar("select count(*) from outbox_jobs where kind = 'calendar.booking' and attempts > 0 and last_error is not null")
            .fetch_one(&app.db)
            .await
            .expect("count");
        failed > 0
    })
    .await;
    let error: String =
        sqlx::query_scalar("select last_error from outbox_jobs where kind = 'calendar.booking'")
            .fetch_one(&app.db)
            .await
            .expect("error");
    assert!(!error.contains(DAV_PASSWORD), "{error}");
    radicale.run().await;
    let resource = format!("/maya/work/{id}.ics");
    wait_until("the copy written on a retry", || async {
        radicale.request("GET", &resource, None).await.0 == 200
    })
    .await;

    // The visitor is erased: their booking's copy leaves the host's calendar at its next
    // refresh (every second here), and never counted as busy meanwhile.
    wait_until("the copy read back as a busy time", || async {
        let read: i64 = sqlx::query_scalar("select count(*) from host_busy where uid = $1")
            .bind(format!("{id}@frontdesk"))
            .fetch_one(&app.db)
            .await
            .expect("count");
        read == 1
    })
    .await;
    let erased = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    let (slots, _) = day_slots(&app, "intro", d).await;
    assert!(
        slots.contains(&at(d, 9, 0)),
        "the erased booking's copy is not busy"
    );
    wait_until(
        "the erased booking's copy to leave the calendar",
        || async { radicale.request("GET", &resource, None).await.0 == 404 },
    )
    .await;
}
