//! Change reports: the groups of the latest analysis against an earlier one, matched by stable
//! group id (a group keeps its id while its membership stays mostly the same).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ReportError;

/// How a group changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// No group had this id before.
    New,
    /// More accounts than before.
    Grown,
    /// Fewer accounts than before.
    Shrunk,
    /// As many accounts as before, but not the same ones.
    Reshaped,
    /// The id is gone.
    Dissolved,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Grown => "grown",
            ChangeKind::Shrunk => "shrunk",
            ChangeKind::Reshaped => "reshaped",
            ChangeKind::Dissolved => "dissolved",
        }
    }
}

/// One changed group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupChange {
    pub change: ChangeKind,
    pub group_id: String,
    pub size_before: usize,
    pub size_after: usize,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The changes between two analyses, over all of their groups (the report's filters do not
/// apply: a group falling under `--min-score` has not dissolved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// What the report was compared with: the earlier analysis's `created_at` or a file.
    pub since: String,
    /// The earlier analysis's `created_at`.
    pub previous_created_at: String,
    /// Every changed group, by kind then id.
    pub changed: Vec<GroupChange>,
    pub unchanged: usize,
}

impl Changes {
    /// How many groups changed in this way.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changed.iter().filter(|c| c.change == kind).count()
    }

    /// The changes of one kind.
    pub fn of(&self, kind: ChangeKind) -> impl Iterator<Item = &GroupChange> {
        self.changed.iter().filter(move |c| c.change == kind)
    }
}

/// An earlier analysis's groups: id and accounts.
pub type Groups = Vec<(String, Vec<String>)>;

/// Compares the current groups with the earlier ones.
pub fn compare(since: &str, previous_created_at: &str, before: &Groups, now: &Groups) -> Changes {
    let before: BTreeMap<&str, BTreeSet<&str>> = before
        .iter()
        .map(|(id, a)| (id.as_str(), a.iter().map(String::as_str).collect()))
        .collect();
    let now: BTreeMap<&str, BTreeSet<&str>> = now
        .iter()
        .map(|(id, a)| (id.as_str(), a.iter().map(String::as_str).collect()))
        .collect();
    let mut changed = Vec::new();
    let mut unchanged = 0;
    let owned = |s: Vec<&&str>| s.into_iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    for (id, accounts) in &now {
        let Some(old) = before.get(id) else {
            changed.push(GroupChange {
                change: ChangeKind::New,
                group_id: (*id).to_owned(),
                size_before: 0,
                size_after: accounts.len(),
                added: accounts.iter().map(|a| (*a).to_owned()).collect(),
                removed: Vec::new(),
            });
            continue;
        };
        if old == accounts {
            unchanged += 1;
            continue;
        }
        let change = match accounts.len().cmp(&old.len()) {
            std::cmp::Ordering::Greater => ChangeKind::Grown,
            std::cmp::Ordering::Less => ChangeKind::Shrunk,
            std::cmp::Ordering::Equal => ChangeKind::Reshaped,
        };
        changed.push(GroupChange {
            change,
            group_id: (*id).to_owned(),
            size_before: old.len(),
            size_after: accounts.len(),
            added: owned(accounts.difference(old).collect()),
            removed: owned(old.difference(accounts).collect()),
        });
    }
    for (id, old) in &before {
        if !now.contains_key(id) {
            changed.push(GroupChange {
                change: ChangeKind::Dissolved,
                group_id: (*id).to_owned(),
                size_before: old.len(),
                size_after: 0,
                added: Vec::new(),
                removed: old.iter().map(|a| (*a).to_owned()).collect(),
            });
        }
    }
    changed.sort_by(|a, b| (a.change, &a.group_id).cmp(&(b.change, &b.group_id)));
    Changes {
        since: since.to_owned(),
        previous_created_at: previous_created_at.to_owned(),
        changed,
        unchanged,
    }
}

/// Reads the groups of an earlier JSON report (`report.json`, or a folder holding one):
/// (its analysis's `created_at`, its groups).
pub fn read_json_report(path: &Path) -> Result<(String, Groups), ReportError> {
    let file = if path.is_dir() {
        path.join(crate::JSON_FILE)
    } else {
        path.to_owned()
    };
    let bad = |reason: String| ReportError::Since {
        since: file.display().to_string(),
        reason,
    };
    let text = std::fs::read(&file).map_err(|e| bad(e.to_string()))?;

    #[derive(Deserialize)]
    struct Account {
        account_id: String,
    }
    #[derive(Deserialize)]
    struct Group {
        id: String,
        accounts: Vec<Account>,
    }
    #[derive(Deserialize)]
    struct Report {
        analysis_created_at: String,
        filters: crate::view::Filters,
        groups: Vec<Group>,
    }
    let r: Report = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if r.filters != crate::view::Filters::default() {
        return Err(bad(format!(
            "the report was filtered ({}); compare with an unfiltered JSON report",
            r.filters.describe()
        )));
    }
    Ok((
        r.analysis_created_at,
        r.groups
            .into_iter()
            .map(|g| (g.id, g.accounts.into_iter().map(|a| a.account_id).collect()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(id: &str, accounts: &[&str]) -> (String, Vec<String>) {
        (
            id.to_owned(),
            accounts.iter().map(|a| (*a).to_owned()).collect(),
        )
    }

    #[test]
    fn groups_are_matched_by_id() {
        let before = vec![
            g("G1", &["A1", "A2"]),
            g("G2", &["A3", "A4", "A5"]),
            g("G3", &["A6", "A7"]),
            g("G4", &["A8", "A9"]),
            g("G5", &["A10", "A11"]),
        ];
        let now = vec![
            g("G1", &["A2", "A1"]),
            g("G2", &["A3", "A4"]),
            g("G3", &["A6", "A7", "A12"]),
            g("G5", &["A10", "A13"]),
            g("G6", &["A14", "A15"]),
        ];
        let c = compare("earlier", "t0", &before, &now);
        assert_eq!(c.unchanged, 1);
        let kinds: Vec<(ChangeKind, &str)> = c
            .changed
            .iter()
            .map(|x| (x.change, x.group_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::New, "G6"),
                (ChangeKind::Grown, "G3"),
                (ChangeKind::Shrunk, "G2"),
                (ChangeKind::Reshaped, "G5"),
                (ChangeKind::Dissolved, "G4"),
            ]
        );
        let g5 = c.of(ChangeKind::Reshaped).next().unwrap();
        assert_eq!(
            (g5.added.as_slice(), g5.removed.as_slice()),
            (&["A13".to_owned()][..], &["A11".to_owned()][..])
        );
        assert_eq!(c.count(ChangeKind::Grown), 1);
    }
}
