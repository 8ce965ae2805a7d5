//! Suspected control groups: assembled from the evidence graph and the relationship embeddings,
//! scored member by member, explained, given stable ids and compared with the groups accounts
//! reported.
//!
//! Assembly has no size limit: a group of two hundred accounts under one controller comes out
//! whole. A component is cut only where its own evidence says it is two groups:
//!
//! 1. *Anchors*: accounts joined by hard ties (the same holder, a common controller, a spouse, the
//!    holder's legal representative, an order placer for a handful of accounts) whose weight is
//!    at least `link_threshold`.
//! 2. *Hub items*: a soft item (an agent across accounts, a shared identifier, a director, a
//!    family tie, one pair's transfers or trading) whose links reach two or more anchors of at
//!    least two accounts is a candidate hub. Links that need a candidate to reach the threshold
//!    join two anchors only when a second, independent item of at least `weak_threshold` joins
//!    the same two; a candidate whose anchors still end up apart is a hub between controllers
//!    and its signals are dropped. The rest of the links of at least `link_threshold` join.
//! 3. *Members ranked, not dropped*: every account with evidence towards a group gets an
//!    affinity, the noisy-OR over the group's items of the strongest signal each gives it (one
//!    item reaching many members counts once). Accounts outside groups join the group of their
//!    best affinity when it is at least `link_threshold`, or at least `weak_threshold` with
//!    embeddings close to the members they are linked to (cosine at least `attach_cosine`);
//!    below that, down to `candidate_threshold`, they are the group's candidate members,
//!    visible for triage but not in the group.

use std::collections::{BTreeMap, BTreeSet};

use ahash::{AHashMap, AHashSet};
use graph_core::{NodeId, PropertyGraph};
use serde::{Deserialize, Serialize};

use crate::cluster::{LouvainConfig, Quality, louvain};
use crate::components::UnionFind;
use crate::embed::Embeddings;
use crate::evidence::{Criterion, Evidence, EvidenceGraph, ItemKey, Signal, SignalKind};

/// Assembly settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupConfig {
    /// The operating point: a link, or a member's affinity, of at least this joins.
    pub link_threshold: f32,
    /// A second item joining two anchors, or an affinity confirmed by the embeddings.
    pub weak_threshold: f32,
    pub attach_cosine: f32,
    /// Accounts with an affinity of at least this (and below the operating point) are listed
    /// as candidate members.
    pub candidate_threshold: f32,
    /// Rounds of attaching accounts to groups (an attached account can bring its own ties).
    pub attach_rounds: usize,
    /// The link density a part of a component joined by pairwise evidence alone needs to stay
    /// whole (constant Potts model resolution).
    pub pair_resolution: f64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            link_threshold: 0.5,
            weak_threshold: 0.25,
            attach_cosine: 0.9,
            candidate_threshold: 0.15,
            attach_rounds: 4,
            pair_resolution: 0.5,
        }
    }
}

/// An account with evidence towards a group that is below the operating point.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub account: NodeId,
    /// Its affinity to the group.
    pub score: f32,
    /// Indices into the evidence graph's links from it to the group's accounts.
    pub links: Vec<usize>,
}

/// A suspected group, in graph terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub accounts: Vec<NodeId>,
    /// Each account's affinity to the rest of the group, aligned with `accounts`.
    pub membership: Vec<f32>,
    /// Indices into the evidence graph's links joining two accounts of the group.
    pub links: Vec<usize>,
    pub score: f32,
    /// Each signal family's share of the score (they add up to the score).
    pub contributions: Vec<(SignalKind, f32)>,
    pub criteria: BTreeSet<Criterion>,
    pub controller: Option<NodeId>,
    pub controller_basis: String,
    /// Accounts that joined through a weak affinity confirmed by embedding similarity.
    pub joined_by_embedding: Vec<NodeId>,
    /// Accounts below the operating point, best first.
    pub candidates: Vec<Candidate>,
}

/// The groups and the parties found to join unrelated controllers.
#[derive(Debug, Clone, Default)]
pub struct Assembly {
    pub groups: Vec<Group>,
    /// Items whose links were dropped because they join controllers nothing else joins, with
    /// how many anchors they reach.
    pub hubs: Vec<(ItemKey, usize)>,
}

