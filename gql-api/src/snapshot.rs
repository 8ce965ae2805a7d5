//! One consistent, in-memory view of the analysed store: the graph, the names and codes the
//! graph does not keep, the latest analysis with its indexes, the embeddings and a search index.
//! A request works on one snapshot from start to end; a re-analysis builds a new one and swaps it
//! in, so no request ever sees half of two analyses.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use detectors::results::{
    AnalysisResults, GroupRecord, LinkRecord, SignalDetail, SurveillanceResults,
};
use graph_core::model::{Limit, Position, Record, Table};
use graph_core::{EdgeData, EdgeKind, NodeData, NodeId, NodeKind, PropertyGraph};
use hmac::{Hmac, Mac};
use ingest::{IdKey, Store};
use service::StoredEmbeddings;
use sha2::Sha256;

use crate::error::ApiError;

/// Names and codes of a node (the graph keeps only ids and kinds).
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    pub name: Option<Box<str>>,
    /// Identity number (persons) or USCC (entities, members).
    pub code: Option<Box<str>>,
}

/// Totals and distributions for the market profile, computed once per snapshot.
#[derive(Debug, Clone, Default)]
pub struct MarketStats {
    pub counts: BTreeMap<NodeKind, usize>,
    pub groups_by_size: Vec<(String, usize)>,
    pub groups_by_score: Vec<(String, usize)>,
    pub groups_by_criterion: Vec<(String, usize)>,
    /// Instrument, total volume, volume between accounts of one group.
    pub related_volume: Vec<(String, f64, f64)>,
}

/// The analysed store, in memory.
#[derive(Debug)]
pub struct Snapshot {
    pub graph: PropertyGraph,
    pub attrs: Vec<Attrs>,
    pub results: AnalysisResults,
    pub analysed: bool,
    pub group_index: HashMap<String, usize>,
    /// Groups of each account (indices into `results.groups`).
    pub account_groups: AHashMap<NodeId, Vec<u32>>,
    /// Members of each group's accounts.
    pub group_members: Vec<Vec<NodeId>>,
    /// Groups naming each person or entity as their controller or in their evidence (indices
    /// into `results.groups`, ascending).
    pub subject_groups: AHashMap<NodeId, Vec<u32>>,
    /// Every evidence link, and the links of each account.
    pub links: Vec<LinkRecord>,
    /// The two accounts of each link, resolved once.
    pub link_ends: Vec<(NodeId, NodeId)>,
    /// Links of each account, strongest first.
    pub account_links: AHashMap<NodeId, Vec<u32>>,
    pub embeddings: Option<StoredEmbeddings>,
    /// The store's key for identifier ids.
    pub id_key: IdKey,
    /// Opaque ids of identifier nodes (their values can be personal data), both ways.
    pub identifier_ids: AHashMap<Box<str>, NodeId>,
    pub identifier_public: AHashMap<NodeId, Box<str>>,
    pub search: SearchIndex,
    pub market: MarketStats,
    /// Group indices by score (highest first), by size (largest first) and by id.
    pub by_score: Vec<u32>,
    pub by_size: Vec<u32>,
    pub by_id: Vec<u32>,
    /// Group indices in triage order (see [`Snapshot::priority_order`]).
    pub by_priority: Vec<u32>,
    /// Links at or above this weight are strong evidence on their own.
    pub strong_weight: f32,
    /// Links below this weight (a widely shared identifier, say) are not drawn in
    /// neighbourhoods; `linkedAccounts` and `connection` still use them.
    pub weak_weight: f32,
    /// The surveillance findings and the tapes behind the groups' position charts.
    pub surveillance: Surveillance,
}

/// The surveillance findings of the analysis, indexed, and the speculative and exempt
/// positions of the groups' accounts with the limits, for position series.
#[derive(Debug, Default)]
pub struct Surveillance {
    pub results: SurveillanceResults,
    /// Breach indices per group id (detected and reported groups).
    pub by_group: HashMap<String, Vec<u32>>,
    /// Positions of accounts in some group, by account.
    pub positions: HashMap<String, Vec<Position>>,
    pub limits: Vec<Limit>,
}

