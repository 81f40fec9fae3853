//! The layout's rules, checked on the source itself: shared plumbing knows no capability,
//! capabilities depend on each other without a loop, handlers hold no SQL, services import
//! no axum, and a capability's internals are private outside its folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules every capability may use; none of them may use a capability.
const PLUMBING: &[&str] = &[
    "audit",
    "cache",
    "config",
    "db",
    "error",
    "http",
    "idempotency",
    "jobs",
    "memory",
    "outbound",
    "pagination",
    "personal_data",
    "rate_limit",
    "sealed",
    "signing",
    "spreadsheet",
    "state",
    "telemetry",
    "tokens",
    "validation",
];

/// Where the pieces are put together: they may use anything, and nothing uses them.
const COMPOSITION: &[&str] = &["app", "lib", "main", "commands", "demo"];

/// Macros exported at the crate root (`crate::var!`), not modules.
const MACROS: &[&str] = &["var", "secret"];

struct Source {
    path: PathBuf,
    /// The top-level module the file belongs to (`blog` for src/blog/posts/service.rs).
    module: String,
    /// The text without comments.
    code: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).expect("under src");
                let first = relative
                    .components()
                    .next()
                    .expect("a component")
                    .as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned();
                let text = std::fs::read_to_string(&path).expect("read source");
                files.push(Source {
                    path: relative.to_path_buf(),
                    module: first,
                    code: without_comments(&text),
                });
            }
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
}

/// Drops `//` comments (doc comments included), so prose naming a module is not a use.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // Not inside a string such as "http://…": good enough for this codebase,
            // whose strings with `//` are URLs preceded by a colon.
            Some(at) if !line[..at].ends_with(':') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file names through `crate::`.
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first segment of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if item_start && !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found.retain(|m| !MACROS.contains(&m.as_str()) && m != "self");
    found
}

