//! The surveillance checks: what follows once a group of accounts is treated as one trader.
//!
//! Given the groups (detected and reported), the surveillance tapes (positions, orders, limits,
//! the trading calendar) and the trade tape, [`check`] adds each group's figures up and compares
//! them with the limits in force:
//! - positions: speculative long lots per instrument and day, and short lots separately (no
//!   netting between accounts; hedging, arbitrage and market making are exempt), breached when
//!   the group's figure *exceeds* the position limit;
//! - opening: speculative lots opened per product and day, breached when it *exceeds* the
//!   product's opening limit; an opening row for one instrument limits that instrument's opened
//!   lots too, beside the product's total;
//! - self-trades (trades between two of the group's accounts or within one), cancellations and
//!   large cancellations per contract and day (FOK/FAK, hedging and market-making orders left
//!   out), breached when the count *reaches* the threshold.
//!
//! A limit row for an instrument overrides its product's, and a row is in force only within its
//! dates. Each finding carries every account's part and whether the group breaches only as a
//! group (every account on its own stays within); those come first. [`reporting`] compares
//! detected groups with the reported ones against the 10-trading-day deadline.

use std::collections::{BTreeMap, BTreeSet};

use ahash::AHashMap;
use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone, Weekday};
use graph_core::model::{
    Limit, LimitKind, Offset, Order, OrderStatus, Position, Purpose, Trade, product_of,
};
use serde::{Deserialize, Serialize};

/// Trading days an account has to report its control relationships after it is opened.
pub const REPORT_DEADLINE_DAYS: usize = 10;

/// Where a group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupSource {
    /// Detected by the analysis.
    Detected,
    /// Reported by the accounts themselves (`reported_groups.csv`).
    Reported,
}

impl GroupSource {
    /// The spelling used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupSource::Detected => "detected",
            GroupSource::Reported => "reported",
        }
    }
}

/// A group to check: its id and accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedGroup {
    pub id: String,
    pub source: GroupSource,
    pub accounts: Vec<String>,
}

/// What a finding breaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Every kind, in the order findings of one group are listed.
    pub const ALL: [BreachKind; 6] = [
        BreachKind::PositionLong,
        BreachKind::PositionShort,
        BreachKind::Opening,
        BreachKind::SelfTrade,
        BreachKind::Cancel,
        BreachKind::LargeCancel,
    ];

    /// The spelling used in outputs and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            BreachKind::PositionLong => "position_long",
            BreachKind::PositionShort => "position_short",
            BreachKind::Opening => "opening",
            BreachKind::SelfTrade => "self_trade",
            BreachKind::Cancel => "cancel",
            BreachKind::LargeCancel => "large_cancel",
        }
    }

    /// Parses [`BreachKind::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<BreachKind> {
        BreachKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The limit kind a breach of this kind is measured against.
    pub fn limit_kind(self) -> LimitKind {
        match self {
            BreachKind::PositionLong | BreachKind::PositionShort => LimitKind::Position,
            BreachKind::Opening => LimitKind::Opening,
            BreachKind::SelfTrade => LimitKind::SelfTrade,
            BreachKind::Cancel => LimitKind::Cancel,
            BreachKind::LargeCancel => LimitKind::LargeCancel,
        }
    }

    /// Whether the limit is breached by reaching it (the counts) or only by exceeding it
    /// (positions and opening).
    pub fn breached(self, figure: u64, limit: u64) -> bool {
        match self {
            BreachKind::PositionLong | BreachKind::PositionShort | BreachKind::Opening => {
                figure > limit
            }
            BreachKind::SelfTrade | BreachKind::Cancel | BreachKind::LargeCancel => figure >= limit,
        }
    }
}

/// One account's part of a group's figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPart {
    pub account: String,
    /// The account's share of the group's figure; the shares add up to the group's figure. For
    /// self-trades, the group's self-trades in which the account bought.
    pub share: u64,
    /// The account's figure as a trader on its own. It equals `share` except for self-trades,
    /// where only trades of the account with itself count.
    pub alone: u64,
}

