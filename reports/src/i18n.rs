//! The message catalogue: every label a report shows, in English and Simplified Chinese.
//!
//! Templates read labels as `t.key`; the template environment is strict, so a key missing here
//! fails the report (and the tests) instead of printing nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The language of a report's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The HTML `lang` attribute.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-Hans",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "en" => Ok(Lang::En),
            "zh" | "zh-CN" | "zh-Hans" => Ok(Lang::Zh),
            _ => Err(format!("unknown language `{s}` (expected en or zh)")),
        }
    }
}

/// (key, English, Simplified Chinese).
const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "title",
        "Suspected actual-control groups",
        "疑似实际控制关系账户组",
    ),
    ("analysis_of", "Analysis of", "分析时间"),
    ("generated", "Report generated", "报告生成时间"),
    ("filters", "Filters", "筛选条件"),
    ("none", "none", "无"),
    ("summary", "Summary", "概要"),
    ("groups", "Groups", "账户组"),
    ("group", "Group", "账户组"),
    ("accounts", "Accounts", "账户"),
    ("account", "Account", "账户"),
    ("accounts_in_store", "Accounts analysed", "分析账户数"),
    ("grouped_accounts", "Accounts in groups", "组内账户数"),
    ("evidence_links", "Evidence links", "证据关联数"),
    (
        "wash_groups",
        "Groups with wash trades",
        "存在自成交的账户组",
    ),
    ("score", "Score", "评分"),
    ("status", "Status", "申报状态"),
    ("size", "Size", "账户数"),
    ("controller", "Suspected controller", "疑似实际控制人"),
    ("basis", "Basis", "认定依据"),
    ("criteria", "Criteria met", "符合的认定标准"),
    (
        "contributions",
        "Score by signal family",
        "各类信号对评分的贡献",
    ),
    ("signal_family", "Signal family", "信号类别"),
    ("share_of_score", "Share of score", "贡献占比"),
    ("holder", "Holder", "持有人"),
    ("holder_name", "Holder name", "持有人名称"),
    ("holder_kind", "Holder kind", "持有人类型"),
    ("member_name", "Member name", "会员名称"),
    ("member", "Member", "会员"),
    ("account_type", "Account type", "账户类型"),
    ("open_date", "Opened", "开户日期"),
    ("account_status", "Account status", "账户状态"),
    ("missing_from_report", "Missing from report", "未申报"),
    ("membership", "Membership", "归属度"),
    ("candidates", "Candidate members", "候选成员"),
    (
        "candidates_note",
        "Accounts with evidence towards the group below the operating point, for triage; not counted in the group.",
        "与本组有关联证据但低于判定阈值的账户，供排查参考，不计入本组。",
    ),
    ("linked_to", "Linked to", "关联账户"),
    (
        "joined_by_embedding",
        "Joined by embedding",
        "经嵌入相似加入",
    ),
    ("yes", "yes", "是"),
    ("no", "no", "否"),
    ("reported_group", "Reported group", "已申报账户组"),
    ("members_spanned", "Members spanned", "涉及会员数"),
    ("chart_scores", "Score distribution", "评分分布"),
    (
        "chart_sizes",
        "Group sizes (accounts)",
        "账户组规模（账户数）",
    ),
    (
        "chart_criteria",
        "Groups meeting each criterion",
        "符合各认定标准的账户组数",
    ),
    (
        "chart_members",
        "Groups by members spanned",
        "按涉及会员数统计的账户组",
    ),
    ("count", "Count", "数量"),
    ("evidence_graph", "Evidence graph", "证据关系图"),
    ("legend", "Legend", "图例"),
    ("strong", "strong evidence", "强证据"),
    ("weak", "weak evidence", "弱证据"),
    ("node_account", "account", "账户"),
    ("node_person", "person", "自然人"),
    ("node_entity", "entity", "机构"),
    ("node_identifier", "identifier", "标识信息"),
    (
        "ownership_paths",
        "Ownership and control paths",
        "股权与控制路径",
    ),
    ("path", "Path", "路径"),
    ("target", "Holder controlled", "被控制的持有人"),
    ("shared_identifiers", "Shared identifiers", "共用标识信息"),
    ("identifier_kind", "Kind", "类型"),
    ("identifier_value", "Value", "值"),
    ("spread", "Holders sharing it", "共用持有人数"),
    (
        "order_placers",
        "Authorised persons and order placers",
        "授权人与下单人",
    ),
    ("person", "Person", "自然人"),
    ("role", "Role", "角色"),
    ("authorised_on", "Accounts authorised on", "授权账户数"),
    ("transfers", "Fund transfers and flows", "资金往来"),
    ("trading", "Trading behaviour", "交易行为"),
    ("wash_trades", "Wash trades", "自成交（对敲）"),
    ("group_source", "Source", "来源"),
    ("breaches", "Limit breaches", "限额违规"),
    (
        "breaches_note",
        "Each group as one trader: speculative positions added per side, opening per product, self-trades and cancellations counted once; groups that breach only as a group come first.",
        "按实际控制关系账户组合并计算：投机持仓分方向合并、开仓按品种合并、自成交与报撤单合并计数；仅合并后超限的账户组排在最前。",
    ),
    ("detected", "detected", "系统识别"),
    ("reported", "reported", "客户报备"),
    ("breach_kind", "Breach", "违规类型"),
    ("breach_scope", "Contract or product", "合约或品种"),
    ("breach_date", "Trading day", "交易日"),
    ("breach_figure", "Group figure", "合并数值"),
    ("breach_limit", "Limit", "限额"),
    ("only_as_group", "Only as a group", "仅合并后超限"),
    ("breach_parts", "Accounts (share)", "各账户份额"),
    (
        "breach_position_long",
        "Long position over the limit",
        "多头投机持仓超限",
    ),
    (
        "breach_position_short",
        "Short position over the limit",
        "空头投机持仓超限",
    ),
    ("breach_opening", "Opening over the limit", "日内开仓超限"),
    ("breach_self_trade", "Self-trades", "自成交"),
    ("breach_cancel", "Cancellations", "频繁报撤单"),
    ("breach_large_cancel", "Large cancellations", "大额报撤单"),
    (
        "chart_long_by_account",
        "speculative long position by account",
        "分账户多头投机持仓",
    ),
    (
        "chart_short_by_account",
        "speculative short position by account",
        "分账户空头投机持仓",
    ),
    ("chart_lots", "Lots", "手数"),
    (
        "position_charts",
        "Positions of breaching groups",
        "超限账户组持仓走势",
    ),
    (
        "position_charts_note",
        "Bars: each account's speculative lots, stacked; line: the position limit in force that day; triangles: breached days. One chart per group with a position breach, in the table's order, up to",
        "柱：各账户投机持仓（手）堆叠；线：当日适用的持仓限额；三角：超限交易日。按上表顺序为存在持仓超限的账户组各绘一图，最多",
    ),
    ("charts_word", "charts.", "幅。"),
    (
        "charts_not_drawn",
        "Groups with position breaches not drawn",
        "未绘图的持仓超限账户组数",
    ),
    ("limit_in_force", "position limit in force", "适用持仓限额"),
    ("breached_day", "breached day", "超限交易日"),
    ("monthly", "Monthly statistics", "月度统计"),
    (
        "monthly_note",
        "Breaches by the month of their trading day; groups, reporting and overdue reports in the month of the day deadlines were measured on.",
        "违规按交易日所在月份统计；账户组、申报情况与逾期未报按申报期限计算日所在月份统计。",
    ),
    ("month", "Month", "月份"),
    ("groups_detected", "Groups identified", "识别账户组数"),
    ("accounts_in_groups", "Accounts in them", "涉及账户数"),
    ("groups_reported", "Reported and confirmed", "已申报且一致"),
    ("groups_unreported", "Detected, unreported", "识别但未申报"),
    ("groups_partly_reported", "Partly reported", "部分申报"),
    ("stale_reports", "Stale reports", "失效申报"),
    ("overdue_reports", "Overdue reports", "逾期未申报"),
    ("breaches_total", "Breaches", "违规总数"),
    ("trades", "Trades", "成交笔数"),
    ("volume", "Volume (lots)", "成交量（手）"),
    ("first_trade", "First", "首笔时间"),
    ("last_trade", "Last", "末笔时间"),
    ("example_trades", "Trade ids (sample)", "成交编号（示例）"),
    ("all_evidence", "All evidence", "全部证据"),
    ("account_a", "Account A", "账户A"),
    ("account_b", "Account B", "账户B"),
    ("link_weight", "Link weight", "关联权重"),
    ("criterion", "Criterion", "标准"),
    ("signal", "Signal", "信号"),
    ("weight", "Weight", "权重"),
    ("strength", "Strength", "强度"),
    ("description", "Evidence", "证据说明"),
    (
        "changes",
        "Changes since the earlier analysis",
        "与此前分析相比的变化",
    ),
    ("since", "Compared with", "对比基准"),
    ("change_new", "New groups", "新增账户组"),
    ("change_grown", "Grown groups", "扩大的账户组"),
    ("change_shrunk", "Shrunk groups", "缩小的账户组"),
    (
        "change_reshaped",
        "Same size, other accounts",
        "规模不变但成员变化的账户组",
    ),
    ("change_dissolved", "Dissolved groups", "已解散的账户组"),
    ("change_unchanged", "Unchanged groups", "未变化的账户组"),
    ("size_before", "Size before", "原账户数"),
    ("size_after", "Size now", "现账户数"),
    ("added", "Accounts added", "新增账户"),
    ("removed", "Accounts removed", "移除账户"),
    ("contents", "Groups in this report", "本报告中的账户组"),
    (
        "no_groups",
        "No group matches the filters.",
        "没有符合筛选条件的账户组。",
    ),
    (
        "evidence_note",
        "Evidence descriptions are quoted from the analysis.",
        "证据说明引自分析结果。",
    ),
    ("status_reported", "reported", "已申报"),
    (
        "status_partially_reported",
        "partially reported",
        "部分申报",
    ),
    ("status_unreported", "unreported", "未申报"),
    ("kind_person", "person", "自然人"),
    ("kind_entity", "entity", "机构"),
    ("kind_unknown", "unknown", "未知"),
    ("sig_same_holder", "same holder", "同一持有人"),
    ("sig_control", "ownership control", "股权控制"),
    ("sig_officer", "officer", "高管任职"),
    ("sig_account_role", "account role", "账户授权角色"),
    ("sig_common_agent", "common agent", "共同代理人"),
    ("sig_spouse", "spouse", "配偶"),
    ("sig_family", "family", "亲属"),
    ("sig_arrangement", "arrangement", "协议安排"),
    ("sig_shared_identifier", "shared identifier", "共用标识信息"),
    ("sig_transfers", "fund transfers", "资金划转"),
    ("sig_fund_flow", "fund-flow pattern", "资金流转模式"),
    ("sig_sync_trading", "synchronised trading", "同步交易"),
    ("sig_matched_trading", "matched trading", "相互成交"),
    ("crit_C1", "C1 equity control", "C1 股权控制"),
    ("crit_C2", "C2 account role", "C2 账户授权角色"),
    ("crit_C3", "C3 officer", "C3 高管任职"),
    ("crit_C4", "C4 spouse", "C4 配偶关系"),
    ("crit_C5", "C5 family with influence", "C5 亲属关系"),
    ("crit_C6", "C6 arrangement", "C6 投资或协议安排"),
    ("crit_C7", "C7 common decision maker", "C7 共同决策人"),
    (
        "crit_C8",
        "C8 other (behaviour, terminals, funds)",
        "C8 其他（交易行为、终端、资金）",
    ),
    ("code_order_placer", "order placer", "下单人"),
    ("code_fund_transfer", "fund-transfer person", "资金调拨人"),
    (
        "code_settlement_confirm",
        "settlement confirmer",
        "结算单确认人",
    ),
    ("code_opening_agent", "opening agent", "开户代理人"),
    ("code_legal_rep", "legal representative", "法定代表人"),
    ("code_director", "director", "董事"),
    ("code_supervisor", "supervisor", "监事"),
    ("code_executive", "executive", "高级管理人员"),
    ("code_fund_manager", "fund manager", "基金经理"),
    ("code_spouse", "spouse", "配偶"),
    ("code_parent", "parent", "父母"),
    ("code_child", "child", "子女"),
    ("code_sibling", "sibling", "兄弟姐妹"),
    ("code_relative", "relative", "亲属"),
    ("code_employee_of", "employee", "雇员"),
    ("code_manages", "manages", "管理"),
    (
        "code_ultimate controller",
        "ultimate controller",
        "实际控制人",
    ),
    (
        "code_authorised on the accounts",
        "authorised on the accounts",
        "账户授权人",
    ),
    (
        "code_officer of the holders",
        "officer of the holders",
        "持有人的任职人员",
    ),
    (
        "code_holder of the accounts",
        "holder of the accounts",
        "账户持有人",
    ),
    (
        "code_holder of the best-connected account",
        "holder of the best-connected account",
        "关联最多账户的持有人",
    ),
    ("code_agent_of", "agent", "代理人"),
    ("code_guarantor", "guarantor", "担保人"),
    ("code_phone", "phone", "电话"),
    ("code_email", "email", "电子邮箱"),
    ("code_address", "address", "地址"),
    ("code_bank_account", "bank account", "银行账户"),
    ("code_ip", "IP address", "IP地址"),
    ("code_mac", "MAC address", "MAC地址"),
    ("code_disk_serial", "disk serial", "硬盘序列号"),
    ("code_device_name", "device name", "设备名称"),
    ("code_individual", "individual", "个人"),
    ("code_institution", "institution", "机构"),
    ("code_product", "product", "产品"),
    ("code_active", "active", "正常"),
    ("code_dormant", "dormant", "休眠"),
    ("code_closed", "closed", "已销户"),
    ("code_equity", "equity", "股权"),
    ("code_voting", "voting", "表决权"),
    ("code_general_partner", "general partner", "普通合伙人"),
    ("code_limited_partner", "limited partner", "有限合伙人"),
    ("rel_holds", "holds", "持有"),
    ("rel_controls", "controls", "控制"),
];

