//! Running as one of many: the job lease, the pooler mode, the read replica and the cache
//! listener's self-check, on the machine's Postgres. (Through real PgBouncer, nginx and a
//! streaming replica: deploy/fleet-test, run by .ci/run.)

use std::time::Duration;

use axum::http::{Method, StatusCode};
use frontdesk::config::Pooler;
use frontdesk::db::{Databases, Db};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;

use crate::fixtures::{unused_addr, wait_until, wait_within};
use crate::helpers::{TestApp, server_options};
use crate::leads::consultation;

#[tokio::test]
async fn a_job_whose_worker_died_is_delivered_again_once_its_lease_lapses() {
    let app = TestApp::spawn_with(|c| {
        c.outbox.poll = Duration::from_millis(50);
        c.outbox.lease = Duration::from_secs(1);
    })
    .await;
    for _ in 0..2 {
        let created = app
            .post_json("/v1/consultations", None, &consultation())
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    }
    wait_until("the leads' emails to be sent", || async {
        app.count("outbox_jobs where status = 'done'").await >= 2
    })
    .await;
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("select id from outbox_jobs where status = 'done' order by id limit 2")
            .fetch_all(&app.db)
            .await
            .expect("jobs");
    // One claimed by a worker that died a moment ago (its lease runs out in a second), one
    // by a worker still alive (its lease has an hour to go).
    for (id, lease) in [(ids[0], "1 second"), (ids[1], "1 hour")] {
        sqlx::query(&format!(
            "update outbox_jobs set status = 'running', done_at = null,
                    locked_until = now() + interval '{lease}' where id = $1"
        ))
        .bind(id)
        .execute(&app.db)
        .await
        .expect("claim");
    }
    wait_within(
        "the dead worker's job to be delivered again",
        Duration::from_secs(4),
        || async {
            app.count(&format!(
                "outbox_jobs where id = '{}' and status = 'done'",
                ids[0]
            ))
            .await
                == 1
        },
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "outbox_jobs where id = '{}' and status = 'running'",
            ids[1]
        ))
        .await,
        1,
        "a live claim is left to its worker"
    );
}

#[tokio::test]
async fn pooler_mode_keeps_every_statement_in_a_transaction_of_its_own() {
    let app = TestApp::spawn().await;
    let mut config = (*app.state.config).clone();
    config.database.url = secrecy::SecretString::from(app.database_url());
    config.database.direct_url = Some(secrecy::SecretString::from(app.database_url()));
    config.database.pooler = Pooler::Transaction;
    let dbs = frontdesk::db::connect(&config.database)
        .await
        .expect("connect as behind a pooler");
    assert!(dbs.primary.is_pooled());
    let pooled = app.replica_over(dbs).await;
    let owner = app.owner_token().await;

    // Writes in units of work, single statements, reads of several statements, and
    // idempotent public writes all work through the pooled path.
    let service = pooled
        .send(
            Method::POST,
            "/v1/admin/services",
            Some(&owner),
            Some(&json!({ "title": "Pooled", "summary": "Made behind a pooler.", "published": true })),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.text());
    let listed = pooled.get("/v1/services").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.text().contains("Pooled"), "{}", listed.text());
    for _ in 0..2 {
        let lead = pooled
            .send(
                Method::POST,
                "/v1/consultations",
                None,
                Some(&consultation()),
            )
            .await;
        assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.text());
    }
    assert_eq!(app.count("leads").await, 2);
    let leads = pooled
        .send(Method::GET, "/v1/admin/leads", Some(&owner), None)
        .await;
    assert_eq!(leads.status, StatusCode::OK, "{}", leads.text());
}

#[tokio::test]
async fn pooled_statements_are_unnamed_so_no_server_connection_keeps_them() {
    let app = TestApp::spawn().await;
    // One connection, as a pooler would hand out, with the options pooler mode uses.
    let options = server_options()
        .database(&app.db_name)
        .statement_cache_capacity(0)
        .extra_float_digits(None);
    let named_after = |pooled: bool| {
        let options = options.clone();
        async move {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("pool");
            let db = Db::new(pool.clone(), pooled);
            for i in 0..3 {
                let n: i32 = sqlx::query_scalar("select $1::int + 1")
                    .bind(i)
                    .fetch_one(&db)
                    .await
                    .expect("statement");
                assert_eq!(n, i + 1);
            }
            let mut conn = pool.acquire().await.expect("the one connection");
            // A simple query, which prepares nothing itself.
            let row = sqlx::Executor::fetch_one(
                &mut *conn,
                "select count(*)::int8 from pg_prepared_statements",
            )
            .await
            .expect("statements");
            sqlx::Row::get::<i64, _>(&row, 0)
        }
    };
    assert_eq!(named_after(true).await, 0, "pooled: nothing left named");
    assert!(
        named_after(false).await >= 3,
        "without the pooler mode sqlx names its statements (what collides behind PgBouncer)"
    );
}