impl Surveillance {
    /// Reads the stored findings and the positions of the groups' accounts.
    fn load(store: &dyn Store, results: &AnalysisResults) -> Result<Surveillance, ApiError> {
        let found = service::load_surveillance(store)
            .map_err(ApiError::service)?
            .unwrap_or_default();
        let mut by_group: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, b) in found.breaches.iter().enumerate() {
            by_group
                .entry(b.group_id.clone())
                .or_default()
                .push(i as u32);
        }
        let members: AHashSet<&str> = results
            .groups
            .iter()
            .flat_map(|g| g.accounts.iter().map(String::as_str))
            .collect();
        let mut positions: HashMap<String, Vec<Position>> = HashMap::new();
        let mut limits = Vec::new();
        store
            .scan(Table::Positions, &mut |r| {
                if let Record::Position(p) = r
                    && members.contains(p.account_id.as_str())
                {
                    positions.entry(p.account_id.clone()).or_default().push(p);
                }
                Ok(())
            })
            .map_err(ApiError::store)?;
        store
            .scan(Table::Limits, &mut |r| {
                if let Record::Limit(l) = r {
                    limits.push(l);
                }
                Ok(())
            })
            .map_err(ApiError::store)?;
        Ok(Surveillance {
            results: found,
            by_group,
            positions,
            limits,
        })
    }
}

/// Group indices in the order an analyst works them: unreported groups first, then partly
/// reported ones, then the reported; within each, groups with limit breaches first, then larger
/// groups, groups meeting more criteria, higher scores, and ids.
pub fn priority_order(groups: &[GroupRecord], breaches: &HashMap<String, Vec<u32>>) -> Vec<u32> {
    let status_rank = |g: &GroupRecord| match g.status.as_str() {
        "unreported" => 0,
        "partially_reported" => 1,
        _ => 2,
    };
    let breached = |g: &GroupRecord| breaches.get(&g.id).is_some_and(|b| !b.is_empty());
    let mut v: Vec<u32> = (0..groups.len() as u32).collect();
    v.sort_by(|&a, &b| {
        let (x, y) = (&groups[a as usize], &groups[b as usize]);
        status_rank(x)
            .cmp(&status_rank(y))
            .then_with(|| breached(y).cmp(&breached(x)))
            .then_with(|| y.accounts.len().cmp(&x.accounts.len()))
            .then_with(|| y.criteria.len().cmp(&x.criteria.len()))
            .then_with(|| y.score.total_cmp(&x.score))
            .then_with(|| x.id.cmp(&y.id))
    });
    v
}

/// Exact and prefix lookups over ids, names and codes.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// Lower-cased text (id, name, identity number, USCC) → nodes, sorted for prefix search.
    pub sorted: Vec<(Box<str>, NodeId, Field)>,
}

/// Which field a search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    IdNumber,
    Uscc,
    Phone,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::IdNumber => "idNumber",
            Field::Uscc => "uscc",
            Field::Phone => "phone",
        }
    }
}

