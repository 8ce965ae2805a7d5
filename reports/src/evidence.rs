//! Structured evidence read back from the stored signal records: ownership and control paths,
//! shared identifiers with their spread, authorised persons, relations and officers.
//!
//! The detectors store each signal as words for analysts (`detectors::results::signal_record`)
//! plus the ids it names. The parsers here read those words back into parts the report can
//! draw and tabulate; the tests run them on analysed fixtures, so a change of wording in the
//! detectors fails here instead of silently dropping evidence from reports.

use std::borrow::Cow;

use serde::Serialize;

use crate::i18n::{Lang, code};

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

/// The numbers of a description, in order (`12`, `3.50`, `-7`), skipping those inside ids.
fn numbers(description: &str) -> Vec<&str> {
    description
        .split(|c: char| c.is_whitespace() || "(),;=".contains(c))
        .filter(|w| !w.is_empty() && w.parse::<f64>().is_ok())
        .collect()
}

fn hop_words(lang: Lang, what: &str) -> String {
    match what.split_once(' ') {
        Some((kind, share)) => format!("{} {share}", code(lang, kind)),
        None => code(lang, what).into_owned(),
    }
}

/// A signal's description in the report's language. English descriptions are the stored
/// ones; Chinese ones are rebuilt from the parts the stored words give, falling back to the
/// stored words when they do not read.
pub fn describe<'a>(lang: Lang, kind: &str, description: &'a str) -> Cow<'a, str> {
    if lang == Lang::En {
        return Cow::Borrowed(description);
    }
    let zh = match kind {
        "same_holder" => description
            .strip_prefix("both accounts are held by ")
            .map(|h| format!("两个账户均由 {h} 持有")),
        "control" => parse_control(description).map(|c| {
            let paths = c
                .paths
                .iter()
                .map(|p| {
                    let mut s = p.first().map(|h| h.from.clone()).unwrap_or_default();
                    for h in p {
                        s.push_str(&format!(" →[{}]→ {}", hop_words(lang, &h.what), h.to));
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join("；");
            format!("{} 控制两个持有人（{}）：{paths}", c.controller, c.basis)
        }),
        "shared_identifier" => parse_identifier(description)
            .map(|(k, v, n)| format!("共用{} `{v}`（{n} 个持有人使用）", code(lang, &k))),
        "account_role" | "common_agent" => parse_authorised(description)
            .map(|(p, role, n)| format!("{p} 担任{}（获授权账户 {n} 个）", code(lang, &role))),
        "officer" => parse_is_of(description).map(|(p, role, e)| {
            if description.contains(" of both holders ") {
                format!("{p} 在两个持有人（及 {e}）担任{}", code(lang, &role))
            } else {
                format!("{p} 担任 {e} 的{}", code(lang, &role))
            }
        }),
        "spouse" | "family" | "arrangement" => {
            parse_is_of(description).map(|(a, k, b)| format!("{a} 是 {b} 的{}", code(lang, &k)))
        }
        "transfers" => match numbers(description).as_slice() {
            [count, total] => Some(format!("资金划转 {count} 笔，合计 {total} 元")),
            _ => None,
        },
        "fund_flow" => match (
            numbers(description).as_slice(),
            description.rsplit_once('('),
        ) {
            ([transfers, amount, accounts], Some((_, shape))) => Some(format!(
                "{accounts} 个账户之间 {transfers} 笔金额均为 {amount} 元的划转（{}）",
                shape.trim_end_matches(')')
            )),
            _ => None,
        },
        "sync_trading" => match numbers(description).as_slice() {
            [windows, expected, p] => Some(format!(
                "同步交易时间窗 {windows} 个（随机预期 {expected} 个，-log10 p = {p}）"
            )),
            _ => None,
        },
        "matched_trading" => match numbers(description).as_slice() {
            [trades, volume, round_trips, expected, p] => Some(format!(
                "相互成交 {trades} 笔（{volume} 手，往返 {round_trips} 次；随机预期 {expected}，-log10 p = {p}）"
            )),
            _ => None,
        },
        _ => None,
    };
    zh.map_or(Cow::Borrowed(description), Cow::Owned)
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
    fn chinese_descriptions_keep_every_figure() {
        let d = |k, t| describe(Lang::Zh, k, t).into_owned();
        assert_eq!(
            d("transfers", "3 fund transfer(s) totalling 1500000.00 CNY"),
            "资金划转 3 笔，合计 1500000.00 元"
        );
        assert_eq!(
            d(
                "matched_trading",
                "12 trades with each other (340 lots, 5 round trips; expected 0.03, -log10 p = 17.2)"
            ),
            "相互成交 12 笔（340 手，往返 5 次；随机预期 0.03，-log10 p = 17.2）"
        );
        assert_eq!(
            d(
                "sync_trading",
                "9 synchronised trading windows (expected 0.40 by chance, -log10 p = 8.1)"
            ),
            "同步交易时间窗 9 个（随机预期 0.40 个，-log10 p = 8.1）"
        );
        assert_eq!(
            d(
                "fund_flow",
                "4 transfers of exactly 200000.00 CNY among 4 accounts (Cycle)"
            ),
            "4 个账户之间 4 笔金额均为 200000.00 元的划转（Cycle）"
        );
        assert_eq!(
            d(
                "shared_identifier",
                "shared phone `+8613800000000` (used by 2 holder(s))"
            ),
            "共用电话 `+8613800000000`（2 个持有人使用）"
        );
        assert_eq!(
            d(
                "control",
                "P01 controls both holders (majority): P01 -[equity 60.00%]-> E01"
            ),
            "P01 控制两个持有人（majority）：P01 →[股权 60.00%]→ E01"
        );
        // Words that do not read stay as stored; English stays as stored.
        assert_eq!(d("transfers", "something else"), "something else");
        assert_eq!(describe(Lang::En, "transfers", "x 1 2"), "x 1 2");
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
