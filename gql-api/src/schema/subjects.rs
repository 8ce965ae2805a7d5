//! Subjects and their profiles: investor (account and holder), person, institution (entity),
//! member, identifier; and search.

use std::collections::BTreeMap;

use async_graphql::{Context, ID, Interface, Object, SimpleObject};
use graph_core::model::{IdentifierKind, RelationKind};
use graph_core::{EdgeData, EdgeKind, NodeData, NodeId, NodeKind};

use super::groups::ControlGroup;
use super::traversal::{self, UltimateController};
use super::{Bucket, Req, SearchHit, SubjectKind, req};
use crate::error::ApiError;
use crate::mask;
use crate::snapshot::{Field, Snapshot, chain_parties, distinct};

/// A node of the graph: account, person, entity, member or identifier.
#[derive(Debug, Interface)]
#[graphql(
    field(
        name = "id",
        ty = "ID",
        desc = "The dataset id (identifiers: an opaque id)."
    ),
    field(name = "kind", ty = "SubjectKind"),
    field(name = "label", ty = "String", desc = "A name to show: name, else id.")
)]
pub enum Subject {
    Account(Account),
    Person(Person),
    Entity(Entity),
    Member(Member),
    Identifier(Identifier),
}

impl Subject {
    pub fn of(s: &Snapshot, n: NodeId) -> Subject {
        match s.graph.kind(n) {
            NodeKind::Account => Subject::Account(Account(n)),
            NodeKind::Person => Subject::Person(Person(n)),
            NodeKind::Entity => Subject::Entity(Entity(n)),
            NodeKind::Member => Subject::Member(Member(n)),
            NodeKind::Identifier => Subject::Identifier(Identifier(n)),
        }
    }
}

/// A node's label as the caller may see it.
pub fn label(r: &Req, n: NodeId) -> String {
    let s = &r.snap;
    match s.graph.node(n) {
        NodeData::Identifier { kind } => {
            format!("{} {}", kind.as_str(), identifier_value(r, n, kind))
        }
        _ => s.name(n).unwrap_or_else(|| s.graph.key(n)).to_owned(),
    }
}

/// An identifier's value as the caller may see it.
pub fn identifier_value(r: &Req, n: NodeId, kind: IdentifierKind) -> String {
    let v = r.snap.graph.key(n);
    if r.unmasked() {
        return v.to_owned();
    }
    match kind {
        IdentifierKind::Phone => mask::phone(v),
        IdentifierKind::BankAccount => mask::id_number(v),
        _ => v.to_owned(),
    }
}

fn accounts_held(s: &Snapshot, holder: NodeId) -> Vec<Account> {
    s.graph
        .in_of(holder, EdgeKind::HeldBy)
        .map(|e| Account(e.node))
        .collect()
}

fn identifiers_of(s: &Snapshot, n: NodeId) -> Vec<Identifier> {
    s.graph
        .out_of(n, EdgeKind::HasIdentifier)
        .map(|e| Identifier(e.node))
        .collect()
}

fn groups_of_accounts(
    s: &Snapshot,
    accounts: impl IntoIterator<Item = NodeId>,
) -> Vec<ControlGroup> {
    let mut ids: Vec<u32> = accounts
        .into_iter()
        .flat_map(|a| s.groups_of(a).iter().copied())
        .collect();
    ids.sort_by(|a, b| {
        s.group(*b)
            .score
            .total_cmp(&s.group(*a).score)
            .then(a.cmp(b))
    });
    ids.dedup();
    ids.into_iter().map(ControlGroup).collect()
}

/// One record of a resolved subject: entity resolution found it to be the same person or company
/// as another record.
#[derive(Debug, SimpleObject)]
pub struct ResolvedRecord {
    /// The record.
    pub record: Subject,
    /// The record it was compared with.
    pub with: Subject,
    /// Why they are one: `same_uscc`, `same_id_number`, `same_name_as_registry`,
    /// `masked_id_number_and_name`, `latin_name_as_registry`.
    pub reason: String,
}

/// The subject `n` belongs to, and every record joined to it.
fn resolution_of(s: &Snapshot, n: NodeId) -> (NodeId, Vec<ResolvedRecord>) {
    let key = s.graph.key(n);
    let rep = s
        .results
        .resolved
        .iter()
        .find(|r| r.record == key)
        .map_or(key, |r| r.subject.as_str());
    let node = |k: &str| s.graph.find(k);
    let records = s
        .results
        .resolved
        .iter()
        .filter(|r| r.subject == rep)
        .filter_map(|r| {
            Some(ResolvedRecord {
                record: Subject::of(s, node(&r.record)?),
                with: Subject::of(s, node(&r.with)?),
                reason: r.reason.clone(),
            })
        })
        .collect();
    (node(rep).unwrap_or(n), records)
}

