//! Evidence links between accounts, each signal coded by the exchange's control criteria C1–C8.
//!
//! A link joins two accounts of different holders and carries every signal found between them:
//! a common controller, an officer role, an authorised person, a family tie, a shared contact
//! detail or terminal fingerprint, fund transfers, synchronised or matched trading. Each signal
//! has a weight in [0, 1]; a link's weight combines them as independent evidence (noisy-OR), so
//! several weak signals together can make a strong link.
//!
//! The weights encode the domain brief: an identifier's weight falls with its spread (how many
//! holders share the value), placeholder device values are ignored, an IP alone is weak while a
//! MAC or disk serial is strong, and a family tie other than a spouse counts only beside other
//! evidence (criterion C5). A member's own services are told apart from one operation's by the
//! members the accounts are at: an agent's spread is counted per member (a broker's staff serve
//! that member's clients), and a value that three or more holders share at one member only (a
//! trading hall's terminal, a branch's phone) needs other evidence to join them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use graph_core::model::{AuthRole, IdentifierKind, OfficerRole, RelationKind};
use graph_core::{EdgeData, EdgeKind, NodeData, NodeId, NodeKind, PropertyGraph};
use serde::{Deserialize, Serialize};

use crate::behaviour::GroupBurst;
use crate::components::UnionFind;
use crate::control::{ControlBasis, ControlClaim};
use crate::flows::{FlowPattern, FlowShape, GroupFlow, TransferEvent};

/// The exchange's control criteria.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Criterion {
    /// Equity: holds >= 50% of the capital, or votes that decide.
    C1,
    /// Account role: opening authoriser, order placer, fund-transfer person, confirmer, agent.
    C2,
    /// Officer: legal representative, general partner, director, supervisor, senior manager.
    C3,
    /// Spouse.
    C4,
    /// Parents, children, siblings, with evidence of influence over trading.
    C5,
    /// Investment, agreement or financing arrangement.
    C6,
    /// Common decision maker of two or more accounts.
    C7,
    /// Other: mostly trading-behaviour consistency, shared terminals, fund flows.
    C8,
}

impl Criterion {
    /// All criteria in order.
    pub const ALL: [Criterion; 8] = [
        Criterion::C1,
        Criterion::C2,
        Criterion::C3,
        Criterion::C4,
        Criterion::C5,
        Criterion::C6,
        Criterion::C7,
        Criterion::C8,
    ];

    /// Parses `C1`..`C8` (case-insensitive).
    pub fn parse(s: &str) -> Option<Criterion> {
        Criterion::ALL
            .into_iter()
            .find(|c| c.to_string().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The families of signals, used for score breakdowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SignalKind {
    SameHolder,
    Control,
    Officer,
    AccountRole,
    CommonAgent,
    Spouse,
    Family,
    Arrangement,
    SharedIdentifier,
    Transfers,
    FundFlow,
    SyncTrading,
    MatchedTrading,
}

impl SignalKind {
    /// A snake_case name for reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::SameHolder => "same_holder",
            SignalKind::Control => "control",
            SignalKind::Officer => "officer",
            SignalKind::AccountRole => "account_role",
            SignalKind::CommonAgent => "common_agent",
            SignalKind::Spouse => "spouse",
            SignalKind::Family => "family",
            SignalKind::Arrangement => "arrangement",
            SignalKind::SharedIdentifier => "shared_identifier",
            SignalKind::Transfers => "transfers",
            SignalKind::FundFlow => "fund_flow",
            SignalKind::SyncTrading => "sync_trading",
            SignalKind::MatchedTrading => "matched_trading",
        }
    }
}

/// What proves a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Evidence {
    /// Both accounts are held by one subject.
    SameHolder { holder: NodeId },
    /// Both holders are controlled by one controller; each claim is what makes the controller
    /// control that account's holder (`None` when the controller is the holder).
    Control {
        controller: NodeId,
        basis: String,
        claim_a: Option<Arc<ControlClaim>>,
        claim_b: Option<Arc<ControlClaim>>,
    },
    /// A person holding (or controlling) one account is an officer of the other's holder, or
    /// one person is an officer of both holders.
    Officer {
        person: NodeId,
        entity: NodeId,
        role: OfficerRole,
        shared: bool,
    },
    /// A person authorised on one account holds the other, or is authorised on both.
    Authorised {
        person: NodeId,
        role: AuthRole,
        /// How many accounts the person is authorised on.
        spread: u32,
    },
    /// A tie between the holders.
    Relation {
        from: NodeId,
        to: NodeId,
        kind: RelationKind,
    },
    /// A contact detail or fingerprint seen for both (on the accounts or their holders).
    Identifier {
        identifier: NodeId,
        kind: IdentifierKind,
        /// How many distinct holders share the value.
        spread: u32,
    },
    /// Fund transfers between the accounts, both directions summed.
    Transfers { count: u32, total: f64 },
    /// Most of one account's fund transfers are with one group's accounts, the other one
    /// among them (`flows::group_flows`).
    GroupFlow {
        /// The group's accounts it moved money with, and all its counterparties.
        members: u32,
        counterparties: u32,
        /// Its transfers with the group's accounts, and their total.
        transfers: u32,
        total: f64,
    },
    /// Both accounts take part in one structure of identical-amount transfers.
    Flow {
        amount: f64,
        shape: FlowShape,
        transfers: u32,
        accounts: u32,
        first_ts: i64,
        last_ts: i64,
    },
    /// Same-instrument, same-direction trades within seconds, beyond chance.
    Sync {
        co_events: u32,
        expected: f64,
        significance: f64,
        examples: Vec<(u32, u32)>,
    },
    /// One account trades in a group's bursts (many of its accounts in one contract and direction
    /// within seconds) beyond chance, the other one among those trading there
    /// (`behaviour::group_bursts`).
    GroupBurst {
        /// The group's bursts it traded in, of them the ones the other account traded in, and
        /// the group's bursts in all.
        joined: u32,
        with_member: u32,
        bursts: u32,
        expected: f64,
        significance: f64,
        examples: Vec<(u32, u32)>,
    },
    /// The accounts trade with each other beyond chance.
    Matched {
        trades: u32,
        volume: u64,
        expected: f64,
        significance: f64,
        round_trips: u32,
        examples: Vec<u32>,
    },
}

/// One signal of a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub criterion: Criterion,
    pub weight: f32,
    pub evidence: Evidence,
}

/// The piece of evidence a signal comes from: the party, value or pair that several links share.
/// A group's membership scores count each item once, however many of its accounts it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKey {
    Holder(NodeId),
    Controller(NodeId),
    Officer(NodeId),
    Authorised(NodeId),
    Relation(NodeId, NodeId),
    Identifier(NodeId),
    /// Transfers, synchronised or matched trading between two accounts.
    Pair(SignalKind, NodeId, NodeId),
    /// An identical-amount structure, by its amount and time span.
    Flow(u64),
}

impl Signal {
    /// The item this signal of the link `a`-`b` comes from.
    pub fn item(&self, a: NodeId, b: NodeId) -> ItemKey {
        match &self.evidence {
            Evidence::SameHolder { holder } => ItemKey::Holder(*holder),
            Evidence::Control { controller, .. } => ItemKey::Controller(*controller),
            Evidence::Officer { person, .. } => ItemKey::Officer(*person),
            Evidence::Authorised { person, .. } => ItemKey::Authorised(*person),
            Evidence::Relation { from, to, .. } => ItemKey::Relation(*from, *to),
            Evidence::Identifier { identifier, .. } => ItemKey::Identifier(*identifier),
            Evidence::Flow {
                amount,
                first_ts,
                last_ts,
                ..
            } => {
                use std::hash::{Hash, Hasher};
                let mut h = ahash::AHasher::default();
                amount.to_bits().hash(&mut h);
                first_ts.hash(&mut h);
                last_ts.hash(&mut h);
                ItemKey::Flow(h.finish())
            }
            Evidence::Transfers { .. }
            | Evidence::GroupFlow { .. }
            | Evidence::Sync { .. }
            | Evidence::GroupBurst { .. }
            | Evidence::Matched { .. } => {
                let (x, y) = if a < b { (a, b) } else { (b, a) };
                ItemKey::Pair(self.kind, x, y)
            }
        }
    }

