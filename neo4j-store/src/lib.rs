//! The Neo4j store: ctrlgraph's records, ingest runs, blobs and written-back analysis in a Neo4j
//! database (single server, cluster or Aura), shared by several analysts' servers.
//!
//! [`Neo4jStore`] implements [`ingest::Store`], so validation, rejects and summaries are those of
//! the embedded store; only the sink differs. The store owns a small tokio runtime for the async
//! driver (neo4rs) and runs every query on it, the caller's thread waiting on a channel, so it can
//! be called from any thread, `spawn_blocking` tasks of another runtime included.
//!
//! The data model (every label has a uniqueness constraint or index, created on first use):
//! - one node per record, labelled by its table (`Account`, `Person`, `Entity`, `Member`,
//!   `Shareholding`, `Officer`, `Relation`, `Authorization`, `Identifier`, `Transfer`, `Trade`,
//!   `ReportedGroup`, and the surveillance tapes' `Position`, `Order`, `Limit`, `TradingDay`), with its table key `key` (unique), the exact record `rec` (postcard bytes),
//!   the run that wrote it last `run`, and readable properties (`id`, `name`, ...);
//! - `IngestRun {id, status: started|completed|failed, summary}` and the rejects and warnings of
//!   each run (`IngestReject`, `IngestWarning`);
//! - `Blob {name, chunks}` with `BlobChunk {name, seq, data}` (analysis results, embeddings),
//!   replaced in one transaction;
//! - the analysts' reviews, one `Review {seq, group_id, decision, note, reviewer, at}` node each,
//!   numbered by a `JournalSeq` counter; appends from several servers never overwrite each other;
//! - the written-back analysis ([`Store::publish_analysis`]): `Analysis`, `ControlGroup`,
//!   `MEMBER_OF`, `EVIDENCE`, `Account.embedding`; see `publish.rs`.
//!
//! An ingest run is not one transaction here: rows go in batches (`UNWIND $rows ... MERGE`) that
//! commit as they go, several in flight. Atomicity is replaced by idempotency and the run record:
//! a run is `started` until its last batch is written and its summary recorded, re-running the
//! same dataset after a failure completes it, and [`Store::unfinished_ingest`] reports a run that
//! did not complete.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::mpsc;

use graph_core::model::{Record, Table};
use ingest::report::{IngestSummary, Reject, Warning};
use ingest::store::AnalysisView;
use ingest::{IdKey, Journal, JournalEntry, Sink, Store, StoreError};
use neo4rs::{BoltType, ConfigBuilder, Graph, Query, query};

mod publish;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Neo4jConfig {
    /// `neo4j://`, `neo4j+s://`, `bolt://` or `bolt+s://` URL.
    pub uri: String,
    pub user: String,
    pub password: String,
    /// The database (default: the server's default database).
    pub database: Option<String>,
}

impl std::fmt::Debug for Neo4jConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neo4jConfig")
            .field("uri", &self.uri)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("database", &self.database)
            .finish()
    }
}

/// Whether a `--store` value names a Neo4j server rather than a folder.
pub fn is_neo4j_uri(spec: &str) -> bool {
    [
        "neo4j://",
        "neo4j+s://",
        "neo4j+ssc://",
        "bolt://",
        "bolt+s://",
        "bolt+ssc://",
    ]
    .iter()
    .any(|p| spec.starts_with(p))
}

/// Rows per write batch (one `UNWIND` query, one transaction).
const WRITE_BATCH: usize = 5_000;
/// Write batches in flight at once.
const IN_FLIGHT: usize = 3;
/// Rows per page when scanning a table.
const PAGE: i64 = 20_000;
/// Bytes per blob chunk (one property value).
const BLOB_CHUNK: usize = 8 << 20;

/// The Neo4j store. Cheap to share between threads; reconnects by itself once the server is back.
pub struct Neo4jStore {
    rt: Option<tokio::runtime::Runtime>,
    graph: Graph,
    uri: String,
    database: String,
}

impl std::fmt::Debug for Neo4jStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neo4jStore")
            .field("uri", &self.uri)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Drop for Neo4jStore {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's task panics; shutting it down does not.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The label of a table's record nodes.
pub fn label(t: Table) -> &'static str {
    match t {
        Table::Members => "Member",
        Table::Persons => "Person",
        Table::Entities => "Entity",
        Table::Accounts => "Account",
        Table::Shareholdings => "Shareholding",
        Table::Officers => "Officer",
        Table::Relations => "Relation",
        Table::Authorizations => "Authorization",
        Table::Identifiers => "Identifier",
        Table::Transfers => "Transfer",
        Table::Trades => "Trade",
        Table::ReportedGroups => "ReportedGroup",
        Table::Positions => "Position",
        Table::Orders => "Order",
        Table::Limits => "Limit",
        Table::TradingDays => "TradingDay",
    }
}

