//! Entity resolution, first stage: records of persons and companies that are certainly one real
//! subject become one node before control is traced.
//!
//! Sources do not share ids: a member's client records (KYC) and the business registry list the
//! same company under two ids, so the registry's shareholders and officers never reach the
//! accounts the KYC record holds. This stage joins records on keys that identify a subject by
//! themselves:
//!
//! - two entities with the same unified social credit code;
//! - two persons with the same full (unmasked) identity number;
//! - a person whose identity number is masked (`310101********1234`) and the one subject of the
//!   same name (spacing and case folded) whose number agrees on every character both show;
//! - an entity from a non-registry source (`kyc:M0007`) and the one registry entity whose name is
//!   the same once spacing, brackets, case and the legal form (有限责任公司 / 有限公司) are folded,
//!   when no other registry entity has that name and their codes do not differ.
//!
//! - an entity from a non-registry source named in Latin letters (`Hangzhou Rongxing Fund No.5`)
//!   and the one registry entity whose Chinese name reads as it in pinyin ([`latin`]) and that
//!   agrees with it on kind, founding date and registered capital where both state them.
//!
//! Names are compared with traditional characters folded to simplified ones (投資 / 投资).
//!
//! Conflicts are never merged: a cluster never holds two different codes or two different full
//! identity numbers, and a name shared by several registry entities joins nothing (two companies
//! can be called the same in different places). Within one source a name joins nothing either.
//!
//! The representative of a cluster is its first registry record in node order, else its first
//! record, so it is the same at every re-analysis of the same data. Old names and a model that scores partial agreement are the next stages; see
//! ARCHITECTURE.md.

mod latin;

use ahash::AHashMap;
use graph_core::{NodeId, NodeKind, PropertyGraph, SubjectKeys};
use serde::{Deserialize, Serialize};

use latin::{LatinName, Reading, ReadingIndex};

/// Why a record was joined to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// The same unified social credit code.
    SameUscc,
    /// The same full identity number.
    SameIdNumber,
    /// The same name, folded, as exactly one registry entity.
    SameNameAsRegistry,
    /// A masked identity number that agrees with the one subject of the same name.
    MaskedIdNumberAndName,
    /// A name in Latin letters that reads as exactly one registry entity's Chinese name, with
    /// kind, founding date and registered capital not differing.
    LatinNameAsRegistry,
}

impl MatchReason {
    /// The reason's stable spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchReason::SameUscc => "same_uscc",
            MatchReason::SameIdNumber => "same_id_number",
            MatchReason::SameNameAsRegistry => "same_name_as_registry",
            MatchReason::MaskedIdNumberAndName => "masked_id_number_and_name",
            MatchReason::LatinNameAsRegistry => "latin_name_as_registry",
        }
    }
}

/// One record joined to the subject another record stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The joined record.
    pub record: NodeId,
    /// The record it was compared with.
    pub with: NodeId,
    pub reason: MatchReason,
}

/// The resolved subjects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    /// Each node's representative: itself unless it was joined to another record.
    pub rep: Vec<NodeId>,
    /// The joins made, in the order they were made.
    pub matches: Vec<Match>,
}

impl Resolution {
    /// Records that stand for another record's subject.
    pub fn merged(&self) -> usize {
        self.rep
            .iter()
            .enumerate()
            .filter(|(i, r)| r.index() != *i)
            .count()
    }
}

/// A unified social credit code as compared: upper case, 18 characters, else none.
fn uscc_key(k: &SubjectKeys) -> Option<String> {
    let u = k.uscc.as_deref()?.trim().to_ascii_uppercase();
    (u.chars().count() == 18).then_some(u)
}

/// A full identity number as compared: 18 characters, no mask, else none.
fn id_key(k: &SubjectKeys) -> Option<String> {
    let id = k.id_number.as_deref()?.trim().to_ascii_uppercase();
    (id.chars().count() == 18 && id.chars().all(|c| c.is_ascii_digit() || c == 'X')).then_some(id)
}

/// A company name with what varies between sources folded away: spaces, brackets (keeping what
/// they hold), ASCII case, traditional characters (written simplified), and the legal form
/// 有限责任公司 written as 有限公司. The name arrives NFKC-normalised from ingest, so full-width
/// forms are already folded.
pub fn name_key(name: &str) -> String {
    let mut out: String = latin::simplified(name)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）' | '[' | ']'))
        .flat_map(char::to_lowercase)
        .collect();
    if out.contains("有限责任公司") {
        out = out.replace("有限责任公司", "有限公司");
    }
    out
}

