//! Traversal detectors over the snapshot: ultimate controllers, ownership paths, linked
//! accounts, the best explained connection, neighbourhoods and group drawings.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use ahash::{AHashMap, AHashSet};
use async_graphql::{ComplexObject, ID, SimpleObject};
use detectors::control::{ControlBasis, ControlConfig};
use detectors::results::LinkRecord;
use graph_core::model::RelationKind;
use graph_core::{EdgeData, EdgeId, EdgeKind as GEdgeKind, NodeId, NodeKind};

use super::groups::{Language, strength};
use super::subjects::{Account, Subject, label};
use super::{Criterion, EdgeKind, Req, Strength, SubjectKind};
use crate::error::{ApiError, Code};

/// A node to draw.
#[derive(Debug, Clone, SimpleObject)]
pub struct GraphNode {
    pub id: ID,
    pub kind: SubjectKind,
    pub label: String,
    /// For an account, its highest-scoring suspected group.
    pub group_id: Option<ID>,
}

/// An edge to draw.
#[derive(Debug, Clone, SimpleObject)]
pub struct GraphEdge {
    pub id: ID,
    pub source: ID,
    pub target: ID,
    pub kind: EdgeKind,
    /// Share %, role, relation, identifier kind, counts or criteria.
    pub label: String,
    /// The same label in Simplified Chinese (codes in words, counts in Chinese phrasing).
    pub label_zh: String,
    /// Evidence weight (evidence links), or share in percent (shareholdings).
    pub weight: Option<f64>,
    /// Evidence links only.
    pub strength: Option<Strength>,
    /// Evidence links only: the criterion of the strongest signal.
    pub criterion: Option<Criterion>,
}

/// Nodes and edges for drawing.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct Subgraph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// True when the node limit cut the neighbourhood short.
    pub truncated: bool,
}

/// An ultimate controller with a proof.
#[derive(Debug, SimpleObject)]
pub struct UltimateController {
    pub controller: Subject,
    /// majority, general_partner, manages, beneficial_owner, senior_managing_official or holder.
    pub basis: String,
    /// The integrated stake in percent, for beneficial owners (the minimum of a stated range).
    pub share: Option<f64>,
    /// The first proof: edges from the controller to the subject.
    pub path: Vec<GraphEdge>,
    /// How many proof paths were found.
    pub path_count: i32,
}

/// A chain of shareholdings.
#[derive(Debug, Clone, SimpleObject)]
pub struct OwnershipPath {
    pub edges: Vec<GraphEdge>,
    /// Product of the shares along the chain, in percent (ranges: lower and upper bounds).
    pub share_min: f64,
    pub share_max: f64,
}

/// An account linked by evidence.
#[derive(Debug, SimpleObject)]
pub struct LinkedAccount {
    pub account: Account,
    pub hops: i32,
    /// Product of the link weights along the way.
    pub weight: f64,
    /// Criteria of the last link.
    pub criteria: Vec<Criterion>,
}

/// The best explained path between two subjects.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Connection {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Each step's sentence in English and in Chinese.
    #[graphql(skip)]
    pub sentences: Vec<(String, String)>,
    /// The summed cost (lower is a stronger explanation).
    pub cost: f64,
}

#[ComplexObject]
impl Connection {
    /// One sentence per edge, in order from `a` to `b`; in Chinese with `lang: ZH`.
    async fn explanation(&self, #[graphql(default)] lang: Language) -> Vec<String> {
        self.sentences
            .iter()
            .map(|(en, zh)| match lang {
                Language::En => en.clone(),
                Language::Zh => zh.clone(),
            })
            .collect()
    }
}

/// An account alike by relationship embedding.
#[derive(Debug, SimpleObject)]
pub struct SimilarAccount {
    pub account: Account,
    pub cosine: f64,
}

pub fn graph_node(r: &Req, n: NodeId) -> GraphNode {
    let s = &r.snap;
    GraphNode {
        id: ID(s.public_id(n)),
        kind: s.graph.kind(n).into(),
        label: label(r, n),
        group_id: s
            .groups_of(n)
            .iter()
            .max_by(|a, b| s.group(**a).score.total_cmp(&s.group(**b).score))
            .map(|g| ID(s.group(*g).id.clone())),
    }
}