/// The tables whose records the link pass turns into relationships.
const LINKED: [Table; 7] = [
    Table::Accounts,
    Table::Shareholdings,
    Table::Officers,
    Table::Relations,
    Table::Authorizations,
    Table::Identifiers,
    Table::Transfers,
];

/// A subject (person or entity) by id, as `alias`, for the link pass.
fn subject_of(var: &str, id: &str, alias: &str) -> String {
    format!(
        "OPTIONAL MATCH (p_{alias}:Person {{key: {var}.{id}}}) \
         OPTIONAL MATCH (e_{alias}:Entity {{key: {var}.{id}}}) \
         WITH *, coalesce(p_{alias}, e_{alias}) AS {alias}"
    )
}

/// The link pass: relationships between the record nodes of run `$run`, so that the dataset can
/// be walked in Neo4j Browser and Bloom as a graph (holders, members, shareholdings, officers,
/// relations, authorisations, shared identifier values, transfers). Each statement is
/// idempotent (`MERGE` on the record's key), so a re-run after a failure completes it. Trades
/// stay nodes only: there are too many to be useful as relationships.
fn link_statements() -> Vec<String> {
    let batch = "IN TRANSACTIONS OF 5000 ROWS";
    vec![
        // An account record may have changed holder or member: its old links go first.
        format!(
            "MATCH (a:Account {{run: $run}})-[old:HELD_BY|AT_MEMBER]->() \
             CALL {{ WITH old DELETE old }} {batch}"
        ),
        format!(
            "MATCH (a:Account {{run: $run}}) CALL {{ WITH a {} \
             WITH a, h WHERE h IS NOT NULL MERGE (a)-[:HELD_BY]->(h) }} {batch}",
            subject_of("a", "holder_id", "h")
        ),
        format!(
            "MATCH (a:Account {{run: $run}}) WHERE a.member_id IS NOT NULL \
             CALL {{ WITH a MATCH (m:Member {{key: a.member_id}}) MERGE (a)-[:AT_MEMBER]->(m) }} {batch}"
        ),
        format!(
            "MATCH (s:Shareholding {{run: $run}}) CALL {{ WITH s {} \
             WITH s, o WHERE o IS NOT NULL MATCH (t:Entity {{key: s.entity_id}}) \
             MERGE (o)-[x:OWNS {{key: s.key}}]->(t) SET x.share_pct = s.share_pct, x.kind = s.kind }} {batch}",
            subject_of("s", "owner_id", "o")
        ),
        format!(
            "MATCH (s:Officer {{run: $run}}) CALL {{ WITH s \
             MATCH (p:Person {{key: s.person_id}}) MATCH (t:Entity {{key: s.entity_id}}) \
             MERGE (p)-[x:OFFICER_OF {{key: s.key}}]->(t) SET x.role = s.role }} {batch}"
        ),
        format!(
            "MATCH (s:Relation {{run: $run}}) CALL {{ WITH s {} {} \
             WITH s, f, t WHERE f IS NOT NULL AND t IS NOT NULL \
             MERGE (f)-[x:RELATED {{key: s.key}}]->(t) SET x.kind = s.kind }} {batch}",
            subject_of("s", "from_id", "f"),
            subject_of("s", "to_id", "t")
        ),
        format!(
            "MATCH (s:Authorization {{run: $run}}) CALL {{ WITH s \
             MATCH (p:Person {{key: s.person_id}}) MATCH (a:Account {{key: s.account_id}}) \
             MERGE (p)-[x:AUTHORISED {{key: s.key}}]->(a) SET x.role = s.role }} {batch}"
        ),
        format!(
            "MATCH (s:Identifier {{run: $run}}) CALL {{ WITH s {} \
             OPTIONAL MATCH (acc:Account {{key: s.subject_id}}) \
             WITH s, coalesce(o, acc) AS o WHERE o IS NOT NULL \
             MERGE (v:IdentifierValue {{id: s.kind + ':' + s.value}}) \
             ON CREATE SET v.kind = s.kind, v.value = s.value \
             MERGE (o)-[:HAS_IDENTIFIER {{key: s.key}}]->(v) }} {batch}",
            subject_of("s", "subject_id", "o")
        ),
        format!(
            "MATCH (s:Transfer {{run: $run}}) CALL {{ WITH s \
             MATCH (a:Account {{key: s.from_account}}) MATCH (b:Account {{key: s.to_account}}) \
             MERGE (a)-[x:TRANSFERRED {{key: s.key}}]->(b) SET x.amount = s.amount, x.ts = s.ts }} {batch}"
        ),
    ]
}

/// The label of a journal's entry nodes.
fn journal_label(j: Journal) -> &'static str {
    match j {
        Journal::Reviews => "Review",
    }
}

