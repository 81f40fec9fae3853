//! The test harness: every test gets its own database, cloned from a migrated template, and
//! drives the real router. The database is dropped when the test ends, pass or fail.

use std::net::SocketAddr;
use std::str::FromStr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use frontdesk::Config;
use frontdesk::auth::Role;
use frontdesk::db::MIGRATOR;
use frontdesk::{AppState, build_router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

/// The Postgres server tests use: DATABASE_URL's server if set, else the local default.
pub fn server_options() -> PgConnectOptions {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    PgConnectOptions::from_str(&url)
        .expect("DATABASE_URL is a Postgres URL")
        .database("postgres")
}

/// Name of a template database holding the current migrations.
async fn template_database() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut hasher = Sha256::new();
            for migration in MIGRATOR.iter() {
                hasher.update(&migration.checksum);
            }
            let digest = hasher.finalize();
            let name = format!("frontdesk_test_tmpl_{}", hex_prefix(&digest));
            create_template(&name).await;
            name
        })
        .await
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the template under an advisory lock (test binaries may run at once), migrating a
/// scratch database first and renaming it, so a half-built template is never used.
async fn create_template(name: &str) {
    let mut conn = PgConnection::connect_with(&server_options())
        .await
        .expect("tests need Postgres: start it or set DATABASE_URL");
    conn.execute("select pg_advisory_lock(727274)")
        .await
        .expect("lock");
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .expect("query pg_database");
    if !exists {
        let scratch = format!("{name}_building");
        conn.execute(format!("drop database if exists {scratch} with (force)").as_str())
            .await
            .expect("drop scratch");
        conn.execute(format!("create database {scratch}").as_str())
            .await
            .expect("create scratch");
        let mut scratch_conn = PgConnection::connect_with(&server_options().database(&scratch))
            .await
            .expect("connect scratch");
        MIGRATOR
            .run(&mut scratch_conn)
            .await
            .expect("migrate template");
        scratch_conn.close().await.expect("close scratch");
        conn.execute(format!("alter database {scratch} rename to {name}").as_str())
            .await
            .expect("rename template");
        // Templates of earlier migration sets are no longer needed.
        let stale: Vec<String> = sqlx::query_scalar(
            "select datname from pg_database where datname like 'frontdesk_test_tmpl_%' and datname <> $1 and datname not like '%_building'",
        )
        .bind(name)
        .fetch_all(&mut conn)
        .await
        .expect("list templates");
        for old in stale {
            let _ = conn
                .execute(format!("drop database if exists {old} with (force)").as_str())
                .await;
        }
    }
    conn.execute("select pg_advisory_unlock(727274)")
        .await
        .expect("unlock");
    conn.close().await.expect("close");
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: PgPool,
    pub db_name: String,
    pub peer: SocketAddr,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A fresh database and the real router, with the defaults changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        show_server_logs();
        let template = template_database().await;
        let db_name = format!("frontdesk_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&server_options())
            .await
            .expect("connect");
        conn.execute(format!("create database {db_name} template {template}").as_str())
            .await
            .expect("create test database");
        conn.close().await.expect("close");

        let options = server_options().database(&db_name);
        let db = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect_with(options)
            .await
            .expect("connect to the test database");
        let mut config = Config::with_database_url("postgres://unused");
        // The tests' webhook receivers and model servers are on loopback.
        config.webhooks.allow_private = true;
        configure(&mut config);
        let state = start_state(db.clone(), config).await;
        Self {
            router: build_router(state.clone()),
            state,
            db,
            db_name,
            peer: "127.0.0.1:40000".parse().expect("addr"),
        }
    }

    /// Another replica over pools the test made (of this app's database, a read replica,
    /// a direct connection), started like `serve` starts one; it does not wait for its
    /// cache listener, which the test may expect never to hear.
    pub async fn replica_over(&self, dbs: frontdesk::db::Databases) -> Replica {
        let config = (*self.state.config).clone();
        let state = AppState::with_databases(dbs, config).await.expect("state");
        state.start_background().expect("background work starts");
        Replica {
            router: build_router(state.clone()),
            state,
        }
    }

    /// The URL of this app's database.
    pub fn database_url(&self) -> String {
        database_url(&self.db_name)
    }

    /// Another replica: its own state and cache, the same database.
    pub async fn replica(&self) -> Replica {
        self.replica_with(|_| {}).await
    }

    /// Another replica of the same database, configured otherwise by `configure`.
    pub async fn replica_with(&self, configure: impl FnOnce(&mut Config)) -> Replica {
        let mut config = (*self.state.config).clone();
        configure(&mut config);
        let state = start_state(self.db.clone(), config).await;
        Replica {
            router: build_router(state.clone()),
            state,
        }
    }

    /// Starts a request to the router.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            app: self,
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
            peer: self.peer,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.req(Method::GET, path).send().await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        self.req(Method::GET, path).bearer(token).send().await
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.req(Method::PUT, path)
            .bearer(token)
            .json(body)
            .send()
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.req(Method::DELETE, path).bearer(token).send().await
    }

    /// POSTs and expects 201, returning the body.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> Value {
        let response = self.post_json(path, Some(token), body).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "POST {path}: {}",
            response.text()
        );
        response.json()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        let req = self.req(Method::POST, path).json(body);
        match token {
            Some(t) => req.bearer(t).send().await,
            None => req.send().await,
        }
    }

    /// `select count(*) from {rows}`, e.g. `count("leads where kind = 'plan'")`.
    pub async fn count(&self, rows: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {rows}"))
            .fetch_one(&self.db)
            .await
            .unwrap_or_else(|err| panic!("counting {rows}: {err}"))
    }

    /// Creates an admin with the given role directly in the database (through the service
    /// the CLI uses) and returns its email.
    pub async fn create_admin(&self, role: Role) -> String {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let new = frontdesk::auth::NewAdmin::validate(&email, None, Some(role.as_str()), PASSWORD)
            .expect("valid admin");
        frontdesk::auth::create_admin(&self.state.core.db, frontdesk::audit::AuditActor::Cli, new)
            .await
            .expect("create admin");
        email
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post_json(
            "/v1/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// A bearer token of a new admin with this role.
    pub async fn token_for(&self, role: Role) -> String {
        let email = self.create_admin(role).await;
        let response = self.login(&email, PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["token"].as_str().expect("token").to_owned()
    }

    pub async fn owner_token(&self) -> String {
        self.token_for(Role::Owner).await
    }
}

/// A state with its background work running and its cache listening, as in `serve`.
async fn start_state(db: PgPool, config: Config) -> AppState {
    let state = AppState::new(db, config).await.expect("state");
    state.start_background().expect("background work starts");
    crate::fixtures::wait_within(
        "the cache listener to start",
        std::time::Duration::from_secs(10),
        || async { state.cache.is_listening() },
    )
    .await;
    state
}

pub struct Replica {
    pub router: Router,
    pub state: AppState,
}

impl Replica {
    /// A request to this replica, with a bearer token and a JSON body when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut request = builder.body(body).expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40001))));
        send_to(self.router.clone(), request).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        let mut request = Request::get(path).body(Body::empty()).expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40001))));
        send_to(self.router.clone(), request).await
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
        let name = self.db_name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its
        // own small runtime removes the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&server_options()).await {
                    let _ = conn
                        .execute(format!("drop database if exists {name} with (force)").as_str())
                        .await;
                }
            });
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.db_name);
        }
    }
}

