//! One analysis run: control, trading behaviour, evidence links, embeddings and groups, each
//! stage timed, with the results converted to dataset ids for storage.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use ahash::AHashMap;
use graph_core::{NodeId, PropertyGraph};

use crate::behaviour::{self, TradeEvent, group_bursts};
use crate::control::{ControlAnalysis, ControlConfig};
use crate::embed::{Embeddings, FastRpConfig, fast_rp};
use crate::evidence::{
    ControlFact, EvidenceConfig, EvidenceGraph, Findings, MatchedFact, SyncFact, collect_links,
};
use crate::flows::{
    FlowConfig, TransferEvent, group_flows, identical_amount_flows, similar_amount_fans,
};
use crate::groups::{Group, GroupConfig, assemble, compare_with_reported, stable_ids};
use crate::resolution;
use crate::results::{
    AnalysisResults, CandidateRecord, GroupRecord, ResolvedRecord, StageTiming, WashRecord,
    link_record,
};

/// Every setting of an analysis run. Plain data: it reads from and writes to TOML or JSON, and
/// every field has its default, so a settings file names only what it changes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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
    /// The graph with the records of one subject contracted onto one node, when resolution
    /// joined any: the graph every other field's node and edge ids refer to (node ids are the
    /// input's; edge ids are not).
    pub resolved_graph: Option<PropertyGraph>,
    pub control: ControlAnalysis,
    pub evidence: EvidenceGraph,
    pub embeddings: Embeddings,
    pub groups: Vec<Group>,
    pub results: AnalysisResults,
}

impl Analysis {
    /// The graph the analysis's ids refer to: the resolved graph, else `input` (the graph
    /// [`run`] was given).
    pub fn graph<'a>(&'a self, input: &'a PropertyGraph) -> &'a PropertyGraph {
        self.resolved_graph.as_ref().unwrap_or(input)
    }
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

    stage("resolution");
    let t = Instant::now();
    let resolution = resolution::resolve(g);
    let merged = resolution.merged();
    tracing::info!(merged, "records joined to another record of their subject");
    let input_graph = g;
    let contracted = (merged > 0).then(|| g.contracted(&resolution.rep));
    let g = contracted.as_ref().unwrap_or(input_graph);
    timed("resolution", &mut timings, t);

    stage("control");
    let t = Instant::now();
    let control = ControlAnalysis::compute(g, &cfg.control);
    let facts = control_facts(g, &control);
    timed("control", &mut timings, t);