    /// Whether the signal names one party in control of both accounts, a tie that a party
    /// serving many unrelated clients cannot make: the same holder, a common controller, a
    /// spouse, the legal representative of the holder, or a person placing orders or moving
    /// funds for the other account who does so for no more than `full_weight_spread` accounts.
    pub fn is_hard(&self, full_weight_spread: u32) -> bool {
        match &self.evidence {
            Evidence::SameHolder { .. } | Evidence::Control { .. } => true,
            Evidence::Relation { kind, .. } => *kind == RelationKind::Spouse,
            Evidence::Officer { role, shared, .. } => *role == OfficerRole::LegalRep && !shared,
            Evidence::Authorised { role, spread, .. } => {
                self.kind == SignalKind::AccountRole
                    && matches!(role, AuthRole::OrderPlacer | AuthRole::FundTransfer)
                    && *spread <= full_weight_spread
            }
            _ => false,
        }
    }
}

/// An evidence link between two accounts (`a < b`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub a: NodeId,
    pub b: NodeId,
    /// Combined weight of `signals` (noisy-OR).
    pub weight: f32,
    /// The signals that count, strongest first.
    pub signals: Vec<Signal>,
    /// Signals found but not counted: a family tie with no other evidence, or a home contact
    /// that the family tie explains.
    pub ignored: Vec<Signal>,
}

impl Link {
    /// The criteria of the signals that count.
    pub fn criteria(&self) -> BTreeSet<Criterion> {
        self.signals.iter().map(|s| s.criterion).collect()
    }
}

/// One common controller of several accounts' holders, as the control analysis found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlFact {
    /// The controller.
    pub controller: NodeId,
    /// The controlled holder.
    pub holder: NodeId,
    /// C1 for equity, C3 for a general partner, C7 for an asset manager's products.
    pub criterion: Criterion,
    /// What makes the controller control the holder: each counted stake and its chain.
    pub claim: Arc<ControlClaim>,
}

impl ControlFact {
    /// The fact of a control link, with its claim.
    pub fn new(claim: ControlClaim) -> Self {
        let criterion = match claim.link.basis {
            ControlBasis::GeneralPartner => Criterion::C3,
            ControlBasis::Manages => Criterion::C7,
            _ => Criterion::C1,
        };
        Self {
            controller: claim.link.controller,
            holder: claim.link.controlled,
            criterion,
            claim: Arc::new(claim),
        }
    }

    /// The basis in words: `majority control (54.0%)`, `general partner`, `manager of the
    /// product`. Only a majority is a percentage.
    pub fn basis(&self) -> String {
        basis_words(&self.claim)
    }
}

/// The basis of a control claim in words (see [`ControlFact::basis`]).
pub fn basis_words(claim: &ControlClaim) -> String {
    match claim.link.basis {
        ControlBasis::GeneralPartner => "general partner".to_owned(),
        ControlBasis::Manages => "manager of the product".to_owned(),
        _ => format!("majority control ({:.1}%)", claim.link.pct_min),
    }
}

/// A synchronised-trading pair from the behaviour detector.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncFact {
    pub a: NodeId,
    pub b: NodeId,
    pub co_events: u32,
    pub expected: f64,
    pub significance: f64,
    /// The significance the detector required (corrected for the number of pairs tested).
    pub threshold: f64,
    pub examples: Vec<(u32, u32)>,
}

/// A matched-trading pair from the behaviour detector.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedFact {
    pub a: NodeId,
    pub b: NodeId,
    pub trades: u32,
    pub volume: u64,
    pub expected: f64,
    pub significance: f64,
    /// The significance the detector required (corrected for the number of pairs tested).
    pub threshold: f64,
    pub round_trips: u32,
    pub examples: Vec<u32>,
}

/// Weights and limits of the evidence rules. Plain data: the CLI, the API and tests share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvidenceConfig {
    pub same_holder: f32,
    pub control: f32,
    pub legal_rep: f32,
    pub director: f32,
    pub executive: f32,
    pub supervisor: f32,
    pub fund_manager: f32,
    /// Two entities with the same legal representative; two sharing another officer in the same
    /// role weigh as that role, at most this.
    pub shared_legal_rep: f32,
    pub order_placer: f32,
    pub fund_transfer: f32,
    pub settlement_confirm: f32,
    pub opening_agent: f32,
    pub spouse: f32,
    /// Parent, child, sibling, relative: counts only beside other evidence.
    pub family: f32,
    pub agent_of: f32,
    pub guarantor: f32,
    pub employee_of: f32,
    pub mac: f32,
    pub disk_serial: f32,
    pub device_name: f32,
    pub phone: f32,
    pub email: f32,
    pub address: f32,
    pub bank_account: f32,
    pub ip: f32,
    /// Up to this many holders sharing one value (or one person's authorisations), full weight;
    /// above it, the weight falls as `full / spread`.
    pub full_weight_spread: u32,
    /// Values shared by more holders than this make no links at all (and are listed as hubs).
    pub max_spread: u32,
    /// Weight of one transfer; each further transfer adds `transfer_step`, up to `transfer_max`.
    pub transfer_base: f32,
    pub transfer_step: f32,
    pub transfer_max: f32,
    /// Transfers between accounts that each move money with at most this many counterparties
    /// weigh in full; busier accounts' transfers weigh `full / counterparties`.
    pub transfer_full_counterparties: u32,
    /// An identical-amount structure of two transfers, and of three or more.
    pub flow_two: f32,
    pub flow_more: f32,
    /// A behaviour signal at the detector's own threshold (-log10 p, corrected for the pairs
    /// tested) weighs `behaviour_at_threshold`; it rises to `behaviour_max` at
    /// `behaviour_full_excess` orders of magnitude beyond it.
    pub behaviour_at_threshold: f32,
    pub behaviour_full_excess: f64,
    pub behaviour_max: f32,
    /// Cliques larger than this (one controller of hundreds of accounts) are linked as a star.
    pub max_clique: usize,
    /// A signal confirms a spread-discounted item or a busy trader's partners only when it is
    /// this strong on its own (a shared terminal of a few holders, a controller), not when it
    /// is a one-off transfer or an IP behind carrier-grade NAT.
    pub confirm_min: f32,
    /// An item shared beyond `full_weight_spread` that nothing else confirms weighs at most
    /// this: a value many holders share joins accounts only beside other evidence.
    pub unconfirmed_max: f32,
    /// A value that three or more holders share whose accounts are all at one member may be
    /// that member's own (a trading hall's terminal, a branch's phone or address): it weighs
    /// at most this share of its weight until other evidence confirms it, as a widely shared
    /// value does. Accounts at several members sharing one value have no such explanation.
    pub one_member_factor: f32,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            same_holder: 1.0,
            control: 0.95,
            legal_rep: 0.8,
            director: 0.6,
            executive: 0.6,
            supervisor: 0.3,
            fund_manager: 0.6,
            shared_legal_rep: 0.7,
            order_placer: 0.9,
            fund_transfer: 0.8,
            settlement_confirm: 0.7,
            opening_agent: 0.35,
            spouse: 0.9,
            family: 0.3,
            agent_of: 0.7,
            guarantor: 0.4,
            employee_of: 0.2,
            mac: 0.85,
            disk_serial: 0.9,
            // A machine name is often a default or a naming scheme (PC01, SRV-264): beside a MAC
            // or a disk serial it adds, alone it is not strong (the domain brief names MACs and
            // disk serials as the strong fingerprints).
            device_name: 0.4,
            phone: 0.7,
            email: 0.6,
            address: 0.5,
            bank_account: 0.85,
            ip: 0.25,
            full_weight_spread: 8,
            max_spread: 256,
            transfer_base: 0.35,
            transfer_step: 0.15,
            transfer_max: 0.8,
            transfer_full_counterparties: 4,
            flow_two: 0.55,
            flow_more: 0.75,
            behaviour_at_threshold: 0.55,
            behaviour_full_excess: 6.0,
            behaviour_max: 0.9,
            max_clique: 40,
            confirm_min: 0.5,
            unconfirmed_max: 0.45,
            one_member_factor: 0.5,
        }
    }
}

impl EvidenceConfig {
    fn identifier_weight(&self, kind: IdentifierKind) -> f32 {
        match kind {
            IdentifierKind::Mac => self.mac,
            IdentifierKind::DiskSerial => self.disk_serial,
            IdentifierKind::DeviceName => self.device_name,
            IdentifierKind::Phone => self.phone,
            IdentifierKind::Email => self.email,
            IdentifierKind::Address => self.address,
            IdentifierKind::BankAccount => self.bank_account,
            IdentifierKind::Ip => self.ip,
        }
    }

    fn spread_factor(&self, spread: u32) -> f32 {
        if spread <= self.full_weight_spread {
            1.0
        } else {
            self.full_weight_spread as f32 / spread as f32
        }
    }

