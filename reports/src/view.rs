//! The report's view of an analysis: the stored groups joined with what the store knows of
//! their accounts, holders, members and the persons and entities their evidence names, and the
//! evidence sorted into the tables analysts read. Every output format renders this one view.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use detectors::results::{AnalysisResults, GroupRecord, HolderClaim, LinkRecord, WashRecord};
use graph_core::model::{Record, Table};
use ingest::Store;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ReportError;
use crate::changes::Changes;
use crate::evidence::{Hop, authorised, control, identifier, is_of};
use detectors::results::SignalDetail;

/// The version of the JSON report's layout; raised when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

/// A signal weight at or above this counts as strong evidence (the groups' own link threshold).
pub const STRONG_WEIGHT: f32 = 0.5;

/// What kind of subject an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Person,
    Entity,
    Unknown,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Person => "person",
            SubjectKind::Entity => "entity",
            SubjectKind::Unknown => "unknown",
        }
    }
}

/// A person or entity the report names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub id: String,
    pub kind: SubjectKind,
    pub name: Option<String>,
}

/// One account of a group with what the store knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub account_id: String,
    pub holder_id: Option<String>,
    pub holder_name: Option<String>,
    pub holder_kind: SubjectKind,
    pub member_id: Option<String>,
    pub member_name: Option<String>,
    pub account_type: Option<String>,
    pub open_date: Option<String>,
    pub status: Option<String>,
    pub missing_from_report: bool,
    pub joined_by_embedding: bool,
    /// Its affinity to the rest of the group, in [0, 1].
    pub membership: f32,
}

/// An account with evidence towards a group below the operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateView {
    pub account_id: String,
    pub holder_id: Option<String>,
    pub holder_name: Option<String>,
    pub score: f32,
    /// The accounts of the group it is linked to.
    pub linked_to: Vec<String>,
    /// Its signals towards the group, in words (`kind weight`), strongest first.
    pub signals: Vec<String>,
    /// The same signals as (kind, weight), for wording them in the report's language.
    pub signal_weights: Vec<(String, f32)>,
}

/// An ownership or control path from the controller to one holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnershipPath {
    pub controller: String,
    pub basis: String,
    /// The same basis in Chinese.
    #[serde(default)]
    pub basis_zh: String,
    /// The holder the path reaches.
    pub target: String,
    pub hops: Vec<HopView>,
    /// The path in words: `P01 -[direct 60.00%]-> E01, E01 -[direct 51.00%]-> E02`.
    pub text: String,
}

/// A holder's own basis in words, in English and in Chinese: `majority control 54.0% (24.00% +
/// 30.00%)` / `多数控制 54.0%（24.00% + 30.00%）`, `general partner`, `manager of the product`.
fn claim_basis(c: &HolderClaim) -> (String, String) {
    match (c.basis.as_str(), c.share) {
        ("majority_control", Some(sum)) => {
            let parts = c
                .stakes
                .iter()
                .filter_map(|s| s.share.map(|x| format!("{x:.2}%")))
                .collect::<Vec<_>>();
            if parts.len() > 1 {
                let parts = parts.join(" + ");
                (
                    format!("majority control {sum:.1}% ({parts})"),
                    format!("多数控制 {sum:.1}%（{parts}）"),
                )
            } else {
                (
                    format!("majority control {sum:.1}%"),
                    format!("多数控制 {sum:.1}%"),
                )
            }
        }
        ("general_partner", _) => ("general partner".to_owned(), "普通合伙人".to_owned()),
        _ => ("manager of the product".to_owned(), "产品管理人".to_owned()),
    }
}

/// One edge of an [`OwnershipPath`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HopView {
    pub from: String,
    pub to: String,
    pub what: String,
    pub share: Option<String>,
}

impl From<Hop> for HopView {
    fn from(h: Hop) -> Self {
        HopView {
            from: h.from,
            to: h.to,
            what: h.what,
            share: h.share,
        }
    }
}