/// How a person or entity takes part in a suspected group.
#[derive(Debug, SimpleObject)]
pub struct GroupInvolvement {
    pub group: ControlGroup,
    /// `holder` (holds some of its accounts), `controller` (the group's controller),
    /// `controls` (controls some of its holders), `evidence` (named in its evidence).
    pub roles: Vec<String>,
    /// The group's accounts this subject holds or whose holders it controls.
    pub accounts_reached: Vec<Account>,
    /// How it controls each holder it controls: every counted holding or role with its chain
    /// and, for a majority, the sum.
    pub how: Vec<String>,
}

/// The groups that `subject` holds accounts of, controls or is named in, best first.
fn involvement(s: &Snapshot, subject: NodeId) -> Vec<GroupInvolvement> {
    use detectors::results::SignalDetail;
    let g = &s.graph;
    let key = g.key(subject);
    let own: Vec<NodeId> = g.in_of(subject, EdgeKind::HeldBy).map(|e| e.node).collect();
    let mut ids: Vec<u32> = own.iter().flat_map(|a| s.groups_of(*a)).copied().collect();
    ids.extend_from_slice(s.groups_naming(subject));
    ids.sort_by(|a, b| {
        s.group(*b)
            .score
            .total_cmp(&s.group(*a).score)
            .then(a.cmp(b))
    });
    ids.dedup();
    ids.into_iter()
        .map(|i| {
            let gr = s.group(i);
            let mut roles = Vec::new();
            let in_group = |a: &NodeId| gr.accounts.iter().any(|x| x == g.key(*a));
            let mut reached: Vec<NodeId> = own.iter().copied().filter(in_group).collect();
            if !reached.is_empty() {
                roles.push("holder".to_owned());
            }
            if gr.controller_id.as_deref() == Some(key) {
                roles.push("controller".to_owned());
            }
            let mut how: Vec<String> = Vec::new();
            let mut named = false;
            for sig in gr.links.iter().flat_map(|l| l.signals.iter()) {
                named |= sig
                    .subjects
                    .iter()
                    .chain(chain_parties(&sig.detail))
                    .any(|x| x == key);
                let SignalDetail::Control {
                    controller, claims, ..
                } = &sig.detail
                else {
                    continue;
                };
                if controller != key {
                    continue;
                }
                for c in claims {
                    let text = c.english(controller);
                    if how.contains(&text) {
                        continue;
                    }
                    how.push(text);
                    if let Some(h) = g.find(&c.holder) {
                        reached.extend(
                            g.in_of(h, EdgeKind::HeldBy)
                                .map(|e| e.node)
                                .filter(in_group),
                        );
                    }
                }
            }
            if !how.is_empty() {
                roles.push("controls".to_owned());
            }
            if named && roles.is_empty() {
                roles.push("evidence".to_owned());
            }
            reached.sort_unstable();
            reached.dedup();
            GroupInvolvement {
                group: ControlGroup(i),
                roles,
                accounts_reached: reached.into_iter().map(Account).collect(),
                how,
            }
        })
        .collect()
}

/// A trading account, with its investor profile.
#[derive(Debug, Clone, Copy)]
pub struct Account(pub NodeId);

/// A counterparty of an account.
#[derive(Debug, SimpleObject)]
pub struct Counterparty {
    pub account: Account,
    pub trades: i32,
    pub volume: f64,
    /// The counterparty belongs to a group of this account.
    pub same_group: bool,
}

/// An account's trading, from the matched trades.
#[derive(Debug, SimpleObject)]
pub struct TradingStats {
    pub trades: i32,
    pub volume: f64,
    pub instruments: Vec<String>,
    /// The ten counterparties with the most trades.
    pub top_counterparties: Vec<Counterparty>,
    /// Share of the account's trades made with accounts of its own suspected group.
    pub own_group_trade_share: f64,
}

/// A reason to look at an account.
#[derive(Debug, Clone, SimpleObject)]
pub struct RiskFlag {
    pub code: String,
    pub description: String,
}

