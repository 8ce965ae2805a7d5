//! An ingest run: every file of a dataset folder, in dependency order, validated row by row and
//! written to a store's [`Sink`] in one transaction.
//!
//! Node files come first (members, persons, entities, accounts) so that every later reference can
//! be checked against the ids this dataset and the store define. Each row ends up either loaded or
//! rejected, never both and never neither: `loaded + rejected == read` for every file.

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ahash::{AHashMap, RandomState};
use csv::ByteRecord;
use graph_core::model::{Record, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::{FileSummary, IngestSummary, Reject, Warning};
use crate::rows::{self, Columns};
use crate::store::{Sink, Store, StoreError};

/// The text encoding of a dataset's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a BOM.
    #[default]
    Utf8,
    /// GBK (GB 2312 extended), common in exchange and registry exports.
    Gbk,
}

impl std::str::FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Ok(Encoding::Gbk),
            _ => Err(format!("unknown encoding `{s}` (expected utf-8 or gbk)")),
        }
    }
}

/// Options of an ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub encoding: Encoding,
    /// Draw a progress bar per file on standard error.
    pub progress: bool,
}

/// Errors that stop an ingest run. Nothing of the run is committed when one occurs.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0} is not a folder")]
    NotADirectory(PathBuf),
    #[error("{0}: accounts.csv is required and missing")]
    MissingAccounts(PathBuf),
    #[error("{file}: line 1: missing required column(s): {}", columns.join(", "))]
    MissingColumns {
        file: PathBuf,
        columns: Vec<&'static str>,
    },
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IngestError {
    /// Whether the error is the input's fault (exit code 2) rather than the system's (exit 1).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            IngestError::NotADirectory(_)
                | IngestError::MissingAccounts(_)
                | IngestError::MissingColumns { .. }
        )
    }
}

/// The kind of node an id names, for reference checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    Member,
    Person,
    Entity,
    Account,
}

impl IdKind {
    fn of(table: Table) -> Option<IdKind> {
        match table {
            Table::Members => Some(IdKind::Member),
            Table::Persons => Some(IdKind::Person),
            Table::Entities => Some(IdKind::Entity),
            Table::Accounts => Some(IdKind::Account),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            IdKind::Member => "member",
            IdKind::Person => "person",
            IdKind::Entity => "entity",
            IdKind::Account => "account",
        }
    }
}

/// Every node id known to the run: those already in the store and those loaded so far.
#[derive(Default)]
struct Ids(AHashMap<Box<str>, IdKind>);

impl Ids {
    fn check(&self, column: &str, id: &str, allowed: &[IdKind]) -> Result<(), rows::RowError> {
        match self.0.get(id) {
            Some(k) if allowed.contains(k) => Ok(()),
            Some(k) => Err(rows::RowError {
                column: column.to_owned(),
                reason: format!(
                    "`{id}` is a {}, not a {}",
                    k.noun(),
                    allowed
                        .iter()
                        .map(|a| a.noun())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            }),
            None => Err(rows::RowError {
                column: column.to_owned(),
                reason: format!(
                    "unknown {} `{id}`: no file defines it",
                    allowed
                        .iter()
                        .map(|a| a.noun())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            }),
        }
    }
}

/// Checks that every id a record names exists with the right kind.
fn check_references(ids: &Ids, rec: &Record) -> Result<(), rows::RowError> {
    use IdKind::*;
    const HOLDER: &[IdKind] = &[Person, Entity];
    match rec {
        Record::Member(_) | Record::Person(_) | Record::Entity(_) => Ok(()),
        Record::Account(a) => {
            ids.check("holder_id", &a.holder_id, HOLDER)?;
            match &a.member_id {
                Some(m) => ids.check("member_id", m, &[Member]),
                None => Ok(()),
            }
        }
        Record::Shareholding(s) => {
            ids.check("owner_id", &s.owner_id, HOLDER)?;
            ids.check("entity_id", &s.entity_id, &[Entity])
        }
        Record::Officer(o) => {
            ids.check("person_id", &o.person_id, &[Person])?;
            ids.check("entity_id", &o.entity_id, &[Entity])
        }
        Record::Relation(r) => {
            ids.check("from_id", &r.from_id, HOLDER)?;
            ids.check("to_id", &r.to_id, HOLDER)
        }
        Record::Authorization(a) => {
            ids.check("account_id", &a.account_id, &[Account])?;
            ids.check("person_id", &a.person_id, &[Person])
        }
        Record::Identifier(i) => ids.check("subject_id", &i.subject_id, &[Account, Person, Entity]),
        Record::Transfer(t) => {
            ids.check("from_account", &t.from_account, &[Account])?;
            ids.check("to_account", &t.to_account, &[Account])
        }
        Record::Trade(t) => {
            ids.check("buy_account", &t.buy_account, &[Account])?;
            ids.check("sell_account", &t.sell_account, &[Account])
        }
        Record::ReportedGroup(g) => ids.check("account_id", &g.account_id, &[Account]),
        Record::Position(p) => ids.check("account_id", &p.account_id, &[Account]),
        Record::Order(o) => ids.check("account_id", &o.account_id, &[Account]),
        Record::Limit(_) | Record::TradingDay(_) => Ok(()),
    }
}

/// The node id a node record defines.
fn defined_id(rec: &Record) -> Option<&str> {
    match rec {
        Record::Member(r) => Some(&r.member_id),
        Record::Person(r) => Some(&r.person_id),
        Record::Entity(r) => Some(&r.entity_id),
        Record::Account(r) => Some(&r.account_id),
        _ => None,
    }
}

/// Opens a dataset file as UTF-8 bytes, decoding GBK and dropping a BOM.
fn open(path: &Path, encoding: Encoding, pb: &ProgressBar) -> Result<Box<dyn Read>, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read {
        file: path.to_owned(),
        source,
    })?;
    let read = pb.wrap_read(BufReader::with_capacity(1 << 20, file));
    match encoding {
        // The csv reader drops a UTF-8 BOM itself; bytes go through untouched and each cell is
        // checked for valid UTF-8 when parsed.
        Encoding::Utf8 => Ok(Box::new(read)),
        // GBK is transcoded to UTF-8 on the fly (a BOM, if an export added one, still wins).
        Encoding::Gbk => Ok(Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GBK))
                .bom_sniffing(true)
                .build(read),
        )),
    }
}

