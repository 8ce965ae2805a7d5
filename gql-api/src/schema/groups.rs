//! Suspected control groups: the connection, one group with its evidence, the market profile
//! and wash trades.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine as _;
use detectors::results::{GroupRecord, LinkRecord};
use graph_core::NodeKind;
use graph_core::model::{Record, Table};

use super::subjects::{Account, Member, Subject};
use super::traversal::{self, Subgraph};
use super::{Bucket, Criterion, InstrumentShare, Market, Req, Review, Strength, req};
use crate::error::{ApiError, Code};
use crate::mask;
use crate::snapshot::Snapshot;
use crate::state::Shared;

/// Status of a group against the groups the accounts reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum GroupStatus {
    Reported,
    PartiallyReported,
    Unreported,
}

impl GroupStatus {
    pub(crate) fn parse(s: &str) -> GroupStatus {
        match s {
            "reported" => GroupStatus::Reported,
            "partially_reported" => GroupStatus::PartiallyReported,
            _ => GroupStatus::Unreported,
        }
    }
}

/// Which groups to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct GroupFilter {
    pub min_score: Option<f64>,
    pub min_size: Option<i32>,
    /// Groups with at least one account at this member.
    pub member_id: Option<ID>,
    pub status: Option<GroupStatus>,
    /// Groups meeting this criterion.
    pub criterion: Option<Criterion>,
    /// `true`: groups reviewed at least once; `false`: groups never reviewed.
    pub reviewed: Option<bool>,
}

/// The order of a group list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum GroupOrder {
    /// Triage order: unreported, then partly reported, then reported groups; within each,
    /// groups with limit breaches, then larger groups, more criteria, higher scores.
    Priority,
    ScoreDesc,
    SizeDesc,
    IdAsc,
}

/// A page of groups.
pub type ControlGroupConnection = Connection<String, ControlGroup, TotalCount, EmptyFields>;

/// The number of groups matching the filter.
#[derive(Debug, SimpleObject)]
pub struct TotalCount {
    pub total_count: i32,
}

fn matches(
    s: &Snapshot,
    r: &Req,
    i: u32,
    f: &GroupFilter,
    member: Option<graph_core::NodeId>,
) -> bool {
    let g = s.group(i);
    f.min_score.is_none_or(|m| f64::from(g.score) >= m)
        && f.min_size.is_none_or(|m| g.accounts.len() as i32 >= m)
        && f.status
            .is_none_or(|st| GroupStatus::parse(&g.status) == st)
        && f.criterion
            .is_none_or(|c| g.criteria.iter().any(|x| x == c.as_str()))
        && member.is_none_or(|m| s.group_members[i as usize].contains(&m))
        && f.reviewed
            .is_none_or(|want| r.reviews.latest(&g.id).is_some() == want)
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(c: &str) -> Result<usize, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_input(format!("`after` is not a cursor of this API: {c}")))
}