    /// A public IP is shared by strangers behind carrier-grade NAT: it loses weight from the
    /// third holder on, not the ninth.
    fn identifier_spread_factor(&self, kind: IdentifierKind, spread: u32) -> f32 {
        match kind {
            IdentifierKind::Ip => (2.0 / spread as f32).min(1.0),
            _ => self.spread_factor(spread),
        }
    }

    fn behaviour_weight(&self, significance: f64, threshold: f64) -> f32 {
        let excess = significance - threshold;
        if excess < 0.0 {
            return 0.0;
        }
        let t = (excess / self.behaviour_full_excess).clamp(0.0, 1.0) as f32;
        self.behaviour_at_threshold + t * (self.behaviour_max - self.behaviour_at_threshold)
    }
}

/// Whether a normalised identifier value is a placeholder that devices report when they hide or
/// lack the real value (privacy MACs, virtual machines' all-zero MACs, unset serials).
pub fn is_placeholder(kind: IdentifierKind, value: &str) -> bool {
    let all_same = |s: &str| {
        let mut c = s.chars();
        c.next().is_some_and(|f| c.all(|x| x == f))
    };
    match kind {
        IdentifierKind::Mac => {
            all_same(value) || value == "020000000000" || value.starts_with("000000")
        }
        IdentifierKind::Ip => {
            value == "0.0.0.0"
                || value == "255.255.255.255"
                || value.starts_with("127.")
                || value == "::"
                || value == "::1"
        }
        IdentifierKind::DiskSerial | IdentifierKind::DeviceName => {
            let v = value.to_ascii_uppercase();
            all_same(&v)
                || matches!(
                    v.as_str(),
                    "NA" | "N/A"
                        | "NONE"
                        | "NULL"
                        | "UNKNOWN"
                        | "DEFAULT"
                        | "TO BE FILLED BY O.E.M."
                )
        }
        IdentifierKind::Phone | IdentifierKind::BankAccount => all_same(value),
        IdentifierKind::Email | IdentifierKind::Address => false,
    }
}

/// The evidence graph over accounts.
#[derive(Debug, Clone, Default)]
pub struct EvidenceGraph {
    pub links: Vec<Link>,
    /// Identifier values shared by more holders than `max_spread`: ignored, listed for analysts.
    pub hubs: Vec<(NodeId, u32)>,
    /// Identifier values ignored as placeholders, with how many subjects reported them.
    pub placeholders: Vec<(NodeId, u32)>,
    /// The spread up to which an item weighs in full (see [`Signal::is_hard`]).
    pub full_weight_spread: u32,
}

/// Collects signals per account pair.
struct Collector<'g> {
    g: &'g PropertyGraph,
    cfg: &'g EvidenceConfig,
    pairs: AHashMap<(NodeId, NodeId), Vec<Signal>>,
    /// Items whose weight was lowered for their spread: the item, the accounts it reaches and
    /// the factor applied.
    discounted: Vec<(ItemKey, Vec<NodeId>, f32)>,
}

impl Collector<'_> {
    fn add(&mut self, x: NodeId, y: NodeId, signal: Signal) {
        if x == y || signal.weight <= 0.0 {
            return;
        }
        // Accounts of one holder are linked by SameHolder only; nothing else adds to that.
        if signal.kind != SignalKind::SameHolder && self.g.holder(x) == self.g.holder(y) {
            return;
        }
        let key = if x < y { (x, y) } else { (y, x) };
        self.pairs.entry(key).or_default().push(signal);
    }

    /// Links every pair of `accounts` (or a star around the first when there are too many).
    fn add_all(&mut self, accounts: &[NodeId], make: impl Fn(NodeId, NodeId) -> Signal) {
        if accounts.len() > self.cfg.max_clique {
            for &b in &accounts[1..] {
                self.add(accounts[0], b, make(accounts[0], b));
            }
            return;
        }
        for (i, &a) in accounts.iter().enumerate() {
            for &b in &accounts[i + 1..] {
                self.add(a, b, make(a, b));
            }
        }
    }

    fn add_cross(&mut self, xs: &[NodeId], ys: &[NodeId], make: impl Fn() -> Signal) {
        for &x in xs {
            for &y in ys {
                self.add(x, y, make());
            }
        }
    }
}

/// The accounts a subject holds.
fn held(g: &PropertyGraph, subject: NodeId) -> Vec<NodeId> {
    match g.kind(subject) {
        NodeKind::Account => vec![subject],
        _ => g.in_of(subject, EdgeKind::HeldBy).map(|a| a.node).collect(),
    }
}

/// What the behaviour and flow detectors found, for [`collect_links`]; empty by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Findings<'a> {
    pub flows: &'a [FlowPattern],
    pub group_flows: &'a [GroupFlow],
    pub group_bursts: &'a [GroupBurst],
    pub sync: &'a [SyncFact],
    pub matched: &'a [MatchedFact],
}