/// The labels of one language, as the templates see them.
pub fn messages(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    CATALOGUE
        .iter()
        .map(|(k, en, zh)| {
            (
                *k,
                match lang {
                    Lang::En => *en,
                    Lang::Zh => *zh,
                },
            )
        })
        .collect()
}

/// One label; the key itself when the catalogue lacks it (tests check that none is missing).
pub fn label(lang: Lang, key: &str) -> &str {
    CATALOGUE
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(key, |(_, en, zh)| match lang {
            Lang::En => en,
            Lang::Zh => zh,
        })
}

/// A label built from a prefix and a value (`sig_` + `control`), falling back to the value.
pub fn label_of<'a>(lang: Lang, prefix: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    let key = format!("{prefix}{value}");
    match CATALOGUE.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => std::borrow::Cow::Borrowed(match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }),
        None => std::borrow::Cow::Borrowed(value),
    }
}

/// A contract code (role, relation, identifier kind, account type or status) in words; the
/// code itself when the catalogue lacks it.
pub fn code(lang: Lang, value: &str) -> std::borrow::Cow<'_, str> {
    label_of(lang, "code_", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, en, zh) in CATALOGUE {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k} lacks a label");
        }
    }

    #[test]
    fn every_signal_kind_and_criterion_has_a_label() {
        for c in detectors::evidence::Criterion::ALL {
            let key = format!("crit_{c}");
            assert_ne!(label(Lang::Zh, &key), key);
        }
        for s in [
            "same_holder",
            "control",
            "officer",
            "account_role",
            "common_agent",
            "spouse",
            "family",
            "arrangement",
            "shared_identifier",
            "transfers",
            "fund_flow",
            "sync_trading",
            "matched_trading",
        ] {
            assert_ne!(label_of(Lang::Zh, "sig_", s), s);
        }
        use graph_core::model::{
            AccountStatus, AccountType, AuthRole, IdentifierKind, OfficerRole, RelationKind,
            ShareKind,
        };
        let codes = AuthRole::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(OfficerRole::ALL.iter().map(|c| c.as_str()))
            .chain(RelationKind::ALL.iter().map(|c| c.as_str()))
            .chain(IdentifierKind::ALL.iter().map(|c| c.as_str()))
            .chain(AccountType::ALL.iter().map(|c| c.as_str()))
            .chain(AccountStatus::ALL.iter().map(|c| c.as_str()))
            .chain(ShareKind::ALL.iter().map(|c| c.as_str()));
        for c in codes {
            assert_ne!(code(Lang::Zh, c), c, "no label for the code {c}");
        }
    }
}
