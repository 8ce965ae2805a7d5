//! Louvain local moving with Leiden refinement (Traag, Waltman and van Eck, "From Louvain to
//! Leiden: guaranteeing well-connected communities", Sci. Rep. 2019).
//!
//! One pass over a level does three things:
//! 1. **Fast local moving.** Nodes wait in a queue, in random order. A node is taken out of its
//!    community and put where the modularity gain is largest (a new empty community included);
//!    when it moves, those of its neighbours that are not in its new community and not already
//!    waiting join the queue. This visits far fewer nodes than Louvain's repeated full sweeps.
//! 2. **Refinement.** Inside each community of step 1, every node starts alone. In random order,
//!    a node that is still alone and well connected to its community may merge into a refined
//!    community of the same community that is itself well connected, chosen at random with
//!    probability `∝ exp(ΔH / θ)` among those with `ΔH ≥ 0`. Merging only well-connected pieces is
//!    what guarantees that the final communities are connected, which Louvain does not: Louvain
//!    can leave a community held together by a node that has since moved away.
//! 3. **Aggregation.** Each refined community becomes a node; the community of step 1 it lies in
//!    becomes that node's starting community on the next level, so the work of step 1 is kept
//!    while the refined pieces can still move apart.
//!
//! Levels repeat until local moving leaves every node of the current level in a community of its
//! own. The whole procedure is then repeated from its own result (`iterations`), which can only
//! improve it, until nothing changes.
//!
//! All randomness comes from one xoshiro256++ stream seeded with the configured seed, consumed in
//! a fixed order, so a seed determines the result.
//!
//! Two quality functions are available ([`Quality`]). Modularity with resolution `γ`:
//! `Q = 1/(2m) Σ_c (2 e_c − γ K_c² / (2m))`, where `e_c` is the weight inside community `c`, `K_c`
//! the sum of its nodes' weighted degrees and `m` the total edge weight; a self-loop of weight `w`
//! adds `w` to `e_c` and `2w` to the node's degree. The constant Potts model replaces the
//! degree-based expectation by `γ` per pair of nodes, which has no resolution limit. Both share
//! the form "edge weight minus `f · a_v · A_c`" for the gain of moving a node, so one
//! implementation serves both.

use std::collections::VecDeque;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

/// The quality function that [`louvain`] maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Modularity with resolution `γ`: `Σ_c (e_c − γ K_c² / 4m)`, where `K_c` is the sum of the
    /// weighted degrees in `c`. The expected weight depends on the whole graph, so the size of the
    /// communities found grows with the graph (the resolution limit of Fortunato and Barthélemy
    /// 2007): on a large graph, small groups need a large `γ`.
    Modularity,
    /// The constant Potts model (Traag, Van Dooren and Nesterov 2011):
    /// `Σ_c (e_c − γ n_c (n_c − 1) / 2)`, where `n_c` is the number of nodes in `c`. `γ` is a
    /// density threshold: communities have an inner edge density above `γ` and the density
    /// between them is below it, whatever the size of the graph, which suits small groups in a
    /// large graph.
    Cpm,
}

/// The parameters of [`louvain`].
#[derive(Debug, Clone, PartialEq)]
pub struct LouvainConfig {
    /// `γ`: larger values give more, smaller communities. 1 is classic modularity; for
    /// [`Quality::Cpm`], a density between 0 and the largest edge weight.
    pub resolution: f64,
    /// The quality function.
    pub quality: Quality,
    /// Seed of the node orders and of the refinement's random choices.
    pub seed: u64,
    /// Run the Leiden refinement step. Without it the algorithm is plain Louvain (with fast local
    /// moving) and communities may be internally disconnected.
    pub refine: bool,
    /// `θ`, the randomness of the refinement, relative to the mean edge weight: a merge with gain
    /// `ΔH` is chosen with probability `∝ exp(ΔH / (θ · w̄))`. Small values make the choice almost
    /// greedy; 0 makes it greedy.
    pub randomness: f64,
    /// How many times the whole procedure runs, each run starting from the previous result; it
    /// stops early when a run changes nothing.
    pub iterations: usize,
    /// A bound on the number of aggregation levels per run, as a guard: real graphs need fewer
    /// than 20.
    pub max_levels: usize,
}