fn trading(s: &Snapshot, n: NodeId) -> (TradingStats, Vec<(NodeId, u32, u64)>) {
    let mut per: BTreeMap<NodeId, (u32, u64)> = BTreeMap::new();
    let mut instruments = std::collections::BTreeSet::new();
    let (mut trades, mut volume, mut own) = (0u64, 0u64, 0u64);
    for e in s
        .graph
        .out_of(n, EdgeKind::TradedWith)
        .chain(s.graph.in_of(n, EdgeKind::TradedWith))
    {
        if let EdgeData::TradedWith {
            instrument,
            trades: t,
            volume: v,
        } = s.graph.edge(e.edge).data
        {
            trades += u64::from(t);
            volume += v;
            instruments.insert(s.graph.instrument(instrument).to_owned());
            let c = per.entry(e.node).or_insert((0, 0));
            c.0 += t;
            c.1 += v;
            if s.same_group(n, e.node) {
                own += u64::from(t);
            }
        }
    }
    let mut counterparties: Vec<(NodeId, u32, u64)> =
        per.into_iter().map(|(k, (t, v))| (k, t, v)).collect();
    counterparties.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let top = counterparties
        .iter()
        .take(10)
        .map(|(c, t, v)| Counterparty {
            account: Account(*c),
            trades: *t as i32,
            volume: *v as f64,
            same_group: s.same_group(n, *c),
        })
        .collect();
    (
        TradingStats {
            trades: trades as i32,
            volume: volume as f64,
            instruments: instruments.into_iter().collect(),
            top_counterparties: top,
            own_group_trade_share: if trades == 0 {
                0.0
            } else {
                own as f64 / trades as f64
            },
        },
        counterparties,
    )
}

/// The risk flags of an account, most serious first.
pub fn risk_flags(r: &Req, n: NodeId) -> Vec<RiskFlag> {
    let s = &r.snap;
    let mut flags = Vec::new();
    let flag = |code: &str, description: String| RiskFlag {
        code: code.to_owned(),
        description,
    };
    let key = s.graph.key(n);
    for gi in s.groups_of(n) {
        let g = s.group(*gi);
        match g.status.as_str() {
            "unreported" => flags.push(flag(
                "UNREPORTED_GROUP",
                format!(
                    "in suspected group {} ({} accounts, score {:.2}) that was not reported",
                    g.id,
                    g.accounts.len(),
                    g.score
                ),
            )),
            "partially_reported" if g.missing_from_report.iter().any(|a| a == key) => {
                flags.push(flag(
                    "MISSING_FROM_REPORT",
                    format!(
                        "in suspected group {} but missing from reported group {}",
                        g.id,
                        g.reported_group.as_deref().unwrap_or("?")
                    ),
                ));
            }
            _ => {}
        }
        if g.score >= 0.8 {
            flags.push(flag(
                "HIGH_SCORE_GROUP",
                format!("suspected group {} scores {:.2}", g.id, g.score),
            ));
        }
        if let Some(w) = s.results.wash_trades.iter().find(|w| w.group_id == g.id) {
            flags.push(flag(
                "WASH_TRADES",
                format!(
                    "{} trades ({} lots) between accounts of group {}",
                    w.trades, w.volume, g.id
                ),
            ));
        }
        if let (Some(c), Some(h)) = (&g.controller_id, s.graph.holder(n))
            && c != s.graph.key(h)
        {
            flags.push(flag(
                "CONTROLLER_NOT_HOLDER",
                format!("suspected controller {c} is not the holder"),
            ));
        }
    }
    let (stats, _) = trading(s, n);
    if stats.trades >= 5 && stats.own_group_trade_share >= 0.3 {
        flags.push(flag(
            "OWN_GROUP_TRADING",
            format!(
                "{:.0}% of its {} trades are with accounts of its own group",
                stats.own_group_trade_share * 100.0,
                stats.trades
            ),
        ));
    }
    let members = s
        .graph
        .holder(n)
        .map(|h| {
            distinct(
                s.graph
                    .in_of(h, EdgeKind::HeldBy)
                    .flat_map(|a| s.graph.out_of(a.node, EdgeKind::AtMember).map(|m| m.node)),
            )
            .len()
        })
        .unwrap_or(0);
    if members > 1 {
        flags.push(flag(
            "SEVERAL_MEMBERS",
            format!("the holder has accounts at {members} members"),
        ));
    }
    flags
}

