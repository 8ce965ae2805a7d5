//! One analysis run: control, trading behaviour, evidence links, embeddings and groups, each
//! stage timed, with the results converted to dataset ids for storage.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use ahash::AHashMap;
use graph_core::{NodeId, PropertyGraph};

use crate::behaviour::{self, TradeEvent};
use crate::control::{ControlAnalysis, ControlBasis, ControlConfig};
use crate::embed::{Embeddings, FastRpConfig, fast_rp};
use crate::evidence::{
    ControlFact, Criterion, EvidenceConfig, EvidenceGraph, MatchedFact, SyncFact, collect_links,
};
use crate::flows::{FlowConfig, TransferEvent, identical_amount_flows, similar_amount_fans};
use crate::groups::{Group, GroupConfig, assemble, compare_with_reported, stable_ids};
use crate::results::{AnalysisResults, GroupRecord, StageTiming, WashRecord, link_record};

/// Every setting of an analysis run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisConfig {
    pub control: ControlConfig,
    pub evidence: EvidenceConfig,
    pub groups: GroupConfig,
    pub embedding: FastRpConfig,
    pub behaviour: behaviour::BehaviourConfig,
    pub flows: FlowConfig,
}

/// The inputs besides the graph.
#[derive(Debug, Default)]
pub struct AnalysisInput<'a> {
    /// The trade tape, `id` indexing `trade_ids`.
    pub trades: &'a [TradeEvent],
    pub trade_ids: &'a [String],
    /// The transfer tape, `id` indexing the caller's list.
    pub transfers: &'a [TransferEvent],
    /// Reported groups: (group id, account id).
    pub reported: &'a [(String, String)],
    /// The previous run's groups (id, accounts), for stable ids.
    pub previous: &'a [(String, Vec<String>)],
}

/// What a run computed, in graph terms, besides the stored results.
#[derive(Debug)]
pub struct Analysis {
    pub control: ControlAnalysis,
    pub evidence: EvidenceGraph,
    pub embeddings: Embeddings,
    pub groups: Vec<Group>,
    pub results: AnalysisResults,
}

/// Errors of an analysis run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("embedding failed: {0}")]
    Embedding(#[from] crate::embed::EmbedError),
}

/// Runs every stage. `stage` is called with each stage's name before it starts (for progress).
pub fn run(
    g: &PropertyGraph,
    input: &AnalysisInput<'_>,
    cfg: &AnalysisConfig,
    stage: &mut dyn FnMut(&str),
) -> Result<Analysis, AnalysisError> {
    let mut timings = Vec::new();
    let timed = |name: &str, timings: &mut Vec<StageTiming>, started: Instant| {
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(stage = name, seconds, "stage done");
        timings.push(StageTiming {
            stage: name.to_owned(),
            seconds,
        });
    };

    stage("control");
    let t = Instant::now();
    let control = ControlAnalysis::compute(g, &cfg.control);
    let facts = control_facts(g, &control);
    timed("control", &mut timings, t);

    stage("behaviour");
    let t = Instant::now();
    let report = behaviour::detect(input.trades, &cfg.behaviour);
    let sync: Vec<SyncFact> = report
        .sync
        .pairs
        .into_iter()
        .map(|p| SyncFact {
            a: p.a,
            b: p.b,
            co_events: p.co_events,
            expected: p.expected,
            significance: p.significance,
            threshold: report.sync.threshold,
            examples: p.examples,
        })
        .collect();
    let matched: Vec<MatchedFact> = report
        .matched
        .pairs
        .into_iter()
        .map(|p| MatchedFact {
            a: p.a,
            b: p.b,
            trades: p.trades,
            volume: p.volume,
            expected: p.expected,
            significance: p.significance,
            threshold: report.matched.threshold,
            round_trips: p.round_trips,
            examples: p.examples,
        })
        .collect();
    let mut flows = identical_amount_flows(input.transfers, &cfg.flows);
    let identical = flows.len();
    flows.extend(similar_amount_fans(input.transfers, &cfg.flows));
    tracing::info!(
        identical,
        fans = flows.len() - identical,
        "fund-flow patterns"
    );
    timed("behaviour", &mut timings, t);

    stage("evidence");
    let t = Instant::now();
    let evidence = collect_links(
        g,
        &facts,
        input.transfers,
        &flows,
        &sync,
        &matched,
        &cfg.evidence,
    );
    timed("evidence", &mut timings, t);

    stage("embeddings");
    let t = Instant::now();
    let embeddings = fast_rp(g, &cfg.embedding)?;
    timed("embeddings", &mut timings, t);

    stage("groups");
    let t = Instant::now();
    let groups = assemble(g, &evidence, Some(&embeddings), &cfg.groups);
    timed("groups", &mut timings, t);

    stage("results");
    let t = Instant::now();
    let mut results = to_results(g, &evidence, &groups, input);
    timed("results", &mut timings, t);
    results.timings = timings;
    Ok(Analysis {
        control,
        evidence,
        embeddings,
        groups,
        results,
    })
}

