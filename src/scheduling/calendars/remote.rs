//! Talking to the hosts' calendar servers: an iCalendar feed is one GET; a CalDAV calendar
//! (RFC 4791) is read with a `calendar-query` REPORT over a time range and written with PUT
//! and DELETE of one resource per booking. Requests go through the outbound client (public
//! addresses only unless CALENDAR_ALLOW_PRIVATE, no redirects), bodies are read up to a
//! limit, and errors never carry the URL (a feed's address is a secret) or the password.

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// The most a calendar answer may weigh.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Where and as whom to reach a calendar server.
pub struct Account {
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

impl Account {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.username, &self.password) {
            (Some(user), password) => request.basic_auth(
                user,
                password.as_ref().map(|p| p.expose_secret().to_owned()),
            ),
            (None, Some(token)) => request.bearer_auth(token.expose_secret()),
            (None, None) => request,
        }
    }
}

/// Why a calendar could not be read or written, in words for an admin.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("could not reach the calendar server: {0}")]
    Unreachable(String),
    #[error("the calendar server answered {0}")]
    Status(StatusCode),
    #[error("the calendar's answer is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the calendar's answer could not be read: {0}")]
    Unreadable(String),
}

fn unreachable(err: reqwest::Error) -> RemoteError {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    RemoteError::Unreachable(text)
}

async fn body(response: reqwest::Response) -> Result<String, RemoteError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BYTES as u64)
    {
        return Err(RemoteError::TooLarge);
    }
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreachable)?;
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(RemoteError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| RemoteError::Unreadable("not UTF-8 text".into()))
}

/// An iCalendar feed's text.
pub async fn feed(http: &reqwest::Client, url: &Url) -> Result<String, RemoteError> {
    let response = http
        .get(url.clone())
        .header("accept", "text/calendar, */*;q=0.5")
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(RemoteError::Status(response.status()));
    }
    body(response).await
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The iCalendar objects of `collection` with an event in `[from, to)`.
pub async fn events(
    http: &reqwest::Client,
    account: &Account,
    collection: &Url,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<String>, RemoteError> {
    let query = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT"><C:time-range start="{}" end="{}"/></C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#,
        stamp(from),
        stamp(to)
    );
    let report = Method::from_bytes(b"REPORT").unwrap_or(Method::POST);
    let response = account
        .apply(http.request(report, collection.clone()))
        .header("depth", "1")
        .header("content-type", "application/xml; charset=utf-8")
        .body(query)
        .send()
        .await
        .map_err(unreachable)?;
    if response.status() != StatusCode::MULTI_STATUS {
        return Err(RemoteError::Status(response.status()));
    }
    calendar_data(&body(response).await?)
}

/// The `calendar-data` of every successful response in a multistatus document.
fn calendar_data(xml: &str) -> Result<Vec<String>, RemoteError> {
    const DAV: &str = "DAV:";
    const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| RemoteError::Unreadable(format!("not a multistatus document ({e})")))?;
    let mut found = Vec::new();
    for propstat in doc
        .descendants()
        .filter(|n| n.has_tag_name((DAV, "propstat")))
    {
        let ok = propstat
            .children()
            .find(|n| n.has_tag_name((DAV, "status")))
            .and_then(|n| n.text())
            .is_none_or(|s| s.contains(" 200"));
        if !ok {
            continue;
        }
        for data in propstat
            .descendants()
            .filter(|n| n.has_tag_name((CALDAV, "calendar-data")))
        {
            let text: String = data
                .children()
                .filter_map(|c| c.text())
                .collect::<Vec<_>>()
                .concat();
            if !text.trim().is_empty() {
                found.push(text);
            }
        }
    }
    Ok(found)
}

/// Writes one calendar object (creating or replacing it); its new ETag when the server
/// says.
pub async fn put(
    http: &reqwest::Client,
    account: &Account,
    href: &Url,
    ics: &str,
) -> Result<Option<String>, RemoteError> {
    let response = account
        .apply(http.put(href.clone()))
        .header("content-type", "text/calendar; charset=utf-8")
        .body(ics.to_owned())
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(RemoteError::Status(response.status()));
    }
    Ok(response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}

/// Removes one calendar object; one already gone is fine.
pub async fn delete(
    http: &reqwest::Client,
    account: &Account,
    href: &Url,
) -> Result<(), RemoteError> {
    let response = account
        .apply(http.delete(href.clone()))
        .send()
        .await
        .map_err(unreachable)?;
    match response.status() {
        s if s.is_success() || s == StatusCode::NOT_FOUND || s == StatusCode::GONE => Ok(()),
        s => Err(RemoteError::Status(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_data_is_read_from_successful_propstats_only() {
        let xml = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <response><href>/a/1.ics</href><propstat><prop><getetag>"1"</getetag>
    <C:calendar-data>BEGIN:VCALENDAR&#13;
END:VCALENDAR</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/a/2.ics</href><propstat><prop><C:calendar-data/></prop>
    <status>HTTP/1.1 404 Not Found</status></propstat></response>
</multistatus>"#;
        let found = calendar_data(xml).expect("parses");
        assert_eq!(found, vec!["BEGIN:VCALENDAR\r\nEND:VCALENDAR".to_owned()]);
        assert!(calendar_data("<html><body>").is_err());
    }
}