#[Object]
impl Account {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(req(ctx).snap.graph.key(self.0).to_owned())
    }
    async fn kind(&self) -> SubjectKind {
        SubjectKind::Account
    }
    async fn label(&self, ctx: &Context<'_>) -> String {
        label(req(ctx), self.0)
    }
    /// individual, institution or product.
    async fn account_type(&self, ctx: &Context<'_>) -> Option<String> {
        match req(ctx).snap.graph.node(self.0) {
            NodeData::Account { account_type, .. } => account_type.map(|t| t.to_string()),
            _ => None,
        }
    }
    /// active, dormant or closed.
    async fn status(&self, ctx: &Context<'_>) -> Option<String> {
        match req(ctx).snap.graph.node(self.0) {
            NodeData::Account { status, .. } => status.map(|t| t.to_string()),
            _ => None,
        }
    }
    async fn member(&self, ctx: &Context<'_>) -> Option<Member> {
        let s = &req(ctx).snap;
        s.graph
            .out_of(self.0, EdgeKind::AtMember)
            .next()
            .map(|e| Member(e.node))
    }
    /// The holder: a person or an entity.
    async fn holder(&self, ctx: &Context<'_>) -> Option<Subject> {
        let s = &req(ctx).snap;
        s.graph.holder(self.0).map(|h| Subject::of(s, h))
    }
    /// Every account of the same holder, across members (this one included).
    async fn holder_accounts(&self, ctx: &Context<'_>) -> Vec<Account> {
        let s = &req(ctx).snap;
        s.graph
            .holder(self.0)
            .map_or_else(Vec::new, |h| accounts_held(s, h))
    }
    /// Identifiers of the account and of its holder.
    async fn identifiers(&self, ctx: &Context<'_>) -> Vec<Identifier> {
        let s = &req(ctx).snap;
        let mut v = identifiers_of(s, self.0);
        if let Some(h) = s.graph.holder(self.0) {
            v.extend(identifiers_of(s, h));
        }
        v
    }
    /// Persons authorised on the account (order placers, fund-transfer persons...).
    async fn order_placers(&self, ctx: &Context<'_>) -> Vec<Person> {
        let s = &req(ctx).snap;
        s.graph
            .in_of(self.0, EdgeKind::Authorised)
            .map(|e| Person(e.node))
            .collect()
    }
    async fn ultimate_controllers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50.0)] threshold: f64,
    ) -> async_graphql::Result<Vec<UltimateController>> {
        traversal::ultimate_controllers(req(ctx), self.0, threshold).map_err(ApiError::gql)
    }
    /// The suspected groups the account belongs to.
    async fn groups(&self, ctx: &Context<'_>) -> Vec<ControlGroup> {
        groups_of_accounts(&req(ctx).snap, [self.0])
    }
    async fn trading(&self, ctx: &Context<'_>) -> TradingStats {
        trading(&req(ctx).snap, self.0).0
    }
    async fn risk_flags(&self, ctx: &Context<'_>) -> Vec<RiskFlag> {
        risk_flags(req(ctx), self.0)
    }
}

/// A natural person.
#[derive(Debug, Clone, Copy)]
pub struct Person(pub NodeId);

/// A relative or other related party of a person.
#[derive(Debug, SimpleObject)]
pub struct Relative {
    pub subject: Subject,
    /// The relation as stated, from this person's side (`spouse`, `parent`, ...; `-of` when
    /// stated the other way round, e.g. `employee_of`).
    pub relation: String,
    /// True when the relation was stated from the other party to this person.
    pub incoming: bool,
}

/// An officer role.
#[derive(Debug, SimpleObject)]
pub struct OfficerRole {
    pub person: Person,
    pub entity: Entity,
    pub role: String,
}