/// The schema, created on first use (every statement is idempotent).
fn schema() -> Vec<String> {
    let mut s: Vec<String> = Table::ALL
        .iter()
        .map(|t| {
            let l = label(*t);
            format!("CREATE CONSTRAINT ctrlgraph_{l}_key IF NOT EXISTS FOR (n:{l}) REQUIRE n.key IS UNIQUE")
        })
        .collect();
    // The link pass finds a run's records by `run`.
    s.extend(LINKED.iter().map(|t| {
        let l = label(*t);
        format!("CREATE INDEX ctrlgraph_{l}_run IF NOT EXISTS FOR (n:{l}) ON (n.run)")
    }));
    s.extend(
        [
            "CREATE CONSTRAINT ctrlgraph_run_id IF NOT EXISTS FOR (n:IngestRun) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX ctrlgraph_reject_run IF NOT EXISTS FOR (n:IngestReject) ON (n.run)",
            "CREATE INDEX ctrlgraph_warning_run IF NOT EXISTS FOR (n:IngestWarning) ON (n.run)",
            "CREATE CONSTRAINT ctrlgraph_blob_name IF NOT EXISTS FOR (n:Blob) REQUIRE n.name IS UNIQUE",
            "CREATE CONSTRAINT ctrlgraph_journal_name IF NOT EXISTS FOR (n:JournalSeq) REQUIRE n.name IS UNIQUE",
            "CREATE INDEX ctrlgraph_review_group IF NOT EXISTS FOR (n:Review) ON (n.group_id)",
            "CREATE CONSTRAINT ctrlgraph_identifier_value IF NOT EXISTS FOR (n:IdentifierValue) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX ctrlgraph_blob_chunk IF NOT EXISTS FOR (n:BlobChunk) ON (n.name)",
            "CREATE CONSTRAINT ctrlgraph_analysis_id IF NOT EXISTS FOR (n:Analysis) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT ctrlgraph_store_meta IF NOT EXISTS FOR (n:StoreMeta) REQUIRE n.name IS UNIQUE",
            "CREATE INDEX ctrlgraph_group_analysis IF NOT EXISTS FOR (n:ControlGroup) ON (n.analysis)",
            "CREATE INDEX ctrlgraph_group_id IF NOT EXISTS FOR (n:ControlGroup) ON (n.id)",
            "CREATE INDEX ctrlgraph_account_id IF NOT EXISTS FOR (n:Account) ON (n.id)",
            "CREATE INDEX ctrlgraph_evidence_analysis IF NOT EXISTS FOR ()-[e:EVIDENCE]-() ON (e.analysis)",
        ]
        .map(String::from),
    );
    s
}

impl Neo4jStore {
    /// Connects, checks the credentials and creates the schema when absent.
    pub fn open(cfg: &Neo4jConfig) -> Result<Neo4jStore, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("neo4j-store")
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                path: "<neo4j runtime>".into(),
                source,
            })?;
        let database = cfg.database.clone().unwrap_or_else(|| "neo4j".into());
        let config = ConfigBuilder::default()
            .uri(cfg.uri.as_str())
            .user(cfg.user.as_str())
            .password(cfg.password.as_str())
            .db(database.as_str())
            .fetch_size(PAGE as usize)
            .max_connections(8)
            .build()
            .map_err(|e| StoreError::Open {
                path: cfg.uri.clone().into(),
                source: Box::new(e),
            })?;
        let uri = cfg.uri.clone();
        let graph = {
            let _guard = rt.enter();
            rt.block_on(Graph::connect(config))
        }
        .map_err(|e| StoreError::Open {
            path: uri.clone().into(),
            source: Box::new(e),
        })?;
        let store = Neo4jStore {
            rt: Some(rt),
            graph,
            uri,
            database,
        };
        store.run(query("RETURN 1"))?;
        for s in schema() {
            store.run(query(&s))?;
        }
        tracing::info!(uri = %store.uri, database = %store.database, "connected to Neo4j");
        Ok(store)
    }

    /// The server's address.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Runs a future on the store's runtime and waits for it on this thread.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, neo4rs::Error>> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.wait(&self.spawn(fut))
    }

    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, neo4rs::Error>> + Send + 'static,
    ) -> mpsc::Receiver<Result<T, neo4rs::Error>> {
        let (tx, rx) = mpsc::sync_channel(1);
        if let Some(rt) = &self.rt {
            rt.spawn(async move {
                let _ = tx.send(fut.await);
            });
        }
        rx
    }

    fn wait<T>(&self, rx: &mpsc::Receiver<Result<T, neo4rs::Error>>) -> Result<T, StoreError> {
        match rx.recv() {
            Ok(r) => r.map_err(|e| self.error(e)),
            Err(_) => Err(self.unavailable("the driver's runtime stopped".into())),
        }
    }

    fn unavailable(&self, reason: String) -> StoreError {
        StoreError::Unavailable {
            store: self.uri.clone(),
            reason,
        }
    }

    /// Sorts driver errors into unavailable (retry later), refused credentials, and the rest.
    fn error(&self, e: neo4rs::Error) -> StoreError {
        match &e {
            neo4rs::Error::IOError { .. } | neo4rs::Error::ConnectionError => {
                self.unavailable(e.to_string())
            }
            neo4rs::Error::AuthenticationError(m) => StoreError::Auth {
                store: self.uri.clone(),
                reason: m.clone(),
            },
            neo4rs::Error::Neo4j(n) if n.code().starts_with("Neo.ClientError.Security.") => {
                StoreError::Auth {
                    store: self.uri.clone(),
                    reason: n.message().to_owned(),
                }
            }
            neo4rs::Error::Neo4j(n)
                if n.code().starts_with("Neo.TransientError.")
                    || n.code() == "Neo.ClientError.Database.DatabaseNotFound"
                    || n.code().contains("DatabaseUnavailable") =>
            {
                self.unavailable(format!("{}: {}", n.code(), n.message()))
            }
            _ => StoreError::Db(Box::new(e)),
        }
    }

    /// Runs a query in its own transaction, discarding its rows.
    fn run(&self, q: Query) -> Result<(), StoreError> {
        let g = self.graph.clone();
        self.block(async move { g.run(q).await })
    }

    /// Runs a query and collects its rows.
    fn rows(&self, q: Query) -> Result<Vec<neo4rs::Row>, StoreError> {
        let g = self.graph.clone();
        self.block(async move { collect(&g, q).await })
    }

    /// Runs queries in one transaction.
    fn transaction(&self, qs: Vec<Query>) -> Result<(), StoreError> {
        let g = self.graph.clone();
        self.block(async move {
            let mut txn = g.start_txn().await?;
            for q in qs {
                txn.run(q).await?;
            }
            txn.commit().await
        })
    }

    fn decode_err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db(format!("{}: cannot read {what}: {e}", self.uri).into())
    }

    fn run_items(&self, label: &str) -> Result<Vec<neo4rs::Row>, StoreError> {
        self.rows(query(&format!(
            "MATCH (r:IngestRun {{status: 'completed'}}) WITH max(r.id) AS run \
             MATCH (x:{label} {{run: run}}) RETURN x.file AS file, x.line AS line, \
             x.column AS column, x.reason AS reason, x.raw AS raw, x.message AS message \
             ORDER BY x.seq"
        )))
    }
}

