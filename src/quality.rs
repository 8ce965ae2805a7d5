//! `ctrlgraph quality`: detection quality over a grid of datasets and analysis settings.
//!
//! Each dataset (a folder with `truth.csv`, or one the generator makes from a profile and a seed)
//! is ingested once into a scratch store; then every settings variant is analysed and scored with
//! the contract's metrics, beside the tuned rule baseline. Rows come out worst first, because the
//! figure that counts for data nobody here has seen is the worst one, not the mean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use detectors::analysis::{AnalysisConfig, AnalysisInput};
use detectors::eval::{Metrics, evaluate, tuned_rule_baseline};
use ingest::{IngestOptions, RedbStore, Store};
use serde::Serialize;

/// One dataset of the grid.
#[derive(Debug, Clone)]
pub enum DatasetSpec {
    /// A folder holding a dataset and its `truth.csv`.
    Folder(PathBuf),
    /// A dataset the generator makes.
    Generated {
        profile: String,
        seed: u64,
        accounts: usize,
    },
}

impl DatasetSpec {
    /// A short name for tables.
    pub fn name(&self) -> String {
        match self {
            DatasetSpec::Folder(p) => p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into()),
            DatasetSpec::Generated {
                profile,
                seed,
                accounts,
            } => format!("gen:{profile}:{seed}:{accounts}"),
        }
    }
}

/// A named set of changes to the default analysis settings.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub config: AnalysisConfig,
}

/// Parses `NAME` or `NAME:path=value,path=value` into a variant of `base`.
pub fn parse_variant(spec: &str, base: &AnalysisConfig) -> Result<Variant> {
    let (name, sets) = spec.split_once(':').unwrap_or((spec, ""));
    let mut config = base.clone();
    for set in sets.split(',').filter(|s| !s.is_empty()) {
        config = apply_setting(&config, set)?;
    }
    Ok(Variant {
        name: name.to_owned(),
        config,
    })
}

/// Applies one `path.to.field=value` to a configuration (the value read as JSON, or as a string
/// when it is not JSON).
pub fn apply_setting(config: &AnalysisConfig, set: &str) -> Result<AnalysisConfig> {
    let Some((path, value)) = set.split_once('=') else {
        bail!("a setting is `path.to.field=value`, not `{set}`");
    };
    let mut tree = serde_json::to_value(config)?;
    let mut at = &mut tree;
    for part in path.split('.') {
        at = at
            .get_mut(part)
            .with_context(|| format!("no analysis setting `{path}` (at `{part}`)"))?;
    }
    let parsed: serde_json::Value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    *at = parsed;
    serde_json::from_value(tree).with_context(|| format!("the setting `{set}` does not fit"))
}

/// Recall of true members by the kind of tie the generator planted (`tie` column of truth.csv).
#[derive(Debug, Clone, Serialize)]
pub struct TieRecall {
    pub tie: String,
    pub members: usize,
    /// Members placed in a detected group together with at least one member of their true group.
    pub found: usize,
}

/// One row of the grid.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub dataset: String,
    pub variant: String,
    pub metrics: Metrics,
    pub rules: Metrics,
    pub ties: Vec<TieRecall>,
    pub seconds: f64,
}

/// A truth file: groups, and each member's tie when the file says.
#[derive(Debug, Default)]
pub struct Truth {
    pub groups: Vec<Vec<String>>,
    pub tie_of: BTreeMap<String, String>,
}

/// Reads `truth.csv` by column name (`account_id`, `group_id`, and `tie` when present).
pub fn read_truth(path: &Path) -> Result<Truth> {
    // A truth file that cannot be opened is the caller's input, not a failure (exit code 2).
    let mut r = csv::Reader::from_path(path).map_err(|e| {
        crate::commands::InputError(format!(
            "cannot open the truth file {}: {e}",
            path.display()
        ))
    })?;
    let headers = r.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let (Some(ca), Some(cg)) = (col("account_id"), col("group_id")) else {
        return Err(crate::commands::InputError(format!(
            "{}: needs account_id and group_id columns",
            path.display()
        ))
        .into());
    };
    let ct = col("tie");
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tie_of = BTreeMap::new();
    for (i, row) in r.records().enumerate() {
        let row = row.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        groups
            .entry(row[cg].to_owned())
            .or_default()
            .push(row[ca].to_owned());
        if let Some(t) = ct.and_then(|c| row.get(c)) {
            tie_of.insert(row[ca].to_owned(), t.to_owned());
        }
    }
    Ok(Truth {
        groups: groups.into_values().collect(),
        tie_of,
    })
}