#[Object]
impl Person {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(req(ctx).snap.graph.key(self.0).to_owned())
    }
    async fn kind(&self) -> SubjectKind {
        SubjectKind::Person
    }
    async fn label(&self, ctx: &Context<'_>) -> String {
        label(req(ctx), self.0)
    }
    async fn name(&self, ctx: &Context<'_>) -> Option<String> {
        req(ctx).snap.name(self.0).map(str::to_owned)
    }
    /// The identity number; viewers see its first 6 and last 4 characters.
    async fn id_number(&self, ctx: &Context<'_>) -> Option<String> {
        let r = req(ctx);
        r.snap.code(self.0).map(|c| {
            if r.unmasked() {
                c.to_owned()
            } else {
                mask::id_number(c)
            }
        })
    }
    async fn accounts(&self, ctx: &Context<'_>) -> Vec<Account> {
        accounts_held(&req(ctx).snap, self.0)
    }
    /// Accounts the person is authorised on.
    async fn authorised_on(&self, ctx: &Context<'_>) -> Vec<Account> {
        let s = &req(ctx).snap;
        s.graph
            .out_of(self.0, EdgeKind::Authorised)
            .map(|e| Account(e.node))
            .collect()
    }
    async fn relatives(&self, ctx: &Context<'_>) -> Vec<Relative> {
        relatives(&req(ctx).snap, self.0)
    }
    async fn identifiers(&self, ctx: &Context<'_>) -> Vec<Identifier> {
        identifiers_of(&req(ctx).snap, self.0)
    }
    async fn officer_roles(&self, ctx: &Context<'_>) -> Vec<OfficerRole> {
        let s = &req(ctx).snap;
        s.graph
            .out_of(self.0, EdgeKind::Officer)
            .filter_map(|e| match s.graph.edge(e.edge).data {
                EdgeData::Officer { role } => Some(OfficerRole {
                    person: Person(self.0),
                    entity: Entity(e.node),
                    role: role.to_string(),
                }),
                _ => None,
            })
            .collect()
    }
    /// Entities the person holds shares in.
    async fn holdings(&self, ctx: &Context<'_>) -> Vec<Holding> {
        holdings_out(&req(ctx).snap, self.0)
    }
    /// The subject this record stands for after entity resolution: itself, or the record that
    /// stands for the same person or company in the analysis.
    async fn resolved_subject(&self, ctx: &Context<'_>) -> Subject {
        let s = &req(ctx).snap;
        Subject::of(s, resolution_of(s, self.0).0)
    }
    /// The records entity resolution joined into this record's subject, with the reason for
    /// each (empty when the subject has one record).
    async fn same_subject(&self, ctx: &Context<'_>) -> Vec<ResolvedRecord> {
        resolution_of(&req(ctx).snap, self.0).1
    }
    /// The suspected groups of the person's accounts, and those that name the person as
    /// controller or in their evidence.
    async fn groups(&self, ctx: &Context<'_>) -> Vec<ControlGroup> {
        involvement(&req(ctx).snap, self.0)
            .into_iter()
            .map(|i| i.group)
            .collect()
    }
    /// How the person takes part in each of those groups: the accounts reached and how.
    async fn involvement(&self, ctx: &Context<'_>) -> Vec<GroupInvolvement> {
        involvement(&req(ctx).snap, self.0)
    }
}

fn relatives(s: &Snapshot, n: NodeId) -> Vec<Relative> {
    let kind_of = |e| match s.graph.edge(e).data {
        EdgeData::Relation { kind } => Some(kind),
        _ => None,
    };
    let mut v: Vec<Relative> = s
        .graph
        .out_of(n, EdgeKind::Relation)
        .filter_map(|e| {
            kind_of(e.edge).map(|k| Relative {
                subject: Subject::of(s, e.node),
                relation: k.to_string(),
                incoming: false,
            })
        })
        .collect();
    v.extend(s.graph.in_of(n, EdgeKind::Relation).filter_map(|e| {
        kind_of(e.edge).map(|k| Relative {
            subject: Subject::of(s, e.node),
            relation: match k {
                RelationKind::Parent => "child".to_owned(),
                RelationKind::Child => "parent".to_owned(),
                k if k.is_family() => k.to_string(),
                k => format!("{k}(of this)"),
            },
            incoming: true,
        })
    }));
    v
}

/// A shareholding.
#[derive(Debug, SimpleObject)]
pub struct Holding {
    pub owner: Subject,
    pub entity: Entity,
    pub share_min: f64,
    pub share_max: f64,
    pub share_kind: String,
}

fn holding(
    s: &Snapshot,
    owner: NodeId,
    entity: NodeId,
    edge: graph_core::EdgeId,
) -> Option<Holding> {
    match s.graph.edge(edge).data {
        EdgeData::Owns {
            share_min,
            share_max,
            kind,
        } => Some(Holding {
            owner: Subject::of(s, owner),
            entity: Entity(entity),
            share_min: f64::from(share_min),
            share_max: f64::from(share_max),
            share_kind: kind.to_string(),
        }),
        _ => None,
    }
}

fn holdings_out(s: &Snapshot, n: NodeId) -> Vec<Holding> {
    s.graph
        .out_of(n, EdgeKind::Owns)
        .filter_map(|e| holding(s, n, e.node, e.edge))
        .collect()
}

/// A registry entity: company, partnership, asset manager, fund product, bank...
#[derive(Debug, Clone, Copy)]
pub struct Entity(pub NodeId);

fn products_managed(s: &Snapshot, n: NodeId) -> Vec<NodeId> {
    s.graph
        .out_of(n, EdgeKind::Relation)
        .filter(|e| {
            matches!(
                s.graph.edge(e.edge).data,
                EdgeData::Relation {
                    kind: RelationKind::Manages
                }
            ) && s.graph.kind(e.node) == NodeKind::Entity
        })
        .map(|e| e.node)
        .collect()
}

