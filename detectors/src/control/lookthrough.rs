//! Look-through (integrated) ownership of one target entity, cycle-safe.
//!
//! For a target z let `t(i)` be the sum over all walks from i to z of the product of the economic
//! stakes (as fractions) along the walk, the empty walk counting 1 for z itself; that is
//! `t = (I − W)⁻¹ e_z`. The integrated stake of i in z (Vitali, Glattfelder and Battiston 2011)
//! keeps only the walks that do not come back to i: `t(i) / d(i)` with `d(i) = [(I − W)⁻¹]ᵢᵢ`,
//! the sum of the closed walks at i (1 when i is on no cycle). Note that `d(z)` is `t(z)` of z's
//! own look-through, so the whole-graph pass gets every factor from the entities' own passes.
//!
//! `t` is computed by pushing residual mass upstream from z (the "push" method of approximate
//! personalised PageRank): a node's residual is added to its estimate and sent to its owners,
//! each scaled by the stake, until every residual is below [`ControlConfig::tolerance`]. On
//! acyclic parts this is exact; around a cycle the mass shrinks by the cycle's product of stakes
//! at every turn, so the walk series is summed to the tolerance without a depth cap, and owners
//! whose stake would be below the tolerance are never visited (which bounds the work and the
//! output on pathological data such as a ring of thousands of cross-holdings). If stakes around a
//! cycle do not shrink (holdings over 100%, or the maxima of bands), the push is stopped after
//! [`ControlConfig::max_pushes`] steps, when the mass left stops shrinking, or when a sum passes a
//! million, and the look-through is reported as not converged.

use std::collections::VecDeque;

use ahash::AHashMap;
use graph_core::{EdgeId, EdgeKind, NodeId, NodeKind, PropertyGraph};

use super::{ControlConfig, IntegratedStake, is_economic, is_party, stake};

/// A walk sum beyond this means the stakes around a cycle grow instead of shrinking (over 100%
/// in total): the push is stopped.
const DIVERGED: f64 = 1e6;

/// Stagnation check: every `STAGNATION_WINDOW` pushes per explored node, the residual mass left
/// must have fallen below `STAGNATION_RATIO` of what it was at the previous check. Around a cycle
/// losing even 1% per turn it falls to about half; only stakes of 100% or more around a cycle
/// (bad data, or the maxima of bands) keep it up, and those would otherwise never stop.
const STAGNATION_WINDOW: usize = 64;
const STAGNATION_RATIO: f64 = 0.9;

/// At most this many DFS steps are spent enumerating the ownership paths of one owner.
const PATH_STEP_BUDGET: usize = 200_000;

/// A pair of (minimum, maximum) figures.
pub(super) type Pair = (f64, f64);

/// The economic shareholdings into a node from parties: (owner, edge, min, max as fractions).
fn economic_in(
    g: &PropertyGraph,
    n: NodeId,
) -> impl Iterator<Item = (NodeId, EdgeId, f64, f64)> + '_ {
    g.in_of(n, EdgeKind::Owns).filter_map(move |a| {
        let (min, max, kind) = stake(g, a.edge)?;
        (is_economic(kind) && is_party(g, a.node)).then_some((
            a.node,
            a.edge,
            min / 100.0,
            max / 100.0,
        ))
    })
}

