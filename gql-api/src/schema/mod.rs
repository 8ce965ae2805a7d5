//! The GraphQL schema: subjects and their profiles, groups, traversal detectors and reviews.
//!
//! Every resolver reads one [`Snapshot`] (taken when the request starts) and the caller's
//! [`Principal`]; masking happens where a value leaves, by role.

mod groups;
mod subjects;
mod surveillance;
mod traversal;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, ID, Object, Schema, SimpleObject};
use graph_core::{EdgeKind as GEdgeKind, NodeId, NodeKind};
use service::Reviews;

use crate::audit::Actions;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Code};
use crate::limit::RateLimiter;
use crate::snapshot::Snapshot;
use crate::state::Shared;

pub use groups::{ControlGroup, GroupFilter, GroupOrder};
pub use subjects::{Account, Entity, Identifier, Member, Person, Subject};
pub use traversal::{GraphEdge, GraphNode, Subgraph};

/// The schema type.
pub type ApiSchema = Schema<Query, Mutation, EmptySubscription>;

/// Largest page any list or connection returns.
pub const MAX_PAGE: usize = 500;

/// What a request works on: who asks, and one snapshot of the data.
#[derive(Debug, Clone)]
pub struct Req {
    pub principal: Principal,
    /// The SHA-256 of the caller's bearer token (the key of its rate limits).
    pub token_hash: [u8; 32],
    /// The limit on searches, shared by every request of the server.
    pub search_limit: Arc<RateLimiter>,
    pub snap: Arc<Snapshot>,
    pub reviews: Arc<Reviews>,
    /// What the resolvers did, for the audit log.
    pub actions: Actions,
}

impl Req {
    pub fn unmasked(&self) -> bool {
        self.principal.role.sees_unmasked()
    }
}

pub(crate) fn req<'a>(ctx: &'a Context<'_>) -> &'a Req {
    ctx.data_unchecked::<Req>()
}

/// What fields weigh in the complexity limit. A field's cost grows with what its arguments ask
/// for (a page of `first` items costs `first` times an item's selection; a traversal costs more
/// per hop and per node allowed), so that aliasing an expensive field many times adds up.
pub(crate) mod cost {
    use super::MAX_PAGE;

    /// A page of at most `first` items (`default` when absent), each costing `child`.
    pub fn page(first: Option<i32>, default: usize, child: usize) -> usize {
        let n = first.map_or(default, |f| f.clamp(0, MAX_PAGE as i32) as usize);
        1 + n * child.max(1)
    }

    /// A walk of up to `hops` (clamped to `max`) steps that returns up to `items` results.
    pub fn walk(hops: i32, max: i32, items: usize, child: usize) -> usize {
        1 + 10 * hops.clamp(1, max) as usize + items * child.max(1)
    }

    /// A neighbourhood drawing: up to `limit` nodes (<= 5000) found over `depth` (<= 3) levels
    /// (the walk), each node and its edges returned with `child` (the answer), scaled so that
    /// one full drawing (depth 3, 5000 nodes, every field the investigation page asks for) fits
    /// the default limit while two of them, whatever they select, do not.
    pub fn neighborhood(depth: i32, limit: i32, child: usize) -> usize {
        let nodes = limit.clamp(1, 5000) as usize;
        let levels = depth.clamp(1, 3) as usize;
        1 + nodes * levels / 6 + nodes * child.max(1) / 40
    }
}

/// A requested count (`first`, `k`, `offset`): absent is `default`, 0 is none, more than `max`
/// is `max`, and a negative count is refused with `BAD_USER_INPUT`.
pub(crate) fn count(
    name: &str,
    value: Option<i32>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match value {
        None => Ok(default.min(max)),
        Some(v) if v < 0 => Err(ApiError::bad_input(format!(
            "`{name}` must be 0 or more, not {v}"
        ))),
        Some(v) => Ok((v as usize).min(max)),
    }
}

