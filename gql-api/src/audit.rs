//! The audit log: one JSON line per request in its own file, never mixed with the application
//! log: who asked, when, the operation (its name, type and root fields), what the resolvers
//! noted (search texts, the group and decision of a review), the outcome, and the subject ids
//! the response returned. A mutation also gets a `"phase":"started"` line before it runs.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// At most this many subject ids are listed per line (the count is always exact).
pub const MAX_IDS: usize = 1000;

/// One audit line.
#[derive(Debug, Serialize)]
pub struct AuditRecord<'a> {
    pub ts: String,
    pub who: Option<&'a str>,
    pub role: Option<&'a str>,
    /// The operation's name, when it has one.
    pub operation: Option<&'a str>,
    /// `query` or `mutation`.
    pub operation_type: Option<&'a str>,
    /// The names of the root fields asked for (named operation or not).
    pub root_fields: &'a [String],
    /// What the resolvers did that identifies the request: searches with their text, reviews
    /// with their group and decision, re-analyses.
    pub actions: &'a [Action],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<&'static str>,
    pub status: u16,
    pub error_codes: Vec<String>,
    pub duration_ms: f64,
    pub subject_count: usize,
    pub subjects: Vec<String>,
}

/// One thing a resolver did, with the arguments that say what: `search` with `text`,
/// `reviewGroup` with `group` and `decision`, `reanalyze`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub field: &'static str,
    #[serde(flatten)]
    pub args: BTreeMap<&'static str, String>,
}

/// The actions of one request, noted by its resolvers (shared with the blocking threads they
/// hand work to).
#[derive(Debug, Clone, Default)]
pub struct Actions(Arc<Mutex<Vec<Action>>>);

impl Actions {
    /// Notes that `field` ran with `args`.
    pub fn note(&self, field: &'static str, args: &[(&'static str, String)]) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Action {
                field,
                args: args.iter().cloned().collect(),
            });
    }

    /// The actions noted so far (kept for later lines of the same request).
    pub fn take(&self) -> Vec<Action> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The audit log file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    out: Mutex<File>,
}

impl AuditLog {
    /// Opens (appends to) the audit file.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // Private to its owner (0600 on unix): it names who looked at whom.
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(AuditLog {
            path: path.to_owned(),
            out: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line, in one write (no buffer that a failed write would leave half full);
    /// the caller refuses the request when it fails.
    pub fn write(&self, record: &AuditRecord<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.write_all(&line)?;
        out.flush()
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