impl Default for LouvainConfig {
    /// Modularity with `γ = 1`, seed 0, refinement on, `θ = 0.01`, 2 iterations, at most 64 levels.
    fn default() -> Self {
        LouvainConfig {
            resolution: 1.0,
            quality: Quality::Modularity,
            seed: 0,
            refine: true,
            randomness: 0.01,
            iterations: 2,
            max_levels: 64,
        }
    }
}

/// Partitions the nodes `0..n` of a weighted undirected graph into connected communities by
/// maximising [`LouvainConfig::quality`] (see the module docs). Returns the community of each
/// node, numbered `0..k` in order of each community's first node, so equal partitions compare
/// equal. The same input and seed give the same partition.
///
/// Each pair should be given once; weights of repeated pairs add up, so an edge given in both
/// directions counts twice. Self-loops are allowed. Edges whose weight is not positive or not
/// finite are ignored.
///
/// # Panics
/// When an edge names a node `>= n`.
pub fn louvain(n: usize, edges: &[(u32, u32, f64)], cfg: &LouvainConfig) -> Vec<u32> {
    let graph = Graph::from_edges(n, edges);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut partition = identity(n);
    for _ in 0..cfg.iterations.max(1) {
        let next = run(&graph, &partition, cfg, &mut rng);
        let changed = next != partition;
        partition = next;
        if !changed {
            break;
        }
    }
    partition
}

/// The modularity of a partition of a weighted undirected graph, with resolution `γ` (1 for
/// classic modularity). Edges are read as [`louvain`] reads them. 0 for a graph without edges.
/// Community labels are used as indices, so they should be small (as [`louvain`] returns them).
///
/// # Panics
/// When an edge names a node `>= n` or `communities` does not have `n` entries.
pub fn modularity(
    n: usize,
    edges: &[(u32, u32, f64)],
    communities: &[u32],
    resolution: f64,
) -> f64 {
    assert_eq!(communities.len(), n, "one community per node");
    let g = Graph::from_edges(n, edges);
    g.modularity(communities, resolution)
}

/// A weighted undirected graph in compressed sparse rows; self-loops are kept apart.
#[derive(Debug, Clone)]
struct Graph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    self_loops: Vec<f64>,
    /// Weighted degree: neighbours' weights plus twice the self-loop.
    degree: Vec<f64>,
    /// `2m`, the sum of all degrees.
    total: f64,
    /// How many original nodes each node stands for (all 1 before aggregation).
    size: Vec<f64>,
}

impl Graph {
    fn n(&self) -> usize {
        self.degree.len()
    }

