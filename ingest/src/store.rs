//! Where records live: a narrow storage interface and its embedded implementation on redb.
//!
//! The interface is what ingest, analysis and serving need and no more: a transactional [`Sink`]
//! for one ingest run, scans and point reads of record tables, the history of ingest runs, and
//! named blobs for analysis results. A Neo4j-backed store implements the same traits; nothing
//! above this module knows which one it talks to.
//!
//! The redb store keeps one database file, `ctrlgraph.redb`, in the store folder. An ingest run is
//! one write transaction, so a process killed in the middle leaves the previous state as it was.
//! The file is opened in redb's multi-writer mode: any number of processes (a server, reports,
//! an analysis) have it open at once, every read sees the latest commit, and a write waits for
//! another process's write to end.
//! The transaction lives on a writer thread fed by a bounded channel: parsing and validation on
//! one core, B-tree inserts on the other.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use graph_core::model::{Record, Table};
use redb::{
    ConcurrencyMode, Database, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};

use crate::report::{IngestSummary, Reject, Warning};

/// Errors of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("store database error: {0}")]
    Db(#[from] Box<dyn std::error::Error + Send + Sync>),
    #[error("store record encoding error: {0}")]
    Encoding(#[from] postcard::Error),
    #[error("store I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store's writer stopped unexpectedly")]
    WriterGone,
    /// The store's server cannot be reached or went away; retrying later may succeed.
    #[error("the store {store} is unavailable: {reason}")]
    Unavailable { store: String, reason: String },
    /// The store's server refused the credentials.
    #[error("the store {store} refused the credentials: {reason}")]
    Auth { store: String, reason: String },
}

impl StoreError {
    /// Whether the store's server could not be reached (a retry may succeed once it is back).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// Whether the store refused the credentials (a usage error: exit code 2).
    pub fn is_auth(&self) -> bool {
        matches!(self, StoreError::Auth { .. })
    }
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Db(Box::new(e.into()))
}

/// One ingest run's transaction. Dropping it without [`Sink::commit`] discards everything.
pub trait Sink {
    /// Adds or replaces a record (by its table and key).
    fn put(&mut self, record: &Record) -> Result<(), StoreError>;
    /// Records a rejected row of this run.
    fn reject(&mut self, reject: &Reject) -> Result<(), StoreError>;
    /// Records a warning of this run.
    fn warn(&mut self, warning: &Warning) -> Result<(), StoreError>;
    /// Makes the run durable and visible, all of it at once.
    fn commit(self: Box<Self>, summary: &IngestSummary) -> Result<(), StoreError>;
}

/// An append-only journal kept beside the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Journal {
    /// The analysts' reviews of groups.
    Reviews,
}

impl Journal {
    /// The journal's name (the redb table is `journal_{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Journal::Reviews => "reviews",
        }
    }
}

/// One journal entry: named text fields, written once and never changed.
pub type JournalEntry = std::collections::BTreeMap<String, String>;

/// The store's secret key for the public ids of personal values (identifier nodes): random
/// bytes made once, when the store is created, and the same on every read afterwards, so the ids
/// are stable across re-ingest into one store but cannot be computed from a value without it.
#[derive(Clone, PartialEq, Eq)]
pub struct IdKey(pub [u8; 32]);

impl IdKey {
    /// A fresh random key (the operating system's generator through `rand`'s thread generator).
    pub fn random() -> IdKey {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        IdKey(key)
    }
}

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdKey(<hidden>)")
    }
}

