//! An ingest run: every file of a dataset folder, in dependency order, validated row by row and
//! written to a store's [`Sink`] in one transaction.
//!
//! Node files come first (members, persons, entities, accounts) so that every later reference can
//! be checked against the ids this dataset and the store define. Each row ends up either loaded or
//! rejected, never both and never neither: `loaded + rejected == read` for every file.

use std::cell::RefCell;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use ahash::{AHashMap, RandomState};
use csv::ByteRecord;
use graph_core::model::{Record, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::csvfile::{Next, Rows};
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
    /// A contract file that exists (as a folder entry) but cannot be read as a file.
    #[error("{file}: cannot be read: {reason}")]
    Unreadable { file: PathBuf, reason: String },
    #[error("{file}: line {line}: column `{column}` appears twice (columns {first} and {second})")]
    DuplicateColumn {
        file: PathBuf,
        line: u64,
        column: String,
        first: usize,
        second: usize,
    },
    #[error("{file}: line {line}: the header row is malformed: {reason}")]
    MalformedHeader {
        file: PathBuf,
        line: u64,
        reason: String,
    },
    /// The file is not in the encoding it is read with; nothing of the run is stored.
    #[error("{file}: {reason}")]
    WrongEncoding { file: PathBuf, reason: String },
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
                | IngestError::Unreadable { .. }
                | IngestError::DuplicateColumn { .. }
                | IngestError::MalformedHeader { .. }
                | IngestError::WrongEncoding { .. }
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

/// What the raw bytes of a file looked like, seen on their way to the GBK decoder.
#[derive(Debug)]
struct Utf8Sniff {
    /// Every byte so far is part of valid UTF-8.
    valid: bool,
    non_ascii: bool,
    /// The file starts with a UTF-8 byte-order mark (which the decoder honours).
    bom: bool,
    started: bool,
    /// The first bytes of a character cut by a read boundary.
    carry: Vec<u8>,
}

impl Utf8Sniff {
    fn new() -> Self {
        Utf8Sniff {
            valid: true,
            non_ascii: false,
            bom: false,
            started: false,
            carry: Vec::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        if !self.started && !bytes.is_empty() {
            self.started = true;
            self.bom = bytes.starts_with(b"\xEF\xBB\xBF");
        }
        if !self.valid || (self.carry.is_empty() && bytes.is_ascii()) {
            return;
        }
        self.non_ascii = true;
        let joined;
        let data = if self.carry.is_empty() {
            bytes
        } else {
            joined = [self.carry.as_slice(), bytes].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.carry.clear(),
            Err(e) if e.error_len().is_none() => self.carry = data[e.valid_up_to()..].to_vec(),
            Err(_) => self.valid = false,
        }
    }

    /// Whether the whole file was valid UTF-8 holding non-ASCII text (without a BOM).
    fn looks_utf8(&self) -> bool {
        self.valid && self.carry.is_empty() && self.non_ascii && !self.bom
    }
}

/// Passes bytes through, showing them to a [`Utf8Sniff`].
struct Sniffed<R> {
    inner: R,
    sniff: Rc<RefCell<Utf8Sniff>>,
}

impl<R: Read> Read for Sniffed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sniff.borrow_mut().feed(&buf[..n]);
        Ok(n)
    }
}

/// Opens a dataset file as UTF-8 bytes, decoding GBK. A UTF-8 BOM is dropped by the row reader
/// (or, for GBK, makes the decoder read the file as UTF-8).
fn open(
    path: &Path,
    encoding: Encoding,
    pb: &ProgressBar,
    sniff: &Rc<RefCell<Utf8Sniff>>,
) -> Result<Box<dyn Read>, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Read {
        file: path.to_owned(),
        source,
    })?;
    let read = pb.wrap_read(BufReader::with_capacity(1 << 20, file));
    match encoding {
        // Bytes go through untouched; each cell is checked for valid UTF-8 when parsed.
        Encoding::Utf8 => Ok(Box::new(read)),
        // GBK is transcoded to UTF-8 on the fly (a BOM, if an export added one, still wins).
        // The raw bytes are watched on the way: a UTF-8 file read as GBK would be garbled.
        Encoding::Gbk => Ok(Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GBK))
                .bom_sniffing(true)
                .build(Sniffed {
                    inner: read,
                    sniff: sniff.clone(),
                }),
        )),
    }
}

