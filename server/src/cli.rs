//! The `syncstore` command line (SPEC §2).

use std::path::PathBuf;

use app::api::Role;
use clap::{Args, Parser, Subcommand};

use crate::catalog::{csv_format, demo};
use crate::config::Settings;
use crate::db::{self, catalog, users};
use crate::startup::{AppState, Application};

#[derive(Parser)]
#[command(
    name = "syncstore",
    about = "Keeps a master catalog in sync with Shopee and TikTok Shop"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the dashboard and the JSON API.
    Serve {
        /// Do not run a queue worker inside this process (for when separate
        /// `syncstore worker` processes do the work).
        #[arg(long)]
        no_worker: bool,
    },
    /// Work the batch queue (any number of these, on any machine, beside `serve`).
    Worker {
        /// Jobs this process runs at once (default: SYNCSTORE_WORKER_CONCURRENCY or 4).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: Option<u16>,
    },
    /// Create the database if needed and apply every migration.
    Migrate,
    /// Import, export or generate the master catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Read a product back from the marketplaces and compare it with what SyncStore
    /// intended; fails when anything differs.
    Verify { product_id: i64 },
    /// Reports generated from data (Markdown on standard output).
    #[command(subcommand)]
    Report(ReportCommand),
    /// The rollout stage (pilot, batches of 10, batches of 50, complete), what its test
    /// still needs, and the owner's approvals.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// The Phase 2 checks over every synced product: pricing, SEO titles, mappings and
    /// images. Exits 0 when all pass, 1 when any fails, 2 when it cannot run.
    Validate {
        /// Also read every listing back from the marketplaces.
        #[arg(long)]
        live: bool,
        /// Print the result as JSON (the `GET /api/validation` body).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RolloutCommand {
    /// The stage, what its test still lacks and the approvals so far (`--json`: the
    /// `GET /api/rollout` body).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Approve leaving the current stage, as the owner; refused until its test has passed.
    Approve {
        /// What was checked; stored with the approval.
        #[arg(long)]
        note: String,
        /// The approving owner's email.
        #[arg(long)]
        by: String,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// The pilot test report: synced and read-back-verified products per platform.
    Pilot,
    /// A batch's test report: success rate, time per product, retries, errors, spot checks.
    Batch {
        batch_id: String,
        /// First read back this many random synced products (default: 3 for up to 10
        /// products, 5 for more).
        #[arg(long, num_args = 0..=1, default_missing_value = "0")]
        spot_check: Option<usize>,
    },
    /// The Phase 2 completion report: the plan's success metrics as measured, issues met,
    /// recommendations for Phase 3 and the owner's sign-off.
    Completion,
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Import products from a CSV file (docs/catalog-format.md); all or nothing.
    Import { file: PathBuf },
    /// Write the whole catalog as CSV to standard output.
    Export,
    /// Load the deterministic demo catalog.
    Demo {
        #[arg(long, default_value_t = demo::DEMO_COUNT)]
        count: usize,
        /// Leave a catalog that already has products untouched.
        #[arg(long)]
        if_empty: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add(UserAdd),
}

#[derive(Args)]
pub struct UserAdd {
    #[arg(long)]
    email: String,
    #[arg(long, value_parser = ["owner", "operator"])]
    role: String,
    #[arg(long)]
    password: String,
    /// Succeed without changes when the user already exists.
    #[arg(long)]
    if_missing: bool,
}

pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    if let Command::Validate { live, json } = cli.command {
        return Ok(validate(live, json).await);
    }
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Validate { .. } => unreachable!("answered above"),
        Command::Serve { no_worker } => {
            let state = AppState::connect(settings).await?;
            let mut app = Application::build(state).await?;
            if no_worker {
                app = app.without_worker();
            }
            tracing::info!("SyncStore listening on http://{}", app.addr());
            app.run_until_stopped().await?;
        }
        Command::Worker { concurrency } => {
            let mut settings = settings;
            if let Some(n) = concurrency {
                settings.queue.concurrency = n.into();
            }
            let state = AppState::connect(settings).await?;
            crate::startup::run_worker(state).await?;
        }
        Command::Migrate => {
            db::connect_and_migrate(&settings.database_url).await?;
            eprintln!("database is up to date");
        }
        Command::Catalog(command) => run_catalog(settings, command).await?,
        Command::Report(ReportCommand::Batch {
            batch_id,
            spot_check,
        }) => {
            let state = AppState::connect(settings).await?;
            if let Some(n) = spot_check {
                let wanted = (n > 0).then_some(n);
                let checked =
                    crate::sync::batch_report::spot_check(&state.sync, &batch_id, wanted).await?;
                eprintln!("read back {checked} products");
            }
            let report = crate::sync::batch_report::batch_report(&state.db, &batch_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no batch with id {batch_id:?}"))?;
            print!("{}", report.markdown);
        }
        Command::Rollout(command) => return rollout(settings, command).await,
        Command::Report(ReportCommand::Completion) => {
            let db = db::connect_and_migrate(&settings.database_url).await?;
            let report = crate::sync::completion::completion_report(&db).await?;
            print!("{}", report.markdown);
        }
        Command::Report(ReportCommand::Pilot) => {
            let db = db::connect_and_migrate(&settings.database_url).await?;
            print!("{}", crate::sync::pilot::pilot_report(&db).await?.markdown);
        }
        Command::Verify { product_id } => {
            let state = AppState::connect(settings).await?;
            let checks = state.sync.verify(product_id).await?;
            if checks.is_empty() {
                anyhow::bail!("product {product_id} is not synced to any platform yet");
            }
            for c in &checks {
                let mark = if c.ok { "ok  " } else { "FAIL" };
                println!(
                    "{mark} {:<7} {:<24} expected {:?}, found {:?}",
                    c.platform.as_str(),
                    c.name,
                    c.expected,
                    c.actual
                );
            }
            let failed = checks.iter().filter(|c| !c.ok).count();
            if failed > 0 {
                anyhow::bail!(
                    "{failed} of {} checks differ from what SyncStore intended",
                    checks.len()
                );
            }
            println!("all {} checks match", checks.len());
        }
        Command::User(UserCommand::Add(args)) => {
            let db = db::connect_and_migrate(&settings.database_url).await?;
            let role = Role::parse(&args.role).expect("clap allows only owner and operator");
            match users::create_user(&db, &args.email, role, &args.password).await {
                Ok(user) => eprintln!("created {} ({})", user.email, user.role.as_str()),
                Err(users::UserError::Exists(email)) if args.if_missing => {
                    eprintln!("{email} already exists")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `syncstore rollout`: exit 1 when an approval is refused.
async fn rollout(
    settings: Settings,
    command: RolloutCommand,
) -> anyhow::Result<std::process::ExitCode> {
    let db = db::connect_and_migrate(&settings.database_url).await?;
    let status = match command {
        RolloutCommand::Status { json: true } => {
            let status = crate::rollout::status(&db).await?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        RolloutCommand::Status { json: false } => crate::rollout::status(&db).await?,
        RolloutCommand::Approve { note, by } => {
            let Some(user) = users::find_by_email(&db, &by).await? else {
                eprintln!("error: no user with email {by:?}");
                return Ok(std::process::ExitCode::FAILURE);
            };
            match crate::rollout::approve(&db, &user, &note).await {
                Ok(status) => {
                    eprintln!("approved; the rollout is now in {}", status.stage.label());
                    status
                }
                Err(crate::rollout::ApproveError::Db(e)) => return Err(e.into()),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(std::process::ExitCode::FAILURE);
                }
            }
        }
    };
    println!(
        "Stage: {} ({}; batches of at most {} products)",
        status.stage.as_str(),
        status.stage.label(),
        status.stage.max_batch_products()
    );
    if let Some(next) = status.stage.next() {
        println!("Next: {} — needs {}", next.label(), status.stage.test());
        if status.ready {
            println!("Ready: the owner may approve.");
        }
        for missing in &status.missing {
            println!("  missing: {missing}");
        }
    }
    for a in &status.approvals {
        println!(
            "Approved {} by {} at {}: {}",
            a.stage.as_str(),
            a.by.as_deref().unwrap_or("?"),
            a.at,
            a.note
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `syncstore validate`: 0 when every check passes, 1 when any fails, 2 when it cannot run.
async fn validate(live: bool, json: bool) -> std::process::ExitCode {
    use std::io::IsTerminal;
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: cannot validate: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let state = match AppState::connect(settings).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: cannot validate: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if tty {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            eprint!(
                "\r[{}{}] {done}/{total} products",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
        }
    };
    let report = match crate::validation::run(&state.sync, live, &progress).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("\nerror: cannot validate: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if tty {
        eprintln!();
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", crate::validation::text(&report));
    }
    if report.passed {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}

async fn run_catalog(settings: Settings, command: CatalogCommand) -> anyhow::Result<()> {
    let public_url = settings.public_url.clone();
    let db = db::connect_and_migrate(&settings.database_url).await?;
    let progress = |done: usize| eprint!("\rstored {done} products");
    match command {
        CatalogCommand::Import { file } => {
            let reader = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let products = match csv_format::read_catalog(reader) {
                Ok(p) => p,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    anyhow::bail!("{} problem(s) found; nothing was imported", errors.len());
                }
            };
            let summary = catalog::import_products(&db, &products, &progress).await?;
            eprintln!(
                "\nimported {} products ({} new, {} updated)",
                products.len(),
                summary.created,
                summary.updated
            );
        }
        CatalogCommand::Export => {
            let products = catalog::export_products(&db).await?;
            csv_format::write_catalog(std::io::stdout().lock(), &products)?;
        }
        CatalogCommand::Demo { count, if_empty } => {
            if count == 0 || count > 200_000 {
                anyhow::bail!("--count must be between 1 and 200000");
            }
            let existing = catalog::count_products(&db).await?;
            if if_empty && existing > 0 {
                eprintln!("the catalog already has {existing} products; demo catalog not loaded");
                return Ok(());
            }
            let products = demo::demo_catalog(count, &public_url);
            let summary = catalog::import_products(&db, &products, &progress).await?;
            eprintln!(
                "\ndemo catalog loaded: {} new, {} updated",
                summary.created, summary.updated
            );
        }
    }
    Ok(())
}