/// A page size: [`count`] up to [`MAX_PAGE`].
pub(crate) fn page(name: &str, value: Option<i32>, default: usize) -> Result<usize, ApiError> {
    count(name, value, default, MAX_PAGE)
}

/// The schema with its limits; `shared` is absent only when printing the SDL.
pub fn build(shared: Option<Arc<Shared>>, limits: &Limits) -> ApiSchema {
    let mut b = Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.depth * 2)
        .limit_directives(8);
    if let Some(s) = shared {
        b = b.data(s);
    }
    b.finish()
}

/// Limits of queries: depth, complexity (see [`cost`] for what fields weigh), root fields
/// (aliases included) and aliases per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
    pub root_fields: usize,
    pub aliases: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 5_000,
            root_fields: 32,
            aliases: 64,
        }
    }
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    build(None, &Limits::default()).sdl()
}

/// The kinds of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SubjectKind {
    Account,
    Person,
    Entity,
    Member,
    Identifier,
}

impl From<NodeKind> for SubjectKind {
    fn from(k: NodeKind) -> Self {
        match k {
            NodeKind::Account => SubjectKind::Account,
            NodeKind::Person => SubjectKind::Person,
            NodeKind::Entity => SubjectKind::Entity,
            NodeKind::Member => SubjectKind::Member,
            NodeKind::Identifier => SubjectKind::Identifier,
        }
    }
}

impl SubjectKind {
    pub fn node_kind(self) -> NodeKind {
        match self {
            SubjectKind::Account => NodeKind::Account,
            SubjectKind::Person => NodeKind::Person,
            SubjectKind::Entity => NodeKind::Entity,
            SubjectKind::Member => NodeKind::Member,
            SubjectKind::Identifier => NodeKind::Identifier,
        }
    }
}

/// The kinds of edge drawn: the graph's own, evidence links and control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum EdgeKind {
    HeldBy,
    AtMember,
    Owns,
    Officer,
    Relation,
    Authorised,
    HasIdentifier,
    Transfers,
    TradedWith,
    /// An evidence link between two accounts (analysis).
    Evidence,
    /// A controller's control of a subject (analysis).
    Controls,
}

impl EdgeKind {
    pub fn graph_kind(self) -> Option<GEdgeKind> {
        Some(match self {
            EdgeKind::HeldBy => GEdgeKind::HeldBy,
            EdgeKind::AtMember => GEdgeKind::AtMember,
            EdgeKind::Owns => GEdgeKind::Owns,
            EdgeKind::Officer => GEdgeKind::Officer,
            EdgeKind::Relation => GEdgeKind::Relation,
            EdgeKind::Authorised => GEdgeKind::Authorised,
            EdgeKind::HasIdentifier => GEdgeKind::HasIdentifier,
            EdgeKind::Transfers => GEdgeKind::Transfers,
            EdgeKind::TradedWith => GEdgeKind::TradedWith,
            EdgeKind::Evidence | EdgeKind::Controls => return None,
        })
    }

    pub fn from_graph(k: GEdgeKind) -> Self {
        match k {
            GEdgeKind::HeldBy => EdgeKind::HeldBy,
            GEdgeKind::AtMember => EdgeKind::AtMember,
            GEdgeKind::Owns => EdgeKind::Owns,
            GEdgeKind::Officer => EdgeKind::Officer,
            GEdgeKind::Relation => EdgeKind::Relation,
            GEdgeKind::Authorised => EdgeKind::Authorised,
            GEdgeKind::HasIdentifier => EdgeKind::HasIdentifier,
            GEdgeKind::Transfers => EdgeKind::Transfers,
            GEdgeKind::TradedWith => EdgeKind::TradedWith,
        }
    }
}

/// The control criteria of the exchange's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Criterion {
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    C8,
}

