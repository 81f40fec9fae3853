//! Ghost compatibility: the blog answered as Ghost's Content API answers it, under
//! `/ghost/api/content/` (and the legacy `/ghost/api/{v2,v3,v4,canary}/content/`), for
//! front-ends built on `@tryghost/content-api` (Gatsby, Next.js, Eleventy starters); the
//! keys it takes; and `frontdesk import ghost`, which brings a Ghost export's content over.
//!
//! tests/fixtures/ghost/NOTES.md records what a real Ghost 6.65 answers; this module follows
//! it, and .ci/ghost-client/check.mjs checks it with the official client.

mod content;
mod handlers;
mod import;
mod keys;
mod nql;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::cache::{Tier, Weigh};
use crate::http::conditional::Cacheable;
use crate::state::Core;
pub use content::GHOST_VERSION;
use content::{Lookup, Options, Refusal, Resource};
pub use handlers::{admin_router, content_router};
pub use import::{ImportReport, import_export};

/// What the Content API answers a request.
pub enum Answer {
    /// 200: a JSON body, built once per content generation.
    Json(Arc<Cacheable>),
    /// An error, in Ghost's shape.
    Error { status: u16, body: Value },
    /// 301 to the same path with its trailing slash (and the query).
    Redirect(String),
    /// 204 to a CORS preflight.
    Preflight,
}

/// A request as the handler hands it over.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path after `/content/`.
    pub rest: &'a str,
    /// The full path, for redirects.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub accept_version: Option<&'a str>,
}

/// One Ghost error object; `id` is fresh.
fn error(
    status: u16,
    kind: &str,
    message: &str,
    context: Option<&str>,
    help: Option<&str>,
    code: Option<&str>,
) -> Answer {
    Answer::Error {
        status,
        body: json!({"errors": [{
            "message": message, "context": context, "type": kind, "details": null,
            "property": null, "help": help, "code": code, "id": uuid::Uuid::new_v4().to_string(),
            "ghostErrorCode": null,
        }]}),
    }
}

fn refused(refusal: Refusal) -> Answer {
    match refusal {
        Refusal::BadFilter {
            resource,
            unknown_field,
        } => error(
            400,
            "BadRequestError",
            &format!(
                "Request not understood error, cannot list {}.",
                resource.name()
            ),
            Some(if unknown_field {
                "Could not understand request."
            } else {
                "Error parsing filter"
            }),
            None,
            None,
        ),
        Refusal::NotFound(resource) => {
            let noun = resource.singular();
            let mut title = noun.to_owned();
            if let Some(first) = title.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            error(
                404,
                "NotFoundError",
                &format!("Resource not found error, cannot read {noun}."),
                Some(&format!("{title} not found.")),
                None,
                None,
            )
        }
        Refusal::Invalid {
            resource,
            read,
            context,
        } => error(
            422,
            "ValidationError",
            &if read {
                format!("Validation error, cannot read {}.", resource.singular())
            } else {
                format!("Validation error, cannot list {}.", resource.name())
            },
            Some(&context),
            None,
            None,
        ),
    }
}

/// The 404 or 406 of a path that is no endpoint (Ghost answers 406 when the client named a
/// version).
fn unknown_endpoint(accept_version: Option<&str>) -> Answer {
    let Some(version) = accept_version else {
        return error(404, "NotFoundError", "Resource not found", None, None, None);
    };
    let asked: Option<(u32, u32)> = version
        .trim_start_matches('v')
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    let ours: (u32, u32) = GHOST_VERSION
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or((6, 0));
    let ahead = asked.is_some_and(|a| a > ours);
    let (relation, help, code) = if ahead {
        (
            "ahead of",
            "Try upgrading your Ghost install.",
            "UPDATE_GHOST",
        )
    } else {
        (
            "behind",
            "Try upgrading your Ghost API client.",
            "UPDATE_CLIENT",
        )
    };
    error(
        406,
        "RequestNotAcceptableError",
        "Request not acceptable for provided Accept-Version header.",
        Some(&format!(
            "Provided client accept-version {version} is {relation} current Ghost version v{GHOST_VERSION}."
        )),
        Some(help),
        Some(code),
    )
}

