//! `frontdesk seed-demo`: fills an empty database with a believable site for a fictional
//! consultancy, through the same services the API uses.

use crate::state::Core;
use chrono::{Duration, Utc};

use crate::audit::AuditActor;
use crate::blog::{self, PostInput};
use crate::blog::{AuthorInput, SeriesInput, TagInput};
use crate::catalogue::OfferingInput;
use crate::site::{
    Branding, NavigationItem, PostalAddressInput, SiteProfileInput, SocialLinkInput,
};

const POSTS: &str = include_str!("posts.md");

#[derive(Debug, Default)]
pub struct SeedReport {
    pub services: usize,
    pub authors: usize,
    pub tags: usize,
    pub series: usize,
    pub posts: usize,
    pub published: usize,
    pub call_types: usize,
    /// The demo hosts' sign-in: their emails and the password made for them.
    pub sign_in: (Vec<String>, String),
}

/// The most posts `seed-demo --posts N` makes.
pub const MAX_POSTS: usize = 100_000;

/// Seeds a database with no content yet (admin users may exist). `total_posts` (1 to
/// [`MAX_POSTS`]) up to the demo's own twenty takes that many of them; above, numbered
/// copies of the published ones are added in bulk (for benchmarks).
pub async fn seed(core: &Core, total_posts: usize) -> anyhow::Result<SeedReport> {
    anyhow::ensure!(
        (1..=MAX_POSTS).contains(&total_posts),
        "--posts must be between 1 and {MAX_POSTS}"
    );
    ensure_no_content(core).await?;
    let mut report = SeedReport::default();
    seed_site(core).await?;
    report.services = seed_services(core).await?;
    report.authors = seed_authors(core).await?;
    report.tags = seed_tags(core).await?;
    report.series = seed_series(core).await?;
    let demo = parse_posts(POSTS)?;
    let mut templates = Vec::new();
    for post in demo.iter().take(total_posts) {
        let id = create_post(core, post).await?;
        report.posts += 1;
        if post.status == "published" {
            report.published += 1;
            templates.push(id);
        }
    }
    let (call_types, sign_in) = seed_scheduling(core).await?;
    report.call_types = call_types;
    report.sign_in = sign_in;
    let copies = total_posts.saturating_sub(demo.len());
    if copies > 0 && !templates.is_empty() {
        report.posts += copy_posts(core, &templates, copies).await?;
        report.published += copies;
    }
    Ok(report)
}

/// `copies` numbered copies of the published demo posts, in turn, published an hour apart
/// going back from now, in batches of a few thousand rows.
async fn copy_posts(core: &Core, templates: &[uuid::Uuid], copies: usize) -> anyhow::Result<usize> {
    let now = Utc::now();
    let mut per_template: Vec<Vec<(uuid::Uuid, i64, chrono::DateTime<Utc>)>> =
        vec![Vec::new(); templates.len()];
    for i in 0..copies {
        let n = i64::try_from(i + 1)?;
        per_template[i % templates.len()].push((uuid::Uuid::now_v7(), n, now - Duration::hours(n)));
    }
    let mut made = 0;
    for (template, copies) in templates.iter().zip(per_template) {
        for batch in copies.chunks(5_000) {
            made += blog::copy_published(core, *template, batch)
                .await
                .map_err(err)?;
        }
    }
    Ok(usize::try_from(made)?)
}

/// Seeding needs a database without content: admin users (made with `admin create`) are
/// fine, anything the demo would add is not.
async fn ensure_no_content(core: &Core) -> anyhow::Result<()> {
    let db = &core.db;
    let existing = sqlx::query_scalar!(
        r#"select (select count(*) from posts) + (select count(*) from catalogue_services)
                + (select count(*) from site_profile) + (select count(*) from authors)
                + (select count(*) from tags) + (select count(*) from call_types)
                + (select count(*) from hosts) + (select count(*) from leads) as "count!""#
    )
    .fetch_one(db)
    .await?;
    anyhow::ensure!(
        existing == 0,
        "the database already has content; seed-demo only fills one without content (admin users are fine): use a new DATABASE_URL"
    );
    Ok(())
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("seeding failed: {e}: {e:?}")
}