async fn collect(g: &Graph, q: Query) -> Result<Vec<neo4rs::Row>, neo4rs::Error> {
    let mut stream = g.execute(q).await?;
    let mut out = Vec::new();
    while let Some(row) = stream.next().await? {
        out.push(row);
    }
    Ok(out)
}

fn bytes_of(row: &neo4rs::Row, col: &str) -> Option<Vec<u8>> {
    row.get::<neo4rs::BoltBytes>(col)
        .ok()
        .map(|b| b.value.to_vec())
}

fn opt(v: Option<&str>) -> BoltType {
    v.map_or(BoltType::Null(neo4rs::BoltNull), BoltType::from)
}

/// Readable properties of a record node, beside its exact bytes.
fn props(r: &Record) -> HashMap<String, BoltType> {
    let mut m: HashMap<String, BoltType> = HashMap::new();
    let mut put = |k: &str, v: BoltType| {
        m.insert(k.to_owned(), v);
    };
    match r {
        Record::Member(x) => {
            put("id", x.member_id.as_str().into());
            put("name", opt(x.name.as_deref()));
        }
        Record::Person(x) => {
            put("id", x.person_id.as_str().into());
            put("name", opt(x.name.as_deref()));
        }
        Record::Entity(x) => {
            put("id", x.entity_id.as_str().into());
            put("name", opt(x.name.as_deref()));
            put("kind", opt(x.kind.map(|k| k.as_str())));
        }
        Record::Account(x) => {
            put("id", x.account_id.as_str().into());
            put("holder_id", x.holder_id.as_str().into());
            put("member_id", opt(x.member_id.as_deref()));
            put("account_type", opt(x.account_type.map(|k| k.as_str())));
        }
        Record::Shareholding(x) => {
            put("owner_id", x.owner_id.as_str().into());
            put("entity_id", x.entity_id.as_str().into());
            put("share_pct", x.share_pct().into());
            put("kind", x.kind.as_str().into());
        }
        Record::Officer(x) => {
            put("person_id", x.person_id.as_str().into());
            put("entity_id", x.entity_id.as_str().into());
            put("role", x.role.as_str().into());
        }
        Record::Relation(x) => {
            put("from_id", x.from_id.as_str().into());
            put("to_id", x.to_id.as_str().into());
            put("kind", x.kind.as_str().into());
        }
        Record::Authorization(x) => {
            put("account_id", x.account_id.as_str().into());
            put("person_id", x.person_id.as_str().into());
            put("role", x.role.as_str().into());
        }
        Record::Identifier(x) => {
            put("subject_id", x.subject_id.as_str().into());
            put("kind", x.kind.as_str().into());
            put("value", x.value.as_str().into());
        }
        Record::Transfer(x) => {
            put("from_account", x.from_account.as_str().into());
            put("to_account", x.to_account.as_str().into());
            put("amount", x.amount.into());
            put("ts", x.ts.into());
        }
        Record::Trade(x) => {
            put("instrument", x.instrument.as_str().into());
            put("buy_account", x.buy_account.as_str().into());
            put("sell_account", x.sell_account.as_str().into());
        }
        Record::ReportedGroup(x) => {
            put("group_id", x.group_id.as_str().into());
            put("account_id", x.account_id.as_str().into());
        }
        Record::Position(x) => {
            put("date", x.date.to_string().into());
            put("account_id", x.account_id.as_str().into());
            put("instrument", x.instrument.as_str().into());
            put("long", (x.long as i64).into());
            put("short", (x.short as i64).into());
            put("purpose", x.purpose.as_str().into());
        }
        Record::Order(x) => {
            put("ts", x.ts.into());
            put("account_id", x.account_id.as_str().into());
            put("instrument", x.instrument.as_str().into());
            put("side", x.side.as_str().into());
            put("offset", x.offset.as_str().into());
            put("volume", (x.volume as i64).into());
            put("filled", (x.filled as i64).into());
            put("status", x.status.as_str().into());
            put(
                "cancel_ts",
                x.cancel_ts
                    .map_or(BoltType::Null(neo4rs::BoltNull), BoltType::from),
            );
            put("purpose", x.purpose.as_str().into());
            put("order_type", x.order_type.as_str().into());
        }
        Record::Limit(x) => {
            put("scope", x.scope.as_str().into());
            put("kind", x.kind.as_str().into());
            put("value", (x.value as i64).into());
            put(
                "from_date",
                opt(x.from_date.map(|d| d.to_string()).as_deref()),
            );
            put("to_date", opt(x.to_date.map(|d| d.to_string()).as_deref()));
        }
        Record::TradingDay(x) => {
            put("date", x.date.to_string().into());
        }
    }
    m
}

