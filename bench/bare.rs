//! The framework's ceiling for the benchmark: a bare axum handler answering a fixed JSON
//! body (the very bytes of a post, saved by bench/run.sh), built with the same release
//! profile as frontdesk. Not part of the service.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let path = std::env::var("BODY_FILE").unwrap_or_else(|_| "bench/out/post.json".into());
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:18081".into());
    let body = Bytes::from(std::fs::read(&path)?);
    let app = Router::new().route(
        "/",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