fn raw_line(rec: &ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_byte_record(rec);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

/// The state of one run across files.
struct Run<'s> {
    sink: Box<dyn Sink + 's>,
    ids: Ids,
    hasher: RandomState,
}

impl Run<'_> {
    fn ingest_file(
        &mut self,
        table: Table,
        path: &Path,
        opts: &IngestOptions,
    ) -> Result<FileSummary, IngestError> {
        let file_name = table.file_name();
        let started = Instant::now();
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let pb = if opts.progress {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template(
                "{msg:>20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        pb.set_message(file_name.clone());
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(open(path, opts.encoding, &pb)?);
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(|e| IngestError::Read {
                file: path.to_owned(),
                source: std::io::Error::other(e),
            })?
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let cols = Columns::from_header(table, &header).map_err(|columns| {
            IngestError::MissingColumns {
                file: path.to_owned(),
                columns,
            }
        })?;
        let width = header.len();
        let mut summary = FileSummary {
            file: file_name.clone(),
            ..FileSummary::default()
        };
        // Key hash -> (content hash, line): detects duplicates within this dataset.
        let mut seen: AHashMap<u64, (u64, u64)> = AHashMap::new();
        // Shareholding totals per entity, for the over-100% warning.
        let mut totals: AHashMap<String, f64> = AHashMap::new();
        let mut rec = ByteRecord::new();
        let mut line = 1u64;
        loop {
            match reader.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    line = rec.position().map_or(line + 1, |p| p.line());
                }
                Err(e) => {
                    // Malformed CSV (for instance an unterminated quote): the row is unusable.
                    line = e.position().map_or(line + 1, |p| p.line());
                    summary.read += 1;
                    summary.rejected += 1;
                    self.sink.reject(&Reject {
                        file: file_name.clone(),
                        line,
                        column: String::new(),
                        reason: format!("malformed CSV: {e}"),
                        raw: raw_line(&rec),
                    })?;
                    continue;
                }
            }
            summary.read += 1;
            let outcome = self.row(table, &cols, &rec, width, line, &mut seen, &mut totals);
            match outcome {
                Ok(warnings) => {
                    summary.loaded += 1;
                    summary.warnings += warnings.len() as u64;
                    for w in warnings {
                        self.sink.warn(&Warning {
                            file: file_name.clone(),
                            line,
                            column: w.column,
                            message: w.message,
                        })?;
                    }
                }
                Err(RowOutcome::Rejected(e)) => {
                    summary.rejected += 1;
                    self.sink.reject(&Reject {
                        file: file_name.clone(),
                        line,
                        column: e.column,
                        reason: e.reason,
                        raw: raw_line(&rec),
                    })?;
                }
                Err(RowOutcome::Store(e)) => return Err(e.into()),
            }
        }
        let mut over: Vec<_> = totals
            .into_iter()
            .filter(|(_, t)| *t > 100.0 + 1e-9)
            .collect();
        over.sort_by(|a, b| a.0.cmp(&b.0));
        for (entity, total) in over {
            summary.warnings += 1;
            self.sink.warn(&Warning {
                file: file_name.clone(),
                line: 0,
                column: "share_pct".into(),
                message: format!("shareholdings of entity `{entity}` add up to {total:.2}%"),
            })?;
        }
        pb.finish_and_clear();
        summary.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            file = %file_name,
            read = summary.read,
            loaded = summary.loaded,
            rejected = summary.rejected,
            warnings = summary.warnings,
            "file ingested"
        );
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        table: Table,
        cols: &Columns,
        rec: &ByteRecord,
        width: usize,
        line: u64,
        seen: &mut AHashMap<u64, (u64, u64)>,
        totals: &mut AHashMap<String, f64>,
    ) -> Result<Vec<rows::RowWarning>, RowOutcome> {
        if rec.len() > width {
            return Err(RowOutcome::Rejected(rows::RowError {
                column: String::new(),
                reason: format!("row has {} cells, the header {width}", rec.len()),
            }));
        }
        let (record, mut warnings) = rows::parse(table, cols, rec).map_err(RowOutcome::Rejected)?;
        check_references(&self.ids, &record).map_err(RowOutcome::Rejected)?;
        let key = record.key();
        let encoded = postcard::to_stdvec(&record).map_err(|e| RowOutcome::Store(e.into()))?;
        let key_hash = self.hasher.hash_one(&key);
        let mut h = self.hasher.build_hasher();
        h.write(&encoded);
        let content_hash = h.finish();
        if let Some(&(prev, prev_line)) = seen.get(&key_hash) {
            if prev != content_hash {
                return Err(RowOutcome::Rejected(rows::RowError {
                    column: String::new(),
                    reason: format!(
                        "duplicate of line {prev_line} (same key `{}`) with conflicting content",
                        key.replace('\u{1f}', "|")
                    ),
                }));
            }
            warnings.push(rows::RowWarning {
                column: String::new(),
                message: format!("exact duplicate of line {prev_line}"),
            });
            return Ok(warnings);
        }
        if let (Some(kind), Some(id)) = (IdKind::of(table), defined_id(&record)) {
            match self.ids.0.get(id) {
                Some(k) if *k != kind => {
                    return Err(RowOutcome::Rejected(rows::RowError {
                        column: known_id_column(table).into(),
                        reason: format!("id `{id}` is already used by a {}", k.noun()),
                    }));
                }
                Some(_) => {}
                None => {
                    self.ids.0.insert(id.into(), kind);
                }
            }
        }
        if let Record::Shareholding(s) = &record {
            *totals.entry(s.entity_id.clone()).or_default() += s.share_min;
        }
        seen.insert(key_hash, (content_hash, line));
        self.sink.put(&record).map_err(RowOutcome::Store)?;
        Ok(warnings)
    }
}

