//! The `ctrlgraph` command: a thin layer that parses arguments, sets up logs and progress, and
//! calls the library crates. Exit codes: 0 success, 1 failure, 2 bad input or usage.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod commands;
mod quality;

/// Finds suspected actual-control groups of trading accounts.
#[derive(Debug, Parser)]
#[command(name = "ctrlgraph", version, about)]
struct Cli {
    /// The store: a folder (embedded database, rejects and results) or a Neo4j server
    /// (neo4j://HOST:PORT, neo4j+s://, bolt://, bolt+s://).
    #[arg(
        long,
        global = true,
        env = "CTRLGRAPH_STORE",
        default_value = "./ctrlgraph-data"
    )]
    store: PathBuf,
    /// Neo4j user (default: neo4j, or the config file's).
    #[arg(long, global = true, env = "CTRLGRAPH_NEO4J_USER")]
    neo4j_user: Option<String>,
    /// Neo4j password (or the config file's).
    #[arg(
        long,
        global = true,
        env = "CTRLGRAPH_NEO4J_PASSWORD",
        hide_env_values = true
    )]
    neo4j_password: Option<String>,
    /// Neo4j database (default: the server's default database, or the config file's).
    #[arg(long, global = true, env = "CTRLGRAPH_NEO4J_DATABASE")]
    neo4j_database: Option<String>,
    /// A TOML config file with a [neo4j] table (user, password, database).
    #[arg(long, global = true, env = "CTRLGRAPH_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, global = true, env = "CTRLGRAPH_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Draw progress bars (default: when standard error is a terminal).
    #[arg(long, global = true, env = "CTRLGRAPH_PROGRESS")]
    progress: Option<bool>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a realistic dataset with planted control groups and truth.csv.
    Gen(commands::GenArgs),
    /// Validate a dataset folder and load it into the store, in one transaction.
    Ingest(commands::IngestArgs),
    /// Print counts by node and edge kind, degree extremes and the largest identifier hubs.
    Stats(commands::StatsArgs),
    /// Detect suspected control groups in the stored graph and store the results.
    Analyze(commands::AnalyzeArgs),
    /// List the stored surveillance findings: limit breaches of groups, or reporting findings.
    Breaches(commands::BreachesArgs),
    /// Compare the stored groups with a truth file, beside the rule and naive baselines.
    Eval(commands::EvalArgs),
    /// Detection quality over a grid of datasets and analysis settings, worst first.
    Quality(commands::QualityArgs),
    /// Write reports of the stored analysis.
    Report(commands::ReportArgs),
    /// List the accounts most similar to one account by relationship embedding.
    Similar(commands::SimilarArgs),
    /// Serve the GraphQL API, the GraphiQL explorer and the investigation page.
    Serve(commands::ServeArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Add a token to a tokens file and print it (only its hash is stored).
    Add(commands::TokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = cli
        .progress
        .unwrap_or_else(|| std::io::stderr().is_terminal());
    init_logs(&cli.log_format);
    let ctx = commands::Ctx {
        store: cli.store,
        progress,
        settings: service::StoreSettings {
            neo4j_user: cli.neo4j_user,
            neo4j_password: cli.neo4j_password,
            neo4j_database: cli.neo4j_database,
            config_file: cli.config,
        },
    };
    let result = match cli.command {
        Command::Gen(a) => commands::gen_cmd(&ctx, &a),
        Command::Ingest(a) => commands::ingest_cmd(&ctx, &a),
        Command::Stats(a) => commands::stats_cmd(&ctx, &a),
        Command::Analyze(a) => commands::analyze_cmd(&ctx, &a),
        Command::Breaches(a) => commands::breaches_cmd(&ctx, &a),
        Command::Eval(a) => commands::eval_cmd(&ctx, &a),
        Command::Quality(a) => commands::quality_cmd(&ctx, &a),
        Command::Report(a) => commands::report_cmd(&ctx, &a),
        Command::Similar(a) => commands::similar_cmd(&ctx, &a),
        Command::Serve(a) => commands::serve_cmd(&ctx, &a),
        Command::Token(TokenCommand::Add(a)) => commands::token_cmd(&a),
        Command::Schema => commands::schema_cmd(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("error: {}", error_text(&e));
            if e.downcast_ref::<commands::InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error and its causes on one line. Many of the libraries' errors already name their
/// cause in their own message (`cannot listen on ADDR: CAUSE`); such a cause is not repeated.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logs(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let registry = tracing_subscriber::registry().with(filter);
    if format == "json" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .init();
    } else {
        let indicatif = tracing_indicatif::IndicatifLayer::new();
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(indicatif.get_stderr_writer()))
            .with(indicatif)
            .init();
    }
}
