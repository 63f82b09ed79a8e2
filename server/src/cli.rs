//! The command line: `serve`, and operator commands that work on the database directly so that a
//! deployment can be bootstrapped without HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::clock::Clock;
use crate::model::{AuthorityId, CountryCode, Role, text_field};
use crate::startup::{MasterKeySource, ServeConfig};
use crate::storage::tokens::TokenScope;
use crate::storage::{DatabaseTarget, Db};

/// Actor recorded in the audit trail for command-line changes.
const CLI_ACTOR: &str = "cli";

/// permitseal: signed CITES permits, offline verification, re-use detection.
#[derive(Parser)]
#[command(name = "permitseal", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Manage Management Authorities.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage an authority's signing keys on the database directly.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Issue permits on the database directly.
    #[command(subcommand)]
    Permit(PermitCommand),
    /// Verify a permit offline, as a phone does: QR text or a PNG/JPEG image, against a trust
    /// list and status lists (or a bundle) downloaded earlier.
    Verify(VerifyArgs),
    /// Reports from the database directly.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Rotate the deployment root key (operator only: on the database, with the master key).
    #[command(subcommand)]
    Root(RootCommand),
    /// The transparency log, on the database directly.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reference taxa, on the database directly.
    #[command(subcommand)]
    Taxa(TaxaCommand),
}

#[derive(Subcommand)]
enum TaxaCommand {
    /// Import a checklist CSV in the shape of a Species+ checklist export (docs/CHECKLIST.md):
    /// all rows or none; prints the counts added, updated, unchanged and skipped as JSON.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum RootCommand {
    /// Make an incoming root key: from now on the trust list is signed by the active and the
    /// incoming key, so phones pinning either accept it. Ship app updates that pin the new
    /// key (printed as JSON), then run `root finish`.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
        /// File holding the master key (or PERMITSEAL_MASTER_KEY, or <data dir>/master.key).
        #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
    },
    /// End the rotation: the incoming key becomes the only root key; the old one is retired
    /// and phones that pin only it no longer accept new trust lists.
    Finish {
        #[command(flatten)]
        data: DataArgs,
        /// File holding the master key (or PERMITSEAL_MASTER_KEY, or <data dir>/master.key).
        #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the transparency log from the database: every event's leaf, every stored
    /// subtree and every signed tree head. Names the first entry that does not match and
    /// raises an alert for each issued permit whose issuance is not in the log; exits 1 then.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The annual trade report as CSV in the CITES Trade Database upload format (as
    /// GET /api/v1/authorities/{id}/reports/annual).
    Annual {
        #[command(flatten)]
        data: DataArgs,
        /// Authority id.
        #[arg(long)]
        authority: String,
        /// Calendar year (UTC).
        #[arg(long)]
        year: String,
        /// exports (exporter-reported) or imports (importer-reported).
        #[arg(long, default_value = "exports")]
        view: String,
        /// trade (endorsed or confirmed quantities) or permits (documents issued).
        #[arg(long, default_value = "trade")]
        basis: String,
        /// Write the CSV here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate the authority's signing key (when it has no active key); prints it as JSON.
    Generate {
        #[command(flatten)]
        data: DataArgs,
        /// File holding the master key (or PERMITSEAL_MASTER_KEY, or <data dir>/master.key).
        #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
        /// Authority id.
        #[arg(long)]
        authority: String,
    },
}

#[derive(Subcommand)]
enum PermitCommand {
    /// Issue and sign a permit from a JSON file (`{"permit": {...}, "import_permit": ...}` or a
    /// bare permit draft). Prints the issued permit as JSON.
    Issue {
        #[command(flatten)]
        data: DataArgs,
        /// File holding the master key. Or set PERMITSEAL_MASTER_KEY; defaults to
        /// <data dir>/master.key when present.
        #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
        /// Issuing authority id.
        #[arg(long)]
        authority: String,
        /// The JSON file ("-" for standard input).
        #[arg(long)]
        file: PathBuf,
        /// Also write the QR code as PNG here.
        #[arg(long)]
        qr_png: Option<PathBuf>,
    },
    /// Print issued permits as PDF documents on the CITES standard form (A4, PDF/A-2b).
    Print {
        #[command(flatten)]
        data: DataArgs,
        /// Issuing authority id.
        #[arg(long)]
        authority: String,
        /// Permit number; repeat it to print several.
        #[arg(long = "number", required = true)]
        numbers: Vec<String>,
        /// en, fr or es (default: the authority's language).
        #[arg(long)]
        lang: Option<String>,
        /// The PDF file; with several numbers, a directory for one `<number>.pdf` each.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        urls: UrlArgs,
    },
}

/// Where the deployment is reached, for what documents print.
#[derive(Args)]
struct UrlArgs {
    /// Public base URL of the deployment.
    #[arg(long, env = "PERMITSEAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// The verify page printed on permit documents (default: <public URL>/verify).
    #[arg(long, env = "PERMITSEAL_VERIFY_URL")]
    verify_url: Option<String>,
}

impl UrlArgs {
    /// The verify page: as given, or under the public URL, or under `fallback_base`.
    fn verify_url(&self, fallback_base: &str) -> String {
        match (&self.verify_url, &self.public_url) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{}/verify", base.trim_end_matches('/')),
            (None, None) => format!("{fallback_base}/verify"),
        }
    }
}