impl Criterion {
    pub fn parse(s: &str) -> Option<Criterion> {
        Some(match s {
            "C1" => Criterion::C1,
            "C2" => Criterion::C2,
            "C3" => Criterion::C3,
            "C4" => Criterion::C4,
            "C5" => Criterion::C5,
            "C6" => Criterion::C6,
            "C7" => Criterion::C7,
            "C8" => Criterion::C8,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::C1 => "C1",
            Criterion::C2 => "C2",
            Criterion::C3 => "C3",
            Criterion::C4 => "C4",
            Criterion::C5 => "C5",
            Criterion::C6 => "C6",
            Criterion::C7 => "C7",
            Criterion::C8 => "C8",
        }
    }
}

/// Evidence strong enough on its own, or weak evidence that needed confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Strength {
    Strong,
    Weak,
}

/// A count in a distribution.
#[derive(Debug, Clone, SimpleObject)]
pub struct Bucket {
    pub label: String,
    pub count: i32,
}

/// Who is asking.
#[derive(Debug, Clone, SimpleObject)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
}

/// One search result.
#[derive(Debug, SimpleObject)]
pub struct SearchHit {
    pub subject: Subject,
    /// `id`, `name`, `idNumber`, `uscc` or `phone`.
    pub matched_field: String,
    /// The matched text (masked for viewers where it is personal).
    pub matched_text: String,
}

/// The whole market at a glance.
#[derive(Debug, Clone, SimpleObject)]
pub struct Market {
    pub accounts: i32,
    pub persons: i32,
    pub entities: i32,
    pub members: i32,
    pub identifiers: i32,
    pub groups: i32,
    pub grouped_accounts: i32,
    pub unreported_groups: i32,
    pub partially_reported_groups: i32,
    /// When the analysis ran (RFC 3339); absent before the first analysis.
    pub analysed_at: Option<String>,
    pub groups_by_size: Vec<Bucket>,
    pub groups_by_score: Vec<Bucket>,
    pub groups_by_criterion: Vec<Bucket>,
    pub related_party_volume: Vec<InstrumentShare>,
}

/// Volume of one instrument and the part traded between accounts of one suspected group.
#[derive(Debug, Clone, SimpleObject)]
pub struct InstrumentShare {
    pub instrument: String,
    pub volume: f64,
    pub related_volume: f64,
    pub share: f64,
}

/// A re-analysis.
#[derive(Debug, Clone, SimpleObject)]
pub struct AnalysisRun {
    pub analysed_at: String,
    pub groups: i32,
    pub seconds: f64,
}

/// An analyst's review of a group.
#[derive(Debug, Clone, SimpleObject)]
pub struct Review {
    pub group_id: ID,
    pub decision: Decision,
    pub note: String,
    pub reviewer: String,
    pub at: String,
}

/// A review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Decision {
    Confirmed,
    Dismissed,
    Escalated,
}

impl From<service::Decision> for Decision {
    fn from(d: service::Decision) -> Self {
        match d {
            service::Decision::Confirmed => Decision::Confirmed,
            service::Decision::Dismissed => Decision::Dismissed,
            service::Decision::Escalated => Decision::Escalated,
        }
    }
}

impl From<Decision> for service::Decision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Confirmed => service::Decision::Confirmed,
            Decision::Dismissed => service::Decision::Dismissed,
            Decision::Escalated => service::Decision::Escalated,
        }
    }
}

impl From<&service::Review> for Review {
    fn from(r: &service::Review) -> Self {
        Review {
            group_id: ID(r.group_id.clone()),
            decision: r.decision.into(),
            note: r.note.clone(),
            reviewer: r.reviewer.clone(),
            at: r.at.clone(),
        }
    }
}

/// The queries.
#[derive(Debug, Default)]
pub struct Query;

#[Object]
impl Query {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> Viewer {
        let p = &req(ctx).principal;
        Viewer {
            name: p.name.clone(),
            role: p.role,
        }
    }

