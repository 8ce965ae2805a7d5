//! Structured evidence read back from the stored signal records: ownership and control paths,
//! shared identifiers with their spread, authorised persons, relations and officers.
//!
//! The detectors store each signal as words for analysts (`detectors::results::signal_record`)
//! plus the ids it names. The parsers here read those words back into parts the report can
//! draw and tabulate; the tests run them on analysed fixtures, so a change of wording in the
//! detectors fails here instead of silently dropping evidence from reports.

use serde::Serialize;

/// One edge of an ownership or control path, as `src -[what]-> dst`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// The edge in words: `direct 60.00%`, `limited 20.00-30.00%`, `general_partner`, `spouse`.
    pub what: String,
    /// The percentage (or range) when the edge is a shareholding: `60.00%`.
    pub share: Option<String>,
}

/// A control signal's controller, basis and paths (one per holder it reaches).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlEvidence {
    pub controller: String,
    pub basis: String,
    pub paths: Vec<Vec<Hop>>,
}

fn parse_hop(text: &str) -> Option<Hop> {
    let (from, rest) = text.split_once(" -[")?;
    let (what, to) = rest.rsplit_once("]-> ")?;
    let share = what
        .rsplit(' ')
        .next()
        .filter(|w| w.ends_with('%'))
        .map(str::to_owned);
    Some(Hop {
        from: from.to_owned(),
        to: to.to_owned(),
        what: what.to_owned(),
        share,
    })
}

/// Reads `{controller} controls both holders ({basis}): {path}; {path}` where a path is
/// `a -[what]-> b, b -[what]-> c`. `None` when the words do not have that form.
pub fn parse_control(description: &str) -> Option<ControlEvidence> {
    let (controller, rest) = description.split_once(" controls both holders (")?;
    let (basis, paths) = match rest.split_once("): ") {
        Some((b, p)) => (b, p),
        None => (rest.strip_suffix("):")?, ""),
    };
    let mut out = Vec::new();
    for path in paths.split("; ").filter(|p| !p.is_empty()) {
        let hops = path
            .split(", ")
            .map(parse_hop)
            .collect::<Option<Vec<_>>>()?;
        out.push(hops);
    }
    Some(ControlEvidence {
        controller: controller.to_owned(),
        basis: basis.to_owned(),
        paths: out,
    })
}

/// Reads `shared {kind} `{value}` (used by {spread} holder(s))`: (kind, value, spread).
pub fn parse_identifier(description: &str) -> Option<(String, String, u32)> {
    let rest = description.strip_prefix("shared ")?;
    let (kind, rest) = rest.split_once(" `")?;
    let (value, rest) = rest.rsplit_once("` (used by ")?;
    let spread = rest.split_once(' ')?.0.parse().ok()?;
    Some((kind.to_owned(), value.to_owned(), spread))
}

/// Reads `{person} acts as {role} (authorised on {spread} account(s))`: (person, role, spread).
pub fn parse_authorised(description: &str) -> Option<(String, String, u32)> {
    let (person, rest) = description.split_once(" acts as ")?;
    let (role, rest) = rest.split_once(" (authorised on ")?;
    let spread = rest.split_once(' ')?.0.parse().ok()?;
    Some((person.to_owned(), role.to_owned(), spread))
}

/// Reads `{a} is {what} of {b}` and `{a} is {what} of both holders (and of {b})` (relations
/// and officers): (a, what, b).
pub fn parse_is_of(description: &str) -> Option<(String, String, String)> {
    let (a, rest) = description.split_once(" is ")?;
    if let Some((what, rest)) = rest.split_once(" of both holders (and of ") {
        let b = rest.strip_suffix(')')?;
        return Some((a.to_owned(), what.to_owned(), b.to_owned()));
    }
    let (what, b) = rest.split_once(" of ")?;
    Some((a.to_owned(), what.to_owned(), b.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_paths_with_shares_and_roles() {
        let c = parse_control(
            "P01 controls both holders (majority): P01 -[direct 60.00%]-> E01, E01 -[direct 51.00%]-> E02; P01 -[limited 20.00-30.00%]-> E03",
        )
        .unwrap();
        assert_eq!(c.controller, "P01");
        assert_eq!(c.basis, "majority");
        assert_eq!(c.paths.len(), 2);
        assert_eq!(c.paths[0][1].from, "E01");
        assert_eq!(c.paths[0][1].to, "E02");
        assert_eq!(c.paths[0][1].share.as_deref(), Some("51.00%"));
        assert_eq!(c.paths[1][0].share.as_deref(), Some("20.00-30.00%"));
        let gp = parse_control(
            "P02 controls both holders (general partner): P02 -[general_partner]-> E05",
        )
        .unwrap();
        assert_eq!(gp.paths[0][0].share, None);
        let own = parse_control("P03 controls both holders (holder): ").unwrap();
        assert!(own.paths.is_empty());
        assert!(parse_control("both accounts are held by P1").is_none());
    }

    #[test]
    fn identifiers_authorisations_and_relations() {
        assert_eq!(
            parse_identifier("shared phone `+8613800000000` (used by 3 holder(s))"),
            Some(("phone".into(), "+8613800000000".into(), 3))
        );
        assert_eq!(
            parse_authorised("P07 acts as order_placer (authorised on 4 account(s))"),
            Some(("P07".into(), "order_placer".into(), 4))
        );
        assert_eq!(
            parse_is_of("P01 is spouse of P02"),
            Some(("P01".into(), "spouse".into(), "P02".into()))
        );
        assert_eq!(
            parse_is_of("P09 is legal_representative of both holders (and of E04)"),
            Some(("P09".into(), "legal_representative".into(), "E04".into()))
        );
    }
}