#[derive(Args)]
struct VerifyArgs {
    /// The QR text (PS1:…). Or give --image.
    #[arg(long, conflicts_with = "image")]
    text: Option<String>,
    /// A PNG or JPEG image of the QR code.
    #[arg(long)]
    image: Option<PathBuf>,
    /// An offline bundle (GET /api/v1/bundle). Or give --trust and --status.
    #[arg(long, conflicts_with = "trust")]
    bundle: Option<PathBuf>,
    /// A signed trust list (GET /api/v1/trust-list).
    #[arg(long)]
    trust: Option<PathBuf>,
    /// Signed status lists (GET /api/v1/authorities/{id}/status), repeatable.
    #[arg(long)]
    status: Vec<PathBuf>,
    /// Pinned root public key, base64 (GET /api/v1/trust/root-key), repeatable.
    #[arg(long = "root-key", required = true)]
    root_keys: Vec<String>,
    /// Check at this time (RFC 3339) instead of now.
    #[arg(long)]
    now: Option<String>,
    /// Where the check happens: export (default) or import.
    #[arg(long, default_value = "export")]
    checkpoint: String,
    /// Print the full verification as JSON.
    #[arg(long)]
    json: bool,
}

/// Where the data is. Not `Debug`: the URL may hold a password.
#[derive(Args)]
struct DataArgs {
    /// Data directory (SQLite file, demo master key and tokens).
    #[arg(long, env = "PERMITSEAL_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL: postgres://… for PostgreSQL; absent → SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// A file holding whole seconds (e.g. `-90`) added to the system clock, read at every use:
    /// for rehearsing and testing time-dependent rules only.
    #[arg(long, env = "PERMITSEAL_CLOCK_OFFSET_FILE", hide = true)]
    clock_offset_file: Option<PathBuf>,
}

impl DataArgs {
    fn target(&self) -> anyhow::Result<DatabaseTarget> {
        DatabaseTarget::from_url(self.database_url.as_deref(), &self.data_dir)
            .map_err(anyhow::Error::msg)
    }