/// An identifier value shared within the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedIdentifier {
    pub kind: String,
    pub value: String,
    /// Holders in the whole dataset sharing it.
    pub spread: u32,
    /// The group's accounts linked through it.
    pub accounts: Vec<String>,
}

/// A person authorised on accounts of the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placer {
    pub person_id: String,
    pub name: Option<String>,
    pub role: String,
    /// Accounts of the whole dataset this person holds this role on.
    pub spread: u32,
    /// The group's accounts this person holds this role on.
    pub accounts: Vec<String>,
}

/// A signal between two accounts as the tables show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEvidence {
    pub a: String,
    pub b: String,
    pub kind: String,
    pub criterion: String,
    pub weight: f32,
    pub description: String,
    pub detail: SignalDetail,
}

/// A suspected group with its accounts and evidence, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub score: f32,
    pub status: String,
    pub reported_group: Option<String>,
    pub controller: Option<Subject>,
    pub controller_basis: String,
    pub criteria: Vec<String>,
    /// Signal family and its part of the score (the parts add up to the score).
    pub contributions: Vec<(String, f32)>,
    pub accounts: Vec<AccountView>,
    /// Accounts below the operating point, best first.
    pub candidates: Vec<CandidateView>,
    pub members_spanned: usize,
    pub ownership_paths: Vec<OwnershipPath>,
    pub shared_identifiers: Vec<SharedIdentifier>,
    pub placers: Vec<Placer>,
    pub transfers: Vec<PairEvidence>,
    pub trading: Vec<PairEvidence>,
    pub wash: Option<WashRecord>,
    /// Every evidence link, as stored.
    pub links: Vec<LinkRecord>,
    /// Names and kinds of every person and entity the evidence names.
    pub subjects: BTreeMap<String, Subject>,
}

impl GroupView {
    pub fn size(&self) -> usize {
        self.accounts.len()
    }
}

/// Which groups a report covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub min_score: Option<f32>,
    /// Reporting statuses to keep (empty: every status).
    pub statuses: Vec<String>,
}

impl Filters {
    pub fn keeps(&self, g: &GroupRecord) -> bool {
        self.min_score.is_none_or(|m| g.score >= m)
            && (self.statuses.is_empty() || self.statuses.contains(&g.status))
    }

    /// The filters in words, for the report's heading.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.min_score {
            parts.push(format!("score >= {m}"));
        }
        if !self.statuses.is_empty() {
            parts.push(format!("status in {}", self.statuses.join(", ")));
        }
        parts.join("; ")
    }
}

/// Totals over the whole analysis and over the groups in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub accounts_analysed: u64,
    pub groups_in_analysis: usize,
    pub groups: usize,
    pub grouped_accounts: usize,
    pub evidence_links: u64,
    pub groups_with_wash_trades: usize,
    pub by_status: BTreeMap<String, usize>,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub format_version: u32,
    /// When the analysis ran (RFC 3339).
    pub analysis_created_at: String,
    pub filters: Filters,
    pub summary: Summary,
    pub groups: Vec<GroupView>,
    pub changes: Option<Changes>,
    /// The limit breaches of the report's groups and of the reported groups; written to
    /// `breaches.csv`, `breaches.json` and the Breaches sheet, not into `report.json`.
    #[serde(skip)]
    pub breaches: Vec<detectors::surveillance::Breach>,
    /// The reporting findings (overdue, partly reported, stale) of the surveillance check, for
    /// the monthly statistics; not in `report.json`.
    #[serde(skip)]
    pub reporting: Vec<detectors::surveillance::ReportingFinding>,
    /// The day the surveillance check measured reporting deadlines on, if it ran.
    #[serde(skip)]
    pub as_of: Option<chrono::NaiveDate>,
    /// The data of the position-breach charts the HTML draws (read only for HTML reports).
    #[serde(skip)]
    pub breach_charts: crate::breach_charts::BreachCharts,
}

/// Point reads of names and account details, remembered so each id is read once.
struct Lookup<'a> {
    store: &'a dyn Store,
}