#[test]
fn plumbing_knows_no_capability() {
    let mut wrong = Vec::new();
    for source in sources() {
        if !PLUMBING.contains(&source.module.as_str()) {
            continue;
        }
        for used in uses(&source.code) {
            if !PLUMBING.contains(&used.as_str()) {
                wrong.push(format!("{} uses crate::{used}", source.path.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "plumbing importing capabilities: {wrong:#?}"
    );
}

#[test]
fn nothing_but_the_entry_points_uses_the_composition_root() {
    let mut wrong = Vec::new();
    for source in sources() {
        if COMPOSITION.contains(&source.module.as_str()) {
            continue;
        }
        for used in uses(&source.code) {
            if COMPOSITION.contains(&used.as_str()) {
                wrong.push(format!("{} uses crate::{used}", source.path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn capabilities_depend_on_each_other_without_a_loop() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources() {
        let module = source.module.clone();
        if PLUMBING.contains(&module.as_str()) || COMPOSITION.contains(&module.as_str()) {
            continue;
        }
        let entry = graph.entry(module.clone()).or_default();
        for used in uses(&source.code) {
            if used != module
                && !PLUMBING.contains(&used.as_str())
                && !COMPOSITION.contains(&used.as_str())
            {
                entry.insert(used);
            }
        }
    }
    assert!(graph.len() >= 10, "capabilities found: {graph:?}");
    // Depth-first search; a node met again while on the stack closes a loop.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!(
                "capabilities import each other in a loop: {}",
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn handlers_hold_no_sql_or_validation_and_services_no_axum() {
    let mut wrong = Vec::new();
    for source in sources() {
        let module = source.module.as_str();
        if PLUMBING.contains(&module) || COMPOSITION.contains(&module) {
            continue;
        }
        let code = &source.code;
        let is_handler = code.contains("#[utoipa::path");
        let has_sql = [
            "sqlx::query",
            "query!(",
            "query_as!(",
            "query_scalar!(",
            ".begin()",
        ]
        .iter()
        .any(|s| code.contains(s));
        if is_handler && has_sql {
            wrong.push(format!(
                "{}: a handler file with SQL",
                source.path.display()
            ));
        }
        if is_handler && code.contains("Validator") {
            wrong.push(format!(
                "{}: a handler file validating (that belongs to the request type)",
                source.path.display()
            ));
        }
        if has_sql && code.contains("axum") {
            wrong.push(format!("{}: SQL next to axum", source.path.display()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn capability_internals_are_private_outside_their_folder() {
    let mut wrong = Vec::new();
    for source in sources() {
        let module = source.module.as_str();
        if PLUMBING.contains(&module) || COMPOSITION.contains(&module) {
            continue;
        }
        for line in source.code.lines() {
            let line = line.trim_start();
            if line.starts_with("pub mod ") && line.ends_with(';') {
                wrong.push(format!("{}: {line}", source.path.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "capabilities export modules instead of re-exporting their API: {wrong:#?}"
    );
}

#[test]
fn the_reader_of_uses_finds_grouped_and_plain_paths() {
    let found = uses("use crate::{a::b, c::{d, e}, f};\nlet x = crate::g::h();\ncrate::var!(x)");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["a", "c", "f", "g"]);
}

/// Which module owns each table. A new table must be added here, so its owner is decided.
const TABLES: &[(&str, &str)] = &[
    ("admin_users", "auth"),
    ("api_tokens", "auth"),
    ("auth_sessions", "auth"),
    ("login_failures", "auth"),
    ("app_secrets", "signing"),
    ("assistant_conversations", "assistant"),
    ("assistant_messages", "assistant"),
    ("audit_log", "audit"),
    ("authors", "blog"),
    ("post_authors", "blog"),
    ("post_revisions", "blog"),
    ("post_share_counts", "blog"),
    ("post_slug_redirects", "blog"),
    ("post_tags", "blog"),
    ("posts", "blog"),
    ("content_api_keys", "blog"),
    ("ghost_imports", "blog"),
    ("series", "blog"),
    ("tags", "blog"),
    ("booking_calendar_events", "scheduling"),
    ("booking_reminders", "scheduling"),
    ("bookings", "scheduling"),
    ("call_type_hosts", "scheduling"),
    ("call_types", "scheduling"),
    ("host_busy", "scheduling"),
    ("host_calendars", "scheduling"),
    ("host_date_overrides", "scheduling"),
    ("host_working_hours", "scheduling"),
    ("hosts", "scheduling"),
    ("catalogue_services", "catalogue"),
    ("idempotency_keys", "idempotency"),
    ("lead_events", "leads"),
    ("leads", "leads"),
    ("newsletter_subscribers", "newsletter"),
    ("newsletter_issues", "newsletter"),
    ("newsletter_deliveries", "newsletter"),
    ("outbox_jobs", "jobs"),
    ("privacy_erasures", "privacy"),
    ("rate_limit_counters", "rate_limit"),
    ("site_profile", "site"),
    ("webhook_deliveries", "webhooks"),
    ("webhook_endpoints", "webhooks"),
];

/// Statements that write another module's table on purpose, each for a reason.
const ALLOWED: &[(&str, &str)] = &[
    // Lead capture is one statement (lead, event and its jobs), with the job columns from
    // `jobs::NewJobs::columns_for`: a lead and its notifications commit together.
    ("leads/service.rs", "outbox_jobs"),
];

fn tables_in_migrations() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut tables = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("migrations") {
        let sql = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        let words: Vec<String> = sql.split_whitespace().map(str::to_lowercase).collect();
        for (at, pair) in words.windows(2).enumerate() {
            if pair[0] == "create" && pair[1] == "table" {
                // `create table [if not exists] name (`
                let name = match words.get(at + 2).map(String::as_str) {
                    Some("if") => words.get(at + 5),
                    _ => words.get(at + 2),
                };
                if let Some(name) = name {
                    tables.insert(name.trim_end_matches('(').to_owned());
                }
            }
        }
    }
    tables
}

#[test]
fn every_table_has_an_owner() {
    let owned: BTreeSet<String> = TABLES.iter().map(|(t, _)| (*t).to_owned()).collect();
    let created = tables_in_migrations();
    assert!(created.len() >= 30, "tables found: {created:?}");
    let unowned: Vec<_> = created.difference(&owned).collect();
    assert!(
        unowned.is_empty(),
        "tables without an owner in TABLES: {unowned:?}"
    );
}

#[test]
fn modules_use_only_their_own_tables() {
    const KEYWORDS: &[&str] = &["from", "join", "into", "update", "table"];
    let mut wrong = Vec::new();
    for source in sources() {
        // The composition side (seed-demo) may look at every table.
        if COMPOSITION.contains(&source.module.as_str()) {
            continue;
        }
        let file = source.path.to_string_lossy().replace('\\', "/");
        let words: Vec<String> = source
            .code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for pair in words.windows(2) {
            if !KEYWORDS.contains(&pair[0].as_str()) {
                continue;
            }
            let Some((table, owner)) = TABLES.iter().find(|(t, _)| *t == pair[1]) else {
                continue;
            };
            if *owner != source.module && !ALLOWED.contains(&(file.as_str(), table)) {
                wrong.push(format!("{file} uses {table} (owned by {owner})"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "modules reading or writing another's tables (use its functions or a read model view): {wrong:#?}"
    );
}