/// An ingest run: rows buffered per table and written in batches that commit as they go.
struct Neo4jSink<'s> {
    store: &'s Neo4jStore,
    run: i64,
    tables: Vec<Vec<BoltType>>,
    rejects: Vec<BoltType>,
    warnings: Vec<BoltType>,
    seq: i64,
    in_flight: VecDeque<mpsc::Receiver<Result<(), neo4rs::Error>>>,
}

impl Neo4jSink<'_> {
    fn send(&mut self, q: Query) -> Result<(), StoreError> {
        let g = self.store.graph.clone();
        self.in_flight
            .push_back(self.store.spawn(async move { g.run(q).await }));
        while self.in_flight.len() > IN_FLIGHT {
            self.wait_one()?;
        }
        Ok(())
    }

    fn wait_one(&mut self) -> Result<(), StoreError> {
        match self.in_flight.pop_front() {
            Some(rx) => self.store.wait(&rx),
            None => Ok(()),
        }
    }

    fn flush_table(&mut self, t: Table) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.tables[t as usize]);
        if rows.is_empty() {
            return Ok(());
        }
        let q = query(&format!(
            "UNWIND $rows AS r MERGE (n:{} {{key: r.key}}) SET n += r.props, n.rec = r.rec, n.run = $run",
            label(t)
        ))
        .param("rows", rows)
        .param("run", self.run);
        self.send(q)
    }

    fn flush_rejects(&mut self) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.rejects);
        if !rows.is_empty() {
            let q = query(
                "UNWIND $rows AS r CREATE (x:IngestReject {run: $run, seq: r.seq, file: r.file, \
                 line: r.line, column: r.column, reason: r.reason, raw: r.raw})",
            )
            .param("rows", rows)
            .param("run", self.run);
            self.send(q)?;
        }
        let rows = std::mem::take(&mut self.warnings);
        if !rows.is_empty() {
            let q = query(
                "UNWIND $rows AS r CREATE (x:IngestWarning {run: $run, seq: r.seq, file: r.file, \
                 line: r.line, column: r.column, message: r.message})",
            )
            .param("rows", rows)
            .param("run", self.run);
            self.send(q)?;
        }
        Ok(())
    }

    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }
}

