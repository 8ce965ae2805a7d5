//! Analysis results as they are stored, served and reported: dataset ids instead of graph
//! indices (those change when the graph is rebuilt), and evidence spelt out for analysts.

use serde::{Deserialize, Serialize};

use graph_core::{EdgeData, EdgeId, PropertyGraph};

use crate::control::{ControlBasis, ControlClaim};
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
    /// The evidence's parts (ids, roles, shares, counts), for tables, drawings and other
    /// languages; `description` spells the same parts out in English.
    pub detail: SignalDetail,
}

/// One hop of an ownership or control path: `from -[what]-> to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathHop {
    pub from: String,
    pub to: String,
    /// The edge in words: `direct 60.00%`, `limited 20.00-30.00%`, `general_partner`, `spouse`.
    pub what: String,
    /// The percentage (or range) when the edge is a shareholding: `60.00%`, `20.00-30.00%`.
    pub share: Option<String>,
}

/// Why a controller controls one holder, in parts that add up: for a majority, each counted
/// stake and the sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderClaim {
    pub holder: String,
    /// `majority_control`, `general_partner` or `manages`.
    pub basis: String,
    /// The sum of the counted stakes (majority control only), in percent.
    pub share: Option<f64>,
    pub stakes: Vec<StakeRecord>,
}

/// One counted holding (or role) in a controlled holder: the chain from the controller to the
/// party that holds it, then that party's edges into the holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakeRecord {
    /// The party holding it: the controller or a company the controller controls.
    pub source: String,
    /// Its stake as the majority rule counts it, in percent (`None` when it counts by role).
    pub share: Option<f64>,
    pub path: Vec<PathHop>,
}

impl HolderClaim {
    fn of(g: &PropertyGraph, c: &ControlClaim) -> Self {
        let basis = match c.link.basis {
            ControlBasis::GeneralPartner => "general_partner",
            ControlBasis::Manages => "manages",
            _ => "majority_control",
        };
        let stakes = c
            .stakes
            .iter()
            .map(|s| {
                let mut path = s.chain.clone();
                path.extend(&s.edges);
                StakeRecord {
                    source: g.key(s.source).to_owned(),
                    share: s.share_min,
                    path: path_hops(g, &path),
                }
            })
            .collect();
        Self {
            holder: g.key(c.link.controlled).to_owned(),
            basis: basis.to_owned(),
            share: (c.link.basis == ControlBasis::Majority).then(|| c.share_sum()),
            stakes,
        }
    }

