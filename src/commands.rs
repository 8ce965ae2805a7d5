//! The subcommands: each takes its parsed arguments, calls the libraries and prints a summary.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use graph_core::GraphStats;
use ingest::{Encoding, IngestOptions, Store};

/// Prints a line to standard output, returning the error (a closed pipe, say) instead of
/// panicking as `println!` does.
macro_rules! outln {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// Settings every command shares.
#[derive(Debug)]
pub struct Ctx {
    pub store: PathBuf,
    pub progress: bool,
    /// Credentials and config file for a Neo4j store.
    pub settings: service::StoreSettings,
}

impl Ctx {
    /// Whether `--store` names a Neo4j server rather than a folder.
    fn is_neo4j(&self) -> bool {
        self.store.to_str().is_some_and(service::open::is_neo4j_uri)
    }
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
    /// The world to generate: default, large-groups, hard, agents or sparse-trading.
    #[arg(long, env = "CTRLGRAPH_GEN_PROFILE", default_value = "default")]
    pub profile: String,
    /// Also write the surveillance tapes, the planted breaches (breaches_truth.csv) and near misses
    /// (near_misses_truth.csv).
    #[arg(long)]
    pub tapes: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The dataset folder.
    pub dir: PathBuf,
    /// Text encoding of the files: utf-8 (BOM allowed) or gbk.
    #[arg(long, env = "CTRLGRAPH_ENCODING", default_value = "utf-8")]
    pub encoding: Encoding,
    /// Where to write rejects.csv and warnings.csv (default: the store folder; for a Neo4j
    /// store, the current folder).
    #[arg(long)]
    pub rejects_dir: Option<PathBuf>,
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

fn open_store(ctx: &Ctx) -> Result<Box<dyn Store>> {
    let spec = ctx.store.to_string_lossy();
    match service::open_store(&spec, &ctx.settings) {
        Ok(s) => Ok(s),
        Err(e) if e.is_input_error() => {
            Err(InputError(format!("opening the store {spec}: {e}")).into())
        }
        Err(e) => Err(e).with_context(|| format!("opening the store {spec}")),
    }
}

pub fn gen_cmd(ctx: &Ctx, args: &GenArgs) -> Result<()> {
    let Some(profile) = fixtures::Profile::named(&args.profile) else {
        return Err(InputError(format!(
            "unknown generator profile `{}` (known: {})",
            args.profile,
            fixtures::Profile::NAMES.join(", ")
        ))
        .into());
    };
    let cfg = fixtures::GenConfig {
        tapes: args.tapes,
        ..fixtures::GenConfig::with_profile(args.accounts, args.seed, profile)
    };
    let started = std::time::Instant::now();
    let pb = stage_bar(ctx.progress);
    let summary = fixtures::generate_with_progress(&cfg, &args.out, &|file, rows| {
        pb.set_message(format!("writing {file}: {rows} rows"));
    })
    .with_context(|| format!("generating into {}", args.out.display()))?;
    pb.finish_and_clear();
    outln!(
        "generated {} accounts (seed {}) in {:.1}s into {}: {} planted groups over {} accounts",
        args.accounts,
        args.seed,
        started.elapsed().as_secs_f64(),
        args.out.display(),
        summary.groups,
        summary.grouped_accounts
    );
    for (file, rows) in &summary.files {
        outln!("  {file:<22} {rows:>12} rows");
    }
    Ok(())
}

pub fn ingest_cmd(ctx: &Ctx, args: &IngestArgs) -> Result<()> {
    // Nothing is created before the dataset is known to be there and readable.
    if let Err(e) = ingest::dataset_files(&args.dir) {
        return Err(InputError(e.to_string()).into());
    }
    // A store folder this run creates is removed again when the run fails, so that a failed
    // first ingest leaves nothing that later commands would take for an empty store.
    let created = (!ctx.is_neo4j() && !ctx.store.join(ingest::store::DB_FILE).exists())
        .then(|| (ctx.store.join(ingest::store::DB_FILE), !ctx.store.exists()));
    let store = open_store(ctx)?;
    let opts = IngestOptions {
        encoding: args.encoding,
        progress: ctx.progress,
    };
    let result = ingest::ingest_dir(&args.dir, &*store, &opts);
    if result.is_err()
        && let Some((db, dir_is_new)) = &created
    {
        drop(store);
        let _ = std::fs::remove_file(db);
        if *dir_is_new {
            // Only an empty folder goes: anything else in it is not ours to remove.
            let _ = std::fs::remove_dir(&ctx.store);
        }
        return match result {
            Err(e) if e.is_input_error() => Err(InputError(e.to_string()).into()),
            Err(e) => Err(e).context("ingest failed; no store was created"),
            Ok(_) => unreachable!("the run failed"),
        };
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) if e.is_input_error() => return Err(InputError(e.to_string()).into()),
        Err(e) if store.ingest_is_atomic() => {
            return Err(e).context("ingest failed; the store is unchanged");
        }
        Err(e) => {
            return Err(e).context(format!(
                "ingest failed; the run is recorded as unfinished in {} and none of it is reported as loaded; re-run the same ingest to complete it",
                store.describe()
            ));
        }
    };
    let run_dir = match (&args.rejects_dir, ctx.is_neo4j()) {
        (Some(d), _) => d.clone(),
        (None, true) => PathBuf::from("."),
        (None, false) => ctx.store.clone(),
    };
    ingest::store::export_run_files(&*store, &run_dir)
        .context("writing rejects.csv and warnings.csv")?;
    write!(std::io::stdout().lock(), "{}", summary.to_table())?;
    let t = summary.totals();
    outln!(
        "{} rows in {:.1}s ({:.0} rows/s); rejects: {}, warnings: {}",
        t.read,
        summary.seconds,
        t.read as f64 / summary.seconds.max(1e-9),
        run_dir.join("rejects.csv").display(),
        run_dir.join("warnings.csv").display(),
    );
    if t.updated > 0 {
        outln!(
            "{} rows replaced a stored record with the same key ({} new, {} unchanged); {} of them change an identity number or an account holder (old and new values in warnings.csv)",
            t.updated,
            t.new,
            t.unchanged,
            t.conflicts
        );
    }
    Ok(())
}

pub fn stats_cmd(ctx: &Ctx, args: &StatsArgs) -> Result<()> {
    let store = require_store(ctx)?;
    let g = ingest::load::load_graph(&*store, ctx.progress).context("loading the graph")?;
    let stats = GraphStats::compute(&g, args.top);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    outln!("nodes");
    for (k, n) in &stats.nodes {
        outln!("  {k:<16} {n:>12}");
    }
    outln!("edges");
    for (k, n) in &stats.edges {
        outln!("  {k:<16} {n:>12}");
    }
    outln!("highest degree by node kind");
    for c in &stats.max_degree {
        outln!("  {:<16} {:<28} {:>8}", c.kind, c.id, c.count);
    }
    outln!("largest identifier hubs (subjects sharing one value)");
    for c in &stats.hubs {
        outln!("  {:<16} {:<28} {:>8}", c.kind, c.id, c.count);
    }
    outln!(
        "graph memory: {:.1} MiB ({:.1} bytes per edge)",
        stats.memory_bytes as f64 / (1 << 20) as f64,
        stats.memory_bytes as f64 / g.edge_count().max(1) as f64
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Seed of the embeddings and community detection.
    #[arg(long, env = "CTRLGRAPH_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Analyse even when the store's last ingest did not complete.
    #[arg(long)]
    pub force: bool,
    /// The day reporting deadlines are measured on (YYYY-MM-DD); default: the tapes' last day.
    #[arg(long, env = "CTRLGRAPH_AS_OF")]
    pub as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct BreachesArgs {
    /// Only breaches of this kind: position_long, position_short, opening, self_trade, cancel,
    /// large_cancel.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only breaches of this group (a detected or a reported group id).
    #[arg(long)]
    pub group: Option<String>,
    /// Only breaches of groups whose every account stays within on its own.
    #[arg(long)]
    pub only_as_group: bool,
    /// List the reporting findings (overdue, partly reported, stale) instead.
    #[arg(long)]
    pub reporting: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn breaches_cmd(ctx: &Ctx, args: &BreachesArgs) -> Result<()> {
    use detectors::surveillance::BreachKind;
    let store = require_store(ctx)?;
    let kind = match &args.kind {
        Some(k) => Some(BreachKind::parse(k).ok_or_else(|| {
            InputError(format!(
                "unknown breach kind `{k}` (expected one of: {})",
                BreachKind::ALL.map(BreachKind::as_str).join(", ")
            ))
        })?),
        None => None,
    };
    let Some(found) = service::load_surveillance(&*store)? else {
        return Err(InputError(
            "no surveillance findings in the store (run `ctrlgraph analyze` first)".into(),
        )
        .into());
    };
    let group = args.group.as_deref().map(|g| {
        resolve_id(
            g,
            found
                .breaches
                .iter()
                .map(|b| b.group_id.as_str())
                .chain(found.reporting.iter().map(|r| r.group_id.as_str())),
        )
    });
    if args.reporting {
        let rows: Vec<_> = found
            .reporting
            .iter()
            .filter(|r| group.as_ref().is_none_or(|g| *g == r.group_id))
            .collect();
        if args.json {
            outln!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        outln!(
            "{:<16} {:<14} {:<12} {:<8} {:<12} missing",
            "kind",
            "group",
            "reported",
            "overdue",
            "due"
        );
        for r in &rows {
            outln!(
                "{:<16} {:<14} {:<12} {:<8} {:<12} {}",
                r.kind.as_str(),
                r.group_id,
                r.reported_group.as_deref().unwrap_or("-"),
                if r.overdue { "yes" } else { "no" },
                r.due.map_or_else(|| "-".to_owned(), |d| d.to_string()),
                r.missing.join(" ")
            );
        }
        outln!(
            "{} reporting findings (as of {})",
            rows.len(),
            found
                .as_of
                .map_or_else(|| "-".to_owned(), |d| d.to_string())
        );
        return Ok(());
    }
    let rows: Vec<_> = found
        .breaches
        .iter()
        .filter(|b| kind.is_none_or(|k| b.kind == k))
        .filter(|b| group.as_ref().is_none_or(|g| *g == b.group_id))
        .filter(|b| !args.only_as_group || b.only_as_group)
        .collect();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "{:<14} {:<8} {:<14} {:<10} {:<10} {:>8} {:>8} {:<5} accounts (share)",
        "group",
        "source",
        "kind",
        "scope",
        "date",
        "figure",
        "limit",
        "alone"
    );
    for b in &rows {
        outln!(
            "{:<14} {:<8} {:<14} {:<10} {:<10} {:>8} {:>8} {:<5} {}",
            b.group_id,
            b.source.as_str(),
            b.kind.as_str(),
            b.scope,
            b.date,
            b.figure,
            b.limit,
            if b.only_as_group { "ok" } else { "over" },
            b.parts
                .iter()
                .map(|p| format!("{}:{}", p.account, p.share))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    outln!(
        "{} breaches, {} only as a group",
        rows.len(),
        rows.iter().filter(|b| b.only_as_group).count()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A truth file (account_id,group_id) to compare the stored groups with.
    #[arg(long)]
    pub truth: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report formats, comma-separated or repeated: html, xlsx, csv, json.
    #[arg(
        long,
        env = "CTRLGRAPH_REPORT_FORMAT",
        default_value = "csv",
        value_delimiter = ','
    )]
    pub format: Vec<reports::Format>,
    /// Output folder (created when absent).
    #[arg(long)]
    pub out: PathBuf,
    /// Language of the labels: en or zh (Simplified Chinese).
    #[arg(long, env = "CTRLGRAPH_REPORT_LANG", default_value = "en")]
    pub lang: reports::Lang,
    /// Only groups scoring at least this.
    #[arg(long)]
    pub min_score: Option<f32>,
    /// Only groups of these reporting statuses (comma-separated): unreported,
    /// partially_reported, reported.
    #[arg(long, value_delimiter = ',', value_parser = ["unreported", "partially_reported", "reported"])]
    pub status: Vec<String>,
    /// Also report the changes since an earlier analysis: `previous`, a stored analysis's
    /// created_at, or an earlier JSON report (file or folder).
    #[arg(long)]
    pub since: Option<String>,
    /// How many groups with position breaches the HTML report charts, in the order of its
    /// breaches table; the report says how many it leaves undrawn.
    #[arg(long, env = "CTRLGRAPH_REPORT_BREACH_CHARTS", default_value_t = reports::DEFAULT_BREACH_CHARTS)]
    pub breach_charts: usize,
}

fn require_store(ctx: &Ctx) -> Result<Box<dyn Store>> {
    if !ctx.is_neo4j() && !ctx.store.join(ingest::store::DB_FILE).is_file() {
        return Err(InputError(format!(
            "no store at {} (run `ctrlgraph ingest DIR` first)",
            ctx.store.display()
        ))
        .into());
    }
    open_store(ctx)
}

/// An id typed on the command line, in the data's spelling. Ids are opaque strings and match
/// exactly first; failing that, the one known id equal to it ignoring ASCII case stands for it
/// (`a00001234` for `A00001234`). Otherwise the id is returned as typed.
fn resolve_id<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let mut folded = None;
    for k in known {
        if k == typed {
            return typed.to_owned();
        }
        if k.eq_ignore_ascii_case(typed) {
            folded = match folded {
                None => Some(Some(k)),
                Some(Some(f)) if f == k => Some(Some(f)),
                // Two ids differ only in case: the typed one is ambiguous.
                Some(_) => Some(None),
            };
        }
    }
    folded.flatten().unwrap_or(typed).to_owned()
}

/// The stored results of the latest analysis.
pub fn load_results(store: &dyn Store) -> Result<Option<detectors::results::AnalysisResults>> {
    Ok(service::load_results(store)?)
}

fn stage_bar(progress: bool) -> indicatif::ProgressBar {
    let pb = if progress {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed:>5} {msg}")
            .expect("the template is valid"),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub fn analyze_cmd(ctx: &Ctx, args: &AnalyzeArgs) -> Result<()> {
    let store = require_store(ctx)?;
    let started = std::time::Instant::now();
    let mut opts = service::AnalyzeOptions {
        progress: ctx.progress,
        force: args.force,
        as_of: args.as_of,
        ..Default::default()
    };
    opts.config.embedding.seed = args.seed;
    let pb = stage_bar(ctx.progress);
    let analysed = match service::analyze(&*store, &opts, &mut |s| {
        pb.set_message(format!("analysing: {s}"));
    }) {
        Ok(a) => a,
        Err(e @ service::ServiceError::IncompleteIngest(_)) => {
            return Err(InputError(e.to_string()).into());
        }
        Err(e) => return Err(e.into()),
    };
    pb.finish_and_clear();
    let results = &analysed.analysis.results;
    let by_status = |s: &str| results.groups.iter().filter(|g| g.status == s).count();
    outln!(
        "{} suspected groups over {} accounts ({} unreported, {} partially reported, {} reported); {} evidence links; {} wash-trade groups",
        results.groups.len(),
        results
            .groups
            .iter()
            .map(|g| g.accounts.len())
            .sum::<usize>(),
        by_status("unreported"),
        by_status("partially_reported"),
        by_status("reported"),
        results.links,
        results.wash_trades.len(),
    );
    if !results.resolved.is_empty() {
        let mut by_reason: std::collections::BTreeMap<&str, usize> = Default::default();
        for r in &results.resolved {
            *by_reason.entry(r.reason.as_str()).or_default() += 1;
        }
        let reasons: Vec<String> = by_reason.iter().map(|(k, n)| format!("{k} {n}")).collect();
        outln!(
            "{} person and company records resolved to another record of the same subject ({})",
            results.resolved.len(),
            reasons.join(", ")
        );
    }
    let checks = &analysed.surveillance;
    outln!(
        "{} limit breaches ({} only as a group); {} reporting findings",
        checks.breaches.len(),
        checks.breaches.iter().filter(|b| b.only_as_group).count(),
        checks.reporting.len(),
    );
    outln!("stage timings:");
    for t in &results.timings {
        outln!("  {:<14} {:>8.2}s", t.stage, t.seconds);
    }
    outln!(
        "  {:<14} {:>8.2}s",
        "total",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn eval_cmd(ctx: &Ctx, args: &EvalArgs) -> Result<()> {
    let store = require_store(ctx)?;
    let Some(results) = load_results(&*store)? else {
        return Err(
            InputError("no analysis in the store (run `ctrlgraph analyze` first)".into()).into(),
        );
    };
    let truth = crate::quality::read_truth(&args.truth)?.groups;
    let n = store.count(graph_core::model::Table::Accounts)? as usize;
    let detected: Vec<Vec<String>> = results.groups.iter().map(|g| g.accounts.clone()).collect();
    let ours = detectors::eval::evaluate(&detected, &truth, n);
    let g = ingest::load::load_graph(&*store, ctx.progress)?;
    let naive: Vec<Vec<String>> = detectors::eval::naive_identifier_components(&g)
        .into_iter()
        .map(|c| c.into_iter().map(|a| g.key(a).to_owned()).collect())
        .collect();
    let base = detectors::eval::evaluate(&naive, &truth, n);
    let (settings, rules) = detectors::eval::tuned_rule_baseline(&g, &truth, n);
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "ctrlgraph": ours,
                "rule_baseline": rules,
                "rule_baseline_settings": settings,
                "naive_baseline": base,
                "accounts": n,
            })
        );
        return Ok(());
    }
    outln!(
        "{:<28} {:>10} {:>10} {:>10}",
        "metric",
        "ctrlgraph",
        "rules",
        "naive"
    );
    let rows = [
        (
            "pairwise precision",
            ours.precision,
            rules.precision,
            base.precision,
        ),
        ("pairwise recall", ours.recall, rules.recall, base.recall),
        ("pairwise F1", ours.f1, rules.f1, base.f1),
        (
            "group recall (Jaccard>=0.5)",
            ours.group_recall,
            rules.group_recall,
            base.group_recall,
        ),
        ("adjusted Rand index", ours.ari, rules.ari, base.ari),
    ];
    for (name, a, r, b) in rows {
        outln!("{name:<28} {a:>10.4} {r:>10.4} {b:>10.4}");
    }
    let groups = format!("groups (true: {})", ours.true_groups);
    outln!(
        "{groups:<28} {:>10} {:>10} {:>10}",
        ours.detected_groups,
        rules.detected_groups,
        base.detected_groups
    );
    outln!(
        "rules: the union-find baseline at its best settings for this truth (hubs above {} subjects, pairs with at least {} transfers)",
        settings.hub_limit,
        settings.min_transfers
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct QualityArgs {
    /// A dataset folder with its truth.csv (repeatable).
    #[arg(long = "dataset")]
    pub datasets: Vec<PathBuf>,
    /// A generated dataset, `PROFILE:SEED[:ACCOUNTS]` (repeatable).
    #[arg(long = "gen")]
    pub generated: Vec<String>,
    /// Accounts of a generated dataset when its spec does not say.
    #[arg(long, default_value_t = 20_000)]
    pub accounts: usize,
    /// A settings variant, `NAME` or `NAME:path.to.field=value,...` (repeatable; default: the
    /// default settings alone).
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Analysis settings (TOML) the variants start from.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Print the rows as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads an analysis settings file (TOML; every field optional).
pub fn read_settings(path: &Path) -> Result<detectors::analysis::AnalysisConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the settings file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| InputError(format!("{}: {e}", path.display())).into())
}

pub fn quality_cmd(ctx: &Ctx, args: &QualityArgs) -> Result<()> {
    use crate::quality::{DatasetSpec, parse_variant, run_grid};
    let mut datasets: Vec<DatasetSpec> = args
        .datasets
        .iter()
        .cloned()
        .map(DatasetSpec::Folder)
        .collect();
    for spec in &args.generated {
        let parts: Vec<&str> = spec.split(':').collect();
        let bad = || InputError(format!("--gen is PROFILE:SEED[:ACCOUNTS], not `{spec}`"));
        let (profile, seed, accounts) = match parts.as_slice() {
            [p, s] => (*p, s.parse().map_err(|_| bad())?, args.accounts),
            [p, s, n] => (
                *p,
                s.parse().map_err(|_| bad())?,
                n.parse().map_err(|_| bad())?,
            ),
            _ => return Err(bad().into()),
        };
        datasets.push(DatasetSpec::Generated {
            profile: profile.to_owned(),
            seed,
            accounts,
        });
    }
    if datasets.is_empty() {
        return Err(InputError("give at least one --dataset or --gen".into()).into());
    }
    let base = match &args.settings {
        Some(p) => read_settings(p)?,
        None => Default::default(),
    };
    let specs = if args.variants.is_empty() {
        vec!["default".to_owned()]
    } else {
        args.variants.clone()
    };
    let variants = specs
        .iter()
        .map(|s| parse_variant(s, &base).map_err(|e| InputError(format!("{e:#}")).into()))
        .collect::<Result<Vec<_>>>()?;
    let pb = stage_bar(ctx.progress);
    let rows = run_grid(&datasets, &variants, &mut |s| pb.set_message(s.to_owned()))?;
    pb.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "{:<34} {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8}  weak/strong/registry members found",
        "dataset",
        "variant",
        "P",
        "R",
        "F1",
        "GR",
        "ARI",
        "rulesF1"
    );
    for r in &rows {
        let ties: Vec<String> = r
            .ties
            .iter()
            .map(|t| format!("{} {}/{}", t.tie, t.found, t.members))
            .collect();
        outln!(
            "{:<34} {:<22} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>8.3}  {}",
            r.dataset,
            r.variant,
            r.metrics.precision,
            r.metrics.recall,
            r.metrics.f1,
            r.metrics.group_recall,
            r.metrics.ari,
            r.rules.f1,
            ties.join(", ")
        );
    }
    Ok(())
}

pub fn report_cmd(ctx: &Ctx, args: &ReportArgs) -> Result<()> {
    let store = require_store(ctx)?;
    if let Some(m) = args.min_score
        && !(0.0..=1.0).contains(&m)
    {
        return Err(InputError(format!("--min-score {m} is outside [0, 1]")).into());
    }
    let opts = reports::ReportOptions {
        formats: args.format.clone(),
        out: args.out.clone(),
        lang: args.lang,
        filters: reports::Filters {
            min_score: args.min_score,
            statuses: args.status.clone(),
        },
        since: args.since.clone(),
        breach_charts: args.breach_charts,
    };
    let started = std::time::Instant::now();
    let pb = stage_bar(ctx.progress);
    let written =
        match reports::write_reports(&*store, &opts, &mut |s| pb.set_message(s.to_owned())) {
            Ok(w) => w,
            Err(e) if e.is_input_error() => return Err(InputError(e.to_string()).into()),
            Err(e) => return Err(e).context("writing the reports"),
        };
    pb.finish_and_clear();
    outln!(
        "{} groups over {} accounts reported in {:.1}s",
        written.groups,
        written.accounts,
        started.elapsed().as_secs_f64()
    );
    if let Some(c) = &written.changes {
        use reports::ChangeKind as K;
        outln!(
            "since {}: {} new, {} grown, {} shrunk, {} reshaped, {} dissolved, {} unchanged",
            c.previous_created_at,
            c.count(K::New),
            c.count(K::Grown),
            c.count(K::Shrunk),
            c.count(K::Reshaped),
            c.count(K::Dissolved),
            c.unchanged
        );
    }
    for f in &written.files {
        outln!("wrote {}", f.display());
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The account to compare with.
    pub account: String,
    /// How many accounts to list.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
}

pub fn similar_cmd(ctx: &Ctx, args: &SimilarArgs) -> Result<()> {
    let store = require_store(ctx)?;
    let Some(emb) = service::load_embeddings(&*store)? else {
        return Err(InputError(
            "no embeddings in the store (run `ctrlgraph analyze` first)".into(),
        )
        .into());
    };
    let account = resolve_id(&args.account, emb.ids.iter().map(String::as_str));
    let Some(similar) = emb.similar(&account, args.k) else {
        return Err(InputError(format!(
            "no account `{}` in the analysed graph",
            args.account
        ))
        .into());
    };
    outln!("{:<24} {:>8}", "account", "cosine");
    for (id, cos) in similar {
        outln!("{id:<24} {cos:>8.4}");
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "CTRLGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The tokens file: `[[token]]` tables with name, role (viewer|analyst|admin) and the
    /// SHA-256 of the token (`ctrlgraph token add` writes them).
    #[arg(long, env = "CTRLGRAPH_TOKENS")]
    pub tokens: PathBuf,
    /// The audit log (one JSON line per request); default: audit.log in the store folder
    /// (ctrlgraph-audit.log in the working folder for a Neo4j store).
    #[arg(long, env = "CTRLGRAPH_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// The built investigation page.
    #[arg(long, env = "CTRLGRAPH_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// The built GraphiQL explorer.
    #[arg(long, env = "CTRLGRAPH_GRAPHIQL_DIR", default_value = "graphiql/dist")]
    pub graphiql_dir: PathBuf,
    /// Requests taking longer are stopped with a TIMEOUT error.
    #[arg(long, env = "CTRLGRAPH_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Largest request body, in bytes.
    #[arg(long, env = "CTRLGRAPH_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Deepest query accepted.
    #[arg(long, default_value_t = 12)]
    pub max_depth: usize,
    /// Most complex query accepted (a point per field; pages and traversals weigh by what
    /// their arguments ask for: `first`, `k`, `limit`, `depth`, `maxHops`).
    #[arg(long, default_value_t = 5_000)]
    pub max_complexity: usize,
    /// Most root fields (aliases of one field included) in one operation.
    #[arg(long, default_value_t = 32)]
    pub max_root_fields: usize,
    /// Most aliases in one request.
    #[arg(long, default_value_t = 64)]
    pub max_aliases: usize,
    /// Largest response, in bytes; a larger one is replaced by a RESPONSE_TOO_LARGE error.
    #[arg(long, env = "CTRLGRAPH_RESPONSE_LIMIT", default_value_t = 16 * 1024 * 1024)]
    pub response_limit: usize,
    /// Seed of re-analyses started through the API.
    #[arg(long, env = "CTRLGRAPH_SEED", default_value_t = 42)]
    pub seed: u64,
    /// How often to pick up reviews and analyses written by other servers sharing the store, in
    /// milliseconds (0: never).
    #[arg(long, env = "CTRLGRAPH_REFRESH_MS", default_value_t = 10_000)]
    pub refresh_ms: u64,
}

pub fn serve_cmd(ctx: &Ctx, args: &ServeArgs) -> Result<()> {
    let store = require_store(ctx)?;
    let tokens = match gql_api::Tokens::load(&args.tokens) {
        Ok(t) if t.is_empty() => {
            return Err(InputError(format!(
                "{}: no tokens (add one with `ctrlgraph token add`)",
                args.tokens.display()
            ))
            .into());
        }
        Ok(t) => t,
        Err(e) => return Err(InputError(e.to_string()).into()),
    };
    let mut analyze = service::AnalyzeOptions::default();
    analyze.config.embedding.seed = args.seed;
    let started = std::time::Instant::now();
    let pb = stage_bar(ctx.progress);
    pb.set_message("loading the analysed graph");
    let shared = gql_api::Shared::load(std::sync::Arc::from(store), analyze)
        .map_err(|e| anyhow::anyhow!("loading the store: {e}"))?;
    pb.finish_and_clear();
    let snap = shared.snapshot();
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        nodes = snap.graph.node_count(),
        groups = snap.results.groups.len(),
        "snapshot loaded"
    );
    let mut cfg = gql_api::ServerConfig::new(
        tokens,
        args.audit_log.clone().unwrap_or_else(|| {
            if ctx.is_neo4j() {
                PathBuf::from("ctrlgraph-audit.log")
            } else {
                ctx.store.join("audit.log")
            }
        }),
    );
    // Revoked or added tokens take effect at the next request.
    cfg.tokens_file = Some(args.tokens.clone());
    cfg.web_dir = Some(args.web_dir.clone());
    cfg.graphiql_dir = Some(args.graphiql_dir.clone());
    cfg.timeout = std::time::Duration::from_millis(args.request_timeout_ms);
    cfg.body_limit = args.body_limit;
    cfg.refresh = (args.refresh_ms > 0).then(|| std::time::Duration::from_millis(args.refresh_ms));
    cfg.response_limit = args.response_limit;
    cfg.limits = gql_api::Limits {
        depth: args.max_depth,
        complexity: args.max_complexity,
        root_fields: args.max_root_fields,
        aliases: args.max_aliases,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // A server that fails to start leaves no empty audit log behind.
    let audit_is_new = !cfg.audit.exists();
    let served = rt.block_on(async {
        let listener = gql_api::server::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        outln!(
            "serving {} groups over {} nodes on http://{addr} (GraphQL: /graphql, GraphiQL: /graphiql, page: /; audit: {})",
            snap.results.groups.len(),
            snap.graph.node_count(),
            cfg.audit.display()
        );
        drop(snap);
        std::io::stdout().flush()?;
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
            tracing::info!("shutting down");
        };
        gql_api::serve(std::sync::Arc::new(shared), &cfg, listener, shutdown).await?;
        anyhow::Ok(())
    });
    if served.is_err()
        && audit_is_new
        && std::fs::metadata(&cfg.audit).is_ok_and(|m| m.is_file() && m.len() == 0)
    {
        let _ = std::fs::remove_file(&cfg.audit);
    }
    served
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The tokens file (created when absent).
    #[arg(long, env = "CTRLGRAPH_TOKENS")]
    pub tokens: PathBuf,
    /// Who the token is for (shown in the audit log).
    #[arg(long)]
    pub name: String,
    /// viewer, analyst or admin.
    #[arg(long, value_parser = ["viewer", "analyst", "admin"])]
    pub role: String,
}

pub fn token_cmd(args: &TokenArgs) -> Result<()> {
    let role = match args.role.as_str() {
        "viewer" => gql_api::Role::Viewer,
        "analyst" => gql_api::Role::Analyst,
        _ => gql_api::Role::Admin,
    };
    let token = gql_api::auth::add_token(&args.tokens, &args.name, role)?;
    outln!("{token}");
    eprintln!(
        "added {} {} token for {} to {} (only its hash is stored; keep the token above)",
        if args.role.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        },
        args.role,
        args.name,
        args.tokens.display()
    );
    Ok(())
}

pub fn schema_cmd() -> Result<()> {
    write!(std::io::stdout().lock(), "{}", gql_api::sdl())?;
    Ok(())
}