pub struct RequestBuilder<'a> {
    app: &'a TestApp,
    builder: axum::http::request::Builder,
    body: Body,
    peer: SocketAddr,
}

impl RequestBuilder<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(serde_json::to_vec(body).expect("json"));
        self
    }

    pub fn raw_body(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    /// The TCP peer the request seems to come from (as the server's ConnectInfo).
    pub fn peer(mut self, peer: &str) -> Self {
        self.peer = peer.parse().expect("socket address");
        self
    }

    pub async fn send(self) -> TestResponse {
        let mut request = self.builder.body(self.body).expect("request");
        request.extensions_mut().insert(ConnectInfo(self.peer));
        send_to(self.app.router.clone(), request).await
    }
}

pub async fn send_to(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON; fails the test if an object in it has a key twice (parsers would
    /// silently keep only one of them).
    pub fn json(&self) -> Value {
        if let Err(e) = serde_json::from_slice::<NoDuplicateKeys>(&self.body) {
            panic!("not JSON without duplicate keys ({e}): {}", self.text());
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and that the body is a problem+json of the RFC 9457 shape.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, kind: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text()
        );
        let body = self.json();
        assert_eq!(
            body["type"],
            format!("urn:frontdesk:problem:{kind}"),
            "{body}"
        );
        assert_eq!(body["status"], status.as_u16());
        assert!(body["title"].is_string());
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        let request_id = self.header("x-request-id").expect("x-request-id header");
        assert_eq!(
            body["request_id"], request_id,
            "the body quotes the request id"
        );
        body
    }

    /// The `field` of every error of a 422, in order.
    #[track_caller]
    pub fn field_errors(&self) -> Vec<String> {
        let body = self.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        body["errors"]
            .as_array()
            .expect("errors list")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_owned())
            .collect()
    }
}