enum Endpoint {
    Content(Resource, Lookup),
    Settings,
    /// tiers, newsletters: nothing here, answered as an empty list.
    Empty(&'static str),
}

fn endpoint(rest: &str) -> Option<Endpoint> {
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let resource = match parts.first().copied()? {
        "posts" => Resource::Posts,
        "pages" => Resource::Pages,
        "tags" => Resource::Tags,
        "authors" => Resource::Authors,
        "settings" if parts.len() == 1 => return Some(Endpoint::Settings),
        "tiers" if parts.len() == 1 => return Some(Endpoint::Empty("tiers")),
        "newsletters" if parts.len() == 1 => return Some(Endpoint::Empty("newsletters")),
        _ => return None,
    };
    let lookup = match parts.as_slice() {
        [_] => Lookup::Browse,
        [_, "slug", slug] if !slug.is_empty() => Lookup::Slug((*slug).to_owned()),
        [_, id] if !id.is_empty() => Lookup::Id((*id).to_owned()),
        _ => return None,
    };
    Some(Endpoint::Content(resource, lookup))
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Answers one Content API request (the handler turns the answer into HTTP).
pub async fn content_api(core: &Core, request: Request<'_>) -> crate::error::Result<Answer> {
    if request.method == "OPTIONS" {
        return Ok(Answer::Preflight);
    }
    if !request.rest.ends_with('/') && !request.rest.is_empty() {
        let query = request.query.map(|q| format!("?{q}")).unwrap_or_default();
        return Ok(Answer::Redirect(format!("{}/{query}", request.path)));
    }
    let Some(endpoint) = endpoint(request.rest) else {
        return Ok(unknown_endpoint(request.accept_version));
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query.unwrap_or_default()).unwrap_or_default();
    let keys: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "key")
        .map(|(_, v)| v.as_str())
        .collect();
    match keys.as_slice() {
        [] => {
            return Ok(error(
                403,
                "NoPermissionError",
                "Authorization failed",
                Some(
                    "Unable to determine the authenticated member or integration. Check the supplied Content API Key and ensure cookies are being passed through if member auth is failing.",
                ),
                None,
                None,
            ));
        }
        [key] => {
            if !keys::live(core).await?.knows(key) {
                return Ok(error(
                    401,
                    "UnauthorizedError",
                    "Unknown Content API Key",
                    None,
                    None,
                    Some("UNKNOWN_CONTENT_API_KEY"),
                ));
            }
        }
        _ => {
            return Ok(error(
                400,
                "BadRequestError",
                "Invalid Request",
                None,
                None,
                Some("INVALID_REQUEST"),
            ));
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let options = Options {
        include: list(get("include")),
        fields: get("fields").map(|f| list(Some(f))),
        formats: list(get("formats")),
        limit: get("limit").map(str::to_owned),
        page: get("page").map(str::to_owned),
        order: get("order").map(str::to_owned),
        filter: get("filter").map(str::to_owned),
    };
    // Keyed by what is answered (the first of each parameter, as read above), not by how
    // the query was spelled.
    let cache_key = format!(
        "ghost:{}?{}",
        request.rest,
        serde_json::to_string(&[
            &options.include.join(","),
            &options
                .fields
                .as_ref()
                .map(|f| f.join(","))
                .unwrap_or_else(|| "*".into()),
            &options.formats.join(","),
            options.limit.as_deref().unwrap_or_default(),
            options.page.as_deref().unwrap_or_default(),
            options.order.as_deref().unwrap_or_default(),
            options.filter.as_deref().unwrap_or_default(),
        ])
        .unwrap_or_default()
    );
    // Filtered and paged answers are many and asked rarely: they must not push the site's
    // pages out of the content tier.
    let tier = if options.filter.is_some() || options.page.as_deref().is_some_and(|p| p != "1") {
        Tier::Queries
    } else {
        Tier::Content
    };
    // Built within the cache's generation: a change committed meanwhile makes it stale.
    let built = core
        .cache
        .get_or_build_in(tier, &cache_key, || async {
            let snapshot = content::snapshot(core).await?;
            let body = match endpoint {
                Endpoint::Settings => json!({"settings": content::settings(&snapshot), "meta": {}}),
                Endpoint::Empty(name) => json!({name: [], "meta": {"pagination": {
                    "page": 1, "limit": content::DEFAULT_LIMIT, "pages": 1, "total": 0,
                    "next": null, "prev": null}}}),
                Endpoint::Content(resource, lookup) => {
                    match content::plan(&snapshot, resource, &lookup, options) {
                        Ok(plan) => {
                            let bodies = content::bodies(core, &plan.body_ids(&snapshot)).await?;
                            plan.answer(&snapshot, &bodies)
                        }
                        Err(refusal) => return Ok(Some(Built::Refused(refusal))),
                    }
                }
            };
            let bytes = serde_json::to_vec(&body).map_err(anyhow::Error::from)?;
            Ok(Some(Built::Body(Arc::new(Cacheable::typed(
                bytes,
                "application/json; charset=utf-8",
            )))))
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("cache key {cache_key} lost its value"))?;
    Ok(match &*built {
        Built::Body(body) => Answer::Json(body.clone()),
        Built::Refused(refusal) => refused(refusal.clone()),
    })
}

/// A Content API answer as the cache keeps it (a refusal too: each is answered with a
/// fresh error id).
enum Built {
    Body(Arc<Cacheable>),
    Refused(Refusal),
}

impl Weigh for Built {
    fn weight(&self) -> usize {
        match self {
            Self::Body(body) => body.weight(),
            Self::Refused(_) => 128,
        }
    }
}