pub fn control_groups(
    r: &Req,
    filter: &GroupFilter,
    order: GroupOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<ControlGroupConnection> {
    let s = &r.snap;
    if !s.analysed {
        return Err(ApiError::new(
            Code::NoAnalysis,
            "the store has no analysis yet (run `ctrlgraph analyze` or the `reanalyze` mutation)",
        )
        .gql());
    }
    let member = match &filter.member_id {
        Some(m) => Some(
            s.resolve(m)
                .filter(|n| s.graph.kind(*n) == NodeKind::Member)
                .ok_or_else(|| ApiError::not_found("member", m).gql())?,
        ),
        None => None,
    };
    let first = super::page("first", first, 50).map_err(ApiError::gql)?;
    let start = match after {
        Some(c) => decode_cursor(c).map_err(ApiError::gql)? + 1,
        None => 0,
    };
    let order = match order {
        GroupOrder::Priority => &s.by_priority,
        GroupOrder::ScoreDesc => &s.by_score,
        GroupOrder::SizeDesc => &s.by_size,
        GroupOrder::IdAsc => &s.by_id,
    };
    let matching: Vec<u32> = order
        .iter()
        .copied()
        .filter(|i| matches(s, r, *i, filter, member))
        .collect();
    let end = (start + first).min(matching.len());
    let mut conn = Connection::with_additional_fields(
        start > 0,
        end < matching.len(),
        TotalCount {
            total_count: matching.len() as i32,
        },
    );
    if start < end {
        conn.edges.extend(
            matching[start..end]
                .iter()
                .enumerate()
                .map(|(k, i)| Edge::new(encode_cursor(start + k), ControlGroup(*i))),
        );
    }
    Ok(conn)
}

/// A suspected actual-control group.
#[derive(Debug, Clone, Copy)]
pub struct ControlGroup(pub u32);

/// The accounts with these ids, in order (ids missing from the graph left out).
fn accounts_named(s: &Snapshot, ids: &[String]) -> Vec<Account> {
    ids.iter()
        .filter_map(|a| s.graph.find(a).map(Account))
        .collect()
}

impl ControlGroup {
    fn rec<'a>(&self, ctx: &'a Context<'_>) -> &'a GroupRecord {
        req(ctx).snap.group(self.0)
    }
}

/// A signal family's share of a group's score.
#[derive(Debug, Clone, SimpleObject)]
pub struct Contribution {
    pub family: String,
    pub share: f64,
}

/// An account of a group with its affinity to the rest of the group.
#[derive(Debug, SimpleObject)]
pub struct GroupMembership {
    pub account: Account,
    /// In [0, 1]: the noisy-OR over the group's items of the strongest signal each gives it.
    pub score: f64,
}

/// An account with evidence towards a group below the operating point, for triage.
#[derive(Debug, SimpleObject)]
pub struct CandidateMember {
    pub account: Account,
    /// Its affinity to the group, in [0, 1].
    pub score: f64,
    /// Its links to the group's accounts.
    pub evidence: Vec<EvidenceLink>,
}

/// An evidence link between two accounts.
#[derive(Debug, SimpleObject)]
pub struct EvidenceLink {
    pub a: Account,
    pub b: Account,
    pub weight: f64,
    pub strength: Strength,
    pub signals: Vec<Signal>,
}

/// One piece of evidence, coded by criterion.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Signal {
    pub kind: String,
    pub criterion: Option<Criterion>,
    pub weight: f64,
    /// Ids the evidence names (controller, person, entity, `kind:value` of an identifier,
    /// trades).
    pub subjects: Vec<String>,
    /// The subjects as stored, for masking the description.
    #[graphql(skip)]
    pub raw_subjects: Vec<String>,
    #[graphql(skip)]
    pub detail: detectors::results::SignalDetail,
    #[graphql(skip)]
    pub english: String,
    #[graphql(skip)]
    pub masked: bool,
}