    /// The claim in English: `E02 by majority control, 54.0% = 24.00% held directly + 30.00%
    /// held by E05 (P01 -[equity 24.00%]-> E02; P01 -[equity 60.00%]-> E05, E05 -[equity
    /// 30.00%]-> E02)`.
    pub fn english(&self, controller: &str) -> String {
        let paths = self
            .stakes
            .iter()
            .map(|s| path_text(&s.path))
            .collect::<Vec<_>>()
            .join("; ");
        match (self.basis.as_str(), self.share) {
            ("majority_control", Some(sum)) => {
                let parts = self
                    .stakes
                    .iter()
                    .map(|s| {
                        let share = s.share.map_or_else(String::new, |x| format!("{x:.2}% "));
                        if s.source == controller {
                            format!("{share}held directly")
                        } else {
                            format!("{share}held by {}", s.source)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" + ");
                format!(
                    "{} by majority control, {sum:.1}% = {parts} ({paths})",
                    self.holder
                )
            }
            ("general_partner", _) => format!("{} as general partner ({paths})", self.holder),
            _ => format!("{} as manager of the product ({paths})", self.holder),
        }
    }
}

/// The parts of a signal's evidence, one variant per kind of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalDetail {
    SameHolder {
        holder: String,
    },
    /// A controller of both holders and, per controlled holder, the claim its holdings add up
    /// to with every path (none for the controller's own account). `paths` is only filled in
    /// signals stored before claims were kept; read paths through
    /// [`SignalDetail::control_paths`].
    Control {
        controller: String,
        basis: String,
        paths: Vec<Vec<PathHop>>,
        #[serde(default)]
        claims: Vec<HolderClaim>,
    },
    /// `person` is `role` of `entity`; `shared`: of both holders (and of `entity`).
    Officer {
        person: String,
        entity: String,
        role: String,
        shared: bool,
    },
    /// `person` acts as `role` on `spread` accounts.
    Authorised {
        person: String,
        role: String,
        spread: u32,
    },
    /// `from` is `kind` of `to` (spouse, family, arrangement).
    Relation {
        from: String,
        to: String,
        kind: String,
    },
    /// A shared identifier and how many holders use it.
    Identifier {
        kind: String,
        value: String,
        spread: u32,
    },
    Transfers {
        count: u32,
        total: f64,
    },
    /// Most of one account's transfers are with the group's accounts: `members` of its
    /// `counterparties`, in `transfers` transfers totalling `total`.
    GroupFlow {
        members: u32,
        counterparties: u32,
        transfers: u32,
        total: f64,
    },
    /// Transfers of one exact amount among several accounts; `shape`: Cycle, FanIn or Chain.
    Flow {
        transfers: u32,
        amount: f64,
        accounts: u32,
        shape: String,
    },
    /// Synchronised trading windows against the number expected by chance.
    Sync {
        windows: u32,
        expected: f64,
        significance: f64,
    },
    /// Trading in `joined` of the group's `bursts` (many of its accounts in one contract and
    /// direction within seconds), `with_member` of them beside the other account, against the
    /// number expected by chance.
    GroupBurst {
        joined: u32,
        with_member: u32,
        bursts: u32,
        expected: f64,
        significance: f64,
    },
    /// Trades with each other against the number expected by chance.
    Matched {
        trades: u32,
        volume: u64,
        round_trips: u32,
        expected: f64,
        significance: f64,
    },
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
    /// Each account's affinity to the rest of the group, aligned with `accounts`.
    pub membership: Vec<f32>,
    /// Accounts with evidence towards the group below the operating point, best first.
    pub candidates: Vec<CandidateRecord>,
}

/// An account with evidence towards a group that is below the operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub account: String,
    /// Its affinity to the group, in [0, 1].
    pub score: f32,
    /// Its links to the group's accounts.
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
    /// Person and company records joined to another record of the same subject, which stands
    /// for both in the analysis.
    pub resolved: Vec<ResolvedRecord>,
}

/// A record that entity resolution joined to another record's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedRecord {
    /// The joined record's id.
    pub record: String,
    /// The record that stands for the subject in the analysis.
    pub subject: String,
    /// The record it was compared with, and why they are one: `same_uscc`, `same_id_number`,
    /// `same_name_as_registry`, `masked_id_number_and_name`, `latin_name_as_registry`.
    pub with: String,
    pub reason: String,
}

fn path_hops(g: &PropertyGraph, path: &[EdgeId]) -> Vec<PathHop> {
    path.iter()
        .map(|e| {
            let edge = g.edge(*e);
            let (what, share) = match edge.data {
                EdgeData::Owns {
                    share_min,
                    share_max,
                    kind,
                } => {
                    let share = if share_min == share_max {
                        format!("{share_min:.2}%")
                    } else {
                        format!("{share_min:.2}-{share_max:.2}%")
                    };
                    (format!("{kind} {share}"), Some(share))
                }
                EdgeData::Relation { kind } => (kind.to_string(), None),
                EdgeData::Officer { role } => (role.to_string(), None),
                d => (d.kind().to_string(), None),
            };
            PathHop {
                from: g.key(edge.src).to_owned(),
                to: g.key(edge.dst).to_owned(),
                what,
                share,
            }
        })
        .collect()
}