/// A store of records, ingest runs, analysis blobs and journals.
pub trait Store: Send + Sync {
    /// Starts an ingest run.
    fn begin(&self) -> Result<Box<dyn Sink + '_>, StoreError>;
    /// Visits every record of a table, in key order.
    fn scan(
        &self,
        table: Table,
        f: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Visits every key of a table, in key order.
    fn scan_keys(&self, table: Table, f: &mut dyn FnMut(&str)) -> Result<(), StoreError>;
    /// One record by table and key.
    fn get(&self, table: Table, key: &str) -> Result<Option<Record>, StoreError>;
    /// Number of records in a table.
    fn count(&self, table: Table) -> Result<u64, StoreError>;
    /// Every committed ingest run, oldest first.
    fn ingest_runs(&self) -> Result<Vec<IngestSummary>, StoreError>;
    /// The rejects of the latest run.
    fn last_rejects(&self) -> Result<Vec<Reject>, StoreError>;
    /// The warnings of the latest run.
    fn last_warnings(&self) -> Result<Vec<Warning>, StoreError>;
    /// Replaces named blobs in one transaction (analysis results).
    fn put_blobs(&self, blobs: &[(&str, &[u8])]) -> Result<(), StoreError>;
    /// A named blob.
    fn get_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Appends an entry to a journal in its own transaction. Entries are never rewritten, so
    /// writers sharing a store (servers on several machines) never lose each other's entries.
    fn append_journal(&self, journal: Journal, entry: &JournalEntry) -> Result<(), StoreError>;
    /// Every entry of a journal, in the order the appends committed.
    fn read_journal(&self, journal: Journal) -> Result<Vec<JournalEntry>, StoreError>;
    /// The store's [`IdKey`], made when the store was created (or, for a store made before keys
    /// existed, on first use); every caller and every process sharing the store gets the same.
    fn id_key(&self) -> Result<IdKey, StoreError>;

    /// What the store is, for messages ("the store folder ./data", "neo4j://host:7687").
    fn describe(&self) -> String {
        "the store".into()
    }
    /// Whether an ingest run is one transaction (a failed run leaves the previous state). When
    /// not, a failed run is recorded as unfinished and a re-run completes it.
    fn ingest_is_atomic(&self) -> bool {
        true
    }
    /// Describes the latest ingest run when it did not complete (failed, or still running).
    fn unfinished_ingest(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    /// Writes an analysis as graph data for other tools (a no-op for stores without a graph of
    /// their own); replaces the previous one without a moment where half of it is visible.
    fn publish_analysis(&self, _view: &AnalysisView<'_>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// An analysis as plain data, for stores that keep it as graph data ([`Store::publish_analysis`]).
#[derive(Debug, Clone, Default)]
pub struct AnalysisView<'a> {
    /// When the analysis ran (RFC 3339).
    pub created_at: &'a str,
    pub groups: Vec<GroupView<'a>>,
    /// Each embedded account's vector.
    pub embeddings: Vec<(&'a str, Vec<f32>)>,
}

/// One suspected group of an [`AnalysisView`].
#[derive(Debug, Clone)]
pub struct GroupView<'a> {
    pub id: &'a str,
    pub score: f32,
    pub status: &'a str,
    pub criteria: &'a [String],
    pub controller_id: Option<&'a str>,
    pub reported_group: Option<&'a str>,
    pub accounts: &'a [String],
    /// The group's evidence links: one per signal between two accounts.
    pub evidence: Vec<EvidenceView<'a>>,
}

/// One signal of an evidence link between two accounts.
#[derive(Debug, Clone)]
pub struct EvidenceView<'a> {
    pub a: &'a str,
    pub b: &'a str,
    pub criterion: &'a str,
    pub kind: &'a str,
    pub weight: f32,
    /// The weight of the whole link (all its signals).
    pub link_weight: f32,
    pub description: &'a str,
}

type RecordTable = TableDefinition<'static, &'static str, &'static [u8]>;

fn record_table(t: Table) -> RecordTable {
    TableDefinition::new(t.as_str())
}

const RUNS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("ingest_runs");
const REJECTS: TableDefinition<'static, (u64, u64), &'static [u8]> =
    TableDefinition::new("rejects");
const WARNINGS: TableDefinition<'static, (u64, u64), &'static [u8]> =
    TableDefinition::new("warnings");
const BLOBS: TableDefinition<'static, &'static str, &'static [u8]> = TableDefinition::new("blobs");
/// The store's own settings and secrets (`id_key`), never exported.
const META: TableDefinition<'static, &'static str, &'static [u8]> = TableDefinition::new("meta");
const META_ID_KEY: &str = "id_key";
const JOURNAL_REVIEWS: TableDefinition<'static, u64, &'static [u8]> =
    TableDefinition::new("journal_reviews");

fn journal_table(j: Journal) -> TableDefinition<'static, u64, &'static [u8]> {
    match j {
        Journal::Reviews => JOURNAL_REVIEWS,
    }
}

/// The embedded store: one redb file in a folder.
#[derive(Debug)]
pub struct RedbStore {
    dir: PathBuf,
    db: Database,
}

/// The database file name inside a store folder.
pub const DB_FILE: &str = "ctrlgraph.redb";

impl RedbStore {
    /// Opens the store in `dir`, creating the folder and database when absent.
    pub fn open(dir: &Path) -> Result<RedbStore, StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        // redb creates a missing file with the default permissions; a new store's file is
        // created private first (redb initialises an empty file as a new database).
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::Io { path, source: e });
            }
            _ => {}
        }
        // Several processes share the store: a server stays up while reports, statistics and
        // analyses run beside it. Each reads the latest commit; write transactions take turns.
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(&path)
            .map_err(|e| StoreError::Open {
                path: path.clone(),
                source: Box::new(e),
            })?;
        let store = RedbStore {
            dir: dir.to_owned(),
            db,
        };
        store.ensure_tables()?;
        Ok(store)
    }

    /// The store folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ensure_tables(&self) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        for t in Table::ALL {
            tx.open_table(record_table(*t)).map_err(db_err)?;
        }
        tx.open_table(RUNS).map_err(db_err)?;
        tx.open_table(REJECTS).map_err(db_err)?;
        tx.open_table(WARNINGS).map_err(db_err)?;
        tx.open_table(BLOBS).map_err(db_err)?;
        tx.open_table(JOURNAL_REVIEWS).map_err(db_err)?;
        {
            // Made in the transaction that creates the tables; redb has one writer at a time,
            // so two processes opening a new store together still agree on one key.
            let mut meta = tx.open_table(META).map_err(db_err)?;
            if meta.get(META_ID_KEY).map_err(db_err)?.is_none() {
                meta.insert(META_ID_KEY, IdKey::random().0.as_slice())
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(())
    }

    fn last_run_id(&self) -> Result<Option<u64>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(RUNS).map_err(db_err)?;
        Ok(t.last().map_err(db_err)?.map(|(k, _)| k.value()))
    }

    fn scan_run<T: serde::de::DeserializeOwned>(
        &self,
        def: TableDefinition<'static, (u64, u64), &'static [u8]>,
    ) -> Result<Vec<T>, StoreError> {
        let Some(run) = self.last_run_id()? else {
            return Ok(Vec::new());
        };
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(def).map_err(db_err)?;
        let mut out = Vec::new();
        for item in t.range((run, 0)..=(run, u64::MAX)).map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            out.push(postcard::from_bytes(v.value())?);
        }
        Ok(out)
    }

    /// Writes `rejects.csv` and `warnings.csv` of the latest run into the store folder.
    pub fn export_run_files(&self) -> Result<(), StoreError> {
        export_run_files(self, &self.dir)
    }
}