impl Sink for Neo4jSink<'_> {
    fn put(&mut self, record: &Record) -> Result<(), StoreError> {
        let t = record.table();
        let rec = record_inner(record).encode()?;
        let mut row: HashMap<String, BoltType> = HashMap::with_capacity(3);
        row.insert("key".into(), record.key().into());
        row.insert("rec".into(), rec.into());
        row.insert("props".into(), props(record).into());
        self.tables[t as usize].push(row.into());
        if self.tables[t as usize].len() >= WRITE_BATCH {
            self.flush_table(t)?;
        }
        Ok(())
    }

    fn reject(&mut self, r: &Reject) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let mut m: HashMap<String, BoltType> = HashMap::new();
        m.insert("seq".into(), seq.into());
        m.insert("file".into(), r.file.as_str().into());
        m.insert("line".into(), (r.line as i64).into());
        m.insert("column".into(), r.column.as_str().into());
        m.insert("reason".into(), r.reason.as_str().into());
        m.insert("raw".into(), r.raw.as_str().into());
        self.rejects.push(m.into());
        if self.rejects.len() >= WRITE_BATCH {
            self.flush_rejects()?;
        }
        Ok(())
    }

    fn warn(&mut self, w: &Warning) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let mut m: HashMap<String, BoltType> = HashMap::new();
        m.insert("seq".into(), seq.into());
        m.insert("file".into(), w.file.as_str().into());
        m.insert("line".into(), (w.line as i64).into());
        m.insert("column".into(), w.column.as_str().into());
        m.insert("message".into(), w.message.as_str().into());
        self.warnings.push(m.into());
        if self.warnings.len() >= WRITE_BATCH {
            self.flush_rejects()?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>, summary: &IngestSummary) -> Result<(), StoreError> {
        for t in Table::ALL {
            self.flush_table(*t)?;
        }
        self.flush_rejects()?;
        while !self.in_flight.is_empty() {
            self.wait_one()?;
        }
        for statement in link_statements() {
            self.store.run(query(&statement).param("run", self.run))?;
        }
        let json = serde_json::to_string(summary).map_err(|e| StoreError::Db(Box::new(e)))?;
        let run = self.run;
        self.store.transaction(vec![
            query(
                "MATCH (r:IngestRun {id: $run}) SET r.status = 'completed', r.summary = $summary, \
                 r.dataset = $dataset, r.finished_at = $finished",
            )
            .param("run", run)
            .param("summary", json)
            .param("dataset", summary.dataset.as_str())
            .param("finished", summary.finished_at.as_str()),
            // Earlier runs that never completed are superseded by this one.
            query(
                "MATCH (r:IngestRun {status: 'started'}) WHERE r.id < $run SET r.status = 'failed'",
            )
            .param("run", run),
        ])?;
        // Their rejects and warnings are of no further use.
        self.store.run(query(
            "MATCH (r:IngestRun {status: 'failed'}) MATCH (x:IngestReject|IngestWarning) WHERE x.run = r.id \
             CALL { WITH x DELETE x } IN TRANSACTIONS OF 10000 ROWS",
        ))?;
        tracing::info!(run, "ingest run completed");
        Ok(())
    }
}

impl Drop for Neo4jSink<'_> {
    fn drop(&mut self) {
        // Let writes already sent finish (or fail) before the caller reports the outcome.
        while let Some(rx) = self.in_flight.pop_front() {
            let _ = rx.recv();
        }
    }
}

/// The inner struct of a record, serialised like the embedded store does.
fn record_inner(r: &Record) -> &dyn erased::Encode {
    match r {
        Record::Member(x) => x,
        Record::Person(x) => x,
        Record::Entity(x) => x,
        Record::Account(x) => x,
        Record::Shareholding(x) => x,
        Record::Officer(x) => x,
        Record::Relation(x) => x,
        Record::Authorization(x) => x,
        Record::Identifier(x) => x,
        Record::Transfer(x) => x,
        Record::Trade(x) => x,
        Record::ReportedGroup(x) => x,
        Record::Position(x) => x,
        Record::Order(x) => x,
        Record::Limit(x) => x,
        Record::TradingDay(x) => x,
    }
}

mod erased {
    /// Serialisation of a record's inner struct through a trait object.
    pub trait Encode {
        fn encode(&self) -> Result<Vec<u8>, postcard::Error>;
    }
    impl<T: serde::Serialize> Encode for T {
        fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
            postcard::to_stdvec(self)
        }
    }
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

type Page = Vec<(String, Option<Vec<u8>>)>;

impl Neo4jStore {
    /// One page of a table in key order after `after` (from the start when `None`).
    fn fetch_page(
        &self,
        table: Table,
        after: Option<&str>,
        with_rec: bool,
    ) -> mpsc::Receiver<Result<Page, neo4rs::Error>> {
        let l = label(table);
        let ret = if with_rec {
            "n.key AS key, n.rec AS rec"
        } else {
            "n.key AS key"
        };
        let q = match &after {
            Some(last) => query(&format!(
                "MATCH (n:{l}) WHERE n.key > $last RETURN {ret} ORDER BY n.key LIMIT $n"
            ))
            .param("last", *last),
            None => query(&format!(
                "MATCH (n:{l}) WHERE n.key >= '' RETURN {ret} ORDER BY n.key LIMIT $n"
            )),
        }
        .param("n", PAGE);
        let g = self.graph.clone();
        self.spawn(async move {
            let mut stream = g.execute(q).await?;
            let mut page = Vec::new();
            while let Some(row) = stream.next().await? {
                let key: String = row
                    .get("key")
                    .map_err(neo4rs::Error::DeserializationError)?;
                page.push((key, bytes_of(&row, "rec")));
            }
            Ok(page)
        })
    }