/// Builds the evidence graph.
pub fn collect_links(
    g: &PropertyGraph,
    control: &[ControlFact],
    transfers: &[TransferEvent],
    found: &Findings<'_>,
    cfg: &EvidenceConfig,
) -> EvidenceGraph {
    let Findings {
        flows,
        group_flows,
        group_bursts,
        sync,
        matched,
    } = *found;
    let mut c = Collector {
        g,
        cfg,
        pairs: AHashMap::new(),
        discounted: Vec::new(),
    };
    let mut out = EvidenceGraph {
        full_weight_spread: cfg.full_weight_spread,
        ..EvidenceGraph::default()
    };

    // Accounts of one holder (an investor with accounts at several members).
    for holder in g.node_ids() {
        if !matches!(g.kind(holder), NodeKind::Person | NodeKind::Entity) {
            continue;
        }
        let accounts = held(g, holder);
        if accounts.len() > 1 {
            c.add_all(&accounts, |_, _| Signal {
                kind: SignalKind::SameHolder,
                criterion: Criterion::C7,
                weight: cfg.same_holder,
                evidence: Evidence::SameHolder { holder },
            });
        }
    }

    // Common controllers: every holder a controller controls, plus the controller's own accounts.
    let mut by_controller: AHashMap<NodeId, Vec<&ControlFact>> = AHashMap::new();
    for f in control {
        by_controller.entry(f.controller).or_default().push(f);
    }
    let mut controllers: Vec<_> = by_controller.into_iter().collect();
    controllers.sort_by_key(|(k, _)| *k);
    for (controller, facts) in controllers {
        let mut accounts: Vec<(NodeId, usize)> = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            accounts.extend(held(g, f.holder).into_iter().map(|a| (a, i)));
        }
        let own: Vec<NodeId> = held(g, controller);
        let mut all: Vec<(NodeId, Option<usize>)> = own.iter().map(|a| (*a, None)).collect();
        all.extend(accounts.iter().map(|(a, i)| (*a, Some(*i))));
        all.sort_unstable();
        all.dedup_by_key(|(a, _)| *a);
        if all.len() < 2 {
            continue;
        }
        let fact_of = |a: NodeId| all.iter().find(|(x, _)| *x == a).and_then(|(_, i)| *i);
        let ids: Vec<NodeId> = all.iter().map(|(a, _)| *a).collect();
        c.add_all(&ids, |a, b| {
            let fa = fact_of(a).map(|i| facts[i]);
            let fb = fact_of(b).map(|i| facts[i]);
            let strongest = [fa, fb]
                .into_iter()
                .flatten()
                .map(|f| f.criterion)
                .min()
                .unwrap_or(Criterion::C1);
            let basis = [fa, fb]
                .into_iter()
                .flatten()
                .map(|f| f.basis())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join("+");
            Signal {
                kind: SignalKind::Control,
                criterion: strongest,
                weight: cfg.control,
                evidence: Evidence::Control {
                    controller,
                    basis,
                    claim_a: fa.map(|f| f.claim.clone()),
                    claim_b: fb.map(|f| f.claim.clone()),
                },
            }
        });
    }

    // A party's sphere: the accounts it holds, those of the entities it controls, and those it
    // places orders on or moves funds for (C2), unless it does so for too many to mean control.
    let mut sphere_of: AHashMap<NodeId, Vec<NodeId>> = AHashMap::new();
    for f in control {
        sphere_of
            .entry(f.controller)
            .or_insert_with(|| held(g, f.controller))
            .extend(held(g, f.holder));
    }
    for person in g.nodes_of_kind(NodeKind::Person) {
        let acts_on: Vec<NodeId> = g
            .out_of(person, EdgeKind::Authorised)
            .filter(|adj| {
                matches!(
                    g.edge(adj.edge).data,
                    EdgeData::Authorised {
                        role: AuthRole::OrderPlacer | AuthRole::FundTransfer
                    }
                )
            })
            .map(|adj| adj.node)
            .collect();
        if !acts_on.is_empty() && acts_on.len() as u32 <= cfg.full_weight_spread {
            sphere_of
                .entry(person)
                .or_insert_with(|| held(g, person))
                .extend(acts_on);
        }
    }
    for v in sphere_of.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    let sphere = |p: NodeId| sphere_of.get(&p).cloned().unwrap_or_else(|| held(g, p));

    // Officers: the officer's sphere with the entity's accounts, and entities sharing an officer
    // (C3: "or the two share the same one"): two companies with one legal representative, one
    // director, one senior manager or one supervisor in the same role in both. A shared
    // position weighs as the role does, at most `shared_legal_rep` (a shared legal
    // representative's weight).
    let officer_weight = |role: OfficerRole| match role {
        OfficerRole::LegalRep => cfg.legal_rep,
        OfficerRole::Director => cfg.director,
        OfficerRole::Executive => cfg.executive,
        OfficerRole::Supervisor => cfg.supervisor,
        OfficerRole::FundManager => cfg.fund_manager,
    };
    for person in g.nodes_of_kind(NodeKind::Person) {
        let own = sphere(person);
        // Each entity once, with the person's strongest role in it.
        let mut roles_in: Vec<(NodeId, OfficerRole)> = Vec::new();
        for adj in g.out_of(person, EdgeKind::Officer) {
            let EdgeData::Officer { role } = g.edge(adj.edge).data else {
                continue;
            };
            let theirs = held(g, adj.node);
            match roles_in.iter_mut().find(|(e, _)| *e == adj.node) {
                Some((_, r)) if officer_weight(role) > officer_weight(*r) => *r = role,
                Some(_) => {}
                None => roles_in.push((adj.node, role)),
            }
            c.add_cross(&own, &theirs, || Signal {
                kind: SignalKind::Officer,
                criterion: Criterion::C3,
                weight: officer_weight(role),
                evidence: Evidence::Officer {
                    person,
                    entity: adj.node,
                    role,
                    shared: false,
                },
            });
        }
        if roles_in.len() > 1 && roles_in.len() as u32 <= cfg.max_spread {
            let factor = cfg.spread_factor(roles_in.len() as u32);
            if factor < 1.0 {
                let reached = roles_in.iter().flat_map(|(e, _)| held(g, *e)).collect();
                c.discounted
                    .push((ItemKey::Officer(person), reached, factor));
            }
            for (i, &(e1, r1)) in roles_in.iter().enumerate() {
                for &(e2, r2) in &roles_in[i + 1..] {
                    // One role in both: "is director of both holders" says exactly that.
                    if r1 != r2 {
                        continue;
                    }
                    let role = r1;
                    let weight = if role == OfficerRole::LegalRep {
                        cfg.shared_legal_rep
                    } else {
                        officer_weight(role).min(cfg.shared_legal_rep)
                    };
                    c.add_cross(&held(g, e1), &held(g, e2), || Signal {
                        kind: SignalKind::Officer,
                        criterion: Criterion::C3,
                        weight: weight * factor,
                        evidence: Evidence::Officer {
                            person,
                            entity: e2,
                            role,
                            shared: true,
                        },
                    });
                }
            }
        }
    }

    // Authorised persons: with the accounts they hold, and across the accounts they act on.
    for person in g.nodes_of_kind(NodeKind::Person) {
        let on: Vec<(NodeId, AuthRole)> = g
            .out_of(person, EdgeKind::Authorised)
            .filter_map(|adj| match g.edge(adj.edge).data {
                EdgeData::Authorised { role } => Some((adj.node, role)),
                _ => None,
            })
            .collect();
        if on.is_empty() {
            continue;
        }
        let mut distinct: Vec<NodeId> = on.iter().map(|(a, _)| *a).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let spread = distinct.len() as u32;
        if spread > cfg.max_spread {
            continue;
        }
        let factor = cfg.spread_factor(largest_at_one_member(g, &distinct));
        let role_weight = |role| match role {
            AuthRole::OrderPlacer => cfg.order_placer,
            AuthRole::FundTransfer => cfg.fund_transfer,
            AuthRole::SettlementConfirm => cfg.settlement_confirm,
            AuthRole::OpeningAgent => cfg.opening_agent,
        };
        // The accounts the person holds or controls; the accounts merely acted on are tied to
        // each other as a common agent's, below, not as the person's own.
        let mut own: Vec<NodeId> = sphere(person)
            .into_iter()
            .filter(|a| distinct.binary_search(a).is_err())
            .collect();
        own.extend(held(g, person));
        own.sort_unstable();
        own.dedup();
        if factor < 1.0 {
            let mut reached = own.clone();
            reached.extend(&distinct);
            reached.sort_unstable();
            reached.dedup();
            c.discounted
                .push((ItemKey::Authorised(person), reached, factor));
        }
        for &(account, role) in &on {
            c.add_cross(&own, &[account], || Signal {
                kind: SignalKind::AccountRole,
                criterion: Criterion::C2,
                weight: role_weight(role) * factor,
                evidence: Evidence::Authorised {
                    person,
                    role,
                    spread,
                },
            });
        }
        // Across the accounts acted on: the weaker role of the two (an account the person both
        // places orders on and opened counts as an order-placer account).
        let mut role_of: AHashMap<NodeId, AuthRole> = AHashMap::new();
        for &(a, r) in &on {
            let e = role_of.entry(a).or_insert(r);
            if role_weight(r) > role_weight(*e) {
                *e = r;
            }
        }
        c.add_all(&distinct, |a, b| {
            let (ra, rb) = (role_of[&a], role_of[&b]);
            let role = if role_weight(ra) <= role_weight(rb) {
                ra
            } else {
                rb
            };
            Signal {
                kind: SignalKind::CommonAgent,
                criterion: Criterion::C7,
                weight: role_weight(role) * factor,
                evidence: Evidence::Authorised {
                    person,
                    role,
                    spread,
                },
            }
        });
    }

    // Ties between holders.
    for e in g.edges() {
        let EdgeData::Relation { kind } = e.data else {
            continue;
        };
        let (signal_kind, criterion, weight) = match kind {
            RelationKind::Spouse => (SignalKind::Spouse, Criterion::C4, cfg.spouse),
            RelationKind::Parent
            | RelationKind::Child
            | RelationKind::Sibling
            | RelationKind::Relative => (SignalKind::Family, Criterion::C5, cfg.family),
            RelationKind::AgentOf => (SignalKind::AccountRole, Criterion::C2, cfg.agent_of),
            RelationKind::Guarantor => (SignalKind::Arrangement, Criterion::C6, cfg.guarantor),
            RelationKind::EmployeeOf => (SignalKind::Arrangement, Criterion::C6, cfg.employee_of),
            // An asset manager's products come through the control analysis.
            RelationKind::Manages => continue,
        };
        c.add_cross(&sphere(e.src), &sphere(e.dst), || Signal {
            kind: signal_kind,
            criterion,
            weight,
            evidence: Evidence::Relation {
                from: e.src,
                to: e.dst,
                kind,
            },
        });
    }

    // Shared identifiers, weighted by kind and spread. Values seen on exactly the same accounts
    // are one fact, not several: a machine's MAC, disk serial and name, or one office's phone
    // and address, are seen together wherever the machine or office is; the strongest of them
    // speaks for all (counting them as independent would make a hall terminal look like three).
    let mut by_reach: BTreeMap<Vec<NodeId>, (f32, NodeId, IdentifierKind, u32, f32)> =
        BTreeMap::new();
    for ident in g.nodes_of_kind(NodeKind::Identifier) {
        let NodeData::Identifier { kind } = g.node(ident) else {
            continue;
        };
        let subjects: Vec<NodeId> = g
            .in_of(ident, EdgeKind::HasIdentifier)
            .map(|a| a.node)
            .collect();
        if subjects.len() < 2 {
            continue;
        }
        if is_placeholder(kind, g.key(ident)) {
            out.placeholders.push((ident, subjects.len() as u32));
            continue;
        }
        let mut accounts: Vec<NodeId> = subjects.iter().flat_map(|s| held(g, *s)).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let holders: AHashSet<NodeId> = accounts.iter().filter_map(|a| g.holder(*a)).collect();
        let spread = holders.len() as u32;
        if spread < 2 {
            continue;
        }
        if spread > cfg.max_spread {
            out.hubs.push((ident, spread));
            continue;
        }
        let mut factor = cfg.identifier_spread_factor(kind, spread);
        if spread >= 3 && only_member(g, &accounts).is_some() {
            factor = factor.min(cfg.one_member_factor);
        }
        let weight = cfg.identifier_weight(kind) * factor;
        let e = by_reach
            .entry(accounts)
            .or_insert((weight, ident, kind, spread, factor));
        if (weight, std::cmp::Reverse(ident)) > (e.0, std::cmp::Reverse(e.1)) {
            *e = (weight, ident, kind, spread, factor);
        }
    }
    for (accounts, (weight, ident, kind, spread, factor)) in by_reach {
        if factor < 1.0 {
            c.discounted
                .push((ItemKey::Identifier(ident), accounts.clone(), factor));
        }
        c.add_all(&accounts, |_, _| Signal {
            kind: SignalKind::SharedIdentifier,
            criterion: Criterion::C8,
            weight,
            evidence: Evidence::Identifier {
                identifier: ident,
                kind,
                spread,
            },
        });
    }

    // Fund transfers, both directions of a pair together. The same sum paid again and again in
    // one direction is a standing payment and counts as one transfer.
    #[derive(Default)]
    struct PairFlow {
        count: u32,
        total: f64,
        forward: bool,
        backward: bool,
        amounts: Vec<i64>,
    }
    let mut by_pair: AHashMap<(NodeId, NodeId), PairFlow> = AHashMap::new();
    for t in transfers {
        if t.from == t.to {
            continue;
        }
        let key = if t.from < t.to {
            (t.from, t.to)
        } else {
            (t.to, t.from)
        };
        let p = by_pair.entry(key).or_default();
        p.count += 1;
        p.total += t.amount;
        if t.from == key.0 {
            p.forward = true;
        } else {
            p.backward = true;
        }
        p.amounts.push((t.amount * 100.0).round() as i64);
    }
    let transfers: AHashMap<(NodeId, NodeId), (u32, f64)> = by_pair
        .into_iter()
        .map(|(k, mut p)| {
            p.amounts.sort_unstable();
            p.amounts.dedup();
            let standing = !(p.forward && p.backward) && p.amounts.len() == 1;
            (k, (if standing { 1 } else { p.count }, p.total))
        })
        .collect();
    let mut counterparties: AHashMap<NodeId, u32> = AHashMap::new();
    for (a, b) in transfers.keys() {
        *counterparties.entry(*a).or_default() += 1;
        *counterparties.entry(*b).or_default() += 1;
    }
    let mut transfers: Vec<_> = transfers.into_iter().collect();
    transfers.sort_unstable_by_key(|(k, _)| *k);
    for ((a, b), (count, total)) in transfers {
        // Payments between two busy accounts (rent, supplies) are what busy accounts do; the
        // same transfers between otherwise quiet accounts are not.
        let busiest = counterparties[&a].max(counterparties[&b]);
        let factor = (cfg.transfer_full_counterparties as f32 / busiest as f32).min(1.0);
        let weight = factor
            * (cfg.transfer_base + cfg.transfer_step * (count.saturating_sub(1)) as f32)
                .min(cfg.transfer_max);
        c.add(
            a,
            b,
            Signal {
                kind: SignalKind::Transfers,
                criterion: Criterion::C8,
                weight,
                evidence: Evidence::Transfers { count, total },
            },
        );
    }

    // An account whose money moves mostly with one group's accounts: weighed as transfers with
    // as many counterparties as it has group accounts among them, undiscounted (it is quiet:
    // they are at least half of all it has), and as one item with its pair's own transfers.
    for f in group_flows {
        let weight = (cfg.transfer_base + cfg.transfer_step * f.members.saturating_sub(1) as f32)
            .min(cfg.transfer_max);
        c.add(
            f.account,
            f.member,
            Signal {
                kind: SignalKind::Transfers,
                criterion: Criterion::C8,
                weight,
                evidence: Evidence::GroupFlow {
                    members: f.members,
                    counterparties: f.counterparties,
                    transfers: f.transfers,
                    total: f.total,
                },
            },
        );
    }

    for f in flows {
        let weight = if f.transfers.len() >= 3 {
            cfg.flow_more
        } else {
            cfg.flow_two
        };
        c.add_all(&f.accounts, |_, _| Signal {
            kind: SignalKind::FundFlow,
            criterion: Criterion::C8,
            weight,
            evidence: Evidence::Flow {
                amount: f.amount,
                shape: f.shape,
                transfers: f.transfers.len() as u32,
                accounts: f.accounts.len() as u32,
                first_ts: f.first_ts,
                last_ts: f.last_ts,
            },
        });
    }

    for s in sync {
        c.add(
            s.a,
            s.b,
            Signal {
                kind: SignalKind::SyncTrading,
                criterion: Criterion::C8,
                weight: cfg.behaviour_weight(s.significance, s.threshold),
                evidence: Evidence::Sync {
                    co_events: s.co_events,
                    expected: s.expected,
                    significance: s.significance,
                    examples: s.examples.clone(),
                },
            },
        );
    }
    // An account trading in a group's bursts: one signal to the group's account it traded
    // beside most, weighed as a synchronised pair at the same significance.
    for f in group_bursts {
        c.add(
            f.account,
            f.member,
            Signal {
                kind: SignalKind::SyncTrading,
                criterion: Criterion::C8,
                weight: cfg.behaviour_weight(f.significance, f.threshold),
                evidence: Evidence::GroupBurst {
                    joined: f.joined,
                    with_member: f.with_member,
                    bursts: f.bursts,
                    expected: f.expected,
                    significance: f.significance,
                    examples: f.examples.clone(),
                },
            },
        );
    }
    for m in matched {
        c.add(
            m.a,
            m.b,
            Signal {
                kind: SignalKind::MatchedTrading,
                criterion: Criterion::C8,
                weight: cfg.behaviour_weight(m.significance, m.threshold),
                evidence: Evidence::Matched {
                    trades: m.trades,
                    volume: m.volume,
                    expected: m.expected,
                    significance: m.significance,
                    round_trips: m.round_trips,
                    examples: m.examples.clone(),
                },
            },
        );
    }

    discount_busy_traders(&mut c.pairs, cfg.full_weight_spread, cfg.confirm_min);
    corroborate(
        &mut c.pairs,
        &c.discounted,
        cfg.confirm_min,
        cfg.unconfirmed_max,
    );
    let mut pairs: Vec<_> = c.pairs.into_iter().collect();
    pairs.sort_unstable_by_key(|(k, _)| *k);
    out.links = pairs
        .into_iter()
        .map(|((a, b), signals)| finish_link(a, b, signals))
        .collect();
    out.hubs
        .sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    out.placeholders
        .sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    out
}

