//! Pages, featured posts, the site's branding, and Ghost compatibility: the Content API
//! (keys, shapes, filters, pagination, errors, headers) and importing Ghost exports (4 to 6,
//! idempotent). The official client's own checks run in CI (.ci/ghost-client).

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, blog_basics, post};

const EXPORTS: [&str; 3] = ["export-v4.json", "export-v5.json", "export-v6.json"];

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/ghost/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

async fn set_site(app: &TestApp, owner: &str) {
    let profile = json!({
        "firm_name": "Northwind Notes", "tagline": "Notes from the harbour",
        "contact_email": "hello@northwind.example", "public_url": "https://northwind.example",
        "social_links": [{"network": "x", "url": "https://x.com/northwind"}],
        "branding": {
            "logo": "https://northwind.example/logo.png", "icon": "https://northwind.example/icon.png",
            "accent_color": "#FF5A1F",
            "navigation": [{"label": "Home", "url": "/"}, {"label": "About", "url": "/about/"}],
            "secondary_navigation": [{"label": "Legal", "url": "https://northwind.example/legal/"}],
            "meta_title": "Northwind", "og_title": "Northwind on the web"
        }
    });
    let saved = app.put_json("/v1/admin/site", owner, &profile).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
}

async fn content_key(app: &TestApp, owner: &str) -> String {
    let key = app
        .create(
            "/v1/admin/content-api-keys",
            owner,
            &json!({"name": "front-end"}),
        )
        .await;
    let secret = key["secret"].as_str().expect("secret").to_owned();
    assert_eq!(secret.len(), 26);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    secret
}

async fn ghost(app: &TestApp, path: &str) -> crate::helpers::TestResponse {
    app.req(Method::GET, &format!("/ghost/api/content/{path}"))
        .header("accept-version", "v6.0")
        .send()
        .await
}

