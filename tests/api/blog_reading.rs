//! Reading the blog: visibility everywhere, lists and pagination, related posts, search,
//! shares, feeds, the sitemap, 304s and cache invalidation across replicas.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, blog_basics, post, slugs};

const SITE: &str = r#"{"firm_name":"Northwind","contact_email":"hi@northwind.example","public_url":"https://northwind.example"}"#;

async fn site(app: &TestApp) {
    let owner = app.owner_token().await;
    let profile: Value = serde_json::from_str(SITE).expect("json");
    let saved = app.put_json("/v1/admin/site", &owner, &profile).await;
    assert_eq!(saved.status, StatusCode::OK);
}

/// Drafts, scheduled and archived posts must not leak through any public read.
#[tokio::test]
async fn only_published_posts_are_ever_public() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let later = chrono::Utc::now() + chrono::Duration::days(3);
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Visible zebra", json!({ "series": "guide" })),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Draft zebra",
            json!({ "status": "draft", "series": "guide" }),
        ),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Scheduled zebra",
            json!({ "status": "scheduled", "scheduled_at": later }),
        ),
    )
    .await;
    let archived = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post("Archived zebra", json!({})),
        )
        .await;
    let id = archived["id"].as_str().expect("id");
    app.put_json(
        &format!("/v1/admin/posts/{id}"),
        &editor,
        &post("Archived zebra", json!({ "status": "archived" })),
    )
    .await;

    let hidden = ["draft-zebra", "scheduled-zebra", "archived-zebra"];
    for slug in hidden {
        assert_eq!(
            app.get(&format!("/v1/posts/{slug}")).await.status,
            StatusCode::NOT_FOUND,
            "{slug}"
        );
        assert_eq!(
            app.get(&format!("/v1/posts/{slug}/related")).await.status,
            StatusCode::NOT_FOUND,
            "{slug}"
        );
    }
    let everywhere = [
        "/v1/posts",
        "/v1/posts?tag=rust",
        "/v1/posts?author=ada",
        "/v1/posts/visible-zebra/related",
        "/v1/series/guide",
        "/v1/search?q=zebra",
        "/v1/feeds/rss",
        "/v1/feeds/atom",
        "/v1/feeds/json",
        "/v1/feeds/rss?tag=rust",
        "/sitemap.xml",
    ];
    for path in everywhere {
        let response = app.get(path).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{path}: {}",
            response.text()
        );
        let text = response.text();
        for slug in hidden {
            assert!(!text.contains(slug), "{slug} leaked through {path}");
        }
    }
    assert!(
        app.get("/v1/search?q=zebra")
            .await
            .text()
            .contains("visible-zebra")
    );
    let rust = app.get("/v1/tags/rust").await.json();
    assert_eq!(rust["post_count"], 1, "counts only published posts");
    let ada = app.get("/v1/authors/ada").await.json();
    assert_eq!(ada["post_count"], 1);
    let series = app.get("/v1/series/guide").await.json();
    assert_eq!(slugs(&series["parts"]), ["visible-zebra"]);
}

#[tokio::test]
async fn lists_filter_and_page_without_repeats_when_posts_are_published_meanwhile() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    for i in 1..=5 {
        let tags = if i % 2 == 0 {
            json!(["postgres"])
        } else {
            json!(["rust"])
        };
        app.create(
            "/v1/admin/posts",
            &editor,
            &post(&format!("Post {i}"), json!({ "tags": tags })),
        )
        .await;
    }
    let first = app.get("/v1/posts?limit=2").await.json();
    assert_eq!(slugs(&first), ["post-5", "post-4"]);
    // A post published between pages appears on the first page, not on the next one.
    app.create("/v1/admin/posts", &editor, &post("Post 6", json!({})))
        .await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = app
        .get(&format!("/v1/posts?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(slugs(&second), ["post-3", "post-2"]);
    let cursor = second["next_cursor"].as_str().expect("cursor");
    let last = app
        .get(&format!("/v1/posts?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(slugs(&last), ["post-1"]);
    assert!(last["next_cursor"].is_null());

    assert_eq!(
        slugs(&app.get("/v1/posts?tag=postgres").await.json()),
        ["post-4", "post-2"]
    );
    assert_eq!(
        app.get("/v1/posts?tag=nothing").await.json()["items"],
        json!([])
    );
    app.get("/v1/posts?cursor=bogus").await.field_errors();
    assert_eq!(app.get("/v1/posts?limit=0").await.field_errors(), ["limit"]);
}

#[tokio::test]
async fn related_posts_prefer_the_series_then_shared_tags() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Base",
            json!({ "tags": ["rust", "postgres"], "series": "guide" }),
        ),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Unrelated", json!({ "tags": ["design"] })),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Two tags", json!({ "tags": ["rust", "postgres"] })),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("One tag", json!({ "tags": ["rust"] })),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Sequel", json!({ "tags": ["design"], "series": "guide" })),
    )
    .await;
    let related = app.get("/v1/posts/base/related?limit=3").await.json();
    assert_eq!(slugs(&related), ["sequel", "two-tags", "one-tag"]);
    assert_eq!(
        app.get("/v1/posts/base/related?limit=99")
            .await
            .field_errors(),
        ["limit"]
    );
}

