//! Ownership and control: who controls which entity, how much each owner holds through chains of
//! shareholdings, who the beneficial owners are, and who ultimately stands behind every entity and
//! every trading account, each answer with the edges of the graph that prove it.
//!
//! This is criterion C1 (equity) of the domain brief, the general-partner rule, and the asset
//! manager part of C7 (one party decides the trading of the products it manages).
//!
//! # Majority control (recursive)
//! X controls Z when the stakes in Z held by X and by the companies X controls add up to more
//! than [`ControlConfig::majority_pct`] (the Bank of Italy "company control" problem). The
//! controlled set of X is the least fixed point of that rule, computed by a worklist that starts
//! from X and adds one company at a time; every company is added at most once, so cross-holdings
//! and cycles terminate without a depth cap, and the result does not depend on the order of the
//! records. Stakes are counted conservatively (`share_min` of a range). One owner's stake in one
//! company counts once, as the larger of its capital (equity plus limited-partner shares) and its
//! voting rights, so that a holder stated with both "30% equity" and "30% votes" is not counted as
//! 60%. Beside the majority rule, a link decides by itself:
//! - a general partner controls its partnership whatever its share; in a partnership that has a
//!   general partner, limited-partner stakes carry no control (they still count as ownership);
//! - an asset manager controls the products it manages: a `manages` relation, or an
//!   `asset_manager` entity holding a `fund_product` entity, whatever the share (C7).
//!
//! Control is transitive (the group of a controlled company is part of the group of its
//! controller), so the *ultimate* controllers of Z are the controllers of Z that nobody outside
//! their own control cycle controls.
//!
//! # Look-through (integrated) ownership
//! The integrated stake of owner i in entity z sums, over every chain of shareholdings from i to
//! z, the product of the stakes along the chain. With cross-holdings the chains are walks and the
//! sum is the series `W + W² + …`; following Vitali, Glattfelder and Battiston (2011), walks that
//! come back to the owner i are removed (a company does not own a part of itself through a
//! cycle), which divides the plain series by `[(I − W)⁻¹]ᵢᵢ`. We sum the series per target z by
//! pushing residual mass upstream from z until every residual is below
//! [`ControlConfig::tolerance`]: exact where there is no cycle, geometrically convergent around a
//! cycle (each turn multiplies the mass by the cycle's stakes), and never visiting owners whose
//! stake is below the tolerance. A push that does not converge (stakes of 100% or more around a
//! cycle) is stopped (see [`ControlConfig::max_pushes`]) and reported as a warning. Look-through
//! counts economic stakes only: equity, limited- and general-partner shares, not voting rights.
//! Both the `share_min` and the `share_max` figures are propagated.
//!
//! Beneficial owners are the persons whose integrated stake reaches
//! [`ControlConfig::beneficial_pct`] (certainly, by the minimum figure, or possibly, by the
//! maximum), and the persons who control the entity. When there is none, the senior managing
//! officials (legal representative, executives) are reported instead, flagged as a fallback.
//!
//! # Odd data
//! Shareholdings of one entity that add up to more than 100% and look-through iterations that did
//! not converge are reported as [`ControlWarning`]s next to the results; nothing here fails.

mod lookthrough;
mod majority;
mod paths;
#[cfg(test)]
mod tests;

use ahash::AHashMap;
use graph_core::model::{EntityKind, OfficerRole, RelationKind, ShareKind};
use graph_core::{EdgeData, EdgeId, EdgeKind, NodeData, NodeId, NodeKind, PropertyGraph};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use lookthrough::{Pair, Upstream, WalkSums};

/// Tolerance, in percentage points, for comparisons of summed stakes with thresholds. Shares are
/// stored as `f32`, so `16.7 + 16.7 + 16.6` comes back a little above 50; that must not make a
/// majority, while a stake stated to two decimals (50.01) must.
pub const PCT_EPSILON: f64 = 1e-3;

