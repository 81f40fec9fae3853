//! Writing posts: rendering, validation, slugs and redirects, revisions, previews and
//! scheduled publishing.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, blog_basics, post};

#[tokio::test]
async fn a_post_is_rendered_sanitized_and_given_a_table_of_contents() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let body = "Lead paragraph with *style*.\n\n## Getting started\n\n<script>alert('x')</script>\n\n\
                [bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n### Install\n\n```rust\nfn main() {}\n```\n\n\
                ## Getting started\n\nAgain.";
    let created = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post("Hello, world!", json!({ "body": body })),
        )
        .await;
    assert_eq!(created["slug"], "hello-world");
    assert_eq!(created["excerpt"], "Lead paragraph with style.");
    assert_eq!(created["excerpt_is_generated"], true);

    let public = app.get("/v1/posts/hello-world").await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let public = public.json();
    let html = public["html"].as_str().expect("html");
    for forbidden in ["<script", "javascript:", "onerror"] {
        assert!(!html.contains(forbidden), "{forbidden} in {html}");
    }
    assert!(html.contains(r#"<h2 id="getting-started">"#), "{html}");
    assert!(html.contains(r#"<h2 id="getting-started-2">"#), "{html}");
    assert!(html.contains(r#"<code class="language-rust">"#), "{html}");
    assert_eq!(
        public["toc"],
        json!([
            { "id": "getting-started", "text": "Getting started", "level": 2,
              "children": [{ "id": "install", "text": "Install", "level": 3 }] },
            { "id": "getting-started-2", "text": "Getting started", "level": 2 }
        ])
    );
    assert_eq!(public["reading_minutes"], 1);
    assert!(public["word_count"].as_i64().is_some_and(|n| n > 5));
    assert_eq!(public["authors"][0]["slug"], "ada");
    assert_eq!(public["tags"][0]["slug"], "rust");
    assert_eq!(public["seo"]["meta_title"], "Hello, world!");
    assert_eq!(public["shares"]["total"], 0);
}

#[tokio::test]
async fn every_invalid_field_is_listed_and_unknown_references_are_named() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let response = app
        .post_json(
            "/v1/admin/posts",
            Some(&editor),
            &json!({
                "title": "", "slug": "Bad Slug", "body": "", "cover_image_url": "https://img.example/x.png",
                "status": "scheduled", "canonical_url": "nope", "series_part": 2
            }),
        )
        .await;
    assert_eq!(
        response.field_errors(),
        [
            "title",
            "slug",
            "body",
            "cover_image_alt",
            "series_part",
            "canonical_url",
            "scheduled_at"
        ]
    );

    let unknown = app
        .post_json(
            "/v1/admin/posts",
            Some(&editor),
            &post(
                "Refs",
                json!({ "authors": ["ada", "nobody"], "tags": ["ghost"], "series": "missing" }),
            ),
        )
        .await;
    assert_eq!(unknown.field_errors(), ["authors[1]", "tags[0]", "series"]);
}

#[tokio::test]
async fn renaming_keeps_the_old_slug_as_a_permanent_redirect() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let created = app
        .create("/v1/admin/posts", &editor, &post("First name", json!({})))
        .await;
    let id = created["id"].as_str().expect("id");
    let renamed = app
        .put_json(
            &format!("/v1/admin/posts/{id}"),
            &editor,
            &post("First name", json!({ "slug": "second-name" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());

    let old = app.get("/v1/posts/first-name").await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(old.header("location"), Some("/v1/posts/second-name"));
    assert_eq!(
        app.get("/v1/posts/second-name").await.status,
        StatusCode::OK
    );

    // Renamed again: both old slugs lead to the current one.
    app.put_json(
        &format!("/v1/admin/posts/{id}"),
        &editor,
        &post("First name", json!({ "slug": "third-name" })),
    )
    .await;
    for old in ["first-name", "second-name"] {
        let response = app.get(&format!("/v1/posts/{old}")).await;
        assert_eq!(
            response.header("location"),
            Some("/v1/posts/third-name"),
            "{old}"
        );
    }

    // A live post's slug cannot be taken; an old one can, and then stops redirecting.
    app.post_json(
        "/v1/admin/posts",
        Some(&editor),
        &post("Third name", json!({})),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "duplicate-slug");
    app.create("/v1/admin/posts", &editor, &post("First name", json!({})))
        .await;
    assert_eq!(app.get("/v1/posts/first-name").await.status, StatusCode::OK);
}

#[tokio::test]
async fn each_update_keeps_a_revision_that_can_be_restored() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let created = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post("Versioned", json!({ "body": "Version one." })),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let path = format!("/v1/admin/posts/{id}");
    app.put_json(
        &path,
        &editor,
        &post("Versioned", json!({ "body": "Version two." })),
    )
    .await;
    app.put_json(
        &path,
        &editor,
        &post(
            "Versioned again",
            json!({ "slug": "versioned", "body": "Version three." }),
        ),
    )
    .await;

    let revisions = app
        .get_as(&format!("{path}/revisions"), &editor)
        .await
        .json();
    let numbers: Vec<i64> = revisions["items"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["revision"].as_i64().expect("n"))
        .collect();
    assert_eq!(numbers, [2, 1]);
    let first = app
        .get_as(&format!("{path}/revisions/1"), &editor)
        .await
        .json();
    assert_eq!(first["post"]["body"], "Version one.");

    let restored = app
        .req(Method::POST, &format!("{path}/revisions/1/restore"))
        .bearer(&editor)
        .send()
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text());
    assert_eq!(
        restored.json()["status"],
        "published",
        "restoring keeps the status"
    );
    let public = app.get("/v1/posts/versioned").await.json();
    assert!(
        public["html"]
            .as_str()
            .expect("html")
            .contains("Version one.")
    );
    // The version replaced by the restore is itself kept.
    let revisions = app
        .get_as(&format!("{path}/revisions"), &editor)
        .await
        .json();
    assert_eq!(revisions["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        app.get_as(&format!("{path}/revisions/9"), &editor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn drafts_can_be_previewed_by_editors_only() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let draft = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post("Secret draft", json!({ "status": "draft" })),
        )
        .await;
    let id = draft["id"].as_str().expect("id");
    assert_eq!(
        app.get("/v1/posts/secret-draft").await.status,
        StatusCode::NOT_FOUND
    );
    let preview = app
        .get_as(&format!("/v1/admin/posts/{id}/preview"), &editor)
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.json()["title"], "Secret draft");
    assert_eq!(
        app.get(&format!("/v1/admin/posts/{id}/preview"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let sales = app.token_for(Role::Sales).await;
    assert_eq!(
        app.get_as(&format!("/v1/admin/posts/{id}/preview"), &sales)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn series_parts_are_numbered_and_linked() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    for title in ["Part one", "Part two", "Part three"] {
        app.create(
            "/v1/admin/posts",
            &editor,
            &post(title, json!({ "series": "guide" })),
        )
        .await;
    }
    let two = app.get("/v1/posts/part-two").await.json();
    assert_eq!(two["series"]["part"], 2);
    assert_eq!(two["series"]["total_parts"], 3);
    assert_eq!(two["series"]["previous"]["slug"], "part-one");
    assert_eq!(two["series"]["next"]["slug"], "part-three");
    let series = app.get("/v1/series/guide").await.json();
    assert_eq!(
        crate::helpers::slugs(&series["parts"]),
        ["part-one", "part-two", "part-three"]
    );

    app.post_json(
        "/v1/admin/posts",
        Some(&editor),
        &post("Clash", json!({ "series": "guide", "series_part": 2 })),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "series-part-taken");
}

#[tokio::test]
async fn a_scheduled_post_is_published_by_the_background_job_at_its_time() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let created = app
        .create(
            "/v1/admin/posts",
            &editor,
            &post(
                "Coming soon",
                json!({ "status": "scheduled", "scheduled_at": at }),
            ),
        )
        .await;
    assert_eq!(created["status"], "scheduled");
    assert_eq!(
        app.get("/v1/posts/coming-soon").await.status,
        StatusCode::NOT_FOUND
    );

    crate::fixtures::wait_within(
        "the scheduled post to be published",
        Duration::from_secs(15),
        || async { app.get("/v1/posts/coming-soon").await.status == StatusCode::OK },
    )
    .await;
    let published = app.get("/v1/posts/coming-soon").await.json();
    let published_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(published["published_at"].clone()).expect("time");
    assert!(
        (published_at - at).num_milliseconds().abs() < 1000,
        "published at its time"
    );
}

/// Several replicas' schedulers racing over the same due posts publish each exactly once.
#[tokio::test]
async fn scheduled_posts_are_published_once_however_many_replicas_run() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    for i in 0..5 {
        app.create(
            "/v1/admin/posts",
            &editor,
            &post(
                &format!("Due {i}"),
                json!({ "status": "scheduled", "scheduled_at": later }),
            ),
        )
        .await;
    }
    // Their time comes for every replica at once.
    sqlx::query(
        "update posts set scheduled_at = now() - interval '1 second' where status = 'scheduled'",
    )
    .execute(&app.db)
    .await
    .expect("backdate");
    let mut racers = Vec::new();
    for _ in 0..8 {
        let core = app.state.core.clone();
        racers.push(tokio::spawn(async move {
            frontdesk::blog::publish_due(&core).await.expect("publish")
        }));
    }
    let mut published = 0;
    for racer in racers {
        published += racer.await.expect("join").len();
    }
    let audited: i64 = app
        .count("audit_log where action = 'post.publish_scheduled'")
        .await;
    // The app's own scheduler may also have won some: every publication is audited once.
    assert!(published <= 5);
    assert_eq!(audited, 5);
    let listed = app.get("/v1/posts?limit=10").await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn taxonomy_admin_rules() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    blog_basics(&app, &editor).await;
    app.post_json(
        "/v1/admin/tags",
        Some(&editor),
        &json!({ "name": "Rust again", "slug": "rust" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "duplicate-slug");
    let bad = app
        .post_json(
            "/v1/admin/authors",
            Some(&editor),
            &json!({ "name": "", "slug": "Bad", "avatar_url": "x" }),
        )
        .await;
    assert_eq!(bad.field_errors(), ["name", "slug", "avatar_url"]);

    // An author on a post cannot be deleted; a tag can, and posts lose it.
    app.create(
        "/v1/admin/posts",
        &editor,
        &post("Tagged", json!({ "tags": ["rust", "design"] })),
    )
    .await;
    let authors = app.get_as("/v1/admin/authors", &editor).await.json();
    let ada = authors["items"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["slug"] == "ada")
        .expect("ada")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.delete(&format!("/v1/admin/authors/{ada}"), &editor)
        .await
        .assert_problem(StatusCode::CONFLICT, "author-in-use");
    let tags = app.get_as("/v1/admin/tags", &editor).await.json();
    let design = tags["items"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["slug"] == "design")
        .expect("design")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        app.delete(&format!("/v1/admin/tags/{design}"), &editor)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let post = app.get("/v1/posts/tagged").await.json();
    assert_eq!(crate::helpers::slugs(&post["tags"]), ["rust"]);
    assert_eq!(
        app.put_json(
            &format!("/v1/admin/tags/{}", uuid::Uuid::now_v7()),
            &editor,
            &json!({ "name": "X" })
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}
