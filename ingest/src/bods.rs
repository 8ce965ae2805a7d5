//! Import of Beneficial Ownership Data Standard (BODS) JSON, versions 0.4 and 0.2, into the
//! contract's records, so that published ownership registers feed the same graph as the CSV files.
//!
//! BODS publishes statements about three kinds of record: persons, entities and relationships (an
//! interested party's interests in a subject entity). The mapping:
//!
//! - a person becomes a [`Person`], an entity an [`Entity`]; both keep their BODS id (0.4
//!   `recordId`, 0.2 `statementID`), so one id never names two nodes;
//! - a *direct* `shareholding` or `votingRights` interest with a share becomes a [`Shareholding`]
//!   (`equity` or `voting`), the share kept as a range when BODS states a band;
//! - an *indirect* interest becomes a [`StatedInterest`], not a shareholding: BODS states it as the
//!   result of a chain whose links are published too, so adding it as an edge would count the
//!   chain twice;
//! - `seniorManagingOfficial` becomes an [`Officer`] (`executive`), `boardMember` and `boardChair`
//!   an officer (`director`); every other interest (appointment of the board, trusts, nominations,
//!   other influence) is reported as a warning, since the contract has no record for it;
//! - a share interest that states no level (`unknown`, or absent as in UK PSC data) is taken as
//!   direct, since it is the only link such registers give, and marked
//!   `bods_direct_or_indirect=unknown`;
//! - of several statements about one record (0.4 updates) the latest wins, and a record whose
//!   latest statement closes it is not imported; a 0.2 statement named in another's
//!   `replacesStatements` is dropped.
//!
//! - a relationship whose interested party is an unspecified record (a declared unknown or
//!   undisclosed owner, with its reason) makes no edge; its subject entity keeps the reason as
//!   `bods_unspecified_owner`, so that "declared unknown" stays apart from "nothing published";
//!
//! Odd data is reported in [`BodsImport::warnings`] rather than failing the import: only a file
//! that cannot be read, is not JSON, or holds no BODS statement at all is an error.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use graph_core::model::{
    Entity, EntityKind, EntityStatus, Extra, Officer, OfficerRole, Person, Record, ShareKind,
    Shareholding,
};
use serde_json::{Map, Value};

use crate::checks::{self, Check};
use crate::normalize;

/// What an import produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BodsImport {
    /// Persons, then entities, then shareholdings, then officers, each in order of first
    /// appearance in the file.
    pub records: Vec<Record>,
    /// Interests stated as indirect: results of ownership chains, kept apart from the
    /// shareholdings so that look-through computations can be checked against them.
    pub indirect: Vec<StatedInterest>,
    /// Everything that was not imported or was imported on an assumption, one line each.
    pub warnings: Vec<String>,
}

/// An interest in an entity as the source states it, rather than as a link of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct StatedInterest {
    /// The interested party: a person or entity id of the same import.
    pub owner_id: String,
    /// The entity the interest is held in.
    pub entity_id: String,
    /// Percent, the lower bound of the stated share (`0` when BODS states only an upper bound).
    pub share_min: f64,
    /// Percent, the upper bound of the stated share.
    pub share_max: f64,
    /// `equity` for a shareholding, `voting` for voting rights.
    pub kind: ShareKind,
    /// Whether the source states the interest as direct. The importer puts only indirect
    /// interests here, so it is `false` for every entry it produces; the field lets callers
    /// collect stated direct interests in the same shape when comparing against computed ones.
    pub direct: bool,
}

/// Why a BODS file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum BodsError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The content is not JSON (or JSON Lines).
    #[error("{name}: not valid JSON: {source}")]
    Json {
        /// The source's name, as given to [`import_slice`].
        name: String,
        #[source]
        source: serde_json::Error,
    },
    /// Valid JSON, but not a BODS statement array or stream.
    #[error("{name}: not BODS data: {reason}")]
    NotBods { name: String, reason: String },
}

/// Imports a BODS file: a JSON array of statements, or JSON Lines with one statement (or one
/// array) per line. Errors name the path; records carry the file name as their `source`, so that
/// the same file imported from another folder yields identical records.
pub fn import_file(path: &Path) -> Result<BodsImport, BodsError> {
    let bytes = std::fs::read(path).map_err(|source| BodsError::Io {
        path: path.to_owned(),
        source,
    })?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    import(&bytes, &path.display().to_string(), &file_name)
}