/// Settings of the ownership and control computations. Plain data, shared by the library, the
/// CLI and the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ControlConfig {
    /// A group controls an entity when its counted stakes strictly exceed this percentage.
    pub majority_pct: f64,
    /// A person whose integrated stake reaches this percentage is a beneficial owner (25% under
    /// PBoC 2024 No. 3 and EU AMLR Art. 52; 15% for high-risk categories).
    pub beneficial_pct: f64,
    /// The longest chain, in edges, reported as a proof path.
    pub max_depth: usize,
    /// At most this many proof paths are reported per controller and subject.
    pub max_paths: usize,
    /// The look-through of an entity stops when what is left to distribute to any owner is
    /// below this fraction (1.0 = 100%); owners whose integrated stake is below it are not
    /// reported.
    pub tolerance: f64,
    /// The look-through of one entity stops after this many node updates in all (or sooner, when
    /// the mass left to distribute stops shrinking or a walk sum passes a million: all only happen
    /// when stakes around a cycle do not shrink, i.e. bad data), and is reported as not
    /// converged.
    pub max_pushes: usize,
}

impl Default for ControlConfig {
    fn default() -> Self {
        Self {
            majority_pct: 50.0,
            beneficial_pct: 25.0,
            max_depth: 12,
            max_paths: 16,
            tolerance: 1e-10,
            max_pushes: 100_000,
        }
    }
}

/// Why a party is (one of) the controllers of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ControlBasis {
    /// The stakes held by the controller and the companies it controls exceed the majority (C1).
    Majority,
    /// The controller, or a company it controls, is a general partner of the subject.
    GeneralPartner,
    /// The controller, or a company it controls, manages the subject (a product) (C7).
    Manages,
    /// The controller holds this integrated stake (look-through, in percent) of the subject,
    /// at least [`ControlConfig::beneficial_pct`] by the maximum figure, or controls it.
    BeneficialOwner { pct_min: f64, pct_max: f64 },
    /// Nobody is a beneficial owner; this person is the subject's senior managing official.
    SeniorManagingOfficial { role: OfficerRole },
    /// The subject's own holder: a person subject itself, or an account's holder when nothing
    /// above it is known.
    Holder,
}

impl ControlBasis {
    /// True for the bases that are control (majority, general partner, manager), as opposed to
    /// ownership, office or holding.
    pub fn is_control(&self) -> bool {
        matches!(self, Self::Majority | Self::GeneralPartner | Self::Manages)
    }
}

/// One party controlling one entity, with the last hop of the proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlLink {
    /// The controlling person or entity.
    pub controller: NodeId,
    /// The controlled entity.
    pub controlled: NodeId,
    /// General partner, manager, or majority (in that order of precedence when several hold).
    pub basis: ControlBasis,
    /// The counted stakes in `controlled` held by the controller and the companies it controls,
    /// by the minimum figures, in percent.
    pub pct_min: f64,
    /// The same by the maximum figures (at most 100 unless the minimum is above it).
    pub pct_max: f64,
    /// The edges into `controlled` from the controller or from companies it controls that make
    /// the control: counted shareholdings, general-partner shareholdings, `manages` relations.
    /// Sorted so that the first edge comes from the party closest to the controller.
    pub via: Vec<EdgeId>,
    /// The number of links in the shortest control chain from the controller (1 = direct).
    pub depth: u32,
}

/// What makes a control link, spelled out so that a reader can add it up: every party whose
/// holdings or role in the controlled entity count (the controller itself or a company it
/// controls), the chain by which the controller reaches that party, and each party's stake.
/// For a majority link the stakes add up to [`ControlLink::pct_min`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlClaim {
    /// The link being proved.
    pub link: ControlLink,
    /// One entry per party with counted edges into the controlled entity, nearest party first.
    pub stakes: Vec<ClaimStake>,
}

/// One party's part of a [`ControlClaim`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimStake {
    /// The controller, or a company the controller controls.
    pub source: NodeId,
    /// Its stake in the controlled entity as the majority rule counts it (the larger of capital
    /// and votes, minimum figures, in percent); `None` when it counts by role only (a manager's
    /// relation, a general partnership stated without a share).
    pub share_min: Option<f64>,
    /// A chain of proof edges from the controller to `source` (empty when `source` is the
    /// controller): the reason `source`'s holdings count.
    pub chain: Vec<EdgeId>,
    /// `source`'s counted edges into the controlled entity.
    pub edges: Vec<EdgeId>,
}

impl ControlClaim {
    /// The chains from the controller to the controlled entity, one per counted edge.
    pub fn paths(&self) -> impl Iterator<Item = Vec<EdgeId>> + '_ {
        self.stakes.iter().flat_map(|s| {
            s.edges.iter().map(|&e| {
                let mut p = s.chain.clone();
                p.push(e);
                p
            })
        })
    }

    /// The sum of the stated stakes, in percent.
    pub fn share_sum(&self) -> f64 {
        self.stakes.iter().filter_map(|s| s.share_min).sum()
    }
}