#[tokio::test]
async fn a_read_replica_that_is_down_is_bypassed_and_reported() {
    let app = TestApp::spawn().await;
    let gone = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy_with(server_options().port(unused_addr().port()));
    let dbs = Databases {
        primary: Db::direct(app.db.clone()),
        direct: app.db.clone(),
        read: Some(Db::direct(gone)),
    };
    let replica = app.replica_over(dbs).await;
    let metrics = frontdesk::ops::metrics_router(replica.state.core.clone());
    wait_until("the replica to be reported down", || async {
        let request = axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .expect("request");
        crate::helpers::send_to(metrics.clone(), request)
            .await
            .text()
            .contains("frontdesk_db_replica_up 0")
    })
    .await;
    for path in ["/v1/services", "/v1/posts", "/v1/search?q=rust"] {
        let response = replica.get(path).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{path}: {}",
            response.text()
        );
    }
}

#[tokio::test]
async fn public_reads_go_to_a_replica_that_has_caught_up() {
    let app = TestApp::spawn().await;
    let read = PgPoolOptions::new().max_connections(2).connect_lazy_with(
        server_options()
            .database(&app.db_name)
            .application_name("frontdesk-read-test"),
    );
    let dbs = Databases {
        primary: Db::direct(app.db.clone()),
        direct: app.db.clone(),
        read: Some(Db::direct(read.clone())),
    };
    let replica = app.replica_over(dbs).await;
    let core = replica.state.core.clone();
    wait_until("the replica to serve reads", || async {
        core.replica.as_ref().is_some_and(|r| r.usable()) && core.cache.is_listening()
    })
    .await;
    let owner = app.owner_token().await;
    let created = replica
        .send(
            Method::POST,
            "/v1/admin/services",
            Some(&owner),
            Some(&json!({ "title": "Fresh", "summary": "Just written.", "published": true })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    // Right after the write, the read is fresh (the barrier holds reads on the primary
    // until the replica has replayed the write) ...
    assert!(replica.get("/v1/services").await.text().contains("Fresh"));
    // ... and once it has, public reads come from the replica's pool: a search no one
    // made before (not cached) reads the content (to index it, or to search it) or stems
    // its word on a connection of the replica's pool.
    let attempt = std::sync::atomic::AtomicUsize::new(0);
    wait_until("a public read on the replica's pool", || {
        let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = format!("/v1/search?q=fresh{n}");
        let replica = &replica;
        let db = &app.db;
        async move {
            assert_eq!(replica.get(&path).await.status, StatusCode::OK);
            let seen: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
                 where application_name = 'frontdesk-read-test'
                   and (query like '%published_services%' or query like '%to_tsvector%')",
            )
            .fetch_one(db)
            .await
            .expect("activity");
            seen > 0
        }
    })
    .await;
}

#[tokio::test]
async fn a_listener_that_cannot_hear_its_probe_never_caches() {
    let app = TestApp::spawn().await;
    // LISTEN on another database: like LISTEN through a transaction pooler, it hears
    // nothing that is sent through the pool.
    let elsewhere = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(server_options().database("postgres"));
    let dbs = Databases {
        primary: Db::direct(app.db.clone()),
        direct: elsewhere,
        read: None,
    };
    let deaf = app.replica_over(dbs).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!deaf.state.core.cache.is_listening());
    assert!(app.state.core.cache.is_listening());
    // It still answers, from the database every time: a change made through another
    // replica is seen at once.
    let before = deaf.get("/v1/services").await.json();
    let owner = app.owner_token().await;
    let created = app
        .post_json(
            "/v1/admin/services",
            Some(&owner),
            &json!({ "title": "Seen", "summary": "At once.", "published": true }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let after = deaf.get("/v1/services").await;
    assert_ne!(before, after.json());
    assert!(after.text().contains("Seen"));
}
