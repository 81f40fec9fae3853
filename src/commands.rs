//! What each subcommand does.

use std::io::BufRead;

use anyhow::Context;
use frontdesk::Config;
use frontdesk::audit::AuditActor;
use frontdesk::auth::NewAdmin;
use frontdesk::error::AppError;
use frontdesk::{AppState, db};

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let dbs = db::connect(&config.database).await?;
    if config.database.migrate_on_start {
        db::migrate(&dbs.direct, &config.database).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.http.listen_addr)
        .await
        .with_context(|| format!("cannot listen on LISTEN_ADDR={}", config.http.listen_addr))?;
    tracing::info!(addr = %config.http.listen_addr, "frontdesk is listening");
    let metrics_listener = match config.http.metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on METRICS_ADDR={addr}"))?,
        ),
        None => None,
    };
    let (primary, direct) = (dbs.primary.clone(), dbs.direct.clone());
    let state = AppState::with_databases(dbs, config).await?;
    state.start_background()?;
    if let Some(listener) = metrics_listener {
        tracing::info!(addr = %listener.local_addr()?, "metrics are served at /metrics");
        tokio::spawn(frontdesk::serve_metrics(listener, state.clone()));
    }
    frontdesk::serve(listener, state, frontdesk::shutdown_signal()).await?;
    primary.close().await;
    direct.close().await;
    tracing::info!("stopped");
    Ok(())
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let dbs = db::connect(&config.database).await?;
    db::migrate(&dbs.direct, &config.database).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn create_admin(
    config: Config,
    email: &str,
    role: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let password = read_password_line()?;
    let new = NewAdmin::validate(email, name, Some(role), &password).map_err(describe)?;
    let dbs = db::connect(&config.database).await?;
    db::migrate(&dbs.direct, &config.database).await?;
    let user = frontdesk::auth::create_admin(&dbs.primary, AuditActor::Cli, new)
        .await
        .map_err(describe)?;
    println!(
        "created admin {} ({}) with id {}",
        user.email,
        user.role.as_str(),
        user.id
    );
    Ok(())
}

pub async fn seed_demo(config: Config, posts: usize) -> anyhow::Result<()> {
    let dbs = db::connect(&config.database).await?;
    db::migrate(&dbs.direct, &config.database).await?;
    let state = AppState::with_databases(dbs, config).await?;
    let started = std::time::Instant::now();
    let report = frontdesk::demo::seed(&state.core, posts).await?;
    println!(
        "seeded the demo site in {:.1} s: the site profile, {} services, {} authors, {} tags, {} series, {} posts ({} published), 2 hosts and {} call types",
        started.elapsed().as_secs_f64(),
        report.services,
        report.authors,
        report.tags,
        report.series,
        report.posts,
        report.published,
        report.call_types
    );
    let (emails, password) = &report.sign_in;
    println!(
        "demo hosts (sales admins) sign in with POST /v1/auth/login as {} and the password {password} (shown once)",
        emails.join(" or ")
    );
    Ok(())
}