/// Combines independent weights.
fn noisy_or(ws: impl IntoIterator<Item = f32>) -> f32 {
    1.0 - ws
        .into_iter()
        .map(|w| 1.0 - w.clamp(0.0, 1.0))
        .product::<f32>()
}

/// Assembles the groups.
pub fn assemble(
    g: &PropertyGraph,
    ev: &EvidenceGraph,
    emb: Option<&Embeddings>,
    cfg: &GroupConfig,
) -> Assembly {
    let n = g.node_count();
    let tau = cfg.link_threshold;
    let fws = ev.full_weight_spread;
    let strong: Vec<usize> = (0..ev.links.len())
        .filter(|&i| ev.links[i].weight >= tau)
        .collect();

    // 1. Anchors.
    let mut anchors = UnionFind::new(n);
    for &i in &strong {
        let l = &ev.links[i];
        let hard = noisy_or(
            l.signals
                .iter()
                .filter(|s| s.is_hard(fws))
                .map(|s| s.weight),
        );
        if hard >= tau {
            anchors.union(l.a.0, l.b.0);
        }
    }
    let mut touched: BTreeSet<NodeId> = BTreeSet::new();
    for &i in &strong {
        touched.insert(ev.links[i].a);
        touched.insert(ev.links[i].b);
    }
    let mut anchor_size: AHashMap<u32, u32> = AHashMap::new();
    for a in &touched {
        *anchor_size.entry(anchors.find(a.0)).or_default() += 1;
    }
    let anchored = |r: u32| anchor_size.get(&r).copied().unwrap_or(1) >= 2;

    // 2. Soft items reaching two or more anchors.
    let mut reach: BTreeMap<ItemKey, BTreeSet<u32>> = BTreeMap::new();
    for &i in &strong {
        let l = &ev.links[i];
        let (ra, rb) = (anchors.find(l.a.0), anchors.find(l.b.0));
        if ra == rb {
            continue;
        }
        for s in l.signals.iter().filter(|s| !s.is_hard(fws)) {
            let r = reach.entry(s.item(l.a, l.b)).or_default();
            for x in [ra, rb] {
                if anchored(x) {
                    r.insert(x);
                }
            }
        }
    }
    let mut hubs: BTreeSet<ItemKey> = reach
        .iter()
        .filter(|(_, r)| r.len() >= 2)
        .map(|(k, _)| *k)
        .collect();

    // 3. Join; candidates whose anchors end up together are cleared, until nothing changes.
    let mut uf;
    loop {
        uf = anchors.clone();
        let mut between: BTreeMap<(u32, u32), BTreeMap<ItemKey, f32>> = BTreeMap::new();
        for &i in &strong {
            let l = &ev.links[i];
            let (ra, rb) = (anchors.find(l.a.0), anchors.find(l.b.0));
            if ra == rb {
                continue;
            }
            let free = noisy_or(
                l.signals
                    .iter()
                    .filter(|s| !hubs.contains(&s.item(l.a, l.b)))
                    .map(|s| s.weight),
            );
            if free >= tau {
                uf.union(l.a.0, l.b.0);
            } else if anchored(ra) && anchored(rb) {
                let items = between.entry((ra.min(rb), ra.max(rb))).or_default();
                for s in &l.signals {
                    let w = items.entry(s.item(l.a, l.b)).or_insert(0.0);
                    *w = w.max(s.weight);
                }
            }
        }
        for ((ra, rb), items) in &between {
            let mut ws: Vec<f32> = items.values().copied().collect();
            ws.sort_by(|x, y| y.total_cmp(x));
            if noisy_or(ws.into_iter().skip(1)) >= cfg.weak_threshold {
                uf.union(*ra, *rb);
            }
        }
        let cleared: Vec<ItemKey> = hubs
            .iter()
            .filter(|k| {
                let roots: BTreeSet<u32> = reach[*k].iter().map(|r| uf.find(*r)).collect();
                roots.len() == 1
            })
            .copied()
            .collect();
        if cleared.is_empty() {
            break;
        }
        for k in cleared {
            hubs.remove(&k);
        }
    }
    let hub_list: Vec<(ItemKey, usize)> = hubs.iter().map(|k| (*k, reach[k].len())).collect();
    tracing::info!(
        strong = strong.len(),
        anchored = anchor_size.values().filter(|s| **s >= 2).count(),
        hubs = hub_list.len(),
        "links assembled"
    );

    // Core groups.
    let mut by_root: BTreeMap<u32, Vec<NodeId>> = BTreeMap::new();
    for a in &touched {
        by_root.entry(uf.find(a.0)).or_default().push(*a);
    }
    // A component that only pair-by-pair evidence holds together (transfers, trading between
    // two accounts, a flow structure) has no party, holder or value in common: a chain of such
    // ties between two rings is a weak bridge between dense parts, so it is cut where the ties
    // are thinner than `pair_resolution` (the constant Potts model, which does not depend on the
    // component's size). A component with one shared item among its joins is never cut so.
    let mut shared_join: AHashSet<u32> = AHashSet::new();
    let mut links_in: AHashMap<u32, Vec<usize>> = AHashMap::new();
    for &i in &strong {
        let l = &ev.links[i];
        let r = uf.find(l.a.0);
        if r != uf.find(l.b.0) {
            continue;
        }
        links_in.entry(r).or_default().push(i);
        let shared = noisy_or(
            l.signals
                .iter()
                .filter(|s| {
                    let k = s.item(l.a, l.b);
                    !hubs.contains(&k) && !matches!(k, ItemKey::Pair(..) | ItemKey::Flow(_))
                })
                .map(|s| s.weight),
        );
        if shared >= tau {
            shared_join.insert(r);
        }
    }
    let mut parts: Vec<Vec<NodeId>> = Vec::new();
    for (root, members) in by_root {
        if members.len() > 2 && !shared_join.contains(&root) {
            parts.extend(split_pairwise(
                ev,
                &members,
                links_in.get(&root).map_or(&[][..], Vec::as_slice),
                cfg,
            ));
        } else {
            parts.push(members);
        }
    }
    let mut group_of: AHashMap<NodeId, usize> = AHashMap::new();
    let mut sets: Vec<Vec<NodeId>> = Vec::new();
    for members in parts {
        if members.len() >= 2 {
            for a in &members {
                group_of.insert(*a, sets.len());
            }
            sets.push(members);
        }
    }

    // Each account's links, hub signals left out.
    let mut adjacency: AHashMap<NodeId, Vec<usize>> = AHashMap::new();
    for (i, l) in ev.links.iter().enumerate() {
        adjacency.entry(l.a).or_default().push(i);
        adjacency.entry(l.b).or_default().push(i);
    }
    let counts = |s: &Signal, l: &crate::evidence::Link| !hubs.contains(&s.item(l.a, l.b));
    // The affinity of `x` to each group it has links to: (group, affinity, links).
    let affinities = |x: NodeId, group_of: &AHashMap<NodeId, usize>| {
        let mut items: BTreeMap<usize, (AHashMap<ItemKey, f32>, Vec<usize>)> = BTreeMap::new();
        for &i in adjacency.get(&x).into_iter().flatten() {
            let l = &ev.links[i];
            let y = if l.a == x { l.b } else { l.a };
            let Some(&gy) = group_of.get(&y) else {
                continue;
            };
            let e = items.entry(gy).or_default();
            e.1.push(i);
            for s in l.signals.iter().filter(|s| counts(s, l)) {
                let w = e.0.entry(s.item(l.a, l.b)).or_insert(0.0);
                *w = w.max(s.weight);
            }
        }
        items
            .into_iter()
            .map(|(gi, (ws, links))| (gi, noisy_or(ws.into_values()), links))
            .collect::<Vec<_>>()
    };

    // Attach accounts outside groups.
    let mut by_embedding: AHashSet<NodeId> = AHashSet::new();
    for _ in 0..cfg.attach_rounds {
        let mut outside: BTreeSet<NodeId> = BTreeSet::new();
        for set in &sets {
            for a in set {
                for &i in adjacency.get(a).into_iter().flatten() {
                    let l = &ev.links[i];
                    for x in [l.a, l.b] {
                        if !group_of.contains_key(&x) {
                            outside.insert(x);
                        }
                    }
                }
            }
        }
        let mut joins: Vec<(NodeId, usize, bool)> = Vec::new();
        for &x in &outside {
            let best = affinities(x, &group_of)
                .into_iter()
                .max_by(|p, q| p.1.total_cmp(&q.1).then(q.0.cmp(&p.0)));
            let Some((gi, aff, links)) = best else {
                continue;
            };
            if aff >= tau {
                joins.push((x, gi, false));
            } else if aff >= cfg.weak_threshold
                && emb.is_some_and(|e| {
                    links.iter().any(|&i| {
                        let l = &ev.links[i];
                        e.cosine(l.a, l.b).is_some_and(|c| c >= cfg.attach_cosine)
                    })
                })
            {
                joins.push((x, gi, true));
            }
        }
        if joins.is_empty() {
            break;
        }
        for (x, gi, embedded) in joins {
            group_of.insert(x, gi);
            sets[gi].push(x);
            if embedded {
                by_embedding.insert(x);
            }
        }
    }
    for s in &mut sets {
        s.sort_unstable();
    }

    // Membership and candidates.
    let mut membership: Vec<Vec<f32>> = sets.iter().map(|s| vec![0.0; s.len()]).collect();
    let mut candidates: Vec<Vec<Candidate>> = vec![Vec::new(); sets.len()];
    let mut scored: BTreeSet<NodeId> = BTreeSet::new();
    for s in &sets {
        for a in s {
            for &i in adjacency.get(a).into_iter().flatten() {
                scored.insert(ev.links[i].a);
                scored.insert(ev.links[i].b);
            }
        }
    }
    for &x in &scored {
        let mine = group_of.get(&x).copied();
        for (gi, aff, links) in affinities(x, &group_of) {
            if Some(gi) == mine {
                let pos = sets[gi].binary_search(&x).expect("member of its group");
                membership[gi][pos] = aff;
            } else if aff >= cfg.candidate_threshold && (mine.is_none() || aff < tau) {
                candidates[gi].push(Candidate {
                    account: x,
                    score: aff,
                    links,
                });
            }
        }
    }

    let mut links_of: Vec<Vec<usize>> = vec![Vec::new(); sets.len()];
    for (i, l) in ev.links.iter().enumerate() {
        if l.weight < cfg.weak_threshold {
            continue;
        }
        if let (Some(ga), Some(gb)) = (group_of.get(&l.a), group_of.get(&l.b))
            && ga == gb
        {
            links_of[*ga].push(i);
        }
    }
    let groups = sets
        .into_iter()
        .zip(membership)
        .zip(links_of)
        .zip(candidates)
        .map(|(((accounts, membership), links), mut candidates)| {
            candidates.sort_by(|p, q| q.score.total_cmp(&p.score).then(p.account.cmp(&q.account)));
            explain(
                g,
                ev,
                Members {
                    accounts,
                    membership,
                    links,
                    candidates,
                },
                &by_embedding,
                &hubs,
            )
        })
        .collect();
    Assembly {
        groups,
        hubs: hub_list,
    }
}

