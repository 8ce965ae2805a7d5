//! Batch reports of suspected control groups, for supervisors and regulators: one
//! self-contained HTML file (summary charts, then one section per group with its accounts,
//! controller, score breakdown, criteria, evidence drawing and evidence tables), an XLSX
//! workbook, CSV files and a JSON document with stable, documented columns (`README.md` of this
//! crate), in English or Simplified Chinese, optionally with the changes since an earlier
//! analysis. Where the store holds surveillance findings, every format carries the limit
//! breaches and the monthly statistics ([`monthly`]), and the HTML charts the positions of the
//! groups with position breaches ([`breach_charts`]).
//!
//! Reports read the analysed store and write files; they never reach the network (the HTML
//! carries its styles, charts and drawings inline and names no URL).
//!
//! [`write_reports`] is the entry point; [`view::build`] makes the one view of an analysis that
//! every format renders.

pub mod breach_charts;
pub mod changes;
pub mod charts;
pub mod drawing;
pub mod evidence;
mod html;
pub mod i18n;
pub mod monthly;
mod tables;
pub mod view;
mod xlsx;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use detectors::results::AnalysisResults;
use ingest::{Store, StoreError};

pub use breach_charts::DEFAULT_BREACH_CHARTS;
pub use changes::{ChangeKind, Changes};
pub use i18n::Lang;
pub use view::{Filters, ReportView};

/// The file names a report writes into its folder.
pub const HTML_FILE: &str = "report.html";
pub const XLSX_FILE: &str = "report.xlsx";
pub const JSON_FILE: &str = "report.json";
pub const GROUPS_CSV: &str = "groups.csv";
pub const ACCOUNTS_CSV: &str = "accounts.csv";
pub const CANDIDATES_CSV: &str = "candidates.csv";
pub const EVIDENCE_CSV: &str = "evidence.csv";
pub const WASH_CSV: &str = "wash_trades.csv";
pub const CHANGES_CSV: &str = "changes.csv";
pub const BREACHES_CSV: &str = "breaches.csv";
pub const BREACHES_JSON: &str = "breaches.json";
pub const MONTHLY_CSV: &str = "monthly.csv";

/// Errors of a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no analysis in the store (run `ctrlgraph analyze` first)")]
    NoAnalysis,
    #[error("cannot compare with `{since}`: {reason}")]
    Since { since: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] service::ServiceError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("rendering the HTML report: {0}")]
    Template(#[from] minijinja::Error),
    #[error("writing the XLSX report: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("encoding the JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

impl ReportError {
    /// Whether the error is the user's input or usage (exit code 2) rather than a failure.
    pub fn is_input_error(&self) -> bool {
        matches!(self, ReportError::NoAnalysis | ReportError::Since { .. })
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Html,
    Xlsx,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "html" => Ok(Format::Html),
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!(
                "unknown report format `{s}` (expected html, xlsx, csv or json)"
            )),
        }
    }
}

/// What to report and where.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub formats: Vec<Format>,
    pub out: PathBuf,
    pub lang: Lang,
    pub filters: Filters,
    /// An earlier analysis to compare with: `previous` (the one before the latest), the
    /// `created_at` of a stored one, or the path of an earlier JSON report (or its folder).
    pub since: Option<String>,
    /// How many groups with position breaches the HTML report draws charts for, in the order of
    /// its breaches table ([`DEFAULT_BREACH_CHARTS`] by default).
    pub breach_charts: usize,
}

/// What [`write_reports`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub groups: usize,
    pub accounts: usize,
    pub changes: Option<Changes>,
}

/// The earlier groups `since` names: (what it was, its `created_at`, its groups).
fn earlier(store: &dyn Store, since: &str) -> Result<(String, changes::Groups), ReportError> {
    let path = Path::new(since);
    if path.exists() {
        return changes::read_json_report(path);
    }
    let history = service::list_history(store)?;
    let created_at = if since == "previous" {
        history.last().cloned().ok_or_else(|| ReportError::Since {
            since: since.to_owned(),
            reason: "the store keeps no earlier analysis (analyse again to keep one)".into(),
        })?
    } else {
        since.to_owned()
    };
    let Some(old) = service::load_history(store, &created_at)? else {
        return Err(ReportError::Since {
            since: since.to_owned(),
            reason: if history.is_empty() {
                "no such file, and the store keeps no earlier analysis".into()
            } else {
                format!(
                    "no such file nor stored analysis; stored analyses: {}",
                    history.join(", ")
                )
            },
        });
    };
    Ok((
        old.created_at,
        old.groups.into_iter().map(|g| (g.id, g.accounts)).collect(),
    ))
}