/// Lowers the trading signals of accounts that trade together with too many others to mean
/// control, as the spread rule does for a shared value.
///
/// Same-second trades at a market's busy moments (the open, a data release) make every regular
/// of those moments look synchronised with every other, a clique of strangers; an account of a
/// trading studio is synchronised with many too, but with accounts that something else ties to
/// it (a terminal, an order placer, a transfer). An account with trading signals towards more
/// than `full_weight_spread` others keeps, as its factor, the larger of `full_weight_spread /
/// partners` and the share of its partners it has other evidence with (of at least `confirm_min`,
/// neither an IP, a family tie nor another trading signal); a pair's trading signal is scaled by
/// the smaller of its two accounts' factors. A group-burst signal is neither counted nor
/// scaled: it is tested once per group and account with the market's busy moments left out
/// (`behaviour::group_bursts`), and the group's account it names stands for the whole group.
fn discount_busy_traders(
    pairs: &mut AHashMap<(NodeId, NodeId), Vec<Signal>>,
    full: u32,
    confirm_min: f32,
) {
    for kind in [SignalKind::SyncTrading, SignalKind::MatchedTrading] {
        let mut partners: AHashMap<NodeId, (u32, u32)> = AHashMap::new();
        let pairwise =
            |s: &Signal| s.kind == kind && !matches!(s.evidence, Evidence::GroupBurst { .. });
        for (&(a, b), signals) in pairs.iter() {
            if !signals.iter().any(pairwise) {
                continue;
            }
            let other = signals.iter().any(|s| {
                s.weight >= confirm_min
                    && !matches!(
                        s.kind,
                        SignalKind::SyncTrading
                            | SignalKind::MatchedTrading
                            | SignalKind::Family
                            | SignalKind::SameHolder
                    )
                    && !matches!(
                        s.evidence,
                        Evidence::Identifier {
                            kind: IdentifierKind::Ip,
                            ..
                        }
                    )
            });
            for x in [a, b] {
                let e = partners.entry(x).or_default();
                e.0 += 1;
                e.1 += u32::from(other);
            }
        }
        let factor = |x: NodeId| match partners.get(&x) {
            Some(&(n, confirmed)) if n > full => {
                (full as f32 / n as f32).max(confirmed as f32 / n as f32)
            }
            _ => 1.0,
        };
        for (&(a, b), signals) in pairs.iter_mut() {
            let f = factor(a).min(factor(b));
            if f < 1.0 {
                for s in signals.iter_mut().filter(|s| pairwise(s)) {
                    s.weight *= f;
                }
            }
        }
    }
}

