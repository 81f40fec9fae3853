//! The framework's ceiling for the benchmark: a bare axum handler answering fixed JSON
//! bodies (the very bytes frontdesk answered, saved by bench/run.py), built with the same
//! release profile as frontdesk. Each file `NAME.json` in BODY_DIR is served at `/NAME`.
//! Not part of the service.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let dir = std::env::var("BODY_DIR").unwrap_or_else(|_| "bench/out/bodies".into());
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:18081".into());
    let mut app = Router::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        let body = Bytes::from(std::fs::read(&path)?);
        app = app.route(
            &format!("/{name}"),
            get(move || {
                let body = body.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