    /// Finds subjects by id or name prefix, name part, identity number, USCC or phone
    /// (normalised as on ingest). Exact matches come first. Viewers find identity numbers and
    /// phones only by their whole value. Searches are rate limited per token (`RATE_LIMITED`).
    #[graphql(complexity = "10 + cost::page(Some(first), 20, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        kinds: Option<Vec<SubjectKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let r = req(ctx).clone();
        r.actions.note("search", &[("text", text.clone())]);
        if !r.search_limit.take(&r.token_hash) {
            let rate = r.search_limit.rate();
            return Err(ApiError::new(
                Code::RateLimited,
                format!(
                    "too many searches: at most {} at once and {} a minute per token",
                    rate.burst, rate.per_minute
                ),
            )
            .gql());
        }
        let first = page("first", Some(first), 20).map_err(ApiError::gql)?;
        let hits =
            blocking(move || Ok(subjects::search(&r, &text, kinds.as_deref(), first))).await?;
        Ok(hits)
    }

    /// Any subject by id (an identifier by its opaque id).
    async fn subject(&self, ctx: &Context<'_>, id: ID) -> Option<Subject> {
        let s = &req(ctx).snap;
        s.resolve(&id).map(|n| Subject::of(s, n))
    }

    /// An account with its investor profile.
    async fn account(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Account>> {
        find_kind(ctx, &id, NodeKind::Account).map(|n| n.map(Account))
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Person>> {
        find_kind(ctx, &id, NodeKind::Person).map(|n| n.map(Person))
    }

    /// A registry entity; institutions carry their products, accounts and controllers.
    async fn entity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Entity>> {
        find_kind(ctx, &id, NodeKind::Entity).map(|n| n.map(Entity))
    }

    /// A member (broker) with its profile.
    async fn member(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Member>> {
        find_kind(ctx, &id, NodeKind::Member).map(|n| n.map(Member))
    }

    /// The market profile.
    async fn market(&self, ctx: &Context<'_>) -> Market {
        groups::market(&req(ctx).snap)
    }

    /// Suspected control groups, filtered and ordered, as a Relay connection (at most 500 a
    /// page).
    #[graphql(complexity = "cost::page(first, 50, child_complexity)")]
    async fn control_groups(
        &self,
        ctx: &Context<'_>,
        filter: Option<GroupFilter>,
        #[graphql(default_with = "GroupOrder::Priority")] order_by: GroupOrder,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<groups::ControlGroupConnection> {
        groups::control_groups(
            req(ctx),
            &filter.unwrap_or_default(),
            order_by,
            first,
            after.as_deref(),
        )
    }

    /// Limit breaches of detected and reported groups, only-as-a-group first, filtered, as a
    /// Relay connection (at most 500 a page).
    #[graphql(complexity = "cost::page(first, 50, child_complexity)")]
    async fn breaches(
        &self,
        ctx: &Context<'_>,
        filter: Option<surveillance::BreachFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<surveillance::BreachConnection> {
        surveillance::breaches(
            req(ctx),
            &filter.unwrap_or_default(),
            first,
            after.as_deref(),
        )
    }

    /// Detected groups whose report is overdue or incomplete, and reports nothing supports.
    async fn overdue_reports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<surveillance::ReportingIssue>> {
        surveillance::reporting(req(ctx))
    }

    /// One group with its accounts, controller, score breakdown, criteria and evidence.
    async fn control_group(&self, ctx: &Context<'_>, id: ID) -> Option<ControlGroup> {
        req(ctx).snap.group_by_id(&id).map(ControlGroup)
    }

    /// The ultimate controllers of an account or entity, with the paths that prove them.
    /// `threshold` is the majority percentage (default 50).
    async fn ultimate_controllers(
        &self,
        ctx: &Context<'_>,
        subject_id: ID,
        #[graphql(default = 50.0)] threshold: f64,
    ) -> async_graphql::Result<Vec<traversal::UltimateController>> {
        let r = req(ctx).clone();
        let n = resolve(&r, &subject_id).map_err(ApiError::gql)?;
        blocking(move || traversal::ultimate_controllers(&r, n, threshold)).await
    }

    /// Every chain of shareholdings from one party to an entity (or account), with the
    /// multiplied share, at most 100 chains of at most `maxDepth` (<= 10) edges.
    #[graphql(complexity = "cost::walk(max_depth, 10, 100, child_complexity)")]
    async fn ownership_paths(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default = 6)] max_depth: i32,
    ) -> async_graphql::Result<Vec<traversal::OwnershipPath>> {
        let r = req(ctx).clone();
        let (a, b) = (
            resolve(&r, &from).map_err(ApiError::gql)?,
            resolve(&r, &to).map_err(ApiError::gql)?,
        );
        let depth = max_depth.clamp(1, 10) as usize;
        blocking(move || Ok(traversal::ownership_paths(&r, a, b, depth))).await
    }

    /// Accounts reachable from an account over evidence links, nearest first.
    #[graphql(complexity = "cost::walk(max_hops, 4, 50, child_complexity)")]
    async fn linked_accounts(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        #[graphql(default = 2)] max_hops: i32,
        criteria: Option<Vec<Criterion>>,
        #[graphql(default = 0.0)] min_weight: f64,
    ) -> async_graphql::Result<Vec<traversal::LinkedAccount>> {
        let r = req(ctx).clone();
        let n = find_kind(ctx, &account_id, NodeKind::Account)?
            .ok_or_else(|| ApiError::not_found("account", &account_id).gql())?;
        let hops = max_hops.clamp(1, 4) as usize;
        blocking(move || {
            Ok(traversal::linked_accounts(
                &r,
                n,
                hops,
                criteria.as_deref(),
                min_weight as f32,
            ))
        })
        .await
    }

    /// The best explained path between two subjects: evidence links and ownership first,
    /// widely shared identifiers last.
    #[graphql(complexity = "cost::walk(max_hops, 8, 1, child_complexity)")]
    async fn connection(
        &self,
        ctx: &Context<'_>,
        a: ID,
        b: ID,
        #[graphql(default = 6)] max_hops: i32,
    ) -> async_graphql::Result<Option<traversal::Connection>> {
        let r = req(ctx).clone();
        let (x, y) = (
            resolve(&r, &a).map_err(ApiError::gql)?,
            resolve(&r, &b).map_err(ApiError::gql)?,
        );
        let hops = max_hops.clamp(1, 8) as usize;
        blocking(move || Ok(traversal::connection(&r, x, y, hops))).await
    }

    /// The nodes and edges around a subject, for drawing: breadth first to `depth` (<= 3),
    /// at most `limit` (<= 5000) nodes.
    #[graphql(complexity = "cost::neighborhood(depth, limit, child_complexity)")]
    async fn neighborhood(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 1)] depth: i32,
        #[graphql(default = 200)] limit: i32,
        edge_kinds: Option<Vec<EdgeKind>>,
    ) -> async_graphql::Result<Subgraph> {
        let r = req(ctx).clone();
        let n = resolve(&r, &id).map_err(ApiError::gql)?;
        let depth = depth.clamp(0, 3) as usize;
        let limit = limit.clamp(1, 5000) as usize;
        blocking(move || {
            Ok(traversal::neighborhood(
                &r,
                n,
                depth,
                limit,
                edge_kinds.as_deref(),
            ))
        })
        .await
    }

    /// The accounts whose relationship embeddings are closest to this account's.
    #[graphql(complexity = "10 + cost::page(Some(k.min(100)), 10, child_complexity)")]
    async fn similar_accounts(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        #[graphql(default = 10)] k: i32,
    ) -> async_graphql::Result<Vec<traversal::SimilarAccount>> {
        let r = req(ctx).clone();
        find_kind(ctx, &account_id, NodeKind::Account)?
            .ok_or_else(|| ApiError::not_found("account", &account_id).gql())?;
        let k = count("k", Some(k), 10, 100).map_err(ApiError::gql)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        blocking(move || traversal::similar_accounts(&r, &account_id, k)).await
    }

    /// The trades between accounts of one group, optionally within `[from, to]` (RFC 3339).
    async fn wash_trades(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        from: Option<String>,
        to: Option<String>,
    ) -> async_graphql::Result<Option<groups::WashTrades>> {
        let shared = ctx.data_unchecked::<Arc<Shared>>().clone();
        let r = req(ctx).clone();
        if r.snap.group_by_id(&group_id).is_none() {
            return Err(ApiError::not_found("group", &group_id).gql());
        }
        let from = parse_time(from.as_deref(), "from").map_err(ApiError::gql)?;
        let to = parse_time(to.as_deref(), "to").map_err(ApiError::gql)?;
        blocking(move || groups::wash_trades(&shared, &r, &group_id, from, to)).await
    }
}