    stage("behaviour");
    let t = Instant::now();
    // What the registry, the accounts' agents and their contact details and terminals already
    // tie together: a crowd of such accounts trading at one moment is a group's, not the
    // market's, and does not explain their meeting (see `behaviour`).
    let known = {
        let without_trading = collect_links(
            g,
            &facts,
            input.transfers,
            &Findings::default(),
            &cfg.evidence,
        );
        let mut known: behaviour::Known = AHashMap::new();
        for l in &without_trading.links {
            known.entry(l.a).or_default().insert(l.b);
            known.entry(l.b).or_default().insert(l.a);
        }
        known
    };
    let report = behaviour::detect_knowing(input.trades, &cfg.behaviour, Some(&known));
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
        &Findings {
            flows: &flows,
            sync: &sync,
            matched: &matched,
            ..Findings::default()
        },
        &cfg.evidence,
    );
    timed("evidence", &mut timings, t);

    stage("embeddings");
    let t = Instant::now();
    let embeddings = fast_rp(g, &cfg.embedding)?;
    timed("embeddings", &mut timings, t);

    stage("groups");
    let t = Instant::now();
    let mut groups = assemble(g, &evidence, Some(&embeddings), &cfg.groups).groups;
    timed("groups", &mut timings, t);

    let mut evidence = evidence;
    let (mut sync, mut matched) = (sync, matched);
    if !groups.is_empty() && !input.trades.is_empty() {
        stage("group behaviour");
        let t = Instant::now();
        let (more_sync, more_matched) = group_behaviour(
            g,
            &evidence,
            input.trades,
            &groups,
            &cfg.behaviour,
            &sync,
            &matched,
        );
        tracing::info!(
            sync = more_sync.len(),
            matched = more_matched.len(),
            "accounts trading with a group"
        );
        if !more_sync.is_empty() || !more_matched.is_empty() {
            sync.extend(more_sync);
            matched.extend(more_matched);
            evidence = collect_links(
                g,
                &facts,
                input.transfers,
                &Findings {
                    flows: &flows,
                    sync: &sync,
                    matched: &matched,
                    ..Findings::default()
                },
                &cfg.evidence,
            );
            groups = assemble(g, &evidence, Some(&embeddings), &cfg.groups).groups;
        }
        timed("group behaviour", &mut timings, t);
    }
    let mut bursts = Vec::new();
    if !groups.is_empty() && !input.trades.is_empty() {
        stage("group bursts");
        let t = Instant::now();
        bursts = group_bursts(input.trades, &group_index(&groups), &cfg.behaviour.bursts);
        tracing::info!(
            accounts = bursts.len(),
            "accounts trading in a group's bursts"
        );
        if !bursts.is_empty() {
            evidence = collect_links(
                g,
                &facts,
                input.transfers,
                &Findings {
                    flows: &flows,
                    group_bursts: &bursts,
                    sync: &sync,
                    matched: &matched,
                    ..Findings::default()
                },
                &cfg.evidence,
            );
            groups = assemble(g, &evidence, Some(&embeddings), &cfg.groups).groups;
        }
        timed("group bursts", &mut timings, t);
    }
    if !groups.is_empty() && !input.transfers.is_empty() {
        stage("group flows");
        let t = Instant::now();
        let found = group_flows(input.transfers, &group_index(&groups));
        tracing::info!(
            accounts = found.len(),
            "accounts whose money moves within one group"
        );
        if !found.is_empty() {
            evidence = collect_links(
                g,
                &facts,
                input.transfers,
                &Findings {
                    flows: &flows,
                    group_flows: &found,
                    group_bursts: &bursts,
                    sync: &sync,
                    matched: &matched,
                },
                &cfg.evidence,
            );
            groups = assemble(g, &evidence, Some(&embeddings), &cfg.groups).groups;
        }
        timed("group flows", &mut timings, t);
    }

    stage("results");
    let t = Instant::now();
    let mut results = to_results(g, &evidence, &groups, input);
    results.resolved = resolution
        .matches
        .iter()
        .map(|m| ResolvedRecord {
            record: g.key(m.record).to_owned(),
            subject: g.key(resolution.rep[m.record.index()]).to_owned(),
            with: g.key(m.with).to_owned(),
            reason: m.reason.as_str().to_owned(),
        })
        .collect();
    timed("results", &mut timings, t);
    results.timings = timings;
    Ok(Analysis {
        resolved_graph: contracted,
        control,
        evidence,
        embeddings,
        groups,
        results,
    })
}

/// Each group's accounts, mapped to the group's index.
fn group_index(groups: &[Group]) -> AHashMap<NodeId, u32> {
    groups
        .iter()
        .enumerate()
        .flat_map(|(gi, gr)| gr.accounts.iter().map(move |a| (*a, gi as u32)))
        .collect()
}

