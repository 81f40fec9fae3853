//! The `frontdesk` binary: `serve` (default), `migrate`, `admin create`, `config`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use frontdesk::Config;
use frontdesk::app;
use frontdesk::config::Entry;

mod commands;

// With `--features mimalloc`: fewer cycles per allocation than the system allocator, at the
// cost of more resident memory.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "frontdesk",
    version,
    about = "The backend of a software consultancy's website."
)]
#[command(
    after_help = "Configuration comes from environment variables; `frontdesk config` shows them."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default): creates the database if missing, migrates, serves.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage admin users.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Fill a database without content (admin users are fine) with a demo site: profile,
    /// services, authors, tags, series, posts, hosts and call types.
    SeedDemo {
        /// Total posts, 1 to 100000: up to 20 of the demo's own; above, numbered copies of
        /// its published posts are added in bulk (for benchmarks).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        posts: u32,
    },
    /// Run the assistant's evaluation set (visitor messages with what a right answer must
    /// hold) on a throwaway database with the demo content, and print scores per category.
    /// Fails when any hostile prompt succeeds.
    EvalAssistant {
        /// `builtin`, `model` (needs ASSISTANT_LLM_URL) or `both` (the default: the model
        /// too when ASSISTANT_LLM_URL is set).
        #[arg(long, default_value = "both", value_parser = ["builtin", "model", "both"])]
        engine: String,
        /// Only cases of this category, in both sets (`held-out` for all the held-out
        /// cases, `held-out content` for one of their categories).
        #[arg(long)]
        category: Option<String>,
    },
    /// Import content from another system.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Print the effective configuration, secrets redacted.
    Config {
        /// Print .env.example instead: every variable with its default.
        #[arg(long, conflicts_with = "markdown")]
        env_example: bool,
        /// Print the README's configuration table instead.
        #[arg(long)]
        markdown: bool,
    },
    /// Exit 0 if the local server answers /health/ready with 200 (a container HEALTHCHECK).
    Healthcheck,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Ghost export (Labs → Export, Ghost 4 to 6): posts, pages, tags, authors, their
    /// order, states, dates, images and SEO fields, slugs unchanged. Running it again
    /// changes nothing. Prints the report as JSON.
    Ghost {
        /// The export's JSON file.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// owner, editor or sales.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input (required: a password is
        /// never accepted as an argument, where it would show in `ps` and shell history).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Config {
        env_example,
        markdown,
    }) = &cli.command
    {
        return print_config(*env_example, *markdown);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("frontdesk: {err}");
            return ExitCode::FAILURE;
        }
    };
    frontdesk::telemetry::init_logging(config.log.format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("frontdesk: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => commands::serve(config).await,
            Command::Migrate => commands::migrate(config).await,
            Command::Admin {
                command:
                    AdminCommand::Create {
                        email,
                        role,
                        name,
                        password_stdin: _,
                    },
            } => commands::create_admin(config, &email, &role, name.as_deref()).await,
            Command::Config { .. } => Ok(()),
            Command::Import {
                command: ImportCommand::Ghost { file },
            } => commands::import_ghost(config, &file).await,
            Command::Healthcheck => commands::healthcheck(&config).await,
            Command::SeedDemo { posts } => commands::seed_demo(config, posts as usize).await,
            Command::EvalAssistant { engine, category } => {
                commands::eval_assistant(config, &engine, category.as_deref()).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("frontdesk: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `frontdesk config`: the effective values (secrets redacted), or the generated files.
fn print_config(env_example: bool, markdown: bool) -> ExitCode {
    if env_example {
        print!("{}", app::env_example());
        return ExitCode::SUCCESS;
    }
    if markdown {
        print!("{}", app::markdown_table());
        return ExitCode::SUCCESS;
    }
    match app::describe(|name| std::env::var(name).ok()) {
        Ok(entries) => {
            for entry in entries {
                match entry {
                    Entry::Section(title) => println!("\n# {title}"),
                    Entry::Var(var, value) => println!("{}={value}    # {}", var.name, var.help),
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("frontdesk: {err}");
            ExitCode::FAILURE
        }
    }
}