/// A masked identity number as compared: 18 characters of which some are `*`, upper case.
fn masked_key(k: &SubjectKeys) -> Option<Vec<char>> {
    let id: Vec<char> = k
        .id_number
        .as_deref()?
        .trim()
        .to_ascii_uppercase()
        .chars()
        .collect();
    (id.len() == 18 && id.contains(&'*')).then_some(id)
}

/// Whether two identity numbers agree on every character both show.
fn agrees(masked: &[char], other: &[char]) -> bool {
    masked.len() == other.len()
        && masked
            .iter()
            .zip(other)
            .all(|(a, b)| *a == '*' || *b == '*' || a == b)
}

/// A person's name as compared: no spaces, lower case, traditional characters simplified.
fn person_name_key(name: &str) -> String {
    latin::simplified(name)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·' && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two entity records state nothing different of kind, founding date and registered
/// capital (what one of them does not state is no difference).
fn states_nothing_different(a: &SubjectKeys, b: &SubjectKeys) -> bool {
    fn differ<T: PartialEq>(x: Option<&T>, y: Option<&T>) -> bool {
        matches!((x, y), (Some(x), Some(y)) if x != y)
    }
    !differ(a.kind.as_ref(), b.kind.as_ref())
        && !differ(a.established.as_ref(), b.established.as_ref())
        && !differ(a.capital_cents.as_ref(), b.capital_cents.as_ref())
}

fn is_registry(k: &SubjectKeys) -> bool {
    k.source
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("registry"))
}

/// Union-find over nodes whose clusters carry their codes and identity numbers, so that a union
/// that would hold two different ones is refused.
struct Clusters {
    parent: Vec<u32>,
    uscc: AHashMap<u32, String>,
    id: AHashMap<u32, String>,
}

impl Clusters {
    fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        let mut x = x;
        while self.parent[x as usize] != r {
            let next = self.parent[x as usize];
            self.parent[x as usize] = r;
            x = next;
        }
        r
    }

    /// Joins the clusters of `a` and `b` unless their keys conflict; true when they are one now.
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        for keys in [&self.uscc, &self.id] {
            if let (Some(x), Some(y)) = (keys.get(&ra), keys.get(&rb))
                && x != y
            {
                return false;
            }
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child as usize] = root;
        for keys in [&mut self.uscc, &mut self.id] {
            if let Some(v) = keys.remove(&child) {
                keys.entry(root).or_insert(v);
            }
        }
        true
    }
}