/// A limit the group breaches on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub group_id: String,
    pub source: GroupSource,
    pub kind: BreachKind,
    /// The instrument (positions, self-trades, cancellations) or product (opening).
    pub scope: String,
    pub date: NaiveDate,
    /// The group's figure.
    pub figure: u64,
    /// The limit in force.
    pub limit: u64,
    /// The scope of the limit row that applied (an instrument's own row or its product's).
    pub limit_scope: String,
    /// Every account of the group with a non-zero share or figure, largest share first.
    pub parts: Vec<AccountPart>,
    /// The group breaches while every account on its own stays within.
    pub only_as_group: bool,
}

/// The trading calendar: the listed days, or Monday to Friday where nothing is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar of the listed trading days. Outside the listed span (and when nothing is
    /// listed) Monday to Friday are taken as trading days.
    pub fn new(days: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar {
            days: days.into_iter().collect(),
        }
    }

    /// Whether `d` is a trading day.
    pub fn is_trading_day(&self, d: NaiveDate) -> bool {
        match (self.days.first(), self.days.last()) {
            (Some(first), Some(last)) if *first <= d && d <= *last => self.days.contains(&d),
            _ => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th trading day after `d` (`n >= 1`).
    pub fn nth_trading_day_after(&self, d: NaiveDate, n: usize) -> NaiveDate {
        let mut day = d;
        let mut seen = 0;
        while seen < n {
            day = day.succ_opt().unwrap_or(day);
            if self.is_trading_day(day) {
                seen += 1;
            }
        }
        day
    }
}

/// The surveillance tapes and the trade tape, as the checks read them.
#[derive(Debug, Clone, Copy)]
pub struct Tapes<'a> {
    pub positions: &'a [Position],
    pub orders: &'a [Order],
    pub trades: &'a [Trade],
    pub limits: &'a [Limit],
}

