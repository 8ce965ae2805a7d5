//! The subcommands: each takes its parsed arguments, calls the libraries and prints a summary.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use graph_core::GraphStats;
use ingest::{Encoding, IngestOptions, RedbStore, Store};

/// Settings every command shares.
#[derive(Debug)]
pub struct Ctx {
    pub store: PathBuf,
    pub progress: bool,
}

/// An error caused by the input or the usage: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of trading accounts.
    #[arg(long, env = "CTRLGRAPH_GEN_ACCOUNTS", default_value_t = 20_000)]
    pub accounts: usize,
    /// Random seed; the same seed gives the same files.
    #[arg(long, env = "CTRLGRAPH_GEN_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Output folder (created when absent).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The dataset folder.
    pub dir: PathBuf,
    /// Text encoding of the files: utf-8 (BOM allowed) or gbk.
    #[arg(long, env = "CTRLGRAPH_ENCODING", default_value = "utf-8")]
    pub encoding: Encoding,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// How many identifier hubs to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn open_store(path: &Path) -> Result<RedbStore> {
    RedbStore::open(path).with_context(|| format!("opening the store {}", path.display()))
}

pub fn gen_cmd(_ctx: &Ctx, args: &GenArgs) -> Result<()> {
    let cfg = fixtures::gen::GenConfig {
        accounts: args.accounts,
        seed: args.seed,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let summary = fixtures::gen::generate(&cfg, &args.out)
        .with_context(|| format!("generating into {}", args.out.display()))?;
    println!(
        "generated {} accounts (seed {}) in {:.1}s into {}: {} planted groups over {} accounts",
        args.accounts,
        args.seed,
        started.elapsed().as_secs_f64(),
        args.out.display(),
        summary.groups,
        summary.grouped_accounts
    );
    for (file, rows) in &summary.files {
        println!("  {file:<22} {rows:>12} rows");
    }
    Ok(())
}

pub fn ingest_cmd(ctx: &Ctx, args: &IngestArgs) -> Result<()> {
    let store = open_store(&ctx.store)?;
    let opts = IngestOptions {
        encoding: args.encoding,
        progress: ctx.progress,
    };
    let summary = match ingest::ingest_dir(&args.dir, &store, &opts) {
        Ok(s) => s,
        Err(e) if e.is_input_error() => return Err(InputError(e.to_string()).into()),
        Err(e) => return Err(e).context("ingest failed; the store is unchanged"),
    };
    store
        .export_run_files()
        .context("writing rejects.csv and warnings.csv")?;
    print!("{}", summary.to_table());
    let t = summary.totals();
    println!(
        "{} rows in {:.1}s ({:.0} rows/s); rejects: {}, warnings: {}",
        t.read,
        summary.seconds,
        t.read as f64 / summary.seconds.max(1e-9),
        ctx.store.join("rejects.csv").display(),
        ctx.store.join("warnings.csv").display(),
    );
    Ok(())
}

pub fn stats_cmd(ctx: &Ctx, args: &StatsArgs) -> Result<()> {
    if !ctx.store.join(ingest::store::DB_FILE).is_file() {
        return Err(InputError(format!(
            "no store at {} (run `ctrlgraph ingest DIR` first)",
            ctx.store.display()
        ))
        .into());
    }
    let store = open_store(&ctx.store)?;
    let g = ingest::load::load_graph(&store, ctx.progress).context("loading the graph")?;
    let stats = GraphStats::compute(&g, args.top);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    println!("nodes");
    for (k, n) in &stats.nodes {
        println!("  {k:<16} {n:>12}");
    }
    println!("edges");
    for (k, n) in &stats.edges {
        println!("  {k:<16} {n:>12}");
    }
    println!("highest degree by node kind");
    for c in &stats.max_degree {
        println!("  {:<16} {:<28} {:>8}", c.kind, c.id, c.count);
    }
    println!("largest identifier hubs (subjects sharing one value)");
    for c in &stats.hubs {
        println!("  {:<16} {:<28} {:>8}", c.kind, c.id, c.count);
    }
    println!(
        "graph memory: {:.1} MiB ({:.1} bytes per edge)",
        stats.memory_bytes as f64 / (1 << 20) as f64,
        stats.memory_bytes as f64 / g.edge_count().max(1) as f64
    );
    Ok(())
}