fn path_text(hops: &[PathHop]) -> String {
    hops.iter()
        .map(|h| format!("{} -[{}]-> {}", h.from, h.what, h.to))
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
    let (detail, subjects) = match &s.evidence {
        Evidence::SameHolder { holder } => (
            SignalDetail::SameHolder {
                holder: key(*holder),
            },
            vec![key(*holder)],
        ),
        Evidence::Control {
            controller,
            basis,
            claim_a,
            claim_b,
        } => {
            let mut claims: Vec<&ControlClaim> = [claim_a, claim_b]
                .into_iter()
                .flatten()
                .map(|c| c.as_ref())
                .collect();
            claims.sort_by_key(|c| c.link.controlled);
            claims.dedup_by_key(|c| c.link.controlled);
            (
                SignalDetail::Control {
                    controller: key(*controller),
                    basis: basis.clone(),
                    paths: Vec::new(),
                    claims: claims.iter().map(|c| HolderClaim::of(g, c)).collect(),
                },
                vec![key(*controller)],
            )
        }
        Evidence::Officer {
            person,
            entity,
            role,
            shared,
        } => (
            SignalDetail::Officer {
                person: key(*person),
                entity: key(*entity),
                role: role.to_string(),
                shared: *shared,
            },
            vec![key(*person), key(*entity)],
        ),
        Evidence::Authorised {
            person,
            role,
            spread,
        } => (
            SignalDetail::Authorised {
                person: key(*person),
                role: role.to_string(),
                spread: *spread,
            },
            vec![key(*person)],
        ),
        Evidence::Relation { from, to, kind } => (
            SignalDetail::Relation {
                from: key(*from),
                to: key(*to),
                kind: kind.to_string(),
            },
            vec![key(*from), key(*to)],
        ),
        Evidence::Identifier {
            identifier,
            kind,
            spread,
        } => (
            SignalDetail::Identifier {
                kind: kind.to_string(),
                value: key(*identifier),
                spread: *spread,
            },
            vec![format!("{kind}:{}", key(*identifier))],
        ),
        Evidence::Transfers { count, total } => (
            SignalDetail::Transfers {
                count: *count,
                total: *total,
            },
            vec![],
        ),
        Evidence::GroupFlow {
            members,
            counterparties,
            transfers,
            total,
        } => (
            SignalDetail::GroupFlow {
                members: *members,
                counterparties: *counterparties,
                transfers: *transfers,
                total: *total,
            },
            vec![],
        ),
        Evidence::Flow {
            amount,
            shape,
            transfers,
            accounts,
            ..
        } => (
            SignalDetail::Flow {
                transfers: *transfers,
                amount: *amount,
                accounts: *accounts,
                shape: format!("{shape:?}"),
            },
            vec![],
        ),
        Evidence::Sync {
            co_events,
            expected,
            significance,
            examples,
        } => (
            SignalDetail::Sync {
                windows: *co_events,
                expected: *expected,
                significance: *significance,
            },
            examples
                .iter()
                .flat_map(|(x, y)| [trade_ids(*x), trade_ids(*y)])
                .collect(),
        ),
        Evidence::GroupBurst {
            joined,
            with_member,
            bursts,
            expected,
            significance,
            examples,
        } => (
            SignalDetail::GroupBurst {
                joined: *joined,
                with_member: *with_member,
                bursts: *bursts,
                expected: *expected,
                significance: *significance,
            },
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
            SignalDetail::Matched {
                trades: *trades,
                volume: *volume,
                round_trips: *round_trips,
                expected: *expected,
                significance: *significance,
            },
            examples.iter().map(|x| trade_ids(*x)).collect(),
        ),
    };
    SignalRecord {
        kind: s.kind.as_str().to_owned(),
        criterion: s.criterion.to_string(),
        weight: s.weight,
        description: detail.english(),
        subjects,
        detail,
    }
}