/// The most of `accounts` held at one member (accounts with no member count as at one).
///
/// An agent who serves many accounts is a member's service: an introducing broker's staff, a
/// branch's order desk, all acting for that member's clients. A person designated on the accounts
/// of many members is no member's service, so an authorised person's spread is counted per member.
fn largest_at_one_member(g: &PropertyGraph, accounts: &[NodeId]) -> u32 {
    let mut at: AHashMap<Option<NodeId>, u32> = AHashMap::new();
    for &a in accounts {
        let member = g.out_of(a, EdgeKind::AtMember).next().map(|adj| adj.node);
        *at.entry(member).or_default() += 1;
    }
    at.into_values().max().unwrap_or(0)
}

/// The member all of `accounts` are held at, if they are all at one (and it is known).
fn only_member(g: &PropertyGraph, accounts: &[NodeId]) -> Option<NodeId> {
    let member = |a: NodeId| g.out_of(a, EdgeKind::AtMember).next().map(|adj| adj.node);
    let first = member(*accounts.first()?)?;
    accounts
        .iter()
        .all(|a| member(*a) == Some(first))
        .then_some(first)
}

/// Gives back weight to items discounted for their spread as far as other evidence confirms them.
///
/// A party acting on many accounts, or a value many holders share, is either a service used by
/// strangers (an introducing broker, a branch's phone) or one operation's (a trading studio's
/// order placer, its terminals). The two differ in what else ties the accounts: a studio's
/// accounts share terminals, transfers and trading, a broker's clients share nothing else.
/// Other, undiscounted evidence of at least `confirm_min` (not the same holder, not a family tie
/// alone) confirms accounts. A party's factor becomes the share of its accounts tied so to
/// another of its accounts, if that is more than the spread factor: a person who places the
/// orders of several confirmed operations decides the trading of all of them (C2, C7). A
/// value is not a decision maker: that evidence puts accounts into clusters, and a value's
/// factor becomes the share of its accounts in the one cluster that holds most of them, so a
/// branch's phone on two studios' holders is confirmed only as far as the larger studio
/// reaches and does not make the two one. An item nothing confirms weighs at most
/// `unconfirmed_max`, so it joins accounts only beside other evidence.
fn corroborate(
    pairs: &mut AHashMap<(NodeId, NodeId), Vec<Signal>>,
    discounted: &[(ItemKey, Vec<NodeId>, f32)],
    confirm_min: f32,
    unconfirmed_max: f32,
) {
    if discounted.is_empty() {
        return;
    }
    let keys: AHashSet<ItemKey> = discounted.iter().map(|(k, _, _)| *k).collect();
    let mut adjacent: AHashMap<NodeId, Vec<NodeId>> = AHashMap::new();
    for (&(a, b), signals) in pairs.iter() {
        let independent = signals.iter().any(|s| {
            s.weight >= confirm_min
                && !matches!(s.kind, SignalKind::SameHolder | SignalKind::Family)
                && !keys.contains(&s.item(a, b))
        });
        if independent {
            adjacent.entry(a).or_default().push(b);
            adjacent.entry(b).or_default().push(a);
        }
    }
    let cluster = confirmed_clusters(&adjacent);
    let mut scale: AHashMap<ItemKey, (f32, f32)> = AHashMap::new();
    for (key, accounts, factor) in discounted {
        if accounts.len() < 2 {
            continue;
        }
        let share = match key {
            ItemKey::Identifier(_) => largest_cluster_share(accounts, &cluster),
            _ => confirmed_share(accounts, &adjacent),
        };
        // (scale, cap): confirmed items grow to their confirmed share; the rest keep the
        // spread factor but cannot join on their own.
        let e = scale.entry(*key).or_insert((1.0, unconfirmed_max));
        if share > *factor {
            *e = (e.0.max(share / factor), 1.0);
        }
    }
    for (&(a, b), signals) in pairs.iter_mut() {
        for s in signals.iter_mut() {
            if let Some((k, cap)) = scale.get(&s.item(a, b)) {
                s.weight = (s.weight * k).min(*cap).min(1.0);
            }
        }
    }
}

/// The share of an item's accounts tied by `adjacent` to another of them.
fn confirmed_share(accounts: &[NodeId], adjacent: &AHashMap<NodeId, Vec<NodeId>>) -> f32 {
    let set: AHashSet<NodeId> = accounts.iter().copied().collect();
    let confirmed = set
        .iter()
        .filter(|x| {
            adjacent
                .get(x)
                .is_some_and(|ys| ys.iter().any(|y| set.contains(y)))
        })
        .count();
    confirmed as f32 / set.len().max(1) as f32
}

/// Each account's cluster under `adjacent` (accounts with no such tie are in none).
fn confirmed_clusters(adjacent: &AHashMap<NodeId, Vec<NodeId>>) -> AHashMap<NodeId, u32> {
    let mut nodes: Vec<NodeId> = adjacent.keys().copied().collect();
    nodes.sort_unstable();
    let index: AHashMap<NodeId, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i as u32))
        .collect();
    let mut uf = UnionFind::new(nodes.len());
    for (a, ys) in adjacent {
        for y in ys {
            uf.union(index[a], index[y]);
        }
    }
    nodes
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, uf.find(i as u32)))
        .collect()
}

/// The share of an item's accounts in the one cluster (of [`confirmed_clusters`]) that holds
/// most of them, counted when it holds two or more.
fn largest_cluster_share(accounts: &[NodeId], cluster: &AHashMap<NodeId, u32>) -> f32 {
    let mut unique = accounts.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut size: AHashMap<u32, usize> = AHashMap::new();
    for a in &unique {
        if let Some(c) = cluster.get(a) {
            *size.entry(*c).or_default() += 1;
        }
    }
    let largest = size
        .values()
        .copied()
        .filter(|&s| s >= 2)
        .max()
        .unwrap_or(0);
    largest as f32 / unique.len().max(1) as f32
}