#[tokio::test]
async fn search_ranks_highlights_and_forgives_typos() {
    search_ranks_highlights_and_forgives_typos_in(TestApp::spawn().await).await;
}

/// The same, with the in-process index off: every search is Postgres's.
#[tokio::test]
async fn search_by_postgres_alone_ranks_highlights_and_forgives_typos() {
    let app = TestApp::spawn_with(|c| c.core.cache.search_index_max_bytes = 0).await;
    search_ranks_highlights_and_forgives_typos_in(app).await;
}

async fn search_ranks_highlights_and_forgives_typos_in(app: TestApp) {
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Kubernetes in practice",
            json!({ "body": "Kubernetes clusters & pods, when `a > b`, explained." }),
        ),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Small teams",
            json!({ "body": "We mention kubernetes once, in passing." }),
        ),
    )
    .await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Draft about kubernetes", json!({ "status": "draft" })),
    )
    .await;
    app.create(
        "/v1/admin/services",
        &editor,
        &json!({ "title": "Kubernetes operations", "summary": "We run clusters.", "published": true }),
    )
    .await;

    let results = app.get("/v1/search?q=kubernetes").await.json();
    let found: Vec<&str> = results["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["slug"].as_str().expect("slug"))
        .collect();
    assert_eq!(found.len(), 3, "{results}");
    assert!(!found.contains(&"draft-about-kubernetes"));
    let title_match = found
        .iter()
        .position(|s| *s == "kubernetes-in-practice")
        .expect("found");
    let body_match = found
        .iter()
        .position(|s| *s == "small-teams")
        .expect("found");
    assert!(
        title_match < body_match,
        "a title match ranks above a passing mention: {found:?}"
    );
    assert!(
        results["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["kind"] == "service")
    );
    let snippet = results["items"][title_match]["snippet"]
        .as_str()
        .expect("snippet");
    assert!(snippet.contains("<mark>Kubernetes</mark>"), "{snippet}");
    assert!(
        snippet.contains("&amp; pods") && snippet.contains("a &gt; b"),
        "content is escaped: {snippet}"
    );

    // Web-search syntax: exclusions and phrases.
    let excluded = app.get("/v1/search?q=kubernetes%20-passing").await.json();
    assert!(!slugs(&excluded).contains(&"small-teams".to_owned()));
    let phrase = app.get("/v1/search?q=%22in%20passing%22").await.json();
    assert_eq!(slugs(&phrase), ["small-teams"]);

    // A typo: nothing matches as typed, the corrected query does.
    let typo = app.get("/v1/search?q=clustres").await.json();
    assert_eq!(typo["corrected_query"], "clusters");
    assert!(!slugs(&typo).is_empty());
    let nothing = app.get("/v1/search?q=qwxzv").await.json();
    assert_eq!(nothing["items"], json!([]));
    assert!(nothing["corrected_query"].is_null());

    assert_eq!(app.get("/v1/search").await.field_errors(), ["q"]);
    // A NUL byte is the caller's mistake, named like any other, not a server error.
    assert_eq!(app.get("/v1/search?q=a%00b").await.field_errors(), ["q"]);
    assert_eq!(
        app.get("/v1/search?q=x&limit=500").await.field_errors(),
        ["limit"]
    );
}

#[tokio::test]
async fn parallel_shares_are_all_counted() {
    let app = TestApp::spawn_with(|c| c.blog.share_limit.max = 0).await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create("/v1/admin/posts", &editor, &post("Popular", json!({})))
        .await;

    const SHARES: usize = 60;
    let mut tasks = Vec::new();
    for i in 0..SHARES {
        let router = app.router.clone();
        let network = if i % 3 == 0 { "linkedin" } else { "x" };
        tasks.push(tokio::spawn(async move {
            let mut request = axum::http::Request::post("/v1/posts/popular/shares")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({ "network": network }).to_string(),
                ))
                .expect("request");
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([127, 0, 0, 1], 50000)),
            ));
            crate::helpers::send_to(router, request).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join"), StatusCode::NO_CONTENT);
    }
    let counted: i64 = sqlx::query_scalar("select sum(count)::bigint from post_share_counts")
        .fetch_one(&app.db)
        .await
        .expect("sum");
    assert_eq!(counted, SHARES as i64);
    let shares = app.get("/v1/posts/popular").await.json()["shares"].clone();
    assert_eq!(shares["total"], SHARES);
    assert_eq!(shares["counts"]["linkedin"], SHARES / 3);
    assert_eq!(shares["counts"]["x"], SHARES - SHARES / 3);
    // The counts alone, for share buttons on a page that has the post already.
    let alone = app.get("/v1/posts/popular/shares").await;
    assert_eq!(alone.status, StatusCode::OK);
    assert_eq!(alone.json(), shares);
    app.get("/v1/posts/nope/shares")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    let bad = app
        .post_json(
            "/v1/posts/popular/shares",
            None,
            &json!({ "network": "myspace" }),
        )
        .await;
    assert_eq!(bad.field_errors(), ["network"]);
    app.post_json("/v1/posts/nope/shares", None, &json!({ "network": "x" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn feeds_and_the_sitemap_use_absolute_urls_from_the_site_profile() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    assert_eq!(
        app.get("/v1/feeds/rss").await.status,
        StatusCode::NOT_FOUND,
        "no site profile yet"
    );
    site(&app).await;
    blog_basics(&app, &editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Feed me", json!({ "tags": ["postgres"] })),
    )
    .await;
    app.create("/v1/admin/posts", &editor, &post("Other", json!({})))
        .await;

    let rss = app.get("/v1/feeds/rss").await;
    assert_eq!(
        rss.header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
    assert!(
        rss.text()
            .contains("<link>https://northwind.example/blog/feed-me</link>")
    );
    let atom = app.get("/v1/feeds/atom").await;
    assert_eq!(
        atom.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert!(
        atom.text()
            .contains("https://northwind.example/blog/feed-me")
    );
    let json_feed = app.get("/v1/feeds/json").await;
    assert_eq!(
        json_feed.header("content-type"),
        Some("application/feed+json")
    );
    let feed = json_feed.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(2));

    let tagged = app.get("/v1/feeds/json?tag=postgres").await.json();
    assert_eq!(tagged["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        tagged["items"][0]["url"],
        "https://northwind.example/blog/feed-me"
    );
    assert_eq!(
        app.get("/v1/feeds/rss?tag=unknown").await.status,
        StatusCode::NOT_FOUND
    );

    let sitemap = app.get("/sitemap.xml").await.text();
    assert!(sitemap.contains("<loc>https://northwind.example/blog/feed-me</loc>"));
    assert!(sitemap.contains("<loc>https://northwind.example/blog/tags/postgres</loc>"));
    assert!(
        !sitemap.contains("/blog/tags/design"),
        "tags without published posts are left out"
    );
}

#[tokio::test]
async fn every_public_read_answers_304_to_its_etag() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Cached", json!({ "series": "guide" })),
    )
    .await;
    for path in [
        "/v1/posts",
        "/v1/posts/cached",
        "/v1/posts/cached/related",
        "/v1/tags",
        "/v1/tags/rust",
        "/v1/authors",
        "/v1/authors/ada",
        "/v1/series/guide",
        "/v1/search?q=cached",
        "/v1/feeds/rss",
        "/v1/feeds/atom",
        "/v1/feeds/json",
        "/sitemap.xml",
        "/v1/site",
        "/v1/services",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path} has no ETag"))
            .to_owned();
        assert!(first.header("cache-control").is_some(), "{path}");
        let again = app
            .req(Method::GET, path)
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    }
    // Share counts are part of a post's ETag.
    let etag = app
        .get("/v1/posts/cached")
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    app.post_json(
        "/v1/posts/cached/shares",
        None,
        &json!({ "network": "email" }),
    )
    .await;
    let after = app
        .req(Method::GET, "/v1/posts/cached")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(after.status, StatusCode::OK);
}

/// After each kind of admin write, another replica — its cache warm — serves the new
/// content: invalidation travels through Postgres LISTEN/NOTIFY.
#[tokio::test]
async fn every_kind_of_admin_write_reaches_every_replica() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let owner = app.owner_token().await;
    blog_basics(&app, &owner).await;
    let created = app
        .create(
            "/v1/admin/posts",
            &owner,
            &post("Original", json!({ "series": "guide" })),
        )
        .await;
    let post_id = created["id"].as_str().expect("id").to_owned();
    let other = app.replica().await;

    let id_of = |list: &Value, slug: &str| -> String {
        list["items"]
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["slug"] == slug)
            .expect("present")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let authors = app.get_as("/v1/admin/authors", &owner).await.json();
    let tags = app.get_as("/v1/admin/tags", &owner).await.json();
    let series = app.get_as("/v1/admin/series", &owner).await.json();
    let (ada, rust, guide) = (
        id_of(&authors, "ada"),
        id_of(&tags, "rust"),
        id_of(&series, "guide"),
    );

    type Check = fn(&Value) -> bool;
    let cases: Vec<(&str, Method, String, Value, &str, Check)> = vec![
        (
            "post update",
            Method::PUT,
            format!("/v1/admin/posts/{post_id}"),
            post(
                "Original",
                json!({ "body": "Brand new words.", "series": "guide" }),
            ),
            "/v1/posts/original",
            |v| {
                v["html"]
                    .as_str()
                    .is_some_and(|h| h.contains("Brand new words"))
            },
        ),
        (
            "author rename",
            Method::PUT,
            format!("/v1/admin/authors/{ada}"),
            json!({ "name": "Ada King", "slug": "ada" }),
            "/v1/posts/original",
            |v| v["authors"][0]["name"] == "Ada King",
        ),
        (
            "tag rename",
            Method::PUT,
            format!("/v1/admin/tags/{rust}"),
            json!({ "name": "Rust lang", "slug": "rust" }),
            "/v1/tags/rust",
            |v| v["name"] == "Rust lang",
        ),
        (
            "series rename",
            Method::PUT,
            format!("/v1/admin/series/{guide}"),
            json!({ "title": "The new guide", "slug": "guide" }),
            "/v1/series/guide",
            |v| v["title"] == "The new guide",
        ),
        (
            "site profile",
            Method::PUT,
            "/v1/admin/site".to_owned(),
            json!({ "firm_name": "Southwind", "contact_email": "a@b.example", "public_url": "https://southwind.example" }),
            "/v1/site",
            |v| v["firm_name"] == "Southwind",
        ),
        (
            "new service",
            Method::POST,
            "/v1/admin/services".to_owned(),
            json!({ "title": "Fresh", "summary": "New", "published": true }),
            "/v1/services",
            |v| v["items"].as_array().is_some_and(|a| a.len() == 1),
        ),
        (
            "new post",
            Method::POST,
            "/v1/admin/posts".to_owned(),
            post("Newer", json!({})),
            "/v1/posts",
            |v| v["items"][0]["slug"] == "newer",
        ),
        (
            "post delete",
            Method::DELETE,
            format!("/v1/admin/posts/{post_id}"),
            Value::Null,
            "/v1/feeds/json",
            |v| v["items"].as_array().is_some_and(|a| a.len() == 1),
        ),
    ];
    for (what, method, path, body, read, changed) in cases {
        // Warm the other replica's cache with the old state.
        let before = other.get(read).await;
        assert!(
            !changed(&before.json()),
            "{what}: already changed before the write"
        );
        let mut request = app.req(method, &path).bearer(&owner);
        if !body.is_null() {
            request = request.json(&body);
        }
        let written = request.send().await;
        assert!(written.status.is_success(), "{what}: {}", written.text());
        // The writing replica is never stale.
        assert!(
            changed(&app.get(read).await.json()),
            "{what}: stale on the writing replica"
        );
        // The notification arrives within milliseconds; the bound is generous for a busy
        // machine.
        crate::fixtures::wait_within(
            &format!("{what}: the other replica to stop serving stale content"),
            std::time::Duration::from_secs(5),
            || async { changed(&other.get(read).await.json()) },
        )
        .await;
    }
}