impl Lookup<'_> {
    fn subject(&self, id: &str) -> Result<Subject, ReportError> {
        if let Some(Record::Person(p)) = self.store.get(Table::Persons, id)? {
            return Ok(Subject {
                id: id.to_owned(),
                kind: SubjectKind::Person,
                name: p.name,
            });
        }
        if let Some(Record::Entity(e)) = self.store.get(Table::Entities, id)? {
            return Ok(Subject {
                id: id.to_owned(),
                kind: SubjectKind::Entity,
                name: e.name,
            });
        }
        Ok(Subject {
            id: id.to_owned(),
            kind: SubjectKind::Unknown,
            name: None,
        })
    }
}

/// The authorisations of the dataset: by account, and how many accounts each (person, role)
/// is authorised on.
#[derive(Default)]
struct Authorisations {
    by_account: HashMap<String, Vec<(String, String)>>,
    spread: HashMap<(String, String), u32>,
}

fn authorisations(store: &dyn Store) -> Result<Authorisations, ReportError> {
    let mut out = Authorisations::default();
    store.scan(Table::Authorizations, &mut |r| {
        if let Record::Authorization(a) = r {
            let role = a.role.to_string();
            *out.spread
                .entry((a.person_id.clone(), role.clone()))
                .or_default() += 1;
            out.by_account
                .entry(a.account_id)
                .or_default()
                .push((a.person_id, role));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Builds the view of the stored analysis `results` for the groups `filters` keeps.
pub fn build(
    store: &dyn Store,
    results: &AnalysisResults,
    filters: &Filters,
    changes: Option<Changes>,
) -> Result<ReportView, ReportError> {
    let selected: Vec<&GroupRecord> = results.groups.iter().filter(|g| filters.keeps(g)).collect();
    let auth = authorisations(store)?;
    let wash: HashMap<&str, &WashRecord> = results
        .wash_trades
        .iter()
        .map(|w| (w.group_id.as_str(), w))
        .collect();
    let lookup = Lookup { store };
    let members: std::sync::Mutex<HashMap<String, Option<String>>> = Default::default();
    let groups = selected
        .par_iter()
        .map(|g| {
            group_view(
                &lookup,
                &members,
                &auth,
                g,
                wash.get(g.id.as_str()).copied(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_status = BTreeMap::new();
    for g in &groups {
        *by_status.entry(g.status.clone()).or_insert(0) += 1;
    }
    let summary = Summary {
        accounts_analysed: results.accounts,
        groups_in_analysis: results.groups.len(),
        groups: groups.len(),
        grouped_accounts: groups.iter().map(GroupView::size).sum(),
        evidence_links: results.links,
        groups_with_wash_trades: groups.iter().filter(|g| g.wash.is_some()).count(),
        by_status,
    };
    Ok(ReportView {
        format_version: FORMAT_VERSION,
        analysis_created_at: results.created_at.clone(),
        filters: filters.clone(),
        summary,
        groups,
        changes,
        breaches: Vec::new(),
        reporting: Vec::new(),
        as_of: None,
        breach_charts: Default::default(),
    })
}

fn member_name(
    lookup: &Lookup<'_>,
    cache: &std::sync::Mutex<HashMap<String, Option<String>>>,
    id: &str,
) -> Result<Option<String>, ReportError> {
    if let Some(n) = cache.lock().expect("not poisoned").get(id) {
        return Ok(n.clone());
    }
    let name = match lookup.store.get(Table::Members, id)? {
        Some(Record::Member(m)) => m.name,
        _ => None,
    };
    cache
        .lock()
        .expect("not poisoned")
        .insert(id.to_owned(), name.clone());
    Ok(name)
}

fn group_view(
    lookup: &Lookup<'_>,
    members: &std::sync::Mutex<HashMap<String, Option<String>>>,
    auth: &Authorisations,
    g: &GroupRecord,
    wash: Option<&WashRecord>,
) -> Result<GroupView, ReportError> {
    let mut subjects: BTreeMap<String, Subject> = BTreeMap::new();
    let mut subject = |id: &str| -> Result<Subject, ReportError> {
        if let Some(s) = subjects.get(id) {
            return Ok(s.clone());
        }
        let s = lookup.subject(id)?;
        subjects.insert(id.to_owned(), s.clone());
        Ok(s)
    };

    let missing: BTreeSet<&str> = g.missing_from_report.iter().map(String::as_str).collect();
    let joined: BTreeSet<&str> = g.joined_by_embedding.iter().map(String::as_str).collect();
    let mut accounts = Vec::with_capacity(g.accounts.len());
    for (i, id) in g.accounts.iter().enumerate() {
        let acc = match lookup.store.get(Table::Accounts, id)? {
            Some(Record::Account(a)) => Some(a),
            _ => None,
        };
        let holder = match &acc {
            Some(a) => Some(subject(&a.holder_id)?),
            None => None,
        };
        let member_id = acc.as_ref().and_then(|a| a.member_id.clone());
        let member_name = match &member_id {
            Some(m) => member_name(lookup, members, m)?,
            None => None,
        };
        accounts.push(AccountView {
            account_id: id.clone(),
            holder_id: holder.as_ref().map(|h| h.id.clone()),
            holder_name: holder.as_ref().and_then(|h| h.name.clone()),
            holder_kind: holder.as_ref().map_or(SubjectKind::Unknown, |h| h.kind),
            member_id,
            member_name,
            account_type: acc
                .as_ref()
                .and_then(|a| a.account_type.map(|t| t.to_string())),
            open_date: acc
                .as_ref()
                .and_then(|a| a.open_date.map(|d| d.to_string())),
            status: acc.as_ref().and_then(|a| a.status.map(|s| s.to_string())),
            missing_from_report: missing.contains(id.as_str()),
            joined_by_embedding: joined.contains(id.as_str()),
            membership: g.membership.get(i).copied().unwrap_or(0.0),
        });
    }
    let mut candidates = Vec::with_capacity(g.candidates.len());
    for c in &g.candidates {
        let holder = match lookup.store.get(Table::Accounts, &c.account)? {
            Some(Record::Account(a)) => Some(subject(&a.holder_id)?),
            _ => None,
        };
        let mut linked_to: Vec<String> = c
            .links
            .iter()
            .map(|l| {
                if l.a == c.account {
                    l.b.clone()
                } else {
                    l.a.clone()
                }
            })
            .collect();
        linked_to.sort();
        linked_to.dedup();
        let mut signals: Vec<(f32, String)> = c
            .links
            .iter()
            .flat_map(|l| l.signals.iter())
            .map(|s| (s.weight, format!("{} {:.2}", s.kind, s.weight)))
            .collect();
        signals.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        signals.dedup_by(|x, y| x.1 == y.1);
        let mut signal_weights: Vec<(String, f32)> = c
            .links
            .iter()
            .flat_map(|l| l.signals.iter())
            .map(|s| (s.kind.to_string(), (s.weight * 100.0).round() / 100.0))
            .collect();
        signal_weights.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        signal_weights.dedup();
        candidates.push(CandidateView {
            account_id: c.account.clone(),
            holder_id: holder.as_ref().map(|h| h.id.clone()),
            holder_name: holder.as_ref().and_then(|h| h.name.clone()),
            score: c.score,
            linked_to,
            signals: signals.into_iter().map(|(_, s)| s).collect(),
            signal_weights,
        });
    }
    let members_spanned = accounts
        .iter()
        .filter_map(|a| a.member_id.as_deref())
        .collect::<BTreeSet<_>>()
        .len();
    let controller = match &g.controller_id {
        Some(c) => Some(subject(c)?),
        None => None,
    };

    let mut ownership_paths: Vec<OwnershipPath> = Vec::new();
    let mut identifiers: BTreeMap<(String, String), SharedIdentifier> = BTreeMap::new();
    let mut transfers = Vec::new();
    let mut trading = Vec::new();
    for link in &g.links {
        for s in &link.signals {
            let pair = || PairEvidence {
                a: link.a.clone(),
                b: link.b.clone(),
                kind: s.kind.clone(),
                criterion: s.criterion.clone(),
                weight: s.weight,
                description: s.description.clone(),
                detail: s.detail.clone(),
            };
            match s.kind.as_str() {
                "control" => {
                    let Some(c) = control(s) else {
                        continue;
                    };
                    subject(&c.controller)?;
                    // Each controlled holder's own chains, under its own basis; signals stored
                    // before claims were kept fall back to the pair's paths and basis.
                    let rows: Vec<((String, String), Vec<Hop>)> = if c.claims.is_empty() {
                        c.paths
                            .into_iter()
                            .map(|hops| ((c.basis.clone(), c.basis.clone()), hops))
                            .collect()
                    } else {
                        c.claims
                            .iter()
                            .flat_map(|claim| {
                                let basis = claim_basis(claim);
                                claim
                                    .stakes
                                    .iter()
                                    .map(move |st| (basis.clone(), st.path.clone()))
                            })
                            .collect()
                    };
                    for ((basis, basis_zh), hops) in rows {
                        let text = hops
                            .iter()
                            .map(|h| format!("{} -[{}]-> {}", h.from, h.what, h.to))
                            .collect::<Vec<_>>()
                            .join(", ");
                        if ownership_paths.iter().any(|p| p.text == text) {
                            continue;
                        }
                        for h in &hops {
                            subject(&h.from)?;
                            subject(&h.to)?;
                        }
                        ownership_paths.push(OwnershipPath {
                            controller: c.controller.clone(),
                            basis,
                            basis_zh,
                            target: hops.last().map(|h| h.to.clone()).unwrap_or_default(),
                            hops: hops.into_iter().map(HopView::from).collect(),
                            text,
                        });
                    }
                }
                "shared_identifier" => {
                    if let Some((kind, value, spread)) = identifier(s) {
                        let e = identifiers
                            .entry((kind.clone(), value.clone()))
                            .or_insert_with(|| SharedIdentifier {
                                kind,
                                value,
                                spread,
                                accounts: Vec::new(),
                            });
                        for a in [&link.a, &link.b] {
                            if !e.accounts.contains(a) {
                                e.accounts.push(a.clone());
                            }
                        }
                    }
                }
                "account_role" | "common_agent" => {
                    if let Some((person, _, _)) = authorised(s) {
                        subject(&person)?;
                    }
                }
                "officer" | "spouse" | "family" | "arrangement" => {
                    if let Some((a, _, b)) = is_of(s) {
                        subject(&a)?;
                        subject(&b)?;
                    }
                }
                "transfers" | "fund_flow" => transfers.push(pair()),
                "sync_trading" | "matched_trading" => trading.push(pair()),
                _ => {}
            }
        }
    }
    for ids in identifiers.values_mut() {
        ids.accounts.sort();
    }

    // Everyone authorised on the group's accounts, with how far their authority reaches.
    let mut placers: BTreeMap<(String, String), Placer> = BTreeMap::new();
    for a in &g.accounts {
        for (person, role) in auth.by_account.get(a).into_iter().flatten() {
            let name = subject(person)?.name;
            let p = placers
                .entry((person.clone(), role.clone()))
                .or_insert_with(|| Placer {
                    person_id: person.clone(),
                    name,
                    role: role.clone(),
                    spread: auth
                        .spread
                        .get(&(person.clone(), role.clone()))
                        .copied()
                        .unwrap_or(0),
                    accounts: Vec::new(),
                });
            p.accounts.push(a.clone());
        }
    }

    Ok(GroupView {
        id: g.id.clone(),
        score: g.score,
        status: g.status.clone(),
        reported_group: g.reported_group.clone(),
        controller,
        controller_basis: g.controller_basis.clone(),
        criteria: g.criteria.clone(),
        contributions: g.contributions.clone(),
        accounts,
        candidates,
        members_spanned,
        ownership_paths,
        shared_identifiers: identifiers.into_values().collect(),
        placers: placers.into_values().collect(),
        transfers,
        trading,
        wash: wash.cloned(),
        links: g.links.clone(),
        subjects,
    })
}