    fn clock(&self) -> Clock {
        match &self.clock_offset_file {
            Some(path) => Clock::offset_file(path.clone()),
            None => Clock::system(),
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PERMITSEAL_LISTEN", default_value = crate::startup::DEFAULT_LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// File holding the master key (base64 of 32 bytes). Or set PERMITSEAL_MASTER_KEY.
    #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// Create a demo authority, signing key and tokens (and a master key if none is configured).
    #[arg(long, env = "PERMITSEAL_DEMO")]
    demo: bool,
    #[command(flatten)]
    urls: UrlArgs,
    /// Seconds a client has to send a request's head; also how long an idle kept-alive
    /// connection stays open.
    #[arg(long, env = "PERMITSEAL_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Open connections at most, per process; more are closed at once.
    #[arg(long, env = "PERMITSEAL_MAX_CONNECTIONS", default_value_t = 2048)]
    max_connections: usize,
    /// Seconds requests in flight get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "PERMITSEAL_SHUTDOWN_GRACE", default_value_t = 20)]
    shutdown_grace_secs: u64,
    /// Mail server that delivers the notification outbox, e.g. smtp://mail.internal:25
    /// (messages wait in the outbox table without one).
    #[arg(long, env = "PERMITSEAL_SMTP_URL")]
    smtp_url: Option<String>,
    /// Mark the portal's session cookies `Secure`: set it whenever browsers reach the
    /// deployment over HTTPS (at a TLS-terminating load balancer).
    #[arg(long, env = "PERMITSEAL_SECURE_COOKIES")]
    secure_cookies: bool,
    /// PEM file of certificate authorities that https webhook receivers' certificates may
    /// chain to, besides the public (Mozilla) roots: a customs network's own CA.
    #[arg(long, env = "PERMITSEAL_WEBHOOK_CA_FILE")]
    webhook_ca_file: Option<std::path::PathBuf>,
    /// Sender address of notifications.
    #[arg(
        long,
        env = "PERMITSEAL_SMTP_FROM",
        default_value = "permitseal@localhost"
    )]
    smtp_from: String,
}

#[derive(Subcommand)]
enum AuthorityCommand {
    /// Create an authority; prints it as JSON.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: String,
        /// Official name.
        #[arg(long)]
        name: String,
        /// Short id (defaults to the country code).
        #[arg(long)]
        id: Option<String>,
        /// Language of its printed documents: en (default), fr or es.
        #[arg(long)]
        language: Option<String>,
        /// Postal address printed in box 6 of its documents.
        #[arg(long)]
        address: Option<String>,
        /// Place of issue printed in box 13.
        #[arg(long)]
        issue_place: Option<String>,
    },
    /// List authorities as JSON.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Mint a token. Prints the secret alone on stdout (shown once) and its details on stderr.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// admin, issuer, officer, importer or customs.
        #[arg(long)]
        role: String,
        /// Authority of an issuer token.
        #[arg(long)]
        authority: Option<String>,
        /// Country of an officer, importer or customs token.
        #[arg(long)]
        country: Option<String>,
        /// Who or which device holds it.
        #[arg(long, default_value = "created on the command line")]
        label: String,
    },
    /// Revoke a token by its id.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// Token id (tok_…).
        id: String,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("permitseal: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("permitseal: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Authority(cmd) => {
            init_logging("warn");
            authority(cmd).await
        }
        Command::Token(cmd) => {
            init_logging("warn");
            token(cmd).await
        }
        Command::Key(cmd) => {
            init_logging("warn");
            key(cmd).await
        }
        Command::Permit(cmd) => {
            init_logging("warn");
            permit(cmd).await
        }
        Command::Verify(args) => verify(args),
        Command::Report(cmd) => {
            init_logging("warn");
            report(cmd).await
        }
        Command::Root(cmd) => {
            init_logging("warn");
            root(cmd).await
        }
        Command::Audit(cmd) => {
            init_logging("warn");
            audit(cmd).await
        }
        Command::Taxa(cmd) => {
            init_logging("warn");
            taxa(cmd).await
        }
    }
}