/// Resolves the graph's person and entity records into subjects.
pub fn resolve(g: &PropertyGraph) -> Resolution {
    let n = g.node_count();
    let subjects = g.subject_keys();
    let mut c = Clusters {
        parent: (0..n as u32).collect(),
        uscc: AHashMap::new(),
        id: AHashMap::new(),
    };
    for (node, k) in subjects {
        if let Some(u) = uscc_key(k) {
            c.uscc.insert(node.0, u);
        }
        if let Some(i) = id_key(k) {
            c.id.insert(node.0, i);
        }
    }
    let mut matches = Vec::new();
    let mut join = |c: &mut Clusters, record: NodeId, with: NodeId, reason: MatchReason| {
        if c.find(record.0) != c.find(with.0) && c.union(record.0, with.0) {
            matches.push(Match {
                record,
                with,
                reason,
            });
        }
    };

    // Exact keys: the first record with a key is the one the others are joined to.
    let mut first_uscc: AHashMap<String, NodeId> = AHashMap::new();
    let mut first_id: AHashMap<String, NodeId> = AHashMap::new();
    for (node, k) in subjects {
        match g.kind(*node) {
            NodeKind::Entity => {
                if let Some(u) = uscc_key(k) {
                    match first_uscc.get(&u) {
                        Some(&w) => join(&mut c, *node, w, MatchReason::SameUscc),
                        None => {
                            first_uscc.insert(u, *node);
                        }
                    }
                }
            }
            NodeKind::Person => {
                if let Some(i) = id_key(k) {
                    match first_id.get(&i) {
                        Some(&w) => join(&mut c, *node, w, MatchReason::SameIdNumber),
                        None => {
                            first_id.insert(i, *node);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // Names: a non-registry entity joins the one registry entity of its folded name.
    let mut registry: AHashMap<String, Vec<NodeId>> = AHashMap::new();
    for (node, k) in subjects {
        if g.kind(*node) == NodeKind::Entity
            && is_registry(k)
            && let Some(name) = k.name.as_deref()
        {
            registry.entry(name_key(name)).or_default().push(*node);
        }
    }
    for (node, k) in subjects {
        if g.kind(*node) != NodeKind::Entity || is_registry(k) {
            continue;
        }
        let Some(name) = k.name.as_deref() else {
            continue;
        };
        if let Some([only]) = registry.get(&name_key(name)).map(Vec::as_slice) {
            join(&mut c, *node, *only, MatchReason::SameNameAsRegistry);
        }
    }

    // Latin names: a non-registry entity named in Latin letters joins the one registry entity
    // whose Chinese name reads as it and that states nothing different.
    let latin_names: Vec<(NodeId, &SubjectKeys, LatinName)> = subjects
        .iter()
        .filter(|(node, k)| g.kind(*node) == NodeKind::Entity && !is_registry(k))
        .filter_map(|(node, k)| Some((*node, k, LatinName::parse(k.name.as_deref()?)?)))
        .collect();
    if !latin_names.is_empty() {
        let readings: Vec<(NodeId, &SubjectKeys, Reading)> = subjects
            .iter()
            .filter(|(node, k)| g.kind(*node) == NodeKind::Entity && is_registry(k))
            .filter_map(|(node, k)| {
                let name = k.name.as_deref()?;
                LatinName::parse(name)
                    .is_none()
                    .then(|| (*node, k, Reading::new(&latin::simplified(name))))
            })
            .collect();
        let mut index = ReadingIndex::default();
        for (i, (_, _, reading)) in readings.iter().enumerate() {
            index.insert(reading, i as u32);
        }
        for (node, keys, name) in &latin_names {
            let own = c.find(node.0);
            let mut found: Option<(u32, NodeId)> = None;
            let mut ambiguous = false;
            for i in index.candidates(name) {
                let (other, other_keys, reading) = &readings[i as usize];
                if !states_nothing_different(keys, other_keys) || !reading.matches(name) {
                    continue;
                }
                let root = c.find(other.0);
                match found {
                    Some((r, _)) if r != root => ambiguous = true,
                    Some(_) => {}
                    None => found = Some((root, *other)),
                }
            }
            if let (Some((root, with)), false) = (found, ambiguous)
                && root != own
            {
                join(&mut c, *node, with, MatchReason::LatinNameAsRegistry);
            }
        }
    }

    // Masked numbers: a person whose number is masked joins the one subject of the same name
    // whose records' numbers agree with it (another masked record or a full one).
    let mut by_name: AHashMap<String, Vec<(NodeId, Vec<char>)>> = AHashMap::new();
    for (node, k) in subjects {
        if g.kind(*node) != NodeKind::Person {
            continue;
        }
        let (Some(name), Some(id)) = (k.name.as_deref(), k.id_number.as_deref()) else {
            continue;
        };
        let id: Vec<char> = id.trim().to_ascii_uppercase().chars().collect();
        if id.len() == 18 {
            by_name
                .entry(person_name_key(name))
                .or_default()
                .push((*node, id));
        }
    }
    for (node, k) in subjects {
        if g.kind(*node) != NodeKind::Person {
            continue;
        }
        let (Some(name), Some(masked)) = (k.name.as_deref(), masked_key(k)) else {
            continue;
        };
        let Some(same_name) = by_name.get(&person_name_key(name)) else {
            continue;
        };
        let own = c.find(node.0);
        let mut found: Option<(u32, NodeId)> = None;
        let mut ambiguous = false;
        for (other, id) in same_name {
            if *other == *node || !agrees(&masked, id) {
                continue;
            }
            let root = c.find(other.0);
            if root == own {
                continue;
            }
            match found {
                Some((r, _)) if r != root => ambiguous = true,
                Some(_) => {}
                None => found = Some((root, *other)),
            }
        }
        if let (Some((_, with)), false) = (found, ambiguous) {
            join(&mut c, *node, with, MatchReason::MaskedIdNumberAndName);
        }
    }

    // Representatives: the first registry record of each cluster, else its first record. Only
    // persons and entities are ever joined, so every other node stands for itself.
    let mut best: AHashMap<u32, (bool, u32)> = AHashMap::new();
    for (node, k) in subjects {
        let root = c.find(node.0);
        let cand = (!is_registry(k), node.0);
        let e = best.entry(root).or_insert(cand);
        if cand < *e {
            *e = cand;
        }
    }
    let mut rep: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    for (node, _) in subjects {
        let root = c.find(node.0);
        if let Some(&(_, r)) = best.get(&root) {
            rep[node.index()] = NodeId(r);
        }
    }
    Resolution { rep, matches }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph_core::GraphBuilder;
    use graph_core::model::{Entity, Extra, Person, Record};
    use proptest::prelude::*;

    fn entity(id: &str, name: &str, uscc: Option<&str>, source: &str) -> Record {
        let mut extra = Extra::new();
        extra.insert("source".into(), source.into());
        Record::Entity(Entity {
            entity_id: id.into(),
            name: Some(name.into()),
            uscc: uscc.map(Into::into),
            kind: None,
            registered_capital: None,
            established: None,
            status: None,
            extra,
        })
    }

    fn person(id: &str, id_number: &str, source: &str) -> Record {
        let mut extra = Extra::new();
        extra.insert("source".into(), source.into());
        Record::Person(Person {
            person_id: id.into(),
            name: Some("张伟".into()),
            id_number: Some(id_number.into()),
            extra,
        })
    }

    fn named(id: &str, name: &str, id_number: &str) -> Record {
        Record::Person(Person {
            person_id: id.into(),
            name: Some(name.into()),
            id_number: Some(id_number.into()),
            extra: Extra::new(),
        })
    }

    fn graph(records: &[Record]) -> PropertyGraph {
        let mut b = GraphBuilder::new();
        for r in records {
            b.add_record(r);
        }
        b.finish()
    }

    fn rep_of(g: &PropertyGraph, r: &Resolution, id: &str) -> String {
        g.key(r.rep[g.find(id).unwrap().index()]).to_owned()
    }

    #[test]
    fn one_code_one_company_and_the_registry_record_stands_for_it() {
        let g = graph(&[
            entity(
                "K1",
                "Zhuhai Dada Commerce Co., Ltd.",
                Some("91440000605529Y77N"),
                "kyc:M1",
            ),
            entity(
                "R1",
                "珠海达达商贸有限公司",
                Some("91440000605529y77n"),
                "registry",
            ),
            entity(
                "R2",
                "珠海达达商贸有限公司",
                Some("914400006636P9J92A"),
                "registry",
            ),
        ]);
        let r = resolve(&g);
        assert_eq!(rep_of(&g, &r, "K1"), "R1");
        assert_eq!(rep_of(&g, &r, "R1"), "R1");
        // Same name, different code: two companies.
        assert_eq!(rep_of(&g, &r, "R2"), "R2");
        assert_eq!(r.merged(), 1);
        assert_eq!(r.matches[0].reason, MatchReason::SameUscc);
    }

    #[test]
    fn a_client_record_joins_the_one_registry_company_of_its_name() {
        let g = graph(&[
            entity("K1", "杭州融星稳健4号私募证券投资基金 ", None, "kyc:M1"),
            entity("R1", "杭州融星稳健4号私募证券投资基金", None, "registry"),
            entity("K2", "天津元明控股有限责任公司", None, "kyc:M2"),
            entity("R2", "天津元明控股有限公司", None, "registry"),
            // Two registry companies of one name: the client record joins neither.
            entity("K3", "深圳德通投资管理有限公司", None, "kyc:M3"),
            entity("R3", "深圳德通投资管理有限公司", None, "registry"),
            entity("R4", "深圳德通投资管理有限公司", None, "registry"),
            // Two client records of one name and no registry record: nothing to go by.
            entity("K5", "上海某某贸易有限公司", None, "kyc:M4"),
            entity("K6", "上海某某贸易有限公司", None, "kyc:M5"),
            // A code that differs wins over the name.
            entity(
                "K7",
                "北京甲乙有限公司",
                Some("91110000000000001A"),
                "kyc:M6",
            ),
            entity(
                "R7",
                "北京甲乙有限公司",
                Some("91110000000000002B"),
                "registry",
            ),
        ]);
        let r = resolve(&g);
        assert_eq!(rep_of(&g, &r, "K1"), "R1");
        assert_eq!(rep_of(&g, &r, "K2"), "R2");
        for id in ["K3", "R3", "R4", "K5", "K6", "K7", "R7"] {
            assert_eq!(rep_of(&g, &r, id), id, "{id}");
        }
        assert!(
            r.matches
                .iter()
                .all(|m| m.reason == MatchReason::SameNameAsRegistry)
        );
    }

    fn fund(id: &str, name: &str, source: &str, established: &str, capital: f64) -> Record {
        let Record::Entity(mut e) = entity(id, name, None, source) else {
            unreachable!()
        };
        e.kind = Some(graph_core::model::EntityKind::FundProduct);
        e.established = Some(established.parse().unwrap());
        e.registered_capital = Some(capital);
        Record::Entity(e)
    }

    #[test]
    fn a_latin_or_traditional_name_joins_the_one_registry_record_it_reads_as() {
        let g = graph(&[
            fund(
                "R1",
                "杭州融星稳健5号私募证券投资基金",
                "registry",
                "2020-02-25",
                3e7,
            ),
            fund(
                "R2",
                "杭州融星稳健15号私募证券投资基金",
                "registry",
                "2020-02-25",
                3e7,
            ),
            fund(
                "R3",
                "杭州融星稳健17号私募证券投资基金",
                "registry",
                "2020-10-25",
                1e8,
            ),
            fund(
                "R4",
                "重庆汇诚8号私募证券投资基金",
                "registry",
                "2020-02-07",
                3e8,
            ),
            fund(
                "R5",
                "重庆汇诚9号私募证券投资基金",
                "registry",
                "2021-05-01",
                3e8,
            ),
            fund(
                "R6",
                "宁波盛信6号私募证券投资基金",
                "registry",
                "2016-12-12",
                1e7,
            ),
            fund(
                "R7",
                "宁波盛信对冲6号私募证券投资基金",
                "registry",
                "2016-12-12",
                1e7,
            ),
            fund(
                "K1",
                "Hangzhou Rongxing Fund No.5",
                "kyc:M1",
                "2020-02-25",
                3e7,
            ),
            fund(
                "K2",
                "杭州融星稳健17号私募证券投資基金",
                "kyc:M2",
                "2020-10-25",
                1e8,
            ),
            // No number: the founding date tells R4 from R5.
            fund(
                "K3",
                "Chongqing Huicheng Private Fund Management Co., Ltd. Fund",
                "kyc:M3",
                "2020-02-07",
                3e8,
            ),
            // Reads as R1 but was founded on another day: a different fund.
            fund(
                "K4",
                "Hangzhou Rongxing Fund No.5",
                "kyc:M4",
                "2019-01-01",
                3e7,
            ),
            // Reads as two registry funds that state the same: joins neither.
            fund(
                "K5",
                "Ningbo Shengxin Fund No.6",
                "kyc:M5",
                "2016-12-12",
                1e7,
            ),
        ]);
        let r = resolve(&g);
        assert_eq!(rep_of(&g, &r, "K1"), "R1");
        assert_eq!(rep_of(&g, &r, "K2"), "R3");
        assert_eq!(rep_of(&g, &r, "K3"), "R4");
        for id in ["K4", "K5", "R2", "R5", "R6", "R7"] {
            assert_eq!(rep_of(&g, &r, id), id, "{id}");
        }
        let reason = |id: &str| {
            let n = g.find(id).unwrap();
            r.matches.iter().find(|m| m.record == n).map(|m| m.reason)
        };
        assert_eq!(reason("K1"), Some(MatchReason::LatinNameAsRegistry));
        assert_eq!(reason("K2"), Some(MatchReason::SameNameAsRegistry));
    }

    #[test]
    fn a_person_under_two_ids_is_one_and_a_masked_number_needs_the_name_too() {
        let g = graph(&[
            person("P1", "350206198204234550", "kyc:M1"),
            person("P2", "350206198204234550", "registry"),
            person("P3", "350206********4550", "kyc:M2"),
            // Agrees with P1's number but is someone else by name.
            named("P4", "李娜", "350206********4550"),
            // Agrees with two different people of its name: joins neither.
            named("P5", "王芳", "110101********1234"),
            named("P6", "王芳", "110101198001011234"),
            named("P7", "王芳", "110101199001011234"),
        ]);
        let r = resolve(&g);
        assert_eq!(rep_of(&g, &r, "P1"), "P2");
        assert_eq!(rep_of(&g, &r, "P3"), "P2");
        for id in ["P4", "P5", "P6", "P7"] {
            assert_eq!(rep_of(&g, &r, id), id, "{id}");
        }
        assert!(
            r.matches
                .iter()
                .any(|m| m.reason == MatchReason::MaskedIdNumberAndName)
        );
    }

    proptest! {
        /// Two persons with different full identity numbers are never one subject, and every
        /// cluster's representative is its own representative.
        #[test]
        fn different_full_numbers_never_merge(ids in prop::collection::vec(0u32..40, 1..60)) {
            let records: Vec<Record> = ids
                .iter()
                .enumerate()
                .map(|(i, n)| person(&format!("P{i}"), &format!("3502061982{n:08}"), "registry"))
                .collect();
            let g = graph(&records);
            let r = resolve(&g);
            for (i, a) in ids.iter().enumerate() {
                for (j, b) in ids.iter().enumerate() {
                    let (x, y) = (r.rep[g.find(&format!("P{i}")).unwrap().index()],
                        r.rep[g.find(&format!("P{j}")).unwrap().index()]);
                    prop_assert_eq!(x == y, a == b);
                }
            }
            for x in &r.rep {
                prop_assert_eq!(r.rep[x.index()], *x);
            }
        }
    }
}
