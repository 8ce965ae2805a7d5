//! The analysed store: what the command line, the GraphQL server and the reports share.
//!
//! [`analyze`] reads the graph and the trade and transfer tapes from any [`Store`], runs every
//! detector and stores the results, the embeddings and their account ids as blobs in one
//! transaction. [`load_results`] and [`load_embeddings`] read them back; [`Reviews`] are the
//! analysts' decisions on groups, kept by group id so that they survive re-analysis while the
//! group keeps its id. Each review is appended to the store's review journal on its own, so
//! servers sharing a store never overwrite each other's reviews.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use detectors::analysis::{Analysis, AnalysisConfig, AnalysisInput};
use detectors::behaviour::TradeEvent;
use detectors::embed::Embeddings;
use detectors::flows::TransferEvent;
use detectors::results::{
    AnalysisResults, LinkRecord, StageTiming, SurveillanceResults, link_record,
};
use graph_core::model::{Record, Table};
use graph_core::{NodeId, PropertyGraph};
use ingest::{Journal, JournalEntry, Store, StoreError};
use serde::{Deserialize, Serialize};

pub mod open;
pub mod surveillance;
pub use open::{OpenError, StoreSettings, open_store};

/// The blob names analysis results are stored under.
pub const RESULTS_BLOB: &str = "analysis/results";
pub const EMBEDDINGS_BLOB: &str = "analysis/embeddings";
/// The account ids of the embedding rows, newline-separated (graph indices change on re-ingest).
pub const EMBEDDING_IDS_BLOB: &str = "analysis/embedding-ids";
/// Every evidence link of the latest analysis (postcard `Vec<LinkRecord>`), inside groups or not.
pub const LINKS_BLOB: &str = "analysis/links";
/// The `created_at` of the stored analysis, written with it: a cheap check of whether another
/// process has analysed the store since it was loaded.
pub const ANALYSIS_STAMP_BLOB: &str = "analysis/created-at";
/// Reviews stored by earlier versions as one blob; read beside the review journal, never written.
pub const LEGACY_REVIEWS_BLOB: &str = "reviews";
/// Earlier analyses: the index (a JSON list of `created_at`, oldest first) and, under
/// `analysis/history/<created_at>`, each replaced result in the stored encoding.
pub const HISTORY_INDEX_BLOB: &str = "analysis/history";
/// How many replaced analyses are kept; older ones are emptied (stores have no delete).
pub const HISTORY_KEEP: usize = 8;

/// Errors of the analysed store.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Analysis(#[from] detectors::analysis::AnalysisError),
    #[error("stored {what} cannot be decoded: {reason}")]
    Decode { what: &'static str, reason: String },
    /// An analysis blob in an encoding this version does not read (an older version wrote it).
    #[error(
        "the stored {what} cannot be read ({reason}); if another version of ctrlgraph wrote them, run `ctrlgraph analyze` again"
    )]
    Outdated { what: &'static str, reason: String },
    #[error("stored {what} cannot be encoded: {reason}")]
    Encode { what: &'static str, reason: String },
    /// The store's last ingest did not complete; analysis refuses it unless forced.
    #[error("{0}; analysis refuses an incomplete store (force it with --force)")]
    IncompleteIngest(String),
}

/// Settings of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// The analysis settings (seeds among them).
    pub config: AnalysisConfig,
    /// Draw progress while loading the graph.
    pub progress: bool,
    /// Analyse even when the store's last ingest did not complete.
    pub force: bool,
    /// The day reporting deadlines are measured on; by default the last day of the tapes.
    pub as_of: Option<chrono::NaiveDate>,
}

/// What [`analyze`] produced, besides what it stored.
#[derive(Debug)]
pub struct Analysed {
    pub graph: PropertyGraph,
    pub analysis: Analysis,
    /// The surveillance findings, as stored.
    pub surveillance: SurveillanceResults,
}

