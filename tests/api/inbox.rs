//! Working leads: the inbox with its filters and paging, the timeline, status changes,
//! assignment, notes, CSV export; and privacy export and erasure.

use axum::http::{Method, StatusCode};
use frontdesk::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::leads::{consultation, plan};

fn references(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["reference"].as_str().expect("ref").to_owned())
        .collect()
}

async fn submit(app: &TestApp, path: &str, body: &Value) -> String {
    let response = app.post_json(path, None, body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()["reference"]
        .as_str()
        .expect("ref")
        .to_owned()
}

#[tokio::test]
async fn the_inbox_filters_and_pages() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 100).await;
    let sales = app.token_for(Role::Sales).await;
    let first = submit(&app, "/v1/consultations", &consultation()).await;
    let second = submit(&app, "/v1/plan-requests", &plan()).await;
    let mut other = consultation();
    other["email"] = json!("zed@example.com");
    other["message"] = json!("Kubernetes migration, urgently.");
    let third = submit(&app, "/v1/consultations", &other).await;

    let all = app.get_as("/v1/admin/leads", &sales).await.json();
    assert_eq!(
        references(&all),
        [third.clone(), second.clone(), first.clone()]
    );
    let plans = app.get_as("/v1/admin/leads?kind=plan", &sales).await.json();
    assert_eq!(references(&plans), std::slice::from_ref(&second));
    let found = app
        .get_as("/v1/admin/leads?q=kubernetes", &sales)
        .await
        .json();
    assert_eq!(references(&found), std::slice::from_ref(&third));
    let by_reference = app
        .get_as(&format!("/v1/admin/leads?q={first}"), &sales)
        .await
        .json();
    assert_eq!(references(&by_reference), std::slice::from_ref(&first));
    let future = app
        .get_as("/v1/admin/leads?from=2999-01-01", &sales)
        .await
        .json();
    assert_eq!(references(&future), Vec::<String>::new());
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let since_today = app
        .get_as(&format!("/v1/admin/leads?from={today}"), &sales)
        .await
        .json();
    assert_eq!(references(&since_today).len(), 3);

    let page = app.get_as("/v1/admin/leads?limit=2", &sales).await.json();
    assert_eq!(references(&page), [third, second]);
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let next = app
        .get_as(&format!("/v1/admin/leads?limit=2&cursor={cursor}"), &sales)
        .await
        .json();
    assert_eq!(references(&next), [first]);

    let bad = app
        .get_as("/v1/admin/leads?kind=fax&status=hot&from=yesterday", &sales)
        .await;
    assert_eq!(bad.field_errors(), ["kind", "status", "from"]);
}

