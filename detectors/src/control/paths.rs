//! Proof paths of control: chains of edges from a controller to a controlled entity, each edge
//! coming from the controller itself or from a company it controls.

use graph_core::{EdgeId, NodeId, PropertyGraph};

use super::{ControlConfig, ControlLink};

/// At most this many DFS steps are spent on the proof of one link.
const STEP_BUDGET: usize = 100_000;

/// Simple chains from `x` to `z` over the proof edges of `x`'s links (`via_of(y)` is the link by
/// which `x` controls `y`). Each link's proof edges are sorted by the depth of their source, so
/// the first chain found is a shortest one; when even that is longer than the depth cap, it is
/// returned alone.
pub(super) fn control_paths<'a>(
    g: &PropertyGraph,
    x: NodeId,
    z: NodeId,
    via_of: impl Fn(NodeId) -> Option<&'a ControlLink>,
    cfg: &ControlConfig,
) -> Vec<Vec<EdgeId>> {
    struct Search<'g, F> {
        g: &'g PropertyGraph,
        x: NodeId,
        via_of: F,
        max_paths: usize,
        max_depth: usize,
        budget: usize,
        /// Edges from the current node back towards `z`, in reverse order.
        rev: Vec<EdgeId>,
        on_path: Vec<NodeId>,
        found: Vec<Vec<EdgeId>>,
    }
    impl<'a, F: Fn(NodeId) -> Option<&'a ControlLink>> Search<'_, F> {
        fn run(&mut self, v: NodeId) {
            if v == self.x {
                self.found.push(self.rev.iter().rev().copied().collect());
                return;
            }
            let Some(link) = (self.via_of)(v) else {
                return;
            };
            for &e in &link.via {
                if self.found.len() >= self.max_paths || self.budget == 0 {
                    return;
                }
                self.budget -= 1;
                let src = self.g.edge(e).src;
                // A chain is at least as long as the control depth of its first node, so chains
                // that cannot reach `x` within the depth cap are cut here.
                let remaining = if src == self.x {
                    0
                } else {
                    (self.via_of)(src).map_or(u32::MAX, |l| l.depth) as usize
                };
                if self.on_path.contains(&src) || self.rev.len() + 1 + remaining > self.max_depth {
                    continue;
                }
                self.rev.push(e);
                self.on_path.push(src);
                self.run(src);
                self.on_path.pop();
                self.rev.pop();
            }
        }
    }
    let mut s = Search {
        g,
        x,
        via_of,
        max_paths: cfg.max_paths.max(1),
        max_depth: cfg.max_depth.max(1),
        budget: STEP_BUDGET,
        rev: Vec::new(),
        on_path: vec![z],
        found: Vec::new(),
    };
    s.run(z);
    if s.found.is_empty() {
        // The chain is longer than the depth cap: give the shortest chain anyway, by always
        // stepping back over the first proof edge (its source is one step closer to `x`).
        let mut chain = Vec::new();
        let mut v = z;
        while v != x {
            let Some(&e) = (s.via_of)(v).and_then(|l| l.via.first()) else {
                return Vec::new();
            };
            chain.push(e);
            v = g.edge(e).src;
            if chain.len() > 1 << 20 {
                return Vec::new();
            }
        }
        chain.reverse();
        s.found.push(chain);
    }
    s.found
}
