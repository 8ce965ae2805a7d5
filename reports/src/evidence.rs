//! Structured evidence from the stored signal records: ownership and control paths, shared
//! identifiers with their spread, authorised persons, relations and officers, read from each
//! signal's `detail` (the parts the detectors stored beside the English words), and each signal
//! described in the report's language.

use std::borrow::Cow;

use detectors::results::{HolderClaim, SignalDetail, SignalRecord};
use serde::Serialize;

use crate::i18n::{Lang, code};

/// One edge of an ownership or control path, as `from -[what]-> to`.
pub use detectors::results::PathHop as Hop;

/// A control signal's controller, basis, paths (one per counted holding) and, per controlled
/// holder, the claim its holdings add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlEvidence {
    pub controller: String,
    pub basis: String,
    pub paths: Vec<Vec<Hop>>,
    pub claims: Vec<HolderClaim>,
}

/// The controller, basis and paths of a control signal.
pub fn control(s: &SignalRecord) -> Option<ControlEvidence> {
    match &s.detail {
        SignalDetail::Control {
            controller,
            basis,
            claims,
            ..
        } => Some(ControlEvidence {
            controller: controller.clone(),
            basis: basis.clone(),
            paths: s
                .detail
                .control_paths()
                .into_iter()
                .map(<[Hop]>::to_vec)
                .collect(),
            claims: claims.clone(),
        }),
        _ => None,
    }
}

/// The (kind, value, spread) of a shared-identifier signal.
pub fn identifier(s: &SignalRecord) -> Option<(String, String, u32)> {
    match &s.detail {
        SignalDetail::Identifier {
            kind,
            value,
            spread,
        } => Some((kind.clone(), value.clone(), *spread)),
        _ => None,
    }
}

/// The (person, role, spread) of an authorised-person signal.
pub fn authorised(s: &SignalRecord) -> Option<(String, String, u32)> {
    match &s.detail {
        SignalDetail::Authorised {
            person,
            role,
            spread,
        } => Some((person.clone(), role.clone(), *spread)),
        _ => None,
    }
}

/// The (a, what, b) of `a is what of b`: relations, and officers (b: the entity).
pub fn is_of(s: &SignalRecord) -> Option<(String, String, String)> {
    match &s.detail {
        SignalDetail::Relation { from, to, kind } => Some((from.clone(), kind.clone(), to.clone())),
        SignalDetail::Officer {
            person,
            entity,
            role,
            ..
        } => Some((person.clone(), role.clone(), entity.clone())),
        _ => None,
    }
}

fn hop_words(lang: Lang, what: &str) -> String {
    match what.split_once(' ') {
        Some((kind, share)) => format!("{} {share}", code(lang, kind)),
        None => code(lang, what).into_owned(),
    }
}

fn path_words(lang: Lang, p: &[Hop]) -> String {
    let mut s = p.first().map(|h| h.from.clone()).unwrap_or_default();
    for h in p {
        s.push_str(&format!(" →[{}]→ {}", hop_words(lang, &h.what), h.to));
    }
    s
}