#[tokio::test]
async fn the_sitemap_lists_each_page_once() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "One",
            json!({ "series": "guide", "tags": ["rust", "postgres"] }),
        ),
    )
    .await;
    let sitemap = app.get("/sitemap.xml").await.text();
    let locs: Vec<&str> = sitemap
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().expect("loc"))
        .collect();
    let unique: HashSet<_> = locs.iter().collect();
    assert_eq!(unique.len(), locs.len(), "{locs:?}");
    assert!(locs.contains(&"https://northwind.example/blog/series/guide"));
    assert!(locs.contains(&"https://northwind.example/blog/authors/ada"));
}

/// Each post is searched in its own language: a German post's "Datenbanken" is found by
/// "Datenbank" (German stemming), which English stemming would not do; English posts keep
/// English stemming; the language is part of the post.
#[tokio::test]
async fn content_is_searched_in_the_language_it_is_written_in() {
    content_is_searched_in_the_language_it_is_written_in_by(TestApp::spawn().await).await;
}

#[tokio::test]
async fn content_is_searched_in_the_language_it_is_written_in_by_postgres_alone() {
    let app = TestApp::spawn_with(|c| c.core.cache.search_index_max_bytes = 0).await;
    content_is_searched_in_the_language_it_is_written_in_by(app).await;
}