/// Cuts a component joined by pairwise evidence alone into constant-Potts-model communities of
/// its links.
fn split_pairwise(
    ev: &EvidenceGraph,
    members: &[NodeId],
    links: &[usize],
    cfg: &GroupConfig,
) -> Vec<Vec<NodeId>> {
    let index: AHashMap<NodeId, u32> = members
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i as u32))
        .collect();
    let edges: Vec<(u32, u32, f64)> = links
        .iter()
        .map(|&i| {
            let l = &ev.links[i];
            (index[&l.a], index[&l.b], f64::from(l.weight))
        })
        .collect();
    let community = louvain(
        members.len(),
        &edges,
        &LouvainConfig {
            seed: 7,
            quality: Quality::Cpm,
            resolution: cfg.pair_resolution,
            ..LouvainConfig::default()
        },
    );
    let mut out: BTreeMap<u32, Vec<NodeId>> = BTreeMap::new();
    for (i, c) in community.iter().enumerate() {
        out.entry(*c).or_default().push(members[i]);
    }
    out.into_values().collect()
}

/// A group's members before it is explained.
struct Members {
    accounts: Vec<NodeId>,
    membership: Vec<f32>,
    links: Vec<usize>,
    candidates: Vec<Candidate>,
}

/// Scores a group and names its controller.
fn explain(
    g: &PropertyGraph,
    ev: &EvidenceGraph,
    members: Members,
    by_embedding: &AHashSet<NodeId>,
    hubs: &BTreeSet<ItemKey>,
) -> Group {
    let Members {
        accounts,
        membership,
        links,
        candidates,
    } = members;
    // The score is the members' mean affinity, so one barely attached account lowers the score
    // of the whole.
    let mut by_kind: BTreeMap<SignalKind, f32> = BTreeMap::new();
    let mut criteria = BTreeSet::new();
    let mut votes: BTreeMap<NodeId, (BTreeSet<NodeId>, f32, &'static str)> = BTreeMap::new();
    for &i in &links {
        let l = &ev.links[i];
        for s in l
            .signals
            .iter()
            .filter(|s| !hubs.contains(&s.item(l.a, l.b)))
        {
            *by_kind.entry(s.kind).or_default() += s.weight;
            criteria.insert(s.criterion);
            let party = match &s.evidence {
                Evidence::Control { controller, .. } => Some((*controller, "ultimate controller")),
                Evidence::Authorised { person, .. } => {
                    Some((*person, "authorised on the accounts"))
                }
                Evidence::Officer { person, .. } => Some((*person, "officer of the holders")),
                Evidence::SameHolder { holder } => Some((*holder, "holder of the accounts")),
                _ => None,
            };
            if let Some((p, basis)) = party {
                let v = votes.entry(p).or_insert((BTreeSet::new(), 0.0, basis));
                v.0.insert(l.a);
                v.0.insert(l.b);
                v.1 += s.weight;
            }
        }
    }
    let score = membership.iter().sum::<f32>() / accounts.len().max(1) as f32;
    let total: f32 = by_kind.values().sum();
    let contributions = by_kind
        .into_iter()
        .map(|(k, w)| (k, if total > 0.0 { score * w / total } else { 0.0 }))
        .collect();
    // The party reaching the most accounts; between parties reaching as many, control over
    // an officer (the owner of 60% of every holder, not the legal representative the owner
    // appointed), then the weight of their evidence.
    let rank = |basis: &str| match basis {
        "ultimate controller" => 3,
        "holder of the accounts" => 2,
        "authorised on the accounts" => 1,
        _ => 0,
    };
    let named = votes
        .into_iter()
        .max_by(|a, b| {
            (a.1.0.len(), rank(a.1.2))
                .cmp(&(b.1.0.len(), rank(b.1.2)))
                .then(a.1.1.total_cmp(&b.1.1))
                .then(b.0.cmp(&a.0))
        })
        .map(|(p, (_, _, basis))| (p, basis.to_owned()));
    let (controller, controller_basis) = match named {
        Some((p, b)) => (Some(p), b),
        None => {
            // No party named by the evidence: the holder of the best-connected account.
            let mut degree: AHashMap<NodeId, f32> = AHashMap::new();
            for &i in &links {
                let l = &ev.links[i];
                *degree.entry(l.a).or_default() += l.weight;
                *degree.entry(l.b).or_default() += l.weight;
            }
            let top = accounts.iter().copied().max_by(|a, b| {
                degree
                    .get(a)
                    .partial_cmp(&degree.get(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.cmp(a))
            });
            (
                top.and_then(|a| g.holder(a)),
                "holder of the best-connected account".to_owned(),
            )
        }
    };
    let joined_by_embedding = accounts
        .iter()
        .copied()
        .filter(|a| by_embedding.contains(a))
        .collect();
    Group {
        accounts,
        membership,
        links,
        score,
        contributions,
        criteria,
        controller,
        controller_basis,
        joined_by_embedding,
        candidates,
    }
}

/// How a detected group compares with the groups its accounts reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportStatus {
    /// One reported group holds all the group's accounts.
    Reported,
    /// Some accounts were reported together, others are missing from the report.
    PartiallyReported,
    /// No two accounts of the group were reported together.
    Unreported,
}

impl ReportStatus {
    /// A snake_case name for reports and the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportStatus::Reported => "reported",
            ReportStatus::PartiallyReported => "partially_reported",
            ReportStatus::Unreported => "unreported",
        }
    }
}