/// The tapes and reported groups an analysis reads besides the graph.
#[derive(Debug, Default)]
pub struct Tapes {
    pub trades: Vec<TradeEvent>,
    pub trade_ids: Vec<String>,
    pub instruments: Vec<String>,
    pub transfers: Vec<TransferEvent>,
    pub reported: Vec<(String, String)>,
}

/// Reads the trade and transfer tapes and the reported groups of a store, for the graph `g`.
pub fn load_tapes(store: &dyn Store, g: &PropertyGraph) -> Result<Tapes, StoreError> {
    let mut tapes = Tapes::default();
    let mut instruments: HashMap<String, u32> = HashMap::new();
    store.scan(Table::Trades, &mut |r| {
        if let Record::Trade(t) = r
            && let (Some(buy), Some(sell)) = (g.find(&t.buy_account), g.find(&t.sell_account))
        {
            let n = instruments.len() as u32;
            let instrument = *instruments.entry(t.instrument).or_insert(n);
            tapes.trades.push(TradeEvent {
                id: tapes.trade_ids.len() as u32,
                ts: t.ts,
                instrument,
                buy,
                sell,
                price: t.price,
                volume: t.volume,
            });
            tapes.trade_ids.push(t.trade_id);
        }
        Ok(())
    })?;
    let mut names = vec![String::new(); instruments.len()];
    for (name, i) in instruments {
        names[i as usize] = name;
    }
    tapes.instruments = names;
    store.scan(Table::Transfers, &mut |r| {
        if let Record::Transfer(t) = r
            && let (Some(from), Some(to)) = (g.find(&t.from_account), g.find(&t.to_account))
        {
            tapes.transfers.push(TransferEvent {
                id: tapes.transfers.len() as u32,
                ts: t.ts,
                from,
                to,
                amount: t.amount,
            });
        }
        Ok(())
    })?;
    store.scan(Table::ReportedGroups, &mut |r| {
        if let Record::ReportedGroup(rg) = r {
            tapes.reported.push((rg.group_id, rg.account_id));
        }
        Ok(())
    })?;
    Ok(tapes)
}