/// The claim behind `link`, with the link's own edges grouped by the party they come from.
/// `chain_to(y)` gives a chain of proof edges from the controller to a company it controls.
fn claim_of(
    g: &PropertyGraph,
    link: &ControlLink,
    chain_to: impl Fn(NodeId) -> Vec<EdgeId>,
) -> ControlClaim {
    let z = link.controlled;
    let has_gp = has_general_partner(g, z);
    let mut stakes: Vec<ClaimStake> = Vec::new();
    for &e in &link.via {
        let source = g.edge(e).src;
        match stakes.iter_mut().find(|s| s.source == source) {
            Some(s) => s.edges.push(e),
            None => stakes.push(ClaimStake {
                source,
                share_min: None,
                chain: if source == link.controller {
                    Vec::new()
                } else {
                    chain_to(source)
                },
                edges: vec![e],
            }),
        }
    }
    for s in &mut stakes {
        let owns = g
            .in_of(z, EdgeKind::Owns)
            .filter(|a| a.node == s.source)
            .map(|a| a.edge);
        let p = majority::pair_stake(g, s.source, z, owns, has_gp);
        if p.min > 0.0 {
            s.share_min = Some(p.min);
        }
    }
    ControlClaim {
        link: link.clone(),
        stakes,
    }
}

/// The integrated (look-through) stake of one owner in one entity, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntegratedStake {
    /// The owner (person or entity).
    pub owner: NodeId,
    /// The owned entity.
    pub entity: NodeId,
    /// The owner's own economic shareholdings in the entity, by the minimum figures.
    pub direct_min: f64,
    /// The same by the maximum figures.
    pub direct_max: f64,
    /// Direct plus indirect, by the minimum figures.
    pub pct_min: f64,
    /// Direct plus indirect, by the maximum figures.
    pub pct_max: f64,
}

impl IntegratedStake {
    /// The part held through other entities, by the minimum figures.
    pub fn indirect_min(&self) -> f64 {
        (self.pct_min - self.direct_min).max(0.0)
    }

    /// The part held through other entities, by the maximum figures.
    pub fn indirect_max(&self) -> f64 {
        (self.pct_max - self.direct_max).max(0.0)
    }
}

/// A person found to be a beneficial owner of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BeneficialOwner {
    /// The person.
    pub person: NodeId,
    /// Integrated stake, minimum figure, percent.
    pub pct_min: f64,
    /// Integrated stake, maximum figure, percent.
    pub pct_max: f64,
    /// The person controls the entity (majority chain, general partner, manager).
    pub controls: bool,
    /// False when only the maximum of a stated range reaches the threshold.
    pub certain: bool,
}

/// The beneficial owners of one entity, or the fallback to its senior managing officials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeneficialOwnership {
    /// The entity.
    pub entity: NodeId,
    /// Beneficial owners, the largest minimum stake first.
    pub owners: Vec<BeneficialOwner>,
    /// When `owners` is empty: the persons who are the entity's legal representative or
    /// executives, with the officer edge and role (legal representatives first).
    pub senior_managing_officials: Vec<(NodeId, EdgeId, OfficerRole)>,
}

impl BeneficialOwnership {
    /// True when nobody reached the threshold and the senior managing officials stand in.
    pub fn is_fallback(&self) -> bool {
        self.owners.is_empty() && !self.senior_managing_officials.is_empty()
    }
}

/// One ultimate controller of a subject, with the paths that prove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UltimateController {
    /// The person or entity.
    pub controller: NodeId,
    /// Why it is listed.
    pub basis: ControlBasis,
    /// Chains of edges from the controller to the subject (shareholdings, `manages` relations,
    /// an officer edge for a senior managing official). For an account subject every path ends
    /// with the account's held-by edge.
    pub paths: Vec<Vec<EdgeId>>,
}

/// The two stake figures whose totals are checked against 100%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StakeMeasure {
    /// Equity, limited- and general-partner shares.
    Capital,
    /// Voting rights.
    Voting,
}

