//! Monthly statistics of the kind exchanges publish: per calendar month, the groups identified
//! and their reporting, the limit breaches by kind and the overdue reports.
//!
//! A month is a calendar month. Breaches fall in the month of their trading day. Groups, their
//! reporting statuses and the reporting findings (overdue, partly reported, stale) are a state
//! measured on one day, the surveillance check's as-of day, so they fall in the as-of month. The
//! rows run from the earliest month with anything in it to the latest, without gaps: a month
//! with nothing in it between the two is a row of zeros, and months outside that span are absent.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate};
use detectors::surveillance::{Breach, BreachKind, ReportingFinding, ReportingKind};
use serde::Serialize;

use crate::view::ReportView;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// The month a day falls in.
    pub fn of(d: NaiveDate) -> Month {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A detected group as the monthly statistics count it.
#[derive(Debug, Clone)]
pub struct MonthlyGroup<'a> {
    pub id: &'a str,
    /// `reported`, `partially_reported` or `unreported`.
    pub status: &'a str,
    pub accounts: Vec<&'a str>,
}

/// One month's statistics; the columns of `monthly.csv`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthRow {
    pub month: Month,
    /// Detected groups (the report's groups), counted in the as-of month.
    pub groups_detected: u64,
    /// Distinct accounts in those groups.
    pub accounts_in_groups: u64,
    /// Detected groups that a reported group holds entirely (reported and confirmed).
    pub groups_reported: u64,
    /// Detected groups that no reported group holds (detected but unreported).
    pub groups_unreported: u64,
    /// Detected groups that a reported group holds only in part.
    pub groups_partly_reported: u64,
    /// Reported groups with no evidence of control between their accounts.
    pub stale_reports: u64,
    /// Detected groups whose report is past its deadline on the as-of day (never reported, or
    /// partly reported with the missing accounts past theirs).
    pub overdue_reports: u64,
    /// Every breach of the month (one per group, kind, scope and day).
    pub breaches: u64,
    /// Of those, breaches that only the group as a whole commits.
    pub breaches_only_as_group: u64,
    /// Breaches of each kind, in the order of [`BreachKind::ALL`].
    pub by_kind: [u64; 6],
}

/// The columns of `monthly.csv`.
pub const MONTHLY_COLUMNS: [&str; 16] = [
    "month",
    "groups_detected",
    "accounts_in_groups",
    "groups_reported",
    "groups_unreported",
    "groups_partly_reported",
    "stale_reports",
    "overdue_reports",
    "breaches",
    "breaches_only_as_group",
    "breaches_position_long",
    "breaches_position_short",
    "breaches_opening",
    "breaches_self_trade",
    "breaches_cancel",
    "breaches_large_cancel",
];

/// The catalogue keys of the columns, for the HTML table and the XLSX sheet's header.
pub const MONTHLY_LABELS: [&str; 16] = [
    "month",
    "groups_detected",
    "accounts_in_groups",
    "groups_reported",
    "groups_unreported",
    "groups_partly_reported",
    "stale_reports",
    "overdue_reports",
    "breaches_total",
    "only_as_group",
    "breach_position_long",
    "breach_position_short",
    "breach_opening",
    "breach_self_trade",
    "breach_cancel",
    "breach_large_cancel",
];

impl MonthRow {
    /// A month with nothing in it.
    pub fn empty(month: Month) -> MonthRow {
        MonthRow {
            month,
            groups_detected: 0,
            accounts_in_groups: 0,
            groups_reported: 0,
            groups_unreported: 0,
            groups_partly_reported: 0,
            stale_reports: 0,
            overdue_reports: 0,
            breaches: 0,
            breaches_only_as_group: 0,
            by_kind: [0; 6],
        }
    }

    /// The row's values as numbers, in the order of [`MONTHLY_COLUMNS`] after `month`.
    pub fn values(&self) -> [u64; 15] {
        let k = &self.by_kind;
        [
            self.groups_detected,
            self.accounts_in_groups,
            self.groups_reported,
            self.groups_unreported,
            self.groups_partly_reported,
            self.stale_reports,
            self.overdue_reports,
            self.breaches,
            self.breaches_only_as_group,
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
        ]
    }

    /// The breaches of one kind.
    pub fn of_kind(&self, kind: BreachKind) -> u64 {
        BreachKind::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| self.by_kind[i])
    }
}