    fn from_edges(n: usize, edges: &[(u32, u32, f64)]) -> Graph {
        let usable = |w: f64| w.is_finite() && w > 0.0;
        let mut counts = vec![0usize; n + 1];
        let mut self_loops = vec![0f64; n];
        for &(u, v, w) in edges {
            assert!(
                (u as usize) < n && (v as usize) < n,
                "edge ({u}, {v}) names a node outside 0..{n}"
            );
            if !usable(w) {
                continue;
            }
            if u == v {
                self_loops[u as usize] += w;
            } else {
                counts[u as usize + 1] += 1;
                counts[v as usize + 1] += 1;
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let offsets = counts;
        let mut fill = offsets.clone();
        let ends = offsets[n];
        let mut targets = vec![0u32; ends];
        let mut weights = vec![0f64; ends];
        for &(u, v, w) in edges {
            if u == v || !usable(w) {
                continue;
            }
            for (a, b) in [(u, v), (v, u)] {
                let slot = &mut fill[a as usize];
                targets[*slot] = b;
                weights[*slot] = w;
                *slot += 1;
            }
        }
        let size = vec![1.0; n];
        Graph::finish(offsets, targets, weights, self_loops, size)
    }

    fn finish(
        offsets: Vec<usize>,
        targets: Vec<u32>,
        weights: Vec<f64>,
        self_loops: Vec<f64>,
        size: Vec<f64>,
    ) -> Graph {
        let degree: Vec<f64> = (0..self_loops.len())
            .map(|v| weights[offsets[v]..offsets[v + 1]].iter().sum::<f64>() + 2.0 * self_loops[v])
            .collect();
        let total = degree.iter().sum();
        Graph {
            offsets,
            targets,
            weights,
            self_loops,
            degree,
            total,
            size,
        }
    }

    /// The node weights `a` and factor `f` of the quality function's penalty `f · a_v · A_c`:
    /// `k_v` and `γ / 2m` for modularity, `n_v` and `γ` for CPM.
    fn penalty(&self, quality: Quality, gamma: f64) -> Penalty<'_> {
        match quality {
            Quality::Modularity => Penalty {
                weight: &self.degree,
                factor: if self.total > 0.0 {
                    gamma / self.total
                } else {
                    0.0
                },
            },
            Quality::Cpm => Penalty {
                weight: &self.size,
                factor: gamma,
            },
        }
    }

    fn neighbours(&self, v: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.offsets[v]..self.offsets[v + 1];
        self.targets[r.clone()]
            .iter()
            .zip(&self.weights[r])
            .map(|(&t, &w)| (t as usize, w))
    }

    fn mean_edge_weight(&self) -> f64 {
        let ends = self.targets.len() as f64;
        if ends == 0.0 {
            1.0
        } else {
            self.weights.iter().sum::<f64>() / ends
        }
    }

    fn modularity(&self, comm: &[u32], gamma: f64) -> f64 {
        if self.total == 0.0 {
            return 0.0;
        }
        let k = comm.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut inside = vec![0f64; k];
        let mut tot = vec![0f64; k];
        for v in 0..self.n() {
            let c = comm[v] as usize;
            tot[c] += self.degree[v];
            inside[c] += 2.0 * self.self_loops[v];
            for (u, w) in self.neighbours(v) {
                if comm[u] as usize == c {
                    inside[c] += w;
                }
            }
        }
        let m2 = self.total;
        inside
            .iter()
            .zip(&tot)
            .map(|(e, t)| e / m2 - gamma * (t / m2) * (t / m2))
            .sum()
    }
}

/// The expected-weight term of a quality function: moving node `v` into community `c` gains
/// `w(v, c) − factor · weight[v] · Σ_{u ∈ c} weight[u]`.
#[derive(Debug, Clone, Copy)]
struct Penalty<'a> {
    weight: &'a [f64],
    factor: f64,
}