/// The exchange's trading date of a timestamp (microseconds, UTC): its date at +08:00.
pub fn exchange_date(ts: i64) -> NaiveDate {
    let cst = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    cst.timestamp_micros(ts)
        .single()
        .map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// The limits, indexed by kind and scope.
#[derive(Debug, Default)]
pub struct LimitBook<'a> {
    by: AHashMap<(LimitKind, &'a str), Vec<&'a Limit>>,
}

impl<'a> LimitBook<'a> {
    pub fn new(limits: &'a [Limit]) -> LimitBook<'a> {
        let mut by: AHashMap<(LimitKind, &'a str), Vec<&'a Limit>> = AHashMap::new();
        for l in limits {
            by.entry((l.kind, l.scope.as_str())).or_default().push(l);
        }
        LimitBook { by }
    }

    /// The value in force for `scope` exactly on `date`. Where several rows are in force, the
    /// one that started latest wins (a later decision replaces an earlier one), then the
    /// strictest.
    fn exact(&self, kind: LimitKind, scope: &str, date: NaiveDate) -> Option<u64> {
        self.by
            .get(&(kind, scope))?
            .iter()
            .filter(|l| l.in_force(date))
            .max_by(|a, b| {
                a.from_date
                    .cmp(&b.from_date)
                    .then_with(|| b.value.cmp(&a.value))
            })
            .map(|l| l.value)
    }

    /// Whether any row of `kind` (in force on any date) is for `scope` exactly.
    fn has(&self, kind: LimitKind, scope: &str) -> bool {
        self.by.contains_key(&(kind, scope))
    }

    /// The value in force for an instrument on `date` and the scope of the row that gave it:
    /// the instrument's own row, else its product's.
    pub fn resolve<'s>(
        &self,
        kind: LimitKind,
        instrument: &'s str,
        date: NaiveDate,
    ) -> Option<(u64, &'s str)> {
        if let Some(v) = self.exact(kind, instrument, date) {
            return Some((v, instrument));
        }
        let product = product_of(instrument);
        self.exact(kind, product, date).map(|v| (v, product))
    }
}

/// Key of one figure: kind, scope (instrument or product), date.
type FigureKey = (BreachKind, String, NaiveDate);

/// Per account: share and alone figure.
type Parts = BTreeMap<usize, (u64, u64)>;

/// The figures of every account, per kind, scope and day, before groups are formed.
#[derive(Debug, Default)]
struct AccountFigures {
    /// Account index -> figure key -> (share, alone).
    figures: AHashMap<FigureKey, AHashMap<usize, (u64, u64)>>,
    /// Self-trades between two different accounts, per key: (buyer, seller, count).
    cross: AHashMap<FigureKey, AHashMap<(usize, usize), u64>>,
}

impl AccountFigures {
    fn add(&mut self, key: FigureKey, account: usize, n: u64) {
        if n == 0 {
            return;
        }
        let e = self
            .figures
            .entry(key)
            .or_default()
            .entry(account)
            .or_default();
        e.0 += n;
        e.1 += n;
    }
}

/// Runs every check for every group. Accounts that are in no group are not read at all.
pub fn check(groups: &[CheckedGroup], tapes: &Tapes<'_>) -> Vec<Breach> {
    // Accounts of any group, numbered; an account may belong to several groups.
    let mut index: AHashMap<&str, usize> = AHashMap::new();
    let mut names: Vec<&str> = Vec::new();
    for g in groups {
        for a in &g.accounts {
            index.entry(a.as_str()).or_insert_with(|| {
                names.push(a.as_str());
                names.len() - 1
            });
        }
    }
    let book = LimitBook::new(tapes.limits);
    let mut f = AccountFigures::default();
    for p in tapes.positions {
        let Some(&a) = index.get(p.account_id.as_str()) else {
            continue;
        };
        if !p.purpose.is_speculative() {
            continue;
        }
        f.add(
            (BreachKind::PositionLong, p.instrument.clone(), p.date),
            a,
            p.long,
        );
        f.add(
            (BreachKind::PositionShort, p.instrument.clone(), p.date),
            a,
            p.short,
        );
    }
    for o in tapes.orders {
        let Some(&a) = index.get(o.account_id.as_str()) else {
            continue;
        };
        if o.offset == Offset::Open && o.purpose.is_speculative() {
            let product = product_of(&o.instrument);
            f.add(
                (BreachKind::Opening, product.to_owned(), exchange_date(o.ts)),
                a,
                o.filled,
            );
            // An opening row for one instrument limits that instrument's opened lots, beside
            // (not instead of) its product's limit on the product's total.
            if product != o.instrument && book.has(LimitKind::Opening, &o.instrument) {
                f.add(
                    (
                        BreachKind::Opening,
                        o.instrument.clone(),
                        exchange_date(o.ts),
                    ),
                    a,
                    o.filled,
                );
            }
        }
        if o.status == OrderStatus::Cancelled
            && !o.order_type.is_immediate()
            && !matches!(o.purpose, Purpose::Hedging | Purpose::MarketMaking)
        {
            let date = exchange_date(o.cancel_ts.unwrap_or(o.ts));
            f.add((BreachKind::Cancel, o.instrument.clone(), date), a, 1);
            let large = book
                .resolve(LimitKind::LargeCancelSize, &o.instrument, date)
                .is_some_and(|(size, _)| o.cancelled_lots() >= size);
            if large {
                f.add((BreachKind::LargeCancel, o.instrument.clone(), date), a, 1);
            }
        }
    }
    for t in tapes.trades {
        let (Some(&b), Some(&s)) = (
            index.get(t.buy_account.as_str()),
            index.get(t.sell_account.as_str()),
        ) else {
            continue;
        };
        let key = (
            BreachKind::SelfTrade,
            t.instrument.clone(),
            exchange_date(t.ts),
        );
        if b == s {
            f.add(key, b, 1);
        } else {
            *f.cross.entry(key).or_default().entry((b, s)).or_default() += 1;
        }
    }

    // Which groups each account belongs to.
    let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (gi, g) in groups.iter().enumerate() {
        for a in &g.accounts {
            let ai = index[a.as_str()];
            if !groups_of[ai].contains(&gi) {
                groups_of[ai].push(gi);
            }
        }
    }
    // Group -> key -> parts.
    let mut by_group: BTreeMap<(usize, FigureKey), Parts> = BTreeMap::new();
    for (key, accounts) in &f.figures {
        for (&a, &(share, alone)) in accounts {
            for &gi in &groups_of[a] {
                let e = by_group
                    .entry((gi, key.clone()))
                    .or_default()
                    .entry(a)
                    .or_default();
                e.0 += share;
                e.1 += alone;
            }
        }
    }
    for (key, pairs) in &f.cross {
        for (&(b, s), &n) in pairs {
            for &gi in &groups_of[b] {
                if !groups_of[s].contains(&gi) {
                    continue;
                }
                let parts = by_group.entry((gi, key.clone())).or_default();
                // The buyer takes the trade's share; the seller is named with what it did alone.
                parts.entry(b).or_default().0 += n;
                parts.entry(s).or_default();
            }
        }
    }

    let mut out = Vec::new();
    for ((gi, (kind, scope, date)), parts) in by_group {
        let figure: u64 = parts.values().map(|p| p.0).sum();
        let limit_instrument = scope.as_str();
        let resolved = if kind == BreachKind::Opening {
            // Opening limits are set per product, and an instrument's own row limits that
            // instrument alone: each figure is checked against the row of exactly its scope.
            book.exact(kind.limit_kind(), limit_instrument, date)
                .map(|v| (v, limit_instrument))
        } else {
            book.resolve(kind.limit_kind(), limit_instrument, date)
        };
        let Some((limit, limit_scope)) = resolved else {
            continue;
        };
        if !kind.breached(figure, limit) {
            continue;
        }
        let only_as_group = parts.values().all(|p| !kind.breached(p.1, limit));
        let mut parts: Vec<AccountPart> = parts
            .into_iter()
            .map(|(a, (share, alone))| AccountPart {
                account: names[a].to_owned(),
                share,
                alone,
            })
            .collect();
        parts.sort_by(|a, b| b.share.cmp(&a.share).then(a.account.cmp(&b.account)));
        let g = &groups[gi];
        out.push(Breach {
            group_id: g.id.clone(),
            source: g.source,
            kind,
            limit_scope: limit_scope.to_owned(),
            scope,
            date,
            figure,
            limit,
            parts,
            only_as_group,
        });
    }
    sort_breaches(&mut out);
    out
}

/// The order analysts read findings in: only-as-a-group first, then the newest day, then by
/// group, kind and scope.
pub fn sort_breaches(b: &mut [Breach]) {
    b.sort_by(|x, y| {
        y.only_as_group
            .cmp(&x.only_as_group)
            .then(y.date.cmp(&x.date))
            .then_with(|| x.group_id.cmp(&y.group_id))
            .then(x.source.cmp(&y.source))
            .then(x.kind.cmp(&y.kind))
            .then_with(|| x.scope.cmp(&y.scope))
    });
}

/// A group's position in one instrument on one day, for charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionPoint {
    pub date: NaiveDate,
    /// Speculative long lots of the group.
    pub long: u64,
    /// Speculative short lots of the group.
    pub short: u64,
    /// Each account's speculative (long, short) lots, accounts with none left out.
    pub parts: Vec<(String, u64, u64)>,
    /// The position limit in force that day, if any.
    pub limit: Option<u64>,
}

/// A group's daily speculative position in one instrument, oldest day first.
pub fn position_series(
    accounts: &[String],
    instrument: &str,
    positions: &[Position],
    limits: &[Limit],
) -> Vec<PositionPoint> {
    let members: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
    let mut days: BTreeMap<NaiveDate, BTreeMap<&str, (u64, u64)>> = BTreeMap::new();
    for p in positions {
        if p.instrument != instrument
            || !p.purpose.is_speculative()
            || !members.contains(p.account_id.as_str())
        {
            continue;
        }
        let e = days
            .entry(p.date)
            .or_default()
            .entry(p.account_id.as_str())
            .or_default();
        e.0 += p.long;
        e.1 += p.short;
    }
    let book = LimitBook::new(limits);
    days.into_iter()
        .map(|(date, parts)| PositionPoint {
            date,
            long: parts.values().map(|p| p.0).sum(),
            short: parts.values().map(|p| p.1).sum(),
            parts: parts
                .into_iter()
                .filter(|(_, (l, s))| l + s > 0)
                .map(|(a, (l, s))| (a.to_owned(), l, s))
                .collect(),
            limit: book
                .resolve(LimitKind::Position, instrument, date)
                .map(|(v, _)| v),
        })
        .collect()
}

/// What a reporting finding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportingKind {
    /// A detected group not reported together, past the deadline.
    Overdue,
    /// A detected group of which a reported group holds only some accounts.
    PartlyReported,
    /// A reported group whose accounts show no evidence of control at all.
    Stale,
}