/// Imports BODS JSON from memory. `source` names the data in errors and is stored in each
/// record's `source` extra property.
pub fn import_slice(json: &[u8], source: &str) -> Result<BodsImport, BodsError> {
    import(json, source, source)
}

fn import(json: &[u8], name: &str, source: &str) -> Result<BodsImport, BodsError> {
    let values = parse_values(json, name)?;
    let mut warnings = Vec::new();
    let statements = classify_all(&values, name, &mut warnings)?;
    let latest = latest_by_id(statements, &mut warnings);
    let mut b = Builder {
        source,
        out: BodsImport::default(),
        persons: Vec::new(),
        entities: Vec::new(),
        node_kinds: HashMap::new(),
        closed: HashSet::new(),
        shareholdings: Vec::new(),
        shareholding_index: HashMap::new(),
        officers: Vec::new(),
        officer_keys: HashSet::new(),
        unknown_level: 0,
    };
    b.out.warnings = warnings;
    b.nodes(&latest);
    b.relationships(&latest);
    Ok(b.finish())
}

/// Reads every top-level JSON value: a whole-file array, or a stream of objects or arrays (JSON
/// Lines, which large BODS publications use).
fn parse_values(json: &[u8], name: &str) -> Result<Vec<Value>, BodsError> {
    let json = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_slice(json).into_iter::<Value>() {
        let value = value.map_err(|source| BodsError::Json {
            name: name.to_owned(),
            source,
        })?;
        match value {
            Value::Array(items) => out.extend(items),
            Value::Object(_) => out.push(value),
            other => {
                return Err(BodsError::NotBods {
                    name: name.to_owned(),
                    reason: format!(
                        "a top-level {} where statements were expected",
                        json_type(&other)
                    ),
                });
            }
        }
    }
    Ok(out)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordType {
    Person,
    Entity,
    Relationship,
}

impl RecordType {
    fn as_str(self) -> &'static str {
        match self {
            RecordType::Person => "person",
            RecordType::Entity => "entity",
            RecordType::Relationship => "relationship",
        }
    }
}

/// One statement, reduced to what both versions share. `details` is 0.4's `recordDetails`, or
/// the 0.2 statement itself, whose fields sit at the top level.
#[derive(Debug)]
struct Statement<'a> {
    id: String,
    record_type: RecordType,
    date: Option<NaiveDateTime>,
    date_text: Option<&'a str>,
    closed: bool,
    details: &'a Map<String, Value>,
    /// 0.2 statements that this one replaces (0.4 replaces by reusing the `recordId`).
    replaces: Vec<&'a str>,
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A statement date as a comparable instant. Dates are taken as midnight; times with an offset
/// are taken in UTC.
fn parse_instant(s: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn classify_all<'a>(
    values: &'a [Value],
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Statement<'a>>, BodsError> {
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        match classify(v) {
            Ok(s) => out.push(s),
            Err(why) => warnings.push(format!("statement #{}: {why}; skipped", i + 1)),
        }
    }
    // A non-empty file in which nothing is a statement is some other JSON (a schema, a config):
    // importing it as "no owners" would hide the mistake.
    if out.is_empty() && !values.is_empty() {
        return Err(BodsError::NotBods {
            name: name.to_owned(),
            reason: format!(
                "none of its {} top-level objects is a BODS statement (no `recordType` or `statementType`)",
                values.len()
            ),
        });
    }
    Ok(out)
}