async fn seed_site(core: &Core) -> anyhow::Result<()> {
    let profile = SiteProfileInput {
        firm_name: "Northwind Software".into(),
        tagline: "Software that earns its keep: web platforms, APIs and the teams behind them."
            .into(),
        contact_email: "hello@northwind.example".into(),
        phone: Some("+44 117 496 0000".into()),
        postal_address: Some(PostalAddressInput {
            street: "12 Harbour Street".into(),
            locality: "Bristol".into(),
            postal_code: "BS1 4RN".into(),
            region: None,
            country: "GB".into(),
        }),
        social_links: vec![
            SocialLinkInput {
                network: "github".into(),
                url: "https://github.com/northwind-software".into(),
            },
            SocialLinkInput {
                network: "linkedin".into(),
                url: "https://www.linkedin.com/company/northwind-software".into(),
            },
        ],
        public_url: "https://northwind.example".into(),
        branding: Branding {
            accent_color: Some("#0f766e".into()),
            navigation: vec![
                NavigationItem {
                    label: "Home".into(),
                    url: "/".into(),
                },
                NavigationItem {
                    label: "Blog".into(),
                    url: "/blog/".into(),
                },
                NavigationItem {
                    label: "About".into(),
                    url: "/about/".into(),
                },
            ],
            meta_title: Some("Northwind Software".into()),
            ..Branding::default()
        },
    }
    .validate()
    .map_err(err)?;
    crate::site::put(core, AuditActor::Cli, profile)
        .await
        .map_err(err)?;
    Ok(())
}

const SERVICES: &[(&str, &str, &str, &str)] = &[
    (
        "Web platforms",
        "code",
        "Fast, accessible websites and web applications, from first sketch to production.",
        "## What we build\n\nMarketing sites that load instantly, customer portals and internal tools.\n\n## How\n\nRust or TypeScript on the server, Postgres underneath, and a frontend your team can maintain.",
    ),
    (
        "API design and integration",
        "plug",
        "Clean, documented APIs and the integrations that connect your CRM, billing and data.",
        "## Contracts first\n\nWe design APIs with OpenAPI, problem details for errors and idempotent writes.\n\n## Integrations\n\nWebhooks, queues and the retries that make them reliable.",
    ),
    (
        "Cloud and DevOps",
        "cloud",
        "Containers, CI/CD and observability that let a small team ship every day.",
        "## Delivery\n\nPipelines that build, test and deploy on every merge.\n\n## Operations\n\nHealth checks, metrics, logs and graceful shutdowns that make on-call quiet.",
    ),
    (
        "Legacy modernisation",
        "refresh",
        "Move a ten-year-old application forward without stopping the business.",
        "## Strangle, do not rewrite\n\nWe move one capability at a time behind the same URLs, with measurements before and after.",
    ),
    (
        "AI assistants",
        "sparkles",
        "Assistants grounded in your own content that answer, quote and book calls.",
        "## Grounded\n\nAnswers come from your published content, with sources.\n\n## Useful\n\nQuotes and bookings go through the same validated paths as your forms.",
    ),
    (
        "Technical due diligence",
        "search",
        "An independent, written assessment of a codebase and the team behind it.",
        "## What you get\n\nA report on architecture, security, delivery practices and risks, with a prioritised plan.",
    ),
];

async fn seed_services(core: &Core) -> anyhow::Result<usize> {
    for (order, (title, icon, summary, body)) in SERVICES.iter().enumerate() {
        let offering = OfferingInput {
            title: (*title).into(),
            slug: None,
            summary: (*summary).into(),
            body: (*body).into(),
            icon: Some((*icon).into()),
            display_order: i32::try_from(order)?,
            published: true,
            language: None,
        }
        .validate()
        .map_err(err)?;
        crate::catalogue::create(core, AuditActor::Cli, offering)
            .await
            .map_err(err)?;
    }
    Ok(SERVICES.len())
}

async fn seed_authors(core: &Core) -> anyhow::Result<usize> {
    let authors = [
        (
            "Maya Okafor",
            "maya-okafor",
            "Founder and principal engineer. Writes Rust, reviews everything, still answers the support inbox.",
        ),
        (
            "Tomás Lindqvist",
            "tomas-lindqvist",
            "Backend and infrastructure. Happiest with a Postgres query plan and a latency histogram.",
        ),
        (
            "Priya Raman",
            "priya-raman",
            "Delivery lead. Turns vague requirements into plans that ship, and keeps estimates honest.",
        ),
    ];
    for (name, slug, bio) in authors {
        let author = AuthorInput {
            name: name.into(),
            slug: Some(slug.into()),
            bio: bio.into(),
            avatar_url: Some(format!("https://northwind.example/team/{slug}.jpg")),
            profile: blog::AuthorProfile {
                location: Some("Bristol".into()),
                ..blog::AuthorProfile::default()
            },
        }
        .validate()
        .map_err(err)?;
        blog::save_author(core, AuditActor::Cli, None, author)
            .await
            .map_err(err)?;
    }
    Ok(authors.len())
}