fn parse_time(s: Option<&str>, what: &str) -> Result<Option<i64>, ApiError> {
    s.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|e| ApiError::bad_input(format!("`{what}` is not an RFC 3339 time: {e}")))
    })
    .transpose()
}

/// The node a public id names, or NOT_FOUND.
pub(crate) fn resolve(r: &Req, id: &str) -> Result<NodeId, ApiError> {
    r.snap
        .resolve(id)
        .ok_or_else(|| ApiError::not_found("subject", id))
}

fn find_kind(ctx: &Context<'_>, id: &str, kind: NodeKind) -> async_graphql::Result<Option<NodeId>> {
    let s = &req(ctx).snap;
    Ok(s.resolve(id).filter(|n| s.graph.kind(*n) == kind))
}

/// Runs CPU-heavy work off the async workers, so that the request timeout can fire and other
/// requests keep being served.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> async_graphql::Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::gql),
        Err(e) => Err(ApiError::new(Code::Internal, format!("worker failed: {e}")).gql()),
    }
}

/// The mutations.
#[derive(Debug, Default)]
pub struct Mutation;

#[Object]
impl Mutation {
    /// Records a review of a group (analysts and admins). The review is kept by group id, so it
    /// stays with the group across re-analysis while the group keeps its id.
    async fn review_group(
        &self,
        ctx: &Context<'_>,
        id: ID,
        decision: Decision,
        note: Option<String>,
    ) -> async_graphql::Result<Review> {
        let r = req(ctx);
        r.actions.note(
            "reviewGroup",
            &[
                ("group", id.to_string()),
                ("decision", format!("{decision:?}").to_uppercase()),
            ],
        );
        if r.principal.role < Role::Analyst {
            return Err(ApiError::forbidden("reviewing groups needs the analyst role").gql());
        }
        if r.snap.group_by_id(&id).is_none() {
            return Err(ApiError::not_found("group", &id).gql());
        }
        let note = note.unwrap_or_default();
        if note.chars().count() > 4000 {
            return Err(ApiError::bad_input("the note is longer than 4000 characters").gql());
        }
        let shared = ctx.data_unchecked::<Arc<Shared>>().clone();
        let review = service::Review {
            group_id: id.to_string(),
            decision: decision.into(),
            note,
            reviewer: r.principal.name.clone(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let out = Review::from(&review);
        shared.add_review(review).await.map_err(ApiError::gql)?;
        Ok(out)
    }

    /// Re-runs the analysis on the stored data and swaps the results in (admins only).
    async fn reanalyze(&self, ctx: &Context<'_>) -> async_graphql::Result<AnalysisRun> {
        let r = req(ctx);
        r.actions.note("reanalyze", &[]);
        if r.principal.role < Role::Admin {
            return Err(ApiError::forbidden("re-analysis needs the admin role").gql());
        }
        let shared = ctx.data_unchecked::<Arc<Shared>>().clone();
        shared.reanalyze().await.map_err(ApiError::gql)
    }
}
