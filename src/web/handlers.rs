//! The widget script and the demo page's files, with ETags from their content.

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::WebState;
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::{Preconditions, not_modified};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    WebState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(widget))
        .routes(routes!(versioned_widget))
        .routes(routes!(demo_root))
        .routes(routes!(demo_index))
        .routes(routes!(demo_file))
}

/// One embedded file.
pub struct File {
    body: &'static [u8],
    content_type: &'static str,
    etag: String,
}

impl File {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        let digest = Sha256::digest(body);
        Self {
            body,
            content_type,
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
        }
    }

    /// The first characters of the content hash, for a URL that never changes content.
    fn version(&self) -> &str {
        &self.etag[1..17]
    }

    fn respond(&self, preconditions: &Preconditions, cache_control: &'static str) -> Response {
        let mut response = if not_modified(preconditions, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                )],
                self.body,
            )
                .into_response()
        };
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        response
    }
}

pub struct Files {
    widget: File,
    demo: [(&'static str, File); 3],
}

impl Files {
    pub fn embedded() -> Self {
        Self {
            widget: File::new(
                include_bytes!("../../web/widget.js"),
                "text/javascript; charset=utf-8",
            ),
            demo: [
                (
                    "index.html",
                    File::new(
                        include_bytes!("../../web/demo/index.html"),
                        "text/html; charset=utf-8",
                    ),
                ),
                (
                    "demo.js",
                    File::new(
                        include_bytes!("../../web/demo/demo.js"),
                        "text/javascript; charset=utf-8",
                    ),
                ),
                (
                    "demo.css",
                    File::new(
                        include_bytes!("../../web/demo/demo.css"),
                        "text/css; charset=utf-8",
                    ),
                ),
            ],
        }
    }

    /// The widget's URL path that names its content (cacheable for a year).
    pub fn widget_path(&self) -> String {
        format!("/widget/{}/widget.js", self.widget.version())
    }
}

/// Revalidated hourly: a new release reaches pages within the hour.
const WIDGET_CACHE: &str = "public, max-age=3600, stale-while-revalidate=86400";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const DEMO_CACHE: &str = "no-cache";
/// The demo page needs nothing but its own origin and the API's (its own, when served here).
const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The embeddable widget: `<script src="{PUBLIC_API_URL}/widget.js" defer></script>`.
#[utoipa::path(get, path = "/widget.js", tag = "web",
    responses((status = 200, description = "The widget", content_type = "text/javascript"),
              (status = 304, description = "Not modified")))]
async fn widget(State(web): State<WebState>, preconditions: Preconditions) -> Response {
    let mut response = web.files.widget.respond(&preconditions, WIDGET_CACHE);
    // Pages that isolate themselves (Cross-Origin-Embedder-Policy) may load it.
    response.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// The widget under an address that changes with its content (`/widget/{hash}/widget.js`),
/// for pages that pin a release: cacheable for a year.
#[utoipa::path(get, path = "/widget/{version}/widget.js", tag = "web",
    params(("version" = String, Path, description = "The first 16 hex digits of the content hash")),
    responses((status = 200, description = "The widget", content_type = "text/javascript"),
              (status = 404, description = "Another version", body = Problem)))]
async fn versioned_widget(
    State(web): State<WebState>,
    Path(version): Path<String>,
    preconditions: Preconditions,
) -> Result<Response> {
    if version != web.files.widget.version() {
        return Err(AppError::not_found(format!(
            "This version of the widget is not served; use {}.",
            web.files.widget_path()
        )));
    }
    let mut response = web.files.widget.respond(&preconditions, IMMUTABLE);
    response.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}

/// The demo page's address without its slash.
#[utoipa::path(get, path = "/demo", tag = "web",
    responses((status = 308, description = "To /demo/"), (status = 404, description = "DEMO_PAGE is false", body = Problem)))]
async fn demo_root(State(web): State<WebState>) -> Result<Redirect> {
    demo_enabled(&web)?;
    Ok(Redirect::permanent("/demo/"))
}

/// The demo page: an article page built from the public API, with the widget.
#[utoipa::path(get, path = "/demo/", tag = "web",
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 404, description = "DEMO_PAGE is false", body = Problem)))]
async fn demo_index(State(web): State<WebState>, preconditions: Preconditions) -> Result<Response> {
    demo_file_named(&web, "index.html", &preconditions)
}

/// The demo page's script and styles.
#[utoipa::path(get, path = "/demo/{file}", tag = "web",
    params(("file" = String, Path, example = "demo.js")),
    responses((status = 200, description = "The file"),
              (status = 404, description = "No such file, or DEMO_PAGE is false", body = Problem)))]
async fn demo_file(
    State(web): State<WebState>,
    Path(file): Path<String>,
    preconditions: Preconditions,
) -> Result<Response> {
    demo_file_named(&web, &file, &preconditions)
}

fn demo_enabled(web: &WebState) -> Result<()> {
    if web.config.demo {
        Ok(())
    } else {
        Err(AppError::not_found(
            "The demo page is off here (DEMO_PAGE=false).",
        ))
    }
}

fn demo_file_named(web: &WebState, name: &str, preconditions: &Preconditions) -> Result<Response> {
    demo_enabled(web)?;
    let Some((_, file)) = web.files.demo.iter().find(|(n, _)| *n == name) else {
        return Err(AppError::not_found(format!("The demo has no file {name}.")));
    };
    let mut response = file.respond(preconditions, DEMO_CACHE);
    if name == "index.html" {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEMO_CSP),
        );
    }
    Ok(response)
}