fn identity(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

/// One run of the procedure from a starting partition of the original graph.
fn run(g0: &Graph, start: &[u32], cfg: &LouvainConfig, rng: &mut Xoshiro256PlusPlus) -> Vec<u32> {
    let theta = cfg.randomness.max(0.0) * g0.mean_edge_weight();
    let mut owned: Option<Graph> = None;
    let mut partition = start.to_vec();
    // Which node of the current level each original node has become.
    let mut map = identity(g0.n());
    for _ in 0..cfg.max_levels.max(1) {
        let g = owned.as_ref().unwrap_or(g0);
        let penalty = g.penalty(cfg.quality, cfg.resolution);
        local_move(g, &mut partition, penalty, rng);
        let communities = renumber(&mut partition);
        if communities == g.n() {
            break;
        }
        let mut refined = if cfg.refine {
            refine(g, &partition, communities, penalty, theta, rng)
        } else {
            partition.clone()
        };
        let mut pieces = renumber(&mut refined);
        if pieces == g.n() {
            // Refinement merged nothing, so aggregating by it would not shrink the graph and the
            // next level would repeat this one. Fall back to Louvain's aggregation. This loses
            // the connectivity guarantee for this level; it needs a community in which no
            // well-connected node has a well-connected neighbour worth joining, which local
            // moving hardly ever produces.
            refined.clone_from(&partition);
            pieces = communities;
        }
        let next = aggregate(g, &refined, pieces);
        let mut lifted = vec![0u32; pieces];
        for v in 0..g.n() {
            lifted[refined[v] as usize] = partition[v];
        }
        for m in &mut map {
            *m = refined[*m as usize];
        }
        partition = lifted;
        owned = Some(next);
    }
    let mut result: Vec<u32> = map.iter().map(|&m| partition[m as usize]).collect();
    renumber(&mut result);
    result
}

/// Renumbers community ids to `0..k` in order of first appearance; returns `k`.
fn renumber(comm: &mut [u32]) -> usize {
    let mut ids = vec![u32::MAX; comm.len()];
    let mut k = 0u32;
    for c in comm.iter_mut() {
        let slot = &mut ids[*c as usize];
        if *slot == u32::MAX {
            *slot = k;
            k += 1;
        }
        *c = *slot;
    }
    k as usize
}

/// A uniform index below `n` (Lemire's multiply-shift; the bias for `n ≪ 2⁶⁴` is negligible).
fn below(rng: &mut Xoshiro256PlusPlus, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A uniform float in `[0, 1)`.
fn unit(rng: &mut Xoshiro256PlusPlus) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn shuffled(n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<u32> {
    let mut order = identity(n);
    for i in (1..n).rev() {
        order.swap(i, below(rng, i + 1));
    }
    order
}

/// Sums the edge weights from `v` to each neighbouring group (`group[u]`), skipping `v` itself
/// and, when `only` is given, neighbours outside that community. Reuses `acc` (all zero on entry
/// and on exit of the caller's use) and fills `touched` with the groups met.
struct Accumulator {
    acc: Vec<f64>,
    touched: Vec<u32>,
}

impl Accumulator {
    fn new(n: usize) -> Self {
        Accumulator {
            acc: vec![0.0; n],
            touched: Vec::new(),
        }
    }

    fn gather(&mut self, g: &Graph, v: usize, group: &[u32], filter: impl Fn(usize) -> bool) {
        for (u, w) in g.neighbours(v) {
            if u == v || !filter(u) {
                continue;
            }
            let c = group[u];
            // Weights are positive, so a zero slot has not been touched yet.
            if self.acc[c as usize] == 0.0 {
                self.touched.push(c);
            }
            self.acc[c as usize] += w;
        }
    }

    fn clear(&mut self) {
        for &c in &self.touched {
            self.acc[c as usize] = 0.0;
        }
        self.touched.clear();
    }
}

/// Leiden's fast local moving; `comm` holds ids below `g.n()` and is updated in place.
fn local_move(g: &Graph, comm: &mut [u32], p: Penalty<'_>, rng: &mut Xoshiro256PlusPlus) -> bool {
    let n = g.n();
    if g.total == 0.0 {
        return false;
    }
    let mut tot = vec![0f64; n];
    let mut size = vec![0u32; n];
    for v in 0..n {
        tot[comm[v] as usize] += p.weight[v];
        size[comm[v] as usize] += 1;
    }
    let mut empty: Vec<u32> = (0..n as u32).filter(|&c| size[c as usize] == 0).collect();
    let mut queue: VecDeque<u32> = shuffled(n, rng).into();
    let mut queued = vec![true; n];
    let mut acc = Accumulator::new(n);
    let mut moved = false;
    while let Some(v) = queue.pop_front() {
        let v = v as usize;
        queued[v] = false;
        let (own, kv) = (comm[v], p.weight[v]);
        acc.gather(g, v, comm, |_| true);
        tot[own as usize] -= kv;
        size[own as usize] -= 1;
        // Gains are `w(v, c) − f a_v A_c` (for modularity, the change of modularity times m);
        // staying is a move like any other, so that a node only leaves for something strictly
        // better.
        let gain = |c: u32, acc: &[f64]| acc[c as usize] - p.factor * kv * tot[c as usize];
        let (mut best, mut best_gain) = (own, gain(own, &acc.acc));
        for &c in &acc.touched {
            let g = gain(c, &acc.acc);
            if g > best_gain {
                best = c;
                best_gain = g;
            }
        }
        if best_gain < 0.0 && size[own as usize] > 0 {
            // Alone in a new community the gain is 0, better than any negative one.
            if let Some(c) = empty.pop() {
                best = c;
            }
        }
        acc.clear();
        tot[best as usize] += kv;
        size[best as usize] += 1;
        comm[v] = best;
        if size[own as usize] == 0 {
            empty.push(own);
        }
        if best != own {
            moved = true;
            for (u, _) in g.neighbours(v) {
                if !queued[u] && comm[u] != best {
                    queued[u] = true;
                    queue.push_back(u as u32);
                }
            }
        }
    }
    moved
}

/// Leiden's refinement: returns a partition that refines `comm` (ids `0..k`) into well-connected
/// pieces.
fn refine(
    g: &Graph,
    comm: &[u32],
    k: usize,
    p: Penalty<'_>,
    theta: f64,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<u32> {
    let n = g.n();
    let mut tot_comm = vec![0f64; k];
    for v in 0..n {
        tot_comm[comm[v] as usize] += p.weight[v];
    }
    // Refined communities start as singletons, named after their node.
    let mut refined = identity(n);
    let mut tot = p.weight.to_vec();
    let mut size = vec![1u32; n];
    // The weight from each refined community to the rest of its community.
    let mut external: Vec<f64> = (0..n)
        .map(|v| {
            g.neighbours(v)
                .filter(|&(u, _)| u != v && comm[u] == comm[v])
                .map(|(_, w)| w)
                .sum()
        })
        .collect();
    let mut acc = Accumulator::new(n);
    let mut candidates: Vec<(u32, f64)> = Vec::new();
    for v in shuffled(n, rng) {
        let v = v as usize;
        if size[refined[v] as usize] != 1 {
            continue;
        }
        let c = comm[v] as usize;
        let kv = p.weight[v];
        // `v` must be well connected to its community: w(v, C − v) ≥ f a_v (A_C − a_v).
        if external[v] < p.factor * kv * (tot_comm[c] - kv) {
            continue;
        }
        acc.gather(g, v, &refined, |u| comm[u] as usize == c);
        candidates.clear();
        let own = refined[v];
        let mut best_gain = 0f64;
        for &r in &acc.touched {
            let ri = r as usize;
            if r == own || external[ri] < p.factor * tot[ri] * (tot_comm[c] - tot[ri]) {
                continue;
            }
            let gain = acc.acc[ri] - p.factor * kv * tot[ri];
            if gain >= 0.0 {
                candidates.push((r, gain));
                best_gain = best_gain.max(gain);
            }
        }
        if candidates.is_empty() {
            acc.clear();
            continue;
        }
        // Staying alone (gain 0) is one of the options.
        candidates.push((own, 0.0));
        let chosen = if theta > 0.0 {
            let total: f64 = candidates
                .iter()
                .map(|(_, gain)| ((gain - best_gain) / theta).exp())
                .sum();
            let mut pick = unit(rng) * total;
            let mut chosen = candidates[candidates.len() - 1].0;
            for &(r, gain) in &candidates {
                pick -= ((gain - best_gain) / theta).exp();
                if pick < 0.0 {
                    chosen = r;
                    break;
                }
            }
            chosen
        } else {
            candidates
                .iter()
                .fold(
                    (own, 0.0),
                    |b, &(r, gain)| if gain > b.1 { (r, gain) } else { b },
                )
                .0
        };
        if chosen != own {
            let (ri, oi) = (chosen as usize, own as usize);
            external[ri] += external[oi] - 2.0 * acc.acc[ri];
            tot[ri] += kv;
            size[ri] += 1;
            tot[oi] = 0.0;
            size[oi] = 0;
            refined[v] = chosen;
        }
        acc.clear();
    }
    refined
}

/// The graph whose nodes are the groups `0..k` of `group`, with summed edge weights and the
/// weight inside each group as its self-loop.
fn aggregate(g: &Graph, group: &[u32], k: usize) -> Graph {
    let n = g.n();
    // Members of each group, by counting sort, so each group's row is built in one go.
    let mut start = vec![0usize; k + 1];
    for &c in group {
        start[c as usize + 1] += 1;
    }
    for i in 0..k {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut members = vec![0u32; n];
    for v in 0..n {
        let slot = &mut fill[group[v] as usize];
        members[*slot] = v as u32;
        *slot += 1;
    }
    let mut offsets = Vec::with_capacity(k + 1);
    offsets.push(0usize);
    let mut targets = Vec::new();
    let mut weights = Vec::new();
    let mut self_loops = vec![0f64; k];
    let mut size = vec![0f64; k];
    let mut acc = Accumulator::new(k);
    for c in 0..k {
        let mut inside = 0.0;
        for &v in &members[start[c]..start[c + 1]] {
            let v = v as usize;
            self_loops[c] += g.self_loops[v];
            size[c] += g.size[v];
            for (u, w) in g.neighbours(v) {
                let d = group[u];
                if d as usize == c {
                    inside += w;
                } else {
                    if acc.acc[d as usize] == 0.0 {
                        acc.touched.push(d);
                    }
                    acc.acc[d as usize] += w;
                }
            }
        }
        // Every inside edge was seen from both ends.
        self_loops[c] += inside / 2.0;
        // Sorted rows keep the aggregate independent of the order neighbours were met in.
        acc.touched.sort_unstable();
        for &d in &acc.touched {
            targets.push(d);
            weights.push(acc.acc[d as usize]);
        }
        acc.clear();
        offsets.push(targets.len());
    }
    Graph::finish(offsets, targets, weights, self_loops, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An undirected unit-weight graph from `"a-b c-d ..."`.
    fn parse(text: &str) -> (usize, Vec<(u32, u32, f64)>) {
        let edges: Vec<(u32, u32, f64)> = text
            .split_whitespace()
            .map(|e| {
                let (a, b) = e.split_once('-').unwrap();
                (a.parse().unwrap(), b.parse().unwrap(), 1.0)
            })
            .collect();
        let n = edges
            .iter()
            .map(|e| e.0.max(e.1) as usize + 1)
            .max()
            .unwrap_or(0);
        (n, edges)
    }

    fn clique(nodes: std::ops::Range<u32>) -> Vec<(u32, u32, f64)> {
        let mut e = Vec::new();
        for a in nodes.clone() {
            for b in a + 1..nodes.end {
                e.push((a, b, 1.0));
            }
        }
        e
    }

    #[test]
    fn two_cliques_joined_by_one_edge_are_two_communities() {
        let (n, edges) = parse("0-1 0-2 0-3 1-2 1-3 2-3 4-5 4-6 4-7 5-6 5-7 6-7 3-4");
        let c = louvain(n, &edges, &LouvainConfig::default());
        assert_eq!(c, vec![0, 0, 0, 0, 1, 1, 1, 1]);
    }

    /// A ring of `count` cliques of `size` nodes, each tied to the next by one edge.
    fn ring_of_cliques(count: u32, size: u32) -> (usize, Vec<(u32, u32, f64)>) {
        let mut edges = Vec::new();
        for q in 0..count {
            edges.extend(clique(q * size..(q + 1) * size));
            let next = (q + 1) % count;
            edges.push((q * size, next * size + 1, 1.0));
        }
        ((count * size) as usize, edges)
    }

    /// The community of each clique, asserting that no clique is split.
    fn clique_labels(c: &[u32], size: usize) -> Vec<u32> {
        c.chunks(size)
            .map(|block| {
                assert!(block.iter().all(|x| *x == block[0]), "clique split: {c:?}");
                block[0]
            })
            .collect()
    }

    #[test]
    fn a_ring_of_cliques_is_one_community_per_clique() {
        let (n, edges) = ring_of_cliques(12, 6);
        for seed in 0..5 {
            let c = louvain(
                n,
                &edges,
                &LouvainConfig {
                    seed,
                    ..LouvainConfig::default()
                },
            );
            let labels = clique_labels(&c, 6);
            assert_eq!(labels, (0..12).collect::<Vec<u32>>(), "seed {seed}");
        }
    }

    #[test]
    fn resolution_overcomes_the_resolution_limit() {
        // Fortunato and Barthélemy's (2007) example: in a ring of 30 cliques of 5, modularity at
        // γ = 1 prefers merging neighbouring cliques (merging two gains 1 − 22²/660 > 0 edges);
        // at γ = 2 the merge loses, and every clique is a community again.
        let (n, edges) = ring_of_cliques(30, 5);
        let c = louvain(n, &edges, &LouvainConfig::default());
        let merged = clique_labels(&c, 5);
        let count = *merged.iter().max().unwrap() + 1;
        assert!(count < 30, "no clique merged at γ = 1");
        let cfg = LouvainConfig {
            resolution: 2.0,
            ..LouvainConfig::default()
        };
        let c = louvain(n, &edges, &cfg);
        assert_eq!(clique_labels(&c, 5), (0..30).collect::<Vec<u32>>());
    }

    #[test]
    fn the_same_seed_gives_the_same_partition() {
        // A random graph with planted groups, big enough for the order of moves to matter.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut edges = Vec::new();
        for _ in 0..3000 {
            let a = below(&mut rng, 600) as u32;
            let b = if unit(&mut rng) < 0.7 {
                (a / 20) * 20 + below(&mut rng, 20) as u32
            } else {
                below(&mut rng, 600) as u32
            };
            edges.push((a, b, 1.0 + unit(&mut rng)));
        }
        let cfg = LouvainConfig::default();
        let a = louvain(600, &edges, &cfg);
        assert_eq!(a, louvain(600, &edges, &cfg));
        let q = modularity(600, &edges, &a, 1.0);
        for seed in 1..4 {
            let other = louvain(
                600,
                &edges,
                &LouvainConfig {
                    seed,
                    ..cfg.clone()
                },
            );
            let q2 = modularity(600, &edges, &other, 1.0);
            assert!((q - q2).abs() < 0.02, "seed {seed}: {q} vs {q2}");
        }
        assert!(q > 0.5, "modularity {q}");
    }

    #[test]
    fn isolated_nodes_self_loops_and_bad_weights_are_handled() {
        let edges = vec![
            (0, 1, 1.0),
            (1, 2, 1.0),
            (0, 2, 1.0),
            (3, 3, 5.0),
            (4, 5, f64::NAN),
            (4, 5, -1.0),
        ];
        let c = louvain(7, &edges, &LouvainConfig::default());
        assert_eq!(c, vec![0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(
            louvain(0, &[], &LouvainConfig::default()),
            Vec::<u32>::new()
        );
        assert_eq!(louvain(3, &[], &LouvainConfig::default()), vec![0, 1, 2]);
    }

    #[test]
    fn modularity_matches_a_hand_computation() {
        // Two triangles joined by one edge, split in the obvious way: m = 7, each side has
        // 3 inside edges and degree sum 7: Q = 2 × (3/7 − (7/14)²) = 6/7 − 1/2.
        let (n, edges) = parse("0-1 1-2 0-2 3-4 4-5 3-5 2-3");
        let q = modularity(n, &edges, &[0, 0, 0, 1, 1, 1], 1.0);
        assert!((q - (6.0 / 7.0 - 0.5)).abs() < 1e-12, "{q}");
        assert!(modularity(n, &edges, &[0; 6], 1.0).abs() < 1e-12);
    }

    #[test]
    fn aggregation_preserves_degrees_and_total_weight() {
        let (n, edges) = parse("0-1 1-2 0-2 3-4 4-5 3-5 2-3 5-5");
        let g = Graph::from_edges(n, &edges);
        let a = aggregate(&g, &[0, 0, 0, 1, 1, 1], 2);
        assert_eq!(a.degree, vec![7.0, 9.0]);
        assert_eq!(a.self_loops, vec![3.0, 4.0]);
        assert!((a.total - g.total).abs() < 1e-12);
        let q = g.modularity(&[0, 0, 0, 1, 1, 1], 1.0);
        assert!((a.modularity(&[0, 1], 1.0) - q).abs() < 1e-12);
    }

    #[test]
    fn without_refinement_it_is_still_a_good_partition() {
        let (n, edges) = parse("0-1 0-2 0-3 1-2 1-3 2-3 4-5 4-6 4-7 5-6 5-7 6-7 3-4");
        let cfg = LouvainConfig {
            refine: false,
            ..LouvainConfig::default()
        };
        assert_eq!(louvain(n, &edges, &cfg), vec![0, 0, 0, 0, 1, 1, 1, 1]);
    }

    /// Whether every community induces a connected subgraph.
    fn connected(n: usize, edges: &[(u32, u32, f64)], comm: &[u32]) -> bool {
        let g = Graph::from_edges(n, edges);
        let mut seen = vec![false; n];
        let mut started = std::collections::HashSet::new();
        for s in 0..n {
            if seen[s] {
                continue;
            }
            if !started.insert(comm[s]) {
                return false;
            }
            let mut stack = vec![s];
            seen[s] = true;
            while let Some(v) = stack.pop() {
                for (u, _) in g.neighbours(v) {
                    if !seen[u] && comm[u] == comm[v] {
                        seen[u] = true;
                        stack.push(u);
                    }
                }
            }
        }
        true
    }

    proptest::proptest! {
        /// On random weighted graphs: labels are dense in order of first appearance, every
        /// community is connected, the partition is no worse than all-singletons, and a seed
        /// determines it.
        #[test]
        fn partitions_are_dense_connected_and_deterministic(
            n in 1usize..60,
            raw in proptest::collection::vec((0u32..60, 0u32..60, 1u32..4), 0..200),
            seed in 0u64..1000,
            cpm in proptest::bool::ANY,
        ) {
            let edges: Vec<(u32, u32, f64)> = raw
                .iter()
                .map(|&(a, b, w)| (a % n as u32, b % n as u32, f64::from(w)))
                .collect();
            let cfg = LouvainConfig {
                seed,
                quality: if cpm { Quality::Cpm } else { Quality::Modularity },
                resolution: if cpm { 0.5 } else { 1.0 },
                ..LouvainConfig::default()
            };
            let c = louvain(n, &edges, &cfg);
            proptest::prop_assert_eq!(c.len(), n);
            let mut next = 0;
            for &x in &c {
                proptest::prop_assert!(x <= next);
                if x == next {
                    next += 1;
                }
            }
            proptest::prop_assert!(connected(n, &edges, &c));
            if !cpm {
                let q = modularity(n, &edges, &c, 1.0);
                let alone = modularity(n, &edges, &identity(n), 1.0);
                proptest::prop_assert!(q >= alone - 1e-9, "{} < {}", q, alone);
            }
            proptest::prop_assert_eq!(&c, &louvain(n, &edges, &cfg));
        }
    }

    #[test]
    fn higher_resolution_gives_smaller_communities() {
        let mut edges = Vec::new();
        for q in 0..10u32 {
            edges.extend(clique(q * 6..q * 6 + 6));
            edges.push((q * 6, ((q + 1) % 10) * 6 + 1, 1.0));
        }
        let count = |gamma| {
            let c = louvain(
                60,
                &edges,
                &LouvainConfig {
                    resolution: gamma,
                    ..LouvainConfig::default()
                },
            );
            *c.iter().max().unwrap() + 1
        };
        assert!(count(0.05) < count(1.0));
        assert!(count(1.0) <= count(10.0));
    }
}