/// Loads the graph, runs every detector and stores the results, embeddings and their ids in one
/// transaction, replacing the previous analysis. `stage` is called before each stage.
pub fn analyze(
    store: &dyn Store,
    opts: &AnalyzeOptions,
    stage: &mut dyn FnMut(&str),
) -> Result<Analysed, ServiceError> {
    if !opts.force
        && let Some(why) = store.unfinished_ingest()?
    {
        return Err(ServiceError::IncompleteIngest(why));
    }
    let started = Instant::now();
    stage("loading the graph");
    let g = ingest::load::load_graph(store, opts.progress)?;
    let load_secs = started.elapsed().as_secs_f64();

    let t = Instant::now();
    stage("loading trades and transfers");
    let tapes = load_tapes(store, &g)?;
    let replaced = match load_results(store) {
        Ok(r) => r,
        Err(e @ ServiceError::Outdated { .. }) => {
            tracing::warn!(
                error = %e,
                "analysing afresh: group ids start anew and the unreadable analysis is not kept in the history"
            );
            None
        }
        Err(e) => return Err(e),
    };
    let previous: Vec<(String, Vec<String>)> = replaced
        .as_ref()
        .map(|r| {
            r.groups
                .iter()
                .map(|g| (g.id.clone(), g.accounts.clone()))
                .collect()
        })
        .unwrap_or_default();
    let tape_secs = t.elapsed().as_secs_f64();

    let input = AnalysisInput {
        trades: &tapes.trades,
        trade_ids: &tapes.trade_ids,
        transfers: &tapes.transfers,
        reported: &tapes.reported,
        previous: &previous,
    };
    let mut analysis = detectors::analysis::run(&g, &input, &opts.config, stage)?;
    let results = &mut analysis.results;
    // To the second (reports show it; nanoseconds only clutter), and later than the analysis it
    // replaces even when both ran within one second: the time also names the analysis.
    let mut now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    if let Some(prev) = replaced
        .as_ref()
        .and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.created_at).ok())
        && now <= prev
    {
        now = chrono::SubsecRound::trunc_subsecs(prev.to_utc(), 0) + chrono::TimeDelta::seconds(1);
    }
    results.created_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    results.timings.insert(
        0,
        StageTiming {
            stage: "load graph".into(),
            seconds: load_secs,
        },
    );
    results.timings.insert(
        1,
        StageTiming {
            stage: "load trades".into(),
            seconds: tape_secs,
        },
    );
    let trade_id = |i: u32| tapes.trade_ids[i as usize].clone();
    // The evidence's edge ids are those of the resolved graph.
    let analysed_graph = analysis.resolved_graph.as_ref().unwrap_or(&g);
    let links: Vec<LinkRecord> = analysis
        .evidence
        .links
        .iter()
        .map(|l| link_record(analysed_graph, l, &trade_id))
        .collect();
    stage("surveillance checks");
    let t = Instant::now();
    let checks = surveillance::run(store, results, &tapes.reported, &links, opts.as_of)?;
    results.timings.push(StageTiming {
        stage: "surveillance".into(),
        seconds: t.elapsed().as_secs_f64(),
    });
    let checks_bytes = postcard::to_stdvec(&checks).map_err(|e| ServiceError::Encode {
        what: "surveillance findings",
        reason: e.to_string(),
    })?;
    stage("storing the results");
    let t = Instant::now();
    let bytes = postcard::to_stdvec(&*results).map_err(|e| ServiceError::Encode {
        what: "analysis results",
        reason: e.to_string(),
    })?;
    let links = postcard::to_stdvec(&links).map_err(|e| ServiceError::Encode {
        what: "evidence links",
        reason: e.to_string(),
    })?;
    let emb = analysis.embeddings.to_bytes();
    let emb_ids = analysis
        .embeddings
        .nodes
        .iter()
        .map(|n| g.key(*n))
        .collect::<Vec<_>>()
        .join("\n");
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(old) = &replaced {
        blobs = history_blobs(store, old)?;
    }
    let mut all: Vec<(&str, &[u8])> = vec![
        (ANALYSIS_STAMP_BLOB, results.created_at.as_bytes()),
        (RESULTS_BLOB, &bytes),
        (LINKS_BLOB, &links),
        (EMBEDDINGS_BLOB, &emb),
        (EMBEDDING_IDS_BLOB, emb_ids.as_bytes()),
        (surveillance::SURVEILLANCE_BLOB, &checks_bytes),
    ];
    all.extend(blobs.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    store.put_blobs(&all)?;
    store.publish_analysis(&analysis_view(results, &analysis.embeddings, &g))?;
    results.timings.push(StageTiming {
        stage: "store".into(),
        seconds: t.elapsed().as_secs_f64(),
    });
    Ok(Analysed {
        graph: g,
        analysis,
        surveillance: checks,
    })
}

/// An analysis as plain data for [`Store::publish_analysis`].
fn analysis_view<'a>(
    results: &'a AnalysisResults,
    embeddings: &Embeddings,
    g: &'a PropertyGraph,
) -> ingest::AnalysisView<'a> {
    ingest::AnalysisView {
        created_at: &results.created_at,
        groups: results
            .groups
            .iter()
            .map(|gr| ingest::GroupView {
                id: &gr.id,
                score: gr.score,
                status: &gr.status,
                criteria: &gr.criteria,
                controller_id: gr.controller_id.as_deref(),
                reported_group: gr.reported_group.as_deref(),
                accounts: &gr.accounts,
                evidence: gr
                    .links
                    .iter()
                    .flat_map(|l| {
                        l.signals.iter().map(move |s| ingest::EvidenceView {
                            a: &l.a,
                            b: &l.b,
                            criterion: &s.criterion,
                            kind: &s.kind,
                            weight: s.weight,
                            link_weight: l.weight,
                            description: &s.description,
                        })
                    })
                    .collect(),
            })
            .collect(),
        embeddings: embeddings
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (g.key(*n), embeddings.vectors.row(i).to_vec()))
            .collect(),
    }
}