/// Tarjan's strongly connected components, iteratively, over local indices `0..n`. Components
/// are returned in reverse topological order: every edge leaving a component points to a
/// component returned earlier.
pub(super) fn tarjan(n: usize, succ: impl Fn(usize, &mut Vec<usize>)) -> Vec<Vec<usize>> {
    const UNSEEN: u32 = u32::MAX;
    struct State {
        index: Vec<u32>,
        low: Vec<u32>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: u32,
        // Call frames: node, its successors, the position of the next successor to visit.
        frames: Vec<(usize, Vec<usize>, usize)>,
    }
    impl State {
        fn open(&mut self, v: usize, succ: &impl Fn(usize, &mut Vec<usize>)) {
            self.index[v] = self.next;
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            let mut out = Vec::new();
            succ(v, &mut out);
            self.frames.push((v, out, 0));
        }
    }
    let mut s = State {
        index: vec![UNSEEN; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        frames: Vec::new(),
    };
    let mut out = Vec::new();
    for root in 0..n {
        if s.index[root] != UNSEEN {
            continue;
        }
        s.open(root, &succ);
        while let Some(frame) = s.frames.last_mut() {
            let v = frame.0;
            if let Some(&w) = frame.1.get(frame.2) {
                frame.2 += 1;
                if s.index[w] == UNSEEN {
                    s.open(w, &succ);
                } else if s.on_stack[w] {
                    s.low[v] = s.low[v].min(s.index[w]);
                }
                continue;
            }
            s.frames.pop();
            if let Some(parent) = s.frames.last() {
                let p = parent.0;
                s.low[p] = s.low[p].min(s.low[v]);
            }
            if s.low[v] == s.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}

/// The walk sums `t` of one target: every party whose walks to the target carry at least the
/// tolerance, with its sum.
#[derive(Debug, Clone)]
pub(super) struct WalkSums {
    target: NodeId,
    /// The target first, then owners in the order they were reached; only nodes whose estimate
    /// reached the tolerance.
    nodes: Vec<NodeId>,
    t: Vec<Pair>,
    converged: bool,
}

impl WalkSums {
    /// Pushes residual mass upstream from `z` until every residual is below the tolerance.
    pub(super) fn compute(g: &PropertyGraph, z: NodeId, cfg: &ControlConfig) -> Self {
        let eps = cfg.tolerance;
        let mut nodes = vec![z];
        let mut index: AHashMap<NodeId, u32> = AHashMap::new();
        index.insert(z, 0);
        let mut residual: Vec<Pair> = vec![(1.0, 1.0)];
        let mut estimate: Vec<Pair> = vec![(0.0, 0.0)];
        let mut queued = vec![true];
        let mut pushed = vec![false];
        let mut queue = VecDeque::from([0u32]);
        let mut pushes = 0usize;
        let mut converged = true;
        // Residual mass still to distribute (maximum figures), and the stagnation checkpoints.
        let mut left = 1.0f64;
        let mut last_left = f64::INFINITY;
        let mut checkpoint = STAGNATION_WINDOW;
        while let Some(v) = queue.pop_front() {
            if pushes >= checkpoint {
                if left > STAGNATION_RATIO * last_left {
                    converged = false;
                    break;
                }
                last_left = left;
                checkpoint = pushes + STAGNATION_WINDOW * nodes.len();
            }
            if pushes >= cfg.max_pushes {
                converged = false;
                break;
            }
            pushes += 1;
            let v = v as usize;
            queued[v] = false;
            pushed[v] = true;
            let r = std::mem::take(&mut residual[v]);
            left -= r.1;
            estimate[v].0 += r.0;
            estimate[v].1 += r.1;
            if estimate[v].1.is_nan() || estimate[v].1 >= DIVERGED {
                converged = false;
                break;
            }
            for (u, _, lo, hi) in economic_in(g, nodes[v]) {
                let k = *index.entry(u).or_insert_with(|| {
                    nodes.push(u);
                    residual.push((0.0, 0.0));
                    estimate.push((0.0, 0.0));
                    queued.push(false);
                    pushed.push(false);
                    (nodes.len() - 1) as u32
                }) as usize;
                residual[k].0 += lo * r.0;
                residual[k].1 += hi * r.1;
                left += hi * r.1;
                if residual[k].1 > eps && !queued[k] {
                    queued[k] = true;
                    queue.push_back(k as u32);
                }
            }
        }
        // Keep the nodes that were reached with at least the tolerance; what is left in the
        // residuals is below it and is added to the estimate.
        let mut kept = Vec::with_capacity(nodes.len());
        let mut t = Vec::with_capacity(nodes.len());
        for (k, &n) in nodes.iter().enumerate() {
            if pushed[k] {
                kept.push(n);
                t.push((estimate[k].0 + residual[k].0, estimate[k].1 + residual[k].1));
            }
        }
        Self {
            target: z,
            nodes: kept,
            t,
            converged,
        }
    }

    /// `d(z)`: the sum of the closed walks at the target (1 plus what comes back to it).
    pub(super) fn closed_walks(&self) -> Pair {
        self.t[0]
    }

    /// False when the push was stopped by the step cap.
    pub(super) fn converged(&self) -> bool {
        self.converged
    }

    /// The owners on a cycle of the explored subgraph, by their economic shareholdings among the
    /// explored nodes. Those are the owners whose `d` may exceed 1.
    fn on_cycles(&self, g: &PropertyGraph) -> Vec<NodeId> {
        let index: AHashMap<NodeId, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(k, &n)| (n, k))
            .collect();
        let comps = tarjan(self.nodes.len(), |k, out| {
            out.extend(economic_in(g, self.nodes[k]).filter_map(|(u, ..)| index.get(&u).copied()));
        });
        comps
            .into_iter()
            .filter(|c| {
                c.len() > 1 || economic_in(g, self.nodes[c[0]]).any(|(u, ..)| u == self.nodes[c[0]])
            })
            .flatten()
            .map(|k| self.nodes[k])
            .collect()
    }
}

/// The look-through of one target: walk sums and the closed-walk factors of its owners.
#[derive(Debug, Clone)]
pub(super) struct Upstream {
    sums: WalkSums,
    /// `d` of each node of `sums.nodes` (1 off cycles).
    factor: Vec<Pair>,
    converged: bool,
}

impl Upstream {
    /// The look-through of `z` on its own: the closed-walk factors of owners on cycles are
    /// computed here, one push from each.
    pub(super) fn compute(g: &PropertyGraph, z: NodeId, cfg: &ControlConfig) -> Self {
        let sums = WalkSums::compute(g, z, cfg);
        let cyclic: AHashMap<NodeId, (Pair, bool)> = sums
            .on_cycles(g)
            .into_iter()
            .filter(|&n| n != z)
            .map(|n| {
                let own = WalkSums::compute(g, n, cfg);
                (n, (own.closed_walks(), own.converged()))
            })
            .collect();
        Self::with_factors(sums, |n| cyclic.get(&n).copied())
    }

    /// The look-through from precomputed walk sums, given the closed-walk factor of each entity
    /// and whether its computation converged (`None`: 1, as for every node on no cycle). A factor
    /// that did not converge makes this look-through approximate too.
    pub(super) fn with_factors(
        sums: WalkSums,
        factor_of: impl Fn(NodeId) -> Option<(Pair, bool)>,
    ) -> Self {
        let mut converged = sums.converged;
        let factor = sums
            .nodes
            .iter()
            .enumerate()
            .map(|(k, &n)| match factor_of(n) {
                Some(((lo, hi), ok)) if k > 0 => {
                    converged &= ok;
                    (lo.max(1.0), hi.max(1.0))
                }
                _ => (1.0, 1.0),
            })
            .collect();
        Self {
            sums,
            factor,
            converged,
        }
    }

    /// False when a push was stopped by the step cap (stakes around a cycle that do not shrink).
    pub(super) fn converged(&self) -> bool {
        self.converged
    }

    /// The integrated stakes of every owner upstream of the target, sorted by owner.
    pub(super) fn stakes(&self, g: &PropertyGraph) -> Vec<IntegratedStake> {
        let z = self.sums.target;
        let mut out: Vec<IntegratedStake> = (1..self.sums.nodes.len())
            .filter_map(|k| {
                let owner = self.sums.nodes[k];
                let (tlo, thi) = self.sums.t[k];
                let (flo, fhi) = self.factor[k];
                let pct_min = (100.0 * tlo / flo).clamp(0.0, 100.0);
                let pct_max = (100.0 * thi / fhi).clamp(0.0, 100.0).max(pct_min);
                if pct_max.is_nan() || pct_max <= 0.0 {
                    return None;
                }
                let (mut direct_min, mut direct_max) = (0.0, 0.0);
                for a in g.out_of(owner, EdgeKind::Owns) {
                    if a.node == z
                        && let Some((lo, hi, kind)) = stake(g, a.edge)
                        && is_economic(kind)
                    {
                        direct_min += lo;
                        direct_max += hi;
                    }
                }
                Some(IntegratedStake {
                    owner,
                    entity: z,
                    direct_min,
                    direct_max,
                    pct_min,
                    pct_max,
                })
            })
            .collect();
        out.sort_unstable_by_key(|s| s.owner);
        out
    }

    /// Simple chains of economic shareholdings from `owner` to the target through the owners
    /// of the look-through, the largest product (minimum figures) first, at most `max_paths`,
    /// none longer than `max_depth`.
    pub(super) fn paths_from(
        &self,
        g: &PropertyGraph,
        owner: NodeId,
        cfg: &ControlConfig,
    ) -> Vec<Vec<EdgeId>> {
        let nodes = &self.sums.nodes;
        let index: AHashMap<NodeId, usize> =
            nodes.iter().enumerate().map(|(k, &n)| (n, k)).collect();
        let Some(&start) = index.get(&owner) else {
            return Vec::new();
        };
        if start == 0 || g.kind(owner) == NodeKind::Account {
            return Vec::new();
        }
        // Fewest edges from each explored node to the target, to cut chains that cannot make it
        // within the depth cap.
        let mut dist = vec![u32::MAX; nodes.len()];
        dist[0] = 0;
        let mut queue = VecDeque::from([0usize]);
        while let Some(v) = queue.pop_front() {
            for (u, ..) in economic_in(g, nodes[v]) {
                if let Some(&k) = index.get(&u)
                    && dist[k] == u32::MAX
                {
                    dist[k] = dist[v] + 1;
                    queue.push_back(k);
                }
            }
        }
        let mut search = PathSearch {
            g,
            index: &index,
            dist: &dist,
            on_path: vec![false; nodes.len()],
            path: Vec::new(),
            found: Vec::new(),
            budget: PATH_STEP_BUDGET,
            max_paths: cfg.max_paths.max(1),
            max_depth: cfg.max_depth.max(1),
        };
        search.on_path[start] = true;
        search.run(owner, 1.0);
        let mut found = search.found;
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        found.into_iter().map(|(_, p)| p).collect()
    }
}

/// Depth-first enumeration of simple ownership chains towards the target (local index 0).
struct PathSearch<'a> {
    g: &'a PropertyGraph,
    index: &'a AHashMap<NodeId, usize>,
    dist: &'a [u32],
    on_path: Vec<bool>,
    path: Vec<EdgeId>,
    found: Vec<(f64, Vec<EdgeId>)>,
    budget: usize,
    max_paths: usize,
    max_depth: usize,
}

impl PathSearch<'_> {
    fn run(&mut self, v: NodeId, product: f64) {
        let g = self.g;
        for a in g.out_of(v, EdgeKind::Owns) {
            if self.found.len() >= self.max_paths || self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let Some((lo, _, kind)) = stake(g, a.edge) else {
                continue;
            };
            let Some(&k) = self.index.get(&a.node) else {
                continue;
            };
            if !is_economic(kind)
                || self.on_path[k]
                || self.path.len() + 1 + self.dist[k] as usize > self.max_depth
            {
                continue;
            }
            self.path.push(a.edge);
            let product = product * lo / 100.0;
            if k == 0 {
                self.found.push((product, self.path.clone()));
            } else {
                self.on_path[k] = true;
                self.run(a.node, product);
                self.on_path[k] = false;
            }
            self.path.pop();
        }
    }
}
