//! The property graph: interned nodes, typed edges, built with petgraph and frozen into CSR views.
//!
//! Building goes through [`GraphBuilder`], which accepts the contract's records in any order of
//! tables as long as nodes come before the edges that name them (stores scan node tables first).
//! Transfers and trades are aggregated while building: one `transfers` edge per ordered account
//! pair and one `traded-with` edge per (buyer, seller, instrument). [`GraphBuilder::finish`] turns
//! the petgraph graph into a [`PropertyGraph`] whose out- and in-adjacency are compressed sparse
//! rows sorted by edge kind, so that the neighbours of one kind are a contiguous slice.

use std::fmt;
use std::mem::size_of;

use ahash::AHashMap;
use indexmap::IndexSet;
use petgraph::graph::{EdgeIndex, Graph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::model::{
    AccountStatus, AccountType, AuthRole, EntityKind, IdentifierKind, OfficerRole, Record,
    RelationKind, ShareKind,
};

/// A dense node index, valid for the [`PropertyGraph`] it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index as a `usize`, for indexing per-node arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A dense edge index, valid for the [`PropertyGraph`] it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EdgeId(pub u32);

impl EdgeId {
    /// The index as a `usize`, for indexing per-edge arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeKind {
    Account,
    Person,
    Entity,
    Member,
    Identifier,
}

impl NodeKind {
    /// Every kind, in declaration order.
    pub const ALL: [NodeKind; 5] = [
        NodeKind::Account,
        NodeKind::Person,
        NodeKind::Entity,
        NodeKind::Member,
        NodeKind::Identifier,
    ];

    /// A lower-case name for display.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Account => "account",
            NodeKind::Person => "person",
            NodeKind::Entity => "entity",
            NodeKind::Member => "member",
            NodeKind::Identifier => "identifier",
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of edge. The declaration order is the order of adjacency slices in the CSR views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum EdgeKind {
    /// account -> holder (person or entity)
    HeldBy,
    /// account -> member
    AtMember,
    /// owner (person or entity) -> owned entity
    Owns,
    /// person -> entity
    Officer,
    /// person or entity -> person or entity
    Relation,
    /// person -> account
    Authorised,
    /// subject (account, person or entity) -> identifier
    HasIdentifier,
    /// account -> account, aggregated per ordered pair
    Transfers,
    /// buyer account -> seller account, aggregated per pair and instrument
    TradedWith,
}

impl EdgeKind {
    /// Every kind, in declaration order.
    pub const ALL: [EdgeKind; 9] = [
        EdgeKind::HeldBy,
        EdgeKind::AtMember,
        EdgeKind::Owns,
        EdgeKind::Officer,
        EdgeKind::Relation,
        EdgeKind::Authorised,
        EdgeKind::HasIdentifier,
        EdgeKind::Transfers,
        EdgeKind::TradedWith,
    ];

    /// The kebab-case name used in docs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::HeldBy => "held-by",
            EdgeKind::AtMember => "at-member",
            EdgeKind::Owns => "owns",
            EdgeKind::Officer => "officer",
            EdgeKind::Relation => "relation",
            EdgeKind::Authorised => "authorised",
            EdgeKind::HasIdentifier => "has-identifier",
            EdgeKind::Transfers => "transfers",
            EdgeKind::TradedWith => "traded-with",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the graph keeps of a node; names and other descriptive columns stay in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeData {
    Account {
        account_type: Option<AccountType>,
        status: Option<AccountStatus>,
    },
    Person,
    Entity {
        kind: Option<EntityKind>,
    },
    Member,
    Identifier {
        kind: IdentifierKind,
    },
}

impl NodeData {
    /// The node's kind.
    pub fn kind(&self) -> NodeKind {
        match self {
            NodeData::Account { .. } => NodeKind::Account,
            NodeData::Person => NodeKind::Person,
            NodeData::Entity { .. } => NodeKind::Entity,
            NodeData::Member => NodeKind::Member,
            NodeData::Identifier { .. } => NodeKind::Identifier,
        }
    }
}

/// The properties of an edge, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum EdgeData {
    HeldBy,
    AtMember,
    Owns {
        share_min: f32,
        share_max: f32,
        kind: ShareKind,
    },
    Officer {
        role: OfficerRole,
    },
    Relation {
        kind: RelationKind,
    },
    Authorised {
        role: AuthRole,
    },
    HasIdentifier {
        count: Option<u64>,
        first_seen: Option<i64>,
        last_seen: Option<i64>,
    },
    Transfers {
        count: u32,
        total: f64,
    },
    TradedWith {
        instrument: u32,
        trades: u32,
        volume: u64,
    },
}

impl EdgeData {
    /// The edge's kind.
    pub fn kind(&self) -> EdgeKind {
        match self {
            EdgeData::HeldBy => EdgeKind::HeldBy,
            EdgeData::AtMember => EdgeKind::AtMember,
            EdgeData::Owns { .. } => EdgeKind::Owns,
            EdgeData::Officer { .. } => EdgeKind::Officer,
            EdgeData::Relation { .. } => EdgeKind::Relation,
            EdgeData::Authorised { .. } => EdgeKind::Authorised,
            EdgeData::HasIdentifier { .. } => EdgeKind::HasIdentifier,
            EdgeData::Transfers { .. } => EdgeKind::Transfers,
            EdgeData::TradedWith { .. } => EdgeKind::TradedWith,
        }
    }
}

/// One edge with its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub src: NodeId,
    pub dst: NodeId,
    pub data: EdgeData,
}

/// A reference the builder could not resolve (a record naming an id no node record defined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The table of the record.
    pub table: &'static str,
    /// The id that was not found.
    pub id: String,
}

