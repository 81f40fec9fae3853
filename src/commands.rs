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