fn raw_line(rec: &ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_byte_record(rec);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

/// What the store held for one key before this run, for the new / updated / unchanged counts.
struct PriorRecord {
    content: u64,
    /// The value of the field whose change is a warning (a person's identity number, an
    /// account's holder).
    watched: Option<String>,
}

/// A table's records in the store before this run.
#[derive(Default)]
struct Prior {
    records: AHashMap<u64, PriorRecord>,
    /// Stored shareholdings: key hash, entity, share; for totals over the merged state.
    holdings: Vec<(u64, String, f64)>,
}

/// The field of a record whose change against the store is a warning, with its column.
fn watched(rec: &Record) -> Option<(&'static str, Option<&str>)> {
    match rec {
        Record::Person(p) => Some(("id_number", p.id_number.as_deref())),
        Record::Account(a) => Some(("holder_id", Some(a.holder_id.as_str()))),
        _ => None,
    }
}

/// How a loaded row compares with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    New,
    Updated { conflict: bool },
    Unchanged,
}

/// The state of one run across files.
struct Run<'s> {
    store: &'s dyn Store,
    sink: Box<dyn Sink + 's>,
    ids: Ids,
    hasher: RandomState,
}

impl Run<'_> {
    fn content_hash(&self, rec: &Record) -> Result<u64, StoreError> {
        let encoded = postcard::to_stdvec(rec)?;
        let mut h = self.hasher.build_hasher();
        h.write(&encoded);
        Ok(h.finish())
    }

    /// The store's records of `table` as they were before this run (none for an empty table).
    fn prior(&self, table: Table) -> Result<Option<Prior>, StoreError> {
        if self.store.count(table)? == 0 {
            return Ok(None);
        }
        let mut prior = Prior::default();
        self.store.scan(table, &mut |rec| {
            let key = self.hasher.hash_one(rec.key());
            if let Record::Shareholding(s) = &rec {
                prior.holdings.push((key, s.entity_id.clone(), s.share_min));
            }
            let entry = PriorRecord {
                content: self.content_hash(&rec)?,
                watched: watched(&rec).and_then(|(_, v)| v.map(str::to_owned)),
            };
            prior.records.insert(key, entry);
            Ok(())
        })?;
        Ok(Some(prior))
    }

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
        let read_err = |source| IngestError::Read {
            file: path.to_owned(),
            source,
        };
        let sniff = Rc::new(RefCell::new(Utf8Sniff::new()));
        let mut reader = Rows::new(BufReader::new(open(path, opts.encoding, &pb, &sniff)?));
        let mut rec = ByteRecord::new();
        // Rows of UTF-8 files holding non-ASCII bytes, and those of them that are not UTF-8.
        let (mut non_ascii, mut not_utf8) = (0u64, 0u64);
        let mut count_utf8 = |rec: &ByteRecord| {
            let bytes = rec.as_slice();
            if opts.encoding == Encoding::Utf8 && !bytes.is_ascii() {
                non_ascii += 1;
                not_utf8 += u64::from(std::str::from_utf8(bytes).is_err());
            }
        };
        let header_line = match reader.next(&mut rec).map_err(read_err)? {
            Next::Row { line } => line,
            Next::End => 1,
            Next::Malformed { line, reason, .. } => {
                return Err(IngestError::MalformedHeader {
                    file: path.to_owned(),
                    line,
                    reason,
                });
            }
        };
        count_utf8(&rec);
        let header: Vec<String> = rec
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let names: Vec<&str> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if let Some(j) = names[i + 1..].iter().position(|m| m == n) {
                return Err(IngestError::DuplicateColumn {
                    file: path.to_owned(),
                    line: header_line,
                    column: (*n).to_owned(),
                    first: i + 1,
                    second: i + j + 2,
                });
            }
        }
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
        let prior = self.prior(table)?;
        // Key hash -> (content hash, line): detects duplicates within this dataset.
        let mut seen: AHashMap<u64, (u64, u64)> = AHashMap::new();
        // Shareholding totals per entity, for the over-100% warning.
        let mut totals: AHashMap<String, f64> = AHashMap::new();
        loop {
            let line = match reader.next(&mut rec).map_err(read_err)? {
                Next::End => break,
                Next::Row { line } => line,
                Next::Malformed { line, reason, raw } => {
                    // The row cannot be split into cells (an unterminated quote, say).
                    summary.read += 1;
                    summary.rejected += 1;
                    self.sink.reject(&Reject {
                        file: file_name.clone(),
                        line,
                        column: String::new(),
                        reason,
                        raw,
                    })?;
                    continue;
                }
            };
            count_utf8(&rec);
            summary.read += 1;
            let outcome = self.row(
                table,
                &cols,
                &rec,
                width,
                line,
                opts.encoding,
                prior.as_ref(),
                &mut seen,
                &mut totals,
            );
            match outcome {
                Ok((warnings, change)) => {
                    summary.loaded += 1;
                    match change {
                        Change::New => summary.new += 1,
                        Change::Unchanged => summary.unchanged += 1,
                        Change::Updated { conflict } => {
                            summary.updated += 1;
                            summary.conflicts += u64::from(conflict);
                        }
                    }
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
        // A file in the wrong encoding is refused as a whole: loading part of it, or all of it
        // garbled, would be worse than loading none.
        if not_utf8 > 0 && not_utf8 * 2 > non_ascii {
            return Err(IngestError::WrongEncoding {
                file: path.to_owned(),
                reason: format!(
                    "{not_utf8} of the {non_ascii} rows with non-ASCII text are not valid UTF-8: the file looks GBK or GB18030 encoded; ingest it with --encoding gbk"
                ),
            });
        }
        if opts.encoding == Encoding::Gbk && sniff.borrow().looks_utf8() {
            return Err(IngestError::WrongEncoding {
                file: path.to_owned(),
                reason: "the file is valid UTF-8 with non-ASCII text, not GBK, and reading it as GBK would garble that text; ingest it without --encoding gbk".into(),
            });
        }
        // Shareholdings are merged into the store's: an entity's total counts the stored
        // holdings this run does not replace.
        let mut from_store: AHashMap<String, f64> = AHashMap::new();
        for (key, entity, share) in prior.iter().flat_map(|p| &p.holdings) {
            if !seen.contains_key(key)
                && let Some(t) = totals.get_mut(entity)
            {
                *t += share;
                *from_store.entry(entity.clone()).or_default() += share;
            }
        }
        let mut over: Vec<_> = totals
            .into_iter()
            .filter(|(_, t)| *t > 100.0 + 1e-9)
            .collect();
        over.sort_by(|a, b| a.0.cmp(&b.0));
        for (entity, total) in over {
            summary.warnings += 1;
            let stored = match from_store.get(&entity) {
                Some(s) => format!(" ({s:.2}% of it held in the store from earlier ingests)"),
                None => String::new(),
            };
            self.sink.warn(&Warning {
                file: file_name.clone(),
                line: 0,
                column: "share_pct".into(),
                message: format!(
                    "shareholdings of entity `{entity}` add up to {total:.2}%{stored}"
                ),
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
        encoding: Encoding,
        prior: Option<&Prior>,
        seen: &mut AHashMap<u64, (u64, u64)>,
        totals: &mut AHashMap<String, f64>,
    ) -> Result<(Vec<rows::RowWarning>, Change), RowOutcome> {
        if rec.len() != width {
            let more = if rec.len() > width { "more" } else { "fewer" };
            return Err(RowOutcome::Rejected(rows::RowError {
                column: String::new(),
                reason: format!(
                    "row has {} cells, {more} than the header's {width}",
                    rec.len()
                ),
            }));
        }
        if encoding == Encoding::Gbk
            && rec
                .as_slice()
                .windows(3)
                .any(|w| w == "\u{fffd}".as_bytes())
        {
            return Err(RowOutcome::Rejected(rows::RowError {
                column: String::new(),
                reason: "holds bytes that are not valid GBK".into(),
            }));
        }
        let (record, mut warnings) = rows::parse(table, cols, rec).map_err(RowOutcome::Rejected)?;
        check_references(&self.ids, &record).map_err(RowOutcome::Rejected)?;
        let key = record.key();
        let key_hash = self.hasher.hash_one(&key);
        let content_hash = self.content_hash(&record).map_err(RowOutcome::Store)?;
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
            return Ok((warnings, Change::Unchanged));
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
        let change = match prior.and_then(|p| p.records.get(&key_hash)) {
            None => Change::New,
            Some(p) if p.content == content_hash => Change::Unchanged,
            Some(p) => {
                let mut conflict = false;
                if let (Some(old), Some((column, new))) = (&p.watched, watched(&record))
                    && Some(old.as_str()) != new
                {
                    conflict = true;
                    let new = new.map_or("none".to_owned(), |n| format!("`{n}`"));
                    let what = match record {
                        Record::Person(_) => "identity number of person",
                        _ => "holder of account",
                    };
                    warnings.push(rows::RowWarning {
                        column: column.into(),
                        message: format!(
                            "{what} `{}` changed: the store has `{old}`, this file {new}",
                            defined_id(&record).unwrap_or_default()
                        ),
                    });
                }
                Change::Updated { conflict }
            }
        };
        if let Record::Shareholding(s) = &record {
            *totals.entry(s.entity_id.clone()).or_default() += s.share_min;
        }
        seen.insert(key_hash, (content_hash, line));
        self.sink.put(&record).map_err(RowOutcome::Store)?;
        Ok((warnings, change))
    }
}

fn known_id_column(table: Table) -> &'static str {
    rows::known_columns(table)[0].0
}

enum RowOutcome {
    Rejected(rows::RowError),
    Store(StoreError),
}

/// Why a folder entry cannot be read as a dataset file, or `None` when it can.
fn unreadable(path: &Path, entry: &std::fs::Metadata) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if entry.file_type().is_symlink() && e.kind() == std::io::ErrorKind::NotFound => {
            return Some("it is a symbolic link to a file that does not exist".into());
        }
        Err(e) if entry.file_type().is_symlink() => {
            return Some(format!(
                "it is a symbolic link that cannot be followed ({e})"
            ));
        }
        Err(e) => return Some(e.to_string()),
    };
    if meta.is_dir() {
        return Some("it is a folder, not a file".into());
    }
    if !meta.is_file() {
        return Some("it is not a regular file".into());
    }
    File::open(path).err().map(|e| e.to_string())
}

/// The contract files of a dataset folder, in ingest order. Every contract file that exists as
/// a folder entry must be readable: a dangling link, a folder or a file without permission
/// under a contract name is an error rather than a file silently left out.
pub fn dataset_files(dir: &Path) -> Result<Vec<(Table, PathBuf)>, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::NotADirectory(dir.to_owned()));
    }
    let mut files = Vec::new();
    for table in Table::ALL {
        let path = dir.join(table.file_name());
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if *table == Table::Accounts {
                    return Err(IngestError::MissingAccounts(dir.to_owned()));
                }
            }
            Err(e) => {
                return Err(IngestError::Unreadable {
                    file: path,
                    reason: e.to_string(),
                });
            }
            Ok(entry) => match unreadable(&path, &entry) {
                Some(reason) => return Err(IngestError::Unreadable { file: path, reason }),
                None => files.push((*table, path)),
            },
        }
    }
    Ok(files)
}

/// Ingests every contract file found in `dir` into `store`, as one transaction.
pub fn ingest_dir(
    dir: &Path,
    store: &dyn Store,
    opts: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    let files = dataset_files(dir)?;
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
        store,
        sink: store.begin()?,
        ids,
        hasher: RandomState::with_seeds(1, 2, 3, 4),
    };
    let mut summaries = Vec::new();
    for (table, path) in files {
        summaries.push(run.ingest_file(table, &path, opts)?);
    }
    let summary = IngestSummary {
        dataset: dir.display().to_string(),
        finished_at: chrono::Utc::now().to_rfc3339(),
        files: summaries,
        seconds: started.elapsed().as_secs_f64(),
    };
    run.sink.commit(&summary)?;
    Ok(summary)
}