/// The stored results of the latest analysis, if any.
pub fn load_results(store: &dyn Store) -> Result<Option<AnalysisResults>, ServiceError> {
    match store.get_blob(RESULTS_BLOB)? {
        Some(bytes) => postcard::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| ServiceError::Outdated {
                what: "analysis results",
                reason: e.to_string(),
            }),
        None => Ok(None),
    }
}

/// The surveillance findings of the latest analysis, if it stored any (analyses made before the
/// checks existed did not).
pub fn load_surveillance(store: &dyn Store) -> Result<Option<SurveillanceResults>, ServiceError> {
    match store.get_blob(surveillance::SURVEILLANCE_BLOB)? {
        Some(bytes) => postcard::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| ServiceError::Outdated {
                what: "surveillance findings",
                reason: e.to_string(),
            }),
        None => Ok(None),
    }
}

/// Every evidence link of the latest analysis (empty when none was stored).
pub fn load_links(store: &dyn Store) -> Result<Vec<LinkRecord>, ServiceError> {
    match store.get_blob(LINKS_BLOB)? {
        Some(bytes) => postcard::from_bytes(&bytes).map_err(|e| ServiceError::Outdated {
            what: "evidence links",
            reason: e.to_string(),
        }),
        None => Ok(Vec::new()),
    }
}

/// The blob name of a replaced analysis.
pub fn history_blob(created_at: &str) -> String {
    format!("{HISTORY_INDEX_BLOB}/{created_at}")
}

/// The blobs that move `old` (the analysis being replaced) into the history: its results, the
/// updated index, and emptied blobs for entries past [`HISTORY_KEEP`].
fn history_blobs(
    store: &dyn Store,
    old: &AnalysisResults,
) -> Result<Vec<(String, Vec<u8>)>, ServiceError> {
    let mut index = list_history(store)?;
    index.retain(|c| c != &old.created_at);
    index.push(old.created_at.clone());
    let mut blobs = Vec::new();
    while index.len() > HISTORY_KEEP {
        blobs.push((history_blob(&index.remove(0)), Vec::new()));
    }
    let bytes = postcard::to_stdvec(old).map_err(|e| ServiceError::Encode {
        what: "analysis history",
        reason: e.to_string(),
    })?;
    blobs.push((history_blob(&old.created_at), bytes));
    let index = serde_json::to_vec(&index).map_err(|e| ServiceError::Encode {
        what: "analysis history index",
        reason: e.to_string(),
    })?;
    blobs.push((HISTORY_INDEX_BLOB.to_owned(), index));
    Ok(blobs)
}

/// The `created_at` of every earlier analysis kept in the store, oldest first (the latest
/// analysis is not among them: [`load_results`] reads it).
pub fn list_history(store: &dyn Store) -> Result<Vec<String>, ServiceError> {
    match store.get_blob(HISTORY_INDEX_BLOB)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| ServiceError::Decode {
            what: "analysis history index",
            reason: e.to_string(),
        }),
        None => Ok(Vec::new()),
    }
}

/// An earlier analysis by its `created_at`, if the store keeps it.
pub fn load_history(
    store: &dyn Store,
    created_at: &str,
) -> Result<Option<AnalysisResults>, ServiceError> {
    match store.get_blob(&history_blob(created_at))? {
        Some(bytes) if !bytes.is_empty() => {
            postcard::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| ServiceError::Outdated {
                    what: "analysis history",
                    reason: e.to_string(),
                })
        }
        _ => Ok(None),
    }
}

/// Stored embeddings addressed by account id: the rows of `embeddings` are numbered
/// `NodeId(0..n)` and `ids[i]` is the account of row `i`.
#[derive(Debug)]
pub struct StoredEmbeddings {
    pub embeddings: Embeddings,
    pub ids: Vec<String>,
    pub rows: HashMap<String, NodeId>,
}

