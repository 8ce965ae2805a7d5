//! The audit log: one JSON line per request in its own file, never mixed with the application
//! log: who asked, when, the operation, the outcome, and the subject ids the response returned.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

/// At most this many subject ids are listed per line (the count is always exact).
pub const MAX_IDS: usize = 1000;

/// One audit line.
#[derive(Debug, Serialize)]
pub struct AuditRecord<'a> {
    pub ts: String,
    pub who: Option<&'a str>,
    pub role: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub status: u16,
    pub error_codes: Vec<String>,
    pub duration_ms: f64,
    pub subject_count: usize,
    pub subjects: Vec<String>,
}

/// The audit log file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    out: Mutex<BufWriter<File>>,
}

impl AuditLog {
    /// Opens (appends to) the audit file.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            path: path.to_owned(),
            out: Mutex::new(BufWriter::new(file)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it.
    pub fn write(&self, record: &AuditRecord<'_>) {
        let Ok(line) = serde_json::to_string(record) else {
            return;
        };
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::error!(error = %e, path = %self.path.display(), "cannot write the audit log");
        }
    }
}

/// The ids of the subjects in a response: every `id` field's string value, in order, distinct,
/// read from the engine's own value (no conversion to JSON first).
pub fn subject_ids(data: &async_graphql::Value) -> (usize, Vec<String>) {
    fn walk<'a>(
        v: &'a async_graphql::Value,
        seen: &mut ahash::AHashSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        match v {
            async_graphql::Value::Object(map) => {
                for (k, v) in map {
                    if k.as_str() == "id"
                        && let async_graphql::Value::String(s) = v
                    {
                        if seen.insert(s.as_str()) {
                            out.push(s.as_str());
                        }
                    } else {
                        walk(v, seen, out);
                    }
                }
            }
            async_graphql::Value::List(items) => {
                for i in items {
                    walk(i, seen, out);
                }
            }
            _ => {}
        }
    }
    let mut seen = ahash::AHashSet::new();
    let mut out = Vec::new();
    walk(data, &mut seen, &mut out);
    let n = out.len();
    (
        n,
        out.into_iter().take(MAX_IDS).map(str::to_owned).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_collected_at_any_depth_once() {
        let v = serde_json::json!({"account": {"id": "A1", "holder": {"id": "P1"},
            "groups": [{"id": "G1", "accounts": [{"id": "A1"}, {"id": "A2"}]}]}});
        let (n, mut ids) = subject_ids(&async_graphql::Value::from_json(v).unwrap());
        assert_eq!(n, 4);
        ids.sort();
        assert_eq!(ids, ["A1", "A2", "G1", "P1"]);
    }
}