async fn import(app: &TestApp, owner: &str, export: &Value) -> Value {
    let res = app
        .req(Method::POST, "/v1/admin/import/ghost")
        .bearer(owner)
        .json(export)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

#[tokio::test]
async fn pages_are_written_like_posts_and_kept_out_of_the_blog() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    set_site(&app, &owner).await;
    blog_basics(&app, &owner).await;
    let page = app
        .create(
            "/v1/admin/pages",
            &owner,
            &post("About Northwind", json!({"slug": "about", "tags": []})),
        )
        .await;
    assert_eq!(page["kind"], "page");
    app.create(
        "/v1/admin/posts",
        &owner,
        &post("A post", json!({"featured": true})),
    )
    .await;

    let pages = app.get("/v1/pages").await.json();
    assert_eq!(crate::helpers::slugs(&pages), ["about"]);
    let about = app.get("/v1/pages/about").await;
    assert_eq!(about.status, StatusCode::OK, "{}", about.text());
    assert_eq!(about.json()["title"], "About Northwind");
    assert!(
        about.json()["toc"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    // Not a post: not in the post list, feed, shares or at /v1/posts/{slug}.
    assert_eq!(
        crate::helpers::slugs(&app.get("/v1/posts").await.json()),
        ["a-post"]
    );
    assert_eq!(
        app.get("/v1/posts/about").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/pages/a-post").await.status,
        StatusCode::NOT_FOUND
    );
    let feed = app.get("/v1/feeds/rss").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.text().contains("A post") && !feed.text().contains("About Northwind"),
        "{}",
        feed.text()
    );
    // In the sitemap at /{slug}, and in search as a page.
    let sitemap = app.get("/sitemap.xml").await.text();
    assert!(
        sitemap.contains("/about</loc>") || sitemap.contains("/about/</loc>"),
        "{sitemap}"
    );
    let hits = app.get("/v1/search?q=northwind").await.json();
    let page_hit = hits["items"]
        .as_array()
        .and_then(|items| items.iter().find(|h| h["slug"] == "about").cloned())
        .expect("the page in search");
    assert_eq!(page_hit["kind"], "page");
    assert_eq!(page_hit["path"], "/v1/pages/about");

    // A renamed page redirects; a page cannot join a series.
    let id = page["id"].as_str().expect("id");
    let renamed = app
        .put_json(
            &format!("/v1/admin/posts/{id}"),
            &owner,
            &post("About Northwind", json!({"slug": "about-us", "tags": []})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(renamed.json()["kind"], "page");
    let moved = app.get("/v1/pages/about").await;
    assert_eq!(moved.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(moved.header("location"), Some("/v1/pages/about-us"));
    let in_series = app
        .post_json(
            "/v1/admin/pages",
            Some(&owner),
            &post("Series page", json!({"series": "guide"})),
        )
        .await;
    assert_eq!(in_series.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(in_series.field_errors(), ["series"]);
    let listed = app.get_as("/v1/admin/pages", &owner).await.json();
    assert_eq!(crate::helpers::slugs(&listed), ["about-us"]);
}

#[tokio::test]
async fn the_site_profile_keeps_branding_and_refuses_bad_values() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    set_site(&app, &owner).await;
    let site = app.get("/v1/site").await.json();
    assert_eq!(site["branding"]["accent_color"], "#ff5a1f");
    assert_eq!(site["branding"]["navigation"][1]["url"], "/about/");
    let bad = app
        .put_json(
            "/v1/admin/site",
            &owner,
            &json!({"firm_name": "N", "contact_email": "a@b.example", "public_url": "https://n.example",
                    "branding": {"accent_color": "orange", "logo": "javascript:alert(1)",
                                 "navigation": [{"label": "", "url": "//evil.example"}]}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.field_errors();
    for field in [
        "branding.logo",
        "branding.accent_color",
        "branding.navigation[0].label",
        "branding.navigation[0].url",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
}

#[tokio::test]
async fn the_content_api_answers_as_ghost_does() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    set_site(&app, &owner).await;
    blog_basics(&app, &owner).await;
    for (title, extra) in [
        (
            "First steps",
            json!({"tags": ["rust", "postgres"], "featured": true,
                               "social": {"og_title": "Shared title"}, "cover_image_url": "https://img.example/a.png",
                               "cover_image_alt": "A harbour", "cover_image_caption": "By <a href=\"https://x.example\">A.</a><script>x</script>"}),
        ),
        (
            "Second steps",
            json!({"tags": ["postgres"], "authors": ["grace", "ada"]}),
        ),
        ("Draft steps", json!({"status": "draft"})),
    ] {
        app.create("/v1/admin/posts", &owner, &post(title, extra))
            .await;
    }
    app.create(
        "/v1/admin/pages",
        &owner,
        &post("About", json!({"slug": "about", "tags": []})),
    )
    .await;
    let key = content_key(&app, &owner).await;

    // No key, an unknown key, a key twice.
    let res = ghost(&app, "posts/").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["errors"][0]["type"], "NoPermissionError");
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let res = ghost(&app, "posts/?key=00000000000000000000000000").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["errors"][0]["code"], "UNKNOWN_CONTENT_API_KEY");
    let res = ghost(&app, &format!("posts/?key={key}&key={key}")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // gatsby-source-ghost's call.
    let res = ghost(
        &app,
        &format!("posts/?key={key}&limit=all&include=tags%2Cauthors&formats=html%2Cplaintext"),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("content-version"), Some("v6.65"));
    assert_eq!(res.header("cache-control"), Some("public, max-age=0"));
    let body = res.json();
    let posts = body["posts"].as_array().expect("posts");
    let slugs: Vec<&str> = posts.iter().filter_map(|p| p["slug"].as_str()).collect();
    assert_eq!(
        slugs,
        ["second-steps", "first-steps"],
        "newest first, no drafts, no pages"
    );
    assert_eq!(
        body["meta"]["pagination"],
        json!({"page": 1, "limit": 100, "pages": 1, "total": 2, "next": null, "prev": null})
    );
    let first = &posts[1];
    assert_eq!(first["id"].as_str().map(str::len), Some(24));
    assert_eq!(first["featured"], true);
    assert_eq!(first["url"], "https://northwind.example/first-steps/");
    assert_eq!(first["og_title"], "Shared title");
    assert_eq!(first["feature_image_alt"], "A harbour");
    assert!(
        first["feature_image_caption"]
            .as_str()
            .is_some_and(|c| c.contains("<a ") && !c.contains("script"))
    );
    assert_eq!(first["primary_tag"]["slug"], "rust");
    assert_eq!(first["tags"][1]["slug"], "postgres");
    assert_eq!(first["primary_author"], first["authors"][0]);
    assert!(first["html"].as_str().is_some_and(|h| h.contains("<h2")));
    assert!(
        first["plaintext"]
            .as_str()
            .is_some_and(|t| t.contains("Some words"))
    );
    assert_eq!(first["custom_excerpt"], Value::Null);
    assert_eq!(
        first["excerpt"].as_str().map(|e| e.chars().count() <= 500),
        Some(true)
    );
    assert!(
        first["published_at"]
            .as_str()
            .is_some_and(|d| d.ends_with(".000+00:00") || d.contains("+00:00"))
    );
    assert_eq!(posts[0]["authors"][0]["slug"], "grace");

    // Filters, order, fields, pagination, reads.
    let res = ghost(
        &app,
        &format!("posts/?key={key}&filter=tag%3Apostgres%2Bfeatured%3Afalse&fields=slug"),
    )
    .await;
    assert_eq!(res.json()["posts"], json!([{"slug": "second-steps"}]));
    let res = ghost(
        &app,
        &format!("posts/?key={key}&filter=tag%3A-rust&fields=slug"),
    )
    .await;
    assert_eq!(res.json()["posts"], json!([{"slug": "second-steps"}]));
    let res = ghost(
        &app,
        &format!("posts/?key={key}&order=published_at%20asc&fields=slug&limit=1&page=2"),
    )
    .await;
    let body = res.json();
    assert_eq!(body["posts"], json!([{"slug": "second-steps"}]));
    assert_eq!(body["meta"]["pagination"]["prev"], 1);
    let read = ghost(
        &app,
        &format!("posts/slug/first-steps/?key={key}&slug=first-steps"),
    )
    .await
    .json();
    assert_eq!(
        read.as_object().map(|o| o.len()),
        Some(1),
        "a read has no meta"
    );
    assert!(read["posts"][0].get("tags").is_none());
    let id = read["posts"][0]["id"].as_str().expect("id").to_owned();
    let by_id = ghost(&app, &format!("posts/{id}/?key={key}")).await.json();
    assert_eq!(by_id["posts"][0]["slug"], "first-steps");
    let pages = ghost(&app, &format!("pages/?key={key}")).await.json();
    assert_eq!(pages["pages"][0]["slug"], "about");
    assert_eq!(pages["pages"][0]["show_title_and_feature_image"], true);
    let tags = ghost(&app, &format!("tags/?key={key}&include=count.posts"))
        .await
        .json();
    let counts: Vec<(String, i64)> = tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["slug"].as_str().unwrap_or_default().to_owned(),
                t["count"]["posts"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("postgres".to_owned(), 2), ("rust".to_owned(), 1)],
        "only tags in use, by name"
    );
    let authors = ghost(
        &app,
        &format!("authors/?key={key}&include=count.posts&filter=slug%3Agrace"),
    )
    .await
    .json();
    assert_eq!(authors["authors"][0]["count"]["posts"], 1);
    assert_eq!(
        authors["authors"][0]["url"],
        "https://northwind.example/author/grace/"
    );
    let settings = ghost(&app, &format!("settings/?key={key}")).await.json();
    assert_eq!(settings["meta"], json!({}));
    assert_eq!(settings["settings"]["title"], "Northwind Notes");
    assert_eq!(settings["settings"]["accent_color"], "#ff5a1f");
    assert_eq!(settings["settings"]["twitter"], "https://x.com/northwind");
    assert_eq!(
        settings["settings"]["navigation"][1],
        json!({"label": "About", "url": "/about/"})
    );
    assert_eq!(settings["settings"]["url"], "https://northwind.example/");
    for empty in ["tiers", "newsletters"] {
        let body = ghost(&app, &format!("{empty}/?key={key}")).await.json();
        assert_eq!(body[empty], json!([]));
    }

    // A tag's details and an author's profile, as an editor sets them.
    let tags_list = app.get_as("/v1/admin/tags", &owner).await.json();
    let rust_id = tags_list["items"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["slug"] == "rust"))
        .and_then(|t| t["id"].as_str())
        .expect("rust")
        .to_owned();
    let saved = app
        .put_json(
            &format!("/v1/admin/tags/{rust_id}"),
            &owner,
            &json!({"name": "Rust", "slug": "rust", "details": {"accent_color": "#CE422B", "meta_title": "Rust articles",
                    "feature_image": "https://img.example/rust.png"}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let bad = app
        .put_json(
            &format!("/v1/admin/tags/{rust_id}"),
            &owner,
            &json!({"name": "Rust", "details": {"accent_color": "rust", "feature_image": "ftp://x"}}),
        )
        .await;
    assert_eq!(
        bad.field_errors(),
        ["details.accent_color", "details.feature_image"]
    );
    let rust = ghost(&app, &format!("tags/slug/rust/?key={key}"))
        .await
        .json();
    assert_eq!(rust["tags"][0]["accent_color"], "#ce422b");
    assert_eq!(
        rust["tags"][0]["feature_image"],
        "https://img.example/rust.png"
    );

    // Repeated parameters: the first counts, and the answer is keyed by it.
    let a = ghost(
        &app,
        &format!("posts/?key={key}&filter=tag%3Arust&filter=tag%3Apostgres&fields=slug"),
    )
    .await
    .json();
    let b = ghost(
        &app,
        &format!("posts/?key={key}&filter=tag%3Apostgres&filter=tag%3Arust&fields=slug"),
    )
    .await
    .json();
    assert_eq!(a["meta"]["pagination"]["total"], 1);
    assert_eq!(b["meta"]["pagination"]["total"], 2);

    // Errors in Ghost's shape, never a 500.
    for (path, status, kind) in [
        ("posts/?filter=tag%3A", 400, "BadRequestError"),
        ("posts/?filter=-tag%3Arust", 400, "BadRequestError"),
        (
            "posts/?filter=nonexistent_field%3A1",
            400,
            "BadRequestError",
        ),
        ("posts/?filter=%28%28%28%28", 400, "BadRequestError"),
        ("posts/aaaaaaaaaaaaaaaaaaaaaaaa/?", 404, "NotFoundError"),
        ("posts/slug/draft-steps/?", 404, "NotFoundError"),
        ("posts/slug/about/?", 404, "NotFoundError"),
        ("posts/not-an-id/?", 422, "ValidationError"),
        ("posts/?page=abc", 422, "ValidationError"),
        ("posts/?formats=nonexistent", 422, "ValidationError"),
        ("nothing-here/?", 406, "RequestNotAcceptableError"),
    ] {
        let sep = if path.ends_with('?') { "" } else { "&" };
        let res = ghost(&app, &format!("{path}{sep}key={key}")).await;
        assert_eq!(res.status.as_u16(), status, "{path}: {}", res.text());
        let error = &res.json()["errors"][0];
        assert_eq!(error["type"], kind, "{path}");
        assert!(error["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(
            res.header("cache-control")
                .is_some_and(|c| c.contains("no-store"))
        );
    }
    // Restricted fields are dropped, not applied; status cannot reveal drafts.
    for filter in [
        "plaintext%3A~%27zzz%27",
        "status%3Adraft",
        "html%3A~%27nothing%27",
    ] {
        let res = ghost(
            &app,
            &format!("posts/?key={key}&filter={filter}&fields=slug"),
        )
        .await
        .json();
        assert_eq!(res["meta"]["pagination"]["total"], 2, "{filter}");
    }
    // No trailing slash: a redirect that keeps the query.
    let res = ghost(&app, &format!("posts?key={key}")).await;
    assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        res.header("location"),
        Some(format!("/ghost/api/content/posts/?key={key}").as_str())
    );
    // Legacy prefixes answer the same.
    let legacy = app
        .req(
            Method::GET,
            &format!("/ghost/api/v4/content/posts/?key={key}&fields=slug"),
        )
        .send()
        .await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(legacy.header("deprecation"), Some("version=\"v4\""));

    // ETags, 304, and a preflight from any origin.
    let res = ghost(&app, &format!("posts/?key={key}&fields=slug")).await;
    let etag = res.header("etag").expect("etag").to_owned();
    let again = app
        .req(
            Method::GET,
            &format!("/ghost/api/content/posts/?key={key}&fields=slug"),
        )
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let preflight = app
        .req(Method::OPTIONS, "/ghost/api/content/posts/")
        .header("origin", "https://front-end.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "accept-version")
        .send()
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("accept-version")
    );

    // A change shows at once; a revoked key stops working at once.
    app.create("/v1/admin/posts", &owner, &post("Third steps", json!({})))
        .await;
    let res = ghost(&app, &format!("posts/?key={key}&fields=slug")).await;
    assert_eq!(res.json()["meta"]["pagination"]["total"], 3);
    let listed = app
        .get_as("/v1/admin/content-api-keys", &owner)
        .await
        .json();
    let key_id = listed[0]["id"].as_str().expect("key id").to_owned();
    assert!(listed[0].get("secret").is_none(), "the key is shown once");
    let revoked = app
        .delete(&format!("/v1/admin/content-api-keys/{key_id}"), &owner)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let res = ghost(&app, &format!("posts/?key={key}&fields=slug")).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ghost_exports_import_with_every_url_intact_and_only_once() {
    for name in EXPORTS {
        let app = TestApp::spawn().await;
        let owner = app.owner_token().await;
        let export = fixture(name);
        // Without a site profile there is no address for Ghost's __GHOST_URL__.
        let early = app
            .req(Method::POST, "/v1/admin/import/ghost")
            .bearer(&owner)
            .json(&export)
            .send()
            .await;
        assert_eq!(
            early.status,
            StatusCode::CONFLICT,
            "{name}: {}",
            early.text()
        );
        set_site(&app, &owner).await;
        let report = import(&app, &owner, &export).await;
        let data = &export["db"][0]["data"];
        let rows = |table: &str| data[table].as_array().cloned().unwrap_or_default();
        let public: Vec<Value> = rows("posts")
            .into_iter()
            .filter(|p| p["status"] == "published" && p["visibility"] == "public")
            .collect();
        let (pages, posts): (Vec<Value>, Vec<Value>) =
            rows("posts").into_iter().partition(|p| p["type"] == "page");
        assert_eq!(report["posts_imported"], posts.len(), "{name}: {report}");
        assert_eq!(report["pages_imported"], pages.len(), "{name}: {report}");
        assert_eq!(
            report["tags_imported"],
            rows("tags").len(),
            "{name}: {report}"
        );
        assert_eq!(
            report["authors_imported"],
            rows("users").len(),
            "{name}: {report}"
        );
        assert_eq!(report["skipped"], json!([]), "{name}");

        // Every public published post and page answers at its Ghost slug, with its order
        // of tags and authors.
        for item in &public {
            let slug = item["slug"].as_str().expect("slug");
            let path = if item["type"] == "page" {
                "pages"
            } else {
                "posts"
            };
            let res = app.get(&format!("/v1/{path}/{slug}")).await;
            assert_eq!(res.status, StatusCode::OK, "{name}: {slug}: {}", res.text());
            let got = res.json();
            assert_eq!(got["title"], item["title"], "{name}: {slug}");
            let id = item["id"].as_str().expect("id");
            let mut want_tags: Vec<(i64, String)> = rows("posts_tags")
                .iter()
                .filter(|l| l["post_id"] == id)
                .filter_map(|l| {
                    let tag = rows("tags").into_iter().find(|t| t["id"] == l["tag_id"])?;
                    Some((
                        l["sort_order"].as_i64().unwrap_or(0),
                        tag["slug"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            want_tags.sort();
            let got_tags: Vec<String> = got["tags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t["slug"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                got_tags,
                want_tags.into_iter().map(|t| t.1).collect::<Vec<_>>(),
                "{name}: {slug}"
            );
            let html = got["html"].as_str().unwrap_or_default();
            assert!(!html.contains("__GHOST_URL__"), "{name}: {slug}: {html}");
            if let Some(image) = item["feature_image"].as_str() {
                let want = image.replace("__GHOST_URL__", "https://northwind.example");
                assert_eq!(got["cover_image"]["url"], want, "{name}: {slug}");
            }
        }
        // Members-only and paid content is not made public.
        for gated in rows("posts")
            .iter()
            .filter(|p| p["visibility"] != "public" && p["status"] == "published")
        {
            let slug = gated["slug"].as_str().expect("slug");
            assert_eq!(
                app.get(&format!("/v1/posts/{slug}")).await.status,
                StatusCode::NOT_FOUND,
                "{name}: {slug}"
            );
            assert!(
                report["drafted"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|x| x["slug"] == slug))
            );
        }
        // Drafts stay drafts.
        let drafts = rows("posts")
            .iter()
            .filter(|p| p["status"] == "draft")
            .count() as i64;
        assert!(
            app.count("posts where status = 'draft'").await >= drafts,
            "{name}"
        );

        if name == "export-v6.json" {
            // Tags and staff keep what Ghost front-ends show of them.
            let key = content_key(&app, &owner).await;
            let rust = ghost(&app, &format!("tags/slug/rust/?key={key}"))
                .await
                .json();
            assert_eq!(rust["tags"][0]["accent_color"], "#CE422B");
            assert_eq!(rust["tags"][0]["meta_title"], "Rust articles");
            let sam = ghost(&app, &format!("authors/slug/sam/?key={key}"))
                .await
                .json();
            assert_eq!(sam["authors"][0]["twitter"], "@samreyes");
            assert_eq!(sam["authors"][0]["location"], "Cardiff");
            assert_eq!(sam["authors"][0]["website"], "https://sam.example");
            let hero = ghost(&app, &format!("tags/slug/hash-hero/?key={key}"))
                .await
                .json();
            assert_eq!(hero["tags"][0]["visibility"], "internal");
            assert_eq!(hero["tags"][0]["url"], "https://northwind.example/404/");
            let post = ghost(
                &app,
                &format!("posts/slug/building-a-web-api-in-rust/?key={key}&include=tags"),
            )
            .await
            .json();
            let post = &post["posts"][0];
            assert_eq!(post["featured"], true);
            assert_eq!(post["primary_tag"]["slug"], "rust");
            assert!(
                post["feature_image"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("https://northwind.example/content/images/"))
            );
            assert!(
                post["feature_image_caption"]
                    .as_str()
                    .is_some_and(|c| c.contains("<a "))
            );
            let why = ghost(
                &app,
                &format!("posts/slug/why-we-moved-to-rust/?key={key}&include=tags"),
            )
            .await
            .json();
            assert_eq!(
                why["posts"][0]["primary_tag"],
                Value::Null,
                "an internal first tag"
            );
        }

        // Twice changes nothing.
        let before = app.count("posts").await;
        let again = import(&app, &owner, &export).await;
        assert_eq!(again["posts_imported"], 0, "{name}: {again}");
        assert_eq!(again["tags_imported"], 0, "{name}");
        assert_eq!(again["authors_imported"], 0, "{name}");
        assert_eq!(again["reused"], json!([]), "{name}: {again}");
        assert_eq!(
            again["skipped"].as_array().map(Vec::len),
            Some(rows("posts").len()),
            "{name}"
        );
        assert_eq!(app.count("posts").await, before);
    }
}

#[tokio::test]
async fn email_only_posts_stay_off_the_web_and_html_bodies_are_kept_sanitized() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    set_site(&app, &owner).await;
    blog_basics(&app, &owner).await;
    let mut export = fixture("export-v6.json");
    let posts = export["db"][0]["data"]["posts"]
        .as_array_mut()
        .expect("posts");
    let sent = posts
        .iter_mut()
        .find(|p| p["slug"] == "plain-note")
        .expect("plain-note");
    sent["status"] = json!("sent");
    sent["html"] = json!("<p>Hello</p><script>alert(1)</script><img src=x onerror=alert(1)>");
    let report = import(&app, &owner, &export).await;
    assert!(
        report["drafted"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x["slug"] == "plain-note")),
        "{report}"
    );
    assert_eq!(
        app.get("/v1/posts/plain-note").await.status,
        StatusCode::NOT_FOUND
    );
    let stored = app.count("posts where slug = 'plain-note' and status = 'draft' and body_markdown not like '%script%' and body_markdown not like '%onerror%'").await;
    assert_eq!(stored, 1, "the source is the sanitized HTML");

    // An editor's HTML body is sanitized as it is saved, source included.
    let created = app
        .create(
            "/v1/admin/posts",
            &owner,
            &post("Html", json!({"body_format": "html", "body": "<h2 id=\"intro\">Intro</h2><p>Text</p><script>x()</script>"})),
        )
        .await;
    assert!(
        !created["body"]
            .as_str()
            .unwrap_or("script")
            .contains("script"),
        "{created}"
    );
    assert_eq!(created["toc"][0]["id"], "intro");
}

#[tokio::test]
async fn an_import_links_to_existing_tags_and_never_takes_a_slug() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    set_site(&app, &owner).await;
    blog_basics(&app, &owner).await;
    // Our own post already has one of the export's slugs.
    app.create(
        "/v1/admin/posts",
        &owner,
        &post("Ours", json!({"slug": "postgres-indexing-in-practice"})),
    )
    .await;
    let report = import(&app, &owner, &fixture("export-v6.json")).await;
    assert!(
        report["reused"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["kind"] == "tag" && x["slug"] == "rust")),
        "{report}"
    );
    assert_eq!(
        report["skipped"],
        json!([{"kind": "post", "slug": "postgres-indexing-in-practice", "reason": "another post or page here has this slug"}])
    );
    assert_eq!(
        app.get("/v1/posts/postgres-indexing-in-practice")
            .await
            .json()["title"],
        "Ours"
    );
    assert_eq!(app.count("tags where slug = 'rust'").await, 1);
    // Not an export: a clear error.
    let res = app
        .req(Method::POST, "/v1/admin/import/ghost")
        .bearer(&owner)
        .json(&json!({"posts": []}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .req(Method::POST, "/v1/admin/import/ghost")
        .bearer(&owner)
        .raw_body("application/json", "{not json")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Editors may not import.
    let editor = app.token_for(Role::Editor).await;
    let res = app
        .req(Method::POST, "/v1/admin/import/ghost")
        .bearer(&editor)
        .json(&fixture("export-v4.json"))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