/// The monthly statistics of the detected `groups`, the `breaches` (of the report's groups and
/// the reported groups) and the `reporting` findings, with groups and reporting on `as_of`.
///
/// Overdue and partly reported findings count only for groups among `groups` (the report's
/// filters apply to them as to the groups); stale reports are about reported groups and always
/// count. Without an as-of day only the breaches are counted.
pub fn monthly(
    groups: &[MonthlyGroup<'_>],
    breaches: &[Breach],
    reporting: &[ReportingFinding],
    as_of: Option<NaiveDate>,
) -> Vec<MonthRow> {
    let mut rows: BTreeMap<Month, MonthRow> = BTreeMap::new();
    if let Some(day) = as_of {
        let m = Month::of(day);
        let r = rows.entry(m).or_insert_with(|| MonthRow::empty(m));
        let listed: BTreeSet<&str> = groups.iter().map(|g| g.id).collect();
        let accounts: BTreeSet<&str> = groups
            .iter()
            .flat_map(|g| g.accounts.iter().copied())
            .collect();
        r.groups_detected = groups.len() as u64;
        r.accounts_in_groups = accounts.len() as u64;
        for g in groups {
            match g.status {
                "reported" => r.groups_reported += 1,
                "partially_reported" => r.groups_partly_reported += 1,
                _ => r.groups_unreported += 1,
            }
        }
        for f in reporting {
            match f.kind {
                ReportingKind::Stale => r.stale_reports += 1,
                ReportingKind::Overdue | ReportingKind::PartlyReported
                    if f.overdue && listed.contains(f.group_id.as_str()) =>
                {
                    r.overdue_reports += 1;
                }
                _ => {}
            }
        }
    }
    for b in breaches {
        let m = Month::of(b.date);
        let r = rows.entry(m).or_insert_with(|| MonthRow::empty(m));
        r.breaches += 1;
        if b.only_as_group {
            r.breaches_only_as_group += 1;
        }
        if let Some(i) = BreachKind::ALL.iter().position(|k| *k == b.kind) {
            r.by_kind[i] += 1;
        }
    }
    // Fill the months in between with zeros, so the series has no gaps.
    let (Some(first), Some(last)) = (
        rows.keys().next().copied(),
        rows.keys().next_back().copied(),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut m = first;
    while m <= last {
        out.push(rows.remove(&m).unwrap_or_else(|| MonthRow::empty(m)));
        m = m.next();
    }
    out
}

/// The as-of day of a report: the surveillance check's, else the analysis's own day at the
/// exchange's +08:00.
fn as_of_of(view: &ReportView) -> Option<NaiveDate> {
    view.as_of.or_else(|| {
        chrono::DateTime::parse_from_rfc3339(&view.analysis_created_at)
            .ok()
            .and_then(|t| chrono::FixedOffset::east_opt(8 * 3600).map(|cst| t.with_timezone(&cst)))
            .map(|t| t.date_naive())
    })
}

/// The monthly statistics of a report's view: its groups, breaches and reporting findings.
pub fn of_view(view: &ReportView) -> Vec<MonthRow> {
    let groups: Vec<MonthlyGroup<'_>> = view
        .groups
        .iter()
        .map(|g| MonthlyGroup {
            id: &g.id,
            status: &g.status,
            accounts: g.accounts.iter().map(|a| a.account_id.as_str()).collect(),
        })
        .collect();
    monthly(&groups, &view.breaches, &view.reporting, as_of_of(view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use detectors::surveillance::{AccountPart, GroupSource};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn breach(group: &str, kind: BreachKind, date: &str, only: bool) -> Breach {
        Breach {
            group_id: group.into(),
            source: GroupSource::Detected,
            kind,
            scope: "IF2403".into(),
            date: day(date),
            figure: 10,
            limit: 5,
            limit_scope: "IF".into(),
            parts: vec![AccountPart {
                account: "A1".into(),
                share: 10,
                alone: 10,
            }],
            only_as_group: only,
        }
    }

    fn finding(kind: ReportingKind, group: &str, overdue: bool) -> ReportingFinding {
        ReportingFinding {
            kind,
            group_id: group.into(),
            reported_group: None,
            accounts: vec![],
            missing: vec![],
            due: None,
            overdue,
        }
    }

    #[test]
    fn breaches_fall_in_their_month_and_groups_in_the_as_of_month() {
        let groups = [
            MonthlyGroup {
                id: "G-A1",
                status: "unreported",
                accounts: vec!["A1", "A2"],
            },
            MonthlyGroup {
                id: "G-A3",
                status: "reported",
                accounts: vec!["A3", "A4", "A5"],
            },
            MonthlyGroup {
                id: "G-A6",
                status: "partially_reported",
                accounts: vec!["A6", "A7"],
            },
        ];
        let breaches = [
            breach("G-A1", BreachKind::PositionLong, "2024-01-31", true),
            breach("G-A1", BreachKind::Cancel, "2024-01-05", false),
            breach("R1", BreachKind::PositionLong, "2024-03-01", false),
            breach("G-A3", BreachKind::Opening, "2024-03-04", true),
            breach("G-A3", BreachKind::SelfTrade, "2024-03-29", true),
        ];
        let reporting = [
            finding(ReportingKind::Overdue, "G-A1", true),
            finding(ReportingKind::PartlyReported, "G-A6", false),
            // A group the report's filters left out does not count.
            finding(ReportingKind::Overdue, "G-A9", true),
            finding(ReportingKind::Stale, "R1", false),
        ];
        let rows = monthly(&groups, &breaches, &reporting, Some(day("2024-03-29")));
        let months: Vec<String> = rows.iter().map(|r| r.month.to_string()).collect();
        assert_eq!(months, ["2024-01", "2024-02", "2024-03"]);

        let jan = &rows[0];
        assert_eq!((jan.breaches, jan.breaches_only_as_group), (2, 1));
        assert_eq!(jan.of_kind(BreachKind::PositionLong), 1);
        assert_eq!(jan.of_kind(BreachKind::Cancel), 1);
        assert_eq!(
            jan.groups_detected, 0,
            "groups count in the as-of month only"
        );

        // A month with nothing in it between two others is a row of zeros.
        assert_eq!(rows[1], MonthRow::empty(Month::of(day("2024-02-01"))));
        assert!(rows[1].values().iter().all(|v| *v == 0));

        let mar = &rows[2];
        assert_eq!((mar.groups_detected, mar.accounts_in_groups), (3, 7));
        assert_eq!(
            (
                mar.groups_reported,
                mar.groups_unreported,
                mar.groups_partly_reported
            ),
            (1, 1, 1)
        );
        assert_eq!((mar.stale_reports, mar.overdue_reports), (1, 1));
        assert_eq!((mar.breaches, mar.breaches_only_as_group), (3, 2));

        // The counts add up: statuses to the groups, kinds to the breaches, months to the whole.
        for r in &rows {
            assert_eq!(
                r.groups_reported + r.groups_unreported + r.groups_partly_reported,
                r.groups_detected
            );
            assert_eq!(r.by_kind.iter().sum::<u64>(), r.breaches);
            assert!(r.breaches_only_as_group <= r.breaches);
        }
        assert_eq!(
            rows.iter().map(|r| r.breaches).sum::<u64>(),
            breaches.len() as u64
        );
        for kind in BreachKind::ALL {
            assert_eq!(
                rows.iter().map(|r| r.of_kind(kind)).sum::<u64>(),
                breaches.iter().filter(|b| b.kind == kind).count() as u64,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn months_run_across_the_year_end_and_nothing_gives_the_as_of_month_alone() {
        let rows = monthly(
            &[],
            &[breach("G-A1", BreachKind::LargeCancel, "2023-11-30", false)],
            &[],
            Some(day("2024-01-02")),
        );
        let months: Vec<String> = rows.iter().map(|r| r.month.to_string()).collect();
        assert_eq!(months, ["2023-11", "2023-12", "2024-01"]);
        assert_eq!(rows[0].of_kind(BreachKind::LargeCancel), 1);

        let rows = monthly(&[], &[], &[], Some(day("2024-01-02")));
        assert_eq!(rows, [MonthRow::empty(Month::of(day("2024-01-02")))]);
        assert!(monthly(&[], &[], &[], None).is_empty());
    }

    #[test]
    fn the_columns_match_the_values() {
        assert_eq!(
            MONTHLY_COLUMNS.len(),
            MonthRow::empty(Month::of(day("2024-01-01"))).values().len() + 1
        );
        assert_eq!(MONTHLY_LABELS.len(), MONTHLY_COLUMNS.len());
        for (i, k) in BreachKind::ALL.iter().enumerate() {
            assert_eq!(MONTHLY_COLUMNS[10 + i], format!("breaches_{}", k.as_str()));
        }
    }
}