/// A hash of an edge's data, telling identical edges apart from different ones of one kind.
fn edge_fingerprint(d: &EdgeData) -> u64 {
    // The debug form spells every field, floats included, and the data is small.
    ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(format!("{d:?}"))
}

/// The interned key of an identifier node: kind and normalised value, in a namespace that cannot
/// collide with dataset ids (which never contain the unit separator).
fn identifier_key(kind: IdentifierKind, value: &str) -> String {
    format!("\u{1f}{}\u{1f}{}", kind.as_str(), value)
}

/// What tells one person or company record from another: the keys entity resolution compares.
/// Kept for persons (identity number) and entities (name and USCC), with the record's source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectKeys {
    /// The entity's name, or the person's beside an identity number, as ingested (already
    /// NFKC-normalised).
    pub name: Option<Box<str>>,
    /// The entity's unified social credit code.
    pub uscc: Option<Box<str>>,
    /// The person's identity number, masked or not.
    pub id_number: Option<Box<str>>,
    /// Where the record came from (`registry`, `kyc:M0007`); absent when the file has no
    /// `source` column.
    pub source: Option<Box<str>>,
    /// The entity's kind, founding date and registered capital (in hundredths): what two
    /// records of one company agree on whatever language their names are written in.
    pub kind: Option<EntityKind>,
    pub established: Option<chrono::NaiveDate>,
    pub capital_cents: Option<u64>,
}