/// A language of evidence descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
pub enum Language {
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

#[ComplexObject]
impl Signal {
    /// The evidence in words, with ids, percentages and counts; in Chinese with `lang: ZH`
    /// (the same words the Chinese reports use). Viewers see identifier values masked.
    async fn description(&self, #[graphql(default)] lang: Language) -> String {
        self.text(lang)
    }
}

impl Signal {
    /// The description in `lang`, masked for viewers.
    pub fn text(&self, lang: Language) -> String {
        let lang = match lang {
            Language::En => reports::Lang::En,
            Language::Zh => reports::Lang::Zh,
        };
        let text = reports::evidence::describe(lang, &self.detail, &self.english);
        if self.masked {
            mask::text_with_subjects(&text, &self.raw_subjects)
        } else {
            text.into_owned()
        }
    }
}

/// The link as the caller may see it.
pub fn evidence_link(r: &Req, l: &LinkRecord) -> Option<EvidenceLink> {
    let s = &r.snap;
    Some(EvidenceLink {
        a: Account(s.graph.find(&l.a)?),
        b: Account(s.graph.find(&l.b)?),
        weight: f64::from(l.weight),
        strength: strength(s, l.weight),
        signals: l
            .signals
            .iter()
            .map(|sig| Signal {
                kind: sig.kind.clone(),
                criterion: Criterion::parse(&sig.criterion),
                weight: f64::from(sig.weight),
                subjects: if r.unmasked() {
                    sig.subjects.clone()
                } else {
                    sig.subjects.iter().map(|x| mask::subject(x)).collect()
                },
                raw_subjects: sig.subjects.clone(),
                detail: sig.detail.clone(),
                english: sig.description.clone(),
                masked: !r.unmasked(),
            })
            .collect(),
    })
}

pub fn strength(s: &Snapshot, weight: f32) -> Strength {
    if weight >= s.strong_weight {
        Strength::Strong
    } else {
        Strength::Weak
    }
}

#[Object]
impl ControlGroup {
    async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(self.rec(ctx).id.clone())
    }
    async fn size(&self, ctx: &Context<'_>) -> i32 {
        self.rec(ctx).accounts.len() as i32
    }
    /// In [0, 1].
    async fn score(&self, ctx: &Context<'_>) -> f64 {
        f64::from(self.rec(ctx).score)
    }
    async fn accounts(&self, ctx: &Context<'_>) -> Vec<Account> {
        accounts_named(&req(ctx).snap, &self.rec(ctx).accounts)
    }
    /// The suspected controller (a person or entity), when one is known.
    async fn controller(&self, ctx: &Context<'_>) -> Option<Subject> {
        let s = &req(ctx).snap;
        let id = self.rec(ctx).controller_id.as_deref()?;
        s.graph.find(id).map(|n| Subject::of(s, n))
    }
    /// Why the controller is named.
    async fn controller_basis(&self, ctx: &Context<'_>) -> String {
        self.rec(ctx).controller_basis.clone()
    }
    /// Each signal family's share of the score.
    async fn contributions(&self, ctx: &Context<'_>) -> Vec<Contribution> {
        self.rec(ctx)
            .contributions
            .iter()
            .map(|(family, share)| Contribution {
                family: family.clone(),
                share: f64::from(*share),
            })
            .collect()
    }
    async fn criteria(&self, ctx: &Context<'_>) -> Vec<Criterion> {
        self.rec(ctx)
            .criteria
            .iter()
            .filter_map(|c| Criterion::parse(c))
            .collect()
    }
    async fn status(&self, ctx: &Context<'_>) -> GroupStatus {
        GroupStatus::parse(&self.rec(ctx).status)
    }
    /// The best-matching reported group.
    async fn reported_group(&self, ctx: &Context<'_>) -> Option<String> {
        self.rec(ctx).reported_group.clone()
    }
    /// Accounts of this group that the reported group lacks.
    async fn missing_from_report(&self, ctx: &Context<'_>) -> Vec<Account> {
        accounts_named(&req(ctx).snap, &self.rec(ctx).missing_from_report)
    }
    /// Each account's affinity to the rest of the group, weakest first.
    async fn membership(&self, ctx: &Context<'_>) -> Vec<GroupMembership> {
        let s = &req(ctx).snap;
        let rec = self.rec(ctx);
        let mut out: Vec<GroupMembership> = rec
            .accounts
            .iter()
            .zip(&rec.membership)
            .filter_map(|(a, score)| {
                Some(GroupMembership {
                    account: Account(s.graph.find(a)?),
                    score: f64::from(*score),
                })
            })
            .collect();
        out.sort_by(|x, y| x.score.total_cmp(&y.score));
        out
    }
    /// Accounts with evidence towards the group below the operating point, best first.
    #[graphql(complexity = "super::cost::page(first, 50, child_complexity)")]
    async fn candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (default 50)")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<CandidateMember>> {
        let r = req(ctx);
        let take = super::page("first", first, 50).map_err(ApiError::gql)?;
        Ok(self
            .rec(ctx)
            .candidates
            .iter()
            .take(take)
            .filter_map(|c| {
                Some(CandidateMember {
                    account: Account(r.snap.graph.find(&c.account)?),
                    score: f64::from(c.score),
                    evidence: c.links.iter().filter_map(|l| evidence_link(r, l)).collect(),
                })
            })
            .collect())
    }
    /// Accounts that joined through a weak affinity confirmed by embedding similarity.
    async fn joined_by_embedding(&self, ctx: &Context<'_>) -> Vec<Account> {
        accounts_named(&req(ctx).snap, &self.rec(ctx).joined_by_embedding)
    }
    /// The members the group's accounts are at.
    async fn members(&self, ctx: &Context<'_>) -> Vec<Member> {
        req(ctx).snap.group_members[self.0 as usize]
            .iter()
            .map(|m| Member(*m))
            .collect()
    }
    /// The evidence links between the group's accounts.
    async fn evidence(&self, ctx: &Context<'_>) -> Vec<EvidenceLink> {
        let r = req(ctx);
        self.rec(ctx)
            .links
            .iter()
            .filter_map(|l| evidence_link(r, l))
            .collect()
    }
    /// The group drawn as a graph: accounts, holders, the controller with the ownership paths to
    /// the holders, shared identifiers and the evidence links.
    async fn graph(&self, ctx: &Context<'_>) -> Subgraph {
        traversal::group_graph(req(ctx), self.0)
    }
    /// The latest review.
    async fn review(&self, ctx: &Context<'_>) -> Option<Review> {
        req(ctx).reviews.latest(&self.rec(ctx).id).map(Review::from)
    }
    /// Every review, oldest first.
    async fn reviews(&self, ctx: &Context<'_>) -> Vec<Review> {
        req(ctx)
            .reviews
            .history(&self.rec(ctx).id)
            .iter()
            .map(Review::from)
            .collect()
    }
    /// The limits the group breaches as one trader, only-as-a-group first.
    async fn breaches(&self, ctx: &Context<'_>) -> Vec<super::surveillance::Breach> {
        super::surveillance::of_group(req(ctx), &self.rec(ctx).id)
    }
    /// The group's speculative position in one instrument per day, with each account's part and
    /// the limit in force, for charts.
    async fn position_series(
        &self,
        ctx: &Context<'_>,
        instrument: String,
    ) -> Vec<super::surveillance::PositionPoint> {
        super::surveillance::position_series(req(ctx), &self.rec(ctx).accounts, &instrument)
    }
    /// Trades between accounts of the group.
    async fn wash_trades(&self, ctx: &Context<'_>) -> Option<WashTrades> {
        let g = self.rec(ctx);
        req(ctx)
            .snap
            .results
            .wash_trades
            .iter()
            .find(|w| w.group_id == g.id)
            .map(|w| WashTrades {
                group_id: ID(w.group_id.clone()),
                trades: w.trades as i32,
                volume: w.volume as f64,
                from: ms_to_rfc3339(w.first_ts),
                to: ms_to_rfc3339(w.last_ts),
                trade_ids: w.trade_ids.clone(),
            })
    }
}

