//! The on-site assistant over the demo site: answers with sources, an honest "I don't know",
//! quote and booking conversations that end in a real lead and a real booking, streaming,
//! limits, and the model engine against a scripted chat-completions server on loopback —
//! including every way it can fail, which must end in a built-in answer, never a 5xx.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::Config;
use frontdesk::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{ChatProvider, Scripted};
use crate::helpers::{TestApp, TestResponse};

async fn demo_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn_with(configure).await;
    frontdesk::demo::seed(&app.state.core, 20)
        .await
        .expect("seed the demo site");
    app
}

async fn demo_app() -> TestApp {
    demo_app_with(|_| {}).await
}

async fn start(app: &TestApp, time_zone: Option<&str>) -> Uuid {
    let response = app
        .post_json(
            "/v1/assistant/conversations",
            None,
            &json!({ "time_zone": time_zone }),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let started = response.json();
    assert_eq!(started["greeting"]["intent"], "greeting");
    assert!(
        started["greeting"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Northwind Software")),
        "{started}"
    );
    started["id"].as_str().expect("id").parse().expect("uuid")
}

async fn send(app: &TestApp, id: Uuid, text: &str) -> TestResponse {
    app.post_json(
        &format!("/v1/assistant/conversations/{id}/messages"),
        None,
        &json!({ "text": text }),
    )
    .await
}

async fn say(app: &TestApp, id: Uuid, text: &str) -> Value {
    let response = send(app, id, text).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{text}: {}",
        response.text()
    );
    response.json()
}

fn part<'a>(reply: &'a Value, kind: &str) -> Option<&'a Value> {
    reply["parts"]
        .as_array()?
        .iter()
        .find(|p| p["type"] == kind)
}

fn source_paths(reply: &Value) -> Vec<String> {
    part(reply, "sources")
        .and_then(|p| p["items"].as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A streamed reply's events as (name, data).
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            (!data.is_empty()).then(|| (name, serde_json::from_str(&data).expect("JSON data")))
        })
        .collect()
}