async fn seed_tags(core: &Core) -> anyhow::Result<usize> {
    let tags = [
        ("Rust", "rust"),
        ("Architecture", "architecture"),
        ("Tutorial", "tutorial"),
        ("APIs", "apis"),
        ("Postgres", "postgres"),
        ("DevOps", "devops"),
        ("Legacy", "legacy"),
        ("Search", "search"),
        ("Performance", "performance"),
        ("Accessibility", "accessibility"),
        ("Design", "design"),
        ("Security", "security"),
        ("Consulting", "consulting"),
        ("Testing", "testing"),
        ("AI", "ai"),
    ];
    for (name, slug) in tags {
        let tag = TagInput {
            name: name.into(),
            slug: Some(slug.into()),
            description: format!("Posts about {name}."),
            details: blog::TagDetails::default(),
        }
        .validate()
        .map_err(err)?;
        blog::save_tag(core, AuditActor::Cli, None, tag)
            .await
            .map_err(err)?;
    }
    Ok(tags.len())
}

async fn seed_series(core: &Core) -> anyhow::Result<usize> {
    let series = [
        (
            "Building a web API in Rust",
            "building-a-web-api-in-rust",
            "From an empty folder to a service in production, in three parts.",
        ),
        (
            "From monolith to modules",
            "from-monolith-to-modules",
            "Modernising a legacy application without stopping the business.",
        ),
    ];
    for (title, slug, description) in series {
        let input = SeriesInput {
            title: title.into(),
            slug: Some(slug.into()),
            description: description.into(),
        }
        .validate()
        .map_err(err)?;
        blog::save_series(core, AuditActor::Cli, None, input)
            .await
            .map_err(err)?;
    }
    Ok(series.len())
}

/// Two hosts in different zones, with working hours, and two call types they take. The
/// hosts are sales admins sharing one random password, returned to be printed once.
async fn seed_scheduling(core: &Core) -> anyhow::Result<(usize, (Vec<String>, String))> {
    let db = &core.db;
    use crate::scheduling as setup;
    use crate::scheduling::{CallTypeInput, HostInput, HoursInput, LocationSpec, Question};

    let hosts = [
        (
            "Maya Okafor",
            "maya@northwind.example",
            "Europe/London",
            vec![(1..=5, "09:00", "12:30"), (1..=5, "13:30", "17:30")],
        ),
        (
            "Tomás Lindqvist",
            "tomas@northwind.example",
            "America/New_York",
            vec![(1..=4, "10:00", "16:00")],
        ),
    ];
    let mut host_ids = Vec::new();
    let mut emails = Vec::new();
    let password = crate::tokens::new_token("demo-");
    for (name, email, zone, hours) in hosts {
        emails.push(email.to_owned());
        let admin = crate::auth::NewAdmin::validate(email, Some(name), Some("sales"), &password)
            .map_err(err)?;
        let admin = crate::auth::create_admin(db, AuditActor::Cli, admin)
            .await
            .map_err(err)?;
        let working_hours = hours
            .into_iter()
            .flat_map(|(days, start, end)| {
                days.map(move |weekday| HoursInput {
                    weekday,
                    start: start.into(),
                    end: end.into(),
                })
            })
            .collect();
        let host = HostInput {
            time_zone: zone.into(),
            working_hours,
            active: None,
            video_url: Some(format!(
                "https://meet.example.com/northwind-{}",
                host_ids.len() + 1
            )),
            phone: None,
        }
        .validate()
        .map_err(err)?;
        setup::put_host(db, AuditActor::Cli, admin.id, host)
            .await
            .map_err(err)?;
        host_ids.push(admin.id);
    }
    let call_types = [
        (
            "Discovery call",
            "discovery-call",
            "Thirty minutes to talk about your project and whether we are a fit.",
            30,
            5,
            10,
            240,
            15,
            Some(6),
        ),
        (
            "Technical deep dive",
            "technical-deep-dive",
            "An hour with an engineer on architecture, code or infrastructure.",
            60,
            15,
            15,
            24 * 60,
            30,
            Some(2),
        ),
    ];
    for (name, slug, description, duration, before, after, notice, step, cap) in call_types {
        let input = CallTypeInput {
            name: name.into(),
            slug: Some(slug.into()),
            description: description.into(),
            duration_minutes: duration,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            min_notice_minutes: Some(notice),
            horizon_days: Some(30),
            slot_step_minutes: Some(step),
            daily_cap: cap,
            host_ids: host_ids.clone(),
            active: None,
            location: Some(LocationSpec::Video { url: None }),
            questions: if slug == "technical-deep-dive" {
                vec![Question {
                    id: "topic".into(),
                    label: "What would you like to look at?".into(),
                    kind: "long_text".into(),
                    required: false,
                    options: Vec::new(),
                }]
            } else {
                Vec::new()
            },
            reminder_minutes: vec![24 * 60, 60],
        }
        .validate()
        .map_err(err)?;
        setup::save_call_type(db, AuditActor::Cli, None, input)
            .await
            .map_err(err)?;
    }
    Ok((call_types.len(), (emails, password)))
}