fn classify(v: &Value) -> Result<Statement<'_>, String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "a {} where a statement object was expected",
            json_type(v)
        ));
    };
    let date_text = str_field(o, "statementDate");
    let date = date_text.and_then(parse_instant);
    if let Some(rt) = str_field(o, "recordType") {
        // BODS 0.4: a statement about a record, which later statements may update or close.
        let record_type = match rt {
            "person" => RecordType::Person,
            "entity" => RecordType::Entity,
            "relationship" => RecordType::Relationship,
            other => return Err(format!("unknown recordType `{other}`")),
        };
        let id = str_field(o, "recordId").ok_or("a 0.4 statement without recordId")?;
        let Some(Value::Object(details)) = o.get("recordDetails") else {
            return Err(format!("record `{id}` has no recordDetails object"));
        };
        return Ok(Statement {
            id: id.to_owned(),
            record_type,
            date,
            date_text,
            closed: str_field(o, "recordStatus") == Some("closed"),
            details,
            replaces: Vec::new(),
        });
    }
    if let Some(st) = str_field(o, "statementType") {
        // BODS 0.2 (and 0.3): self-contained statements, linked by statement id.
        let record_type = match st {
            "personStatement" => RecordType::Person,
            "entityStatement" => RecordType::Entity,
            "ownershipOrControlStatement" => RecordType::Relationship,
            other => return Err(format!("unknown statementType `{other}`")),
        };
        let id = str_field(o, "statementID")
            .or_else(|| str_field(o, "statementId"))
            .ok_or("a 0.2 statement without statementID")?;
        let replaces = o
            .get("replacesStatements")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        return Ok(Statement {
            id: id.to_owned(),
            record_type,
            date,
            date_text,
            closed: false,
            details: o,
            replaces,
        });
    }
    Err("neither `recordType` (BODS 0.4) nor `statementType` (BODS 0.2)".to_owned())
}

/// Keeps one statement per id: the one with the latest statement date, the later in the file on a
/// tie or when a date is missing. Statements that a 0.2 statement replaces are dropped.
fn latest_by_id<'a>(
    statements: Vec<Statement<'a>>,
    warnings: &mut Vec<String>,
) -> Vec<Statement<'a>> {
    let replaced: HashSet<String> = statements
        .iter()
        .flat_map(|s| s.replaces.iter().map(|r| (*r).to_owned()))
        .collect();
    let mut out: Vec<Statement<'a>> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    for s in statements {
        if replaced.contains(&s.id) {
            continue;
        }
        let Some(&i) = pos.get(&s.id) else {
            pos.insert(s.id.clone(), out.len());
            out.push(s);
            continue;
        };
        let cur = &out[i];
        if cur.record_type != s.record_type {
            warnings.push(format!(
                "id `{}` names both a {} and a {}; the later statement wins",
                s.id,
                cur.record_type.as_str(),
                s.record_type.as_str()
            ));
        }
        let newer = match (cur.date, s.date) {
            (Some(a), Some(b)) => b >= a,
            _ => true,
        };
        if newer {
            out[i] = s;
        }
    }
    out
}

/// Identifier schemes that carry a PRC resident identity number (BODS names person schemes
/// `{ISO 3166-1 alpha-3}-{PASSPORT|TAXID|IDCARD}`).
const PRC_ID_SCHEMES: &[&str] = &["CHN-IDCARD", "CN-IDCARD"];
/// Identifier schemes that carry a unified social credit code.
const USCC_SCHEMES: &[&str] = &["CN-USCC", "CHN-USCC", "CN-SAMR", "CN-SAIC"];