/// The opaque id of an identifier node: HMAC-SHA256 of its kind and value under the store's
/// [`IdKey`]. An identifier's value can be personal data (a phone, a bank account) drawn from a
/// small space, so a plain hash would let anyone who sees the id try every candidate value; the
/// key, which never leaves the store, prevents that, and keeps the id stable for one store.
pub fn identifier_id(g: &PropertyGraph, n: NodeId, key: &IdKey) -> String {
    let kind = match g.node(n) {
        NodeData::Identifier { kind } => kind.as_str(),
        _ => "",
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    mac.update(kind.as_bytes());
    mac.update(&[0x1f]);
    mac.update(g.key(n).as_bytes());
    format!("I-{}", &hex::encode(mac.finalize().into_bytes())[..16])
}

impl Snapshot {
    /// Loads everything from the store. Blocking: call from a blocking thread.
    pub fn load(store: &dyn Store) -> Result<Snapshot, ApiError> {
        let graph = ingest::load::load_graph(store, false).map_err(ApiError::store)?;
        let mut attrs = vec![Attrs::default(); graph.node_count()];
        for table in [Table::Members, Table::Persons, Table::Entities] {
            store
                .scan(table, &mut |r| {
                    let (id, name, code) = match r {
                        Record::Member(m) => (m.member_id, m.name, m.uscc),
                        Record::Person(p) => (p.person_id, p.name, p.id_number),
                        Record::Entity(e) => (e.entity_id, e.name, e.uscc),
                        _ => return Ok(()),
                    };
                    if let Some(n) = graph.find(&id) {
                        attrs[n.index()] = Attrs {
                            name: name.map(String::into_boxed_str),
                            code: code.map(String::into_boxed_str),
                        };
                    }
                    Ok(())
                })
                .map_err(ApiError::store)?;
        }
        let stored = service::load_results(store).map_err(ApiError::service)?;
        let analysed = stored.is_some();
        let results = stored.unwrap_or_else(|| AnalysisResults {
            created_at: String::new(),
            groups: Vec::new(),
            wash_trades: Vec::new(),
            hubs: Vec::new(),
            placeholders: Vec::new(),
            timings: Vec::new(),
            accounts: 0,
            links: 0,
            resolved: Vec::new(),
        });
        let links = service::load_links(store).map_err(ApiError::service)?;
        let embeddings = service::load_embeddings(store).map_err(ApiError::service)?;
        let surveillance = Surveillance::load(store, &results)?;
        let id_key = store.id_key().map_err(ApiError::store)?;
        let mut snap = Snapshot::build(graph, attrs, results, analysed, links, embeddings, id_key);
        snap.by_priority = priority_order(&snap.results.groups, &surveillance.by_group);
        snap.surveillance = surveillance;
        Ok(snap)
    }

    /// Builds the indexes over loaded parts.
    pub fn build(
        graph: PropertyGraph,
        attrs: Vec<Attrs>,
        results: AnalysisResults,
        analysed: bool,
        links: Vec<LinkRecord>,
        embeddings: Option<StoredEmbeddings>,
        id_key: IdKey,
    ) -> Snapshot {
        let g = &graph;
        let group_index = results
            .groups
            .iter()
            .enumerate()
            .map(|(i, gr)| (gr.id.clone(), i))
            .collect();
        let mut account_groups: AHashMap<NodeId, Vec<u32>> = AHashMap::new();
        let mut group_members = Vec::with_capacity(results.groups.len());
        for (i, gr) in results.groups.iter().enumerate() {
            let mut members = Vec::new();
            for a in &gr.accounts {
                if let Some(n) = g.find(a) {
                    account_groups.entry(n).or_default().push(i as u32);
                    members.extend(g.out_of(n, EdgeKind::AtMember).map(|e| e.node));
                }
            }
            members.sort_unstable();
            members.dedup();
            group_members.push(members);
        }
        let mut subject_groups: AHashMap<NodeId, Vec<u32>> = AHashMap::new();
        for (i, gr) in results.groups.iter().enumerate() {
            let named = gr.controller_id.iter().chain(
                gr.links
                    .iter()
                    .flat_map(|l| l.signals.iter())
                    .flat_map(|s| s.subjects.iter().chain(chain_parties(&s.detail))),
            );
            for key in named {
                if let Some(n) = g.find(key)
                    && matches!(g.kind(n), NodeKind::Person | NodeKind::Entity)
                {
                    let v = subject_groups.entry(n).or_default();
                    if v.last() != Some(&(i as u32)) {
                        v.push(i as u32);
                    }
                }
            }
        }
        let mut account_links: AHashMap<NodeId, Vec<u32>> = AHashMap::new();
        let mut link_ends = Vec::with_capacity(links.len());
        for (i, l) in links.iter().enumerate() {
            let ends = (g.find(&l.a), g.find(&l.b));
            link_ends.push((
                ends.0.unwrap_or(NodeId(u32::MAX)),
                ends.1.unwrap_or(NodeId(u32::MAX)),
            ));
            if let (Some(a), Some(b)) = ends {
                account_links.entry(a).or_default().push(i as u32);
                account_links.entry(b).or_default().push(i as u32);
            }
        }
        for v in account_links.values_mut() {
            v.sort_by(|x, y| {
                links[*y as usize]
                    .weight
                    .total_cmp(&links[*x as usize].weight)
            });
        }
        let mut identifier_ids = AHashMap::new();
        let mut identifier_public = AHashMap::new();
        for n in g.nodes_of_kind(NodeKind::Identifier) {
            let id: Box<str> = identifier_id(g, n, &id_key).into_boxed_str();
            identifier_public.insert(n, id.clone());
            identifier_ids.insert(id, n);
        }
        let search = SearchIndex::build(g, &attrs);
        let market = market_stats(g, &results, &account_groups);
        let order = |cmp: &dyn Fn(&GroupRecord, &GroupRecord) -> std::cmp::Ordering| {
            let mut v: Vec<u32> = (0..results.groups.len() as u32).collect();
            v.sort_by(|a, b| {
                cmp(&results.groups[*a as usize], &results.groups[*b as usize]).then_with(|| {
                    results.groups[*a as usize]
                        .id
                        .cmp(&results.groups[*b as usize].id)
                })
            });
            v
        };
        let by_score = order(&|a, b| b.score.total_cmp(&a.score));
        let by_size = order(&|a, b| b.accounts.len().cmp(&a.accounts.len()));
        let by_id = order(&|a, b| a.id.cmp(&b.id));
        let by_priority = priority_order(&results.groups, &HashMap::new());
        Snapshot {
            strong_weight: detectors::groups::GroupConfig::default().link_threshold,
            weak_weight: detectors::groups::GroupConfig::default().weak_threshold,
            graph,
            attrs,
            results,
            analysed,
            group_index,
            account_groups,
            group_members,
            subject_groups,
            links,
            link_ends,
            account_links,
            embeddings,
            id_key,
            identifier_ids,
            identifier_public,
            search,
            market,
            by_score,
            by_size,
            by_id,
            by_priority,
            surveillance: Surveillance::default(),
        }
    }

    /// The node a public id names: a dataset id, or an identifier's opaque id.
    pub fn resolve(&self, id: &str) -> Option<NodeId> {
        if id.starts_with("I-")
            && let Some(n) = self.identifier_ids.get(id)
        {
            return Some(*n);
        }
        self.graph
            .find(id)
            .filter(|n| self.graph.kind(*n) != NodeKind::Identifier)
    }

    /// The public id of a node.
    pub fn public_id(&self, n: NodeId) -> String {
        match self.graph.kind(n) {
            NodeKind::Identifier => self.identifier_public.get(&n).map_or_else(
                || identifier_id(&self.graph, n, &self.id_key),
                |id| id.to_string(),
            ),
            _ => self.graph.key(n).to_owned(),
        }
    }

    pub fn name(&self, n: NodeId) -> Option<&str> {
        self.attrs.get(n.index()).and_then(|a| a.name.as_deref())
    }

    pub fn code(&self, n: NodeId) -> Option<&str> {
        self.attrs.get(n.index()).and_then(|a| a.code.as_deref())
    }

    pub fn group(&self, i: u32) -> &GroupRecord {
        &self.results.groups[i as usize]
    }

    pub fn group_by_id(&self, id: &str) -> Option<u32> {
        self.group_index.get(id).map(|i| *i as u32)
    }

    /// The groups an account belongs to.
    pub fn groups_of(&self, account: NodeId) -> &[u32] {
        self.account_groups.get(&account).map_or(&[], Vec::as_slice)
    }

    /// The groups naming a person or entity as controller or in their evidence.
    pub fn groups_naming(&self, subject: NodeId) -> &[u32] {
        self.subject_groups.get(&subject).map_or(&[], Vec::as_slice)
    }

    /// The evidence links touching an account.
    pub fn links_of(&self, account: NodeId) -> &[u32] {
        self.account_links.get(&account).map_or(&[], Vec::as_slice)
    }

    /// The other account of link `li` seen from `n`.
    pub fn link_other(&self, li: u32, n: NodeId) -> NodeId {
        let (a, b) = self.link_ends[li as usize];
        if a == n { b } else { a }
    }

    /// True when the two accounts share a group.
    pub fn same_group(&self, a: NodeId, b: NodeId) -> bool {
        let (ga, gb) = (self.groups_of(a), self.groups_of(b));
        ga.iter().any(|g| gb.contains(g))
    }
}

/// The parties on the chains of a control signal (companies between controller and holder).
pub fn chain_parties(d: &SignalDetail) -> impl Iterator<Item = &String> + '_ {
    d.control_paths()
        .into_iter()
        .flatten()
        .flat_map(|h| [&h.from, &h.to])
}