    /// Visits a table page by page (ordered key pagination on the unique key), the next page
    /// being fetched while the caller works through the current one.
    fn scan_pages(
        &self,
        table: Table,
        with_rec: bool,
        f: &mut dyn FnMut(Page) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut next = self.fetch_page(table, None, with_rec);
        loop {
            let page = self.wait(&next)?;
            let full = page.len() as i64 == PAGE;
            let last = page.last().map(|(k, _)| k.clone());
            if full {
                next = self.fetch_page(table, last.as_deref(), with_rec);
            } else {
                return f(page);
            }
            f(page)?;
        }
    }
}

impl Store for Neo4jStore {
    fn begin(&self) -> Result<Box<dyn Sink + '_>, StoreError> {
        let rows = self.rows(
            query(
                "OPTIONAL MATCH (r:IngestRun) WITH coalesce(max(r.id), 0) + 1 AS id \
                 CREATE (n:IngestRun {id: id, status: 'started', started_at: $now}) RETURN id",
            )
            .param("now", chrono::Utc::now().to_rfc3339()),
        )?;
        let run: i64 = rows
            .first()
            .and_then(|r| r.get("id").ok())
            .ok_or_else(|| self.decode_err("the new ingest run", "no id returned"))?;
        tracing::info!(run, uri = %self.uri, "ingest run started");
        Ok(Box::new(Neo4jSink {
            store: self,
            run,
            tables: vec![Vec::new(); Table::ALL.len()],
            rejects: Vec::new(),
            warnings: Vec::new(),
            seq: 0,
            in_flight: VecDeque::new(),
        }))
    }

    fn scan(
        &self,
        table: Table,
        f: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan_pages(table, true, &mut |page| {
            for (key, rec) in page {
                let rec = rec.ok_or_else(|| {
                    self.decode_err(&format!("{} `{key}`", label(table)), "no `rec` property")
                })?;
                f(decode_record(table, &rec)?)?;
            }
            Ok(())
        })
    }

    fn scan_keys(&self, table: Table, f: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        self.scan_pages(table, false, &mut |page| {
            for (key, _) in page {
                f(&key);
            }
            Ok(())
        })
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Record>, StoreError> {
        let rows = self.rows(
            query(&format!(
                "MATCH (n:{} {{key: $key}}) RETURN n.rec AS rec",
                label(table)
            ))
            .param("key", key),
        )?;
        match rows.first().and_then(|r| bytes_of(r, "rec")) {
            Some(b) => decode_record(table, &b).map(Some),
            None => Ok(None),
        }
    }

    fn count(&self, table: Table) -> Result<u64, StoreError> {
        let rows = self.rows(query(&format!(
            "MATCH (n:{}) RETURN count(n) AS n",
            label(table)
        )))?;
        let n: i64 = rows
            .first()
            .and_then(|r| r.get("n").ok())
            .ok_or_else(|| self.decode_err("a count", "no row"))?;
        Ok(n as u64)
    }

    fn ingest_runs(&self) -> Result<Vec<IngestSummary>, StoreError> {
        let rows = self.rows(query(
            "MATCH (r:IngestRun {status: 'completed'}) RETURN r.summary AS summary ORDER BY r.id",
        ))?;
        rows.iter()
            .map(|r| {
                let s: String = r
                    .get("summary")
                    .map_err(|e| self.decode_err("an ingest run", e))?;
                serde_json::from_str(&s).map_err(|e| self.decode_err("an ingest run", e))
            })
            .collect()
    }

    fn last_rejects(&self) -> Result<Vec<Reject>, StoreError> {
        self.run_items("IngestReject")?
            .iter()
            .map(|r| {
                let s = |c: &str| {
                    r.get::<String>(c)
                        .map_err(|e| self.decode_err("a reject", e))
                };
                Ok(Reject {
                    file: s("file")?,
                    line: r
                        .get::<i64>("line")
                        .map_err(|e| self.decode_err("a reject", e))?
                        as u64,
                    column: s("column")?,
                    reason: s("reason")?,
                    raw: s("raw")?,
                })
            })
            .collect()
    }

    fn last_warnings(&self) -> Result<Vec<Warning>, StoreError> {
        self.run_items("IngestWarning")?
            .iter()
            .map(|r| {
                let s = |c: &str| {
                    r.get::<String>(c)
                        .map_err(|e| self.decode_err("a warning", e))
                };
                Ok(Warning {
                    file: s("file")?,
                    line: r
                        .get::<i64>("line")
                        .map_err(|e| self.decode_err("a warning", e))?
                        as u64,
                    column: s("column")?,
                    message: s("message")?,
                })
            })
            .collect()
    }

    fn put_blobs(&self, blobs: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut qs = Vec::new();
        for (name, data) in blobs {
            qs.push(query("MATCH (c:BlobChunk {name: $name}) DELETE c").param("name", *name));
            let chunks: Vec<&[u8]> = if data.is_empty() {
                vec![&[][..]]
            } else {
                data.chunks(BLOB_CHUNK).collect()
            };
            for (seq, chunk) in chunks.iter().enumerate() {
                qs.push(
                    query("CREATE (:BlobChunk {name: $name, seq: $seq, data: $data})")
                        .param("name", *name)
                        .param("seq", seq as i64)
                        .param("data", chunk.to_vec()),
                );
            }
            qs.push(
                query("MERGE (b:Blob {name: $name}) SET b.chunks = $n, b.bytes = $bytes")
                    .param("name", *name)
                    .param("n", chunks.len() as i64)
                    .param("bytes", data.len() as i64),
            );
        }
        self.transaction(qs)
    }

    fn get_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.rows(
            query(
                "MATCH (b:Blob {name: $name}) MATCH (c:BlobChunk {name: $name}) \
                 RETURN b.chunks AS n, c.data AS data ORDER BY c.seq",
            )
            .param("name", name),
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for r in &rows {
            out.extend(bytes_of(r, "data").ok_or_else(|| self.decode_err("a blob", name))?);
        }
        Ok(Some(out))
    }

    fn append_journal(&self, journal: Journal, entry: &JournalEntry) -> Result<(), StoreError> {
        // The counter's increment reads and writes one property, so Cypher locks the counter
        // before reading it: concurrent appends from several servers are numbered in commit
        // order, and each entry is a node of its own that no later write touches.
        // An explicit transaction, which the driver does not retry: an append that fails while
        // the server is away is not carried out later behind the caller's back.
        let fields: HashMap<String, String> = entry.clone().into_iter().collect();
        self.transaction(vec![
            query(&format!(
                "MERGE (c:JournalSeq {{name: $journal}}) SET c.n = coalesce(c.n, 0) + 1 \
                 WITH c.n AS seq CREATE (e:{} {{seq: seq}}) SET e += $fields",
                journal_label(journal)
            ))
            .param("journal", journal.name())
            .param("fields", fields),
        ])
    }

    fn read_journal(&self, journal: Journal) -> Result<Vec<JournalEntry>, StoreError> {
        let rows = self.rows(query(&format!(
            "MATCH (e:{}) WITH e ORDER BY e.seq \
             RETURN [k IN keys(e) WHERE k <> 'seq' | [k, toString(e[k])]] AS fields",
            journal_label(journal)
        )))?;
        rows.iter()
            .map(|r| {
                let pairs: Vec<Vec<String>> = r
                    .get("fields")
                    .map_err(|e| self.decode_err("a journal entry", e))?;
                pairs
                    .into_iter()
                    .map(|kv| match <[String; 2]>::try_from(kv) {
                        Ok([k, v]) => Ok((k, v)),
                        Err(_) => Err(self.decode_err("a journal entry", "not a key and a value")),
                    })
                    .collect()
            })
            .collect()
    }

    fn id_key(&self) -> Result<IdKey, StoreError> {
        // A MERGE on the uniquely constrained name: the first server's random key is stored,
        // every later call (from any server sharing the database) reads that one.
        let rows = self.rows(
            query(
                "MERGE (m:StoreMeta {name: 'id_key'}) ON CREATE SET m.value = $value \
                 RETURN m.value AS value",
            )
            .param("value", IdKey::random().0.to_vec()),
        )?;
        let bytes = rows
            .first()
            .and_then(|r| bytes_of(r, "value"))
            .ok_or_else(|| self.decode_err("the id key", "absent"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| self.decode_err("the id key", "not 32 bytes"))?;
        Ok(IdKey(key))
    }

    fn describe(&self) -> String {
        format!("{} (database {})", self.uri, self.database)
    }

    fn ingest_is_atomic(&self) -> bool {
        false
    }

    fn unfinished_ingest(&self) -> Result<Option<String>, StoreError> {
        let rows = self.rows(query(
            "MATCH (r:IngestRun) RETURN r.id AS id, r.status AS status, r.started_at AS started \
             ORDER BY r.id DESC LIMIT 1",
        ))?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let status: String = r.get("status").unwrap_or_default();
        if status == "completed" {
            return Ok(None);
        }
        let id: i64 = r.get("id").unwrap_or_default();
        let started: String = r.get("started").unwrap_or_default();
        Ok(Some(format!(
            "the last ingest run (run {id}, started {started}) into {} did not complete: it failed or is still running; re-run the ingest to complete it",
            self.describe()
        )))
    }

    fn publish_analysis(&self, view: &AnalysisView<'_>) -> Result<(), StoreError> {
        publish::publish(self, view)
    }
}