fn pct(min: f32, max: f32) -> String {
    if (min - max).abs() < 1e-4 {
        format!("{min:.2}%")
    } else {
        format!("{min:.2}-{max:.2}%")
    }
}

/// An edge of the graph, drawn.
pub fn graph_edge(r: &Req, e: EdgeId) -> GraphEdge {
    let s = &r.snap;
    let edge = s.graph.edge(e);
    let zh = |code: &str| reports::i18n::code(reports::Lang::Zh, code).into_owned();
    let (label, label_zh, weight) = match edge.data {
        EdgeData::HeldBy => ("holder".to_owned(), "持有人".to_owned(), None),
        EdgeData::AtMember => ("member".to_owned(), "开户期货公司".to_owned(), None),
        EdgeData::Owns {
            share_min,
            share_max,
            kind,
        } => (
            format!("{} {kind}", pct(share_min, share_max)),
            format!("{} {}", zh(&kind.to_string()), pct(share_min, share_max)),
            Some(f64::from(share_min)),
        ),
        EdgeData::Officer { role } => (role.to_string(), zh(&role.to_string()), None),
        EdgeData::Relation { kind } => (kind.to_string(), zh(&kind.to_string()), None),
        EdgeData::Authorised { role } => (role.to_string(), zh(&role.to_string()), None),
        EdgeData::HasIdentifier { .. } => {
            let kind = match s.graph.node(edge.dst) {
                graph_core::NodeData::Identifier { kind } => kind.to_string(),
                _ => "identifier".to_owned(),
            };
            let words = zh(&kind);
            (kind, words, None)
        }
        EdgeData::Transfers { count, total } => (
            format!("{count} transfers, {total:.0} CNY"),
            format!("划转 {count} 笔，共 {total:.0} 元"),
            None,
        ),
        EdgeData::TradedWith {
            instrument, trades, ..
        } => (
            format!("{trades} trades {}", s.graph.instrument(instrument)),
            format!("成交 {trades} 笔 {}", s.graph.instrument(instrument)),
            None,
        ),
    };
    GraphEdge {
        id: ID(format!("e{}", e.0)),
        source: ID(s.public_id(edge.src)),
        target: ID(s.public_id(edge.dst)),
        kind: EdgeKind::from_graph(edge.data.kind()),
        label,
        label_zh,
        weight,
        strength: None,
        criterion: None,
    }
}

/// An evidence link, drawn.
pub fn evidence_edge(r: &Req, l: &LinkRecord) -> GraphEdge {
    let mut criteria: Vec<&str> = l.signals.iter().map(|s| s.criterion.as_str()).collect();
    criteria.sort_unstable();
    criteria.dedup();
    let (a, b) = if l.a <= l.b {
        (&l.a, &l.b)
    } else {
        (&l.b, &l.a)
    };
    GraphEdge {
        id: ID(format!("x{a}~{b}")),
        source: ID(l.a.clone()),
        target: ID(l.b.clone()),
        kind: EdgeKind::Evidence,
        label: format!("{} {:.2}", criteria.join(" "), l.weight),
        label_zh: format!("{} {:.2}", criteria.join(" "), l.weight),
        weight: Some(f64::from(l.weight)),
        strength: Some(strength(&r.snap, l.weight)),
        criterion: l
            .signals
            .iter()
            .max_by(|x, y| x.weight.total_cmp(&y.weight))
            .and_then(|sig| Criterion::parse(&sig.criterion)),
    }
}

fn basis_text(b: &ControlBasis) -> (String, Option<f64>) {
    match b {
        ControlBasis::Majority => ("majority".into(), None),
        ControlBasis::GeneralPartner => ("general_partner".into(), None),
        ControlBasis::Manages => ("manages".into(), None),
        ControlBasis::BeneficialOwner { pct_min, .. } => {
            ("beneficial_owner".into(), Some(*pct_min))
        }
        ControlBasis::SeniorManagingOfficial { role } => {
            (format!("senior_managing_official ({role})"), None)
        }
        ControlBasis::Holder => ("holder".into(), None),
    }
}