impl ReportingKind {
    /// The spelling used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportingKind::Overdue => "overdue",
            ReportingKind::PartlyReported => "partly_reported",
            ReportingKind::Stale => "stale",
        }
    }
}

/// A detected group as the reporting check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedForReport {
    pub id: String,
    pub accounts: Vec<String>,
    /// The reported group that holds most of its accounts (at least two), if any.
    pub reported_group: Option<String>,
    /// Its accounts that reported group does not hold (all of them when none does).
    pub missing: Vec<String>,
}

/// A finding about reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingFinding {
    pub kind: ReportingKind,
    /// The detected group (overdue, partly reported) or the reported group (stale).
    pub group_id: String,
    /// The reported group it was compared with.
    pub reported_group: Option<String>,
    pub accounts: Vec<String>,
    /// The accounts missing from the report (partly reported, overdue).
    pub missing: Vec<String>,
    /// The last day the missing accounts could report (10 trading days after the latest of their
    /// open dates), when their open dates are known.
    pub due: Option<NaiveDate>,
    /// Whether `due` has passed on the analysis date.
    pub overdue: bool,
}

/// Compares detected groups with the reported ones on `as_of`.
///
/// `open_dates` gives accounts' open dates (accounts without one are taken to have been opened
/// long ago, so their report is due); `linked` says whether two accounts share any evidence.
pub fn reporting(
    detected: &[DetectedForReport],
    reported: &BTreeMap<String, Vec<String>>,
    open_dates: &dyn Fn(&str) -> Option<NaiveDate>,
    linked: &dyn Fn(&str, &str) -> bool,
    calendar: &Calendar,
    as_of: NaiveDate,
) -> Vec<ReportingFinding> {
    let mut out = Vec::new();
    for g in detected {
        if g.missing.is_empty() {
            continue;
        }
        let latest = g.missing.iter().filter_map(|a| open_dates(a)).max();
        let due = latest.map(|d| calendar.nth_trading_day_after(d, REPORT_DEADLINE_DAYS));
        // More than 10 trading days since the open date: the 11th has come.
        let overdue = latest
            .is_none_or(|d| calendar.nth_trading_day_after(d, REPORT_DEADLINE_DAYS + 1) <= as_of);
        let kind = match &g.reported_group {
            Some(_) => ReportingKind::PartlyReported,
            None if overdue => ReportingKind::Overdue,
            None => continue,
        };
        out.push(ReportingFinding {
            kind,
            group_id: g.id.clone(),
            reported_group: g.reported_group.clone(),
            accounts: g.accounts.clone(),
            missing: g.missing.clone(),
            due,
            overdue,
        });
    }
    for (id, accounts) in reported {
        let any = accounts
            .iter()
            .enumerate()
            .any(|(i, a)| accounts[i + 1..].iter().any(|b| linked(a, b)));
        if accounts.len() >= 2 && !any {
            out.push(ReportingFinding {
                kind: ReportingKind::Stale,
                group_id: id.clone(),
                reported_group: Some(id.clone()),
                accounts: accounts.clone(),
                missing: Vec::new(),
                due: None,
                overdue: false,
            });
        }
    }
    out.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(a.due.cmp(&b.due))
            .then_with(|| a.group_id.cmp(&b.group_id))
    });
    out
}

#[cfg(test)]
mod tests;