/// Odd data met by the computations. The results are still produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ControlWarning {
    /// The stated shareholdings of an entity add up to more than 100% (minimum figures).
    SharesExceed100 {
        entity: NodeId,
        measure: StakeMeasure,
        total_pct: f64,
        edges: Vec<EdgeId>,
    },
    /// The look-through of an entity was stopped (see [`ControlConfig::max_pushes`]): stakes
    /// around a cycle of cross-holdings that do not shrink (100% or more around the cycle, or the
    /// maxima of bands). Its integrated stakes are approximate (and clamped to 100%).
    LookthroughNotConverged { entity: NodeId },
}

// ---------------------------------------------------------------------------------------------
// Edge and node classification shared by the submodules.

/// Persons and entities can own and control; accounts, members and identifiers cannot.
fn is_party(g: &PropertyGraph, n: NodeId) -> bool {
    matches!(g.kind(n), NodeKind::Person | NodeKind::Entity)
}

fn entity_kind(g: &PropertyGraph, n: NodeId) -> Option<EntityKind> {
    match g.node(n) {
        NodeData::Entity { kind } => kind,
        _ => None,
    }
}

/// The shareholding on an edge, as `(min, max, kind)` in percent.
fn stake(g: &PropertyGraph, e: EdgeId) -> Option<(f64, f64, ShareKind)> {
    match g.edge(e).data {
        EdgeData::Owns {
            share_min,
            share_max,
            kind,
        } => Some((
            f64::from(share_min),
            f64::from(share_max.max(share_min)),
            kind,
        )),
        _ => None,
    }
}

/// Economic stakes are those that carry a part of the capital: everything but voting rights.
fn is_economic(kind: ShareKind) -> bool {
    !matches!(kind, ShareKind::Voting)
}

/// An asset manager holding units of a fund product decides its trading whatever the share.
fn is_manager_holding(g: &PropertyGraph, owner: NodeId, owned: NodeId) -> bool {
    entity_kind(g, owner) == Some(EntityKind::AssetManager)
        && entity_kind(g, owned) == Some(EntityKind::FundProduct)
}

fn is_manages_relation(g: &PropertyGraph, e: EdgeId) -> bool {
    matches!(
        g.edge(e).data,
        EdgeData::Relation {
            kind: RelationKind::Manages
        }
    )
}

/// Whether the entity has a general partner, in which case limited partners do not control it.
fn has_general_partner(g: &PropertyGraph, z: NodeId) -> bool {
    g.in_of(z, EdgeKind::Owns)
        .any(|a| matches!(stake(g, a.edge), Some((_, _, ShareKind::GeneralPartner))))
}

// ---------------------------------------------------------------------------------------------
// Links indexed both ways.

/// Control links sorted by (controller, controlled), with a second order by controlled.
#[derive(Debug, Clone, Default)]
struct LinkTable {
    links: Vec<ControlLink>,
    by_controlled: Vec<u32>,
}

impl LinkTable {
    fn new(mut links: Vec<ControlLink>) -> Self {
        links.sort_unstable_by_key(|l| (l.controller, l.controlled));
        let mut by_controlled: Vec<u32> = (0..links.len() as u32).collect();
        by_controlled.sort_unstable_by_key(|&i| {
            let l = &links[i as usize];
            (l.controlled, l.controller)
        });
        Self {
            links,
            by_controlled,
        }
    }

    fn controlled_by(&self, x: NodeId) -> &[ControlLink] {
        let lo = self.links.partition_point(|l| l.controller < x);
        let hi = self.links.partition_point(|l| l.controller <= x);
        &self.links[lo..hi]
    }

    fn controllers_of(&self, z: NodeId) -> impl ExactSizeIterator<Item = &ControlLink> + '_ {
        let lo = self
            .by_controlled
            .partition_point(|&i| self.links[i as usize].controlled < z);
        let hi = self
            .by_controlled
            .partition_point(|&i| self.links[i as usize].controlled <= z);
        self.by_controlled[lo..hi]
            .iter()
            .map(|&i| &self.links[i as usize])
    }

    fn get(&self, x: NodeId, z: NodeId) -> Option<&ControlLink> {
        let own = self.controlled_by(x);
        own.binary_search_by_key(&z, |l| l.controlled)
            .ok()
            .map(|i| &own[i])
    }

    /// X is ultimate among the controllers of anything when every controller of X is in turn
    /// controlled by X (they share a control cycle) or there is none.
    fn is_top(&self, x: NodeId) -> bool {
        self.controllers_of(x)
            .all(|w| self.get(x, w.controller).is_some())
    }

    fn proof_paths(
        &self,
        g: &PropertyGraph,
        x: NodeId,
        z: NodeId,
        cfg: &ControlConfig,
    ) -> Vec<Vec<EdgeId>> {
        paths::control_paths(g, x, z, |y| self.get(x, y), cfg)
    }
}