pub fn ultimate_controllers(
    r: &Req,
    n: NodeId,
    threshold: f64,
) -> Result<Vec<UltimateController>, ApiError> {
    if !(0.0..100.0).contains(&threshold) {
        return Err(ApiError::bad_input(
            "`threshold` is a percentage in [0, 100)",
        ));
    }
    let s = &r.snap;
    if !matches!(
        s.graph.kind(n),
        NodeKind::Account | NodeKind::Entity | NodeKind::Person
    ) {
        return Err(ApiError::bad_input(
            "ultimate controllers are defined for accounts, entities and persons",
        ));
    }
    let cfg = ControlConfig {
        majority_pct: threshold,
        max_paths: 4,
        ..ControlConfig::default()
    };
    Ok(detectors::control::ultimate_controllers(&s.graph, n, &cfg)
        .into_iter()
        .map(|u| {
            let (basis, share) = basis_text(&u.basis);
            UltimateController {
                controller: Subject::of(s, u.controller),
                basis,
                share,
                path: u
                    .paths
                    .first()
                    .map(|p| p.iter().map(|e| graph_edge(r, *e)).collect())
                    .unwrap_or_default(),
                path_count: u.paths.len() as i32,
            }
        })
        .collect())
}

/// Every chain of `owns` edges from `from` to `to` (an account's holder stands for it).
pub fn ownership_paths(r: &Req, from: NodeId, to: NodeId, max_depth: usize) -> Vec<OwnershipPath> {
    let s = &r.snap;
    let g = &s.graph;
    let (target, held_by) = match g.kind(to) {
        NodeKind::Account => match g.out_of(to, GEdgeKind::HeldBy).next() {
            Some(h) => (h.node, Some(h.edge)),
            None => return Vec::new(),
        },
        _ => (to, None),
    };
    let mut out = Vec::new();
    let mut path: Vec<EdgeId> = Vec::new();
    let mut on_path: AHashSet<NodeId> = AHashSet::new();
    fn walk(
        g: &graph_core::PropertyGraph,
        n: NodeId,
        target: NodeId,
        max_depth: usize,
        path: &mut Vec<EdgeId>,
        on_path: &mut AHashSet<NodeId>,
        out: &mut Vec<Vec<EdgeId>>,
    ) {
        if out.len() >= 100 {
            return;
        }
        if n == target && !path.is_empty() {
            out.push(path.clone());
            return;
        }
        if path.len() >= max_depth {
            return;
        }
        on_path.insert(n);
        for e in g.out_of(n, GEdgeKind::Owns) {
            if !on_path.contains(&e.node) {
                path.push(e.edge);
                walk(g, e.node, target, max_depth, path, on_path, out);
                path.pop();
            }
        }
        on_path.remove(&n);
    }
    let mut found = Vec::new();
    walk(
        g,
        from,
        target,
        max_depth,
        &mut path,
        &mut on_path,
        &mut found,
    );
    for p in found {
        let (mut lo, mut hi) = (1.0f64, 1.0f64);
        for e in &p {
            if let EdgeData::Owns {
                share_min,
                share_max,
                ..
            } = g.edge(*e).data
            {
                lo *= f64::from(share_min) / 100.0;
                hi *= f64::from(share_max) / 100.0;
            }
        }
        let mut edges: Vec<GraphEdge> = p.iter().map(|e| graph_edge(r, *e)).collect();
        if let Some(h) = held_by {
            edges.push(graph_edge(r, h));
        }
        out.push(OwnershipPath {
            edges,
            share_min: lo * 100.0,
            share_max: hi * 100.0,
        });
    }
    out.sort_by(|a, b| b.share_max.total_cmp(&a.share_max));
    out
}

fn link_criteria(l: &LinkRecord) -> Vec<Criterion> {
    let mut c: Vec<Criterion> = l
        .signals
        .iter()
        .filter_map(|s| Criterion::parse(&s.criterion))
        .collect();
    c.sort_by_key(|c| c.as_str());
    c.dedup();
    c
}

