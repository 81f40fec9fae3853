use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse};

async fn add(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.post_json("/v1/admin/services", Some(token), &body)
        .await
}

fn offering(title: &str, order: i32, published: bool) -> Value {
    json!({
        "title": title,
        "summary": format!("{title} for growing firms"),
        "body": format!("## {title}\n\nWe do it well."),
        "icon": "code",
        "display_order": order,
        "published": published
    })
}

#[tokio::test]
async fn visitors_see_published_services_in_display_order() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    for (title, order, published) in [
        ("Web development", 2, true),
        ("Cloud and DevOps", 1, true),
        ("Secret project", 0, false),
        ("AI integration", 2, true),
    ] {
        let created = add(&app, &editor, offering(title, order, published)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    }
    let list = app.get("/v1/services").await;
    assert_eq!(list.status, StatusCode::OK);
    let slugs: Vec<String> = list.json()["items"]
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["slug"].as_str().expect("slug").to_owned())
        .collect();
    assert_eq!(
        slugs,
        ["cloud-and-devops", "ai-integration", "web-development"]
    );

    let one = app.get("/v1/services/web-development").await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_eq!(one["title"], "Web development");
    assert_eq!(one["body"], "## Web development\n\nWe do it well.");
    assert!(
        one.get("id").is_none() && one.get("published").is_none(),
        "public shape: {one}"
    );

    app.get("/v1/services/secret-project")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.get("/v1/services/no-such-service")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    let admin_list = app.get_as("/v1/admin/services", &editor).await.json();
    assert_eq!(
        admin_list["items"].as_array().map(Vec::len),
        Some(4),
        "admins see drafts too"
    );
}

#[tokio::test]
async fn editors_replace_and_delete_services() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    let created = add(&app, &editor, offering("Mobile apps", 1, true))
        .await
        .json();
    let id = created["id"].as_str().expect("id");
    let path = format!("/v1/admin/services/{id}");

    let mut changed = offering("Mobile applications", 3, true);
    changed["slug"] = json!("mobile");
    let replaced = app
        .req(Method::PUT, &path)
        .bearer(&editor)
        .json(&changed)
        .send()
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    assert_eq!(replaced.json()["slug"], "mobile");
    assert_eq!(
        app.get("/v1/services/mobile").await.json()["title"],
        "Mobile applications"
    );
    assert_eq!(
        app.get("/v1/services/mobile-apps").await.status,
        StatusCode::NOT_FOUND
    );

    let fetched = app.get_as(&path, &editor).await.json();
    assert_eq!(fetched["display_order"], 3);

    // Unpublishing hides it from visitors.
    let mut hidden = changed.clone();
    hidden["published"] = json!(false);
    app.req(Method::PUT, &path)
        .bearer(&editor)
        .json(&hidden)
        .send()
        .await;
    assert_eq!(
        app.get("/v1/services/mobile").await.status,
        StatusCode::NOT_FOUND
    );

    let deleted = app.req(Method::DELETE, &path).bearer(&editor).send().await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get_as(&path, &editor)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.req(Method::DELETE, &path)
        .bearer(&editor)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.req(Method::PUT, &path)
        .bearer(&editor)
        .json(&changed)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where target_type = 'service' order by id",
    )
    .fetch_all(&app.db)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "service.create",
            "service.update",
            "service.update",
            "service.delete"
        ]
    );
}

#[tokio::test]
async fn duplicate_slugs_conflict_on_create_and_on_rename() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    add(&app, &editor, offering("Data engineering", 1, true)).await;
    let second = add(&app, &editor, offering("Design", 1, true)).await.json();

    add(&app, &editor, offering("Data Engineering!", 1, false))
        .await
        .assert_problem(StatusCode::CONFLICT, "duplicate-slug");

    let mut rename = offering("Design", 1, true);
    rename["slug"] = json!("data-engineering");
    let id = second["id"].as_str().expect("id");
    app.req(Method::PUT, &format!("/v1/admin/services/{id}"))
        .bearer(&editor)
        .json(&rename)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "duplicate-slug");
}

#[tokio::test]
async fn every_invalid_field_is_listed() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    let response = add(
        &app,
        &editor,
        json!({
            "title": " ",
            "slug": "Has Spaces",
            "summary": "s".repeat(301),
            "body": "b".repeat(50_001),
            "icon": "i".repeat(201),
            "display_order": 20_000
        }),
    )
    .await;
    assert_eq!(
        response.field_errors(),
        ["title", "slug", "summary", "body", "icon", "display_order"]
    );

    let typo = add(
        &app,
        &editor,
        json!({ "title": "T", "summary": "s", "publish": true }),
    )
    .await;
    assert_eq!(
        typo.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    let wrong_type = add(
        &app,
        &editor,
        json!({ "title": "T", "summary": "s", "published": "yes" }),
    )
    .await;
    assert_eq!(wrong_type.field_errors(), ["published"]);
}

#[tokio::test]
async fn public_reads_answer_304_and_change_their_etag_after_an_edit() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(Role::Editor).await;
    let created = add(&app, &editor, offering("Consulting", 1, true))
        .await
        .json();

    for path in ["/v1/services", "/v1/services/consulting"] {
        let first = app.get(path).await;
        let etag = first.header("etag").expect("etag").to_owned();
        let cached = app
            .req(Method::GET, path)
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{path}");
    }

    let list_etag = app
        .get("/v1/services")
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let id = created["id"].as_str().expect("id");
    app.req(Method::PUT, &format!("/v1/admin/services/{id}"))
        .bearer(&editor)
        .json(&offering("Consulting", 2, true))
        .send()
        .await;
    let after = app
        .req(Method::GET, "/v1/services")
        .header("if-none-match", &list_etag)
        .send()
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json()["items"][0]["display_order"], 2);
}
