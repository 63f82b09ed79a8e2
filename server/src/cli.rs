//! The command line: `serve`, and operator commands that work on the database directly so that a
//! deployment can be bootstrapped without HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::model::{AuthorityId, CountryCode, Role, text_field};
use crate::startup::{MasterKeySource, ServeConfig};
use crate::storage::tokens::TokenScope;
use crate::storage::{DatabaseTarget, Db, now};

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
}

impl DataArgs {
    fn target(&self) -> anyhow::Result<DatabaseTarget> {
        DatabaseTarget::from_url(self.database_url.as_deref(), &self.data_dir)
            .map_err(anyhow::Error::msg)
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PERMITSEAL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// File holding the master key (base64 of 32 bytes). Or set PERMITSEAL_MASTER_KEY.
    #[arg(long, env = "PERMITSEAL_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// Create a demo authority, signing key and tokens (and a master key if none is configured).
    #[arg(long, env = "PERMITSEAL_DEMO")]
    demo: bool,
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
        /// admin, issuer, officer or importer.
        #[arg(long)]
        role: String,
        /// Authority of an issuer token.
        #[arg(long)]
        authority: Option<String>,
        /// Country of an officer or importer token.
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
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging("info,sqlx=warn,tower_http=info");
    let master_key = match (
        args.master_key_file,
        std::env::var("PERMITSEAL_MASTER_KEY").ok(),
    ) {
        (Some(path), _) => MasterKeySource::File(path),
        (None, Some(text)) if !text.trim().is_empty() => {
            MasterKeySource::Text(zeroize::Zeroizing::new(text))
        }
        _ => MasterKeySource::Unset,
    };
    let config = ServeConfig {
        listen: args.listen,
        database: args.data.target()?,
        data_dir: args.data.data_dir,
        master_key,
        demo: args.demo,
    };
    tracing::info!(?config, "starting");
    let (state, notes) = crate::open_state(&config).await?;
    for line in &notes.lines {
        println!("{line}");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "permitseal listening on http://{addr} ({})",
        config.database
    );
    crate::launch(listener, state, crate::startup::shutdown_signal()).await?;
    Ok(())
}

async fn authority(cmd: AuthorityCommand) -> anyhow::Result<()> {
    match cmd {
        AuthorityCommand::Create {
            data,
            country,
            name,
            id,
        } => {
            let country = CountryCode::parse(&country)?;
            let id = AuthorityId::parse(id.as_deref().unwrap_or(country.as_str()))?;
            let name = text_field("name", &name, 200)?;
            let db = Db::open(&data.target()?).await?;
            let row = db
                .create_authority(CLI_ACTOR, &id, &country, &name, now())
                .await?;
            db.close().await;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::http::authorities::Authority::from(row))?
            );
        }
        AuthorityCommand::List { data } => {
            let db = Db::open(&data.target()?).await?;
            let rows = db.list_authorities().await?;
            db.close().await;
            let list: Vec<_> = rows
                .into_iter()
                .map(crate::http::authorities::Authority::from)
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
            let (row, minted) = db.create_token(CLI_ACTOR, &scope, &label, now()).await?;
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
            let row = db.revoke_token(CLI_ACTOR, &id, now()).await?;
            db.close().await;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::http::tokens::Token::from(row))?
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
