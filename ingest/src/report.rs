//! What an ingest run reports: per-file counts, rejected rows and warnings.

use serde::{Deserialize, Serialize};

/// A row that was not loaded, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    /// The column at fault, empty when the row as a whole is (a conflicting duplicate).
    pub column: String,
    pub reason: String,
    /// The raw row, re-encoded as one CSV line.
    pub raw: String,
}

/// A recoverable defect: the row was loaded, and this says what was odd about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub file: String,
    /// Zero for findings about several rows (shareholdings of one entity adding up to over 100).
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// Counts for one file. `loaded + rejected == read` and `new + updated + unchanged == loaded`
/// always hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: String,
    pub read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub warnings: u64,
    /// Loaded rows whose key the store did not hold before the run.
    #[serde(default)]
    pub new: u64,
    /// Loaded rows that replaced a stored record with different content.
    #[serde(default)]
    pub updated: u64,
    /// Loaded rows identical to what the store held (exact duplicates within the file too).
    #[serde(default)]
    pub unchanged: u64,
    /// Updated rows that change a person's identity number or an account's holder (each also
    /// a warning, with the old and the new value).
    #[serde(default)]
    pub conflicts: u64,
    /// Time spent on the file, validation and store writes included.
    #[serde(default)]
    pub seconds: f64,
}

/// The outcome of one ingest run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestSummary {
    /// The dataset folder, as given.
    pub dataset: String,
    /// When the run committed (RFC 3339).
    pub finished_at: String,
    pub files: Vec<FileSummary>,
    pub seconds: f64,
}

impl IngestSummary {
    /// Rows read, loaded and rejected over all files.
    pub fn totals(&self) -> FileSummary {
        let mut t = FileSummary {
            file: "total".into(),
            ..FileSummary::default()
        };
        for f in &self.files {
            t.read += f.read;
            t.loaded += f.loaded;
            t.rejected += f.rejected;
            t.warnings += f.warnings;
            t.new += f.new;
            t.updated += f.updated;
            t.unchanged += f.unchanged;
            t.conflicts += f.conflicts;
            t.seconds += f.seconds;
        }
        t
    }

    /// A fixed-width table for the terminal.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{:<22} {:>12} {:>12} {:>10} {:>10} {:>12} {:>10} {:>10} {:>12}\n",
            "file",
            "read",
            "loaded",
            "rejected",
            "warnings",
            "new",
            "updated",
            "unchanged",
            "rows/s"
        );
        for f in self.files.iter().chain(std::iter::once(&self.totals())) {
            s.push_str(&format!(
                "{:<22} {:>12} {:>12} {:>10} {:>10} {:>12} {:>10} {:>10} {:>12.0}\n",
                f.file,
                f.read,
                f.loaded,
                f.rejected,
                f.warnings,
                f.new,
                f.updated,
                f.unchanged,
                f.read as f64 / f.seconds.max(1e-9)
            ));
        }
        s
    }
}