// ---------------------------------------------------------------------------------------------
// Per-subject queries.

/// Everything `controller` controls, each with its proof's last hop; sorted by controlled node.
/// A party never controls itself.
pub fn control_of(g: &PropertyGraph, controller: NodeId, cfg: &ControlConfig) -> Vec<ControlLink> {
    if !is_party(g, controller) {
        return Vec::new();
    }
    majority::control_from(g, controller, cfg, &mut majority::Scratch::default())
}

/// Every party that controls `entity` (directly or through companies it controls), sorted by
/// controller. Runs the worklist of every party upstream of the entity.
pub fn controllers_of(g: &PropertyGraph, entity: NodeId, cfg: &ControlConfig) -> Vec<ControlLink> {
    local_links(g, entity, cfg)
        .controllers_of(entity)
        .cloned()
        .collect()
}

/// The chains of edges that prove a control link (from the controller to the controlled entity),
/// at most [`ControlConfig::max_paths`] of them, none longer than [`ControlConfig::max_depth`].
pub fn control_proof(
    g: &PropertyGraph,
    link: &ControlLink,
    cfg: &ControlConfig,
) -> Vec<Vec<EdgeId>> {
    let own = control_of(g, link.controller, cfg);
    LinkTable::new(own).proof_paths(g, link.controller, link.controlled, cfg)
}

/// The integrated (look-through) stakes of every owner upstream of `entity`, sorted by owner.
pub fn integrated_ownership(
    g: &PropertyGraph,
    entity: NodeId,
    cfg: &ControlConfig,
) -> Vec<IntegratedStake> {
    if !is_party(g, entity) {
        return Vec::new();
    }
    Upstream::compute(g, entity, cfg).stakes(g)
}

/// The beneficial owners of `entity`, or its senior managing officials as the fallback.
pub fn beneficial_owners(
    g: &PropertyGraph,
    entity: NodeId,
    cfg: &ControlConfig,
) -> BeneficialOwnership {
    let links = local_links(g, entity, cfg);
    let up = Upstream::compute(g, entity, cfg);
    beneficial_from(g, entity, cfg, &up.stakes(g), &links)
}

/// The ultimate controllers of a subject with the paths that prove them:
/// - an entity: its top controllers (majority, general partner, manager), then its beneficial
///   owners not already listed, or its senior managing officials when it has no beneficial owner;
/// - an account: those of its holder, each path ending with the held-by edge; a person holder,
///   or an entity holder above which nothing is known, is listed itself as [`ControlBasis::Holder`];
/// - a person: the person itself.
///
/// Other kinds of node have none.
pub fn ultimate_controllers(
    g: &PropertyGraph,
    subject: NodeId,
    cfg: &ControlConfig,
) -> Vec<UltimateController> {
    match g.kind(subject) {
        NodeKind::Entity => entity_ultimates_standalone(g, subject, cfg),
        NodeKind::Person => vec![person_itself(subject)],
        NodeKind::Account => {
            account_ultimates(g, subject, |h| entity_ultimates_standalone(g, h, cfg))
        }
        _ => Vec::new(),
    }
}

fn entity_ultimates_standalone(
    g: &PropertyGraph,
    z: NodeId,
    cfg: &ControlConfig,
) -> Vec<UltimateController> {
    let links = local_links(g, z, cfg);
    let up = Upstream::compute(g, z, cfg);
    let bo = beneficial_from(g, z, cfg, &up.stakes(g), &links);
    entity_ultimates(g, z, cfg, &links, &up, &bo)
}

fn person_itself(p: NodeId) -> UltimateController {
    UltimateController {
        controller: p,
        basis: ControlBasis::Holder,
        paths: Vec::new(),
    }
}