/// The identifiers of a person or entity as `(scheme, id)`, the scheme falling back to the
/// scheme name, duplicates removed (registers repeat them).
fn identifiers(details: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for ident in details
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Value::Object(o) = ident else { continue };
        let Some(id) = str_field(o, "id") else {
            continue;
        };
        let scheme = str_field(o, "scheme")
            .or_else(|| str_field(o, "schemeName"))
            .unwrap_or("unknown");
        let pair = (scheme.to_owned(), id.to_owned());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

fn join_identifiers(ids: &[(String, String)]) -> Option<String> {
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(|(s, i)| format!("{s}:{i}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The person's name: the first legal name, else the first name; its `fullName`, else its given
/// and family names.
fn person_name(details: &Map<String, Value>) -> Option<String> {
    let names: Vec<&Map<String, Value>> = details
        .get("names")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let chosen = names
        .iter()
        .find(|n| str_field(n, "type") == Some("legal"))
        .or_else(|| names.first())?;
    let raw = match str_field(chosen, "fullName") {
        Some(full) => full.to_owned(),
        None => [
            str_field(chosen, "givenName"),
            str_field(chosen, "familyName"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    };
    Some(normalize::text(&raw)).filter(|n| !n.is_empty())
}

/// A party of a relationship: a record id, or the stated reason why it is not specified.
enum Party<'a> {
    Ref(&'a str),
    Unspecified(String),
}

fn party(v: Option<&Value>) -> Party<'_> {
    fn reason(o: &Map<String, Value>) -> String {
        match (str_field(o, "reason"), str_field(o, "description")) {
            (Some(r), Some(d)) => format!("{r}: {d}"),
            (Some(r), None) => r.to_owned(),
            (None, Some(d)) => d.to_owned(),
            (None, None) => "no reason given".to_owned(),
        }
    }
    match v {
        // 0.4: a record id, or an Unspecified Record object with a reason.
        Some(Value::String(s)) if !s.trim().is_empty() => Party::Ref(s.trim()),
        Some(Value::Object(o)) => {
            // 0.2: `describedBy...Statement`, or `unspecified` with a reason.
            if let Some(id) = str_field(o, "describedByEntityStatement")
                .or_else(|| str_field(o, "describedByPersonStatement"))
            {
                Party::Ref(id)
            } else if let Some(Value::Object(u)) = o.get("unspecified") {
                Party::Unspecified(reason(u))
            } else {
                Party::Unspecified(reason(o))
            }
        }
        None | Some(Value::Null) => Party::Unspecified("not stated".to_owned()),
        Some(other) => Party::Unspecified(format!("a {} instead of a record id", json_type(other))),
    }
}

/// How directly an interest is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Direct,
    Indirect,
    Unknown,
}

/// A stated share, percent.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Share {
    min: f64,
    max: f64,
    min_exclusive: bool,
    max_exclusive: bool,
}

/// Reads a share; `Ok(None)` when none is stated. An exact figure gives `min == max`; a band
/// keeps its bounds, a missing lower bound being 0 and a missing upper bound 100. Exclusive
/// bounds are kept as the bound values, since the contract has no open intervals, and flagged:
/// at a threshold the difference matters ("more than 50%" is stored as a minimum of 50). In 0.4
/// `exclusiveMinimum`/`exclusiveMaximum` are numbers; in 0.2 they are flags on
/// `minimum`/`maximum`.
fn share(v: Option<&Value>) -> Result<Option<Share>, String> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(format!("share is a {}, not an object", json_type(other))),
    };
    let num = |k: &str| o.get(k).and_then(Value::as_f64);
    let flag = |k: &str| o.get(k).and_then(Value::as_bool) == Some(true);
    let bound = |inclusive: &str, exclusive: &str| match (num(inclusive), num(exclusive)) {
        (Some(b), _) => Some((b, flag(exclusive))),
        (None, Some(b)) => Some((b, true)),
        (None, None) => None,
    };
    let share = match num("exact") {
        Some(e) => Share {
            min: e,
            max: e,
            min_exclusive: false,
            max_exclusive: false,
        },
        None => {
            let lo = bound("minimum", "exclusiveMinimum");
            let hi = bound("maximum", "exclusiveMaximum");
            if lo.is_none() && hi.is_none() {
                return Ok(None);
            }
            let (min, min_exclusive) = lo.unwrap_or((0.0, false));
            let (max, max_exclusive) = hi.unwrap_or((100.0, false));
            Share {
                min,
                max,
                min_exclusive,
                max_exclusive,
            }
        }
    };
    let (lo, hi) = (share.min, share.max);
    if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 100.0 && hi > 0.0) {
        return Err(format!(
            "share {lo}-{hi} is not a percentage range within (0, 100]"
        ));
    }
    Ok(Some(share))
}

/// Interest types compared without case and separators, so that 0.4's `votingRights` and 0.2's
/// `voting-rights` are one type.
fn interest_key(t: &str) -> String {
    t.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The warning for an identity number or USCC that fails its check: loaded anyway, as the CSV
/// ingest does, since a typo in a check character does not make the party someone else.
fn check_warning(owner: &str, label: &str, value: &str, check: Check) -> Option<String> {
    match check {
        Check::Valid | Check::Masked => None,
        Check::Malformed => Some(format!("{owner}: malformed {label} `{value}`")),
        Check::BadCheck => Some(format!(
            "{owner}: {label} `{value}` fails its check character"
        )),
    }
}

/// The parties of one relationship, both resolved to imported nodes.
struct Link<'a> {
    rel: &'a str,
    owner_id: &'a str,
    owner_kind: RecordType,
    entity_id: &'a str,
}