/// The control links that make one party the controller of a holder, as evidence facts.
fn control_facts(g: &PropertyGraph, control: &ControlAnalysis) -> Vec<ControlFact> {
    control
        .links()
        .iter()
        .filter(|l| l.basis.is_control())
        .map(|l| {
            let (basis, criterion) = match l.basis {
                ControlBasis::GeneralPartner => ("general partner", Criterion::C3),
                ControlBasis::Manages => ("manager of the product", Criterion::C7),
                _ => ("majority control", Criterion::C1),
            };
            ControlFact {
                controller: l.controller,
                holder: l.controlled,
                basis: format!("{basis} ({:.1}%)", l.pct_min),
                criterion,
                path: control
                    .proof_paths(g, l)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| l.via.clone()),
            }
        })
        .collect()
}

/// Converts groups to stored records: dataset ids, stable group ids, report status, wash trades.
fn to_results(
    g: &PropertyGraph,
    ev: &EvidenceGraph,
    groups: &[Group],
    input: &AnalysisInput<'_>,
) -> AnalysisResults {
    let trade_id = |i: u32| {
        input
            .trade_ids
            .get(i as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{i}"))
    };
    let account_sets: Vec<Vec<String>> = groups
        .iter()
        .map(|gr| {
            let mut ids: Vec<String> = gr.accounts.iter().map(|a| g.key(*a).to_owned()).collect();
            ids.sort();
            ids
        })
        .collect();
    let ids = stable_ids(&account_sets, input.previous);

    let mut reported: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut reported_of: AHashMap<String, Vec<&str>> = AHashMap::new();
    for (gid, acc) in input.reported {
        reported.entry(gid).or_default().insert(acc);
        reported_of.entry(acc.clone()).or_default().push(gid);
    }

    // Wash trades: both sides in one group.
    let mut group_of: AHashMap<NodeId, usize> = AHashMap::new();
    for (i, gr) in groups.iter().enumerate() {
        for a in &gr.accounts {
            group_of.insert(*a, i);
        }
    }
    let wash = behaviour::wash_trades(input.trades, &|a| group_of.get(&a).map(|g| *g as u32));
    let wash_trades = wash
        .into_iter()
        .map(|w| WashRecord {
            group_id: ids[w.group as usize].clone(),
            trades: w.trades,
            volume: w.volume,
            first_ts: w.first_ts,
            last_ts: w.last_ts,
            trade_ids: w.trade_ids.iter().map(|i| trade_id(*i)).collect(),
        })
        .collect();

    let mut records: Vec<GroupRecord> = groups
        .iter()
        .zip(account_sets)
        .zip(&ids)
        .map(|((gr, accounts), id)| {
            let (status, reported_group, missing) =
                compare_with_reported(&accounts, &reported_of, &reported);
            GroupRecord {
                id: id.clone(),
                controller_id: gr.controller.map(|c| g.key(c).to_owned()),
                controller_basis: gr.controller_basis.clone(),
                score: gr.score,
                contributions: gr
                    .contributions
                    .iter()
                    .map(|(k, w)| (k.as_str().to_owned(), *w))
                    .collect(),
                criteria: gr.criteria.iter().map(|c| c.to_string()).collect(),
                status: status.as_str().to_owned(),
                reported_group,
                missing_from_report: missing,
                joined_by_embedding: gr
                    .joined_by_embedding
                    .iter()
                    .map(|a| g.key(*a).to_owned())
                    .collect(),
                links: gr
                    .links
                    .iter()
                    .map(|i| link_record(g, &ev.links[*i], &trade_id))
                    .collect(),
                accounts,
            }
        })
        .collect();
    records.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    let ident = |n: NodeId| {
        let kind = match g.node(n) {
            graph_core::NodeData::Identifier { kind } => kind.as_str(),
            _ => "?",
        };
        format!("{kind}:{}", g.key(n))
    };
    AnalysisResults {
        created_at: String::new(),
        groups: records,
        wash_trades,
        hubs: ev.hubs.iter().map(|(n, c)| (ident(*n), *c)).collect(),
        placeholders: ev
            .placeholders
            .iter()
            .map(|(n, c)| (ident(*n), *c))
            .collect(),
        timings: Vec::new(),
        accounts: g.nodes_of_kind(graph_core::NodeKind::Account).count() as u64,
        links: ev.links.len() as u64,
    }
}
