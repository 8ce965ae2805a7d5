//! Reading datasets into ctrlgraph: parsing, validation, normalisation and the stores.
//!
//! - [`pipeline`]: an ingest run over a dataset folder, in one store transaction.
//! - [`csvfile`]: a file split into rows, RFC 4180 quoting, a broken quote costing one row.
//! - [`rows`]: one CSV row to one typed record, or the reason it cannot be used.
//! - [`normalize`] and [`checks`]: value normalisation and check characters.
//! - [`bods`]: Beneficial Ownership Data Standard JSON into the same records.
//! - [`store`]: the storage interface and the embedded redb store.
//! - [`report`]: per-file summaries, rejects and warnings.
//!
//! Architecture invariant: rows are either loaded or rejected, never dropped: for every file,
//! `loaded + rejected == read`.

pub mod bods;
pub mod checks;
pub mod csvfile;
pub mod load;
pub mod normalize;
pub mod pipeline;
pub mod report;
pub mod rows;
pub mod store;

pub use pipeline::{Encoding, IngestError, IngestOptions, dataset_files, ingest_dir};
pub use report::{FileSummary, IngestSummary, Reject, Warning};
pub use store::{
    AnalysisView, EvidenceView, GroupView, IdKey, Journal, JournalEntry, RedbStore, Sink, Store,
    StoreError,
};