fn ms_to_rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Trades whose buyer and seller both belong to one group.
#[derive(Debug, Clone, SimpleObject)]
pub struct WashTrades {
    pub group_id: ID,
    pub trades: i32,
    pub volume: f64,
    /// The first and last trade (RFC 3339).
    pub from: Option<String>,
    pub to: Option<String>,
    pub trade_ids: Vec<String>,
}

/// Wash trades of a group within a time window, reading the trades' times from the store in
/// one pass.
pub fn wash_trades(
    shared: &Shared,
    r: &Req,
    group_id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Option<WashTrades>, ApiError> {
    let Some(w) = r
        .snap
        .results
        .wash_trades
        .iter()
        .find(|w| w.group_id == group_id)
    else {
        return Ok(None);
    };
    if from.is_none() && to.is_none() {
        return Ok(Some(WashTrades {
            group_id: ID(w.group_id.clone()),
            trades: w.trades as i32,
            volume: w.volume as f64,
            from: ms_to_rfc3339(w.first_ts),
            to: ms_to_rfc3339(w.last_ts),
            trade_ids: w.trade_ids.clone(),
        }));
    }
    let (mut ids, mut volume, mut first, mut last) = (Vec::new(), 0u64, i64::MAX, i64::MIN);
    for id in &w.trade_ids {
        if let Some(Record::Trade(t)) = shared
            .store
            .get(Table::Trades, id)
            .map_err(ApiError::store)?
            && from.is_none_or(|f| t.ts >= f)
            && to.is_none_or(|x| t.ts <= x)
        {
            volume += t.volume;
            first = first.min(t.ts);
            last = last.max(t.ts);
            ids.push(t.trade_id);
        }
    }
    Ok(Some(WashTrades {
        group_id: ID(w.group_id.clone()),
        trades: ids.len() as i32,
        volume: volume as f64,
        from: (!ids.is_empty()).then(|| ms_to_rfc3339(first)).flatten(),
        to: (!ids.is_empty()).then(|| ms_to_rfc3339(last)).flatten(),
        trade_ids: ids,
    }))
}

pub fn market(s: &Snapshot) -> Market {
    let count = |k| *s.market.counts.get(&k).unwrap_or(&0) as i32;
    let buckets = |v: &[(String, usize)]| {
        v.iter()
            .map(|(label, count)| Bucket {
                label: label.clone(),
                count: *count as i32,
            })
            .collect()
    };
    let status = |st: &str| s.results.groups.iter().filter(|g| g.status == st).count() as i32;
    Market {
        accounts: count(NodeKind::Account),
        persons: count(NodeKind::Person),
        entities: count(NodeKind::Entity),
        members: count(NodeKind::Member),
        identifiers: count(NodeKind::Identifier),
        groups: s.results.groups.len() as i32,
        grouped_accounts: s.account_groups.len() as i32,
        unreported_groups: status("unreported"),
        partially_reported_groups: status("partially_reported"),
        analysed_at: s.analysed.then(|| s.results.created_at.clone()),
        groups_by_size: buckets(&s.market.groups_by_size),
        groups_by_score: buckets(&s.market.groups_by_score),
        groups_by_criterion: buckets(&s.market.groups_by_criterion),
        related_party_volume: s
            .market
            .related_volume
            .iter()
            .map(|(i, t, r)| InstrumentShare {
                instrument: i.clone(),
                volume: *t,
                related_volume: *r,
                share: if *t > 0.0 { r / t } else { 0.0 },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detectors::results::SignalDetail;

    fn phone_signal(masked: bool) -> Signal {
        let detail = SignalDetail::Identifier {
            kind: "phone".into(),
            value: "13800138000".into(),
            spread: 2,
        };
        Signal {
            kind: "shared_identifier".into(),
            criterion: Some(Criterion::C5),
            weight: 0.9,
            subjects: Vec::new(),
            raw_subjects: vec!["phone:13800138000".into()],
            english: detail.english(),
            detail,
            masked,
        }
    }

    #[test]
    fn descriptions_are_masked_for_viewers_in_both_languages() {
        let viewer = phone_signal(true);
        assert_eq!(
            viewer.text(Language::En),
            "shared phone `138****8000` (used by 2 holder(s))"
        );
        assert_eq!(
            viewer.text(Language::Zh),
            "共用电话 `138****8000`（2 个持有人使用）"
        );
        let analyst = phone_signal(false);
        assert_eq!(
            analyst.text(Language::Zh),
            "共用电话 `13800138000`（2 个持有人使用）"
        );
    }
}
