//! Suspected control groups: assembled from the evidence graph and the relationship embeddings,
//! scored, explained, given stable ids and compared with the groups accounts reported.
//!
//! Assembly: accounts joined by a link of at least `link_threshold` form components; a weaker
//! link (at least `weak_threshold`) also joins when the two accounts' embeddings are close
//! (cosine at least `attach_cosine`), so a nominee with one weak signal but the same
//! neighbourhood as the group is not lost. A component larger than `max_group` is split by
//! Louvain on its link weights: such a component is chained through several controllers rather
//! than one.

use std::collections::{BTreeMap, BTreeSet};

use ahash::AHashMap;
use graph_core::{NodeId, PropertyGraph};
use serde::{Deserialize, Serialize};

use crate::cluster::{LouvainConfig, Quality, louvain};
use crate::embed::Embeddings;
use crate::evidence::{Criterion, Evidence, EvidenceGraph, SignalKind};

/// Assembly settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupConfig {
    pub link_threshold: f32,
    pub weak_threshold: f32,
    pub attach_cosine: f32,
    pub max_group: usize,
    /// The CPM resolution used to split an oversized component: the link density a part needs.
    pub split_resolution: f64,
    pub seed: u64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            link_threshold: 0.5,
            weak_threshold: 0.25,
            attach_cosine: 0.9,
            max_group: 12,
            split_resolution: 0.5,
            seed: 7,
        }
    }
}

/// A suspected group, in graph terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub accounts: Vec<NodeId>,
    /// Indices into the evidence graph's links joining two accounts of the group.
    pub links: Vec<usize>,
    pub score: f32,
    /// Each signal family's share of the score (they add up to the score).
    pub contributions: Vec<(SignalKind, f32)>,
    pub criteria: BTreeSet<Criterion>,
    pub controller: Option<NodeId>,
    pub controller_basis: String,
    /// Accounts that joined through a weak link confirmed by embedding similarity.
    pub joined_by_embedding: Vec<NodeId>,
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn new(n: usize) -> Self {
        Self((0..n as u32).collect())
    }
    fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.0[r as usize] != r {
            r = self.0[r as usize];
        }
        let mut y = x;
        while self.0[y as usize] != r {
            let next = self.0[y as usize];
            self.0[y as usize] = r;
            y = next;
        }
        r
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi as usize] = lo;
        }
    }
}

