//! Recursive majority control from one controller: the worklist fixed point, then the last hop of
//! the proof for every controlled entity.

use ahash::{AHashMap, AHashSet};
use graph_core::model::ShareKind;
use graph_core::{Adjacent, EdgeId, EdgeKind, NodeId, NodeKind, PropertyGraph};

use super::{
    ControlBasis, ControlConfig, ControlLink, PCT_EPSILON, has_general_partner, is_manager_holding,
    is_manages_relation, is_party, stake,
};

/// Buffers reused between the worklists of one thread.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// Counted stakes accumulated per candidate entity, minimum figures.
    acc: AHashMap<NodeId, f64>,
    /// The controller and everything it controls so far, in the order they joined.
    members: Vec<NodeId>,
    in_group: AHashSet<NodeId>,
    /// Cache of "has a general partner" per entity met.
    has_gp: AHashMap<NodeId, bool>,
}

/// What one owner's edges into one entity amount to.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct PairStake {
    /// Counted stake, minimum figures: the larger of capital and votes.
    pub min: f64,
    /// The same by maximum figures.
    pub max: f64,
    /// A general-partner edge: control whatever the share.
    pub general_partner: bool,
    /// An asset manager's holding of a product: control whatever the share.
    pub manager: bool,
}

/// Sums one owner's edges into one entity. Capital is equity plus limited-partner shares
/// (limited partners count only when the entity has no general partner); votes are counted
/// apart and the larger of the two is the owner's weight, so that one holding stated both as
/// shares and as votes is not counted twice.
pub(super) fn pair_stake(
    g: &PropertyGraph,
    owner: NodeId,
    owned: NodeId,
    edges: impl Iterator<Item = EdgeId>,
    has_gp: bool,
) -> PairStake {
    let (mut cap_min, mut cap_max, mut vote_min, mut vote_max) = (0.0, 0.0, 0.0, 0.0);
    let mut out = PairStake::default();
    for e in edges {
        let Some((min, max, kind)) = stake(g, e) else {
            continue;
        };
        out.manager = is_manager_holding(g, owner, owned);
        match kind {
            ShareKind::Equity => {
                cap_min += min;
                cap_max += max;
            }
            ShareKind::LimitedPartner if !has_gp => {
                cap_min += min;
                cap_max += max;
            }
            ShareKind::LimitedPartner => {}
            ShareKind::Voting => {
                vote_min += min;
                vote_max += max;
            }
            ShareKind::GeneralPartner => out.general_partner = true,
        }
    }
    out.min = f64::max(cap_min, vote_min);
    out.max = f64::max(cap_max, vote_max);
    out
}

/// Whether an edge counts towards control of its target (so belongs in a proof).
pub(super) fn counts(g: &PropertyGraph, e: EdgeId, has_gp: bool) -> bool {
    match stake(g, e) {
        Some((_, _, ShareKind::LimitedPartner)) => !has_gp,
        Some(_) => true,
        None => is_manages_relation(g, e),
    }
}

/// Runs of one node's adjacency that share the same neighbour (the CSR sorts a kind's
/// neighbours, so they are contiguous).
fn runs(adj: &[Adjacent]) -> impl Iterator<Item = &[Adjacent]> + '_ {
    adj.chunk_by(|a, b| a.node == b.node)
}

impl Scratch {
    fn gp(&mut self, g: &PropertyGraph, z: NodeId) -> bool {
        *self
            .has_gp
            .entry(z)
            .or_insert_with(|| has_general_partner(g, z))
    }

    fn join(&mut self, z: NodeId) {
        if self.in_group.insert(z) {
            self.members.push(z);
        }
    }
}