/// Combines a pair's signals: one signal per piece of evidence, family ties only beside others.
fn finish_link(a: NodeId, b: NodeId, mut signals: Vec<Signal>) -> Link {
    signals.sort_by(|x, y| y.weight.total_cmp(&x.weight));
    // The same proof reached twice (a controller seen through both holders) counts once.
    let mut unique: Vec<Signal> = Vec::with_capacity(signals.len());
    for s in signals {
        if !unique.iter().any(|u| u.evidence == s.evidence) {
            unique.push(s);
        }
    }
    // A family tie explains a shared home address, phone or e-mail; it does not explain a
    // shared terminal, an order placer, fund flows or trading together (C5 needs evidence of
    // influence over trading).
    let family = unique.iter().any(|s| s.kind == SignalKind::Family);
    let household = |s: &Signal| {
        matches!(
            s.evidence,
            Evidence::Identifier {
                kind: IdentifierKind::Address | IdentifierKind::Phone | IdentifierKind::Email,
                ..
            }
        )
    };
    let counts = |s: &Signal| !(family && household(s));
    let has_other = unique
        .iter()
        .any(|s| s.kind != SignalKind::Family && counts(s));
    let (signals, ignored): (Vec<Signal>, Vec<Signal>) = unique
        .into_iter()
        .partition(|s| counts(s) && (s.kind != SignalKind::Family || has_other));
    let miss: f32 = signals
        .iter()
        .map(|s| 1.0 - s.weight.clamp(0.0, 1.0))
        .product();
    Link {
        a,
        b,
        weight: 1.0 - miss,
        signals,
        ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph_core::GraphBuilder;
    use graph_core::model::{
        Account, Authorization, Extra, IdentifierObs, Person, Record, Relation,
    };

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
            account_type: None,
            open_date: None,
            status: None,
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
            count: None,
            extra: Extra::new(),
        })
    }

    /// A small graph with one case per rule; accounts `An` are held by persons `Pn`.
    fn case_graph() -> PropertyGraph {
        let mut b = GraphBuilder::new();
        for i in 0..310 {
            b.add_record(&person(&format!("P{i}")));
        }
        b.add_record(&person("Q"));
        for i in 0..310 {
            b.add_record(&account(&format!("A{i}"), &format!("P{i}")));
        }
        // Q holds no account, is P1's spouse and places the orders of A2.
        b.add_record(&Record::Relation(Relation {
            from_id: "P1".into(),
            to_id: "Q".into(),
            kind: RelationKind::Spouse,
            extra: Extra::new(),
        }));
        b.add_record(&Record::Authorization(Authorization {
            account_id: "A2".into(),
            person_id: "Q".into(),
            role: AuthRole::OrderPlacer,
            extra: Extra::new(),
        }));
        // One office IP behind 300 holders; one privacy MAC on two accounts.
        for i in 10..310 {
            b.add_record(&ident(&format!("A{i}"), IdentifierKind::Ip, "203.0.113.9"));
        }
        b.add_record(&ident("A8", IdentifierKind::Mac, "020000000000"));
        b.add_record(&ident("A9", IdentifierKind::Mac, "020000000000"));
        b.finish()
    }

    fn link<'e>(g: &PropertyGraph, ev: &'e EvidenceGraph, a: &str, b: &str) -> Option<&'e Link> {
        let (x, y) = (g.find(a).unwrap(), g.find(b).unwrap());
        let key = if x < y { (x, y) } else { (y, x) };
        ev.links.iter().find(|l| (l.a, l.b) == key)
    }

    #[test]
    fn companies_sharing_an_officer_in_one_role_are_linked() {
        use graph_core::model::{Entity, Officer};
        let mut b = GraphBuilder::new();
        let officer = |b: &mut GraphBuilder, p: &str, e: &str, role: OfficerRole| {
            b.add_record(&Record::Officer(Officer {
                person_id: p.into(),
                entity_id: e.into(),
                role,
                extra: Extra::new(),
            }));
        };
        for p in ["D", "S"] {
            b.add_record(&person(p));
        }
        for e in ["E1", "E2", "E3", "E4"] {
            b.add_record(&Record::Entity(Entity {
                entity_id: e.into(),
                name: None,
                uscc: None,
                kind: None,
                registered_capital: None,
                established: None,
                status: None,
                extra: Extra::new(),
            }));
            b.add_record(&account(&format!("A{e}"), e));
        }
        // D directs E1 and E2 and is a senior manager of E3; S supervises E3 and E4.
        officer(&mut b, "D", "E1", OfficerRole::Director);
        officer(&mut b, "D", "E2", OfficerRole::Director);
        officer(&mut b, "D", "E3", OfficerRole::Executive);
        officer(&mut b, "S", "E3", OfficerRole::Supervisor);
        officer(&mut b, "S", "E4", OfficerRole::Supervisor);
        let g = b.finish();
        let cfg = EvidenceConfig::default();
        let ev = collect_links(&g, &[], &[], &Findings::default(), &cfg);
        let shared = link(&g, &ev, "AE1", "AE2").expect("one director of both");
        assert_eq!(shared.criteria(), [Criterion::C3].into_iter().collect());
        assert!((shared.weight - cfg.director).abs() < 1e-6);
        assert!(matches!(
            shared.signals[0].evidence,
            Evidence::Officer { shared: true, .. }
        ));
        // Any one criterion is enough: a shared director joins at the default operating point.
        assert!(shared.weight >= crate::groups::GroupConfig::default().link_threshold);
        let weak = link(&g, &ev, "AE3", "AE4").expect("one supervisor of both");
        assert!((weak.weight - cfg.supervisor).abs() < 1e-6);
        // Director of one, senior manager of the other: not one role shared.
        assert!(link(&g, &ev, "AE1", "AE3").is_none());
    }

    #[test]
    fn rules_on_a_small_graph() {
        let g = case_graph();
        let id = |s: &str| g.find(s).unwrap();
        let t = |n: u32, from: &str, to: &str, amount: f64| TransferEvent {
            id: n,
            ts: i64::from(n) * 86_400_000_000,
            from: id(from),
            to: id(to),
            amount,
        };
        // A4 pays A5 the same 100.00 four times (a standing payment); A6 and A7 move money both
        // ways, three times.
        let transfers = vec![
            t(0, "A4", "A5", 100.0),
            t(1, "A4", "A5", 100.0),
            t(2, "A4", "A5", 100.0),
            t(3, "A4", "A5", 100.0),
            t(4, "A6", "A7", 5_000.0),
            t(5, "A7", "A6", 3_100.0),
            t(6, "A6", "A7", 2_500.0),
        ];
        let cfg = EvidenceConfig::default();
        let ev = collect_links(&g, &[], &transfers, &Findings::default(), &cfg);

        // The spouse tie reaches the account Q places orders for (Q's sphere).
        let spouse = link(&g, &ev, "A1", "A2").expect("a link through Q's sphere");
        assert_eq!(spouse.signals[0].kind, SignalKind::Spouse);
        assert_eq!(spouse.criteria(), [Criterion::C4].into_iter().collect());

        let standing = link(&g, &ev, "A4", "A5").unwrap();
        assert!(
            (standing.weight - cfg.transfer_base).abs() < 1e-6,
            "counted as one transfer: {}",
            standing.weight
        );
        let two_way = link(&g, &ev, "A6", "A7").unwrap();
        assert!((two_way.weight - (cfg.transfer_base + 2.0 * cfg.transfer_step)).abs() < 1e-6);

        // The hub and the placeholder make no link and are listed.
        assert!(link(&g, &ev, "A10", "A11").is_none());
        assert_eq!(
            ev.hubs,
            vec![(
                g.find_identifier(IdentifierKind::Ip, "203.0.113.9")
                    .unwrap(),
                300
            )]
        );
        assert!(link(&g, &ev, "A8", "A9").is_none());
        assert_eq!(ev.placeholders.len(), 1);
    }

    #[test]
    fn busy_accounts_transfers_weigh_less() {
        let g = case_graph();
        let id = |s: &str| g.find(s).unwrap();
        // A20 moves money both ways with A21 and also with eight other accounts.
        let mut transfers = Vec::new();
        let mut n = 0;
        for other in std::iter::once(21).chain(30..38) {
            for (from, to) in [(20, other), (other, 20)] {
                transfers.push(TransferEvent {
                    id: n,
                    ts: i64::from(n),
                    from: id(&format!("A{from}")),
                    to: id(&format!("A{to}")),
                    amount: 1_000.0 + f64::from(n),
                });
                n += 1;
            }
        }
        let cfg = EvidenceConfig::default();
        let ev = collect_links(&g, &[], &transfers, &Findings::default(), &cfg);
        let l = link(&g, &ev, "A20", "A21").unwrap();
        // Nine counterparties against four at full weight.
        let full = cfg.transfer_base + cfg.transfer_step;
        assert!((l.weight - full * 4.0 / 9.0).abs() < 1e-6, "{}", l.weight);
        assert!(
            l.weight < 0.5,
            "a busy account's transfers alone do not group"
        );
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(is_placeholder(IdentifierKind::Mac, "020000000000"));
        assert!(is_placeholder(IdentifierKind::Mac, "000000000000"));
        assert!(is_placeholder(IdentifierKind::Mac, "FFFFFFFFFFFF"));
        assert!(!is_placeholder(IdentifierKind::Mac, "A1B2C3D4E5F6"));
        assert!(is_placeholder(
            IdentifierKind::DiskSerial,
            "To be filled by O.E.M."
        ));
        assert!(!is_placeholder(IdentifierKind::Ip, "203.0.113.7"));
    }

    #[test]
    fn family_alone_does_not_count_but_adds_to_other_evidence() {
        let fam = Signal {
            kind: SignalKind::Family,
            criterion: Criterion::C5,
            weight: 0.3,
            evidence: Evidence::Relation {
                from: NodeId(0),
                to: NodeId(1),
                kind: RelationKind::Sibling,
            },
        };
        let ip = Signal {
            kind: SignalKind::SharedIdentifier,
            criterion: Criterion::C8,
            weight: 0.25,
            evidence: Evidence::Identifier {
                identifier: NodeId(9),
                kind: IdentifierKind::Ip,
                spread: 2,
            },
        };
        let alone = finish_link(NodeId(2), NodeId(3), vec![fam.clone()]);
        assert_eq!(alone.weight, 0.0);
        assert!(alone.signals.is_empty());
        assert_eq!(alone.ignored, vec![fam.clone()]);
        let both = finish_link(NodeId(2), NodeId(3), vec![fam.clone(), ip]);
        assert!((both.weight - (1.0 - 0.7 * 0.75)).abs() < 1e-6);
        // A shared home address is what relatives have anyway: it neither counts nor lets the
        // family tie count.
        let home = Signal {
            kind: SignalKind::SharedIdentifier,
            criterion: Criterion::C8,
            weight: 0.5,
            evidence: Evidence::Identifier {
                identifier: NodeId(8),
                kind: IdentifierKind::Address,
                spread: 2,
            },
        };
        assert_eq!(
            finish_link(NodeId(2), NodeId(3), vec![fam, home.clone()]).weight,
            0.0
        );
        assert_eq!(finish_link(NodeId(2), NodeId(3), vec![home]).weight, 0.5);
    }

    /// `n` accounts `{prefix}{i}`, each of its own holder, at member `member(i)`.
    fn accounts_at(b: &mut GraphBuilder, prefix: &str, n: usize, member: impl Fn(usize) -> String) {
        for i in 0..n {
            let m = member(i);
            b.add_record(&Record::Member(graph_core::model::Member {
                member_id: m.clone(),
                name: None,
                uscc: None,
                extra: Extra::new(),
            }));
            b.add_record(&person(&format!("H{prefix}{i}")));
            b.add_record(&Record::Account(Account {
                account_id: format!("{prefix}{i}"),
                holder_id: format!("H{prefix}{i}"),
                member_id: Some(m),
                account_type: None,
                open_date: None,
                status: None,
                extra: Extra::new(),
            }));
        }
    }

    fn places_orders(b: &mut GraphBuilder, person_id: &str, accounts: &[String]) {
        b.add_record(&person(person_id));
        for a in accounts {
            b.add_record(&Record::Authorization(Authorization {
                account_id: a.clone(),
                person_id: person_id.into(),
                role: AuthRole::OrderPlacer,
                extra: Extra::new(),
            }));
        }
    }

    #[test]
    fn an_order_placer_on_many_members_accounts_is_no_members_service() {
        let tau = crate::groups::GroupConfig::default().link_threshold;
        let cfg = EvidenceConfig::default();
        let mut b = GraphBuilder::new();
        // Twelve accounts at twelve members, and twelve at one member, each with its placer.
        accounts_at(&mut b, "S", 12, |i| format!("M{i}"));
        accounts_at(&mut b, "D", 12, |_| "M0".into());
        let s: Vec<String> = (0..12).map(|i| format!("S{i}")).collect();
        let d: Vec<String> = (0..12).map(|i| format!("D{i}")).collect();
        places_orders(&mut b, "X", &s);
        places_orders(&mut b, "Y", &d);
        let g = b.finish();
        let ev = collect_links(&g, &[], &[], &Findings::default(), &cfg);
        // The studio's trader on twelve members' accounts weighs as a placer of a few.
        let studio = link(&g, &ev, "S0", "S11").expect("one placer");
        assert!((studio.weight - cfg.order_placer).abs() < 1e-6);
        // A desk serving twelve clients of one member is discounted and, unconfirmed, capped.
        let desk = link(&g, &ev, "D0", "D11").expect("one placer");
        assert!(desk.weight <= cfg.unconfirmed_max + 1e-6);
        assert!(desk.weight < tau);
    }

    #[test]
    fn a_value_shared_only_at_one_member_needs_confirmation() {
        let tau = crate::groups::GroupConfig::default().link_threshold;
        let cfg = EvidenceConfig::default();
        let mut b = GraphBuilder::new();
        // A terminal of four holders at one member (a trading hall's), one of four holders at
        // four members, and one of two holders at one member.
        accounts_at(&mut b, "H", 4, |_| "M0".into());
        accounts_at(&mut b, "T", 4, |i| format!("M{i}"));
        accounts_at(&mut b, "C", 2, |_| "M9".into());
        for i in 0..4 {
            b.add_record(&ident(
                &format!("H{i}"),
                IdentifierKind::DiskSerial,
                "WD-HALL",
            ));
            b.add_record(&ident(
                &format!("T{i}"),
                IdentifierKind::DiskSerial,
                "WD-STUDIO",
            ));
        }
        for i in 0..2 {
            b.add_record(&ident(
                &format!("C{i}"),
                IdentifierKind::DiskSerial,
                "WD-HOME",
            ));
        }
        let g = b.finish();
        let ev = collect_links(&g, &[], &[], &Findings::default(), &cfg);
        let hall = link(&g, &ev, "H0", "H3").expect("one terminal");
        assert!(hall.weight < tau, "a hall terminal alone joins no one");
        let studio = link(&g, &ev, "T0", "T3").expect("one terminal");
        assert!((studio.weight - cfg.disk_serial).abs() < 1e-6);
        let home = link(&g, &ev, "C0", "C1").expect("one terminal");
        assert!((home.weight - cfg.disk_serial).abs() < 1e-6);
    }

    #[test]
    fn a_value_two_separate_operations_share_does_not_join_them() {
        let tau = crate::groups::GroupConfig::default().link_threshold;
        let cfg = EvidenceConfig::default();
        let mut b = GraphBuilder::new();
        // Two studios of eight accounts, each under its own order placer, at many members; one
        // branch phone on all sixteen holders and on two strangers.
        accounts_at(&mut b, "A", 8, |i| format!("M{i}"));
        accounts_at(&mut b, "B", 8, |i| format!("M{}", i + 8));
        accounts_at(&mut b, "N", 2, |i| format!("M{}", i + 16));
        let a: Vec<String> = (0..8).map(|i| format!("A{i}")).collect();
        let bb: Vec<String> = (0..8).map(|i| format!("B{i}")).collect();
        places_orders(&mut b, "X", &a);
        places_orders(&mut b, "Y", &bb);
        for (p, n) in [("A", 8), ("B", 8), ("N", 2)] {
            for i in 0..n {
                b.add_record(&ident(&format!("H{p}{i}"), IdentifierKind::Phone, "95500"));
            }
        }
        let g = b.finish();
        let ev = collect_links(&g, &[], &[], &Findings::default(), &cfg);
        // Each studio is one by its placer; the phone confirms each, but not the two as one.
        assert!(link(&g, &ev, "A0", "A7").expect("placer").weight >= tau);
        let across = link(&g, &ev, "A0", "B0").expect("the phone");
        assert!(
            across.weight < tau,
            "phone across studios: {}",
            across.weight
        );
        let stranger = link(&g, &ev, "A0", "N0").expect("the phone");
        assert!(stranger.weight < tau);
    }

    #[test]
    fn one_order_placer_of_two_confirmed_operations_joins_them() {
        let tau = crate::groups::GroupConfig::default().link_threshold;
        let cfg = EvidenceConfig::default();
        let mut b = GraphBuilder::new();
        // Sixteen accounts at one member in two clusters of eight, each cluster a chain of
        // terminals shared by two of its holders; one person places the orders of all sixteen.
        accounts_at(&mut b, "A", 8, |_| "M0".into());
        accounts_at(&mut b, "B", 8, |_| "M0".into());
        for p in ["A", "B"] {
            for i in 0..7 {
                let mac = format!("3C528200{p}00{i}");
                b.add_record(&ident(&format!("{p}{i}"), IdentifierKind::Mac, &mac));
                b.add_record(&ident(&format!("{p}{}", i + 1), IdentifierKind::Mac, &mac));
            }
        }
        let all: Vec<String> = (0..8)
            .flat_map(|i| [format!("A{i}"), format!("B{i}")])
            .collect();
        places_orders(&mut b, "Z", &all);
        let g = b.finish();
        let ev = collect_links(&g, &[], &[], &Findings::default(), &cfg);
        // The placer decides the trading of both clusters: confirmed in full, it joins them.
        let across = link(&g, &ev, "A0", "B0").expect("the placer");
        assert!(
            (across.weight - cfg.order_placer).abs() < 1e-6,
            "{}",
            across.weight
        );
        assert!(across.weight >= tau);
    }

    #[test]
    fn spread_lowers_identifier_weight() {
        let cfg = EvidenceConfig::default();
        assert_eq!(cfg.spread_factor(2), 1.0);
        assert_eq!(cfg.spread_factor(8), 1.0);
        assert!((cfg.spread_factor(16) - 0.5).abs() < 1e-6);
        assert_eq!(cfg.behaviour_weight(3.0, 5.0), 0.0);
        assert_eq!(cfg.behaviour_weight(5.0, 5.0), cfg.behaviour_at_threshold);
        assert!(cfg.behaviour_weight(9.0, 5.0) > cfg.behaviour_weight(6.0, 5.0));
        assert_eq!(cfg.behaviour_weight(40.0, 5.0), cfg.behaviour_max);
    }
}