#[Object]
impl Entity {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(req(ctx).snap.graph.key(self.0).to_owned())
    }
    async fn kind(&self) -> SubjectKind {
        SubjectKind::Entity
    }
    async fn label(&self, ctx: &Context<'_>) -> String {
        label(req(ctx), self.0)
    }
    async fn name(&self, ctx: &Context<'_>) -> Option<String> {
        req(ctx).snap.name(self.0).map(str::to_owned)
    }
    /// The unified social credit code.
    async fn uscc(&self, ctx: &Context<'_>) -> Option<String> {
        req(ctx).snap.code(self.0).map(str::to_owned)
    }
    /// company, partnership, asset_manager, fund_product, bank, ...
    async fn entity_kind(&self, ctx: &Context<'_>) -> Option<String> {
        match req(ctx).snap.graph.node(self.0) {
            NodeData::Entity { kind } => kind.map(|k| k.to_string()),
            _ => None,
        }
    }
    /// An institution (asset manager, fund product, bank, insurer, securities firm, trust,
    /// QFII).
    async fn is_institution(&self, ctx: &Context<'_>) -> bool {
        matches!(req(ctx).snap.graph.node(self.0), NodeData::Entity { kind: Some(k) } if k.is_institution())
    }
    /// Accounts the entity holds.
    async fn accounts(&self, ctx: &Context<'_>) -> Vec<Account> {
        accounts_held(&req(ctx).snap, self.0)
    }
    async fn shareholders(&self, ctx: &Context<'_>) -> Vec<Holding> {
        let s = &req(ctx).snap;
        s.graph
            .in_of(self.0, EdgeKind::Owns)
            .filter_map(|e| holding(s, e.node, self.0, e.edge))
            .collect()
    }
    async fn holdings(&self, ctx: &Context<'_>) -> Vec<Holding> {
        holdings_out(&req(ctx).snap, self.0)
    }
    async fn officers(&self, ctx: &Context<'_>) -> Vec<OfficerRole> {
        let s = &req(ctx).snap;
        s.graph
            .in_of(self.0, EdgeKind::Officer)
            .filter_map(|e| match s.graph.edge(e.edge).data {
                EdgeData::Officer { role } => Some(OfficerRole {
                    person: Person(e.node),
                    entity: Entity(self.0),
                    role: role.to_string(),
                }),
                _ => None,
            })
            .collect()
    }
    /// Products (funds, trusts...) the entity manages.
    async fn products_managed(&self, ctx: &Context<'_>) -> Vec<Entity> {
        products_managed(&req(ctx).snap, self.0)
            .into_iter()
            .map(Entity)
            .collect()
    }
    /// Accounts held by the products the entity manages.
    async fn product_accounts(&self, ctx: &Context<'_>) -> Vec<Account> {
        let s = &req(ctx).snap;
        products_managed(s, self.0)
            .into_iter()
            .flat_map(|p| accounts_held(s, p))
            .collect()
    }
    async fn identifiers(&self, ctx: &Context<'_>) -> Vec<Identifier> {
        identifiers_of(&req(ctx).snap, self.0)
    }
    async fn ultimate_controllers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50.0)] threshold: f64,
    ) -> async_graphql::Result<Vec<UltimateController>> {
        traversal::ultimate_controllers(req(ctx), self.0, threshold).map_err(ApiError::gql)
    }
    /// The subject this record stands for after entity resolution: itself, or the record that
    /// stands for the same person or company in the analysis.
    async fn resolved_subject(&self, ctx: &Context<'_>) -> Subject {
        let s = &req(ctx).snap;
        Subject::of(s, resolution_of(s, self.0).0)
    }
    /// The records entity resolution joined into this record's subject, with the reason for
    /// each (empty when the subject has one record).
    async fn same_subject(&self, ctx: &Context<'_>) -> Vec<ResolvedRecord> {
        resolution_of(&req(ctx).snap, self.0).1
    }
    /// Suspected groups of its own accounts and of its products' accounts, and those that name
    /// it as controller or in their evidence.
    async fn groups(&self, ctx: &Context<'_>) -> Vec<ControlGroup> {
        let s = &req(ctx).snap;
        let mut accounts: Vec<NodeId> = s
            .graph
            .in_of(self.0, EdgeKind::HeldBy)
            .map(|e| e.node)
            .collect();
        for p in products_managed(s, self.0) {
            accounts.extend(s.graph.in_of(p, EdgeKind::HeldBy).map(|e| e.node));
        }
        let mut groups = groups_of_accounts(s, accounts);
        for i in involvement(s, self.0) {
            if !groups.iter().any(|g| g.0 == i.group.0) {
                groups.push(i.group);
            }
        }
        groups
    }
    /// How the entity takes part in each group that holds, controls or names it: the accounts
    /// reached and how.
    async fn involvement(&self, ctx: &Context<'_>) -> Vec<GroupInvolvement> {
        involvement(&req(ctx).snap, self.0)
    }
}