/// Builds a [`PropertyGraph`] from records.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    keys: IndexSet<Box<str>, ahash::RandomState>,
    subjects: AHashMap<u32, SubjectKeys>,
    graph: Graph<NodeData, EdgeData, petgraph::Directed, u32>,
    transfers: AHashMap<(u32, u32), EdgeIndex<u32>>,
    trades: AHashMap<(u32, u32, u32), EdgeIndex<u32>>,
    instruments: IndexSet<Box<str>, ahash::RandomState>,
    unresolved: Vec<Unresolved>,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node, or updates the data of the node that already has this key.
    pub fn add_node(&mut self, key: &str, data: NodeData) -> NodeId {
        if let Some(i) = self.keys.get_index_of(key) {
            self.graph[NodeIndex::new(i)] = data;
            return NodeId(i as u32);
        }
        let (i, _) = self.keys.insert_full(key.into());
        let ix = self.graph.add_node(data);
        debug_assert_eq!(ix.index(), i);
        NodeId(i as u32)
    }

    fn lookup(&mut self, table: &'static str, id: &str) -> Option<NodeIndex<u32>> {
        match self.keys.get_index_of(id) {
            Some(i) => Some(NodeIndex::new(i)),
            None => {
                self.unresolved.push(Unresolved {
                    table,
                    id: id.to_owned(),
                });
                None
            }
        }
    }

    fn edge(&mut self, table: &'static str, src: &str, dst: &str, data: EdgeData) {
        if let (Some(s), Some(d)) = (self.lookup(table, src), self.lookup(table, dst)) {
            self.graph.add_edge(s, d, data);
        }
    }

    /// Adds one record: a node for node records, an edge (or an aggregate update) for the rest.
    /// Reported groups are not part of the graph and are ignored here.
    pub fn add_record(&mut self, record: &Record) {
        match record {
            Record::Member(m) => {
                self.add_node(&m.member_id, NodeData::Member);
            }
            Record::Person(p) => {
                let n = self.add_node(&p.person_id, NodeData::Person);
                // A person's name is kept only beside an identity number, the one thing a name
                // is compared with.
                let keys = SubjectKeys {
                    name: p
                        .name
                        .as_deref()
                        .filter(|_| p.id_number.is_some())
                        .map(Into::into),
                    id_number: p.id_number.as_deref().map(Into::into),
                    source: p.extra.get("source").map(|s| s.as_str().into()),
                    ..SubjectKeys::default()
                };
                self.subjects.insert(n.0, keys);
            }
            Record::Entity(e) => {
                let n = self.add_node(&e.entity_id, NodeData::Entity { kind: e.kind });
                let keys = SubjectKeys {
                    name: e.name.as_deref().map(Into::into),
                    uscc: e.uscc.as_deref().map(Into::into),
                    source: e.extra.get("source").map(|s| s.as_str().into()),
                    id_number: None,
                    kind: e.kind,
                    established: e.established,
                    capital_cents: e
                        .registered_capital
                        .filter(|c| c.is_finite() && *c >= 0.0)
                        .map(|c| (c * 100.0).round() as u64),
                };
                self.subjects.insert(n.0, keys);
            }
            Record::Account(a) => {
                self.add_node(
                    &a.account_id,
                    NodeData::Account {
                        account_type: a.account_type,
                        status: a.status,
                    },
                );
                self.edge("accounts", &a.account_id, &a.holder_id, EdgeData::HeldBy);
                if let Some(m) = &a.member_id {
                    self.edge("accounts", &a.account_id, m, EdgeData::AtMember);
                }
            }
            Record::Shareholding(s) => self.edge(
                "shareholdings",
                &s.owner_id,
                &s.entity_id,
                EdgeData::Owns {
                    share_min: s.share_min as f32,
                    share_max: s.share_max as f32,
                    kind: s.kind,
                },
            ),
            Record::Officer(o) => self.edge(
                "officers",
                &o.person_id,
                &o.entity_id,
                EdgeData::Officer { role: o.role },
            ),
            Record::Relation(r) => self.edge(
                "relations",
                &r.from_id,
                &r.to_id,
                EdgeData::Relation { kind: r.kind },
            ),
            Record::Authorization(a) => self.edge(
                "authorizations",
                &a.person_id,
                &a.account_id,
                EdgeData::Authorised { role: a.role },
            ),
            Record::Identifier(i) => {
                let Some(subject) = self.lookup("identifiers", &i.subject_id) else {
                    return;
                };
                let id = self.add_node(
                    &identifier_key(i.kind, &i.value),
                    NodeData::Identifier { kind: i.kind },
                );
                self.graph.add_edge(
                    subject,
                    NodeIndex::new(id.index()),
                    EdgeData::HasIdentifier {
                        count: i.count,
                        first_seen: i.first_seen,
                        last_seen: i.last_seen,
                    },
                );
            }
            Record::Transfer(t) => {
                let (Some(s), Some(d)) = (
                    self.lookup("transfers", &t.from_account),
                    self.lookup("transfers", &t.to_account),
                ) else {
                    return;
                };
                let key = (s.index() as u32, d.index() as u32);
                match self.transfers.get(&key) {
                    Some(&e) => {
                        if let EdgeData::Transfers { count, total } = &mut self.graph[e] {
                            *count += 1;
                            *total += t.amount;
                        }
                    }
                    None => {
                        let e = self.graph.add_edge(
                            s,
                            d,
                            EdgeData::Transfers {
                                count: 1,
                                total: t.amount,
                            },
                        );
                        self.transfers.insert(key, e);
                    }
                }
            }
            Record::Trade(t) => {
                let (Some(b), Some(s)) = (
                    self.lookup("trades", &t.buy_account),
                    self.lookup("trades", &t.sell_account),
                ) else {
                    return;
                };
                let instrument = match self.instruments.get_index_of(t.instrument.as_str()) {
                    Some(i) => i as u32,
                    None => self.instruments.insert_full(t.instrument.as_str().into()).0 as u32,
                };
                let key = (b.index() as u32, s.index() as u32, instrument);
                match self.trades.get(&key) {
                    Some(&e) => {
                        if let EdgeData::TradedWith { trades, volume, .. } = &mut self.graph[e] {
                            *trades += 1;
                            *volume += t.volume;
                        }
                    }
                    None => {
                        let e = self.graph.add_edge(
                            b,
                            s,
                            EdgeData::TradedWith {
                                instrument,
                                trades: 1,
                                volume: t.volume,
                            },
                        );
                        self.trades.insert(key, e);
                    }
                }
            }
            // Reported groups and the surveillance tapes are not graph data.
            Record::ReportedGroup(_)
            | Record::Position(_)
            | Record::Order(_)
            | Record::Limit(_)
            | Record::TradingDay(_) => {}
        }
    }

    /// References that named no node, in the order they were met.
    pub fn unresolved(&self) -> &[Unresolved] {
        &self.unresolved
    }

    /// Freezes the graph into its CSR form.
    pub fn finish(self) -> PropertyGraph {
        let (nodes, edges) = self.graph.into_nodes_edges();
        let nodes: Vec<NodeData> = nodes.into_iter().map(|n| n.weight).collect();
        let edges: Vec<Edge> = edges
            .into_iter()
            .map(|e| Edge {
                src: NodeId(e.source().index() as u32),
                dst: NodeId(e.target().index() as u32),
                data: e.weight,
            })
            .collect();
        let out = Csr::build(nodes.len(), &edges, |e| (e.src, e.dst));
        let inn = Csr::build(nodes.len(), &edges, |e| (e.dst, e.src));
        let mut subjects: Vec<(NodeId, SubjectKeys)> = self
            .subjects
            .into_iter()
            .filter(|(_, k)| *k != SubjectKeys::default())
            .map(|(n, k)| (NodeId(n), k))
            .collect();
        subjects.sort_unstable_by_key(|(n, _)| *n);
        PropertyGraph {
            keys: self.keys,
            nodes,
            edges,
            out,
            inn,
            instruments: self.instruments,
            subjects,
        }
    }
}

