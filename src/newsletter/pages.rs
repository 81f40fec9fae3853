//! The reader's two pages, linked from every issue's footer: unsubscribe (a button: opening
//! the link changes nothing, since mail scanners open links) and preferences (topics). Plain
//! HTML forms, no script, so they work in any browser; the API routes under /v1 do the same
//! for a site that renders its own pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::service::{PreferencesPage, UnsubscribePage};
use crate::error::AppError;

/// Text (or a URL) as HTML text or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut out, text);
    out
}

const STYLE: &str = "body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
background:#f4f4f5;color:#1f2937;margin:0;padding:48px 16px}main{max-width:520px;margin:0 auto;background:#fff;\
border-radius:8px;padding:32px}h1{font-size:22px;margin:0 0 16px}p{line-height:1.6}button{font:inherit;\
padding:10px 18px;border:0;border-radius:6px;background:#111827;color:#fff;cursor:pointer}\
label{display:block;margin:8px 0}.muted{color:#6b7280;font-size:14px}a{color:#2563eb}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    // The URL holds the reader's address and signature: not cached, not passed on, not framed.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// A failed page: what the reader can act on, or an apology (the cause is logged).
pub fn error(err: &AppError) -> Response {
    let status = err.status();
    let message = if status.is_server_error() {
        tracing::error!(error = %err, "a newsletter page failed");
        "Something went wrong on our side; please try again in a moment.".to_owned()
    } else {
        err.for_visitor().unwrap_or_else(|| err.to_string())
    };
    page(
        status,
        "Newsletter",
        &format!("<h1>Sorry</h1><p>{}</p>", escape(&message)),
    )
}

pub fn unsubscribe(result: Result<UnsubscribePage, AppError>) -> Response {
    let p = match result {
        Ok(p) => p,
        Err(err) => return error(&err),
    };
    let (firm, email) = (escape(&p.firm), escape(&p.email));
    let body = if p.done {
        format!(
            "<h1>You are unsubscribed</h1><p><strong>{email}</strong> will get no more of {firm}'s newsletter.</p>\
             <p class=\"muted\">Changed your mind? Subscribe again on our site at any time.</p>"
        )
    } else if p.subscribed {
        format!(
            "<h1>Unsubscribe?</h1><p>Stop sending {firm}'s newsletter to <strong>{email}</strong>.</p>\
             <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>\
             <p class=\"muted\">Or <a href=\"{}\">choose the topics you get</a> instead.</p>",
            escape(&p.preferences_url)
        )
    } else {
        format!(
            "<h1>Not subscribed</h1><p><strong>{email}</strong> is not on {firm}'s newsletter list.</p>"
        )
    };
    page(StatusCode::OK, "Unsubscribe", &body)
}

pub fn preferences(result: Result<PreferencesPage, AppError>) -> Response {
    let p = match result {
        Ok(p) => p,
        Err(err) => return error(&err),
    };
    let prefs = &p.preferences;
    let mut boxes = String::new();
    for topic in &prefs.available_topics {
        let checked = if prefs.topics.contains(&topic.slug) {
            " checked"
        } else {
            ""
        };
        boxes.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"topics\" value=\"{}\"{checked}> {}</label>",
            escape(&topic.slug),
            escape(&topic.name)
        ));
    }
    let saved = if p.saved {
        "<p><strong>Saved.</strong></p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>Your newsletter preferences</h1>{saved}\
         <p>{email} gets every issue {firm} sends to everyone, and those about the topics ticked here.</p>\
         <form method=\"post\">{boxes}<p><button type=\"submit\">Save</button></p></form>\
         <p class=\"muted\"><a href=\"{unsubscribe}\">Unsubscribe from everything</a></p>",
        email = escape(&prefs.email),
        firm = escape(&p.firm),
        unsubscribe = escape(&p.unsubscribe_url),
    );
    page(StatusCode::OK, "Newsletter preferences", &body)
}