/// Everything `x` controls, sorted by controlled node. `x` itself is never in the result.
pub(super) fn control_from(
    g: &PropertyGraph,
    x: NodeId,
    cfg: &ControlConfig,
    s: &mut Scratch,
) -> Vec<ControlLink> {
    s.acc.clear();
    s.members.clear();
    s.in_group.clear();
    s.members.push(x);
    s.in_group.insert(x);
    let mut adj: Vec<Adjacent> = Vec::new();
    let mut i = 0;
    // Each member is expanded once and each entity joins once: the loop ends after at most
    // (members' out-edges) steps, cycles included.
    while i < s.members.len() {
        let y = s.members[i];
        i += 1;
        adj.clear();
        adj.extend(g.out_of(y, EdgeKind::Owns));
        for run in runs(&adj) {
            let z = run[0].node;
            if s.in_group.contains(&z) {
                continue;
            }
            let has_gp = s.gp(g, z);
            let p = pair_stake(g, y, z, run.iter().map(|a| a.edge), has_gp);
            if p.general_partner || p.manager {
                s.join(z);
                continue;
            }
            let total = s.acc.entry(z).or_insert(0.0);
            *total += p.min;
            if *total > cfg.majority_pct + PCT_EPSILON {
                s.join(z);
            }
        }
        for a in g.out_of(y, EdgeKind::Relation) {
            if is_manages_relation(g, a.edge)
                && g.kind(a.node) == NodeKind::Entity
                && !s.in_group.contains(&a.node)
            {
                s.join(a.node);
            }
        }
    }
    if s.members.len() == 1 {
        return Vec::new();
    }
    let mut links = Vec::with_capacity(s.members.len() - 1);
    for idx in 1..s.members.len() {
        let z = s.members[idx];
        links.push(last_hop(g, x, z, s));
    }
    set_depths(g, x, &mut links);
    links.sort_unstable_by_key(|l| l.controlled);
    links
}

/// The edges into `z` from the final group of `x`, their sums and the basis.
fn last_hop(g: &PropertyGraph, x: NodeId, z: NodeId, s: &mut Scratch) -> ControlLink {
    let has_gp = s.gp(g, z);
    let adj: Vec<Adjacent> = g.in_of(z, EdgeKind::Owns).collect();
    let (mut pct_min, mut pct_max) = (0.0, 0.0);
    let (mut gp, mut manages) = (false, false);
    let mut via = Vec::new();
    for run in runs(&adj) {
        let y = run[0].node;
        if !s.in_group.contains(&y) || !is_party(g, y) {
            continue;
        }
        let p = pair_stake(g, y, z, run.iter().map(|a| a.edge), has_gp);
        pct_min += p.min;
        pct_max += p.max;
        gp |= p.general_partner;
        manages |= p.manager;
        // An asset manager's holding of its product proves control whatever its kind.
        via.extend(
            run.iter()
                .filter(|a| p.manager || counts(g, a.edge, has_gp))
                .map(|a| a.edge),
        );
    }
    for a in g.in_of(z, EdgeKind::Relation) {
        if s.in_group.contains(&a.node) && is_manages_relation(g, a.edge) {
            manages = true;
            via.push(a.edge);
        }
    }
    let basis = if gp {
        ControlBasis::GeneralPartner
    } else if manages {
        ControlBasis::Manages
    } else {
        ControlBasis::Majority
    };
    debug_assert!(x != z);
    ControlLink {
        controller: x,
        controlled: z,
        basis,
        pct_min,
        pct_max: pct_max.min(100.0).max(pct_min),
        via,
        depth: 0,
    }
}

/// Sets each link's depth (shortest chain over proof edges from `x`) and sorts its proof edges
/// by the depth of their source, so that following the first edge backwards always reaches `x`.
fn set_depths(g: &PropertyGraph, x: NodeId, links: &mut [ControlLink]) {
    // Successors over proof edges: source -> links whose proof has an edge from it.
    let mut succ: AHashMap<NodeId, Vec<usize>> = AHashMap::new();
    for (i, l) in links.iter().enumerate() {
        for &e in &l.via {
            succ.entry(g.edge(e).src).or_default().push(i);
        }
    }
    let mut depth: AHashMap<NodeId, u32> = AHashMap::with_capacity(links.len() + 1);
    depth.insert(x, 0);
    let mut queue = std::collections::VecDeque::from([x]);
    while let Some(v) = queue.pop_front() {
        let d = depth[&v];
        for &i in succ.get(&v).map_or(&[][..], |v| v.as_slice()) {
            let z = links[i].controlled;
            if let std::collections::hash_map::Entry::Vacant(slot) = depth.entry(z) {
                slot.insert(d + 1);
                queue.push_back(z);
            }
        }
    }
    for l in links.iter_mut() {
        // Every member joined through edges from earlier members, so every link is reached.
        l.depth = depth.get(&l.controlled).copied().unwrap_or(u32::MAX);
        l.via
            .sort_by_key(|&e| (depth.get(&g.edge(e).src).copied().unwrap_or(u32::MAX), e));
    }
}
