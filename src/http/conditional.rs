//! Public reads: a JSON body with an ETag and Cache-Control, and 304 for a matching
//! If-None-Match.

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use headers::{ETag, Header, IfNoneMatch};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;

/// Browsers and CDNs may keep a copy but must revalidate it (cheap: a 304), so an admin's
/// change is seen at once.
pub const PUBLIC_CACHE_CONTROL: &str = "public, no-cache";

/// A serialized body with its content type and validator, ready to be answered many times.
#[derive(Debug, Clone)]
pub struct Cacheable {
    body: Bytes,
    content_type: HeaderValue,
    etag_header: HeaderValue,
    etag: ETag,
}

impl Cacheable {
    pub fn json<T: Serialize>(value: &T) -> Result<Self> {
        let body = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
        Ok(Self::new(
            body,
            HeaderValue::from_static("application/json"),
        ))
    }

    /// A body of the given content type (for callers that know no HTTP types).
    pub fn typed(body: Vec<u8>, content_type: &'static str) -> Self {
        Self::new(body, HeaderValue::from_static(content_type))
    }

    pub fn new(mut body: Vec<u8>, content_type: HeaderValue) -> Self {
        // A serializer's buffer grows by doubling: held for long, the spare half would be
        // memory the cache's size limit does not see.
        body.shrink_to_fit();
        let body = Bytes::from(body);
        let digest = Sha256::digest(&body);
        // Weak: the compression layer may change the bytes on the wire, not the meaning.
        let tag = format!("W/\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
        let etag = tag
            .parse::<ETag>()
            .expect("a quoted base64url string is a valid ETag");
        let etag_header = HeaderValue::from_str(&tag).expect("ASCII");
        Self {
            body,
            content_type,
            etag_header,
            etag,
        }
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// How much memory the entry holds, roughly, for the cache's size limit.
    pub fn weight(&self) -> usize {
        self.body.len() + 256
    }

    /// 304 when the client already has this version, otherwise 200 with the body.
    pub fn respond(&self, preconditions: &Preconditions) -> Response {
        let not_modified = preconditions
            .if_none_match()
            .is_some_and(|inm| !inm.precondition_passes(&self.etag));
        let mut response = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Response::new(Body::from(self.body.clone()));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, self.content_type.clone());
            response
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, self.etag_header.clone());
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(PUBLIC_CACHE_CONTROL),
        );
        response
    }
}

/// The request's If-None-Match header: all a public read needs of the request headers
/// (taking this instead of `HeaderMap` spares copying every header of every request).
#[derive(Debug, Default, Clone)]
pub struct Preconditions(Option<HeaderValue>);

impl Preconditions {
    fn if_none_match(&self) -> Option<IfNoneMatch> {
        let value = self.0.as_ref()?;
        IfNoneMatch::decode(&mut std::iter::once(value)).ok()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Preconditions {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get(header::IF_NONE_MATCH).cloned()))
    }
}

/// Whether the client's If-None-Match already names this ETag (weak comparison).
pub fn not_modified(preconditions: &Preconditions, etag: &str) -> bool {
    let Some(if_none_match) = preconditions.if_none_match() else {
        return false;
    };
    etag.parse::<ETag>()
        .is_ok_and(|etag| !if_none_match.precondition_passes(&etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with_inm(value: &str) -> Preconditions {
        Preconditions(Some(HeaderValue::from_str(value).expect("ascii")))
    }

    #[test]
    fn matching_validator_gives_304_and_another_gives_200() {
        let cached = Cacheable::json(&serde_json::json!({"a": 1})).expect("json");
        let etag = cached.etag_header.to_str().expect("ascii").to_owned();
        assert_eq!(
            cached.respond(&Preconditions::default()).status(),
            StatusCode::OK
        );
        assert_eq!(
            cached.respond(&headers_with_inm(&etag)).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            cached
                .respond(&headers_with_inm(&format!("\"other\", {etag}")))
                .status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            cached.respond(&headers_with_inm("\"other\"")).status(),
            StatusCode::OK
        );
    }

    #[test]
    fn different_bodies_have_different_validators() {
        let a = Cacheable::json(&1).expect("json");
        let b = Cacheable::json(&2).expect("json");
        assert_ne!(a.etag_header, b.etag_header);
    }
}