/// Writes `rejects.csv` and `warnings.csv` of a store's latest run into `dir`, each via a
/// temporary file and a rename so that a reader never sees half a file.
pub fn export_run_files(store: &dyn Store, dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let rejects = store.last_rejects()?;
    write_atomically(&dir.join("rejects.csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(["file", "line", "column", "reason", "raw"])?;
        for r in &rejects {
            c.write_record([&r.file, &r.line.to_string(), &r.column, &r.reason, &r.raw])?;
        }
        c.flush()?;
        Ok(())
    })?;
    let warnings = store.last_warnings()?;
    write_atomically(&dir.join("warnings.csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(["file", "line", "column", "message"])?;
        for r in &warnings {
            c.write_record([&r.file, &r.line.to_string(), &r.column, &r.message])?;
        }
        c.flush()?;
        Ok(())
    })
}

/// Creates (or truncates) a file that only its owner may read and write (mode 0600 on unix):
/// the store's files hold personal data (rejected rows quote their raw text) and secrets.
pub fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes a file through a sibling temporary file and a rename; the file is private to its
/// owner ([`create_private`]).
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    // A leftover temporary file of another run may have wider permissions: start afresh.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let mut f = std::io::BufWriter::new(create_private(&tmp).map_err(io)?);
    write(&mut f).map_err(io)?;
    f.flush().map_err(io)?;
    f.into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_all()
        .map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// A batch of writes for the writer thread.
enum Op {
    Put(Table, String, Vec<u8>),
    Reject(Vec<u8>),
    Warn(Vec<u8>),
}

/// How many operations travel to the writer thread together.
const BATCH: usize = 4096;

/// The redb ingest transaction: encodes on the caller's thread, writes on its own.
struct RedbSink {
    tx: Option<SyncSender<Vec<Op>>>,
    batch: Vec<Op>,
    writer: Option<JoinHandle<Result<redb::WriteTransaction, StoreError>>>,
    run: u64,
}

