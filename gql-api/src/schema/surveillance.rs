//! Surveillance findings: limit breaches of groups (on a group and market-wide as a Relay
//! connection), a group's position series per instrument, and reporting findings.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine as _;
use chrono::NaiveDate;
use detectors::surveillance::{self as sv, Breach as BreachRecord, ReportingFinding};

use super::groups::{ControlGroup, GroupStatus, TotalCount};
use super::subjects::Account;
use super::{Req, req};
use crate::error::{ApiError, Code};

/// What a breach breaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum BreachKind {
    /// Speculative long lots held above the position limit.
    PositionLong,
    /// Speculative short lots held above the position limit.
    PositionShort,
    /// Speculative lots opened in one product in one day above the opening limit.
    Opening,
    /// Self-trades in one contract in one day reaching the threshold.
    SelfTrade,
    /// Cancellations in one contract in one day reaching the threshold.
    Cancel,
    /// Large cancellations in one contract in one day reaching the threshold.
    LargeCancel,
}

impl BreachKind {
    fn of(k: sv::BreachKind) -> BreachKind {
        match k {
            sv::BreachKind::PositionLong => BreachKind::PositionLong,
            sv::BreachKind::PositionShort => BreachKind::PositionShort,
            sv::BreachKind::Opening => BreachKind::Opening,
            sv::BreachKind::SelfTrade => BreachKind::SelfTrade,
            sv::BreachKind::Cancel => BreachKind::Cancel,
            sv::BreachKind::LargeCancel => BreachKind::LargeCancel,
        }
    }
}

/// Where a group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum GroupSource {
    /// Detected by the analysis.
    Detected,
    /// Reported by the accounts themselves.
    Reported,
}

impl GroupSource {
    fn of(s: sv::GroupSource) -> GroupSource {
        match s {
            sv::GroupSource::Detected => GroupSource::Detected,
            sv::GroupSource::Reported => GroupSource::Reported,
        }
    }
}

/// What a reporting finding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportingKind {
    /// A detected group not reported together, past the deadline.
    Overdue,
    /// A detected group of which a reported group holds only some accounts.
    PartlyReported,
    /// A reported group whose accounts show no evidence of control at all.
    Stale,
}

fn lots(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A limit a group breaches on one day.
#[derive(Debug, Clone, Copy)]
pub struct Breach(pub u32);

impl Breach {
    fn rec<'a>(&self, ctx: &'a Context<'_>) -> &'a BreachRecord {
        &req(ctx).snap.surveillance.results.breaches[self.0 as usize]
    }
}

/// One account's part of a group's figure.
#[derive(Debug, SimpleObject)]
pub struct BreachPart {
    pub account: Account,
    /// The account's share of the group's figure (the shares add up to it).
    pub share: i32,
    /// The account's figure on its own (for self-trades: its trades with itself).
    pub alone: i32,
}

#[Object]
impl Breach {
    /// The group's id: a detected group's id or a reported group's.
    async fn group_id(&self, ctx: &Context<'_>) -> ID {
        ID(self.rec(ctx).group_id.clone())
    }
    async fn source(&self, ctx: &Context<'_>) -> GroupSource {
        GroupSource::of(self.rec(ctx).source)
    }
    /// The detected group with its evidence (none for a reported group).
    async fn group(&self, ctx: &Context<'_>) -> Option<ControlGroup> {
        let b = self.rec(ctx);
        (b.source == sv::GroupSource::Detected)
            .then(|| req(ctx).snap.group_by_id(&b.group_id).map(ControlGroup))
            .flatten()
    }
    async fn kind(&self, ctx: &Context<'_>) -> BreachKind {
        BreachKind::of(self.rec(ctx).kind)
    }
    /// The instrument (positions, self-trades, cancellations) or product (opening).
    async fn scope(&self, ctx: &Context<'_>) -> String {
        self.rec(ctx).scope.clone()
    }
    /// The trading day, `YYYY-MM-DD`.
    async fn date(&self, ctx: &Context<'_>) -> String {
        self.rec(ctx).date.to_string()
    }
    /// The group's figure (lots or a count).
    async fn figure(&self, ctx: &Context<'_>) -> i32 {
        lots(self.rec(ctx).figure)
    }
    /// The limit in force that day.
    async fn limit(&self, ctx: &Context<'_>) -> i32 {
        lots(self.rec(ctx).limit)
    }
    /// The scope of the limit row that applied (the instrument's own or its product's).
    async fn limit_scope(&self, ctx: &Context<'_>) -> String {
        self.rec(ctx).limit_scope.clone()
    }
    /// Every account of the group stays within on its own.
    async fn only_as_group(&self, ctx: &Context<'_>) -> bool {
        self.rec(ctx).only_as_group
    }
    /// Each account's part, largest share first.
    async fn parts(&self, ctx: &Context<'_>) -> Vec<BreachPart> {
        let s = &req(ctx).snap;
        self.rec(ctx)
            .parts
            .iter()
            .filter_map(|p| {
                Some(BreachPart {
                    account: Account(s.graph.find(&p.account)?),
                    share: lots(p.share),
                    alone: lots(p.alone),
                })
            })
            .collect()
    }
}

/// Which breaches to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct BreachFilter {
    pub kind: Option<BreachKind>,
    /// From this day on (`YYYY-MM-DD`, inclusive).
    pub from: Option<String>,
    /// Until this day (`YYYY-MM-DD`, inclusive).
    pub to: Option<String>,
    /// Breaches in this instrument, or in this product (`IF`).
    pub instrument: Option<String>,
    pub only_as_group: Option<bool>,
    /// Breaches of detected groups with this report status.
    pub status: Option<GroupStatus>,
    pub source: Option<GroupSource>,
    pub group_id: Option<ID>,
}

