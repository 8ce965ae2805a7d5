//! The position-breach charts of the HTML report: for a group with a position breach, its
//! speculative lots in the breached instrument over the trading days, stacked by account, with
//! the position limit in force each day as a line and the breached days marked.
//!
//! The figures come from [`detectors::surveillance::position_series`], the function behind the
//! API's `positionSeries`, so the chart and the API agree. Which groups are drawn is a fixed
//! rule: the groups in the order of the breaches table (only-as-a-group first, then the newest
//! day), each once, up to a count set in the report's options ([`DEFAULT_BREACH_CHARTS`] unless
//! set); the report says how many groups with position breaches it does not draw. A group's
//! chart shows the instrument and side (long or short) of its first position breach in that
//! order; its other breaches of the same instrument and side are marked on the same chart.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use detectors::surveillance::{Breach, BreachKind, GroupSource, position_series};
use graph_core::model::{Limit, Position, Record, Table};
use ingest::Store;
use plotters::prelude::*;
use serde::Serialize;

use crate::ReportError;
use crate::i18n::{Lang, label};
use crate::view::ReportView;

/// How many groups' position charts a report draws unless its options say otherwise.
pub const DEFAULT_BREACH_CHARTS: usize = 12;

/// The colours of the accounts, in stacking order; after these, plotters' 99-colour palette.
/// No red among them: red marks the breached days.
const COLOURS: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
    RGBColor(0x17, 0xbe, 0xcf),
];
const LIMIT_COLOUR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const BREACH_COLOUR: RGBColor = RGBColor(0xc0, 0x00, 0x00);

/// The colour of the `i`-th account of a chart.
fn colour(i: usize) -> RGBColor {
    match COLOURS.get(i) {
        Some(c) => *c,
        None => {
            let c = Palette99::pick(i - COLOURS.len()).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

/// A colour as the SVG writes it (`#RRGGBB`).
fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// One day of a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChartDay {
    pub date: NaiveDate,
    /// Each account's lots on the charted side, in the chart's account order (zeros kept).
    pub stack: Vec<u64>,
    /// The group's lots: the sum of `stack`.
    pub total: u64,
    /// The position limit in force that day, if any.
    pub limit: Option<u64>,
    /// A position breach of the group in this instrument and side falls on this day.
    pub breached: bool,
}

/// The data of one group's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChartData {
    pub group_id: String,
    pub source: GroupSource,
    pub instrument: String,
    /// [`BreachKind::PositionLong`] or [`BreachKind::PositionShort`].
    pub kind: BreachKind,
    /// The accounts with lots on the charted side, largest on the first breached day first
    /// (stacked from the bottom up, and the legend's order).
    pub accounts: Vec<String>,
    /// The days the positions tape shows the group in the instrument, oldest first.
    pub days: Vec<ChartDay>,
}

/// The charts of a report and the groups it leaves undrawn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachCharts {
    pub charts: Vec<ChartData>,
    /// Groups with position breaches beyond the cap, not drawn.
    pub not_drawn: usize,
    /// The cap the charts were chosen with.
    pub cap: usize,
}

/// The groups to chart: for each group with a position breach, in the order of `breaches`, its
/// first position breach; the first `cap` of them, and how many groups are left.
pub fn select(breaches: &[Breach], cap: usize) -> (Vec<&Breach>, usize) {
    let mut seen: HashSet<(&str, GroupSource)> = HashSet::new();
    let mut firsts = Vec::new();
    for b in breaches {
        if matches!(b.kind, BreachKind::PositionLong | BreachKind::PositionShort)
            && seen.insert((b.group_id.as_str(), b.source))
        {
            firsts.push(b);
        }
    }
    let left = firsts.len().saturating_sub(cap);
    firsts.truncate(cap);
    (firsts, left)
}