/// One direction of adjacency in compressed sparse rows. The entries of a node are sorted by
/// edge kind, then by neighbour, so one kind's neighbours are found by binary search.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    offsets: Vec<u32>,
    targets: Vec<NodeId>,
    edges: Vec<EdgeId>,
    kinds: Vec<EdgeKind>,
}

impl Csr {
    fn build(n: usize, edges: &[Edge], ends: impl Fn(&Edge) -> (NodeId, NodeId)) -> Csr {
        let mut offsets = vec![0u32; n + 1];
        for e in edges {
            offsets[ends(e).0.index() + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut order = vec![EdgeId(0); edges.len()];
        for (i, e) in edges.iter().enumerate() {
            let slot = &mut fill[ends(e).0.index()];
            order[*slot as usize] = EdgeId(i as u32);
            *slot += 1;
        }
        for w in offsets.windows(2) {
            order[w[0] as usize..w[1] as usize].sort_unstable_by_key(|e| {
                let edge = &edges[e.index()];
                (edge.data.kind(), ends(edge).1, *e)
            });
        }
        let targets = order.iter().map(|e| ends(&edges[e.index()]).1).collect();
        let kinds = order.iter().map(|e| edges[e.index()].data.kind()).collect();
        Csr {
            offsets,
            targets,
            edges: order,
            kinds,
        }
    }

    fn range(&self, n: NodeId) -> std::ops::Range<usize> {
        self.offsets[n.index()] as usize..self.offsets[n.index() + 1] as usize
    }

    fn kind_range(&self, n: NodeId, kind: EdgeKind) -> std::ops::Range<usize> {
        let r = self.range(n);
        let kinds = &self.kinds[r.clone()];
        let lo = kinds.partition_point(|k| *k < kind);
        let hi = kinds.partition_point(|k| *k <= kind);
        r.start + lo..r.start + hi
    }

    fn bytes(&self) -> usize {
        self.offsets.len() * size_of::<u32>()
            + self.targets.len() * size_of::<NodeId>()
            + self.edges.len() * size_of::<EdgeId>()
            + self.kinds.len() * size_of::<EdgeKind>()
    }
}

/// A neighbour reached over one edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjacent {
    pub node: NodeId,
    pub edge: EdgeId,
    pub kind: EdgeKind,
}

/// Memory held by a [`PropertyGraph`], by part, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    pub keys: usize,
    pub nodes: usize,
    pub edges: usize,
    pub adjacency: usize,
}

