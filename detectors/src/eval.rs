//! Quality metrics of detected groups against a ground truth (the input contract's definitions)
//! and the naive baseline they are compared with.

use ahash::AHashMap;
use graph_core::{EdgeKind, NodeId, NodeKind, PropertyGraph};
use serde::Serialize;

/// Pairwise precision, recall and F1, group recall at Jaccard >= 0.5, and the adjusted Rand index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub group_recall: f64,
    pub ari: f64,
    pub detected_groups: usize,
    pub true_groups: usize,
}

fn pairs(k: usize) -> f64 {
    (k as f64) * (k as f64 - 1.0) / 2.0
}

/// Compares detected groups with true groups over `n_accounts` accounts (those in no group are
/// singletons). Account ids are any hashable strings.
pub fn evaluate(detected: &[Vec<String>], truth: &[Vec<String>], n_accounts: usize) -> Metrics {
    let mut truth_of: AHashMap<&str, usize> = AHashMap::new();
    for (i, t) in truth.iter().enumerate() {
        for a in t {
            truth_of.insert(a, i);
        }
    }
    let mut tp = 0.0;
    let mut best_jaccard = vec![0.0f64; truth.len()];
    for d in detected {
        let mut counts: AHashMap<usize, usize> = AHashMap::new();
        for a in d {
            if let Some(&t) = truth_of.get(a.as_str()) {
                *counts.entry(t).or_default() += 1;
            }
        }
        for (t, c) in counts {
            tp += pairs(c);
            let j = c as f64 / (d.len() + truth[t].len() - c) as f64;
            if j > best_jaccard[t] {
                best_jaccard[t] = j;
            }
        }
    }
    let sum_a: f64 = detected.iter().map(|d| pairs(d.len())).sum();
    let sum_b: f64 = truth.iter().map(|t| pairs(t.len())).sum();
    let precision = if sum_a > 0.0 { tp / sum_a } else { 0.0 };
    let recall = if sum_b > 0.0 { tp / sum_b } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let group_recall = if truth.is_empty() {
        0.0
    } else {
        best_jaccard.iter().filter(|j| **j >= 0.5).count() as f64 / truth.len() as f64
    };
    let total = pairs(n_accounts);
    let expected = if total > 0.0 {
        sum_a * sum_b / total
    } else {
        0.0
    };
    let max = 0.5 * (sum_a + sum_b);
    let ari = if max - expected != 0.0 {
        (tp - expected) / (max - expected)
    } else {
        0.0
    };
    Metrics {
        precision,
        recall,
        f1,
        group_recall,
        ari,
        detected_groups: detected.len(),
        true_groups: truth.len(),
    }
}