/// `frontdesk import ghost FILE`: imports a Ghost export and prints the report.
pub async fn import_ghost(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let export: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
    let dbs = db::connect(&config.database).await?;
    db::migrate(&dbs.direct, &config.database).await?;
    let state = AppState::with_databases(dbs, config).await?;
    let report = frontdesk::blog::import_ghost(&state.core, AuditActor::Cli, &export)
        .await
        .map_err(|e| anyhow::anyhow!("the import failed: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Asks the server on LISTEN_ADDR whether it is ready; the image has no curl.
pub async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let mut addr = config.http.listen_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/health/ready");
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Turns a service error into a message for the terminal.
fn describe(err: AppError) -> anyhow::Error {
    match err {
        AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The assistant's evaluation, on a database made for it and dropped after.
pub async fn eval_assistant(
    config: Config,
    engine: &str,
    category: Option<&str>,
) -> anyhow::Result<()> {
    let mut engines = Vec::new();
    if engine != "model" {
        engines.push(("builtin", None));
    }
    if engine != "builtin" {
        match &config.assistant.llm_url {
            Some(url) => engines.push(("model", Some(url.clone()))),
            None if engine == "model" => anyhow::bail!("--engine model needs ASSISTANT_LLM_URL"),
            None => {}
        }
    }
    let cases: Vec<_> = frontdesk::assistant::evaluation_cases()?
        .into_iter()
        .filter(|c| {
            // `hostile` is also the held-out set's hostile cases; `held-out` all of that set.
            category.is_none_or(|wanted| {
                c.category == wanted
                    || c.category == format!("held-out {wanted}")
                    || (wanted == "held-out" && c.category.starts_with("held-out"))
            })
        })
        .collect();
    anyhow::ensure!(!cases.is_empty(), "no case of category {category:?}");

    let name = format!("frontdesk_eval_{}", uuid::Uuid::new_v4().simple());
    let server = db::server_pool(&config.database).await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&server)
        .await
        .context("creating the evaluation's database")?;
    let outcome = evaluate_on(&config, &name, &engines, &cases).await;
    if let Err(err) = sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&server)
        .await
    {
        eprintln!("could not drop the evaluation's database {name}: {err}");
    }
    outcome
}

async fn evaluate_on(
    config: &Config,
    database: &str,
    engines: &[(&str, Option<String>)],
    cases: &[frontdesk::assistant::Case],
) -> anyhow::Result<()> {
    let pool = db::database_pool(&config.database, database).await?;
    db::migrate(&pool, &config.database).await?;
    let seeded = AppState::new(pool.clone(), config.clone()).await?;
    frontdesk::demo::seed(&seeded.core, 20).await?;
    let app = frontdesk::assistant::App {
        core: seeded.core.clone(),
        assistant: seeded.assistant.clone(),
    };
    frontdesk::assistant::plant_secret_visitor(&app).await?;

    let mut hostile_failed = 0;
    let mut rows = Vec::new();
    for (label, url) in engines {
        let mut engine_config = config.clone();
        // The evaluation is one visitor asking many questions: no per-address limits.
        engine_config.assistant.rate_limit.max = 0;
        engine_config.assistant.llm_url = url.clone();
        let state = AppState::new(pool.clone(), engine_config).await?;
        let app = frontdesk::assistant::App {
            core: state.core.clone(),
            assistant: state.assistant.clone(),
        };
        let started = std::time::Instant::now();
        let outcomes = frontdesk::assistant::evaluate(&app, cases).await?;
        let took = started.elapsed();
        println!(
            "\n{label} engine: {} cases in {:.1} s",
            outcomes.len(),
            took.as_secs_f64()
        );
        for outcome in outcomes.iter().filter(|o| !o.passed()) {
            println!(
                "  FAIL {} [{}] ({}): {}",
                outcome.id,
                outcome.category,
                outcome.engine,
                outcome.failures.join("; ")
            );
        }
        let answered_by_model = outcomes.iter().filter(|o| o.engine == "llm").count();
        if url.is_some() {
            println!(
                "  the model gave the last reply in {answered_by_model} of {} cases (the built-in engine the rest)",
                outcomes.len()
            );
        }
        hostile_failed += outcomes
            .iter()
            .filter(|o| o.category.ends_with("hostile") && !o.passed())
            .count();
        rows.push((label.to_string(), frontdesk::assistant::scores(&outcomes)));
    }

    println!(
        "\n| category | {} |",
        rows.iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("| --- |{}", " ---: |".repeat(rows.len()));
    let categories: std::collections::BTreeSet<String> = rows
        .iter()
        .flat_map(|(_, (per, _))| per.keys().cloned())
        .collect();
    for category in &categories {
        let cells: Vec<String> = rows
            .iter()
            .map(|(_, (per, _))| {
                per.get(category)
                    .map_or_else(|| "-".to_owned(), |(p, t)| format!("{p}/{t}"))
            })
            .collect();
        println!("| {category} | {} |", cells.join(" | "));
    }
    let totals: Vec<String> = rows
        .iter()
        .map(|(_, (_, (p, t)))| {
            format!(
                "**{p}/{t}** ({:.0}%)",
                100.0 * *p as f64 / (*t).max(1) as f64
            )
        })
        .collect();
    println!("| all | {} |", totals.join(" | "));
    anyhow::ensure!(
        hostile_failed == 0,
        "{hostile_failed} hostile prompt(s) succeeded"
    );
    Ok(())
}
