use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn profile() -> Value {
    json!({
        "firm_name": "Northwind Software",
        "tagline": "Software that earns its keep",
        "contact_email": "Hello@Northwind.example",
        "phone": "+44 117 496 0000",
        "postal_address": {
            "street": "12 Harbour Street", "locality": "Bristol", "postal_code": "BS1 4RN",
            "region": null, "country": "gb"
        },
        "social_links": [
            { "network": "github", "url": "https://github.com/northwind" },
            { "network": "LinkedIn", "url": "https://www.linkedin.com/company/northwind" }
        ],
        "public_url": "https://northwind.example/"
    })
}

#[tokio::test]
async fn the_profile_is_404_until_an_owner_sets_it_then_public() {
    let app = TestApp::spawn().await;
    app.get("/v1/site")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    let owner = app.owner_token().await;
    let saved = app
        .req(Method::PUT, "/v1/admin/site")
        .bearer(&owner)
        .json(&profile())
        .send()
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());

    let public = app.get("/v1/site").await;
    assert_eq!(public.status, StatusCode::OK);
    let body = public.json();
    assert_eq!(body["firm_name"], "Northwind Software");
    assert_eq!(body["contact_email"], "hello@northwind.example");
    assert_eq!(body["public_url"], "https://northwind.example");
    assert_eq!(body["postal_address"]["country"], "GB");
    assert_eq!(body["social_links"][1]["network"], "linkedin");
    assert_eq!(body, saved.json());
}

#[tokio::test]
async fn public_reads_carry_an_etag_and_answer_304_until_changed() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    app.req(Method::PUT, "/v1/admin/site")
        .bearer(&owner)
        .json(&profile())
        .send()
        .await;

    let first = app.get("/v1/site").await;
    let etag = first.header("etag").expect("etag").to_owned();
    assert_eq!(first.header("cache-control"), Some("public, no-cache"));
    let again = app
        .req(Method::GET, "/v1/site")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let mut changed = profile();
    changed["tagline"] = json!("A new tagline");
    app.req(Method::PUT, "/v1/admin/site")
        .bearer(&owner)
        .json(&changed)
        .send()
        .await;
    let after = app
        .req(Method::GET, "/v1/site")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json()["tagline"], "A new tagline");
}

#[tokio::test]
async fn every_invalid_field_is_listed() {
    let app = TestApp::spawn().await;
    let owner = app.owner_token().await;
    let bad = json!({
        "firm_name": "",
        "tagline": "t".repeat(201),
        "contact_email": "nope",
        "phone": "call me maybe",
        "postal_address": { "street": "", "locality": "", "postal_code": "", "country": "England" },
        "social_links": [{ "network": "", "url": "javascript:alert(1)" }],
        "public_url": "northwind.example"
    });
    let response = app
        .req(Method::PUT, "/v1/admin/site")
        .bearer(&owner)
        .json(&bad)
        .send()
        .await;
    assert_eq!(
        response.field_errors(),
        [
            "firm_name",
            "tagline",
            "contact_email",
            "phone",
            "postal_address.country",
            "postal_address.street",
            "postal_address.locality",
            "social_links[0].network",
            "social_links[0].url",
            "public_url",
        ]
    );
    // Nothing was saved.
    assert_eq!(app.get("/v1/site").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_owners_may_change_it_and_changes_are_audited() {
    let app = TestApp::spawn().await;
    let editor = app.token_for(frontdesk::auth::Role::Editor).await;
    app.req(Method::PUT, "/v1/admin/site")
        .bearer(&editor)
        .json(&profile())
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let owner = app.owner_token().await;
    app.req(Method::PUT, "/v1/admin/site")
        .bearer(&owner)
        .json(&profile())
        .send()
        .await;
    let audit = app
        .get_as("/v1/admin/audit?action=site.update", &owner)
        .await
        .json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
}