/// Trading between each group, its accounts taken as one, and the accounts in no group: the
/// question "does this account trade with that group" is asked once per group and account, not
/// once per pair of accounts, so a member with a few synchronised or matched trades spread over
/// several of the group's accounts stands out where no single pair does. Each finding becomes a
/// fact between the account and the group's account it traded with most, unless that pair
/// already has one.
fn group_behaviour(
    g: &PropertyGraph,
    evidence: &EvidenceGraph,
    trades: &[TradeEvent],
    groups: &[Group],
    cfg: &behaviour::BehaviourConfig,
    sync: &[SyncFact],
    matched: &[MatchedFact],
) -> (Vec<SyncFact>, Vec<MatchedFact>) {
    let base = g.node_count() as u32;
    let mut group_of: AHashMap<NodeId, u32> = AHashMap::new();
    for (gi, gr) in groups.iter().enumerate() {
        for a in &gr.accounts {
            group_of.insert(*a, gi as u32);
        }
    }
    let merged = |a: NodeId| group_of.get(&a).map_or(a, |gi| NodeId(base + gi));
    let relabelled: Vec<TradeEvent> = trades
        .iter()
        .map(|t| TradeEvent {
            buy: merged(t.buy),
            sell: merged(t.sell),
            ..*t
        })
        .collect();
    let focus: ahash::AHashSet<NodeId> = (0..groups.len() as u32)
        .map(|gi| NodeId(base + gi))
        .collect();
    // A group's crowd leaves out the accounts other evidence already ties to it (its studio's
    // accounts that share its terminals, an agent's other clients): they are not the anonymous
    // market whose crowd explains meeting at a moment, they are the question.
    let mut known: behaviour::Known = AHashMap::new();
    for l in &evidence.links {
        for (x, y) in [(l.a, l.b), (l.b, l.a)] {
            if let Some(gi) = group_of.get(&x) {
                let other = merged(y);
                if other != NodeId(base + gi) {
                    known.entry(NodeId(base + gi)).or_default().insert(other);
                }
            }
        }
    }
    let report = behaviour::detect_focused(&relabelled, cfg, &focus, Some(&known));
    let by_id: AHashMap<u32, &TradeEvent> = trades.iter().map(|t| (t.id, t)).collect();
    // The group's account on the group's side of these trades, the most frequent first.
    let member = |gi: u32, ids: &mut dyn Iterator<Item = u32>| -> Option<NodeId> {
        let mut count: BTreeMap<NodeId, u32> = BTreeMap::new();
        for id in ids {
            if let Some(t) = by_id.get(&id) {
                for side in [t.buy, t.sell] {
                    if group_of.get(&side) == Some(&gi) {
                        *count.entry(side).or_default() += 1;
                    }
                }
            }
        }
        count
            .into_iter()
            .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
            .map(|(a, _)| a)
    };
    let split = |a: NodeId, b: NodeId| -> Option<(u32, NodeId)> {
        match (a.0 >= base, b.0 >= base) {
            (true, false) if !group_of.contains_key(&b) => Some((a.0 - base, b)),
            (false, true) if !group_of.contains_key(&a) => Some((b.0 - base, a)),
            _ => None,
        }
    };
    let have_sync: BTreeSet<(NodeId, NodeId)> = sync.iter().map(|f| (f.a, f.b)).collect();
    let have_matched: BTreeSet<(NodeId, NodeId)> = matched.iter().map(|f| (f.a, f.b)).collect();
    let mut more_sync = Vec::new();
    // A side of a pair: a group's member that traded the examples most, or an account in no
    // group. Two groups trading in step are linked too: one group's pieces that the registry
    // does not connect (a studio's terminals) come together on their trading.
    let side = |n: NodeId, trades: &mut dyn Iterator<Item = u32>| -> Option<NodeId> {
        if n.0 >= base {
            member(n.0 - base, trades)
        } else if group_of.contains_key(&n) {
            None
        } else {
            Some(n)
        }
    };
    for p in report.sync.pairs {
        if p.a.0 < base && p.b.0 < base {
            continue;
        }
        let Some(x) = side(p.a, &mut p.examples.iter().map(|e| e.0)) else {
            continue;
        };
        let Some(y) = side(p.b, &mut p.examples.iter().map(|e| e.1)) else {
            continue;
        };
        let (a, b) = if x < y { (x, y) } else { (y, x) };
        if a == b || have_sync.contains(&(a, b)) {
            continue;
        }
        // Examples as (trade of a, trade of b).
        let examples = p
            .examples
            .iter()
            .map(|&(ta, tb)| if a == x { (ta, tb) } else { (tb, ta) })
            .collect();
        more_sync.push(SyncFact {
            a,
            b,
            co_events: p.co_events,
            expected: p.expected,
            significance: p.significance,
            threshold: report.sync.threshold,
            examples,
        });
    }
    let mut more_matched = Vec::new();
    for p in report.matched.pairs {
        let Some((gi, x)) = split(p.a, p.b) else {
            continue;
        };
        let Some(y) = member(gi, &mut p.examples.iter().copied()) else {
            continue;
        };
        let (a, b) = if x < y { (x, y) } else { (y, x) };
        if have_matched.contains(&(a, b)) {
            continue;
        }
        more_matched.push(MatchedFact {
            a,
            b,
            trades: p.trades,
            volume: p.volume,
            expected: p.expected,
            significance: p.significance,
            threshold: report.matched.threshold,
            round_trips: p.round_trips,
            examples: p.examples,
        });
    }
    (more_sync, more_matched)
}