fn account_ultimates(
    g: &PropertyGraph,
    account: NodeId,
    of_entity: impl FnOnce(NodeId) -> Vec<UltimateController>,
) -> Vec<UltimateController> {
    let Some(held) = g.out_of(account, EdgeKind::HeldBy).next() else {
        return Vec::new();
    };
    let holder_itself = || UltimateController {
        controller: held.node,
        basis: ControlBasis::Holder,
        paths: vec![vec![held.edge]],
    };
    match g.kind(held.node) {
        NodeKind::Entity => {
            let mut ups = of_entity(held.node);
            if ups.is_empty() {
                return vec![holder_itself()];
            }
            for u in &mut ups {
                for p in &mut u.paths {
                    p.push(held.edge);
                }
            }
            ups
        }
        NodeKind::Person => vec![holder_itself()],
        _ => Vec::new(),
    }
}

/// The control links of every party upstream of `z` (over shareholdings and `manages`
/// relations), which is every party that can control `z`, and of nothing else.
fn local_links(g: &PropertyGraph, z: NodeId, cfg: &ControlConfig) -> LinkTable {
    let mut seen = AHashMap::new();
    let mut order = vec![z];
    seen.insert(z, ());
    let mut i = 0;
    while i < order.len() {
        let v = order[i];
        i += 1;
        let ins = g.in_of(v, EdgeKind::Owns).chain(
            g.in_of(v, EdgeKind::Relation)
                .filter(|a| is_manages_relation(g, a.edge)),
        );
        for a in ins {
            if is_party(g, a.node) && seen.insert(a.node, ()).is_none() {
                order.push(a.node);
            }
        }
    }
    let mut scratch = majority::Scratch::default();
    let links = order[1..]
        .iter()
        .flat_map(|&x| majority::control_from(g, x, cfg, &mut scratch))
        .collect();
    LinkTable::new(links)
}

/// Beneficial owners from the look-through stakes and the control links of one entity.
fn beneficial_from(
    g: &PropertyGraph,
    z: NodeId,
    cfg: &ControlConfig,
    stakes: &[IntegratedStake],
    links: &LinkTable,
) -> BeneficialOwnership {
    let threshold = cfg.beneficial_pct - PCT_EPSILON;
    let mut owners: Vec<BeneficialOwner> = stakes
        .iter()
        .filter(|s| g.kind(s.owner) == NodeKind::Person)
        .filter_map(|s| {
            let controls = links.get(s.owner, z).is_some();
            (controls || s.pct_max >= threshold).then_some(BeneficialOwner {
                person: s.owner,
                pct_min: s.pct_min,
                pct_max: s.pct_max,
                controls,
                certain: controls || s.pct_min >= threshold,
            })
        })
        .collect();
    // A person can control without any economic stake (a general partner or manager through a
    // company, or voting rights only): they are beneficial owners by control.
    for l in links.controllers_of(z) {
        if g.kind(l.controller) == NodeKind::Person
            && !owners.iter().any(|o| o.person == l.controller)
        {
            owners.push(BeneficialOwner {
                person: l.controller,
                pct_min: 0.0,
                pct_max: 0.0,
                controls: true,
                certain: true,
            });
        }
    }
    owners.sort_by(|a, b| {
        b.certain
            .cmp(&a.certain)
            .then(b.pct_min.total_cmp(&a.pct_min))
            .then(a.person.cmp(&b.person))
    });
    let senior_managing_officials = if owners.is_empty() {
        senior_officials(g, z)
    } else {
        Vec::new()
    };
    BeneficialOwnership {
        entity: z,
        owners,
        senior_managing_officials,
    }
}

/// The legal representatives, then the executives, of an entity.
fn senior_officials(g: &PropertyGraph, z: NodeId) -> Vec<(NodeId, EdgeId, OfficerRole)> {
    let mut out: Vec<(NodeId, EdgeId, OfficerRole)> = g
        .in_of(z, EdgeKind::Officer)
        .filter(|a| g.kind(a.node) == NodeKind::Person)
        .filter_map(|a| match g.edge(a.edge).data {
            EdgeData::Officer {
                role: role @ (OfficerRole::LegalRep | OfficerRole::Executive),
            } => Some((a.node, a.edge, role)),
            _ => None,
        })
        .collect();
    out.sort_by_key(|&(n, e, role)| (role != OfficerRole::LegalRep, n, e));
    out
}