/// A post of posts.md.
#[derive(Debug, Clone)]
struct DemoPost {
    slug: String,
    title: String,
    authors: Vec<String>,
    tags: Vec<String>,
    series: Option<String>,
    part: Option<i32>,
    status: String,
    days_ago: i64,
    body: String,
}

/// Parses posts.md: `=== slug`, `key: value` lines, `---`, then the markdown body.
fn parse_posts(text: &str) -> anyhow::Result<Vec<DemoPost>> {
    text.split("=== ")
        .filter(|chunk| !chunk.trim().is_empty())
        .map(parse_post)
        .collect()
}

fn parse_post(chunk: &str) -> anyhow::Result<DemoPost> {
    let (head, body) = chunk
        .split_once("\n---\n")
        .ok_or_else(|| anyhow::anyhow!("a demo post has no `---` line"))?;
    let mut lines = head.lines();
    let slug = lines.next().unwrap_or_default().trim().to_owned();
    let mut post = DemoPost {
        slug,
        title: String::new(),
        authors: Vec::new(),
        tags: Vec::new(),
        series: None,
        part: None,
        status: "published".into(),
        days_ago: 0,
        body: body.trim().to_owned(),
    };
    let list = |v: &str| {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    for line in lines {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "title" => post.title = value.to_owned(),
            "authors" => post.authors = list(value),
            "tags" => post.tags = list(value),
            "series" => post.series = Some(value.to_owned()),
            "part" => post.part = Some(value.parse()?),
            "status" => post.status = value.to_owned(),
            "days_ago" => post.days_ago = value.parse()?,
            other => anyhow::bail!("unknown demo post field {other}"),
        }
    }
    Ok(post)
}

/// Creates a demo post through the same service as the API.
async fn create_post(core: &Core, post: &DemoPost) -> anyhow::Result<uuid::Uuid> {
    let db = &core.db;
    let now = Utc::now();
    let (slug, title, series, part) = (
        post.slug.clone(),
        post.title.clone(),
        post.series.clone(),
        post.part,
    );
    let scheduled_at = (post.status == "scheduled").then(|| now + Duration::days(-post.days_ago));
    let input = PostInput {
        title,
        slug: Some(slug),
        body: post.body.clone(),
        authors: post.authors.clone(),
        tags: post.tags.clone(),
        series,
        series_part: part,
        status: Some(post.status.clone()),
        scheduled_at,
        ..PostInput::default()
    }
    .validate(now)
    .map_err(err)?;
    let created = blog::create_post(core, AuditActor::Cli, blog::Kind::Post, input)
        .await
        .map_err(err)?;
    if post.status == "published" {
        // Spread publication dates so lists, feeds and the sitemap look lived-in.
        let hours = post.days_ago * 24;
        sqlx::query!(
            "update posts set published_at = $2, updated_at = $2 where id = $1",
            created.id,
            now - Duration::hours(hours)
        )
        .execute(db)
        .await?;
    }
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_posts_parse_and_are_varied() {
        let posts = parse_posts(POSTS).expect("posts.md parses");
        assert_eq!(posts.len(), 20);
        assert!(posts.iter().filter(|p| p.series.is_some()).count() >= 5);
        assert!(posts.iter().filter(|p| p.body.contains("```")).count() >= 5);
        assert!(posts.iter().all(|p| p.body.contains("\n## ")));
        assert_eq!(posts.iter().filter(|p| p.status == "draft").count(), 1);
        assert_eq!(posts.iter().filter(|p| p.status == "scheduled").count(), 1);
    }
}