/// The naive baseline: connected components of accounts over every shared identifier value
/// (on the accounts or their holders), with no weighting, spread limit or placeholder filter.
pub fn naive_identifier_components(g: &PropertyGraph) -> Vec<Vec<NodeId>> {
    let n = g.node_count();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(p: &mut [u32], x: u32) -> u32 {
        let mut r = x;
        while p[r as usize] != r {
            p[r as usize] = p[p[r as usize] as usize];
            r = p[r as usize];
        }
        r
    }
    let accounts_of = |s: NodeId| -> Vec<NodeId> {
        match g.kind(s) {
            NodeKind::Account => vec![s],
            _ => g.in_of(s, EdgeKind::HeldBy).map(|a| a.node).collect(),
        }
    };
    for ident in g.nodes_of_kind(NodeKind::Identifier) {
        let accounts: Vec<NodeId> = g
            .in_of(ident, EdgeKind::HasIdentifier)
            .flat_map(|a| accounts_of(a.node))
            .collect();
        for w in accounts.windows(2) {
            let (a, b) = (find(&mut parent, w[0].0), find(&mut parent, w[1].0));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
    }
    let mut comps: AHashMap<u32, Vec<NodeId>> = AHashMap::new();
    for a in g.nodes_of_kind(NodeKind::Account) {
        let r = find(&mut parent, a.0);
        comps.entry(r).or_default().push(a);
    }
    let mut out: Vec<Vec<NodeId>> = comps.into_values().filter(|c| c.len() >= 2).collect();
    out.sort();
    out
}

/// The rule baseline: connected components over the rules an analyst would script first (a
/// union-find, no weights): an account with its holder, a direct majority stake (over 50%) or a
/// general partner with its entity, an authorised person with the account, the two sides of any
/// relation, the two accounts of a pair with at least `min_transfers` transfers, and every subject
/// of an identifier value shared by at most `max_holders` subjects (larger values are hubs). It is
/// what ctrlgraph must beat: the evaluation reports it beside ctrlgraph's own figures, at the
/// settings that suit the data best.
pub fn rule_baseline(
    g: &PropertyGraph,
    max_holders: usize,
    min_transfers: u32,
) -> Vec<Vec<NodeId>> {
    use graph_core::EdgeData;
    use graph_core::model::ShareKind;
    let mut parent: Vec<u32> = (0..g.node_count() as u32).collect();
    fn find(p: &mut [u32], x: u32) -> u32 {
        let mut r = x;
        while p[r as usize] != r {
            p[r as usize] = p[p[r as usize] as usize];
            r = p[r as usize];
        }
        r
    }
    fn union(p: &mut [u32], a: NodeId, b: NodeId) {
        let (x, y) = (find(p, a.0), find(p, b.0));
        if x != y {
            p[x.max(y) as usize] = x.min(y);
        }
    }
    for e in g.edges() {
        let joins = match e.data {
            EdgeData::HeldBy | EdgeData::Authorised { .. } | EdgeData::Relation { .. } => true,
            EdgeData::Transfers { count, .. } => count >= min_transfers,
            EdgeData::Owns {
                share_min, kind, ..
            } => kind == ShareKind::GeneralPartner || share_min > 50.0,
            _ => false,
        };
        if joins {
            union(&mut parent, e.src, e.dst);
        }
    }
    for ident in g.nodes_of_kind(NodeKind::Identifier) {
        let subjects: Vec<NodeId> = g
            .in_of(ident, EdgeKind::HasIdentifier)
            .map(|a| a.node)
            .collect();
        if subjects.len() <= max_holders {
            for w in subjects.windows(2) {
                union(&mut parent, w[0], w[1]);
            }
        }
    }
    let mut comps: AHashMap<u32, Vec<NodeId>> = AHashMap::new();
    for a in g.nodes_of_kind(NodeKind::Account) {
        comps.entry(find(&mut parent, a.0)).or_default().push(a);
    }
    let mut out: Vec<Vec<NodeId>> = comps.into_values().filter(|c| c.len() >= 2).collect();
    out.sort();
    out
}

/// The hub limits [`rule_baseline`] is tried with; [`tuned_rule_baseline`] keeps the best.
pub const RULE_BASELINE_HUB_LIMITS: [usize; 6] = [2, 3, 5, 10, 20, 50];
/// The fewest transfers per pair [`rule_baseline`] is tried with.
pub const RULE_BASELINE_MIN_TRANSFERS: [u32; 3] = [1, 2, 3];

/// The settings [`tuned_rule_baseline`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleSettings {
    /// Identifier values of more subjects than this were hubs.
    pub hub_limit: usize,
    /// Pairs with fewer transfers than this were not joined.
    pub min_transfers: u32,
}

/// [`rule_baseline`] at the settings (from [`RULE_BASELINE_HUB_LIMITS`] and
/// [`RULE_BASELINE_MIN_TRANSFERS`]) that give the best pairwise F1 against `truth`: the baseline
/// tuned on the very data it is scored on, an upper bound of what the script achieves.
pub fn tuned_rule_baseline(
    g: &PropertyGraph,
    truth: &[Vec<String>],
    n_accounts: usize,
) -> (RuleSettings, Metrics) {
    let mut best: Option<(RuleSettings, Metrics)> = None;
    for hub_limit in RULE_BASELINE_HUB_LIMITS {
        for min_transfers in RULE_BASELINE_MIN_TRANSFERS {
            let groups: Vec<Vec<String>> = rule_baseline(g, hub_limit, min_transfers)
                .into_iter()
                .map(|c| c.into_iter().map(|a| g.key(a).to_owned()).collect())
                .collect();
            let m = evaluate(&groups, truth, n_accounts);
            if best.is_none_or(|(_, b)| m.f1 > b.f1) {
                best = Some((
                    RuleSettings {
                        hub_limit,
                        min_transfers,
                    },
                    m,
                ));
            }
        }
    }
    best.unwrap_or((
        RuleSettings {
            hub_limit: 0,
            min_transfers: 0,
        },
        evaluate(&[], truth, n_accounts),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn perfect_detection_scores_one() {
        let truth = vec![v(&["a", "b", "c"]), v(&["d", "e"])];
        let m = evaluate(&truth, &truth, 10);
        assert_eq!(
            (m.precision, m.recall, m.f1, m.group_recall),
            (1.0, 1.0, 1.0, 1.0)
        );
        assert!((m.ari - 1.0).abs() < 1e-12);
    }

    #[test]
    fn partial_detection_has_the_hand_computed_figures() {
        let truth = vec![v(&["a", "b", "c"]), v(&["d", "e"])];
        // One true pair (a,b) found, one false pair (d,x).
        let detected = vec![v(&["a", "b"]), v(&["d", "x"])];
        let m = evaluate(&detected, &truth, 10);
        assert!((m.precision - 0.5).abs() < 1e-12);
        assert!((m.recall - 0.25).abs() < 1e-12);
        assert!((m.f1 - 1.0 / 3.0).abs() < 1e-12);
        // Jaccard {a,b} vs {a,b,c} = 2/3 matches; {d,x} vs {d,e} = 1/3 does not.
        assert!((m.group_recall - 0.5).abs() < 1e-12);
        assert!(m.ari > 0.0 && m.ari < 1.0);
    }
}