/// An exchange member (futures company, broker).
#[derive(Debug, Clone, Copy)]
pub struct Member(pub NodeId);

/// An account ranked by risk.
#[derive(Debug, SimpleObject)]
pub struct AccountRisk {
    pub account: Account,
    /// The highest score of its groups.
    pub score: f64,
    pub group_id: Option<ID>,
    pub flags: Vec<String>,
}

#[Object]
impl Member {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(req(ctx).snap.graph.key(self.0).to_owned())
    }
    async fn kind(&self) -> SubjectKind {
        SubjectKind::Member
    }
    async fn label(&self, ctx: &Context<'_>) -> String {
        label(req(ctx), self.0)
    }
    async fn name(&self, ctx: &Context<'_>) -> Option<String> {
        req(ctx).snap.name(self.0).map(str::to_owned)
    }
    async fn uscc(&self, ctx: &Context<'_>) -> Option<String> {
        req(ctx).snap.code(self.0).map(str::to_owned)
    }
    async fn account_count(&self, ctx: &Context<'_>) -> i32 {
        req(ctx).snap.graph.in_of(self.0, EdgeKind::AtMember).len() as i32
    }
    /// Accounts by type (individual, institution, product, unknown).
    async fn accounts_by_type(&self, ctx: &Context<'_>) -> Vec<Bucket> {
        let s = &req(ctx).snap;
        let mut counts: BTreeMap<String, i32> = BTreeMap::new();
        for e in s.graph.in_of(self.0, EdgeKind::AtMember) {
            let t = match s.graph.node(e.node) {
                NodeData::Account {
                    account_type: Some(t),
                    ..
                } => t.to_string(),
                _ => "unknown".to_owned(),
            };
            *counts.entry(t).or_insert(0) += 1;
        }
        counts
            .into_iter()
            .map(|(label, count)| Bucket { label, count })
            .collect()
    }
    /// The member's accounts, a page at a time (at most 500).
    #[graphql(complexity = "super::cost::page(Some(first), 100, child_complexity)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> async_graphql::Result<Vec<Account>> {
        let s = &req(ctx).snap;
        let first = super::page("first", Some(first), 100).map_err(ApiError::gql)?;
        let offset = super::count("offset", Some(offset), 0, usize::MAX).map_err(ApiError::gql)?;
        Ok(s.graph
            .in_of(self.0, EdgeKind::AtMember)
            .skip(offset)
            .take(first)
            .map(|e| Account(e.node))
            .collect())
    }
    /// Suspected groups with an account at this member, highest score first.
    async fn groups(&self, ctx: &Context<'_>) -> Vec<ControlGroup> {
        let s = &req(ctx).snap;
        groups_of_accounts(s, s.graph.in_of(self.0, EdgeKind::AtMember).map(|e| e.node))
    }
    /// Of those, the groups whose accounts are spread across several members.
    async fn multi_member_groups(&self, ctx: &Context<'_>) -> Vec<ControlGroup> {
        let s = &req(ctx).snap;
        groups_of_accounts(s, s.graph.in_of(self.0, EdgeKind::AtMember).map(|e| e.node))
            .into_iter()
            .filter(|g| s.group_members[g.0 as usize].len() > 1)
            .collect()
    }
    /// The member's accounts in suspected groups, riskiest first.
    #[graphql(complexity = "super::cost::page(Some(first), 20, child_complexity)")]
    async fn riskiest_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<AccountRisk>> {
        let r = req(ctx);
        let first = super::page("first", Some(first), 20).map_err(ApiError::gql)?;
        let s = &r.snap;
        let mut ranked: Vec<(NodeId, f32, Option<u32>)> = s
            .graph
            .in_of(self.0, EdgeKind::AtMember)
            .filter_map(|e| {
                let best = s
                    .groups_of(e.node)
                    .iter()
                    .max_by(|a, b| s.group(**a).score.total_cmp(&s.group(**b).score))?;
                Some((e.node, s.group(*best).score, Some(*best)))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(ranked
            .into_iter()
            .take(first)
            .map(|(n, score, g)| AccountRisk {
                account: Account(n),
                score: f64::from(score),
                group_id: g.map(|g| ID(s.group(g).id.clone())),
                flags: risk_flags(r, n).into_iter().map(|f| f.code).collect(),
            })
            .collect())
    }
}

/// An identifier value (phone, email, address, bank account, IP, MAC, disk serial, device
/// name) and the subjects that reported it.
#[derive(Debug, Clone, Copy)]
pub struct Identifier(pub NodeId);

#[Object]
impl Identifier {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(req(ctx).snap.public_id(self.0))
    }
    async fn kind(&self) -> SubjectKind {
        SubjectKind::Identifier
    }
    async fn label(&self, ctx: &Context<'_>) -> String {
        label(req(ctx), self.0)
    }
    async fn identifier_kind(&self, ctx: &Context<'_>) -> String {
        match req(ctx).snap.graph.node(self.0) {
            NodeData::Identifier { kind } => kind.to_string(),
            _ => String::new(),
        }
    }
    /// The normalised value; viewers see phones as first 3 and last 4 digits.
    async fn value(&self, ctx: &Context<'_>) -> String {
        let r = req(ctx);
        match r.snap.graph.node(self.0) {
            NodeData::Identifier { kind } => identifier_value(r, self.0, kind),
            _ => String::new(),
        }
    }
    async fn holder_count(&self, ctx: &Context<'_>) -> i32 {
        req(ctx)
            .snap
            .graph
            .in_of(self.0, EdgeKind::HasIdentifier)
            .len() as i32
    }
    /// The subjects that reported it (at most 500).
    async fn holders(&self, ctx: &Context<'_>) -> Vec<Subject> {
        let s = &req(ctx).snap;
        s.graph
            .in_of(self.0, EdgeKind::HasIdentifier)
            .take(super::MAX_PAGE)
            .map(|e| Subject::of(s, e.node))
            .collect()
    }
}

