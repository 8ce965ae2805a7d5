//! Analysis results as they are stored, served and reported: dataset ids instead of graph
//! indices (those change when the graph is rebuilt), and evidence spelt out for analysts.

use serde::{Deserialize, Serialize};

use graph_core::{EdgeData, EdgeId, PropertyGraph};

use crate::evidence::{Evidence, Link, Signal};

/// One signal of a link, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRecord {
    pub kind: String,
    pub criterion: String,
    pub weight: f32,
    /// The evidence in words, with ids, percentages and counts.
    pub description: String,
    /// The ids the evidence names (controller, person, identifier value, entity...).
    pub subjects: Vec<String>,
}

/// An evidence link between two accounts, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub a: String,
    pub b: String,
    pub weight: f32,
    pub signals: Vec<SignalRecord>,
}

/// A suspected group, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub id: String,
    pub accounts: Vec<String>,
    pub controller_id: Option<String>,
    pub controller_basis: String,
    pub score: f32,
    /// Signal family and its share of the score.
    pub contributions: Vec<(String, f32)>,
    pub criteria: Vec<String>,
    pub status: String,
    pub reported_group: Option<String>,
    /// Accounts of the group missing from the best-matching reported group.
    pub missing_from_report: Vec<String>,
    pub joined_by_embedding: Vec<String>,
    /// The group's evidence subgraph.
    pub links: Vec<LinkRecord>,
}

/// Wash trades of one group: trades whose buyer and seller both belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WashRecord {
    pub group_id: String,
    pub trades: u32,
    pub volume: u64,
    pub first_ts: i64,
    pub last_ts: i64,
    pub trade_ids: Vec<String>,
}

/// A stage of an analysis run and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub seconds: f64,
}

/// Everything one analysis run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisResults {
    pub created_at: String,
    pub groups: Vec<GroupRecord>,
    pub wash_trades: Vec<WashRecord>,
    /// Identifier values ignored as hubs: (kind:value, holders sharing it).
    pub hubs: Vec<(String, u32)>,
    pub placeholders: Vec<(String, u32)>,
    pub timings: Vec<StageTiming>,
    pub accounts: u64,
    pub links: u64,
}

fn path_text(g: &PropertyGraph, path: &[EdgeId]) -> String {
    path.iter()
        .map(|e| {
            let edge = g.edge(*e);
            let what = match edge.data {
                EdgeData::Owns {
                    share_min,
                    share_max,
                    kind,
                } if share_min == share_max => format!("{kind} {share_min:.2}%"),
                EdgeData::Owns {
                    share_min,
                    share_max,
                    kind,
                } => format!("{kind} {share_min:.2}-{share_max:.2}%"),
                EdgeData::Relation { kind } => kind.to_string(),
                EdgeData::Officer { role } => role.to_string(),
                d => d.kind().to_string(),
            };
            format!("{} -[{what}]-> {}", g.key(edge.src), g.key(edge.dst))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Spells out one signal.
pub fn signal_record(
    g: &PropertyGraph,
    s: &Signal,
    trade_ids: &dyn Fn(u32) -> String,
) -> SignalRecord {
    let key = |n| g.key(n).to_owned();
    let (description, subjects) = match &s.evidence {
        Evidence::SameHolder { holder } => (
            format!("both accounts are held by {}", key(*holder)),
            vec![key(*holder)],
        ),
        Evidence::Control {
            controller,
            basis,
            path_a,
            path_b,
        } => {
            let paths = [path_a, path_b]
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| path_text(g, p))
                .collect::<Vec<_>>()
                .join("; ");
            (
                format!(
                    "{} controls both holders ({basis}): {paths}",
                    key(*controller)
                ),
                vec![key(*controller)],
            )
        }
        Evidence::Officer {
            person,
            entity,
            role,
            shared,
        } => (
            if *shared {
                format!(
                    "{} is {role} of both holders (and of {})",
                    key(*person),
                    key(*entity)
                )
            } else {
                format!("{} is {role} of {}", key(*person), key(*entity))
            },
            vec![key(*person), key(*entity)],
        ),
        Evidence::Authorised {
            person,
            role,
            spread,
        } => (
            format!(
                "{} acts as {role} (authorised on {spread} account(s))",
                key(*person)
            ),
            vec![key(*person)],
        ),
        Evidence::Relation { from, to, kind } => (
            format!("{} is {kind} of {}", key(*from), key(*to)),
            vec![key(*from), key(*to)],
        ),
        Evidence::Identifier {
            identifier,
            kind,
            spread,
        } => (
            format!(
                "shared {kind} `{}` (used by {spread} holder(s))",
                key(*identifier)
            ),
            vec![format!("{kind}:{}", key(*identifier))],
        ),
        Evidence::Transfers { count, total } => (
            format!("{count} fund transfer(s) totalling {total:.2} CNY"),
            vec![],
        ),
        Evidence::Flow {
            amount,
            shape,
            transfers,
            accounts,
            ..
        } => (
            format!(
                "{transfers} transfers of exactly {amount:.2} CNY among {accounts} accounts ({shape:?})"
            ),
            vec![],
        ),
        Evidence::Sync {
            co_events,
            expected,
            significance,
            examples,
        } => (
            format!(
                "{co_events} synchronised trading windows (expected {expected:.2} by chance, -log10 p = {significance:.1})"
            ),
            examples
                .iter()
                .flat_map(|(x, y)| [trade_ids(*x), trade_ids(*y)])
                .collect(),
        ),
        Evidence::Matched {
            trades,
            volume,
            expected,
            significance,
            round_trips,
            examples,
        } => (
            format!(
                "{trades} trades with each other ({volume} lots, {round_trips} round trips; expected {expected:.2}, -log10 p = {significance:.1})"
            ),
            examples.iter().map(|x| trade_ids(*x)).collect(),
        ),
    };
    SignalRecord {
        kind: s.kind.as_str().to_owned(),
        criterion: s.criterion.to_string(),
        weight: s.weight,
        description,
        subjects,
    }
}

/// Spells out one link.
pub fn link_record(g: &PropertyGraph, l: &Link, trade_ids: &dyn Fn(u32) -> String) -> LinkRecord {
    LinkRecord {
        a: g.key(l.a).to_owned(),
        b: g.key(l.b).to_owned(),
        weight: l.weight,
        signals: l
            .signals
            .iter()
            .map(|s| signal_record(g, s, trade_ids))
            .collect(),
    }
}