pub fn linked_accounts(
    r: &Req,
    start: NodeId,
    max_hops: usize,
    criteria: Option<&[Criterion]>,
    min_weight: f32,
) -> Vec<LinkedAccount> {
    let s = &r.snap;
    let mut best: AHashMap<NodeId, (usize, f32, u32)> = AHashMap::new();
    let mut queue = VecDeque::from([(start, 0usize, 1.0f32)]);
    let mut seen = AHashSet::from([start]);
    while let Some((n, hops, w)) = queue.pop_front() {
        if hops == max_hops {
            continue;
        }
        for li in s.links_of(n) {
            let l = &s.links[*li as usize];
            if l.weight < min_weight {
                continue;
            }
            if let Some(want) = criteria
                && !l
                    .signals
                    .iter()
                    .any(|sig| want.iter().any(|c| c.as_str() == sig.criterion))
            {
                continue;
            }
            let o = s.link_other(*li, n);
            if seen.insert(o) {
                let ww = w * l.weight;
                best.insert(o, (hops + 1, ww, *li));
                queue.push_back((o, hops + 1, ww));
            }
        }
        if best.len() >= super::MAX_PAGE {
            break;
        }
    }
    let mut out: Vec<(NodeId, (usize, f32, u32))> = best.into_iter().collect();
    out.sort_by(|a, b| {
        a.1.0
            .cmp(&b.1.0)
            .then(b.1.1.total_cmp(&a.1.1))
            .then(a.0.cmp(&b.0))
    });
    out.into_iter()
        .map(|(n, (hops, w, li))| LinkedAccount {
            account: Account(n),
            hops: hops as i32,
            weight: f64::from(w),
            criteria: link_criteria(&s.links[li as usize]),
        })
        .collect()
}

/// A step of a connection: a graph edge or an evidence link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Step {
    Edge(EdgeId),
    Link(u32),
}

/// Identifiers shared by more subjects than this explain nothing and are not crossed.
const HUB: usize = 200;

fn step_cost(r: &Req, e: EdgeId) -> Option<f64> {
    let s = &r.snap;
    let edge = s.graph.edge(e);
    Some(match edge.data {
        EdgeData::HeldBy => 0.1,
        EdgeData::AtMember => return None,
        EdgeData::Owns { share_max, .. } => {
            if share_max > 50.0 {
                0.2
            } else {
                0.4
            }
        }
        EdgeData::Officer { .. } => 0.5,
        EdgeData::Relation { kind } => {
            if kind.is_family() || kind == RelationKind::Manages {
                0.4
            } else {
                0.6
            }
        }
        EdgeData::Authorised { .. } => 0.5,
        EdgeData::HasIdentifier { .. } => {
            let holders = s.graph.in_of(edge.dst, GEdgeKind::HasIdentifier).len();
            if holders > HUB {
                return None;
            }
            0.5 + (holders.max(1) as f64).ln() * 0.5
        }
        EdgeData::Transfers { .. } => 0.8,
        EdgeData::TradedWith { .. } => 2.0,
    })
}

/// A contract code (role, relation kind, share kind) in Chinese words.
fn zh_code(value: &str) -> String {
    reports::i18n::code(reports::Lang::Zh, value).into_owned()
}