impl SearchIndex {
    fn build(g: &PropertyGraph, attrs: &[Attrs]) -> SearchIndex {
        let mut sorted = Vec::new();
        for n in g.node_ids() {
            let kind = g.kind(n);
            match kind {
                NodeKind::Identifier => {
                    if let NodeData::Identifier {
                        kind: graph_core::model::IdentifierKind::Phone,
                    } = g.node(n)
                    {
                        sorted.push((g.key(n).into(), n, Field::Phone));
                    }
                    continue;
                }
                _ => sorted.push((g.key(n).to_lowercase().into_boxed_str(), n, Field::Id)),
            }
            let a = &attrs[n.index()];
            if let Some(name) = &a.name {
                sorted.push((name.to_lowercase().into_boxed_str(), n, Field::Name));
            }
            if let Some(code) = &a.code {
                let field = if kind == NodeKind::Person {
                    Field::IdNumber
                } else {
                    Field::Uscc
                };
                sorted.push((code.to_lowercase().into_boxed_str(), n, field));
            }
        }
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        SearchIndex { sorted }
    }

    /// Entries whose text starts with `prefix` (lower-cased), in text order.
    pub fn prefixed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a (Box<str>, NodeId, Field)> + 'a {
        let start = self.sorted.partition_point(|e| &*e.0 < prefix);
        self.sorted[start..]
            .iter()
            .take_while(move |e| e.0.starts_with(prefix))
    }

    /// Name entries containing `text` (lower-cased) elsewhere than at the start.
    pub fn containing<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = &'a (Box<str>, NodeId, Field)> + 'a {
        self.sorted
            .iter()
            .filter(move |e| e.2 == Field::Name && !e.0.starts_with(text) && e.0.contains(text))
    }
}