/// A page of breaches.
pub type BreachConnection = Connection<String, Breach, TotalCount, EmptyFields>;

fn day(field: &str, v: Option<&String>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_input(format!("`{field}` is not a YYYY-MM-DD date: {s}")))
    })
    .transpose()
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("b:{offset}"))
}

fn decode_cursor(c: &str) -> Result<usize, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("b:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_input(format!("`after` is not a cursor of this API: {c}")))
}

fn no_analysis() -> async_graphql::Error {
    ApiError::new(
        Code::NoAnalysis,
        "the store has no analysis yet (run `ctrlgraph analyze` or the `reanalyze` mutation)",
    )
    .gql()
}

/// The market-wide breach list, only-as-a-group first.
pub fn breaches(
    r: &Req,
    f: &BreachFilter,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<BreachConnection> {
    let s = &r.snap;
    if !s.analysed {
        return Err(no_analysis());
    }
    let from = day("from", f.from.as_ref()).map_err(ApiError::gql)?;
    let to = day("to", f.to.as_ref()).map_err(ApiError::gql)?;
    let first = super::page("first", first, 50).map_err(ApiError::gql)?;
    let start = match after {
        Some(c) => decode_cursor(c).map_err(ApiError::gql)? + 1,
        None => 0,
    };
    let all = &s.surveillance.results.breaches;
    let matching: Vec<u32> = (0..all.len() as u32)
        .filter(|i| {
            let b = &all[*i as usize];
            f.kind.is_none_or(|k| BreachKind::of(b.kind) == k)
                && from.is_none_or(|d| b.date >= d)
                && to.is_none_or(|d| b.date <= d)
                && f.instrument.as_ref().is_none_or(|x| {
                    *x == b.scope || graph_core::model::product_of(&b.scope) == x.as_str()
                })
                && f.only_as_group.is_none_or(|o| b.only_as_group == o)
                && f.source.is_none_or(|x| GroupSource::of(b.source) == x)
                && f.group_id.as_ref().is_none_or(|g| g.as_str() == b.group_id)
                && f.status.is_none_or(|st| {
                    b.source == sv::GroupSource::Detected
                        && s.group_by_id(&b.group_id)
                            .is_some_and(|g| GroupStatus::parse(&s.group(g).status) == st)
                })
        })
        .collect();
    let end = (start + first).min(matching.len());
    let mut conn = Connection::with_additional_fields(
        start > 0,
        end < matching.len(),
        TotalCount {
            total_count: matching.len() as i32,
        },
    );
    if start < end {
        conn.edges.extend(
            matching[start..end]
                .iter()
                .enumerate()
                .map(|(k, i)| Edge::new(encode_cursor(start + k), Breach(*i))),
        );
    }
    Ok(conn)
}

/// The breaches of one group.
pub fn of_group(r: &Req, group_id: &str) -> Vec<Breach> {
    r.snap
        .surveillance
        .by_group
        .get(group_id)
        .map(|v| {
            v.iter()
                .copied()
                .filter(|i| {
                    r.snap.surveillance.results.breaches[*i as usize].source
                        == sv::GroupSource::Detected
                })
                .map(Breach)
                .collect()
        })
        .unwrap_or_default()
}

/// An account's speculative lots on one day.
#[derive(Debug, SimpleObject)]
pub struct PositionPart {
    pub account: Account,
    pub long: i32,
    pub short: i32,
}

/// A group's speculative position in one instrument on one day.
#[derive(Debug, SimpleObject)]
pub struct PositionPoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub long: i32,
    pub short: i32,
    /// The position limit in force that day (per side), if any.
    pub limit: Option<i32>,
    pub parts: Vec<PositionPart>,
}