/// Search: exact matches of ids, codes and phones first, then prefixes of ids and names (and,
/// for analysts, of identity numbers and phones), then names containing the text.
pub fn search(r: &Req, text: &str, kinds: Option<&[SubjectKind]>, first: usize) -> Vec<SearchHit> {
    let s = &r.snap;
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let lower = ingest::normalize::text(text).to_lowercase();
    let phone = ingest::normalize::phone(text).ok();
    let wanted =
        |n: NodeId| kinds.is_none_or(|k| k.iter().any(|k| k.node_kind() == s.graph.kind(n)));
    let mut hits: Vec<(NodeId, Field, String)> = Vec::new();
    let mut seen = ahash::AHashSet::new();
    let mut push = |n: NodeId, f: Field, t: &str, hits: &mut Vec<(NodeId, Field, String)>| {
        if hits.len() < first && wanted(n) && seen.insert(n) {
            hits.push((n, f, t.to_owned()));
        }
    };
    // Phones: the identifier and the subjects that reported it.
    if let Some(p) = phone.as_deref().filter(|p| p.len() >= 5)
        && let Some(idn) = s.graph.find_identifier(IdentifierKind::Phone, p)
    {
        for e in s.graph.in_of(idn, EdgeKind::HasIdentifier) {
            push(e.node, Field::Phone, p, &mut hits);
        }
        push(idn, Field::Phone, p, &mut hits);
    }
    let exact: Vec<_> = s
        .search
        .prefixed(&lower)
        .filter(|e| *e.0 == lower)
        .map(|e| (e.1, e.2, e.0.to_string()))
        .collect();
    for (n, f, t) in exact {
        push(n, f, &t, &mut hits);
    }
    if hits.len() < first && lower.chars().count() >= 2 {
        let pre: Vec<_> = s
            .search
            .prefixed(&lower)
            .filter(|e| match e.2 {
                // A prefix match on a masked value tells a viewer its next digit: viewers find
                // identity numbers and phones by the whole value only (the exact pass above).
                Field::IdNumber => r.unmasked(),
                Field::Phone => r.unmasked() && lower.len() >= 5,
                _ => true,
            })
            .take(first * 4)
            .map(|e| (e.1, e.2, e.0.to_string()))
            .collect();
        for (n, f, t) in pre {
            push(n, f, &t, &mut hits);
        }
    }
    if hits.len() < first && lower.chars().count() >= 2 {
        let inner: Vec<_> = s
            .search
            .containing(&lower)
            .take(first * 4)
            .map(|e| (e.1, e.2, e.0.to_string()))
            .collect();
        for (n, f, t) in inner {
            push(n, f, &t, &mut hits);
        }
    }
    hits.into_iter()
        .map(|(n, f, t)| SearchHit {
            subject: Subject::of(s, n),
            matched_field: f.as_str().to_owned(),
            matched_text: match (f, r.unmasked()) {
                (_, true) => t,
                (Field::Phone, false) => mask::phone(&t),
                (Field::IdNumber, false) => mask::id_number(&t.to_uppercase()),
                (Field::Name, false) => s.name(n).unwrap_or(&t).to_owned(),
                _ => t,
            },
        })
        .collect()
}
