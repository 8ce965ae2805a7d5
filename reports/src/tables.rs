//! The CSV files of a report. Their columns are a stable contract, documented in this crate's
//! `README.md`; `groups.csv` keeps the columns it had before reports grew other formats.

use std::path::{Path, PathBuf};

use crate::monthly::MONTHLY_COLUMNS;
use crate::view::{GroupView, ReportView, STRONG_WEIGHT};
use crate::{
    ACCOUNTS_CSV, BREACHES_CSV, CANDIDATES_CSV, CHANGES_CSV, EVIDENCE_CSV, GROUPS_CSV, MONTHLY_CSV,
    ReportError, WASH_CSV,
};

/// `breaches.csv`: one row per account of each breach.
pub const BREACHES_COLUMNS: [&str; 12] = [
    "group_id",
    "group_source",
    "kind",
    "scope",
    "date",
    "figure",
    "limit",
    "limit_scope",
    "only_as_group",
    "account_id",
    "share",
    "alone",
];

pub const GROUPS_COLUMNS: [&str; 8] = [
    "group_id",
    "account_id",
    "score",
    "controller_id",
    "criteria",
    "status",
    "group_size",
    "missing_from_report",
];

pub const ACCOUNTS_COLUMNS: [&str; 14] = [
    "group_id",
    "account_id",
    "holder_id",
    "holder_name",
    "holder_kind",
    "member_id",
    "member_name",
    "account_type",
    "open_date",
    "account_status",
    "missing_from_report",
    "joined_by_embedding",
    "controller_id",
    "membership",
];

pub const CANDIDATES_COLUMNS: [&str; 7] = [
    "group_id",
    "account_id",
    "score",
    "holder_id",
    "holder_name",
    "linked_to",
    "signals",
];

pub const EVIDENCE_COLUMNS: [&str; 10] = [
    "group_id",
    "account_a",
    "account_b",
    "link_weight",
    "criterion",
    "signal_kind",
    "signal_weight",
    "strength",
    "description",
    "subjects",
];

pub const WASH_COLUMNS: [&str; 6] = [
    "group_id",
    "trades",
    "volume",
    "first_ts",
    "last_ts",
    "trade_ids",
];

pub const CHANGES_COLUMNS: [&str; 6] = [
    "change",
    "group_id",
    "size_before",
    "size_after",
    "accounts_added",
    "accounts_removed",
];

fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The strength of a signal: `strong` at or above [`STRONG_WEIGHT`], else `weak`.
pub fn strength(weight: f32) -> &'static str {
    if weight >= STRONG_WEIGHT {
        "strong"
    } else {
        "weak"
    }
}

/// A microsecond timestamp in RFC 3339 (UTC).
pub fn rfc3339_micros(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn controller(g: &GroupView) -> &str {
    g.controller.as_ref().map_or("", |c| c.id.as_str())
}

fn write(
    dir: &Path,
    name: &str,
    header: &[&str],
    rows: &mut dyn FnMut(&mut csv::Writer<&mut dyn std::io::Write>) -> csv::Result<()>,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    ingest::store::write_atomically(&path, |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(header)?;
        rows(&mut c)?;
        c.flush()
    })?;
    Ok(path)
}