/// Compares `current` with the earlier analysis `since` names.
pub fn changes_since(
    store: &dyn Store,
    since: &str,
    current: &AnalysisResults,
) -> Result<Changes, ReportError> {
    let (created_at, before) = earlier(store, since)?;
    let now: changes::Groups = current
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.accounts.clone()))
        .collect();
    Ok(changes::compare(since, &created_at, &before, &now))
}

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T, ReportError>) -> Result<T, ReportError> {
    let t = Instant::now();
    let out = f()?;
    tracing::info!("{what} in {:.2}s", t.elapsed().as_secs_f64());
    Ok(out)
}

/// Writes the reports of the latest stored analysis. `stage` is called before each step.
pub fn write_reports(
    store: &dyn Store,
    opts: &ReportOptions,
    stage: &mut dyn FnMut(&str),
) -> Result<Written, ReportError> {
    stage("reading the analysis");
    let results = service::load_results(store)?.ok_or(ReportError::NoAnalysis)?;
    let changes = match &opts.since {
        Some(s) => Some(changes_since(store, s, &results)?),
        None => None,
    };
    stage("reading accounts, holders and members");
    let view = timed("report view", || {
        view::build(store, &results, &opts.filters, changes)
    })?;
    drop(results);
    let mut view = view;
    if let Some(found) = service::load_surveillance(store)? {
        // The report's detected groups and every reported group.
        let listed: std::collections::HashSet<&str> =
            view.groups.iter().map(|g| g.id.as_str()).collect();
        view.breaches = found
            .breaches
            .into_iter()
            .filter(|b| {
                b.source == detectors::surveillance::GroupSource::Reported
                    || listed.contains(b.group_id.as_str())
            })
            .collect();
        view.reporting = found.reporting;
        view.as_of = found.as_of;
    }
    if opts.formats.contains(&Format::Html) {
        stage("reading the positions of breaching groups");
        view.breach_charts = timed("breach charts", || {
            breach_charts::load(store, &view, opts.breach_charts)
        })?;
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| ReportError::Io {
        path: opts.out.clone(),
        source,
    })?;
    let mut files = Vec::new();
    let mut formats = opts.formats.clone();
    formats.sort();
    formats.dedup();
    for f in formats {
        match f {
            Format::Csv => {
                stage("writing CSV");
                files.extend(timed("CSV", || tables::write_csv(&view, &opts.out))?);
            }
            Format::Json => {
                stage("writing JSON");
                let path = opts.out.join(JSON_FILE);
                timed("JSON", || {
                    ingest::store::write_atomically(&path, |w| {
                        serde_json::to_writer_pretty(&mut *w, &view)?;
                        w.write_all(b"\n")
                    })
                    .map_err(ReportError::from)
                })?;
                files.push(path);
                let path = opts.out.join(BREACHES_JSON);
                timed("breaches JSON", || {
                    ingest::store::write_atomically(&path, |w| {
                        serde_json::to_writer_pretty(
                            &mut *w,
                            &serde_json::json!({
                                "format_version": 1,
                                "analysis_created_at": view.analysis_created_at,
                                "breaches": view.breaches,
                            }),
                        )?;
                        w.write_all(b"\n")
                    })
                    .map_err(ReportError::from)
                })?;
                files.push(path);
            }
            Format::Xlsx => {
                stage("writing XLSX");
                let path = opts.out.join(XLSX_FILE);
                timed("XLSX", || xlsx::write(&view, opts.lang, &path))?;
                files.push(path);
            }
            Format::Html => {
                stage("writing HTML");
                let path = opts.out.join(HTML_FILE);
                timed("HTML", || html::write(&view, opts.lang, &path))?;
                files.push(path);
            }
        }
    }
    Ok(Written {
        files,
        groups: view.groups.len(),
        accounts: view.summary.grouped_accounts,
        changes: view.changes,
    })
}