/// Assembles the groups.
pub fn assemble(
    g: &PropertyGraph,
    ev: &EvidenceGraph,
    emb: Option<&Embeddings>,
    cfg: &GroupConfig,
) -> Vec<Group> {
    let n = g.node_count();
    let mut uf = UnionFind::new(n);
    let mut accepted = vec![false; ev.links.len()];
    let mut by_embedding = BTreeSet::new();
    for (i, l) in ev.links.iter().enumerate() {
        if l.weight >= cfg.link_threshold {
            accepted[i] = true;
        } else if l.weight >= cfg.weak_threshold
            && emb
                .and_then(|e| e.cosine(l.a, l.b))
                .is_some_and(|cos| cos >= cfg.attach_cosine)
        {
            accepted[i] = true;
            by_embedding.insert(l.a);
            by_embedding.insert(l.b);
        }
        if accepted[i] {
            uf.union(l.a.0, l.b.0);
        }
    }
    let strong = ev
        .links
        .iter()
        .filter(|l| l.weight >= cfg.link_threshold)
        .count();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for l in ev.links.iter().filter(|l| l.weight >= cfg.link_threshold) {
        if let Some(top) = l.signals.first() {
            *by_kind.entry(top.kind.as_str()).or_default() += 1;
        }
    }
    tracing::info!(
        strong,
        by_embedding = accepted.iter().filter(|a| **a).count() - strong,
        ?by_kind,
        "links accepted (by strongest signal)"
    );
    let mut components: BTreeMap<u32, Vec<NodeId>> = BTreeMap::new();
    for l in ev
        .links
        .iter()
        .zip(&accepted)
        .filter(|(_, a)| **a)
        .map(|(l, _)| l)
    {
        for x in [l.a, l.b] {
            components.entry(uf.find(x.0)).or_default().push(x);
        }
    }
    let mut sets: Vec<Vec<NodeId>> = Vec::new();
    for (_, mut members) in components {
        members.sort_unstable();
        members.dedup();
        if members.len() > cfg.max_group {
            sets.extend(split(ev, &accepted, &members, cfg));
        } else {
            sets.push(members);
        }
    }
    // Links by the group they fall in.
    let mut group_of: AHashMap<NodeId, usize> = AHashMap::new();
    for (gi, s) in sets.iter().enumerate() {
        for a in s {
            group_of.insert(*a, gi);
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
    sets.into_iter()
        .zip(links_of)
        .filter(|(s, _)| s.len() >= 2)
        .map(|(accounts, links)| explain(g, ev, accounts, links, &by_embedding))
        .collect()
}

/// Splits an oversized component into Louvain communities of its accepted links.
fn split(
    ev: &EvidenceGraph,
    accepted: &[bool],
    members: &[NodeId],
    cfg: &GroupConfig,
) -> Vec<Vec<NodeId>> {
    let index: AHashMap<NodeId, u32> = members
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i as u32))
        .collect();
    let edges: Vec<(u32, u32, f64)> = ev
        .links
        .iter()
        .zip(accepted)
        .filter(|(l, a)| **a && index.contains_key(&l.a) && index.contains_key(&l.b))
        .map(|(l, _)| (index[&l.a], index[&l.b], f64::from(l.weight)))
        .collect();
    let community = louvain(
        members.len(),
        &edges,
        &LouvainConfig {
            seed: cfg.seed,
            // The constant Potts model keeps parts whose links are denser than the resolution,
            // whatever the component's size; modularity would merge small groups in a big
            // component (its resolution limit).
            quality: Quality::Cpm,
            resolution: cfg.split_resolution,
            ..LouvainConfig::default()
        },
    );
    let mut out: BTreeMap<u32, Vec<NodeId>> = BTreeMap::new();
    for (i, c) in community.iter().enumerate() {
        out.entry(*c).or_default().push(members[i]);
    }
    out.into_values().collect()
}

/// Scores a group and names its controller.
fn explain(
    g: &PropertyGraph,
    ev: &EvidenceGraph,
    accounts: Vec<NodeId>,
    links: Vec<usize>,
    by_embedding: &BTreeSet<NodeId>,
) -> Group {
    // Each account's attachment is its strongest link inside the group; the score is their mean,
    // so one barely attached account lowers the score of the whole.
    let mut best: AHashMap<NodeId, f32> = AHashMap::new();
    let mut by_kind: BTreeMap<SignalKind, f32> = BTreeMap::new();
    let mut criteria = BTreeSet::new();
    let mut votes: BTreeMap<NodeId, (BTreeSet<NodeId>, f32, &'static str)> = BTreeMap::new();
    for &i in &links {
        let l = &ev.links[i];
        for x in [l.a, l.b] {
            let e = best.entry(x).or_insert(0.0);
            *e = e.max(l.weight);
        }
        for s in &l.signals {
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
    let score = accounts
        .iter()
        .map(|a| best.get(a).copied().unwrap_or(0.0))
        .sum::<f32>()
        / accounts.len() as f32;
    let total: f32 = by_kind.values().sum();
    let contributions = by_kind
        .into_iter()
        .map(|(k, w)| (k, if total > 0.0 { score * w / total } else { 0.0 }))
        .collect();
    let named = votes
        .into_iter()
        .max_by(|a, b| {
            (a.1.0.len(), a.1.1)
                .partial_cmp(&(b.1.0.len(), b.1.1))
                .unwrap_or(std::cmp::Ordering::Equal)
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
        links,
        score,
        contributions,
        criteria,
        controller,
        controller_basis,
        joined_by_embedding,
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