impl MemoryUse {
    /// All parts together.
    pub fn total(&self) -> usize {
        self.keys + self.nodes + self.edges + self.adjacency
    }
}

/// The frozen property graph. Node `i` is the `i`-th interned key.
#[derive(Debug, Clone)]
pub struct PropertyGraph {
    keys: IndexSet<Box<str>, ahash::RandomState>,
    nodes: Vec<NodeData>,
    edges: Vec<Edge>,
    out: Csr,
    inn: Csr,
    instruments: IndexSet<Box<str>, ahash::RandomState>,
    /// The resolution keys of persons and entities that have any, by node.
    subjects: Vec<(NodeId, SubjectKeys)>,
}

impl PropertyGraph {
    /// The resolution keys of the persons and entities that have any, in node order.
    pub fn subject_keys(&self) -> &[(NodeId, SubjectKeys)] {
        &self.subjects
    }

    /// The graph with every node's edges moved to its representative `rep[node]` (the identity
    /// for a node that stands for itself), as when several records of one real subject become
    /// one node. Nodes and ids stay; a record that is not its own representative keeps no edge.
    /// Edges that would join a subject to itself are dropped, identical edges are kept once,
    /// and two holdings of one owner in one entity become one with the larger share (two
    /// records of one holding must not add up).
    pub fn contracted(&self, rep: &[NodeId]) -> PropertyGraph {
        assert_eq!(rep.len(), self.nodes.len(), "one representative per node");
        let moved = |e: &Edge| (rep[e.src.index()], rep[e.dst.index()]) != (e.src, e.dst);
        // What the edges that stay where they are already say: a moved edge repeating one of
        // them adds nothing.
        let mut seen: ahash::AHashSet<(NodeId, NodeId, u64)> = self
            .edges
            .iter()
            .filter(|e| !moved(e))
            .map(|e| (e.src, e.dst, edge_fingerprint(&e.data)))
            .collect();
        let mut edges: Vec<Edge> = Vec::with_capacity(self.edges.len());
        // The holding kept for each (owner, entity), and whether it was moved there.
        let mut owns: AHashMap<(NodeId, NodeId), (usize, bool)> = AHashMap::new();
        for e in &self.edges {
            let (src, dst) = (rep[e.src.index()], rep[e.dst.index()]);
            if src == dst && e.src != e.dst {
                continue;
            }
            let was_moved = moved(e);
            if let EdgeData::Owns { share_max, .. } = e.data {
                match owns.get(&(src, dst)) {
                    Some(&(i, first_moved)) if was_moved || first_moved => {
                        if let EdgeData::Owns {
                            share_max: kept, ..
                        } = edges[i].data
                            && share_max > kept
                        {
                            edges[i].data = e.data;
                        }
                        continue;
                    }
                    _ => {
                        owns.insert((src, dst), (edges.len(), was_moved));
                    }
                }
            } else if was_moved && !seen.insert((src, dst, edge_fingerprint(&e.data))) {
                continue;
            }
            edges.push(Edge {
                src,
                dst,
                data: e.data,
            });
        }
        let out = Csr::build(self.nodes.len(), &edges, |e| (e.src, e.dst));
        let inn = Csr::build(self.nodes.len(), &edges, |e| (e.dst, e.src));
        PropertyGraph {
            keys: self.keys.clone(),
            nodes: self.nodes.clone(),
            edges,
            out,
            inn,
            instruments: self.instruments.clone(),
            subjects: self.subjects.clone(),
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// All node ids.
    pub fn node_ids(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// The ids of the nodes of one kind.
    pub fn nodes_of_kind(&self, kind: NodeKind) -> impl Iterator<Item = NodeId> + '_ {
        self.node_ids()
            .filter(move |n| self.node(*n).kind() == kind)
    }

    /// A node's data.
    pub fn node(&self, n: NodeId) -> NodeData {
        self.nodes[n.index()]
    }

    /// A node's kind.
    pub fn kind(&self, n: NodeId) -> NodeKind {
        self.nodes[n.index()].kind()
    }

    /// The node's dataset id; for an identifier node, its normalised value.
    pub fn key(&self, n: NodeId) -> &str {
        let k = &self.keys[n.index()];
        match self.nodes[n.index()] {
            NodeData::Identifier { kind } => &k[kind.as_str().len() + 2..],
            _ => k,
        }
    }

    /// The node with this dataset id (not identifiers: see [`Self::find_identifier`]).
    pub fn find(&self, id: &str) -> Option<NodeId> {
        self.keys.get_index_of(id).map(|i| NodeId(i as u32))
    }

    /// The identifier node of this kind and normalised value.
    pub fn find_identifier(&self, kind: IdentifierKind, value: &str) -> Option<NodeId> {
        self.find(&identifier_key(kind, value))
    }

    /// An edge with its endpoints.
    pub fn edge(&self, e: EdgeId) -> &Edge {
        &self.edges[e.index()]
    }

    /// All edges, indexed by [`EdgeId`].
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The name of an interned instrument.
    pub fn instrument(&self, i: u32) -> &str {
        &self.instruments[i as usize]
    }

    /// Outgoing edges of a node.
    pub fn out(&self, n: NodeId) -> impl ExactSizeIterator<Item = Adjacent> + '_ {
        Self::adjacent(&self.out, self.out.range(n))
    }

    /// Incoming edges of a node.
    pub fn inn(&self, n: NodeId) -> impl ExactSizeIterator<Item = Adjacent> + '_ {
        Self::adjacent(&self.inn, self.inn.range(n))
    }