impl SignalDetail {
    /// The paths of a control signal, one per counted party of each claim (the chain to the
    /// party, then its edges into the holder); empty for other evidence.
    pub fn control_paths(&self) -> Vec<&[PathHop]> {
        match self {
            SignalDetail::Control { paths, claims, .. } if claims.is_empty() => {
                paths.iter().map(Vec::as_slice).collect()
            }
            SignalDetail::Control { claims, .. } => claims
                .iter()
                .flat_map(|c| c.stakes.iter().map(|s| s.path.as_slice()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The evidence in English words, with ids, percentages and counts.
    pub fn english(&self) -> String {
        match self {
            SignalDetail::SameHolder { holder } => format!("both accounts are held by {holder}"),
            SignalDetail::Control {
                controller, claims, ..
            } if !claims.is_empty() => {
                let parts = claims
                    .iter()
                    .map(|c| c.english(controller))
                    .collect::<Vec<_>>()
                    .join("; and ");
                let own = if claims.len() < 2 {
                    " and holds the other account itself"
                } else {
                    ""
                };
                format!("{controller} controls {parts}{own}")
            }
            SignalDetail::Control {
                controller,
                basis,
                paths,
                ..
            } => {
                let paths = paths
                    .iter()
                    .map(|p| path_text(p))
                    .collect::<Vec<_>>()
                    .join("; ");
                format!("{controller} controls both holders ({basis}): {paths}")
            }
            SignalDetail::Officer {
                person,
                entity,
                role,
                shared: true,
            } => format!("{person} is {role} of both holders (and of {entity})"),
            SignalDetail::Officer {
                person,
                entity,
                role,
                shared: false,
            } => format!("{person} is {role} of {entity}"),
            SignalDetail::Authorised {
                person,
                role,
                spread,
            } => format!("{person} acts as {role} (authorised on {spread} account(s))"),
            SignalDetail::Relation { from, to, kind } => format!("{from} is {kind} of {to}"),
            SignalDetail::Identifier {
                kind,
                value,
                spread,
            } => format!("shared {kind} `{value}` (used by {spread} holder(s))"),
            SignalDetail::Transfers { count, total } => {
                format!("{count} fund transfer(s) totalling {total:.2} CNY")
            }
            SignalDetail::GroupFlow {
                members,
                counterparties,
                transfers,
                total,
            } => format!(
                "{transfers} fund transfer(s) totalling {total:.2} CNY with {members} of the \
                 group's accounts, {members} of its {counterparties} counterparties"
            ),
            SignalDetail::Flow {
                transfers,
                amount,
                accounts,
                shape,
            } => format!(
                "{transfers} transfers of exactly {amount:.2} CNY among {accounts} accounts ({shape})"
            ),
            SignalDetail::Sync {
                windows,
                expected,
                significance,
            } => format!(
                "{windows} synchronised trading windows (expected {expected:.2} by chance, -log10 p = {significance:.1})"
            ),
            SignalDetail::GroupBurst {
                joined,
                with_member,
                bursts,
                expected,
                significance,
            } => format!(
                "traded in {joined} of the group's {bursts} bursts (many of its accounts in one \
                 contract and direction within seconds), {with_member} of them beside this \
                 account (expected {expected:.2} by chance, -log10 p = {significance:.1})"
            ),
            SignalDetail::Matched {
                trades,
                volume,
                round_trips,
                expected,
                significance,
            } => format!(
                "{trades} trades with each other ({volume} lots, {round_trips} round trips; expected {expected:.2}, -log10 p = {significance:.1})"
            ),
        }
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

/// The surveillance findings of one analysis, stored beside [`AnalysisResults`] under their own
/// blob (so analyses stored before the checks existed still read).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurveillanceResults {
    /// The `created_at` of the analysis the findings belong to.
    pub created_at: String,
    /// The day the reporting deadlines were measured on.
    pub as_of: Option<chrono::NaiveDate>,
    /// Limit breaches, only-as-a-group first.
    pub breaches: Vec<crate::surveillance::Breach>,
    /// Overdue, partly reported and stale reports.
    pub reporting: Vec<crate::surveillance::ReportingFinding>,
}
