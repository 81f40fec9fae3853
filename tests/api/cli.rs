//! The `frontdesk` binary itself: start-up errors, subcommands, and graceful shutdown.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use frontdesk::Config;

use crate::helpers::{PASSWORD, TestApp, database_url, drop_database};

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

fn frontdesk(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

#[test]
fn an_unreachable_database_stops_start_up_with_one_clear_line() {
    let output = frontdesk(
        &["serve"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/frontdesk")],
    )
    .output()
    .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("cannot reach Postgres at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(lines[0].contains("DATABASE_URL"), "{stderr}");
    assert!(lines[0].contains("docker compose up -d db"), "{stderr}");
}

#[test]
fn an_invalid_variable_is_named() {
    let output = frontdesk(&["serve"], &[("LISTEN_ADDR", "localhost")])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LISTEN_ADDR"), "{stderr}");
}

#[test]
fn config_prints_every_variable_with_secrets_redacted() {
    let output = frontdesk(
        &["config"],
        &[(
            "DATABASE_URL",
            "postgres://app:hunter22@db.internal:5432/frontdesk",
        )],
    )
    .output()
    .expect("run");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("hunter22"), "{stdout}");
    assert!(
        stdout.contains("DATABASE_URL=postgres://app:REDACTED@db.internal:5432/frontdesk"),
        "{stdout}"
    );
    for variable in frontdesk::app::variables() {
        assert!(
            stdout.contains(&format!("{}=", variable.name)),
            "{} missing",
            variable.name
        );
    }
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_only() {
    let app = TestApp::spawn().await;
    let url = database_url(&app.db_name);
    let refused = frontdesk(
        &[
            "admin",
            "create",
            "--email",
            "a@example.com",
            "--role",
            "owner",
        ],
        &[("DATABASE_URL", &url)],
    )
    .output()
    .expect("run");
    assert!(!refused.status.success(), "--password-stdin is required");

    let mut child = frontdesk(
        &[
            "admin",
            "create",
            "--email",
            "Boss@Example.com",
            "--role",
            "owner",
            "--password-stdin",
        ],
        &[("DATABASE_URL", &url)],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write password");
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("boss@example.com"));
    assert_eq!(
        app.login("boss@example.com", PASSWORD).await.status,
        axum::http::StatusCode::OK
    );

    let weak = frontdesk(
        &[
            "admin",
            "create",
            "--email",
            "weak@example.com",
            "--role",
            "sales",
            "--password-stdin",
        ],
        &[("DATABASE_URL", &url)],
    )
    .stdin(Stdio::null())
    .output()
    .expect("run");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_until_ready(client: &reqwest::Client, base: &str) {
    crate::fixtures::wait_within(
        "the service to be ready",
        Duration::from_secs(60),
        || async {
            client
                .get(format!("{base}/health/ready"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200)
        },
    )
    .await;
}

/// Starts on a database that does not exist yet (it is created and migrated), then on
/// SIGTERM turns unready, and exits 0.
#[tokio::test]
async fn serve_creates_the_database_and_shuts_down_cleanly_on_sigterm() {
    let db_name = format!("frontdesk_test_bin_{}", uuid::Uuid::new_v4().simple());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let mut child = frontdesk(
        &[],
        &[
            ("DATABASE_URL", &database_url(&db_name)),
            ("LISTEN_ADDR", &listen),
            ("SHUTDOWN_DELAY_SECS", "2"),
        ],
    )
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let client = reqwest::Client::new();
    wait_until_ready(&client, &base).await;
    assert_eq!(
        client
            .get(format!("{base}/v1/services"))
            .send()
            .await
            .expect("get")
            .status(),
        200
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    // During the delay the process still answers, but says it is not ready.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut saw_unready = false;
    while Instant::now() < deadline && !saw_unready {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
            saw_unready = r.status() == 503;
        }
    }
    assert!(saw_unready, "readiness should answer 503 after SIGTERM");

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
    drop_database(&db_name).await;
}

/// A request in flight when shutdown begins still gets its answer; the server then stops.
#[tokio::test]
async fn in_flight_requests_finish_during_shutdown() {
    let app = TestApp::spawn().await;
    let mut config = Config::with_database_url("postgres://unused");
    config.http.shutdown_grace = Duration::from_secs(10);
    let state = frontdesk::AppState::new(app.db.clone(), config)
        .await
        .expect("state");
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let routes = Router::new().route(
        "/slow",
        get({
            let started = started.clone();
            move || async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(800)).await;
                "finished"
            }
        }),
    );
    let router = frontdesk::http::with_middleware(routes, &state.core.config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(frontdesk::http::serve_router(
        listener,
        router,
        state.core.clone(),
        async {
            let _ = stopped.await;
        },
    ));

    let client = reqwest::Client::new();
    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/slow");
        async move { client.get(url).send().await?.text().await }
    });
    started.notified().await;
    stop.send(()).expect("signal");

    let answer = in_flight
        .await
        .expect("join")
        .expect("the slow request completes");
    assert_eq!(answer, "finished");
    let served = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops");
    assert!(served.expect("join").is_ok());
    assert!(
        client.get(format!("{base}/slow")).send().await.is_err(),
        "no new connections"
    );
}