impl StoredEmbeddings {
    /// The `k` accounts most similar to `account` by cosine, best first; `None` when the account
    /// has no embedding.
    pub fn similar(&self, account: &str, k: usize) -> Option<Vec<(&str, f32)>> {
        let row = *self.rows.get(account)?;
        Some(
            self.embeddings
                .similar(row, k)
                .into_iter()
                .map(|(n, cos)| (self.ids[n.index()].as_str(), cos))
                .collect(),
        )
    }
}

/// The stored embeddings of the latest analysis, if any.
pub fn load_embeddings(store: &dyn Store) -> Result<Option<StoredEmbeddings>, ServiceError> {
    let (Some(bytes), Some(ids)) = (
        store.get_blob(EMBEDDINGS_BLOB)?,
        store.get_blob(EMBEDDING_IDS_BLOB)?,
    ) else {
        return Ok(None);
    };
    let decode = |reason: String| ServiceError::Decode {
        what: "embeddings",
        reason,
    };
    let mut embeddings = Embeddings::from_bytes(&bytes).map_err(|e| decode(e.to_string()))?;
    let ids = String::from_utf8(ids).map_err(|e| decode(e.to_string()))?;
    let ids: Vec<String> = if ids.is_empty() {
        Vec::new()
    } else {
        ids.split('\n').map(str::to_owned).collect()
    };
    if ids.len() != embeddings.len() {
        return Err(decode(format!(
            "{} vectors but {} account ids",
            embeddings.len(),
            ids.len()
        )));
    }
    embeddings.nodes = (0..embeddings.len() as u32).map(NodeId).collect();
    let rows = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), NodeId(i as u32)))
        .collect();
    Ok(Some(StoredEmbeddings {
        embeddings,
        ids,
        rows,
    }))
}

/// An analyst's decision on a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Confirmed,
    Dismissed,
    Escalated,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "CONFIRMED",
            Decision::Dismissed => "DISMISSED",
            Decision::Escalated => "ESCALATED",
        }
    }
}

/// One review of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub group_id: String,
    pub decision: Decision,
    pub note: String,
    pub reviewer: String,
    /// RFC 3339.
    pub at: String,
}

/// Every group's reviews, oldest first, by group id. A group keeps its reviews across
/// re-analysis while its id persists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reviews {
    pub by_group: BTreeMap<String, Vec<Review>>,
}

impl Reviews {
    /// The latest review of a group.
    pub fn latest(&self, group_id: &str) -> Option<&Review> {
        self.by_group.get(group_id).and_then(|v| v.last())
    }

    /// Every review of a group, oldest first.
    pub fn history(&self, group_id: &str) -> &[Review] {
        self.by_group.get(group_id).map_or(&[], Vec::as_slice)
    }
}

impl Decision {
    /// The decision of its stored spelling (`CONFIRMED`, ...).
    pub fn parse(text: &str) -> Option<Decision> {
        [
            Decision::Confirmed,
            Decision::Dismissed,
            Decision::Escalated,
        ]
        .into_iter()
        .find(|d| d.as_str() == text)
    }
}