/// One holder's control claim in Chinese, every stake and the sum kept.
fn claim_words(lang: Lang, controller: &str, c: &HolderClaim) -> String {
    let paths = c
        .stakes
        .iter()
        .map(|s| path_words(lang, &s.path))
        .collect::<Vec<_>>()
        .join("；");
    match (c.basis.as_str(), c.share) {
        ("majority_control", Some(sum)) => {
            let parts = c
                .stakes
                .iter()
                .map(|s| {
                    let share = s.share.map_or_else(String::new, |x| format!(" {x:.2}%"));
                    if s.source == controller {
                        format!("直接持有{share}")
                    } else {
                        format!("经 {} 持有{share}", s.source)
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ");
            format!("{}（多数控制 {sum:.1}% = {parts}：{paths}）", c.holder)
        }
        ("general_partner", _) => format!("{}（普通合伙人：{paths}）", c.holder),
        _ => format!("{}（产品管理人：{paths}）", c.holder),
    }
}

/// A signal's description in the report's language: the stored English words, or the same
/// parts in Chinese.
pub fn describe<'a>(lang: Lang, detail: &SignalDetail, english: &'a str) -> Cow<'a, str> {
    if lang == Lang::En {
        return Cow::Borrowed(english);
    }
    Cow::Owned(match detail {
        SignalDetail::SameHolder { holder } => format!("两个账户均由 {holder} 持有"),
        SignalDetail::Control {
            controller, claims, ..
        } if !claims.is_empty() => {
            let parts = claims
                .iter()
                .map(|c| claim_words(lang, controller, c))
                .collect::<Vec<_>>()
                .join("；并控制 ");
            let own = if claims.len() < 2 {
                "，另一账户由其本人持有"
            } else {
                ""
            };
            format!("{controller} 控制 {parts}{own}")
        }
        SignalDetail::Control {
            controller,
            basis,
            paths,
            ..
        } => {
            let paths = paths
                .iter()
                .map(|p| path_words(lang, p))
                .collect::<Vec<_>>()
                .join("；");
            format!("{controller} 控制两个持有人（{basis}）：{paths}")
        }
        SignalDetail::Identifier {
            kind,
            value,
            spread,
        } => format!(
            "共用{} `{value}`（{spread} 个持有人使用）",
            code(lang, kind)
        ),
        SignalDetail::Authorised {
            person,
            role,
            spread,
        } => format!(
            "{person} 担任{}（获授权账户 {spread} 个）",
            code(lang, role)
        ),
        SignalDetail::Officer {
            person,
            entity,
            role,
            shared: true,
        } => format!(
            "{person} 在两个持有人（及 {entity}）担任{}",
            code(lang, role)
        ),
        SignalDetail::Officer {
            person,
            entity,
            role,
            shared: false,
        } => format!("{person} 担任 {entity} 的{}", code(lang, role)),
        SignalDetail::Relation { from, to, kind } => {
            format!("{from} 是 {to} 的{}", code(lang, kind))
        }
        SignalDetail::Transfers { count, total } => {
            format!("资金划转 {count} 笔，合计 {total:.2} 元")
        }
        SignalDetail::GroupFlow {
            members,
            counterparties,
            transfers,
            total,
        } => format!(
            "与本组 {members} 个账户资金划转 {transfers} 笔，合计 {total:.2} 元\
             （其 {counterparties} 个对手账户中的 {members} 个）"
        ),
        SignalDetail::Flow {
            transfers,
            amount,
            accounts,
            shape,
        } => {
            let shape = match shape.as_str() {
                "Cycle" => "环形",
                "Chain" => "链式",
                "FanIn" => "汇入一户",
                other => other,
            };
            format!("{accounts} 个账户之间 {transfers} 笔金额均为 {amount:.2} 元的划转（{shape}）")
        }
        SignalDetail::Sync {
            windows,
            expected,
            significance,
        } => format!(
            "同步交易时间窗 {windows} 个（随机预期 {expected:.2} 个，-log10 p = {significance:.1}）"
        ),
        SignalDetail::GroupBurst {
            joined,
            with_member,
            bursts,
            expected,
            significance,
        } => format!(
            "参与本组 {bursts} 次集中同向交易（多个账户数秒内同一合约同一方向）中的 {joined} 次，\
             其中 {with_member} 次与该账户同时（随机预期 {expected:.2} 次，-log10 p = {significance:.1}）"
        ),
        SignalDetail::Matched {
            trades,
            volume,
            round_trips,
            expected,
            significance,
        } => format!(
            "相互成交 {trades} 笔（{volume} 手，往返 {round_trips} 次；随机预期 {expected:.2}，-log10 p = {significance:.1}）"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(detail: SignalDetail) -> SignalRecord {
        SignalRecord {
            kind: String::new(),
            criterion: "C1".into(),
            weight: 1.0,
            description: detail.english(),
            subjects: Vec::new(),
            detail,
        }
    }

    fn hop(from: &str, what: &str, to: &str) -> Hop {
        Hop {
            from: from.into(),
            to: to.into(),
            what: what.into(),
            share: what
                .rsplit(' ')
                .next()
                .filter(|w| w.ends_with('%'))
                .map(str::to_owned),
        }
    }

    #[test]
    fn control_paths_with_shares_and_roles() {
        let s = signal(SignalDetail::Control {
            controller: "P01".into(),
            basis: "majority".into(),
            paths: vec![
                vec![
                    hop("P01", "direct 60.00%", "E01"),
                    hop("E01", "direct 51.00%", "E02"),
                ],
                vec![hop("P01", "limited 20.00-30.00%", "E03")],
            ],
            claims: vec![],
        });
        assert_eq!(
            s.description,
            "P01 controls both holders (majority): P01 -[direct 60.00%]-> E01, E01 -[direct 51.00%]-> E02; P01 -[limited 20.00-30.00%]-> E03"
        );
        let c = control(&s).unwrap();
        assert_eq!(
            (c.controller.as_str(), c.basis.as_str()),
            ("P01", "majority")
        );
        assert_eq!(c.paths[0][1].share.as_deref(), Some("51.00%"));
        assert!(
            control(&signal(SignalDetail::SameHolder {
                holder: "P1".into()
            }))
            .is_none()
        );
    }

    #[test]
    fn chinese_descriptions_keep_every_figure() {
        let d = |detail: SignalDetail| {
            let english = detail.english();
            describe(Lang::Zh, &detail, &english).into_owned()
        };
        assert_eq!(
            d(SignalDetail::Transfers {
                count: 3,
                total: 1_500_000.0
            }),
            "资金划转 3 笔，合计 1500000.00 元"
        );
        assert_eq!(
            d(SignalDetail::GroupFlow {
                members: 3,
                counterparties: 4,
                transfers: 5,
                total: 250_000.0
            }),
            "与本组 3 个账户资金划转 5 笔，合计 250000.00 元（其 4 个对手账户中的 3 个）"
        );
        assert_eq!(
            d(SignalDetail::Matched {
                trades: 12,
                volume: 340,
                round_trips: 5,
                expected: 0.03,
                significance: 17.2
            }),
            "相互成交 12 笔（340 手，往返 5 次；随机预期 0.03，-log10 p = 17.2）"
        );
        assert_eq!(
            d(SignalDetail::GroupBurst {
                joined: 4,
                with_member: 3,
                bursts: 45,
                expected: 0.03,
                significance: 7.6
            }),
            "参与本组 45 次集中同向交易（多个账户数秒内同一合约同一方向）中的 4 次，\
             其中 3 次与该账户同时（随机预期 0.03 次，-log10 p = 7.6）"
        );
        assert_eq!(
            d(SignalDetail::Sync {
                windows: 9,
                expected: 0.4,
                significance: 8.1
            }),
            "同步交易时间窗 9 个（随机预期 0.40 个，-log10 p = 8.1）"
        );
        assert_eq!(
            d(SignalDetail::Flow {
                transfers: 4,
                amount: 200_000.0,
                accounts: 4,
                shape: "Cycle".into()
            }),
            "4 个账户之间 4 笔金额均为 200000.00 元的划转（环形）"
        );
        assert_eq!(
            d(SignalDetail::Identifier {
                kind: "phone".into(),
                value: "+8613800000000".into(),
                spread: 2
            }),
            "共用电话 `+8613800000000`（2 个持有人使用）"
        );
        assert_eq!(
            d(SignalDetail::Control {
                controller: "P01".into(),
                basis: "majority".into(),
                paths: vec![vec![hop("P01", "equity 60.00%", "E01")]],
                claims: vec![],
            }),
            "P01 控制两个持有人（majority）：P01 →[股权 60.00%]→ E01"
        );
        let english = "3 fund transfer(s) totalling 1.00 CNY";
        let t = SignalDetail::Transfers {
            count: 3,
            total: 1.0,
        };
        assert_eq!(
            describe(Lang::En, &t, english),
            english,
            "English stays as stored"
        );
    }

    #[test]
    fn identifiers_authorisations_and_relations() {
        let id = signal(SignalDetail::Identifier {
            kind: "phone".into(),
            value: "+8613800000000".into(),
            spread: 3,
        });
        assert_eq!(
            identifier(&id),
            Some(("phone".into(), "+8613800000000".into(), 3))
        );
        let auth = signal(SignalDetail::Authorised {
            person: "P07".into(),
            role: "order_placer".into(),
            spread: 4,
        });
        assert_eq!(
            authorised(&auth),
            Some(("P07".into(), "order_placer".into(), 4))
        );
        let rel = signal(SignalDetail::Relation {
            from: "P01".into(),
            to: "P02".into(),
            kind: "spouse".into(),
        });
        assert_eq!(
            is_of(&rel),
            Some(("P01".into(), "spouse".into(), "P02".into()))
        );
        let officer = signal(SignalDetail::Officer {
            person: "P09".into(),
            entity: "E04".into(),
            role: "legal_representative".into(),
            shared: true,
        });
        assert_eq!(
            officer.description,
            "P09 is legal_representative of both holders (and of E04)"
        );
        assert_eq!(
            is_of(&officer),
            Some(("P09".into(), "legal_representative".into(), "E04".into()))
        );
    }
}