#[tokio::test]
async fn a_lead_moves_through_the_pipeline_with_a_timeline() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let sales_email = app.create_admin(Role::Sales).await;
    let sales_id: uuid::Uuid = sqlx::query_scalar("select id from admin_users where email = $1")
        .bind(&sales_email)
        .fetch_one(&app.db)
        .await
        .expect("id");
    submit(&app, "/v1/consultations", &consultation()).await;
    let id: uuid::Uuid = sqlx::query_scalar("select id from leads")
        .fetch_one(&app.db)
        .await
        .expect("lead");
    let path = format!("/v1/admin/leads/{id}");
    let patch = |body: Value| {
        app.req(Method::PATCH, &path)
            .bearer(&owner)
            .json(&body)
            .send()
    };

    let contacted =
        patch(json!({ "status": "contacted", "assignee_id": sales_id, "note": "Called, keen." }))
            .await;
    assert_eq!(contacted.status, StatusCode::OK, "{}", contacted.text());
    let lead = contacted.json();
    assert_eq!(lead["status"], "contacted");
    assert_eq!(lead["assignee_id"], sales_id.to_string());
    let kinds: Vec<&str> = lead["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["created", "status_changed", "assigned", "note"]);

    assert_eq!(
        patch(json!({ "status": "proposal" })).await.status,
        StatusCode::OK,
        "steps may be skipped"
    );
    patch(json!({ "status": "qualified" }))
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid-transition");
    assert_eq!(
        patch(json!({ "status": "won" })).await.json()["status"],
        "won"
    );
    patch(json!({ "status": "lost" }))
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid-transition");
    assert_eq!(
        patch(json!({ "assignee_id": null })).await.json()["assignee_id"],
        Value::Null
    );

    assert_eq!(
        patch(json!({ "status": "hot" })).await.field_errors(),
        ["status"]
    );
    assert_eq!(patch(json!({})).await.field_errors(), ["body"]);
    let editor_id: uuid::Uuid = {
        let email = app.create_admin(Role::Editor).await;
        sqlx::query_scalar("select id from admin_users where email = $1")
            .bind(email)
            .fetch_one(&app.db)
            .await
            .expect("id")
    };
    assert_eq!(
        patch(json!({ "assignee_id": editor_id }))
            .await
            .field_errors(),
        ["assignee_id"]
    );
    assert_eq!(
        app.get_as(&format!("/v1/admin/leads/{}", uuid::Uuid::now_v7()), &owner)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn leads_export_as_csv_without_formulas() {
    let app = TestApp::spawn().await;
    let sales = app.token_for(Role::Sales).await;
    let mut sneaky = consultation();
    sneaky["company"] = json!("=HYPERLINK(\"http://evil.example\")");
    submit(&app, "/v1/consultations", &sneaky).await;
    submit(&app, "/v1/plan-requests", &plan()).await;
    let csv = app.get_as("/v1/admin/leads.csv", &sales).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(&headers[0], "reference");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let company = headers
        .iter()
        .position(|h| h == "company")
        .expect("company column");
    assert!(
        rows.iter().any(|r| r[company].starts_with("'=HYPERLINK")),
        "defused"
    );
    let only_plans = app.get_as("/v1/admin/leads.csv?kind=plan", &sales).await;
    assert_eq!(
        csv::Reader::from_reader(only_plans.body.as_slice())
            .records()
            .count(),
        1
    );
}

#[tokio::test]
async fn a_person_can_be_exported_and_erased_everywhere() {
    let app = TestApp::spawn_with(|c| c.leads.form_limit.max = 100).await;
    crate::leads::with_site(&app).await;
    submit(&app, "/v1/consultations", &consultation()).await;
    submit(&app, "/v1/consultations", &consultation()).await;
    app.post_json(
        "/v1/newsletter/subscriptions",
        None,
        &json!({ "email": "ada@example.com", "consent": true }),
    )
    .await;
    let mut other = consultation();
    other["email"] = json!("other@example.com");
    submit(&app, "/v1/consultations", &other).await;

    let owner = app.owner_token().await;
    let export = app
        .get_as("/v1/admin/privacy/export?email=ADA@example.com", &owner)
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    let data = export.json()["records"].clone();
    assert_eq!(data["leads"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["leads"][0]["events"][0]["kind"], "created");
    assert_eq!(data["newsletter_subscriptions"][0]["status"], "pending");
    assert!(
        data["emails"].as_array().expect("emails").len() >= 3,
        "2 confirmations + newsletter"
    );

    let erased = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    let counts = erased.json()["counts"].clone();
    assert_eq!(counts["leads"], 2);
    assert_eq!(counts["newsletter_subscriptions"], 1);
    assert!(counts["emails"].as_i64().is_some_and(|n| n >= 3));

    let after = app
        .get_as("/v1/admin/privacy/export?email=ada@example.com", &owner)
        .await
        .json()["records"]
        .clone();
    assert_eq!(after["leads"], json!([]));
    assert_eq!(after["newsletter_subscriptions"], json!([]));
    assert_eq!(after["emails"], json!([]));
    let everything: i64 = sqlx::query_scalar(
        "select (select count(*) from leads where email = 'ada@example.com') +
                (select count(*) from outbox_jobs where payload::text ilike '%ada@example.com%') +
                (select count(*) from audit_log where details::text ilike '%ada@example.com%')",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(everything, 0, "nothing about the person remains");
    let remaining = app.get_as("/v1/admin/leads", &owner).await.json();
    assert_eq!(
        remaining["items"].as_array().map(Vec::len),
        Some(1),
        "other people's leads stay"
    );
    let bad = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "nope" }),
        )
        .await;
    assert_eq!(bad.field_errors(), ["email"]);
}