/// The ultimate controllers of an entity given its control links, look-through and beneficial
/// ownership.
fn entity_ultimates(
    g: &PropertyGraph,
    z: NodeId,
    cfg: &ControlConfig,
    links: &LinkTable,
    up: &Upstream,
    bo: &BeneficialOwnership,
) -> Vec<UltimateController> {
    let mut out: Vec<UltimateController> = links
        .controllers_of(z)
        .filter(|l| links.is_top(l.controller))
        .map(|l| UltimateController {
            controller: l.controller,
            basis: l.basis,
            paths: links.proof_paths(g, l.controller, z, cfg),
        })
        .collect();
    for o in &bo.owners {
        if out.iter().any(|u| u.controller == o.person) {
            continue;
        }
        let paths = if o.pct_max > 0.0 {
            up.paths_from(g, o.person, cfg)
        } else {
            links.proof_paths(g, o.person, z, cfg)
        };
        out.push(UltimateController {
            controller: o.person,
            basis: ControlBasis::BeneficialOwner {
                pct_min: o.pct_min,
                pct_max: o.pct_max,
            },
            paths,
        });
    }
    for &(person, edge, role) in &bo.senior_managing_officials {
        if out.iter().any(|u| u.controller == person) {
            continue;
        }
        out.push(UltimateController {
            controller: person,
            basis: ControlBasis::SeniorManagingOfficial { role },
            paths: vec![vec![edge]],
        });
    }
    out
}