/// A group's daily speculative position in `instrument`, oldest day first.
pub fn position_series(r: &Req, accounts: &[String], instrument: &str) -> Vec<PositionPoint> {
    let s = &r.snap;
    let positions: Vec<_> = accounts
        .iter()
        .filter_map(|a| s.surveillance.positions.get(a))
        .flatten()
        .filter(|p| p.instrument == instrument)
        .cloned()
        .collect();
    sv::position_series(accounts, instrument, &positions, &s.surveillance.limits)
        .into_iter()
        .map(|p| PositionPoint {
            date: p.date.to_string(),
            long: lots(p.long),
            short: lots(p.short),
            limit: p.limit.map(lots),
            parts: p
                .parts
                .into_iter()
                .filter_map(|(a, l, sh)| {
                    Some(PositionPart {
                        account: Account(s.graph.find(&a)?),
                        long: lots(l),
                        short: lots(sh),
                    })
                })
                .collect(),
        })
        .collect()
}

/// A group whose report is overdue or incomplete, or a report nothing supports.
#[derive(Debug, SimpleObject)]
pub struct ReportingIssue {
    pub kind: ReportingKind,
    /// The detected group (overdue, partly reported) or the reported group (stale).
    pub group_id: ID,
    /// The detected group with its evidence, for overdue and partly reported findings.
    pub group: Option<ControlGroup>,
    pub reported_group: Option<ID>,
    pub accounts: Vec<Account>,
    /// The accounts missing from the report.
    pub missing: Vec<Account>,
    /// The last day to report (10 trading days after the latest open date), when known.
    pub due: Option<String>,
    pub overdue: bool,
}

/// The reporting findings, overdue first.
pub fn reporting(r: &Req) -> async_graphql::Result<Vec<ReportingIssue>> {
    let s = &r.snap;
    if !s.analysed {
        return Err(no_analysis());
    }
    let accounts = |ids: &[String]| -> Vec<Account> {
        ids.iter()
            .filter_map(|a| s.graph.find(a).map(Account))
            .collect()
    };
    Ok(s.surveillance
        .results
        .reporting
        .iter()
        .map(|f: &ReportingFinding| ReportingIssue {
            kind: match f.kind {
                sv::ReportingKind::Overdue => ReportingKind::Overdue,
                sv::ReportingKind::PartlyReported => ReportingKind::PartlyReported,
                sv::ReportingKind::Stale => ReportingKind::Stale,
            },
            group_id: ID(f.group_id.clone()),
            group: (f.kind != sv::ReportingKind::Stale)
                .then(|| s.group_by_id(&f.group_id).map(ControlGroup))
                .flatten(),
            reported_group: f.reported_group.clone().map(ID),
            accounts: accounts(&f.accounts),
            missing: accounts(&f.missing),
            due: f.due.map(|d| d.to_string()),
            overdue: f.overdue,
        })
        .collect())
}