struct Builder<'s> {
    source: &'s str,
    out: BodsImport,
    persons: Vec<Record>,
    entities: Vec<Record>,
    node_kinds: HashMap<String, RecordType>,
    closed: HashSet<String>,
    shareholdings: Vec<Shareholding>,
    shareholding_index: HashMap<String, usize>,
    officers: Vec<Record>,
    officer_keys: HashSet<String>,
    unknown_level: usize,
}

impl Builder<'_> {
    fn warn(&mut self, w: String) {
        self.out.warnings.push(w);
    }

    fn extra(&self) -> Extra {
        let mut e = Extra::new();
        e.insert("source".to_owned(), self.source.to_owned());
        e
    }

    fn nodes(&mut self, latest: &[Statement<'_>]) {
        for s in latest
            .iter()
            .filter(|s| s.record_type != RecordType::Relationship)
        {
            if s.closed {
                self.closed.insert(s.id.clone());
                self.warn(format!(
                    "{} `{}` is closed as of {}; not imported",
                    s.record_type.as_str(),
                    s.id,
                    s.date_text.unwrap_or("an undated statement")
                ));
                continue;
            }
            self.node_kinds.insert(s.id.clone(), s.record_type);
            if s.record_type == RecordType::Person {
                let p = Record::Person(self.person(s));
                self.persons.push(p);
            } else {
                let e = Record::Entity(self.entity(s));
                self.entities.push(e);
            }
        }
    }

    fn person(&mut self, s: &Statement<'_>) -> Person {
        let d = s.details;
        let mut extra = self.extra();
        if let Some(pt @ ("anonymousPerson" | "unknownPerson")) = str_field(d, "personType") {
            // Kept as a node: the record id still names one particular person, and the chain
            // through them stays intact. Nothing identifies them to anything else.
            extra.insert("bods_person_type".to_owned(), pt.to_owned());
            self.warn(format!(
                "person `{}` is an {pt}; imported without identity",
                s.id
            ));
        }
        let mut id_number = None;
        let mut others = Vec::new();
        for (scheme, id) in identifiers(d) {
            if id_number.is_none() && PRC_ID_SCHEMES.contains(&scheme.to_ascii_uppercase().as_str())
            {
                let v = normalize::id_number(&id);
                let owner = format!("person `{}`", s.id);
                let check = checks::check_id_number(&v);
                if let Some(w) = check_warning(&owner, "identity number", &v, check) {
                    self.warn(w);
                }
                id_number = Some(v);
            } else {
                others.push((scheme, id));
            }
        }
        if let Some(ids) = join_identifiers(&others) {
            extra.insert("bods_identifiers".to_owned(), ids);
        }
        Person {
            person_id: s.id.clone(),
            name: person_name(d),
            id_number,
            extra,
        }
    }

    fn entity(&mut self, s: &Statement<'_>) -> Entity {
        let d = s.details;
        let mut extra = self.extra();
        // 0.4 states `entityType` as an object with a subtype, 0.2 as a string.
        let (etype, subtype) = match d.get("entityType") {
            Some(Value::String(t)) => (Some(t.as_str()), None),
            Some(Value::Object(o)) => (str_field(o, "type"), str_field(o, "subtype")),
            _ => (None, None),
        };
        let kind = match etype {
            Some("state" | "stateBody") => EntityKind::StateBody,
            Some("arrangement") => EntityKind::Other,
            Some(t @ ("anonymousEntity" | "unknownEntity")) => {
                self.warn(format!(
                    "entity `{}` is an {t}; imported without identity",
                    s.id
                ));
                EntityKind::Other
            }
            _ => EntityKind::Company,
        };
        if let Some(t) = etype.filter(|t| !matches!(*t, "registeredEntity" | "legalEntity")) {
            let v = subtype.map_or_else(|| t.to_owned(), |st| format!("{t}/{st}"));
            extra.insert("bods_entity_type".to_owned(), v);
        }
        let mut uscc = None;
        let mut others = Vec::new();
        for (scheme, id) in identifiers(d) {
            let scheme_uc = scheme.to_ascii_uppercase();
            let v = normalize::uscc(&id);
            let check = checks::check_uscc(&v);
            // A code under a Chinese scheme we do not list is still taken when its check character
            // holds: 18 characters of the code's alphabet with a matching MOD 31 check is a USCC.
            let chinese = scheme_uc.starts_with("CN-") || scheme_uc.starts_with("CHN-");
            if uscc.is_none()
                && (USCC_SCHEMES.contains(&scheme_uc.as_str())
                    || (chinese && check == Check::Valid))
            {
                if let Some(w) = check_warning(&format!("entity `{}`", s.id), "USCC", &v, check) {
                    self.warn(w);
                }
                uscc = Some(v);
            } else {
                others.push((scheme, id));
            }
        }
        if let Some(ids) = join_identifiers(&others) {
            extra.insert("bods_identifiers".to_owned(), ids);
        }
        let jurisdiction = ["jurisdiction", "incorporatedInJurisdiction"]
            .iter()
            .filter_map(|k| d.get(*k).and_then(Value::as_object))
            .find_map(|j| str_field(j, "code"));
        if let Some(code) = jurisdiction {
            extra.insert("jurisdiction".to_owned(), code.to_owned());
        }
        let listed = d
            .get("publicListing")
            .and_then(|p| p.get("hasPublicListing"))
            .and_then(Value::as_bool);
        if listed == Some(true) {
            extra.insert("listed".to_owned(), "true".to_owned());
        }
        let established = str_field(d, "foundingDate")
            .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
        // A dissolved entity is what the contract calls cancelled (deregistered).
        let status = str_field(d, "dissolutionDate").map(|_| EntityStatus::Cancelled);
        Entity {
            entity_id: s.id.clone(),
            name: str_field(d, "name")
                .map(normalize::text)
                .filter(|n| !n.is_empty()),
            uscc,
            kind: Some(kind),
            registered_capital: None,
            established,
            status,
            extra,
        }
    }

    /// Why a reference cannot be used as a node, for a warning.
    fn missing(&self, id: &str) -> String {
        if self.closed.contains(id) {
            format!("`{id}`, a closed record")
        } else {
            format!("`{id}`, which this file does not define")
        }
    }

    fn relationships(&mut self, latest: &[Statement<'_>]) {
        for s in latest
            .iter()
            .filter(|s| s.record_type == RecordType::Relationship)
        {
            if s.closed {
                self.warn(format!(
                    "relationship `{}` is closed as of {}; not imported",
                    s.id,
                    s.date_text.unwrap_or("an undated statement")
                ));
                continue;
            }
            self.relationship(s);
        }
    }

    fn relationship(&mut self, s: &Statement<'_>) {
        let d = s.details;
        let rel = s.id.as_str();
        let entity_id = match party(d.get("subject")) {
            Party::Ref(id) => match self.node_kinds.get(id) {
                Some(RecordType::Entity) => id,
                Some(_) => {
                    return self.warn(format!(
                        "relationship `{rel}`: its subject `{id}` is a person, not an entity; not imported"
                    ));
                }
                None => {
                    let why = self.missing(id);
                    return self.warn(format!(
                        "relationship `{rel}`: its subject is {why}; not imported"
                    ));
                }
            },
            Party::Unspecified(why) => {
                return self.warn(format!(
                    "relationship `{rel}`: its subject is not specified ({why}); not imported"
                ));
            }
        };
        let (owner_id, owner_kind) = match party(d.get("interestedParty")) {
            Party::Ref(id) => match self.node_kinds.get(id) {
                Some(k) => (id, *k),
                None => {
                    let why = self.missing(id);
                    return self.warn(format!(
                        "relationship `{rel}`: the interested party in `{entity_id}` is {why}; not imported"
                    ));
                }
            },
            Party::Unspecified(why) => {
                // A declared unknown owner is a fact about the subject, not missing data: the
                // entity keeps it (the contract has no record for an unspecified party).
                let entity_id = entity_id.to_owned();
                for r in &mut self.entities {
                    if let Record::Entity(e) = r
                        && e.entity_id == entity_id
                    {
                        e.extra
                            .insert("bods_unspecified_owner".to_owned(), why.clone());
                    }
                }
                return self.warn(format!(
                    "relationship `{rel}`: the interested party in `{entity_id}` is unknown or undisclosed ({why}); not imported"
                ));
            }
        };
        let interests: Vec<&Map<String, Value>> = d
            .get("interests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        if interests.is_empty() {
            return self.warn(format!(
                "relationship `{rel}`: `{owner_id}` in `{entity_id}` states no interests; not imported"
            ));
        }
        let link = Link {
            rel,
            owner_id,
            owner_kind,
            entity_id,
        };
        for i in interests {
            self.interest(&link, i);
        }
    }

    fn interest(&mut self, link: &Link<'_>, i: &Map<String, Value>) {
        let Link {
            rel,
            owner_id,
            entity_id,
            ..
        } = *link;
        let itype = str_field(i, "type");
        let label = itype.unwrap_or("unstated");
        let what =
            format!("relationship `{rel}`: `{label}` interest of `{owner_id}` in `{entity_id}`");
        if let Some(end) = str_field(i, "endDate") {
            return self.warn(format!("{what} ended on {end}; not imported"));
        }
        // 0.4 and 0.3 say `directOrIndirect`, 0.2 `interestLevel`.
        let level = match str_field(i, "directOrIndirect").or_else(|| str_field(i, "interestLevel"))
        {
            Some("direct") => Level::Direct,
            Some("indirect") => Level::Indirect,
            _ => Level::Unknown,
        };
        let share_kind = match itype.map(interest_key).unwrap_or_default().as_str() {
            "shareholding" => ShareKind::Equity,
            "votingrights" => ShareKind::Voting,
            "seniormanagingofficial" => {
                return self.officer(link, &what, label, OfficerRole::Executive);
            }
            "boardmember" | "boardchair" => {
                return self.officer(link, &what, label, OfficerRole::Director);
            }
            _ => {
                let level = match level {
                    Level::Direct => "direct",
                    Level::Indirect => "indirect",
                    Level::Unknown => "of unstated level",
                };
                return self.warn(format!(
                    "{what} ({level}) is not a shareholding; not imported"
                ));
            }
        };
        let sh = match share(i.get("share")) {
            Ok(Some(sh)) => sh,
            Ok(None) => return self.warn(format!("{what} states no share; not imported")),
            Err(why) => return self.warn(format!("{what}: {why}; not imported")),
        };
        if level == Level::Indirect {
            self.out.indirect.push(StatedInterest {
                owner_id: owner_id.to_owned(),
                entity_id: entity_id.to_owned(),
                share_min: sh.min,
                share_max: sh.max,
                kind: share_kind,
                direct: false,
            });
            return;
        }
        let mut extra = self.extra();
        extra.insert("bods_relationship".to_owned(), rel.to_owned());
        if let Some(start) = str_field(i, "startDate") {
            extra.insert("start_date".to_owned(), start.to_owned());
        }
        if sh.min_exclusive {
            extra.insert("share_min_exclusive".to_owned(), "true".to_owned());
        }
        if sh.max_exclusive {
            extra.insert("share_max_exclusive".to_owned(), "true".to_owned());
        }
        if level == Level::Unknown {
            // Registers such as the UK PSC state the holding of the registrable party without a
            // level. It is the only link they give, so it is taken as direct and marked.
            self.unknown_level += 1;
            extra.insert("bods_direct_or_indirect".to_owned(), "unknown".to_owned());
        }
        let holding = Shareholding {
            owner_id: owner_id.to_owned(),
            entity_id: entity_id.to_owned(),
            share_min: sh.min,
            share_max: sh.max,
            kind: share_kind,
            extra,
        };
        let key = Record::Shareholding(holding.clone()).key();
        if let Some(&j) = self.shareholding_index.get(&key) {
            // Two statements of one holding: equal ones are one fact; different ones cannot both
            // be edges of the graph, so the first stays and the conflict is reported.
            let first = &self.shareholdings[j];
            if (first.share_min, first.share_max) != (sh.min, sh.max) {
                let w = format!(
                    "{what}: a second {share_kind} share of {}-{} for the same owner and entity \
                     (first {}-{}); the first is kept",
                    sh.min, sh.max, first.share_min, first.share_max
                );
                self.warn(w);
            }
            return;
        }
        self.shareholding_index
            .insert(key, self.shareholdings.len());
        self.shareholdings.push(holding);
    }

    fn officer(&mut self, link: &Link<'_>, what: &str, label: &str, role: OfficerRole) {
        if link.owner_kind != RecordType::Person {
            return self.warn(format!(
                "{what}: the holder is not a person, so it is no officer; not imported"
            ));
        }
        let mut extra = self.extra();
        extra.insert("bods_relationship".to_owned(), link.rel.to_owned());
        extra.insert("bods_interest".to_owned(), label.to_owned());
        let o = Record::Officer(Officer {
            person_id: link.owner_id.to_owned(),
            entity_id: link.entity_id.to_owned(),
            role,
            extra,
        });
        // `boardMember` and `boardChair` of one person are one directorship.
        if self.officer_keys.insert(o.key()) {
            self.officers.push(o);
        }
    }

    fn finish(mut self) -> BodsImport {
        if self.unknown_level > 0 {
            let n = self.unknown_level;
            self.warn(format!(
                "{n} share interest(s) state no direct/indirect level; imported as direct shareholdings \
                 (marked `bods_direct_or_indirect=unknown`)"
            ));
        }
        let mut records = self.persons;
        records.append(&mut self.entities);
        records.extend(self.shareholdings.into_iter().map(Record::Shareholding));
        records.append(&mut self.officers);
        self.out.records = records;
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A share as `(min, max, min_exclusive, max_exclusive)`.
    fn read(json: &str) -> Result<Option<(f64, f64, bool, bool)>, String> {
        let v: Value = serde_json::from_str(json).unwrap();
        share(Some(&v)).map(|s| s.map(|s| (s.min, s.max, s.min_exclusive, s.max_exclusive)))
    }

    #[test]
    fn share_ranges() {
        assert_eq!(
            read(r#"{"exact": 60}"#),
            Ok(Some((60.0, 60.0, false, false)))
        );
        let v04 = r#"{"minimum": 75, "exclusiveMaximum": 100}"#;
        assert_eq!(read(v04), Ok(Some((75.0, 100.0, false, true))));
        let v04 = r#"{"exclusiveMinimum": 25, "exclusiveMaximum": 50}"#;
        assert_eq!(read(v04), Ok(Some((25.0, 50.0, true, true))));
        // 0.2: the exclusive fields are flags beside the bounds.
        let v02 = r#"{"minimum": 25, "maximum": 50, "exclusiveMinimum": true, "exclusiveMaximum": false}"#;
        assert_eq!(read(v02), Ok(Some((25.0, 50.0, true, false))));
        assert_eq!(
            read(r#"{"maximum": 25}"#),
            Ok(Some((0.0, 25.0, false, false)))
        );
        assert_eq!(
            read(r#"{"minimum": 50}"#),
            Ok(Some((50.0, 100.0, false, false)))
        );
        assert_eq!(read("{}"), Ok(None));
        assert_eq!(share(None), Ok(None));
        assert_eq!(share(Some(&Value::Null)), Ok(None));
        assert!(read(r#"{"exact": 0}"#).is_err());
        assert!(read(r#"{"minimum": 60, "maximum": 50}"#).is_err());
        assert!(read(r#"{"exact": 120}"#).is_err());
        assert_eq!(
            read("42"),
            Err("share is a number, not an object".to_owned())
        );
    }

    #[test]
    fn interest_types_compare_across_versions() {
        assert_eq!(interest_key("votingRights"), interest_key("voting-rights"));
        assert_eq!(
            interest_key("seniorManagingOfficial"),
            interest_key("senior-managing-official")
        );
    }

    #[test]
    fn statement_dates_compare_across_forms() {
        let d = parse_instant("2019-09-11").unwrap();
        let t = parse_instant("2019-09-11T11:17:23Z").unwrap();
        let o = parse_instant("2019-09-11T19:17:23+08:00").unwrap();
        assert!(d < t);
        assert_eq!(t, o);
        assert_eq!(parse_instant("2019-09"), None);
    }
}