async fn content_is_searched_in_the_language_it_is_written_in_by(app: TestApp) {
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let german = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post(
                "Wie wir Datenbanken sichern",
                json!({ "language": "de", "body": "Wir sichern unsere Datenbanken jede Nacht und prüfen jede Sicherung." }),
            ),
        )
        .await;
    assert_eq!(german["language"], "de");
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Backing up databases",
            json!({ "body": "We back up our databases nightly." }),
        ),
    )
    .await;

    let found = |results: serde_json::Value| -> Vec<String> {
        results["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["slug"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let results = app.get("/v1/search?q=Datenbank").await.json();
    assert_eq!(found(results), ["wie-wir-datenbanken-sichern"]);
    let results = app.get("/v1/search?q=database").await.json();
    assert_eq!(found(results), ["backing-up-databases"]);
    let public = app
        .get("/v1/posts/wie-wir-datenbanken-sichern")
        .await
        .json();
    assert_eq!(public["language"], "de");

    let bad = app
        .post_json(
            "/v1/admin/posts",
            Some(&editor),
            &post("Bad", json!({ "language": "german!" })),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert!(bad.text().contains("language"), "{}", bad.text());
}

/// Past the protocol's 50,000 URLs, /sitemap.xml is a sitemap index whose sitemaps hold
/// every page exactly once, none over the limit.
#[tokio::test]
async fn a_sitemap_past_fifty_thousand_urls_becomes_an_index() {
    let app = TestApp::spawn().await;
    site(&app).await;
    // Bulk rows straight into the table: the HTTP path would take minutes for this many.
    sqlx::query(
        "insert into posts (id, slug, title, excerpt, body_markdown, body_html, body_text,
                            word_count, reading_minutes, status, published_at)
         select gen_random_uuid(), 'bulk-' || n, 'Bulk ' || n, 'x', 'x', '<p>x</p>', 'x', 1, 1,
                'published', now() - n * interval '1 minute'
         from generate_series(1, 50010) n",
    )
    .execute(&app.db)
    .await
    .expect("bulk posts");
    let index = app.get("/sitemap.xml").await;
    assert_eq!(index.status, StatusCode::OK);
    let index = index.text();
    assert!(
        index.contains("<sitemapindex"),
        "{}",
        &index[..200.min(index.len())]
    );
    let locs = |xml: &str| -> Vec<String> {
        xml.split("<loc>")
            .skip(1)
            .map(|s| s.split("</loc>").next().expect("loc").to_owned())
            .collect()
    };
    assert_eq!(
        locs(&index),
        [
            "https://northwind.example/sitemaps/1.xml",
            "https://northwind.example/sitemaps/2.xml"
        ]
    );
    let first = app.get("/sitemaps/1.xml").await;
    assert_eq!(first.status, StatusCode::OK);
    let first = locs(&first.text());
    let second = locs(&app.get("/sitemaps/2.xml").await.text());
    assert_eq!(first.len(), 50_000);
    // 50,010 posts and the three fixed pages.
    assert_eq!(second.len(), 13);
    let all: HashSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(all.len(), 50_013, "every page once");
    assert!(all.contains(&"https://northwind.example/blog/bulk-50010".to_owned()));
    for missing in ["/sitemaps/3.xml", "/sitemaps/0.xml", "/sitemaps/one.xml"] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

/// The in-process search index finds what Postgres's own search finds, for every kind of
/// query: words in any form, stop words, phrases (with a stop word inside), exclusions,
/// `or`, exclusions alone, a German post, a service, a typo, nothing at all. It is rebuilt
/// when content changes, and a budget too small for the content leaves searching to
/// Postgres.
#[tokio::test]
async fn the_search_index_finds_what_postgres_finds() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let posts = [
        (
            "Caching queries in Rust",
            "We cache every query; the caches are warmed at start.",
        ),
        (
            "Rust in production",
            "Running Rust in production: deploys, metrics and alerts.",
        ),
        (
            "Production databases",
            "Postgres in production, and the rust of old schemas.",
        ),
        (
            "Web API design",
            "A web API that lasts: versioning, pagination, errors.",
        ),
        (
            "Designing for the web",
            "The API of a page is its links; design follows.",
        ),
        ("Small teams", "We mention kubernetes once, in passing."),
        (
            "It's the network",
            "Latency, not bandwidth, is what users feel.",
        ),
    ];
    for (title, body) in posts {
        app.create(
            "/v1/admin/posts",
            &editor,
            &post(title, json!({ "body": body })),
        )
        .await;
    }
    app.create(
        "/v1/admin/posts",
        &editor,
        &post(
            "Wie wir Datenbanken sichern",
            json!({ "language": "de", "body": "Wir sichern unsere Datenbanken jede Nacht." }),
        ),
    )
    .await;
    app.create(
        "/v1/admin/services",
        &editor,
        &json!({ "title": "Rust services", "summary": "APIs in Rust, in production.", "published": true }),
    )
    .await;

    let postgres = app
        .replica_with(|c| c.core.cache.search_index_max_bytes = 0)
        .await;
    let outgrown = app
        .replica_with(|c| c.core.cache.search_index_max_bytes = 1)
        .await;
    let queries = [
        "rust",
        "Rust production",
        "caching",
        "cached queries",
        "the",
        "the rust",
        "\"rust in production\"",
        "\"in production\"",
        "\"web api\"",
        "\"api web\"",
        "rust -production",
        "-rust",
        "web or kubernetes",
        "rust or design api",
        "Datenbank",
        "sichern nacht",
        "services",
        "it's",
        "latency-bandwidth",
        "productoin",
        "qwxzv",
        "rust & (web | !design)",
        "cach:*",
    ];
    let found = |results: &Value| -> (Vec<String>, Value) {
        let mut found = slugs(results);
        found.sort();
        (found, results["corrected_query"].clone())
    };
    for q in queries {
        let path = format!(
            "/v1/search?limit=50&q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let indexed = app.get(&path).await;
        assert_eq!(indexed.status, StatusCode::OK, "{q}: {}", indexed.text());
        let by_postgres = postgres.send(Method::GET, &path, None, None).await;
        let by_outgrown = outgrown.send(Method::GET, &path, None, None).await;
        let want = found(&by_postgres.json());
        assert_eq!(found(&indexed.json()), want, "{q}");
        assert_eq!(found(&by_outgrown.json()), want, "{q}");
        for hit in indexed.json()["items"].as_array().expect("items") {
            assert!(
                hit["rank"]
                    .as_f64()
                    .is_some_and(|r| (0.0..1.0).contains(&r)),
                "{hit}"
            );
        }
    }
    assert!(
        frontdesk::blog::search_index_bytes(&app.state.core)
            .await
            .is_some_and(|b| b > 0),
        "the searches were the index's"
    );
    assert_eq!(
        frontdesk::blog::search_index_bytes(&outgrown.state.core).await,
        None
    );
    // Several forms and the title count: the post about caching queries ranks first.
    let ranked = app.get("/v1/search?q=caching%20queries").await.json();
    assert_eq!(slugs(&ranked)[0], "caching-queries-in-rust", "{ranked}");
    let snippet = ranked["items"][0]["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("<mark>cache</mark>"), "{snippet}");

    // New content is found at once: the index is rebuilt after the change.
    assert_eq!(
        app.get("/v1/search?q=zebra").await.json()["items"],
        json!([])
    );
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Zebra crossings", json!({ "body": "Stripes." })),
    )
    .await;
    assert_eq!(
        slugs(&app.get("/v1/search?q=zebra").await.json()),
        ["zebra-crossings"]
    );
}