fn market_stats(
    g: &PropertyGraph,
    results: &AnalysisResults,
    account_groups: &AHashMap<NodeId, Vec<u32>>,
) -> MarketStats {
    let mut counts = BTreeMap::new();
    for n in g.node_ids() {
        *counts.entry(g.kind(n)).or_insert(0) += 1;
    }
    let size_label = |n: usize| match n {
        0..=2 => "2".to_owned(),
        3..=4 => "3-4".to_owned(),
        5..=8 => "5-8".to_owned(),
        9..=12 => "9-12".to_owned(),
        _ => "13+".to_owned(),
    };
    let mut by_size: Vec<(String, usize)> = ["2", "3-4", "5-8", "9-12", "13+"]
        .iter()
        .map(|s| ((*s).to_owned(), 0))
        .collect();
    let mut by_score: Vec<(String, usize)> = (0..10)
        .map(|i| {
            (
                format!("{:.1}-{:.1}", i as f32 / 10.0, (i + 1) as f32 / 10.0),
                0,
            )
        })
        .collect();
    let mut by_criterion: BTreeMap<String, usize> = BTreeMap::new();
    for gr in &results.groups {
        let s = size_label(gr.accounts.len());
        if let Some(b) = by_size.iter_mut().find(|b| b.0 == s) {
            b.1 += 1;
        }
        let bucket = ((gr.score * 10.0).floor() as usize).min(9);
        by_score[bucket].1 += 1;
        for c in &gr.criteria {
            *by_criterion.entry(c.clone()).or_insert(0) += 1;
        }
    }
    let mut volume: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    let empty = Vec::new();
    for e in g.edges() {
        if let EdgeData::TradedWith {
            instrument,
            volume: v,
            ..
        } = e.data
        {
            let entry = volume.entry(instrument).or_insert((0.0, 0.0));
            entry.0 += v as f64;
            let ga = account_groups.get(&e.src).unwrap_or(&empty);
            let gb = account_groups.get(&e.dst).unwrap_or(&empty);
            if ga.iter().any(|x| gb.contains(x)) {
                entry.1 += v as f64;
            }
        }
    }
    let related_volume = volume
        .into_iter()
        .map(|(i, (t, r))| (g.instrument(i).to_owned(), t, r))
        .collect();
    MarketStats {
        counts,
        groups_by_size: by_size,
        groups_by_score: by_score,
        groups_by_criterion: by_criterion.into_iter().collect(),
        related_volume,
    }
}

/// Collects the distinct nodes of an iterator, keeping the first-seen order.
pub fn distinct(nodes: impl IntoIterator<Item = NodeId>) -> Vec<NodeId> {
    let mut seen = AHashSet::new();
    nodes.into_iter().filter(|n| seen.insert(*n)).collect()
}

/// Shared handle.
pub type SnapshotRef = Arc<Snapshot>;

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, status: &str, size: usize, criteria: usize, score: f32) -> GroupRecord {
        GroupRecord {
            id: id.into(),
            accounts: (0..size).map(|i| format!("{id}-A{i}")).collect(),
            controller_id: None,
            controller_basis: String::new(),
            score,
            contributions: Vec::new(),
            criteria: (1..=criteria).map(|c| format!("C{c}")).collect(),
            status: status.into(),
            reported_group: None,
            missing_from_report: Vec::new(),
            joined_by_embedding: Vec::new(),
            links: Vec::new(),
            membership: Vec::new(),
            candidates: Vec::new(),
        }
    }

    /// Two-account groups at score 1.0 do not crowd out a large unreported group, a breach
    /// comes before size, and reported groups come last whatever their score.
    #[test]
    fn triage_order_puts_unreported_breached_and_large_groups_first() {
        let groups = vec![
            group("pair-1", "unreported", 2, 1, 1.0),
            group("reported-big", "reported", 40, 3, 1.0),
            group("studio", "unreported", 40, 1, 0.7),
            group("pair-2", "unreported", 2, 2, 0.9),
            group("breached", "unreported", 3, 1, 0.8),
            group("partial", "partially_reported", 12, 2, 0.95),
        ];
        let breaches = HashMap::from([("breached".to_owned(), vec![0])]);
        let order: Vec<&str> = priority_order(&groups, &breaches)
            .into_iter()
            .map(|i| groups[i as usize].id.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "breached",
                "studio",
                "pair-2",
                "pair-1",
                "partial",
                "reported-big"
            ]
        );
    }
}