    /// Outgoing edges of one kind, in O(log degree) to find plus the edges returned.
    pub fn out_of(
        &self,
        n: NodeId,
        kind: EdgeKind,
    ) -> impl ExactSizeIterator<Item = Adjacent> + '_ {
        Self::adjacent(&self.out, self.out.kind_range(n, kind))
    }

    /// Incoming edges of one kind.
    pub fn in_of(&self, n: NodeId, kind: EdgeKind) -> impl ExactSizeIterator<Item = Adjacent> + '_ {
        Self::adjacent(&self.inn, self.inn.kind_range(n, kind))
    }

    /// Edges of one kind in either direction.
    pub fn both_of(&self, n: NodeId, kind: EdgeKind) -> impl Iterator<Item = Adjacent> + '_ {
        self.out_of(n, kind).chain(self.in_of(n, kind))
    }

    /// Out-degree plus in-degree.
    pub fn degree(&self, n: NodeId) -> usize {
        self.out.range(n).len() + self.inn.range(n).len()
    }

    fn adjacent(
        csr: &Csr,
        r: std::ops::Range<usize>,
    ) -> impl ExactSizeIterator<Item = Adjacent> + '_ {
        r.map(move |i| Adjacent {
            node: csr.targets[i],
            edge: csr.edges[i],
            kind: csr.kinds[i],
        })
    }

    /// An account's holder.
    pub fn holder(&self, account: NodeId) -> Option<NodeId> {
        self.out_of(account, EdgeKind::HeldBy)
            .next()
            .map(|a| a.node)
    }

    /// Memory held by the graph's arrays (string contents of keys included, hash tables estimated
    /// from their capacity).
    pub fn memory_use(&self) -> MemoryUse {
        let key_bytes: usize = self.keys.iter().map(|k| k.len()).sum();
        MemoryUse {
            keys: key_bytes
                + self.keys.capacity() * (size_of::<Box<str>>() + 2 * size_of::<usize>()),
            nodes: self.nodes.capacity() * size_of::<NodeData>(),
            edges: self.edges.capacity() * size_of::<Edge>(),
            adjacency: self.out.bytes() + self.inn.bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn person(id: &str) -> Record {
        Record::Person(Person {
            person_id: id.into(),
            name: None,
            id_number: None,
            extra: Extra::new(),
        })
    }

    fn account(id: &str, holder: &str) -> Record {
        Record::Account(Account {
            account_id: id.into(),
            holder_id: holder.into(),
            member_id: None,
            account_type: Some(AccountType::Individual),
            open_date: None,
            status: None,
            extra: Extra::new(),
        })
    }

    fn trade(id: &str, b: &str, s: &str, inst: &str, vol: u64) -> Record {
        Record::Trade(Trade {
            trade_id: id.into(),
            ts: 0,
            instrument: inst.into(),
            buy_account: b.into(),
            sell_account: s.into(),
            price: 1.0,
            volume: vol,
            extra: Extra::new(),
        })
    }

    fn ident(subject: &str, kind: IdentifierKind, value: &str) -> Record {
        Record::Identifier(IdentifierObs {
            subject_id: subject.into(),
            kind,
            value: value.into(),
            first_seen: None,
            last_seen: None,
            count: Some(3),
            extra: Extra::new(),
        })
    }

    fn entity(id: &str) -> Record {
        Record::Entity(Entity {
            entity_id: id.into(),
            name: None,
            uscc: Some("91440000605529Y77N".into()),
            kind: None,
            registered_capital: None,
            established: None,
            status: None,
            extra: Extra::new(),
        })
    }

    fn owns(owner: &str, entity: &str, pct: f64) -> Record {
        Record::Shareholding(Shareholding {
            owner_id: owner.into(),
            entity_id: entity.into(),
            share_min: pct,
            share_max: pct,
            kind: ShareKind::Equity,
            extra: Extra::new(),
        })
    }

    #[test]
    fn contraction_moves_edges_to_the_representative_once() {
        let mut b = GraphBuilder::new();
        for r in [
            person("P1"),
            entity("K"),
            entity("R"),
            account("A1", "K"),
            account("A2", "R"),
            // The same holding in both records of one company: one holding after, not 120%.
            owns("P1", "K", 60.0),
            owns("P1", "R", 55.0),
            // A holding between the two records of one subject joins it to itself.
            owns("K", "R", 10.0),
            ident("K", IdentifierKind::Phone, "13800000000"),
            ident("R", IdentifierKind::Phone, "13800000000"),
        ] {
            b.add_record(&r);
        }
        let g = b.finish();
        assert_eq!(
            g.subject_keys().len(),
            2,
            "the two entities with a code, not the bare person"
        );
        let (k, r) = (g.find("K").unwrap(), g.find("R").unwrap());
        let mut rep: Vec<NodeId> = g.node_ids().collect();
        rep[k.index()] = r;
        let c = g.contracted(&rep);
        assert_eq!(c.node_count(), g.node_count());
        let a1 = c.find("A1").unwrap();
        assert_eq!(c.holder(a1), Some(r));
        assert_eq!(c.degree(k), 0, "the joined record keeps no edge");
        let held: Vec<EdgeData> = c
            .in_of(r, EdgeKind::Owns)
            .map(|x| c.edge(x.edge).data)
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
        assert!(matches!(held[0], EdgeData::Owns { share_max, .. } if share_max == 60.0));
        assert_eq!(c.out_of(r, EdgeKind::HasIdentifier).len(), 1);
        // Nothing moved: the same graph.
        let same = g.contracted(&g.node_ids().collect::<Vec<_>>());
        assert_eq!(same.edges(), g.edges());
    }

    #[test]
    fn builds_typed_adjacency_and_aggregates_trades() {
        let mut b = GraphBuilder::new();
        for r in [
            person("P1"),
            person("P2"),
            account("A1", "P1"),
            account("A2", "P2"),
            trade("T1", "A1", "A2", "IF2403", 2),
            trade("T2", "A1", "A2", "IF2403", 3),
            trade("T3", "A1", "A2", "T2406", 1),
            ident("A1", IdentifierKind::Mac, "A1B2C3D4E5F6"),
            ident("A2", IdentifierKind::Mac, "A1B2C3D4E5F6"),
            ident("A2", IdentifierKind::Ip, "10.0.0.1"),
            account("A3", "P9"),
        ] {
            b.add_record(&r);
        }
        assert_eq!(
            b.unresolved(),
            &[Unresolved {
                table: "accounts",
                id: "P9".into()
            }]
        );
        let g = b.finish();
        let a1 = g.find("A1").unwrap();
        let a2 = g.find("A2").unwrap();
        let traded: Vec<_> = g.out_of(a1, EdgeKind::TradedWith).collect();
        assert_eq!(traded.len(), 2, "one edge per instrument");
        let vols: u64 = traded
            .iter()
            .map(|a| match g.edge(a.edge).data {
                EdgeData::TradedWith { volume, .. } => volume,
                _ => unreachable!(),
            })
            .sum();
        assert_eq!(vols, 6);
        assert_eq!(g.in_of(a2, EdgeKind::TradedWith).count(), 2);
        assert_eq!(g.holder(a1), g.find("P1"));
        let mac = g
            .find_identifier(IdentifierKind::Mac, "A1B2C3D4E5F6")
            .unwrap();
        assert_eq!(g.key(mac), "A1B2C3D4E5F6");
        assert_eq!(g.in_of(mac, EdgeKind::HasIdentifier).count(), 2);
        assert_eq!(g.out_of(a2, EdgeKind::HasIdentifier).count(), 2);
        assert_eq!(g.out_of(a2, EdgeKind::Owns).count(), 0);
        // A3 exists as a node; its dangling holder edge was not added.
        assert_eq!(g.holder(g.find("A3").unwrap()), None);
    }

    proptest::proptest! {
        /// Every edge appears exactly once in the out-rows of its source and the in-rows of its
        /// target, under its own kind.
        #[test]
        fn csr_rows_hold_every_edge_once(edges in proptest::collection::vec((0u32..12, 0u32..12, 0usize..3), 0..80)) {
            let mut b = GraphBuilder::new();
            for i in 0..12 {
                b.add_record(&person(&format!("P{i}")));
                b.add_record(&Record::Entity(Entity { entity_id: format!("E{i}"), name: None, uscc: None, kind: None, registered_capital: None, established: None, status: None, extra: Extra::new() }));
            }
            for (s, d, k) in &edges {
                let kind = [RelationKind::Spouse, RelationKind::Sibling, RelationKind::Guarantor][*k];
                b.add_record(&Record::Relation(Relation { from_id: format!("P{s}"), to_id: format!("E{d}"), kind, extra: Extra::new() }));
            }
            let g = b.finish();
            proptest::prop_assert_eq!(g.edge_count(), edges.len());
            let mut seen = vec![0u8; g.edge_count()];
            for n in g.node_ids() {
                for a in g.out(n) {
                    proptest::prop_assert_eq!(g.edge(a.edge).src, n);
                    proptest::prop_assert_eq!(g.edge(a.edge).dst, a.node);
                    seen[a.edge.index()] += 1;
                }
                for a in g.in_of(n, EdgeKind::Relation) {
                    proptest::prop_assert_eq!(g.edge(a.edge).dst, n);
                    seen[a.edge.index()] += 1;
                }
                proptest::prop_assert_eq!(g.out_of(n, EdgeKind::HeldBy).len(), 0);
            }
            proptest::prop_assert!(seen.iter().all(|c| *c == 2));
        }
    }
}