/// The chart of the breach `first` of a group with `accounts`, from the positions and limits.
/// `breached` are the days of the group's breaches of the same instrument and side.
pub fn chart_data(
    first: &Breach,
    accounts: &[String],
    positions: &[Position],
    limits: &[Limit],
    breached: &BTreeSet<NaiveDate>,
) -> ChartData {
    let long = first.kind == BreachKind::PositionLong;
    let series = position_series(accounts, &first.scope, positions, limits);
    let side = |l: u64, s: u64| if long { l } else { s };
    // Order: the lots on the first breached day, then over all days, then the id.
    let mut on_day: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in &series {
        for (a, l, s) in &p.parts {
            let lots = side(*l, *s);
            if lots == 0 {
                continue;
            }
            let e = on_day.entry(a.as_str()).or_default();
            if p.date == first.date {
                e.0 += lots;
            }
            e.1 += lots;
        }
    }
    let mut order: Vec<(&str, (u64, u64))> = on_day.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let accounts: Vec<String> = order.iter().map(|(a, _)| (*a).to_owned()).collect();
    let days = series
        .iter()
        .map(|p| {
            let stack: Vec<u64> = accounts
                .iter()
                .map(|a| {
                    p.parts
                        .iter()
                        .filter(|(x, _, _)| x == a)
                        .map(|(_, l, s)| side(*l, *s))
                        .sum()
                })
                .collect();
            ChartDay {
                date: p.date,
                total: stack.iter().sum(),
                stack,
                limit: p.limit,
                breached: breached.contains(&p.date),
            }
        })
        .collect();
    ChartData {
        group_id: first.group_id.clone(),
        source: first.source,
        instrument: first.scope.clone(),
        kind: first.kind,
        accounts,
        days,
    }
}

/// Reads what the charts of `view`'s breaches need from the store (the reported groups'
/// accounts, the positions of the charted groups' accounts in the charted instruments, the
/// limits) and makes the data of at most `cap` charts.
pub fn load(store: &dyn Store, view: &ReportView, cap: usize) -> Result<BreachCharts, ReportError> {
    let (firsts, not_drawn) = select(&view.breaches, cap);
    if firsts.is_empty() {
        return Ok(BreachCharts {
            charts: Vec::new(),
            not_drawn,
            cap,
        });
    }
    let wanted_reported: BTreeSet<&str> = firsts
        .iter()
        .filter(|b| b.source == GroupSource::Reported)
        .map(|b| b.group_id.as_str())
        .collect();
    let mut reported: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !wanted_reported.is_empty() {
        store.scan(Table::ReportedGroups, &mut |r| {
            if let Record::ReportedGroup(g) = r
                && wanted_reported.contains(g.group_id.as_str())
            {
                reported.entry(g.group_id).or_default().push(g.account_id);
            }
            Ok(())
        })?;
    }
    let accounts_of = |b: &Breach| -> Vec<String> {
        match b.source {
            GroupSource::Detected => view
                .groups
                .iter()
                .find(|g| g.id == b.group_id)
                .map(|g| g.accounts.iter().map(|a| a.account_id.clone()).collect())
                .unwrap_or_default(),
            GroupSource::Reported => reported.get(&b.group_id).cloned().unwrap_or_default(),
        }
    };
    let members: Vec<Vec<String>> = firsts.iter().map(|b| accounts_of(b)).collect();
    let wanted: HashSet<(&str, &str)> = firsts
        .iter()
        .zip(&members)
        .flat_map(|(b, m)| m.iter().map(|a| (a.as_str(), b.scope.as_str())))
        .collect();
    let mut positions = Vec::new();
    store.scan(Table::Positions, &mut |r| {
        if let Record::Position(p) = r
            && wanted.contains(&(p.account_id.as_str(), p.instrument.as_str()))
        {
            positions.push(p);
        }
        Ok(())
    })?;
    let mut limits = Vec::new();
    store.scan(Table::Limits, &mut |r| {
        if let Record::Limit(l) = r {
            limits.push(l);
        }
        Ok(())
    })?;
    let charts = firsts
        .iter()
        .zip(&members)
        .map(|(b, m)| {
            let breached: BTreeSet<NaiveDate> = view
                .breaches
                .iter()
                .filter(|x| {
                    x.group_id == b.group_id
                        && x.source == b.source
                        && x.kind == b.kind
                        && x.scope == b.scope
                })
                .map(|x| x.date)
                .collect();
            chart_data(b, m, &positions, &limits, &breached)
        })
        .collect();
    tracing::debug!(charts = firsts.len(), not_drawn, "position breach charts");
    Ok(BreachCharts {
        charts,
        not_drawn,
        cap,
    })
}