impl RedbSink {
    fn start(db: &Database, run: u64) -> Result<RedbSink, StoreError> {
        let mut wtx = db.begin_write().map_err(db_err)?;
        // One fsync at commit is all the durability an ingest needs; the quick repair flag keeps
        // reopening after a crash fast.
        wtx.set_quick_repair(true);
        let (tx, rx) = sync_channel::<Vec<Op>>(16);
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(wtx, &rx, run))
            .map_err(|source| StoreError::Io {
                path: PathBuf::from("<writer thread>"),
                source,
            })?;
        Ok(RedbSink {
            tx: Some(tx),
            batch: Vec::with_capacity(BATCH),
            writer: Some(writer),
            run,
        })
    }

    fn push(&mut self, op: Op) -> Result<(), StoreError> {
        self.batch.push(op);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let sent = self.tx.as_ref().map(|tx| tx.send(batch));
        match sent {
            Some(Ok(())) => Ok(()),
            // The writer hung up: it failed, and joining it tells why.
            _ => Err(self.join().err().unwrap_or(StoreError::WriterGone)),
        }
    }

    fn join(&mut self) -> Result<redb::WriteTransaction, StoreError> {
        self.tx = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(StoreError::WriterGone),
        }
    }
}

fn write_loop(
    wtx: redb::WriteTransaction,
    rx: &Receiver<Vec<Op>>,
    run: u64,
) -> Result<redb::WriteTransaction, StoreError> {
    {
        let mut tables = Table::ALL
            .iter()
            .map(|t| wtx.open_table(record_table(*t)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
        let mut rejects = wtx.open_table(REJECTS).map_err(db_err)?;
        let mut warnings = wtx.open_table(WARNINGS).map_err(db_err)?;
        let (mut nr, mut nw) = (0u64, 0u64);
        for batch in rx {
            for op in batch {
                match op {
                    Op::Put(t, k, v) => {
                        tables[t as usize]
                            .insert(k.as_str(), v.as_slice())
                            .map_err(db_err)?;
                    }
                    Op::Reject(v) => {
                        rejects.insert((run, nr), v.as_slice()).map_err(db_err)?;
                        nr += 1;
                    }
                    Op::Warn(v) => {
                        warnings.insert((run, nw), v.as_slice()).map_err(db_err)?;
                        nw += 1;
                    }
                }
            }
        }
    }
    Ok(wtx)
}

impl Sink for RedbSink {
    fn put(&mut self, record: &Record) -> Result<(), StoreError> {
        let value = encode_record(record)?;
        self.push(Op::Put(record.table(), record.key(), value))
    }

    fn reject(&mut self, reject: &Reject) -> Result<(), StoreError> {
        let v = postcard::to_stdvec(reject)?;
        self.push(Op::Reject(v))
    }

    fn warn(&mut self, warning: &Warning) -> Result<(), StoreError> {
        let v = postcard::to_stdvec(warning)?;
        self.push(Op::Warn(v))
    }

    fn commit(mut self: Box<Self>, summary: &IngestSummary) -> Result<(), StoreError> {
        self.flush()?;
        let wtx = self.join()?;
        {
            let mut runs = wtx.open_table(RUNS).map_err(db_err)?;
            let json = serde_json::to_vec(summary).map_err(|e| StoreError::Db(Box::new(e)))?;
            runs.insert(self.run, json.as_slice()).map_err(db_err)?;
        }
        wtx.commit().map_err(db_err)
    }
}

impl Drop for RedbSink {
    fn drop(&mut self) {
        // Closing the channel ends the writer; its transaction is dropped uncommitted.
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// Records are stored as postcard bytes of the inner struct, the table saying which struct.
fn encode_record(record: &Record) -> Result<Vec<u8>, StoreError> {
    Ok(match record {
        Record::Member(r) => postcard::to_stdvec(r)?,
        Record::Person(r) => postcard::to_stdvec(r)?,
        Record::Entity(r) => postcard::to_stdvec(r)?,
        Record::Account(r) => postcard::to_stdvec(r)?,
        Record::Shareholding(r) => postcard::to_stdvec(r)?,
        Record::Officer(r) => postcard::to_stdvec(r)?,
        Record::Relation(r) => postcard::to_stdvec(r)?,
        Record::Authorization(r) => postcard::to_stdvec(r)?,
        Record::Identifier(r) => postcard::to_stdvec(r)?,
        Record::Transfer(r) => postcard::to_stdvec(r)?,
        Record::Trade(r) => postcard::to_stdvec(r)?,
        Record::ReportedGroup(r) => postcard::to_stdvec(r)?,
        Record::Position(r) => postcard::to_stdvec(r)?,
        Record::Order(r) => postcard::to_stdvec(r)?,
        Record::Limit(r) => postcard::to_stdvec(r)?,
        Record::TradingDay(r) => postcard::to_stdvec(r)?,
    })
}

fn decode_record(table: Table, bytes: &[u8]) -> Result<Record, StoreError> {
    use postcard::from_bytes as de;
    Ok(match table {
        Table::Members => Record::Member(de(bytes)?),
        Table::Persons => Record::Person(de(bytes)?),
        Table::Entities => Record::Entity(de(bytes)?),
        Table::Accounts => Record::Account(de(bytes)?),
        Table::Shareholdings => Record::Shareholding(de(bytes)?),
        Table::Officers => Record::Officer(de(bytes)?),
        Table::Relations => Record::Relation(de(bytes)?),
        Table::Authorizations => Record::Authorization(de(bytes)?),
        Table::Identifiers => Record::Identifier(de(bytes)?),
        Table::Transfers => Record::Transfer(de(bytes)?),
        Table::Trades => Record::Trade(de(bytes)?),
        Table::ReportedGroups => Record::ReportedGroup(de(bytes)?),
        Table::Positions => Record::Position(de(bytes)?),
        Table::Orders => Record::Order(de(bytes)?),
        Table::Limits => Record::Limit(de(bytes)?),
        Table::TradingDays => Record::TradingDay(de(bytes)?),
    })
}

impl Store for RedbStore {
    fn describe(&self) -> String {
        format!("the store folder {}", self.dir.display())
    }

    fn begin(&self) -> Result<Box<dyn Sink + '_>, StoreError> {
        let run = self.last_run_id()?.map_or(1, |r| r + 1);
        Ok(Box::new(RedbSink::start(&self.db, run)?))
    }

    fn scan(
        &self,
        table: Table,
        f: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(record_table(table)).map_err(db_err)?;
        for item in t.iter().map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            f(decode_record(table, v.value())?)?;
        }
        Ok(())
    }

    fn scan_keys(&self, table: Table, f: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(record_table(table)).map_err(db_err)?;
        for item in t.iter().map_err(db_err)? {
            let (k, _) = item.map_err(db_err)?;
            f(k.value());
        }
        Ok(())
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Record>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(record_table(table)).map_err(db_err)?;
        t.get(key)
            .map_err(db_err)?
            .map(|v| decode_record(table, v.value()))
            .transpose()
    }

    fn count(&self, table: Table) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(record_table(table)).map_err(db_err)?;
        t.len().map_err(db_err)
    }

    fn ingest_runs(&self) -> Result<Vec<IngestSummary>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(RUNS).map_err(db_err)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| StoreError::Db(Box::new(e)))?);
        }
        Ok(out)
    }

    fn last_rejects(&self) -> Result<Vec<Reject>, StoreError> {
        self.scan_run(REJECTS)
    }

    fn last_warnings(&self) -> Result<Vec<Warning>, StoreError> {
        self.scan_run(WARNINGS)
    }

    fn put_blobs(&self, blobs: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut t = tx.open_table(BLOBS).map_err(db_err)?;
            for (k, v) in blobs {
                t.insert(*k, *v).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)
    }

    fn get_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(BLOBS).map_err(db_err)?;
        Ok(t.get(name).map_err(db_err)?.map(|v| v.value().to_vec()))
    }

    fn append_journal(&self, journal: Journal, entry: &JournalEntry) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(entry).map_err(|e| StoreError::Db(Box::new(e)))?;
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut t = tx.open_table(journal_table(journal)).map_err(db_err)?;
            let next = t.last().map_err(db_err)?.map_or(0, |(k, _)| k.value() + 1);
            t.insert(next, bytes.as_slice()).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    fn read_journal(&self, journal: Journal) -> Result<Vec<JournalEntry>, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = match tx.open_table(journal_table(journal)) {
            Ok(t) => t,
            // A store made before journals existed has no such table yet.
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(db_err(e)),
        };
        let mut out = Vec::new();
        for item in t.iter().map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| StoreError::Db(Box::new(e)))?);
        }
        Ok(out)
    }

    fn id_key(&self) -> Result<IdKey, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let t = tx.open_table(META).map_err(db_err)?;
        let v = t
            .get(META_ID_KEY)
            .map_err(db_err)?
            .ok_or_else(|| StoreError::Db("the store has no id key".into()))?;
        let key: [u8; 32] = v
            .value()
            .try_into()
            .map_err(|_| StoreError::Db("the store's id key is not 32 bytes".into()))?;
        Ok(IdKey(key))
    }
}