pub fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("header value")
}

/// A URL for a database of the test server, for the binary and the CLI.
pub fn database_url(database: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    let mut url = url::Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// Drops a database of the test server, if it exists.
pub async fn drop_database(name: &str) {
    let mut conn = PgConnection::connect_with(&server_options())
        .await
        .expect("connect");
    conn.execute(format!("drop database if exists {name} with (force)").as_str())
        .await
        .expect("drop database");
}

/// Authors `ada` and `grace`, tags `rust`, `postgres` and `design`, series `guide`: what blog
/// tests build posts from.
pub async fn blog_basics(app: &TestApp, token: &str) {
    for (name, slug) in [("Ada Lovelace", "ada"), ("Grace Hopper", "grace")] {
        app.create(
            "/v1/admin/authors",
            token,
            &json!({ "name": name, "slug": slug, "bio": "Writes." }),
        )
        .await;
    }
    for (name, slug) in [
        ("Rust", "rust"),
        ("Postgres", "postgres"),
        ("Design", "design"),
    ] {
        app.create(
            "/v1/admin/tags",
            token,
            &json!({ "name": name, "slug": slug }),
        )
        .await;
    }
    app.create(
        "/v1/admin/series",
        token,
        &json!({ "title": "The guide", "slug": "guide" }),
    )
    .await;
}

/// A published post with this title, changed by `extra`'s fields.
pub fn post(title: &str, extra: Value) -> Value {
    let mut post = json!({
        "title": title,
        "body": format!("Intro to {title}.\n\n## First part\n\nSome words about {title}.\n\n### Detail\n\nMore.\n\n## Second part\n\nThe end."),
        "authors": ["ada"],
        "tags": ["rust"],
        "status": "published"
    });
    if let (Some(post), Some(extra)) = (post.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            post.insert(key.clone(), value.clone());
        }
    }
    post
}

/// The slugs of a list of posts (or of a page's items).
pub fn slugs(value: &Value) -> Vec<String> {
    let items = value.get("items").unwrap_or(value);
    items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["slug"].as_str().expect("slug").to_owned())
        .collect()
}

/// Deserializes any JSON, refusing an object that has a key twice.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeysVisitor)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }
}

/// With `TEST_LOG` set (`TEST_LOG=1`, or a filter such as `TEST_LOG=debug,sqlx=info`), the
/// server's logs go to the test's output, which the test runner shows for a failing test.
fn show_server_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let Ok(filter) = std::env::var("TEST_LOG") else {
        return;
    };
    ONCE.call_once(|| {
        let filter = match filter.as_str() {
            "" | "1" | "true" => "info,sqlx=warn".to_owned(),
            other => other.to_owned(),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}