/// A legend entry of a drawn chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegendEntry {
    pub account: String,
    /// `#RRGGBB`, as the SVG fills the account's bars.
    pub colour: String,
}

/// A drawn chart: its title, legend and inline SVG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawnChart {
    pub group_id: String,
    pub source: &'static str,
    pub title: String,
    pub legend: Vec<LegendEntry>,
    pub svg: String,
}

/// The chart's title in the report's language: `Group G-A1 · IF2403 · long position by
/// account`.
pub fn title(c: &ChartData, lang: Lang) -> String {
    let side = label(
        lang,
        if c.kind == BreachKind::PositionLong {
            "chart_long_by_account"
        } else {
            "chart_short_by_account"
        },
    );
    format!(
        "{} {} · {} · {}",
        label(lang, "group"),
        c.group_id,
        c.instrument,
        side
    )
}

/// Draws the chart of `c`.
pub fn draw(c: &ChartData, lang: Lang) -> DrawnChart {
    let n = c.days.len().max(1) as u32;
    let top = c
        .days
        .iter()
        .map(|d| d.total.max(d.limit.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1);
    // Room above the tallest bar or the limit for the breach markers.
    let y_max = top + top / 8 + 1;
    let dates: Vec<String> = c.days.iter().map(|d| d.date.to_string()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 300)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                // A segmented range over `0..m` has a segment for each of 0 to m, one per day;
                // plotters cannot divide an empty range, so one day gets a blank second segment.
                .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0u64..y_max)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .x_desc(label(lang, "breach_date"))
                .y_desc(label(lang, "chart_lots"))
                .x_labels(dates.len().min(10))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                        dates.get(*i as usize).cloned().unwrap_or_default()
                    }
                    SegmentValue::Last => String::new(),
                })
                .draw()?;
            // One bar series per account, each standing on the accounts below it.
            let mut below: Vec<u64> = vec![0; c.days.len()];
            for (k, _) in c.accounts.iter().enumerate() {
                let base = below.clone();
                let day_of = |v: &SegmentValue<u32>| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => *i as usize,
                    SegmentValue::Last => usize::MAX,
                };
                chart.draw_series(
                    Histogram::vertical(&chart)
                        .style(colour(k).filled())
                        .margin(6)
                        .baseline_func(move |v| base.get(day_of(v)).copied().unwrap_or(0))
                        .data(c.days.iter().enumerate().filter_map(|(i, d)| {
                            let lots = d.stack.get(k).copied().unwrap_or(0);
                            (lots > 0).then(|| (i as u32, below[i] + lots))
                        })),
                )?;
                for (i, d) in c.days.iter().enumerate() {
                    below[i] += d.stack.get(k).copied().unwrap_or(0);
                }
            }
            // The limit in force, one step per day.
            chart.draw_series(c.days.iter().enumerate().filter_map(|(i, d)| {
                let (i, l) = (i as u32, d.limit?);
                Some(PathElement::new(
                    vec![(SegmentValue::Exact(i), l), (SegmentValue::Exact(i + 1), l)],
                    LIMIT_COLOUR.stroke_width(2),
                ))
            }))?;
            // The breached days, marked above their bars.
            chart.draw_series(c.days.iter().enumerate().filter(|(_, d)| d.breached).map(
                |(i, d)| {
                    TriangleMarker::new(
                        (
                            SegmentValue::CenterOf(i as u32),
                            d.total.max(d.limit.unwrap_or(0)) + top / 16 + 1,
                        ),
                        6,
                        BREACH_COLOUR.filled(),
                    )
                },
            ))?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!(group = %c.group_id, "a position chart could not be drawn: {e}");
        }
    }
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => &svg,
    };
    // Inline SVG in HTML needs no namespace; leaving it out keeps the file free of URLs.
    let svg = svg
        .replace(r#" xmlns="http://www.w3.org/2000/svg""#, "")
        .replacen("<svg ", r#"<svg class="breach-chart" "#, 1);
    DrawnChart {
        group_id: c.group_id.clone(),
        source: c.source.as_str(),
        title: title(c, lang),
        legend: c
            .accounts
            .iter()
            .enumerate()
            .map(|(k, a)| LegendEntry {
                account: a.clone(),
                colour: hex(colour(k)),
            })
            .collect(),
        svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detectors::surveillance::AccountPart;
    use graph_core::model::{LimitKind, Purpose};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn pos(date: &str, account: &str, long: u64, short: u64, purpose: Purpose) -> Position {
        Position {
            date: day(date),
            account_id: account.into(),
            instrument: "IF2403".into(),
            long,
            short,
            purpose,
            extra: Default::default(),
        }
    }

    fn position_breach(group: &str, kind: BreachKind, date: &str) -> Breach {
        Breach {
            group_id: group.into(),
            source: GroupSource::Detected,
            kind,
            scope: "IF2403".into(),
            date: day(date),
            figure: 0,
            limit: 0,
            limit_scope: "IF".into(),
            parts: vec![AccountPart {
                account: "A".into(),
                share: 0,
                alone: 0,
            }],
            only_as_group: true,
        }
    }

    #[test]
    fn the_stack_adds_up_to_the_group_and_leaves_out_exempt_lots() {
        let positions = [
            pos("2024-03-04", "A1", 700, 0, Purpose::Speculation),
            pos("2024-03-04", "A2", 600, 650, Purpose::Speculation),
            pos("2024-03-04", "A1", 5000, 0, Purpose::Hedging),
            pos("2024-03-05", "A1", 500, 0, Purpose::Speculation),
            pos("2024-03-05", "A2", 500, 0, Purpose::Speculation),
        ];
        let limits = [Limit {
            scope: "IF".into(),
            kind: LimitKind::Position,
            value: 1200,
            from_date: None,
            to_date: None,
            extra: Default::default(),
        }];
        let b = position_breach("G-A1", BreachKind::PositionLong, "2024-03-04");
        let c = chart_data(
            &b,
            &["A1".into(), "A2".into()],
            &positions,
            &limits,
            &[day("2024-03-04")].into(),
        );
        assert_eq!(c.accounts, ["A1", "A2"]);
        assert_eq!(c.days.len(), 2);
        assert_eq!(c.days[0].stack, [700, 600]);
        assert_eq!(c.days[0].total, 1300);
        assert!(c.days[0].breached && !c.days[1].breached);
        assert_eq!(c.days[1].stack, [500, 500]);
        assert!(c.days.iter().all(|d| d.limit == Some(1200)));

        // The short side of the same group: only A2 holds short lots.
        let b = position_breach("G-A1", BreachKind::PositionShort, "2024-03-04");
        let c = chart_data(
            &b,
            &["A1".into(), "A2".into()],
            &positions,
            &limits,
            &BTreeSet::new(),
        );
        assert_eq!(c.accounts, ["A2"]);
        assert_eq!(c.days[0].stack, [650]);
        assert_eq!(c.days[1].total, 0);

        let drawn = draw(&c, Lang::Zh);
        assert!(drawn.svg.starts_with("<svg class=\"breach-chart\""));
        assert!(!drawn.svg.contains("http"));
        assert!(drawn.title.contains("空头"), "{}", drawn.title);
    }

    #[test]
    fn each_group_is_charted_once_in_the_table_order_up_to_the_cap() {
        let breaches = [
            position_breach("G-B", BreachKind::Cancel, "2024-03-05"),
            position_breach("G-A", BreachKind::PositionShort, "2024-03-05"),
            position_breach("G-A", BreachKind::PositionLong, "2024-03-04"),
            position_breach("G-C", BreachKind::PositionLong, "2024-03-04"),
            position_breach("G-D", BreachKind::PositionLong, "2024-03-01"),
        ];
        let (firsts, left) = select(&breaches, 2);
        let picked: Vec<(&str, BreachKind)> = firsts
            .iter()
            .map(|b| (b.group_id.as_str(), b.kind))
            .collect();
        assert_eq!(
            picked,
            [
                ("G-A", BreachKind::PositionShort),
                ("G-C", BreachKind::PositionLong)
            ]
        );
        assert_eq!(left, 1);
        assert_eq!(select(&breaches, 0).1, 3);
        assert_eq!(select(&breaches, 10).1, 0);
    }
}