async fn stream(app: &TestApp, id: Uuid, text: &str) -> Vec<(String, Value)> {
    let response = app
        .req(
            Method::POST,
            &format!("/v1/assistant/conversations/{id}/messages"),
        )
        .header("accept", "text/event-stream")
        .json(&json!({ "text": text }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert!(
        response
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
    );
    events(&response.text())
}

fn tokens_text(events: &[(String, Value)]) -> String {
    // Text after the last `restart` is what the visitor sees.
    let start = events
        .iter()
        .rposition(|(name, _)| name == "restart")
        .map_or(0, |i| i + 1);
    events[start..]
        .iter()
        .filter(|(name, _)| name == "token")
        .filter_map(|(_, data)| data["text"].as_str())
        .collect()
}

fn part_kinds(reply: &Value) -> Vec<String> {
    reply["parts"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["type"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Visitor messages → the intent understood, what the engine did (the parts its tools
/// produced) and the source it answered from; each in a new conversation.
#[tokio::test]
async fn understands_typical_messages_and_answers_from_the_sites_content() {
    let app = demo_app().await;
    let table: &[(&str, &str, &[&str], Option<&str>)] = &[
        (
            "What services do you offer?",
            "services",
            &["services", "sources"],
            Some("/v1/services/web-platforms"),
        ),
        (
            "How do you handle database migrations?",
            "question",
            &["sources"],
            Some("/v1/posts/building-a-web-api-in-rust-part-2"),
        ),
        (
            "Do you use Kubernetes?",
            "question",
            &["sources"],
            Some("/v1/posts/kubernetes-or-not"),
        ),
        (
            "How do you choose a tech stack?",
            "question",
            &["sources"],
            Some("/v1/posts/choosing-a-tech-stack"),
        ),
        (
            "Can you help us with full-text search in Postgres?",
            "question",
            &["sources"],
            Some("/v1/posts/postgres-full-text-search"),
        ),
        (
            "How much would a customer portal cost?",
            "quote",
            &["quote_form"],
            None,
        ),
        ("I'd like to book a call", "scheduling", &["slots"], None),
        ("What's your phone number?", "contact", &["human"], None),
        ("Can I talk to a real person?", "human", &["human"], None),
        ("Hello!", "greeting", &[], None),
    ];
    for (message, intent, parts, source) in table {
        let id = start(&app, None).await;
        let reply = say(&app, id, message).await;
        assert_eq!(reply["intent"], *intent, "{message}: {reply}");
        assert_eq!(reply["engine"], "builtin");
        assert_eq!(part_kinds(&reply), *parts, "{message}: {reply}");
        let sources = source_paths(&reply);
        assert_eq!(
            sources.first().map(String::as_str),
            *source,
            "{message}: {reply}"
        );
        if *intent == "question" {
            // The answer quotes the source it names.
            assert!(reply["text"].as_str().is_some_and(|t| t.contains('“')));
        }
    }

    let id = start(&app, None).await;
    let services = say(&app, id, "What services do you offer?").await;
    let cards = part(&services, "services").expect("services part")["items"].clone();
    assert_eq!(cards.as_array().map(Vec::len), Some(6), "{services}");
    let phone = say(&app, id, "What's your phone number?").await;
    assert_eq!(
        part(&phone, "human").expect("human part")["phone"],
        "+44 117 496 0000"
    );
    let person = say(&app, id, "Can I talk to a real person?").await;
    assert_eq!(
        part(&person, "human").expect("human part")["action"]["path"],
        "/v1/consultations"
    );
}

#[tokio::test]
async fn says_it_does_not_know_rather_than_guess() {
    let app = demo_app().await;
    let id = start(&app, None).await;
    for question in [
        "What is the capital of Peru?",
        "Who won the football world cup?",
    ] {
        let reply = say(&app, id, question).await;
        assert!(
            reply["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("I don't know")),
            "{question}: {reply}"
        );
        assert!(source_paths(&reply).is_empty(), "{reply}");
        let human = part(&reply, "human").expect("offers a person");
        assert_eq!(human["email"], "hello@northwind.example");
    }
}

#[tokio::test]
async fn a_quote_conversation_sends_a_real_plan_request() {
    let app = demo_app().await;
    let owner = app.owner_token().await;
    let id = start(&app, None).await;

    let first = say(
        &app,
        id,
        "Can I get a quote for a patient portal for our clinics?",
    )
    .await;
    assert_eq!(first["intent"], "quote");
    let form = part(&first, "quote_form").expect("the prefilled form");
    assert_eq!(form["prefill"]["project_type"], "web_app");
    assert_eq!(form["action"]["path"], "/v1/plan-requests");
    assert!(first["text"].as_str().is_some_and(|t| t.contains("budget")));

    say(&app, id, "around £30k").await;
    say(&app, id, "within 3 months").await;
    let email_question = say(&app, id, "Ana Silva").await;
    assert!(
        email_question["text"]
            .as_str()
            .is_some_and(|t| t.contains("email"))
    );
    let retry = say(&app, id, "ana at example dot com").await;
    assert!(
        retry["text"]
            .as_str()
            .is_some_and(|t| t.contains("doesn't look like an email"))
    );
    say(&app, id, "ana@example.com").await;
    let consent = say(&app, id, "Clinica Norte").await;
    assert!(
        consent["text"]
            .as_str()
            .is_some_and(|t| t.contains("yes or no"))
    );
    let prefill = &part(&consent, "quote_form").expect("form")["prefill"];
    assert_eq!(prefill["budget_range"], "25k_50k");
    assert_eq!(prefill["timeline"], "1_3_months");
    assert_eq!(prefill["company"], "Clinica Norte");

    let done = say(&app, id, "yes").await;
    let reference = part(&done, "lead_created").expect("lead created")["reference"]
        .as_str()
        .expect("reference")
        .to_owned();

    // A real lead, the same as the form makes: stored, with its confirmation email queued.
    let lead: (Uuid, String, String, String, String, String, String) = sqlx::query_as(
        "select id, kind, email, company, budget_range, timeline, source_page from leads where reference = $1",
    )
    .bind(&reference)
    .fetch_one(&app.db)
    .await
    .expect("the lead");
    assert_eq!(lead.1, "plan");
    assert_eq!(lead.2, "ana@example.com");
    assert_eq!(lead.3, "Clinica Norte");
    assert_eq!(
        (lead.4.as_str(), lead.5.as_str()),
        ("25k_50k", "1_3_months")
    );
    assert_eq!(lead.6, "assistant");
    let mails: i64 = app
        .count("outbox_jobs where kind = 'email' and payload->>'to' = 'ana@example.com'")
        .await;
    assert_eq!(mails, 1);

    // "Yes" to the offered call starts booking with what is already known.
    let slots = say(&app, id, "yes please").await;
    assert_eq!(slots["intent"], "scheduling");
    assert!(part(&slots, "slots").is_some(), "{slots}");

    // Admins see the conversation and what it led to.
    let led = app
        .get_as(
            "/v1/admin/assistant/conversations?led_to_lead_or_booking=true",
            &owner,
        )
        .await;
    assert_eq!(led.status, StatusCode::OK, "{}", led.text());
    let items = led.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["id"], id.to_string());
    assert_eq!(items[0]["lead_id"], lead.0.to_string());
    let whole = app
        .get_as(&format!("/v1/admin/assistant/conversations/{id}"), &owner)
        .await
        .json();
    assert_eq!(whole["messages"][0]["role"], "assistant");
    assert_eq!(
        whole["messages"][1]["text"],
        "Can I get a quote for a patient portal for our clinics?"
    );

    // The visitor's chat is theirs: exported, then erased with everything else — with any
    // other chat naming their address, and none that only names a longer one.
    let mentions = start(&app, None).await;
    say(&app, mentions, "Please reply to ana@example.com.").await;
    let someone_else = start(&app, None).await;
    say(
        &app,
        someone_else,
        "Write to diana@example.com or ana@example.com.au",
    )
    .await;
    let export = app
        .get_as("/v1/admin/privacy/export?email=ana@example.com", &owner)
        .await
        .json();
    assert_eq!(
        export["records"]["assistant_conversations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let erased = app
        .post_json(
            "/v1/admin/privacy/erase",
            Some(&owner),
            &json!({ "email": "ana@example.com" }),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    assert_eq!(erased.json()["counts"]["assistant_conversations"], 2);
    let left: Vec<Uuid> = sqlx::query_scalar("select id from assistant_conversations")
        .fetch_all(&app.db)
        .await
        .expect("left");
    assert_eq!(left, [someone_else]);
}

#[tokio::test]
async fn without_consent_nothing_is_stored() {
    let app = demo_app().await;
    let id = start(&app, None).await;
    say(
        &app,
        id,
        "I need a quote: a marketing website, budget 8k, asap. My name is Bo Chen, bo@example.com, company: Chen Labs",
    )
    .await;
    let refused = say(&app, id, "no").await;
    assert!(
        refused["text"]
            .as_str()
            .is_some_and(|t| t.contains("nothing has been saved")),
        "{refused}"
    );
    let leads: i64 = app.count("leads").await;
    assert_eq!(leads, 0);
}

#[tokio::test]
async fn a_booking_conversation_books_a_real_call() {
    let app = demo_app().await;
    let owner = app.owner_token().await;
    let id = start(&app, Some("Europe/Berlin")).await;

    let offer = say(&app, id, "Could we book a call to talk about our project?").await;
    assert_eq!(offer["intent"], "scheduling");
    let slots = part(&offer, "slots").expect("slots");
    assert_eq!(slots["call_type"], "discovery-call");
    assert_eq!(slots["time_zone"], "Europe/Berlin");
    let items = slots["items"].as_array().expect("items").clone();
    assert!(!items.is_empty() && items.len() <= 5, "{offer}");
    // Spread out: never more than two a day.
    let mut days: Vec<&str> = items
        .iter()
        .filter_map(|s| s["start"].as_str().and_then(|s| s.get(..10)))
        .collect();
    days.sort_unstable();
    assert!(days.windows(3).all(|w| w[0] != w[2]), "{items:?}");

    let chosen = items.get(1).unwrap_or(&items[0]).clone();
    let pick = if items.len() > 1 {
        "the second one"
    } else {
        "1"
    };
    let name_question = say(&app, id, pick).await;
    assert!(
        name_question["text"]
            .as_str()
            .is_some_and(|t| t.contains("name"))
    );
    say(&app, id, "Ana Silva").await;
    let confirm = say(&app, id, "ana@example.com").await;
    assert!(
        confirm["text"]
            .as_str()
            .is_some_and(|t| t.contains("Discovery call") && t.contains("yes or no")),
        "{confirm}"
    );
    let booked = say(&app, id, "yes").await;
    let created = part(&booked, "booking_created").expect("booked");
    assert_eq!(created["start"], chosen["start"]);
    assert!(
        created["manage_url"]
            .as_str()
            .is_some_and(|u| u.contains("/v1/bookings/bk_"))
    );
    // The manage link is a secret: shown in the reply, never kept in the history.
    let history = app.get(&format!("/v1/assistant/conversations/{id}")).await;
    assert!(!history.text().contains("bk_"), "{}", history.text());

    // A real booking on a host's calendar, with its invite queued.
    let booking: (Uuid, String, String, String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "select id, status, first_name, last_name, starts_at from bookings where email = 'ana@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .expect("the booking");
    assert_eq!(booking.1, "confirmed");
    assert_eq!((booking.2.as_str(), booking.3.as_str()), ("Ana", "Silva"));
    assert_eq!(
        booking.4.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        chosen["start_utc"]
            .as_str()
            .expect("utc")
            .replace(".000", "")
    );
    let listed = app
        .get_as(
            "/v1/admin/assistant/conversations?led_to_lead_or_booking=true",
            &owner,
        )
        .await
        .json();
    assert_eq!(listed["items"][0]["booking_id"], booking.0.to_string());
}

#[tokio::test]
async fn streams_the_reply_as_server_sent_events() {
    let app = demo_app().await;
    let id = start(&app, None).await;
    let events = stream(&app, id, "Do you use Kubernetes?").await;
    let (last, reply) = events.last().expect("events");
    assert_eq!(last, "reply");
    assert!(events.len() > 5, "the text comes in pieces: {events:?}");
    assert_eq!(tokens_text(&events), reply["text"].as_str().expect("text"));
    assert_eq!(
        source_paths(reply),
        ["/v1/posts/kubernetes-or-not".to_owned()]
    );
    // The streamed exchange is remembered like any other.
    let history = app
        .get(&format!("/v1/assistant/conversations/{id}"))
        .await
        .json();
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(3));

    // Problems before the stream starts are answered as problems.
    let unknown = app
        .req(
            Method::POST,
            &format!("/v1/assistant/conversations/{}/messages", Uuid::now_v7()),
        )
        .header("accept", "text/event-stream")
        .json(&json!({ "text": "hello" }))
        .send()
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn bad_input_limits_and_expiry_are_clear_errors() {
    let app = demo_app_with(|c| {
        c.assistant.messages_per_minute = 3;
        // A day-long window: no window boundary falls inside the test.
        c.assistant.message_window = Duration::from_secs(86_400);
        c.assistant.max_message_chars = 50;
    })
    .await;
    let bad_zone = app
        .post_json(
            "/v1/assistant/conversations",
            None,
            &json!({ "time_zone": "Mars/Olympus" }),
        )
        .await;
    bad_zone.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");

    let id = start(&app, None).await;
    let long = send(&app, id, &"a".repeat(51)).await;
    long.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(long.field_errors(), ["text"]);
    let empty = send(&app, id, "   ").await;
    assert_eq!(empty.field_errors(), ["text"]);
    let not_json = app
        .req(
            Method::POST,
            &format!("/v1/assistant/conversations/{id}/messages"),
        )
        .raw_body("application/json", "{\"text\":")
        .send()
        .await;
    assert_eq!(
        not_json.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_json.text()
    );

    // One message at a time: a second one while the first is answered is refused.
    sqlx::query(
        "update assistant_conversations set busy_until = now() + interval '1 minute' where id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .expect("mark busy");
    send(&app, id, "hello")
        .await
        .assert_problem(StatusCode::CONFLICT, "conversation-busy");
    sqlx::query(
        "update assistant_conversations set busy_until = now() - interval '1 second' where id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .expect("lapse");

    for _ in 0..3 {
        say(&app, id, "hello").await;
    }
    let limited = send(&app, id, "hello").await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    assert!(limited.header("retry-after").is_some());
    // A refused message leaves the conversation free and unchanged.
    let messages: i64 =
        sqlx::query_scalar("select count(*) from assistant_messages where conversation_id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(messages, 7);

    send(&app, Uuid::now_v7(), "hello")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    let other = start(&app, None).await;
    sqlx::query(
        "update assistant_conversations set expires_at = now() - interval '1 second' where id = $1",
    )
    .bind(other)
    .execute(&app.db)
    .await
    .expect("expire");
    send(&app, other, "hello")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.get(&format!("/v1/assistant/conversations/{other}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    // A week after expiry, housekeeping forgets it.
    sqlx::query(
        "update assistant_conversations set expires_at = now() - interval '8 days' where id = $1",
    )
    .bind(other)
    .execute(&app.db)
    .await
    .expect("age");
    let forgotten = frontdesk::assistant::forget_old(&app.state.core.db)
        .await
        .expect("forget");
    assert_eq!(forgotten, 1);
}

#[tokio::test]
async fn starting_conversations_is_rate_limited_per_address() {
    let app = demo_app_with(|c| {
        c.assistant.rate_limit.max = 2;
        c.assistant.rate_limit.window = Duration::from_secs(86_400);
    })
    .await;
    start(&app, None).await;
    start(&app, None).await;
    let third = app
        .post_json("/v1/assistant/conversations", None, &json!({}))
        .await;
    third.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    // Another address is not affected.
    let elsewhere = app
        .req(Method::POST, "/v1/assistant/conversations")
        .peer("127.0.0.9:40000")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(elsewhere.status, StatusCode::CREATED);
}

fn tool_call(id: &str, name: &str, arguments: Value) -> Value {
    json!({ "role": "assistant", "content": null, "tool_calls": [{
        "id": id, "type": "function",
        "function": { "name": name, "arguments": arguments.to_string() }
    }] })
}

fn text_message(text: &str) -> Value {
    json!({ "role": "assistant", "content": text })
}

async fn llm_app(script: Vec<Scripted>) -> (TestApp, ChatProvider) {
    let provider = ChatProvider::start(script).await;
    let url = provider.url();
    let app = demo_app_with(move |c| {
        c.assistant.llm_url = Some(url);
        c.assistant.llm_model = "test-model".into();
        c.assistant.llm_key = "test-key".to_owned().into();
        c.assistant.llm_timeout = Duration::from_secs(1);
    })
    .await;
    (app, provider)
}

/// The tool result the model was sent back for `call_id`.
fn tool_result(request: &Value, call_id: &str) -> String {
    request["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["role"] == "tool" && m["tool_call_id"] == call_id)
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_model_answers_grounded_in_the_site_and_acts_through_tools() {
    let (app, provider) = llm_app(vec![
        Scripted::Message(tool_call("call_1", "list_services", json!({}))),
        Scripted::Message(text_message(
            "We offer six services; web platforms are the most asked for.",
        )),
        Scripted::Message(tool_call(
            "call_2",
            "create_quote_request",
            json!({ "name": "Ana Silva", "email": "ana@example.com", "company": "Clinica Norte",
                    "project_type": "web_app", "budget_range": "25k_50k", "timeline": "1_3_months",
                    "description": "A patient portal for three clinics.", "consent": true }),
        )),
        Scripted::Message(text_message("Done: your request is in.")),
        Scripted::Message(tool_call(
            "call_3",
            "describe_service",
            json!({ "slug": "cloud-and-devops" }),
        )),
        Scripted::Message(tool_call(
            "call_4",
            "request_consultation",
            json!({ "first_name": "Ana", "last_name": "Silva", "email": "ana@example.com",
                    "message": "Please call me about moving to containers.",
                    "service": "cloud-and-devops", "consent": true }),
        )),
        Scripted::Message(text_message("Someone will be in touch.")),
    ])
    .await;
    let id = start(&app, None).await;

    let reply = say(&app, id, "What services do you offer?").await;
    assert_eq!(reply["engine"], "llm");
    assert_eq!(
        reply["text"],
        "We offer six services; web platforms are the most asked for."
    );
    let cards = &part(&reply, "services").expect("the tool's services")["items"];
    assert_eq!(cards.as_array().map(Vec::len), Some(6));

    let requests = provider.requests().await;
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first["model"], "test-model");
    assert_eq!(first["stream"], false);
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    // Tools that store details are offered only once the visitor agreed (below).
    assert_eq!(
        tools,
        [
            "search_content",
            "list_services",
            "describe_service",
            "find_slots"
        ]
    );
    let system = first["messages"][0]["content"]
        .as_str()
        .expect("system prompt");
    assert!(system.contains("Northwind Software"), "{system}");
    assert!(
        system.contains("/v1/services/"),
        "grounded in the site: {system}"
    );
    assert!(tool_result(&requests[1], "call_1").contains("web-platforms"));
    let sent = provider.requests.lock().await;
    assert_eq!(sent[0].header("authorization"), "Bearer test-key");
    drop(sent);

    // The model's quote request is a real lead, made by the same service as the form.
    let quote = say(
        &app,
        id,
        "Please send my request; yes, you may store my details.",
    )
    .await;
    let reference = part(&quote, "lead_created").expect("lead")["reference"].clone();
    let linked: Uuid = sqlx::query_scalar(
        "select c.lead_id from assistant_conversations c join leads l on l.id = c.lead_id where l.reference = $1",
    )
    .bind(reference.as_str())
    .fetch_one(&app.db)
    .await
    .expect("the conversation names its lead");
    let lead_source: String = sqlx::query_scalar("select source_page from leads where id = $1")
        .bind(linked)
        .fetch_one(&app.db)
        .await
        .expect("the lead");
    assert_eq!(lead_source, "assistant");
    // The model saw the history of the conversation, and, the visitor having agreed, the
    // tools that store details.
    let requests = provider.requests().await;
    let offered: Vec<&str> = requests[2]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(
        offered.contains(&"create_quote_request") && offered.contains(&"book_call"),
        "{offered:?}"
    );
    let history: Vec<&str> = requests[2]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert!(
        history.contains(&"What services do you offer?"),
        "{history:?}"
    );

    // Describing a service and asking for a person: a consultation lead, like the form's.
    let consult = say(
        &app,
        id,
        "Tell me about cloud and devops, and have someone call me; yes, you may store my details.",
    )
    .await;
    assert_eq!(
        source_paths(&consult),
        ["/v1/services/cloud-and-devops".to_owned()]
    );
    let requests = provider.requests().await;
    assert!(tool_result(&requests[5], "call_3").contains("description"));
    let kinds: Vec<String> =
        sqlx::query_scalar("select kind from leads where source_page = 'assistant' order by id")
            .fetch_all(&app.db)
            .await
            .expect("leads");
    assert_eq!(kinds, ["plan", "consultation"]);
}

#[tokio::test]
async fn the_model_cannot_book_without_consent() {
    let (app, provider) = llm_app(vec![
        Scripted::Message(tool_call(
            "call_1",
            "book_call",
            json!({ "call_type": "discovery-call", "start": "2030-01-07T10:00:00Z", "first_name": "Ana",
                    "last_name": "Silva", "email": "ana@example.com", "consent": false }),
        )),
        Scripted::Message(text_message("May we store your details to hold the call?")),
        Scripted::Message(tool_call(
            "call_2",
            "book_call",
            json!({ "call_type": "discovery-call", "start": "2030-01-07T10:07:00Z", "first_name": "Ana",
                    "last_name": "Silva", "email": "ana@example.com", "consent": true }),
        )),
        Scripted::Message(text_message("That time is not available.")),
    ])
    .await;
    let id = start(&app, None).await;
    let reply = say(
        &app,
        id,
        "Book me a discovery call on 7 January 2030 at 10:00",
    )
    .await;
    assert_eq!(reply["engine"], "llm");
    let requests = provider.requests().await;
    assert!(tool_result(&requests[1], "call_1").contains("consent"));

    // With consent, but a time that is not a free slot: refused by the booking service,
    // and the refusal is what the model reads.
    say(&app, id, "Yes, you may.").await;
    let requests = provider.requests().await;
    let refusal = tool_result(&requests[3], "call_2");
    assert!(refusal.contains("error"), "{refusal}");
    let bookings: i64 = app.count("bookings").await;
    assert_eq!(bookings, 0);
}

#[tokio::test]
async fn the_models_answer_streams_after_its_tool_rounds() {
    let (app, provider) = llm_app(vec![
        Scripted::Message(tool_call(
            "call_1",
            "find_slots",
            json!({ "call_type": "discovery-call" }),
        )),
        // Offered its tools again, it answers with none (as small models do): the answer
        // is then asked for without tools, streamed.
        Scripted::Message(text_message("")),
        Scripted::Stream(vec![
            json!({ "content": "Here are some times — " }),
            json!({ "content": "Maya or Tomás will take the call." }),
        ]),
    ])
    .await;
    let id = start(&app, Some("America/New_York")).await;
    let events = stream(&app, id, "When can we talk?").await;
    let (last, reply) = events.last().expect("events");
    assert_eq!(last, "reply", "{events:?}");
    assert_eq!(reply["engine"], "llm");
    let text = "Here are some times — Maya or Tomás will take the call.";
    assert_eq!(reply["text"], text);
    assert_eq!(tokens_text(&events), text);
    let slots = part(reply, "slots").expect("the tool's slots");
    assert_eq!(slots["call_type"], "discovery-call");
    assert_eq!(slots["time_zone"], "America/New_York");

    let requests = provider.requests().await;
    assert_eq!(requests.len(), 3);
    // Tool rounds are plain JSON with the tools; the answer streams without them, told
    // in words what the tools returned (some servers drop `tool` messages).
    assert_eq!(requests[0]["stream"], false);
    assert!(requests[0]["tools"].is_array());
    assert!(tool_result(&requests[1], "call_1").contains("start_utc"));
    assert_eq!(requests[2]["stream"], true);
    assert!(requests[2].get("tools").is_none());
    let note = requests[2]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .find(|c| c.starts_with("What your tools returned"))
        .expect("the tools' results as a note");
    assert!(
        note.contains("find_slots") && note.contains("start_utc"),
        "{note}"
    );
}

#[tokio::test]
async fn every_failure_of_the_model_ends_in_a_built_in_answer() {
    // Tool calls round after round: two rounds with tools, then the answer, still none.
    let loops: Vec<Scripted> = (0..3)
        .map(|i| {
            Scripted::Message(tool_call(
                &format!("call_{i}"),
                "search_content",
                json!({ "query": "rust" }),
            ))
        })
        .collect();
    let mut script = vec![
        Scripted::Status(500),
        Scripted::Status(429),
        Scripted::Raw("this is not JSON"),
        Scripted::Raw("{\"choices\": []}"),
        Scripted::Message(text_message("   ")),
        Scripted::Hang(Duration::from_secs(3)),
    ];
    script.extend(loops);
    // One answer each: the four refusals; the blank answer, then the answer asked for
    // without tools, which hangs; the tool calls that never end (three requests).
    let failures = 6;
    let requests = script.len();
    let (app, provider) = llm_app(script).await;
    let id = start(&app, None).await;
    for attempt in 0..failures {
        let reply = say(&app, id, "What services do you offer?").await;
        assert_eq!(reply["engine"], "builtin", "attempt {attempt}: {reply}");
        assert_eq!(reply["intent"], "services");
    }
    assert_eq!(provider.requests().await.len(), requests);

    // Streamed: a stream cut off before [DONE] is a failure too; the text so far is
    // withdrawn (`restart`) and the built-in answer streams instead.
    let (app, _provider) = llm_app(vec![Scripted::Raw(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Half an ans\"}}]}\n\n",
    )])
    .await;
    let id = start(&app, None).await;
    let events = stream(&app, id, "What services do you offer?").await;
    assert!(
        events.iter().any(|(name, _)| name == "restart"),
        "{events:?}"
    );
    let (last, reply) = events.last().expect("events");
    assert_eq!(last, "reply");
    assert_eq!(reply["engine"], "builtin");
    assert_eq!(tokens_text(&events), reply["text"].as_str().expect("text"));
}

#[tokio::test]
async fn admins_read_conversations_and_visitors_only_their_own() {
    let app = demo_app().await;
    let sales = app.token_for(Role::Sales).await;
    let id = start(&app, None).await;
    say(&app, id, "hello").await;
    let list = app
        .get_as("/v1/admin/assistant/conversations", &sales)
        .await
        .json();
    assert_eq!(list["items"][0]["id"], id.to_string());
    assert_eq!(list["items"][0]["messages"], 3);
    let led = app
        .get_as(
            "/v1/admin/assistant/conversations?led_to_lead_or_booking=true",
            &sales,
        )
        .await
        .json();
    assert_eq!(led["items"].as_array().map(Vec::len), Some(0));
    app.get_as(
        &format!("/v1/admin/assistant/conversations/{}", Uuid::now_v7()),
        &sales,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn visitors_can_leave_a_flow_by_asking_something_else() {
    let app = demo_app().await;
    let id = start(&app, None).await;
    say(&app, id, "I'd like to book a call").await;
    let declined = say(&app, id, "none of these work for me").await;
    assert!(
        declined["text"]
            .as_str()
            .is_some_and(|t| t.contains("nothing is booked")),
        "{declined}"
    );
    assert!(part(&declined, "human").is_some());

    say(&app, id, "Can I get a quote for a mobile app for our shop?").await;
    let moved_on = say(&app, id, "What services do you offer?").await;
    assert_eq!(moved_on["intent"], "services", "{moved_on}");
    // The quote was dropped, not answered with the services' names.
    let next = say(&app, id, "Do you use Kubernetes?").await;
    assert_eq!(
        source_paths(&next).first().map(String::as_str),
        Some("/v1/posts/kubernetes-or-not")
    );
}

#[tokio::test]
async fn any_text_is_taken_without_a_server_error() {
    let app = demo_app().await;
    let id = start(&app, None).await;
    for text in [
        "İ need a quote, I'm Éric Ünal, company: Ünal GmbH",
        "Ünal",
        "💡🚀 مرحبا 你好",
        "line one\r\nline two\rthree",
        "in 400000000 years",
    ] {
        let response = send(&app, id, text).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{text:?}: {}",
            response.text()
        );
    }
    // Postgres cannot store NUL: the visitor hears which field, not a server error.
    let response = send(&app, id, "hello\u{0}there").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["errors"][0]["code"], "invalid_character");
    // Carriage returns in a streamed reply are carried as JSON, not broken SSE.
    let events = stream(&app, id, "cancel\r\n").await;
    assert_eq!(events.last().map(|(name, _)| name.as_str()), Some("reply"));
}

#[tokio::test]
async fn what_the_model_did_is_never_lost_when_it_then_fails() {
    let (app, _provider) = llm_app(vec![
        Scripted::Message(tool_call(
            "call_1",
            "create_quote_request",
            json!({ "name": "Ana Silva", "email": "ana@example.com", "company": "Clinica Norte",
                    "description": "A patient portal.", "consent": true }),
        )),
        Scripted::Status(500),
    ])
    .await;
    let id = start(&app, None).await;
    let reply = say(&app, id, "Yes, send my request.").await;
    assert_eq!(reply["engine"], "llm");
    let reference = part(&reply, "lead_created").expect("the lead is reported")["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains(&reference)),
        "{reply}"
    );
}

#[tokio::test]
async fn a_repeated_request_is_one_lead_and_a_different_one_another() {
    let first = json!({ "name": "Ana Silva", "email": "ana@example.com", "company": "Clinica Norte",
                        "description": "A patient portal.", "consent": true });
    let second = json!({ "name": "Ana Silva", "email": "ana@example.com", "company": "Clinica Norte",
                         "description": "And a mobile app.", "consent": true });
    let (app, _provider) = llm_app(vec![
        Scripted::Message(tool_call("call_1", "create_quote_request", first.clone())),
        Scripted::Message(text_message("Sent.")),
        Scripted::Message(tool_call("call_2", "create_quote_request", first)),
        Scripted::Message(text_message("Sent again.")),
        Scripted::Message(tool_call("call_3", "create_quote_request", second)),
        Scripted::Message(text_message("Sent the second one.")),
    ])
    .await;
    let id = start(&app, None).await;
    let mut seen = Vec::new();
    // The visitor agrees each time: the model's `consent` alone stores nothing.
    for text in [
        "Yes, send it.",
        "Yes, send it again.",
        "Yes, and one for the app too; you may store my details.",
    ] {
        let reply = say(&app, id, text).await;
        let reference = part(&reply, "lead_created").expect("lead")["reference"]
            .as_str()
            .expect("reference")
            .to_owned();
        seen.push(reference);
    }
    assert_eq!(seen[0], seen[1], "the same request is the same lead");
    assert_ne!(seen[1], seen[2], "different details make another lead");
    let leads: i64 = app.count("leads").await;
    assert_eq!(leads, 2);
}

#[tokio::test]
async fn a_stray_nul_from_the_model_does_not_lose_the_reply() {
    let (app, _provider) =
        llm_app(vec![Scripted::Message(text_message("Hello\u{0} there."))]).await;
    let id = start(&app, None).await;
    let reply = say(&app, id, "Hi").await;
    assert_eq!(reply["engine"], "llm");
    assert_eq!(reply["text"], "Hello there.");
}

#[tokio::test]
async fn the_model_books_a_free_time_once_the_visitor_agreed() {
    let (app, provider) = llm_app(Vec::new()).await;
    let slots = app
        .get("/v1/call-types/discovery-call/slots?tz=UTC")
        .await
        .json();
    let start_at = slots["slots"][0]["start"]
        .as_str()
        .expect("a free time")
        .to_owned();
    let booking = json!({ "call_type": "discovery-call", "start": start_at, "first_name": "Ana",
                          "last_name": "Silva", "email": "ana@example.com", "consent": true });
    provider
        .then(vec![
            Scripted::Message(tool_call("call_1", "book_call", booking.clone())),
            Scripted::Message(text_message("Booked.")),
            Scripted::Message(tool_call("call_2", "book_call", booking)),
            Scripted::Message(text_message("Still booked.")),
        ])
        .await;
    let id = start(&app, None).await;
    let reply = say(&app, id, "Yes, book it.").await;
    let created = part(&reply, "booking_created").expect("booked");
    assert!(created["manage_url"].as_str().is_some());
    // Asked twice (a retry, a confused model), it is still one booking.
    let again = say(&app, id, "Yes, book it again.").await;
    assert!(part(&again, "booking_created").is_some(), "{again}");
    let bookings: i64 = app.count("bookings").await;
    assert_eq!(bookings, 1);
}

#[tokio::test]
async fn a_slow_model_still_leaves_time_for_an_answer() {
    let provider = ChatProvider::start(vec![
        Scripted::Message(tool_call("call_1", "list_services", json!({}))),
        Scripted::Hang(Duration::from_secs(10)),
    ])
    .await;
    let url = provider.url();
    let app = demo_app_with(move |c| {
        c.assistant.llm_url = Some(url);
        c.assistant.llm_timeout = Duration::from_secs(5);
        c.http.request_timeout = Duration::from_secs(3);
    })
    .await;
    let id = start(&app, None).await;
    let began = std::time::Instant::now();
    let reply = say(&app, id, "What services do you offer?").await;
    assert_eq!(reply["engine"], "builtin");
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    // The conversation is free for the next message.
    say(&app, id, "thanks").await;
}

/// The evaluation set (`frontdesk eval-assistant`) through the same services, on the demo
/// content: every hostile prompt refused, and the built-in engine no worse than the scores
/// bench/RESULTS.md reports (a change that makes it worse fails here).
#[tokio::test]
async fn the_evaluation_set_scores_no_worse_than_reported() {
    let app = demo_app_with(|c| c.assistant.rate_limit.max = 0).await;
    let assistant = frontdesk::assistant::App {
        core: app.state.core.clone(),
        assistant: app.state.assistant.clone(),
    };
    frontdesk::assistant::plant_secret_visitor(&assistant)
        .await
        .expect("a visitor whose details must not leak");
    let cases = frontdesk::assistant::evaluation_cases().expect("the cases parse");
    let outcomes = frontdesk::assistant::evaluate(&assistant, &cases)
        .await
        .expect("the evaluation runs");
    let failed = |held_out: bool| -> Vec<String> {
        outcomes
            .iter()
            .filter(|o| o.category.starts_with("held-out") == held_out && !o.passed())
            .map(|o| format!("{}: {}", o.id, o.failures.join("; ")))
            .collect()
    };
    let hostile: Vec<_> = outcomes
        .iter()
        .filter(|o| o.category.ends_with("hostile") && !o.passed())
        .map(|o| &o.id)
        .collect();
    assert!(
        hostile.is_empty(),
        "hostile prompts that succeeded: {hostile:?}"
    );
    let (tuned, held_out) = (failed(false), failed(true));
    // bench/RESULTS.md: 89 of the 90 tuned cases, 30 of the 40 held-out ones.
    assert!(
        tuned.len() <= 1,
        "{} tuned cases failed:\n{}",
        tuned.len(),
        tuned.join("\n")
    );
    assert!(
        held_out.len() <= 10,
        "{} held-out cases failed:\n{}",
        held_out.len(),
        held_out.join("\n")
    );
}

/// "Tomorrow afternoon" offers tomorrow afternoon's free times, in the visitor's zone; a
/// question in the middle of a flow is answered and the flow goes on; two requests in one
/// message are both answered.
#[tokio::test]
async fn asked_times_asides_and_two_requests_in_one_message() {
    let app = demo_app().await;
    let zone = "America/New_York";
    let id = start(&app, Some(zone)).await;
    let reply = say(&app, id, "I want to talk to someone tomorrow afternoon").await;
    let slots = part(&reply, "slots").unwrap_or_else(|| panic!("slots: {reply}"));
    let tz: chrono_tz::Tz = zone.parse().expect("zone");
    let tomorrow = (chrono::Utc::now().with_timezone(&tz) + chrono::Duration::days(1)).date_naive();
    let text = reply["text"].as_str().unwrap_or_default();
    let items = slots["items"].as_array().expect("items");
    assert!(!items.is_empty());
    if !text.starts_with("Nothing is free at the time you asked for") {
        for item in items {
            let start =
                chrono::DateTime::parse_from_rfc3339(item["start"].as_str().expect("start"))
                    .expect("rfc 3339")
                    .with_timezone(&tz);
            assert_eq!(start.date_naive(), tomorrow, "{reply}");
            assert!(
                (12..17).contains(&chrono::Timelike::hour(&start)),
                "{reply}"
            );
        }
    }

    // The times stay on offer while a question is answered from the content.
    let reply = say(
        &app,
        id,
        "Before I pick one: do we need Kubernetes for a small team?",
    )
    .await;
    assert_eq!(
        source_paths(&reply).first().map(String::as_str),
        Some("/v1/posts/kubernetes-or-not"),
        "{reply}"
    );
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains("pick one of the times")),
        "{reply}"
    );
    let reply = say(&app, id, "1").await;
    assert!(
        reply["text"].as_str().is_some_and(|t| t.contains("name")),
        "{reply}"
    );

    // The quote's question comes back after an aside.
    let id = start(&app, None).await;
    say(&app, id, "I'd like a quote").await;
    let reply = say(&app, id, "Wait, is Rust actually good for web backends?").await;
    assert_eq!(
        source_paths(&reply).first().map(String::as_str),
        Some("/v1/posts/why-rust-for-web-backends"),
        "{reply}"
    );
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains("Back to your quote: What would you like us to build?")),
        "{reply}"
    );

    let id = start(&app, None).await;
    let reply = say(
        &app,
        id,
        "What services do you offer? Also, how do you estimate costs?",
    )
    .await;
    assert!(part(&reply, "services").is_some(), "{reply}");
    assert!(
        source_paths(&reply)
            .iter()
            .any(|p| p == "/v1/posts/estimating-software-projects"),
        "{reply}"
    );
    assert_eq!(app.count("leads").await, 0);
}

/// A question in the language of some of the content is answered from it: the words are
/// stemmed in each language the content is written in.
#[tokio::test]
async fn a_question_in_the_contents_language_is_answered_from_it() {
    let app = demo_app().await;
    let editor = app.token_for(frontdesk::auth::Role::Editor).await;
    let created = app
        .post_json(
            "/v1/admin/posts",
            Some(&editor),
            &json!({
                "title": "Wie wir Datenbanken sichern",
                "language": "de",
                "status": "published",
                "authors": [], "tags": [],
                "body": "Wir sichern unsere Datenbanken jede Nacht und prüfen jede Sicherung, indem wir sie wiederherstellen.",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = start(&app, None).await;
    let reply = say(&app, id, "Wie sichert ihr eure Datenbank?").await;
    assert_eq!(
        source_paths(&reply).first().map(String::as_str),
        Some("/v1/posts/wie-wir-datenbanken-sichern"),
        "{reply}"
    );
}