/// Writes every CSV file of the report into `dir`.
pub fn write_csv(view: &ReportView, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    files.push(write(dir, GROUPS_CSV, &GROUPS_COLUMNS, &mut |c| {
        for g in &view.groups {
            let (score, criteria, size) = (
                format!("{:.4}", g.score),
                g.criteria.join(";"),
                g.size().to_string(),
            );
            for a in &g.accounts {
                c.write_record([
                    g.id.as_str(),
                    &a.account_id,
                    &score,
                    controller(g),
                    &criteria,
                    &g.status,
                    &size,
                    flag(a.missing_from_report),
                ])?;
            }
        }
        Ok(())
    })?);
    files.push(write(dir, ACCOUNTS_CSV, &ACCOUNTS_COLUMNS, &mut |c| {
        for g in &view.groups {
            for a in &g.accounts {
                let o = |v: &Option<String>| v.clone().unwrap_or_default();
                c.write_record([
                    g.id.as_str(),
                    &a.account_id,
                    &o(&a.holder_id),
                    &o(&a.holder_name),
                    a.holder_kind.as_str(),
                    &o(&a.member_id),
                    &o(&a.member_name),
                    &o(&a.account_type),
                    &o(&a.open_date),
                    &o(&a.status),
                    flag(a.missing_from_report),
                    flag(a.joined_by_embedding),
                    controller(g),
                    &format!("{:.4}", a.membership),
                ])?;
            }
        }
        Ok(())
    })?);
    files.push(write(dir, CANDIDATES_CSV, &CANDIDATES_COLUMNS, &mut |c| {
        for g in &view.groups {
            for m in &g.candidates {
                let o = |v: &Option<String>| v.clone().unwrap_or_default();
                c.write_record([
                    g.id.as_str(),
                    &m.account_id,
                    &format!("{:.4}", m.score),
                    &o(&m.holder_id),
                    &o(&m.holder_name),
                    &m.linked_to.join(";"),
                    &m.signals.join(";"),
                ])?;
            }
        }
        Ok(())
    })?);
    files.push(write(dir, EVIDENCE_CSV, &EVIDENCE_COLUMNS, &mut |c| {
        for g in &view.groups {
            for l in &g.links {
                let lw = format!("{:.4}", l.weight);
                for s in &l.signals {
                    c.write_record([
                        g.id.as_str(),
                        &l.a,
                        &l.b,
                        &lw,
                        &s.criterion,
                        &s.kind,
                        &format!("{:.4}", s.weight),
                        strength(s.weight),
                        &s.description,
                        &s.subjects.join(";"),
                    ])?;
                }
            }
        }
        Ok(())
    })?);
    files.push(write(dir, WASH_CSV, &WASH_COLUMNS, &mut |c| {
        for g in &view.groups {
            if let Some(w) = &g.wash {
                c.write_record([
                    w.group_id.as_str(),
                    &w.trades.to_string(),
                    &w.volume.to_string(),
                    &rfc3339_micros(w.first_ts),
                    &rfc3339_micros(w.last_ts),
                    &w.trade_ids.join(";"),
                ])?;
            }
        }
        Ok(())
    })?);
    files.push(write(dir, BREACHES_CSV, &BREACHES_COLUMNS, &mut |c| {
        for b in &view.breaches {
            let (date, figure, limit) = (
                b.date.to_string(),
                b.figure.to_string(),
                b.limit.to_string(),
            );
            for p in &b.parts {
                c.write_record([
                    b.group_id.as_str(),
                    b.source.as_str(),
                    b.kind.as_str(),
                    &b.scope,
                    &date,
                    &figure,
                    &limit,
                    &b.limit_scope,
                    flag(b.only_as_group),
                    &p.account,
                    &p.share.to_string(),
                    &p.alone.to_string(),
                ])?;
            }
        }
        Ok(())
    })?);
    files.push(write(dir, MONTHLY_CSV, &MONTHLY_COLUMNS, &mut |c| {
        for r in crate::monthly::of_view(view) {
            let mut record = vec![r.month.to_string()];
            record.extend(r.values().iter().map(u64::to_string));
            c.write_record(&record)?;
        }
        Ok(())
    })?);
    if let Some(ch) = &view.changes {
        files.push(write(dir, CHANGES_CSV, &CHANGES_COLUMNS, &mut |c| {
            for x in &ch.changed {
                c.write_record([
                    x.change.as_str(),
                    &x.group_id,
                    &x.size_before.to_string(),
                    &x.size_after.to_string(),
                    &x.added.join(";"),
                    &x.removed.join(";"),
                ])?;
            }
            Ok(())
        })?);
    }
    Ok(files)
}