/// One step of a connection in words: (English, Chinese).
fn sentence(r: &Req, step: Step) -> (String, String) {
    let s = &r.snap;
    let name = |n: NodeId| {
        let l = label(r, n);
        let id = s.public_id(n);
        if l == id { id } else { format!("{id} ({l})") }
    };
    match step {
        Step::Link(li) => {
            let l = &s.links[li as usize];
            let signals = super::groups::evidence_link(r, l)
                .map(|e| e.signals)
                .unwrap_or_default();
            let words = |lang: Language, sep: &str| {
                signals
                    .iter()
                    .map(|sig| {
                        let c = sig.criterion.map_or("-", |c| c.as_str());
                        match lang {
                            Language::En => format!("{c}: {}", sig.text(lang)),
                            Language::Zh => format!("{c}：{}", sig.text(lang)),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            (
                format!(
                    "{} and {} are linked (weight {:.2}): {}",
                    l.a,
                    l.b,
                    l.weight,
                    words(Language::En, "; ")
                ),
                format!(
                    "{} 与 {} 存在关联（权重 {:.2}）：{}",
                    l.a,
                    l.b,
                    l.weight,
                    words(Language::Zh, "；")
                ),
            )
        }
        Step::Edge(e) => {
            let edge = s.graph.edge(e);
            let (a, b) = (name(edge.src), name(edge.dst));
            match edge.data {
                EdgeData::HeldBy => (
                    format!("account {a} is held by {b}"),
                    format!("账户 {a} 由 {b} 持有"),
                ),
                EdgeData::AtMember => (
                    format!("{a} is at member {b}"),
                    format!("{a} 在会员 {b} 处开户"),
                ),
                EdgeData::Owns {
                    share_min,
                    share_max,
                    kind,
                } => {
                    let share = pct(share_min, share_max);
                    (
                        format!("{a} holds {share} ({kind}) of {b}"),
                        format!("{a} 持有 {b} {share}（{}）", zh_code(&kind.to_string())),
                    )
                }
                EdgeData::Officer { role } => (
                    format!("{a} is {role} of {b}"),
                    format!("{a} 担任 {b} 的{}", zh_code(&role.to_string())),
                ),
                EdgeData::Relation { kind } => (
                    format!("{a} is {kind} of {b}"),
                    format!("{a} 是 {b} 的{}", zh_code(&kind.to_string())),
                ),
                EdgeData::Authorised { role } => (
                    format!("{a} is {role} on account {b}"),
                    format!("{a} 是账户 {b} 的{}", zh_code(&role.to_string())),
                ),
                EdgeData::HasIdentifier { .. } => {
                    let holders = s.graph.in_of(edge.dst, GEdgeKind::HasIdentifier).len();
                    (
                        format!("{a} reported {b} (shared by {holders} subjects)"),
                        format!("{a} 登记了 {b}（{holders} 个主体共用）"),
                    )
                }
                EdgeData::Transfers { count, total } => (
                    format!("{a} sent {count} transfers totalling {total:.2} CNY to {b}"),
                    format!("{a} 向 {b} 划转资金 {count} 笔，合计 {total:.2} 元"),
                ),
                EdgeData::TradedWith {
                    instrument,
                    trades,
                    volume,
                } => {
                    let instrument = s.graph.instrument(instrument);
                    (
                        format!(
                            "{a} bought from {b} in {trades} trades ({volume} lots of {instrument})"
                        ),
                        format!(
                            "{a} 与 {b} 成交 {trades} 笔，{a} 买入 {instrument} 共 {volume} 手"
                        ),
                    )
                }
            }
        }
    }
}

/// Distance, hops and the step a node was reached by.
type Reached = (u64, usize, Option<(NodeId, Step)>);

/// Dijkstra over graph edges (both directions) and evidence links, bounded by hops and by the
/// number of nodes settled.
pub fn connection(r: &Req, a: NodeId, b: NodeId, max_hops: usize) -> Option<Connection> {
    let s = &r.snap;
    if a == b {
        return Some(Connection {
            nodes: vec![graph_node(r, a)],
            edges: Vec::new(),
            sentences: Vec::new(),
            cost: 0.0,
        });
    }
    const MAX_SETTLED: usize = 200_000;
    let scale = 1000.0;
    let mut dist: AHashMap<NodeId, Reached> = AHashMap::new();
    let mut heap = BinaryHeap::new();
    dist.insert(a, (0, 0, None));
    heap.push(Reverse((0u64, a.0)));
    let mut settled = AHashSet::new();
    while let Some(Reverse((d, n))) = heap.pop() {
        let n = NodeId(n);
        if !settled.insert(n) {
            continue;
        }
        if n == b || settled.len() > MAX_SETTLED {
            break;
        }
        let hops = dist[&n].1;
        if hops >= max_hops {
            continue;
        }
        // Hubs are reached but not crossed.
        if s.graph.kind(n) == NodeKind::Identifier
            && s.graph.in_of(n, GEdgeKind::HasIdentifier).len() > HUB
        {
            continue;
        }
        let mut relax = |m: NodeId, cost: f64, step: Step| {
            let nd = d + (cost * scale) as u64;
            let better = dist.get(&m).is_none_or(|(od, _, _)| nd < *od);
            if better {
                dist.insert(m, (nd, hops + 1, Some((n, step))));
                heap.push(Reverse((nd, m.0)));
            }
        };
        for adj in s.graph.out(n).chain(s.graph.inn(n)) {
            if let Some(c) = step_cost(r, adj.edge) {
                relax(adj.node, c, Step::Edge(adj.edge));
            }
        }
        for li in s.links_of(n) {
            let l = &s.links[*li as usize];
            relax(
                s.link_other(*li, n),
                (1.0 - f64::from(l.weight)).max(0.05),
                Step::Link(*li),
            );
        }
    }
    let (cost, _, _) = *dist.get(&b)?;
    if !settled.contains(&b) {
        return None;
    }
    let mut steps = Vec::new();
    let mut cur = b;
    while let Some((prev, step)) = dist[&cur].2 {
        steps.push((step, cur));
        cur = prev;
    }
    steps.reverse();
    let mut nodes = vec![graph_node(r, a)];
    let mut edges = Vec::new();
    let mut sentences = Vec::new();
    for (step, next) in steps {
        nodes.push(graph_node(r, next));
        edges.push(match step {
            Step::Edge(e) => graph_edge(r, e),
            Step::Link(li) => evidence_edge(r, &s.links[li as usize]),
        });
        sentences.push(sentence(r, step));
    }
    Some(Connection {
        nodes,
        edges,
        sentences,
        cost: cost as f64 / scale,
    })
}

/// Collects nodes and edges without duplicates.
#[derive(Default)]
struct Drawing {
    nodes: Vec<NodeId>,
    node_set: AHashSet<NodeId>,
    edges: Vec<GraphEdge>,
    edge_set: AHashSet<String>,
}

impl Drawing {
    fn node(&mut self, n: NodeId) -> bool {
        if self.node_set.insert(n) {
            self.nodes.push(n);
            true
        } else {
            false
        }
    }

    fn edge(&mut self, e: GraphEdge) {
        if self.edge_set.insert(e.id.to_string()) {
            self.edges.push(e);
        }
    }

    fn finish(self, r: &Req, truncated: bool) -> Subgraph {
        Subgraph {
            nodes: self.nodes.iter().map(|n| graph_node(r, *n)).collect(),
            edges: self.edges,
            truncated,
        }
    }
}

pub fn neighborhood(
    r: &Req,
    start: NodeId,
    depth: usize,
    limit: usize,
    kinds: Option<&[EdgeKind]>,
) -> Subgraph {
    let s = &r.snap;
    let allowed = |k: EdgeKind| kinds.is_none_or(|ks| ks.contains(&k));
    let mut d = Drawing::default();
    d.node(start);
    let mut frontier = vec![start];
    let mut truncated = false;
    // Each edge is met from both ends: keep it once, and draw it only when both ends made it.
    let mut pending_edges: Vec<Step> = Vec::new();
    let mut pending_seen: AHashSet<Step> = AHashSet::new();
    'levels: for _ in 0..depth {
        let mut next = Vec::new();
        for &n in &frontier {
            // Hubs are drawn but not crossed: a member (its accounts are everyone's neighbours)
            // unless the drawing starts there, and identifiers shared by more than HUB subjects.
            let hub = match s.graph.kind(n) {
                NodeKind::Member => n != start,
                NodeKind::Identifier => s.graph.in_of(n, GEdgeKind::HasIdentifier).len() > HUB,
                _ => false,
            };
            if hub {
                truncated = true;
                continue;
            }
            for adj in s.graph.out(n).chain(s.graph.inn(n)) {
                let k = EdgeKind::from_graph(s.graph.edge(adj.edge).data.kind());
                if !allowed(k) {
                    continue;
                }
                if !d.node_set.contains(&adj.node) {
                    if d.nodes.len() >= limit {
                        truncated = true;
                        break 'levels;
                    }
                    d.node(adj.node);
                    next.push(adj.node);
                }
                if pending_seen.insert(Step::Edge(adj.edge)) {
                    pending_edges.push(Step::Edge(adj.edge));
                }
            }
            if allowed(EdgeKind::Evidence) {
                for li in s.links_of(n) {
                    // Strongest first: the rest are below the weak threshold.
                    if s.links[*li as usize].weight < s.weak_weight {
                        break;
                    }
                    let o = s.link_other(*li, n);
                    if !d.node_set.contains(&o) {
                        if d.nodes.len() >= limit {
                            truncated = true;
                            break 'levels;
                        }
                        d.node(o);
                        next.push(o);
                    }
                    if pending_seen.insert(Step::Link(*li)) {
                        pending_edges.push(Step::Link(*li));
                    }
                }
            }
        }
        frontier = next;
    }
    for step in pending_edges {
        match step {
            Step::Edge(e) => {
                let edge = s.graph.edge(e);
                if d.node_set.contains(&edge.src) && d.node_set.contains(&edge.dst) {
                    d.edge(graph_edge(r, e));
                }
            }
            Step::Link(li) => d.edge(evidence_edge(r, &s.links[li as usize])),
        }
    }
    d.finish(r, truncated)
}

/// A group drawn: its accounts and holders, the controller and the ownership chains to the
/// holders, the persons and entities its evidence names, order placers, identifiers shared by
/// two or more of its subjects, transfers between its accounts, and its evidence links.
pub fn group_graph(r: &Req, gi: u32) -> Subgraph {
    let s = &r.snap;
    let g = &s.graph;
    let rec = s.group(gi);
    let mut d = Drawing::default();
    let accounts: Vec<NodeId> = rec.accounts.iter().filter_map(|a| g.find(a)).collect();
    let mut subjects: Vec<NodeId> = Vec::new();
    for &a in &accounts {
        d.node(a);
        subjects.push(a);
        for h in g.out_of(a, GEdgeKind::HeldBy) {
            d.node(h.node);
            subjects.push(h.node);
            d.edge(graph_edge(r, h.edge));
        }
        for p in g.in_of(a, GEdgeKind::Authorised) {
            d.node(p.node);
            d.edge(graph_edge(r, p.edge));
        }
    }
    // The controller and its proof paths to each account.
    if let Some(c) = rec.controller_id.as_deref().and_then(|c| g.find(c)) {
        d.node(c);
        let cfg = ControlConfig {
            max_paths: 4,
            ..ControlConfig::default()
        };
        for &a in &accounts {
            for u in detectors::control::ultimate_controllers(g, a, &cfg) {
                if u.controller != c {
                    continue;
                }
                for p in &u.paths {
                    for e in p {
                        let edge = g.edge(*e);
                        d.node(edge.src);
                        d.node(edge.dst);
                        d.edge(graph_edge(r, *e));
                    }
                }
            }
        }
    }
    // Persons and entities the evidence names.
    for l in &rec.links {
        for sig in &l.signals {
            for id in &sig.subjects {
                if let Some(n) = g.find(id)
                    && matches!(g.kind(n), NodeKind::Person | NodeKind::Entity)
                {
                    d.node(n);
                }
            }
        }
    }
    // Identifiers shared by two or more of the group's subjects (hubs left out).
    let mut id_users: AHashMap<NodeId, Vec<(NodeId, EdgeId)>> = AHashMap::new();
    for &n in &subjects {
        for e in g.out_of(n, GEdgeKind::HasIdentifier) {
            id_users.entry(e.node).or_default().push((n, e.edge));
        }
    }
    let mut shared: Vec<_> = id_users
        .into_iter()
        .filter(|(i, users)| {
            let mut distinct: Vec<NodeId> = users.iter().map(|u| u.0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len() >= 2 && g.in_of(*i, GEdgeKind::HasIdentifier).len() <= HUB
        })
        .collect();
    shared.sort_by_key(|(i, _)| *i);
    for (i, users) in shared {
        d.node(i);
        for (_, e) in users {
            d.edge(graph_edge(r, e));
        }
    }
    // Edges among the drawn persons and entities: relations, officers, holdings.
    let drawn: Vec<NodeId> = d.nodes.clone();
    for &n in &drawn {
        for kind in [GEdgeKind::Relation, GEdgeKind::Officer, GEdgeKind::Owns] {
            for e in g.out_of(n, kind) {
                if d.node_set.contains(&e.node) {
                    d.edge(graph_edge(r, e.edge));
                }
            }
        }
        if g.kind(n) == NodeKind::Account {
            for e in g.out_of(n, GEdgeKind::Transfers) {
                if d.node_set.contains(&e.node) {
                    d.edge(graph_edge(r, e.edge));
                }
            }
        }
    }
    for l in &rec.links {
        d.edge(evidence_edge(r, l));
    }
    d.finish(r, false)
}

pub fn similar_accounts(r: &Req, id: &str, k: usize) -> Result<Vec<SimilarAccount>, ApiError> {
    let s = &r.snap;
    let Some(emb) = &s.embeddings else {
        return Err(ApiError::new(
            Code::NoAnalysis,
            "the store has no embeddings yet (run the analysis)",
        ));
    };
    let Some(similar) = emb.similar(id, k) else {
        return Ok(Vec::new());
    };
    Ok(similar
        .into_iter()
        .filter_map(|(other, cos)| {
            s.graph.find(other).map(|n| SimilarAccount {
                account: Account(n),
                cosine: f64::from(cos),
            })
        })
        .collect())
}
