//! Summary statistics of a graph: counts by kind, degree extremes and identifier hubs.

use serde::Serialize;

use crate::graph::{EdgeKind, NodeKind, PropertyGraph};
use crate::model::IdentifierKind;

/// A node named in a statistic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedCount {
    pub kind: String,
    pub id: String,
    pub count: usize,
}

/// Counts by node and edge kind, the highest-degree node of each kind and the largest
/// identifier hubs (identifier values shared by the most subjects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphStats {
    pub nodes: Vec<(String, usize)>,
    pub edges: Vec<(String, usize)>,
    pub max_degree: Vec<NamedCount>,
    pub hubs: Vec<NamedCount>,
    pub memory_bytes: usize,
}

impl GraphStats {
    /// Computes the statistics, keeping the `top` largest identifier hubs.
    pub fn compute(g: &PropertyGraph, top: usize) -> GraphStats {
        let mut node_counts = [0usize; NodeKind::ALL.len()];
        let mut max_degree: [Option<(usize, crate::NodeId)>; NodeKind::ALL.len()] =
            [None; NodeKind::ALL.len()];
        let mut hubs = Vec::new();
        for n in g.node_ids() {
            let k = g.kind(n) as usize;
            node_counts[k] += 1;
            let d = g.degree(n);
            if max_degree[k].is_none_or(|(best, _)| d > best) {
                max_degree[k] = Some((d, n));
            }
            if g.kind(n) == NodeKind::Identifier {
                hubs.push((g.in_of(n, EdgeKind::HasIdentifier).len(), n));
            }
        }
        let mut edge_counts = [0usize; EdgeKind::ALL.len()];
        for e in g.edges() {
            edge_counts[e.data.kind() as usize] += 1;
        }
        hubs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hubs.truncate(top);
        let ident_kind = |n| match g.node(n) {
            crate::NodeData::Identifier { kind } => kind,
            _ => IdentifierKind::DeviceName,
        };
        GraphStats {
            nodes: NodeKind::ALL
                .iter()
                .map(|k| (k.to_string(), node_counts[*k as usize]))
                .collect(),
            edges: EdgeKind::ALL
                .iter()
                .map(|k| (k.to_string(), edge_counts[*k as usize]))
                .collect(),
            max_degree: NodeKind::ALL
                .iter()
                .filter_map(|k| {
                    max_degree[*k as usize].map(|(count, n)| NamedCount {
                        kind: k.to_string(),
                        id: g.key(n).to_owned(),
                        count,
                    })
                })
                .collect(),
            hubs: hubs
                .into_iter()
                .map(|(count, n)| NamedCount {
                    kind: ident_kind(n).to_string(),
                    id: g.key(n).to_owned(),
                    count,
                })
                .collect(),
            memory_bytes: g.memory_use().total(),
        }
    }
}