/// The control links that make one party the controller of a holder, as evidence facts.
fn control_facts(g: &PropertyGraph, control: &ControlAnalysis) -> Vec<ControlFact> {
    control
        .links()
        .iter()
        .filter(|l| l.basis.is_control())
        .map(|l| ControlFact::new(control.claim(g, l)))
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
                membership: accounts
                    .iter()
                    .map(|id| {
                        let pos = gr.accounts.iter().position(|a| g.key(*a) == id);
                        pos.map_or(0.0, |p| gr.membership[p])
                    })
                    .collect(),
                candidates: gr
                    .candidates
                    .iter()
                    .map(|c| CandidateRecord {
                        account: g.key(c.account).to_owned(),
                        score: c.score,
                        links: c
                            .links
                            .iter()
                            .map(|i| link_record(g, &ev.links[*i], &trade_id))
                            .collect(),
                    })
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
        resolved: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph_core::GraphBuilder;
    use graph_core::model::{
        Account, AccountType, Entity, Extra, Officer, OfficerRole, Person, Record,
    };

    fn sourced(source: &str) -> Extra {
        let mut extra = Extra::new();
        extra.insert("source".into(), source.into());
        extra
    }

    /// A legal representative (registry) holds one account; her company holds the other, but the
    /// account's holder is the member's client record of the company, not the registry's.
    fn officer_and_client_record(client_uscc: Option<&str>) -> PropertyGraph {
        let entity = |id: &str, uscc: Option<&str>, source: &str| {
            Record::Entity(Entity {
                entity_id: id.into(),
                name: Some("珠海锦合商贸有限公司".into()),
                uscc: uscc.map(Into::into),
                kind: None,
                registered_capital: None,
                established: None,
                status: None,
                extra: sourced(source),
            })
        };
        let account = |id: &str, holder: &str| {
            Record::Account(Account {
                account_id: id.into(),
                holder_id: holder.into(),
                member_id: None,
                account_type: Some(AccountType::Individual),
                open_date: None,
                status: None,
                extra: Extra::new(),
            })
        };
        let mut b = GraphBuilder::new();
        for r in [
            Record::Person(Person {
                person_id: "P1".into(),
                name: Some("蔡宇敏".into()),
                id_number: Some("350206198204234550".into()),
                extra: sourced("registry"),
            }),
            entity("R1", Some("914400006636P9J92A"), "registry"),
            // Another registry company of the same name keeps the name rule out of it.
            entity("R2", Some("914400006636P9J93B"), "registry"),
            entity("K1", client_uscc, "kyc:M8012"),
            Record::Officer(Officer {
                person_id: "P1".into(),
                entity_id: "R1".into(),
                role: OfficerRole::LegalRep,
                extra: Extra::new(),
            }),
            account("A1", "K1"),
            account("A2", "P1"),
        ] {
            b.add_record(&r);
        }
        b.finish()
    }

    fn grouped(g: &PropertyGraph) -> (Vec<Vec<String>>, Vec<ResolvedRecord>) {
        let input = AnalysisInput {
            trades: &[],
            trade_ids: &[],
            transfers: &[],
            reported: &[],
            previous: &[],
        };
        let a = run(g, &input, &AnalysisConfig::default(), &mut |_| {}).unwrap();
        let groups = a
            .results
            .groups
            .iter()
            .map(|gr| gr.accounts.clone())
            .collect();
        (groups, a.results.resolved)
    }

    #[test]
    fn control_reaches_the_accounts_of_a_client_record_of_the_same_company() {
        let (groups, resolved) = grouped(&officer_and_client_record(Some("914400006636P9J92A")));
        assert_eq!(groups, vec![vec!["A1".to_owned(), "A2".to_owned()]]);
        assert_eq!(
            resolved,
            vec![ResolvedRecord {
                record: "K1".into(),
                subject: "R1".into(),
                with: "R1".into(),
                reason: "same_uscc".into(),
            }]
        );
        // Without the code nothing says K1 is R1, and the legal representative reaches nothing.
        let (groups, resolved) = grouped(&officer_and_client_record(None));
        assert!(groups.is_empty(), "{groups:?}");
        assert!(resolved.is_empty());
    }
}