fn tie_recall(detected: &[Vec<String>], truth: &Truth) -> Vec<TieRecall> {
    if truth.tie_of.is_empty() {
        return Vec::new();
    }
    let mut true_group: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in truth.groups.iter().enumerate() {
        for a in g {
            true_group.insert(a, i);
        }
    }
    let mut found = std::collections::BTreeSet::new();
    for d in detected {
        let mut by_true: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for a in d {
            if let Some(&t) = true_group.get(a.as_str()) {
                by_true.entry(t).or_default().push(a);
            }
        }
        for members in by_true.values().filter(|m| m.len() >= 2) {
            found.extend(members.iter().copied());
        }
    }
    let mut by_tie: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (a, t) in &truth.tie_of {
        let e = by_tie.entry(t).or_default();
        e.0 += 1;
        if found.contains(a.as_str()) {
            e.1 += 1;
        }
    }
    by_tie
        .into_iter()
        .map(|(tie, (members, found))| TieRecall {
            tie: tie.to_owned(),
            members,
            found,
        })
        .collect()
}

/// Runs the grid: every dataset with every variant. `progress` is told each step.
pub fn run_grid(
    datasets: &[DatasetSpec],
    variants: &[Variant],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for spec in datasets {
        let scratch = tempfile::tempdir().context("creating a scratch folder")?;
        let folder = match spec {
            DatasetSpec::Folder(p) => p.clone(),
            DatasetSpec::Generated {
                profile,
                seed,
                accounts,
            } => {
                progress(&format!("generating {}", spec.name()));
                let dir = scratch.path().join("dataset");
                let Some(p) = fixtures::Profile::named(profile) else {
                    bail!(
                        "unknown generator profile `{profile}` (known: {})",
                        fixtures::Profile::NAMES.join(", ")
                    );
                };
                let cfg = fixtures::GenConfig::with_profile(*accounts, *seed, p);
                fixtures::generate(&cfg, &dir)?;
                dir
            }
        };
        let truth = read_truth(&folder.join("truth.csv"))?;
        progress(&format!("ingesting {}", spec.name()));
        let store_dir = scratch.path().join("store");
        let store = RedbStore::open(&store_dir)?;
        let summary = ingest::ingest_dir(&folder, &store, &IngestOptions::default())
            .with_context(|| format!("ingesting {}", folder.display()))?;
        let totals = summary.totals();
        if totals.rejected > 0 {
            tracing::warn!(
                dataset = %spec.name(),
                rejected = totals.rejected,
                "rows rejected on ingest"
            );
        }
        let g = ingest::load::load_graph(&store, false)?;
        let tapes = service::load_tapes(&store, &g)?;
        let n = store.count(graph_core::model::Table::Accounts)? as usize;
        let (_, rules) = tuned_rule_baseline(&g, &truth.groups, n);
        for v in variants {
            progress(&format!("analysing {} with {}", spec.name(), v.name));
            let started = Instant::now();
            let input = AnalysisInput {
                trades: &tapes.trades,
                trade_ids: &tapes.trade_ids,
                transfers: &tapes.transfers,
                reported: &tapes.reported,
                previous: &[],
            };
            let a = detectors::analysis::run(&g, &input, &v.config, &mut |_| {})?;
            let detected: Vec<Vec<String>> = a
                .results
                .groups
                .iter()
                .map(|g| g.accounts.clone())
                .collect();
            rows.push(Row {
                dataset: spec.name(),
                variant: v.name.clone(),
                metrics: evaluate(&detected, &truth.groups, n),
                rules,
                ties: tie_recall(&detected, &truth),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
    }
    rows.sort_by(|a, b| a.metrics.f1.total_cmp(&b.metrics.f1));
    Ok(rows)
}