fn known_id_column(table: Table) -> &'static str {
    rows::known_columns(table)[0].0
}

enum RowOutcome {
    Rejected(rows::RowError),
    Store(StoreError),
}

/// Ingests every contract file found in `dir` into `store`, as one transaction.
pub fn ingest_dir(
    dir: &Path,
    store: &dyn Store,
    opts: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    if !dir.is_dir() {
        return Err(IngestError::NotADirectory(dir.to_owned()));
    }
    if !dir.join(Table::Accounts.file_name()).is_file() {
        return Err(IngestError::MissingAccounts(dir.to_owned()));
    }
    let mut ids = Ids::default();
    for t in [
        Table::Members,
        Table::Persons,
        Table::Entities,
        Table::Accounts,
    ] {
        let kind = IdKind::of(t).expect("node tables have an id kind");
        store.scan_keys(t, &mut |k| {
            ids.0.insert(k.into(), kind);
        })?;
    }
    let mut run = Run {
        sink: store.begin()?,
        ids,
        hasher: RandomState::with_seeds(1, 2, 3, 4),
    };
    let mut files = Vec::new();
    for table in Table::ALL {
        let path = dir.join(table.file_name());
        if path.is_file() {
            files.push(run.ingest_file(*table, &path, opts)?);
        }
    }
    let summary = IngestSummary {
        dataset: dir.display().to_string(),
        finished_at: chrono::Utc::now().to_rfc3339(),
        files,
        seconds: started.elapsed().as_secs_f64(),
    };
    run.sink.commit(&summary)?;
    Ok(summary)
}