/// Shareholdings of `z` adding up to more than 100%, by measure.
fn share_warnings(g: &PropertyGraph, z: NodeId) -> Vec<ControlWarning> {
    let mut out = Vec::new();
    for measure in [StakeMeasure::Capital, StakeMeasure::Voting] {
        let mut total = 0.0;
        let mut edges = Vec::new();
        for a in g.in_of(z, EdgeKind::Owns) {
            if let Some((min, _, kind)) = stake(g, a.edge)
                && is_economic(kind) == (measure == StakeMeasure::Capital)
            {
                total += min;
                edges.push(a.edge);
            }
        }
        if total > 100.0 + PCT_EPSILON {
            out.push(ControlWarning::SharesExceed100 {
                entity: z,
                measure,
                total_pct: total,
                edges,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The whole-graph pass.

/// Per-entity results of the whole-graph pass.
#[derive(Debug, Clone)]
struct EntityResult {
    stakes: Vec<IntegratedStake>,
    beneficial: BeneficialOwnership,
    ultimates: Vec<UltimateController>,
}

/// Control, look-through, beneficial owners and ultimate controllers of every entity of a graph,
/// computed once (in parallel) and looked up by node.
#[derive(Debug, Clone)]
pub struct ControlAnalysis {
    cfg: ControlConfig,
    links: LinkTable,
    /// Entities in node order with their results.
    entities: Vec<NodeId>,
    results: Vec<EntityResult>,
    warnings: Vec<ControlWarning>,
}

impl ControlAnalysis {
    /// Runs every computation over the whole graph.
    pub fn compute(g: &PropertyGraph, cfg: &ControlConfig) -> Self {
        let span = tracing::info_span!("control_analysis", nodes = g.node_count());
        let _enter = span.enter();

        // Control: one worklist per party that holds or manages anything.
        let candidates: Vec<NodeId> = g
            .node_ids()
            .filter(|&n| is_party(g, n))
            .filter(|&n| {
                g.out_of(n, EdgeKind::Owns).len() > 0
                    || g.out_of(n, EdgeKind::Relation)
                        .any(|a| is_manages_relation(g, a.edge))
            })
            .collect();
        let links: Vec<ControlLink> = candidates
            .par_iter()
            .map_init(majority::Scratch::default, |scratch, &x| {
                majority::control_from(g, x, cfg, scratch)
            })
            .flatten_iter()
            .collect();
        let links = LinkTable::new(links);
        tracing::debug!(links = links.links.len(), "control links");

        // Look-through in two steps: the walk sums of every entity, whose value at the entity
        // itself is the closed-walk factor that corrects its own stakes in others; then the
        // corrected stakes.
        let entities: Vec<NodeId> = g.nodes_of_kind(NodeKind::Entity).collect();
        let sums: Vec<WalkSums> = entities
            .par_iter()
            .map(|&z| WalkSums::compute(g, z, cfg))
            .collect();
        let factors: Vec<(Pair, bool)> = sums
            .iter()
            .map(|s| (s.closed_walks(), s.converged()))
            .collect();
        let factor_of = |n: NodeId| entities.binary_search(&n).ok().map(|i| factors[i]);
        let per_entity: Vec<(EntityResult, Vec<ControlWarning>)> = sums
            .into_par_iter()
            .zip(entities.par_iter())
            .map(|(sums, &z)| {
                let up = Upstream::with_factors(sums, factor_of);
                let stakes = up.stakes(g);
                let beneficial = beneficial_from(g, z, cfg, &stakes, &links);
                let ultimates = entity_ultimates(g, z, cfg, &links, &up, &beneficial);
                let mut warnings = share_warnings(g, z);
                if !up.converged() {
                    warnings.push(ControlWarning::LookthroughNotConverged { entity: z });
                }
                (
                    EntityResult {
                        stakes,
                        beneficial,
                        ultimates,
                    },
                    warnings,
                )
            })
            .collect();
        let mut results = Vec::with_capacity(per_entity.len());
        let mut warnings = Vec::new();
        for (r, w) in per_entity {
            results.push(r);
            warnings.extend(w);
        }
        Self {
            cfg: cfg.clone(),
            links,
            entities,
            results,
            warnings,
        }
    }

    /// The configuration the analysis ran with.
    pub fn config(&self) -> &ControlConfig {
        &self.cfg
    }

    /// Every control link, sorted by (controller, controlled).
    pub fn links(&self) -> &[ControlLink] {
        &self.links.links
    }

    /// The parties that control `entity`, sorted by controller.
    pub fn controllers_of(
        &self,
        entity: NodeId,
    ) -> impl ExactSizeIterator<Item = &ControlLink> + '_ {
        self.links.controllers_of(entity)
    }

    /// The entities that `controller` controls, sorted by controlled node.
    pub fn controlled_by(&self, controller: NodeId) -> &[ControlLink] {
        self.links.controlled_by(controller)
    }

    /// The link by which `controller` controls `entity`, if it does.
    pub fn control_link(&self, controller: NodeId, entity: NodeId) -> Option<&ControlLink> {
        self.links.get(controller, entity)
    }

    /// The chains of edges that prove a control link.
    pub fn proof_paths(&self, g: &PropertyGraph, link: &ControlLink) -> Vec<Vec<EdgeId>> {
        self.links
            .proof_paths(g, link.controller, link.controlled, &self.cfg)
    }

    /// Everything that makes `link`: each counted party's stake and the chain that reaches it.
    pub fn claim(&self, g: &PropertyGraph, link: &ControlLink) -> ControlClaim {
        claim_of(g, link, |y| {
            self.links
                .proof_paths(g, link.controller, y, &self.cfg)
                .into_iter()
                .next()
                .unwrap_or_default()
        })
    }

    fn result(&self, entity: NodeId) -> Option<&EntityResult> {
        self.entities
            .binary_search(&entity)
            .ok()
            .map(|i| &self.results[i])
    }

    /// The integrated stakes of every owner upstream of `entity`, sorted by owner.
    pub fn ownership_of(&self, entity: NodeId) -> &[IntegratedStake] {
        self.result(entity).map_or(&[], |r| &r.stakes)
    }

    /// The integrated stake of `owner` in `entity`, if it has one.
    pub fn integrated(&self, owner: NodeId, entity: NodeId) -> Option<&IntegratedStake> {
        let stakes = self.ownership_of(entity);
        stakes
            .binary_search_by_key(&owner, |s| s.owner)
            .ok()
            .map(|i| &stakes[i])
    }

    /// The beneficial owners of `entity` (or their fallback); `None` when it is not an entity.
    pub fn beneficial_owners(&self, entity: NodeId) -> Option<&BeneficialOwnership> {
        self.result(entity).map(|r| &r.beneficial)
    }

    /// The ultimate controllers of a subject; see [`ultimate_controllers`] for what each kind of
    /// subject gets.
    pub fn ultimate_of(&self, g: &PropertyGraph, subject: NodeId) -> Vec<UltimateController> {
        match g.kind(subject) {
            NodeKind::Entity => self
                .result(subject)
                .map_or_else(Vec::new, |r| r.ultimates.clone()),
            NodeKind::Person => vec![person_itself(subject)],
            NodeKind::Account => account_ultimates(g, subject, |h| {
                self.result(h)
                    .map_or_else(Vec::new, |r| r.ultimates.clone())
            }),
            _ => Vec::new(),
        }
    }

    /// Odd data met on the way, in node order.
    pub fn warnings(&self) -> &[ControlWarning] {
        &self.warnings
    }

    /// The entities analysed, in node order.
    pub fn entities(&self) -> &[NodeId] {
        &self.entities
    }
}