impl Review {
    fn to_entry(&self) -> JournalEntry {
        [
            ("group_id", self.group_id.as_str()),
            ("decision", self.decision.as_str()),
            ("note", self.note.as_str()),
            ("reviewer", self.reviewer.as_str()),
            ("at", self.at.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn from_entry(entry: &JournalEntry) -> Result<Review, ServiceError> {
        let field = |k: &str| {
            entry.get(k).cloned().ok_or_else(|| ServiceError::Decode {
                what: "review",
                reason: format!("the journal entry has no `{k}`"),
            })
        };
        let decision = field("decision")?;
        Ok(Review {
            group_id: field("group_id")?,
            decision: Decision::parse(&decision).ok_or_else(|| ServiceError::Decode {
                what: "review",
                reason: format!("unknown decision `{decision}`"),
            })?,
            note: field("note")?,
            reviewer: field("reviewer")?,
            at: field("at")?,
        })
    }
}

/// Every stored review: those of the review journal in the order they were written, after any
/// kept by an earlier version as one blob.
pub fn load_reviews(store: &dyn Store) -> Result<Reviews, ServiceError> {
    let mut reviews = match store.get_blob(LEGACY_REVIEWS_BLOB)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| ServiceError::Decode {
            what: "reviews",
            reason: e.to_string(),
        })?,
        None => Reviews::default(),
    };
    for entry in store.read_journal(Journal::Reviews)? {
        let review = Review::from_entry(&entry)?;
        reviews
            .by_group
            .entry(review.group_id.clone())
            .or_default()
            .push(review);
    }
    Ok(reviews)
}

/// Appends a review to the store's review journal, in a transaction of its own.
pub fn add_review(store: &dyn Store, review: &Review) -> Result<(), ServiceError> {
    store.append_journal(Journal::Reviews, &review.to_entry())?;
    Ok(())
}

/// The `created_at` of the stored analysis, read without loading it (`None` before the first
/// analysis, or for an analysis stored by a version that did not write the stamp).
pub fn analysis_stamp(store: &dyn Store) -> Result<Option<String>, ServiceError> {
    Ok(store
        .get_blob(ANALYSIS_STAMP_BLOB)?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed_store(dataset: &str) -> (tempfile::TempDir, ingest::RedbStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ingest::RedbStore::open(dir.path()).expect("store");
        ingest::ingest_dir(
            &fixtures::dataset(dataset),
            &store,
            &ingest::IngestOptions::default(),
        )
        .expect("ingest");
        analyze(&store, &AnalyzeOptions::default(), &mut |_| {}).expect("analyze");
        (dir, store)
    }

    #[test]
    fn analysis_round_trips_through_the_store() {
        let (_dir, store) = analysed_store("family-and-nominee");
        let results = load_results(&store).expect("load").expect("results stored");
        assert!(!results.groups.is_empty());
        let emb = load_embeddings(&store).expect("load").expect("embeddings");
        assert_eq!(emb.ids.len(), emb.embeddings.len());
        let first = &results.groups[0].accounts[0];
        let similar = emb.similar(first, 3).expect("the account has an embedding");
        assert!(similar.len() <= 3 && similar.iter().all(|(id, _)| id != first));
    }

    /// Every stored control path is a chain (each hop starts where the previous one ended),
    /// also where resolution contracted the graph (E15 is E01 under the same USCC).
    #[test]
    fn stored_control_paths_are_chains_after_resolution() {
        let (_dir, store) = analysed_store("ownership-chain");
        let results = load_results(&store).unwrap().unwrap();
        assert!(
            !results.resolved.is_empty(),
            "the fixture has a record to resolve"
        );
        let links = load_links(&store).unwrap();
        let mut paths = 0;
        for l in &links {
            for s in &l.signals {
                for p in s.detail.control_paths() {
                    paths += 1;
                    for w in p.windows(2) {
                        // Each hop starts where the previous ended, or is another holding of the
                        // same party in the same holder (shares beside votes).
                        let parallel = w[0].from == w[1].from && w[0].to == w[1].to;
                        assert!(w[0].to == w[1].from || parallel, "{}", s.description);
                    }
                }
            }
        }
        assert!(paths > 0);
    }

    #[test]
    fn reviews_persist_and_survive_reanalysis_under_a_stable_id() {
        let (_dir, store) = analysed_store("ownership-chain");
        let id = load_results(&store).unwrap().unwrap().groups[0].id.clone();
        let review = Review {
            group_id: id.clone(),
            decision: Decision::Confirmed,
            note: "checked the registry".into(),
            reviewer: "analyst-1".into(),
            at: "2026-11-24T10:00:00Z".into(),
        };
        add_review(&store, &review).unwrap();
        let stamp = analysis_stamp(&store).unwrap().expect("stamped");
        analyze(&store, &AnalyzeOptions::default(), &mut |_| {}).unwrap();
        let again = load_results(&store).unwrap().unwrap();
        assert!(again.groups.iter().any(|g| g.id == id), "the id is stable");
        assert_eq!(load_reviews(&store).unwrap().latest(&id), Some(&review));
        assert_ne!(analysis_stamp(&store).unwrap(), Some(stamp));
        assert_eq!(analysis_stamp(&store).unwrap(), Some(again.created_at));
    }

    #[test]
    fn reviews_of_the_journal_follow_those_of_the_legacy_blob_in_order() {
        let (_dir, store) = analysed_store("ownership-chain");
        let review = |note: &str, at: &str| Review {
            group_id: "G-1".into(),
            decision: Decision::Escalated,
            note: note.into(),
            reviewer: "analyst-1".into(),
            at: at.into(),
        };
        let legacy = Reviews {
            by_group: BTreeMap::from([("G-1".into(), vec![review("old", "2026-01-01T00:00:00Z")])]),
        };
        store
            .put_blobs(&[(LEGACY_REVIEWS_BLOB, &serde_json::to_vec(&legacy).unwrap())])
            .unwrap();
        for (i, note) in ["first", "second", "third"].iter().enumerate() {
            add_review(&store, &review(note, &format!("2026-11-24T10:00:0{i}Z"))).unwrap();
        }
        let notes: Vec<_> = load_reviews(&store)
            .unwrap()
            .history("G-1")
            .iter()
            .map(|r| r.note.clone())
            .collect();
        assert_eq!(notes, ["old", "first", "second", "third"]);
    }

    #[test]
    fn a_journal_entry_with_an_unknown_decision_is_a_decode_error() {
        let (_dir, store) = analysed_store("ownership-chain");
        let mut entry = Review {
            group_id: "G-1".into(),
            decision: Decision::Confirmed,
            note: String::new(),
            reviewer: "a".into(),
            at: "2026-11-24T10:00:00Z".into(),
        }
        .to_entry();
        entry.insert("decision".into(), "MAYBE".into());
        store.append_journal(Journal::Reviews, &entry).unwrap();
        let err = load_reviews(&store).unwrap_err();
        assert!(
            err.to_string().contains("unknown decision `MAYBE`"),
            "{err}"
        );
    }

    #[test]
    fn results_another_version_wrote_are_named_and_analysed_afresh() {
        let (_dir, store) = analysed_store("ownership-chain");
        // Results in an encoding this version does not read, as an older version left them.
        store
            .put_blobs(&[(RESULTS_BLOB, &[0xff, 0xff, 0xff, 0xff, 0x0f][..])])
            .unwrap();
        let err = load_results(&store).unwrap_err();
        assert!(matches!(err, ServiceError::Outdated { .. }), "{err:?}");
        assert!(
            err.to_string().contains("run `ctrlgraph analyze` again"),
            "{err}"
        );
        analyze(&store, &AnalyzeOptions::default(), &mut |_| {}).expect("analyses afresh");
        assert!(!load_results(&store).unwrap().unwrap().groups.is_empty());
    }

    #[test]
    fn replaced_analyses_are_kept_in_the_history() {
        let (_dir, store) = analysed_store("ownership-chain");
        assert!(list_history(&store).unwrap().is_empty());
        let first = load_results(&store).unwrap().unwrap();
        analyze(&store, &AnalyzeOptions::default(), &mut |_| {}).unwrap();
        let second = load_results(&store).unwrap().unwrap();
        assert_ne!(first.created_at, second.created_at);
        assert_eq!(
            list_history(&store).unwrap(),
            vec![first.created_at.clone()]
        );
        let old = load_history(&store, &first.created_at).unwrap().unwrap();
        assert_eq!(old, first);
        assert!(
            load_history(&store, "1999-01-01T00:00:00Z")
                .unwrap()
                .is_none()
        );
    }
}
