//! The surveillance checks inside an analysis: reads the tapes of the groups' accounts from the
//! store and runs [`detectors::surveillance`] over the detected and the reported groups.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use detectors::results::{AnalysisResults, LinkRecord, SurveillanceResults};
use detectors::surveillance::{
    self, Calendar, CheckedGroup, DetectedForReport, GroupSource, Tapes,
};
use graph_core::model::{Record, Table};
use ingest::{Store, StoreError};

/// The blob the surveillance findings are stored under.
pub const SURVEILLANCE_BLOB: &str = "analysis/surveillance";

/// Runs the checks for the groups of `results`, the reported groups `reported` (group id,
/// account id) and the evidence `links`. Only rows of accounts in some group are read into
/// memory. `as_of` defaults to the last day the tapes show.
pub fn run(
    store: &dyn Store,
    results: &AnalysisResults,
    reported: &[(String, String)],
    links: &[LinkRecord],
    as_of: Option<NaiveDate>,
) -> Result<SurveillanceResults, StoreError> {
    let mut reported_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (g, a) in reported {
        reported_groups
            .entry(g.clone())
            .or_default()
            .push(a.clone());
    }
    let mut groups: Vec<CheckedGroup> = results
        .groups
        .iter()
        .map(|g| CheckedGroup {
            id: g.id.clone(),
            source: GroupSource::Detected,
            accounts: g.accounts.clone(),
        })
        .collect();
    groups.extend(reported_groups.iter().map(|(id, accounts)| CheckedGroup {
        id: id.clone(),
        source: GroupSource::Reported,
        accounts: accounts.clone(),
    }));
    let members: HashSet<&str> = groups
        .iter()
        .flat_map(|g| g.accounts.iter().map(String::as_str))
        .collect();
    let mut last_day: Option<NaiveDate> = None;
    let mut seen = |d: NaiveDate| last_day = Some(last_day.map_or(d, |l| l.max(d)));
    let (mut positions, mut orders, mut trades, mut limits, mut days) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    store.scan(Table::Positions, &mut |r| {
        if let Record::Position(p) = r {
            seen(p.date);
            if members.contains(p.account_id.as_str()) {
                positions.push(p);
            }
        }
        Ok(())
    })?;
    store.scan(Table::Orders, &mut |r| {
        if let Record::Order(o) = r {
            seen(surveillance::exchange_date(o.ts));
            if members.contains(o.account_id.as_str()) {
                orders.push(o);
            }
        }
        Ok(())
    })?;
    store.scan(Table::Trades, &mut |r| {
        if let Record::Trade(t) = r {
            seen(surveillance::exchange_date(t.ts));
            if members.contains(t.buy_account.as_str()) && members.contains(t.sell_account.as_str())
            {
                trades.push(t);
            }
        }
        Ok(())
    })?;
    store.scan(Table::Limits, &mut |r| {
        if let Record::Limit(l) = r {
            limits.push(l);
        }
        Ok(())
    })?;
    store.scan(Table::TradingDays, &mut |r| {
        if let Record::TradingDay(d) = r {
            days.push(d.date);
        }
        Ok(())
    })?;
    let mut open_dates: BTreeMap<String, NaiveDate> = BTreeMap::new();
    store.scan(Table::Accounts, &mut |r| {
        if let Record::Account(a) = r
            && let Some(d) = a.open_date
            && members.contains(a.account_id.as_str())
        {
            open_dates.insert(a.account_id, d);
        }
        Ok(())
    })?;
    let breaches = surveillance::check(
        &groups,
        &Tapes {
            positions: &positions,
            orders: &orders,
            trades: &trades,
            limits: &limits,
        },
    );
    let today = || {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
        chrono::Utc::now().with_timezone(&cst).date_naive()
    };
    // The day the tapes end, for a dataset of the past; today when there are no tapes.
    let as_of = as_of.or(last_day).or_else(|| Some(today()));
    let reporting = match as_of {
        Some(as_of) => {
            let detected: Vec<DetectedForReport> = results
                .groups
                .iter()
                .map(|g| DetectedForReport {
                    id: g.id.clone(),
                    accounts: g.accounts.clone(),
                    reported_group: g.reported_group.clone(),
                    missing: g.missing_from_report.clone(),
                })
                .collect();
            let linked: HashSet<(&str, &str)> = links
                .iter()
                .flat_map(|l| [(l.a.as_str(), l.b.as_str()), (l.b.as_str(), l.a.as_str())])
                .collect();
            // Two accounts have evidence between them when a link joins them or when the
            // analysis put them in one group (members join a group by their affinity to all of
            // it, not only by a link to each other).
            let mut group_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, g) in results.groups.iter().enumerate() {
                for a in &g.accounts {
                    group_of.entry(a.as_str()).or_default().push(i);
                }
            }
            let together = |a: &str, b: &str| {
                let (Some(x), Some(y)) = (group_of.get(a), group_of.get(b)) else {
                    return false;
                };
                x.iter().any(|g| y.contains(g))
            };
            surveillance::reporting(
                &detected,
                &reported_groups,
                &|a| open_dates.get(a).copied(),
                &|a, b| linked.contains(&(a, b)) || together(a, b),
                &Calendar::new(days),
                as_of,
            )
        }
        None => Vec::new(),
    };
    Ok(SurveillanceResults {
        created_at: results.created_at.clone(),
        as_of,
        breaches,
        reporting,
    })
}