/// `taxa import`: reads the whole checklist first (a bad row stores nothing), then stores it
/// in one transaction with a progress bar on a terminal.
async fn taxa(cmd: TaxaCommand) -> anyhow::Result<()> {
    let TaxaCommand::Import { data, file } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let now = data.clock().now();
    let checklist = crate::checklist::read(&bytes, now)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let db = Db::open(&data.target()?).await?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(checklist.rows.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} taxa {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = db
        .import_taxa("cli", &checklist.rows, now, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await;
    bar.finish_and_clear();
    db.close().await;
    let counts = result?;
    println!(
        "{}",
        serde_json::json!({"added": counts.added, "updated": counts.updated,
            "unchanged": counts.unchanged, "skipped": checklist.skipped})
    );
    Ok(())
}

async fn audit(cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { data } = cmd;
    let db = Db::open(&data.target()?).await?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = db
        .verify_log(data.clock().now(), |done, size| {
            bar.set_length(size);
            bar.set_position(done);
        })
        .await;
    bar.finish_and_clear();
    db.close().await;
    let report = report?;
    println!(
        "log size {}: {} entries and {} signed tree heads recomputed",
        report.size, report.checked, report.heads_checked
    );
    let mut good = true;
    if let Some(bad) = &report.first_bad {
        println!(
            "first entry that does not match: {}: {}",
            bad.seq, bad.problem
        );
        good = false;
    }
    for subject in &report.unlogged_permits {
        println!("issued but not in the log (alert raised): {subject}");
        good = false;
    }
    if good {
        println!("the log verifies");
        Ok(())
    } else {
        anyhow::bail!("the log does not verify")
    }
}

async fn root(cmd: RootCommand) -> anyhow::Result<()> {
    use base64::Engine as _;
    let (RootCommand::Rotate {
        data,
        master_key_file,
    }
    | RootCommand::Finish {
        data,
        master_key_file,
    }) = &cmd;
    let (db, master) = open_with_master(data, master_key_file.clone()).await?;
    let outcome = match cmd {
        RootCommand::Rotate { .. } => db
            .begin_root_rotation(CLI_ACTOR, &master, data.clock().now())
            .await
            .map(|k| {
                serde_json::json!({
                    "kid": k.kid,
                    "public_key": base64::engine::general_purpose::STANDARD.encode(k.public_key),
                    "status": k.status,
                })
            }),
        RootCommand::Finish { .. } => db
            .finish_root_rotation(CLI_ACTOR, data.clock().now())
            .await
            .map(|r| serde_json::json!({"retired": r.retired, "active": r.active})),
    };
    db.close().await;
    println!("{}", serde_json::to_string_pretty(&outcome?)?);
    Ok(())
}

async fn report(cmd: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Annual {
        data,
        authority,
        year,
        view,
        basis,
        out,
    } = cmd;
    let id = AuthorityId::parse(&authority)?;
    let year = crate::annual_report::parse_year(&year).map_err(anyhow::Error::msg)?;
    let view: crate::annual_report::View = view.parse().map_err(anyhow::Error::msg)?;
    let basis: crate::annual_report::Basis = basis.parse().map_err(anyhow::Error::msg)?;
    let db = Db::open(&data.target()?).await?;
    let text = async {
        let row = db
            .authority(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no authority {id}"))?;
        Ok::<_, anyhow::Error>(
            crate::annual_report::build(&db, id.as_str(), &row.country, year, view, basis).await?,
        )
    }
    .await;
    db.close().await;
    let text = text?;
    match out {
        Some(path) => {
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} rows to {}",
                text.lines().count().saturating_sub(1),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn master_key_source(file: Option<PathBuf>) -> MasterKeySource {
    match (file, std::env::var("PERMITSEAL_MASTER_KEY").ok()) {
        (Some(path), _) => MasterKeySource::File(path),
        (None, Some(text)) if !text.trim().is_empty() => {
            MasterKeySource::Text(zeroize::Zeroizing::new(text))
        }
        _ => MasterKeySource::Unset,
    }
}

/// Opens the database and checks the master key against it, as `serve` does.
async fn open_with_master(
    data: &DataArgs,
    file: Option<PathBuf>,
) -> anyhow::Result<(Db, crate::crypto::MasterKey)> {
    let mut notes = crate::startup::StartNotes::default();
    let master = crate::startup::load_master_key(
        &master_key_source(file),
        &data.data_dir,
        false,
        &mut notes,
    )?;
    let db = Db::open(&data.target()?).await?;
    db.init_deployment(&master, data.clock().now()).await?;
    Ok((db, master))
}

async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    let KeyCommand::Generate {
        data,
        master_key_file,
        authority,
    } = cmd;
    let id = AuthorityId::parse(&authority)?;
    let (db, master) = open_with_master(&data, master_key_file).await?;
    let row = db
        .generate_key(CLI_ACTOR, &id, &master, data.clock().now())
        .await;
    db.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&crate::views::Key::from(row?))?
    );
    Ok(())
}

async fn permit(cmd: PermitCommand) -> anyhow::Result<()> {
    let (data, master_key_file, authority, file, qr_png) = match cmd {
        PermitCommand::Issue {
            data,
            master_key_file,
            authority,
            file,
            qr_png,
        } => (data, master_key_file, authority, file, qr_png),
        PermitCommand::Print {
            data,
            authority,
            numbers,
            lang,
            out,
            urls,
        } => {
            let verify_url = urls.verify_url(&format!("http://{}", crate::startup::DEFAULT_LISTEN));
            return print(
                &data,
                &authority,
                &numbers,
                lang.as_deref(),
                &out,
                &verify_url,
            )
            .await;
        }
    };
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let value: serde_json::Value = serde_json::from_str(&text).context("the file is not JSON")?;
    let request = if value.get("permit").is_some() {
        value
    } else {
        serde_json::json!({ "permit": value })
    };
    let request: crate::views::IssueRequest =
        serde_json::from_value(request).context("not a permit request")?;
    let id = AuthorityId::parse(&authority)?;
    let (db, master) = open_with_master(&data, master_key_file).await?;
    let row = db
        .authority(&id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no authority {id}"))?;
    let t = data.clock().now();
    let item = crate::views::check_request(&request, &row.country, t, "")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = db.issue_permits(CLI_ACTOR, &id, &[item], &master, t).await;
    db.close().await;
    let issued = match outcome? {
        crate::storage::permits::IssueOutcome::Issued(mut rows) => rows
            .pop()
            .ok_or_else(|| anyhow::anyhow!("nothing was issued"))?,
        crate::storage::permits::IssueOutcome::Refused(r) => anyhow::bail!("refused: {r}"),
    };
    if let Some(path) = qr_png {
        let png = verifier_core::qr::render_png(&issued.qr_text, verifier_core::qr::Ecc::Q, 8)?;
        std::fs::write(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote the QR code to {}", path.display());
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&crate::views::PermitView::from(issued))?
    );
    Ok(())
}

/// `permit print`: one PDF per number, from the database directly (no master key: printing
/// signs nothing).
async fn print(
    data: &DataArgs,
    authority: &str,
    numbers: &[String],
    lang: Option<&str>,
    out: &std::path::Path,
    verify_url: &str,
) -> anyhow::Result<()> {
    let lang = lang
        .map(|t| {
            crate::document::parse_lang(t)
                .ok_or_else(|| anyhow::anyhow!("--lang must be en, fr or es, not {t:?}"))
        })
        .transpose()?;
    let id = AuthorityId::parse(authority)?;
    let several = numbers.len() > 1;
    if several {
        std::fs::create_dir_all(out)
            .with_context(|| format!("cannot create the directory {}", out.display()))?;
    }
    let db = Db::open(&data.target()?).await?;
    let result = async {
        let row = db
            .authority(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no authority {id}"))?;
        let bar = if several {
            indicatif::ProgressBar::new(numbers.len() as u64)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        for number in numbers {
            bar.set_message(number.clone());
            let permit = db
                .permit_by_number(&id, number)
                .await?
                .ok_or_else(|| anyhow::anyhow!("authority {id} has no permit {number:?}"))?;
            let quotas = db
                .block_quotas(&permit.authority_id, permit.status_index)
                .await?;
            let pdf =
                crate::document::stored::render_stored(&row, &permit, &quotas, lang, verify_url)?;
            let path = if several {
                out.join(format!("{}.pdf", file_stem(&permit.number)))
            } else {
                out.to_owned()
            };
            std::fs::write(&path, &pdf)
                .with_context(|| format!("cannot write {}", path.display()))?;
            bar.inc(1);
            if !several {
                eprintln!("wrote {} ({} bytes)", path.display(), pdf.len());
            }
        }
        bar.finish_and_clear();
        if several {
            eprintln!("wrote {} documents into {}", numbers.len(), out.display());
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    db.close().await;
    result
}

/// A permit number as a file name: letters, digits, `-` and `_`; anything else becomes `_`.
fn file_stem(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    use base64::Engine as _;
    use verifier_core::keys::PublicKey;
    let roots = args
        .root_keys
        .iter()
        .map(|k| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(k.trim())
                .context("--root-key is not base64")?;
            let raw: [u8; 32] = raw
                .try_into()
                .map_err(|_| anyhow::anyhow!("--root-key is not 32 bytes"))?;
            PublicKey::from_bytes(&raw)
                .map_err(|_| anyhow::anyhow!("--root-key is not a valid Ed25519 key"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let read =
        |p: &PathBuf| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (trust, statuses) = match (&args.bundle, &args.trust) {
        (Some(path), _) => {
            let b = verifier_core::bundle::Bundle::from_bytes(&read(path)?, &roots)?;
            (b.trust, b.status)
        }
        (None, Some(path)) => {
            let trust = verifier_core::trust::TrustList::from_signed(&read(path)?, &roots)?;
            let mut set = verifier_core::status::StatusSet::new();
            for p in &args.status {
                set.insert(verifier_core::status::StatusList::from_signed(
                    &read(p)?,
                    &trust,
                )?);
            }
            (trust, set)
        }
        (None, None) => anyhow::bail!("give --bundle, or --trust (and --status)"),
    };
    let text = match (&args.text, &args.image) {
        // Surrounding white space is the core's to remove (FORMAT.md §3.1), as for HTTP.
        (Some(t), _) => t.clone(),
        (None, Some(path)) => verifier_core::qr::decode_image(&read(path)?)?,
        (None, None) => anyhow::bail!("give --text or --image"),
    };
    let at = match &args.now {
        Some(t) => crate::clock::parse_time("--now", t)?,
        None => Clock::system().now(),
    };
    let checkpoint = match args.checkpoint.as_str() {
        "export" => verifier_core::verify::Checkpoint::Export,
        "import" => verifier_core::verify::Checkpoint::Import,
        "inspection" => verifier_core::verify::Checkpoint::Inspection,
        other => anyhow::bail!("--checkpoint must be export, import or inspection, not {other}"),
    };
    let policy = verifier_core::Policy {
        checkpoint,
        ..verifier_core::Policy::default()
    };
    let v = verifier_core::verify_with(&text, at, &trust, &statuses, &policy, None);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let verdict = match v.verdict {
            verifier_core::Verdict::Valid => "VALID",
            verifier_core::Verdict::ValidWithWarnings => "VALID WITH WARNINGS",
            verifier_core::Verdict::Invalid => "INVALID",
        };
        println!("{verdict}");
        if let Some(p) = &v.permit {
            // What the officer compares with the paper and the shipment.
            println!("  permit    {} ({})", p.number, p.document_type);
            println!("  valid     {} to {}", p.valid_from, p.valid_until);
            println!("  exporter  {} ({})", p.exporter.name, p.exporter.country);
            if let Some(i) = &p.importer {
                println!("  importer  {} ({})", i.name, i.country);
            }
            for l in &p.lines {
                let unit = match l.unit {
                    verifier_core::codes::Unit::Number => String::new(),
                    u => format!(" {}", u.name_en()),
                };
                println!(
                    "  block {}   {}{unit} {} ({}) of {}, Appendix {}, source {}",
                    l.block,
                    l.quantity,
                    l.term.name_en(),
                    l.term.code(),
                    l.scientific_name,
                    l.appendix.code(),
                    l.source.code()
                );
            }
        }
        if let Some(i) = &v.issuer {
            println!("  issued by {} ({})", i.authority_name, i.country);
        }
        for r in &v.reasons {
            println!(
                "  {} {}: {}",
                match r.severity {
                    verifier_core::verify::Severity::Error => "✗",
                    verifier_core::verify::Severity::Warning => "!",
                    verifier_core::verify::Severity::Info => "·",
                },
                r.code.as_str(),
                r.message(verifier_core::i18n::Lang::default())
            );
        }
    }
    if v.verdict == verifier_core::Verdict::Invalid {
        anyhow::bail!("the permit is not valid");
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging("info,sqlx=warn,tower_http=info");
    // Read before anything else, so a wrong file stops the start with its reason.
    let webhook_trust = match &args.webhook_ca_file {
        Some(path) => crate::webhooks::WebhookTrust::with_ca_file(path)?,
        None => crate::webhooks::WebhookTrust::public(),
    };
    let master_key = master_key_source(args.master_key_file);
    let clock = args.data.clock();
    let config = ServeConfig {
        listen: args.listen,
        database: args.data.target()?,
        data_dir: args.data.data_dir,
        master_key,
        demo: args.demo,
        verify_url: args.urls.verify_url(&format!("http://{}", args.listen)),
        clock,
        secure_cookies: args.secure_cookies,
    };
    tracing::info!(?config, "starting");
    if config.clock.is_shifted() {
        tracing::warn!("the clock is shifted by an offset file: not for production");
    }
    let (state, notes) = crate::open_state(&config).await?;
    for line in &notes.lines {
        println!("{line}");
    }
    if webhook_trust.added() > 0 {
        println!(
            "webhooks: https receivers may also use the {} CA certificate(s) of the webhook CA file",
            webhook_trust.added()
        );
    }
    tokio::spawn(crate::webhooks::run(
        crate::webhooks::Deliverer::new(state.db.clone(), state.master.clone(), &webhook_trust)?,
        state.clock.clone(),
        std::time::Duration::from_secs(1),
    ));
    if let Some(url) = &args.smtp_url {
        let sender = crate::notify::SmtpSender::new(url, &args.smtp_from)?;
        tokio::spawn(crate::notify::run(
            state.db.clone(),
            sender,
            state.clock.clone(),
            std::time::Duration::from_secs(15),
        ));
        println!("notifications: delivered by SMTP from {}", args.smtp_from);
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "permitseal listening on http://{addr} ({})",
        config.database
    );
    let limits = crate::startup::ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
        max_connections: args.max_connections.max(1),
        shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace_secs),
    };
    crate::startup::launch_with(listener, state, crate::startup::shutdown_signal(), limits).await?;
    Ok(())
}

async fn authority(cmd: AuthorityCommand) -> anyhow::Result<()> {
    match cmd {
        AuthorityCommand::Create {
            data,
            country,
            name,
            id,
            language,
            address,
            issue_place,
        } => {
            let country = CountryCode::parse(&country)?;
            let id = AuthorityId::parse(id.as_deref().unwrap_or(country.as_str()))?;
            let name = text_field("name", &name, 200)?;
            let paper = crate::views::paper_settings(
                language.as_deref(),
                address.as_deref(),
                issue_place.as_deref(),
            )?;
            let db = Db::open(&data.target()?).await?;
            let row = async {
                let row = db
                    .create_authority(CLI_ACTOR, &id, &country, &name, data.clock().now())
                    .await?;
                match paper {
                    Some(paper) => {
                        db.set_paper_settings(CLI_ACTOR, &id, &paper, data.clock().now())
                            .await
                    }
                    None => Ok(row),
                }
            }
            .await;
            db.close().await;
            let row = row?;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::views::Authority::from(row))?
            );
        }
        AuthorityCommand::List { data } => {
            let db = Db::open(&data.target()?).await?;
            let rows = db.list_authorities().await?;
            db.close().await;
            let list: Vec<_> = rows
                .into_iter()
                .map(crate::views::Authority::from)
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
    }
    Ok(())
}

async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            data,
            role,
            authority,
            country,
            label,
        } => {
            let role = Role::parse(&role)?;
            let authority = authority.as_deref().map(AuthorityId::parse).transpose()?;
            let country = country.as_deref().map(CountryCode::parse).transpose()?;
            let scope = TokenScope::new(role, authority, country)?;
            let label = text_field("label", &label, 200)?;
            let db = Db::open(&data.target()?).await?;
            let (row, minted) = db
                .create_token(CLI_ACTOR, &scope, &label, data.clock().now())
                .await?;
            db.close().await;
            eprintln!(
                "created {} token {} ({}); the secret below is shown only now",
                row.role,
                row.id,
                row.authority_id
                    .as_deref()
                    .or(row.country.as_deref())
                    .unwrap_or("platform")
            );
            println!("{}", minted.secret.as_str());
        }
        TokenCommand::Revoke { data, id } => {
            let db = Db::open(&data.target()?).await?;
            let row = db.revoke_token(CLI_ACTOR, &id, data.clock().now()).await?;
            db.close().await;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::views::Token::from(row))?
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