/// Compares a detected group (account ids) with reported groups (id to account ids). Returns the
/// status, the best-matching reported group and the accounts that report misses.
pub fn compare_with_reported<'r>(
    accounts: &[String],
    reported_of: &AHashMap<String, Vec<&'r str>>,
    reported: &BTreeMap<&'r str, BTreeSet<&'r str>>,
) -> (ReportStatus, Option<String>, Vec<String>) {
    let mut overlap: BTreeMap<&str, usize> = BTreeMap::new();
    for a in accounts {
        for r in reported_of.get(a).into_iter().flatten() {
            *overlap.entry(r).or_default() += 1;
        }
    }
    let Some((best, n)) = overlap
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
    else {
        return (ReportStatus::Unreported, None, accounts.to_vec());
    };
    if n < 2 {
        return (ReportStatus::Unreported, None, accounts.to_vec());
    }
    let members = &reported[best];
    let missing: Vec<String> = accounts
        .iter()
        .filter(|a| !members.contains(a.as_str()))
        .cloned()
        .collect();
    let status = if missing.is_empty() {
        ReportStatus::Reported
    } else {
        ReportStatus::PartiallyReported
    };
    (status, Some(best.to_owned()), missing)
}

/// Gives each group a stable id: the id of the previous group it overlaps most (Jaccard at least
/// 0.5, each previous id used once), or else `G-` and its smallest account id.
pub fn stable_ids(groups: &[Vec<String>], previous: &[(String, Vec<String>)]) -> Vec<String> {
    let prev_sets: Vec<BTreeSet<&str>> = previous
        .iter()
        .map(|(_, a)| a.iter().map(String::as_str).collect())
        .collect();
    let mut by_account: AHashMap<&str, Vec<usize>> = AHashMap::new();
    for (i, (_, accounts)) in previous.iter().enumerate() {
        for a in accounts {
            by_account.entry(a).or_default().push(i);
        }
    }
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (gi, accounts) in groups.iter().enumerate() {
        let mine: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
        let mut seen = BTreeSet::new();
        for a in accounts {
            for &pi in by_account.get(a.as_str()).into_iter().flatten() {
                if seen.insert(pi) {
                    let inter = mine.intersection(&prev_sets[pi]).count() as f64;
                    let union = (mine.len() + prev_sets[pi].len()) as f64 - inter;
                    let j = inter / union;
                    if j >= 0.5 {
                        candidates.push((j, gi, pi));
                    }
                }
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut ids: Vec<Option<String>> = vec![None; groups.len()];
    let mut used = BTreeSet::new();
    for (_, gi, pi) in candidates {
        if ids[gi].is_none() && used.insert(pi) {
            ids[gi] = Some(previous[pi].0.clone());
        }
    }
    let mut taken: BTreeSet<String> = ids.iter().flatten().cloned().collect();
    taken.extend(previous.iter().map(|(id, _)| id.clone()));
    ids.into_iter()
        .zip(groups)
        .map(|(id, accounts)| {
            id.unwrap_or_else(|| {
                let base = format!(
                    "G-{}",
                    accounts.iter().min().map(String::as_str).unwrap_or("empty")
                );
                let mut id = base.clone();
                let mut k = 2;
                while !taken.insert(id.clone()) {
                    id = format!("{base}-{k}");
                    k += 1;
                }
                id
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{EvidenceConfig, Findings, SyncFact, collect_links};
    use graph_core::GraphBuilder;
    use graph_core::model::{
        Account, AuthRole, Authorization, Entity, Extra, IdentifierKind, IdentifierObs, Person,
        Record, ShareKind, Shareholding,
    };

    fn person(b: &mut GraphBuilder, id: &str) {
        b.add_record(&Record::Person(Person {
            person_id: id.into(),
            name: None,
            id_number: None,
            extra: Extra::new(),
        }));
    }

    fn account(b: &mut GraphBuilder, id: &str, holder: &str) {
        b.add_record(&Record::Account(Account {
            account_id: id.into(),
            holder_id: holder.into(),
            member_id: None,
            account_type: None,
            open_date: None,
            status: None,
            extra: Extra::new(),
        }));
    }

    fn entity(b: &mut GraphBuilder, id: &str) {
        b.add_record(&Record::Entity(Entity {
            entity_id: id.into(),
            name: None,
            uscc: None,
            kind: None,
            registered_capital: None,
            established: None,
            status: None,
            extra: Extra::new(),
        }));
    }

    fn owns(b: &mut GraphBuilder, owner: &str, owned: &str, pct: f64) {
        b.add_record(&Record::Shareholding(Shareholding {
            owner_id: owner.into(),
            entity_id: owned.into(),
            share_min: pct,
            share_max: pct,
            kind: ShareKind::Equity,
            extra: Extra::new(),
        }));
    }

    fn placer(b: &mut GraphBuilder, account: &str, person: &str) {
        b.add_record(&Record::Authorization(Authorization {
            account_id: account.into(),
            person_id: person.into(),
            role: AuthRole::OrderPlacer,
            extra: Extra::new(),
        }));
    }

    fn terminal(b: &mut GraphBuilder, subject: &str, mac: &str) {
        b.add_record(&Record::Identifier(IdentifierObs {
            subject_id: subject.into(),
            kind: IdentifierKind::Mac,
            value: mac.into(),
            first_seen: None,
            last_seen: None,
            count: None,
            extra: Extra::new(),
        }));
    }

    /// Runs control, evidence and assembly on `g` with `sync` facts between named accounts.
    fn analyse(g: &PropertyGraph, sync: &[(&str, &str, f64)]) -> Assembly {
        let control = crate::control::ControlAnalysis::compute(g, &Default::default());
        let facts: Vec<crate::evidence::ControlFact> = control
            .links()
            .iter()
            .filter(|l| l.basis.is_control())
            .map(|l| crate::evidence::ControlFact::new(control.claim(g, l)))
            .collect();
        let sync: Vec<SyncFact> = sync
            .iter()
            .map(|(a, b, significance)| {
                let (x, y) = (g.find(a).unwrap(), g.find(b).unwrap());
                SyncFact {
                    a: x.min(y),
                    b: x.max(y),
                    co_events: 4,
                    expected: 0.01,
                    significance: *significance,
                    threshold: 10.0,
                    examples: Vec::new(),
                }
            })
            .collect();
        let ev = collect_links(
            g,
            &facts,
            &[],
            &Findings {
                sync: &sync,
                ..Findings::default()
            },
            &EvidenceConfig::default(),
        );
        assemble(g, &ev, None, &GroupConfig::default())
    }

    fn ids(g: &PropertyGraph, gr: &Group) -> Vec<String> {
        let mut v: Vec<String> = gr.accounts.iter().map(|a| g.key(*a).to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_large_group_under_one_controller_comes_out_whole() {
        // One person owns 60% of each of 150 companies, each holding one account.
        let mut b = GraphBuilder::new();
        person(&mut b, "P0");
        for i in 0..150 {
            entity(&mut b, &format!("E{i}"));
            owns(&mut b, "P0", &format!("E{i}"), 60.0);
            account(&mut b, &format!("A{i}"), &format!("E{i}"));
        }
        let g = b.finish();
        let out = analyse(&g, &[]);
        assert_eq!(out.groups.len(), 1);
        assert_eq!(out.groups[0].accounts.len(), 150);
        assert_eq!(out.groups[0].controller, g.find("P0"));
        assert!(out.groups[0].membership.iter().all(|m| *m >= 0.9));
    }

    #[test]
    fn the_owner_not_the_legal_representative_is_named_controller() {
        // One person owns 60% of each of 200 companies; another is the legal representative of
        // all of them. Both reach every account; the owner controls, the officer is appointed.
        let mut b = GraphBuilder::new();
        person(&mut b, "P0");
        person(&mut b, "R0");
        for i in 0..200 {
            entity(&mut b, &format!("E{i}"));
            owns(&mut b, "P0", &format!("E{i}"), 60.0);
            b.add_record(&Record::Officer(graph_core::model::Officer {
                person_id: "R0".into(),
                entity_id: format!("E{i}"),
                role: graph_core::model::OfficerRole::LegalRep,
                extra: Extra::new(),
            }));
            account(&mut b, &format!("A{i}"), &format!("E{i}"));
        }
        let g = b.finish();
        let out = analyse(&g, &[]);
        assert_eq!(out.groups.len(), 1);
        assert_eq!(out.groups[0].accounts.len(), 200);
        assert_eq!(out.groups[0].controller, g.find("P0"));
        assert_eq!(out.groups[0].controller_basis, "ultimate controller");
    }

    /// Two controllers with three companies each; agent Z places orders on one account of
    /// each (A0 and A10), and on nothing else.
    fn two_controllers_and_an_agent() -> GraphBuilder {
        let mut b = GraphBuilder::new();
        for c in ["X", "Y", "Z"] {
            person(&mut b, c);
        }
        for (c, base) in [("X", 0), ("Y", 10)] {
            for i in base..base + 3 {
                entity(&mut b, &format!("E{i}"));
                owns(&mut b, c, &format!("E{i}"), 75.0);
                account(&mut b, &format!("A{i}"), &format!("E{i}"));
            }
        }
        placer(&mut b, "A0", "Z");
        placer(&mut b, "A10", "Z");
        b
    }

    #[test]
    fn an_agent_across_two_controllers_does_not_join_them() {
        // Z is the only thing between the two controllers.
        let g = two_controllers_and_an_agent().finish();
        let out = analyse(&g, &[]);
        let mut sets: Vec<Vec<String>> = out.groups.iter().map(|gr| ids(&g, gr)).collect();
        sets.sort();
        assert_eq!(
            sets,
            vec![vec!["A0", "A1", "A2"], vec!["A10", "A11", "A12"]],
            "Z joins two controllers nothing else joins"
        );
        assert_eq!(out.hubs.len(), 1);
        assert_eq!(out.hubs[0].1, 2);
    }

    #[test]
    fn a_second_independent_item_keeps_two_anchors_together() {
        // As above, and the two bridged accounts also share a terminal: two items agree.
        let mut b = two_controllers_and_an_agent();
        terminal(&mut b, "A0", "B8AEED15C891");
        terminal(&mut b, "A10", "B8AEED15C891");
        let g = b.finish();
        let out = analyse(&g, &[]);
        assert_eq!(out.groups.len(), 1);
        assert_eq!(out.groups[0].accounts.len(), 6);
        assert!(out.hubs.is_empty());
    }

    #[test]
    fn weak_ties_add_up_to_membership_or_stay_candidates() {
        // A pair under one controller; account W trades in sync with both, each tie alone
        // below the operating point; account V with only one of them.
        let mut b = GraphBuilder::new();
        person(&mut b, "P0");
        for i in 0..2 {
            entity(&mut b, &format!("E{i}"));
            owns(&mut b, "P0", &format!("E{i}"), 80.0);
            account(&mut b, &format!("A{i}"), &format!("E{i}"));
        }
        for w in ["W", "V"] {
            person(&mut b, &format!("P{w}"));
            account(&mut b, w, &format!("P{w}"));
        }
        let g = b.finish();
        let out = analyse(
            &g,
            &[("W", "A0", 10.0), ("W", "A1", 10.0), ("V", "A0", 10.0)],
        );
        assert_eq!(out.groups.len(), 1);
        let gr = &out.groups[0];
        // Each tie is 0.55, so W and V join (0.55 >= 0.5 alone): scores are what differ.
        let score = |id: &str| {
            let pos = gr.accounts.iter().position(|a| g.key(*a) == id).unwrap();
            gr.membership[pos]
        };
        assert!(score("W") > score("V"), "two items beat one");
        assert!((score("V") - 0.55).abs() < 1e-4);
        assert!((score("W") - (1.0 - 0.45 * 0.45)).abs() < 1e-4);
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_persist_across_growth_and_new_groups_get_fresh_ids() {
        let prev = vec![
            ("G-A1".to_string(), v(&["A1", "A2", "A3"])),
            ("G-B1".to_string(), v(&["B1", "B2"])),
        ];
        let now = vec![
            v(&["A0", "A1", "A2", "A3"]),
            v(&["C1", "C2"]),
            v(&["B1", "B9", "B8"]),
        ];
        let ids = stable_ids(&now, &prev);
        assert_eq!(ids[0], "G-A1", "grown group keeps its id");
        assert_eq!(ids[1], "G-C1");
        assert_eq!(
            ids[2], "G-B1-2",
            "Jaccard 1/4 is a new group; the old id is not reused"
        );
    }

    #[test]
    fn report_status() {
        let mut reported: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        reported.insert("R1", ["A1", "A2"].into_iter().collect());
        let mut of: AHashMap<String, Vec<&str>> = AHashMap::new();
        of.insert("A1".into(), vec!["R1"]);
        of.insert("A2".into(), vec!["R1"]);
        let (s, r, m) = compare_with_reported(&v(&["A1", "A2"]), &of, &reported);
        assert_eq!(
            (s, r.as_deref(), m.len()),
            (ReportStatus::Reported, Some("R1"), 0)
        );
        let (s, _, m) = compare_with_reported(&v(&["A1", "A2", "A3"]), &of, &reported);
        assert_eq!((s, m), (ReportStatus::PartiallyReported, v(&["A3"])));
        let (s, _, _) = compare_with_reported(&v(&["A1", "A9"]), &of, &reported);
        assert_eq!(s, ReportStatus::Unreported);
    }
}
