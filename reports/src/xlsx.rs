//! The XLSX workbook: sheets Groups, Accounts and Evidence (and Changes with `--since`,
//! Breaches and Monthly from the surveillance findings), each
//! with a frozen, bold header row and filters on every column. Sheet names are fixed; the
//! headers are in the report's language.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::ReportError;
use crate::i18n::{Lang, code, label, label_of};
use crate::tables::{rfc3339_micros, strength};
use crate::view::ReportView;

/// The sheet names.
pub const SHEETS: [&str; 3] = ["Groups", "Accounts", "Evidence"];
/// The sheet of limit breaches, written when there are any.
pub const BREACHES_SHEET: &str = "Breaches";
/// The sheet of monthly statistics, written when there is a month to show.
pub const MONTHLY_SHEET: &str = "Monthly";
/// The sheet of candidate members, after the evidence.
pub const CANDIDATES_SHEET: &str = "Candidates";

fn header(
    sheet: &mut Worksheet,
    lang: Lang,
    keys: &[&str],
    widths: &[f64],
    rows: u32,
) -> Result<(), ReportError> {
    let bold = Format::new().set_bold();
    for (i, k) in keys.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, label(lang, k), &bold)?;
        sheet.set_column_width(i as u16, widths.get(i).copied().unwrap_or(14.0))?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows.max(1), keys.len() as u16 - 1)?;
    Ok(())
}

/// Writes the workbook to `path`.
pub fn write(view: &ReportView, lang: Lang, path: &Path) -> Result<(), ReportError> {
    let mut wb = Workbook::new();
    let yes_no = |b: bool| label(lang, if b { "yes" } else { "no" });

    let sheet = wb.add_worksheet().set_name(SHEETS[0])?;
    let keys = [
        "group",
        "score",
        "status",
        "size",
        "controller",
        "holder",
        "basis",
        "criteria",
        "members_spanned",
        "reported_group",
        "missing_from_report",
        "contributions",
        "wash_trades",
    ];
    header(
        sheet,
        lang,
        &keys,
        &[
            16.0, 8.0, 14.0, 8.0, 14.0, 24.0, 20.0, 18.0, 10.0, 14.0, 30.0, 40.0, 10.0,
        ],
        view.groups.len() as u32,
    )?;
    for (r, g) in view.groups.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &g.id)?;
        sheet.write_number(r, 1, (g.score as f64 * 10_000.0).round() / 10_000.0)?;
        sheet.write_string(r, 2, label_of(lang, "status_", &g.status))?;
        sheet.write_number(r, 3, g.size() as f64)?;
        if let Some(c) = &g.controller {
            sheet.write_string(r, 4, &c.id)?;
            sheet.write_string(r, 5, c.name.as_deref().unwrap_or(""))?;
        }
        sheet.write_string(r, 6, code(lang, &g.controller_basis).as_ref())?;
        sheet.write_string(r, 7, g.criteria.join(";"))?;
        sheet.write_number(r, 8, g.members_spanned as f64)?;
        sheet.write_string(r, 9, g.reported_group.as_deref().unwrap_or(""))?;
        let missing: Vec<&str> = g
            .accounts
            .iter()
            .filter(|a| a.missing_from_report)
            .map(|a| a.account_id.as_str())
            .collect();
        sheet.write_string(r, 10, missing.join(";"))?;
        let parts: Vec<String> = g
            .contributions
            .iter()
            .map(|(k, w)| format!("{} {w:.3}", label_of(lang, "sig_", k)))
            .collect();
        sheet.write_string(r, 11, parts.join("; "))?;
        sheet.write_number(r, 12, g.wash.as_ref().map_or(0, |w| w.trades) as f64)?;
    }

    let rows: u32 = view.groups.iter().map(|g| g.size() as u32).sum();
    let sheet = wb.add_worksheet().set_name(SHEETS[1])?;
    let keys = [
        "group",
        "account",
        "holder",
        "holder_name",
        "holder_kind",
        "member",
        "member_name",
        "account_type",
        "open_date",
        "account_status",
        "missing_from_report",
        "joined_by_embedding",
    ];
    header(
        sheet,
        lang,
        &keys,
        &[
            16.0, 14.0, 14.0, 24.0, 10.0, 10.0, 24.0, 12.0, 12.0, 10.0, 10.0, 10.0,
        ],
        rows,
    )?;
    let mut r = 1u32;
    for g in &view.groups {
        for a in &g.accounts {
            let o = |v: &Option<String>| v.clone().unwrap_or_default();
            sheet.write_string(r, 0, &g.id)?;
            sheet.write_string(r, 1, &a.account_id)?;
            sheet.write_string(r, 2, o(&a.holder_id))?;
            sheet.write_string(r, 3, o(&a.holder_name))?;
            sheet.write_string(r, 4, label_of(lang, "kind_", a.holder_kind.as_str()))?;
            sheet.write_string(r, 5, o(&a.member_id))?;
            sheet.write_string(r, 6, o(&a.member_name))?;
            sheet.write_string(
                r,
                7,
                a.account_type
                    .as_deref()
                    .map_or(String::new(), |t| code(lang, t).into_owned()),
            )?;
            sheet.write_string(r, 8, o(&a.open_date))?;
            sheet.write_string(
                r,
                9,
                a.status
                    .as_deref()
                    .map_or(String::new(), |t| code(lang, t).into_owned()),
            )?;
            sheet.write_string(r, 10, yes_no(a.missing_from_report))?;
            sheet.write_string(r, 11, yes_no(a.joined_by_embedding))?;
            r += 1;
        }
    }

    let rows: u32 = view
        .groups
        .iter()
        .flat_map(|g| &g.links)
        .map(|l| l.signals.len() as u32)
        .sum();
    let sheet = wb.add_worksheet().set_name(SHEETS[2])?;
    let keys = [
        "group",
        "account_a",
        "account_b",
        "link_weight",
        "criterion",
        "signal",
        "weight",
        "strength",
        "description",
    ];
    header(
        sheet,
        lang,
        &keys,
        &[16.0, 14.0, 14.0, 10.0, 8.0, 18.0, 8.0, 10.0, 90.0],
        rows,
    )?;
    let mut r = 1u32;
    for g in &view.groups {
        for l in &g.links {
            for s in &l.signals {
                sheet.write_string(r, 0, &g.id)?;
                sheet.write_string(r, 1, &l.a)?;
                sheet.write_string(r, 2, &l.b)?;
                sheet.write_number(r, 3, (l.weight as f64 * 10_000.0).round() / 10_000.0)?;
                sheet.write_string(r, 4, &s.criterion)?;
                sheet.write_string(r, 5, label_of(lang, "sig_", &s.kind))?;
                sheet.write_number(r, 6, (s.weight as f64 * 10_000.0).round() / 10_000.0)?;
                sheet.write_string(r, 7, label(lang, strength(s.weight)))?;
                sheet.write_string(
                    r,
                    8,
                    crate::evidence::describe(lang, &s.detail, &s.description),
                )?;
                r += 1;
            }
        }
    }

    let rows: u32 = view.groups.iter().map(|g| g.candidates.len() as u32).sum();
    let sheet = wb.add_worksheet().set_name(CANDIDATES_SHEET)?;
    let keys = [
        "group",
        "account",
        "membership",
        "holder",
        "holder_name",
        "linked_to",
        "signal",
    ];
    header(
        sheet,
        lang,
        &keys,
        &[16.0, 14.0, 10.0, 14.0, 24.0, 40.0, 60.0],
        rows,
    )?;
    let mut r = 1u32;
    for g in &view.groups {
        for c in &g.candidates {
            let o = |v: &Option<String>| v.clone().unwrap_or_default();
            sheet.write_string(r, 0, &g.id)?;
            sheet.write_string(r, 1, &c.account_id)?;
            sheet.write_number(r, 2, (c.score as f64 * 10_000.0).round() / 10_000.0)?;
            sheet.write_string(r, 3, o(&c.holder_id))?;
            sheet.write_string(r, 4, o(&c.holder_name))?;
            sheet.write_string(r, 5, c.linked_to.join(", "))?;
            sheet.write_string(r, 6, c.signals.join("; "))?;
            r += 1;
        }
    }

    if let Some(ch) = &view.changes {
        let sheet = wb.add_worksheet().set_name("Changes")?;
        let keys = [
            "changes",
            "group",
            "size_before",
            "size_after",
            "added",
            "removed",
        ];
        header(
            sheet,
            lang,
            &keys,
            &[24.0, 16.0, 10.0, 10.0, 40.0, 40.0],
            ch.changed.len() as u32,
        )?;
        for (r, x) in ch.changed.iter().enumerate() {
            let r = r as u32 + 1;
            sheet.write_string(r, 0, label(lang, &format!("change_{}", x.change.as_str())))?;
            sheet.write_string(r, 1, &x.group_id)?;
            sheet.write_number(r, 2, x.size_before as f64)?;
            sheet.write_number(r, 3, x.size_after as f64)?;
            sheet.write_string(r, 4, x.added.join(";"))?;
            sheet.write_string(r, 5, x.removed.join(";"))?;
        }
    }

    if view.groups.iter().any(|g| g.wash.is_some()) {
        let sheet = wb.add_worksheet().set_name("Wash trades")?;
        let keys = [
            "group",
            "trades",
            "volume",
            "first_trade",
            "last_trade",
            "example_trades",
        ];
        let n = view.groups.iter().filter(|g| g.wash.is_some()).count() as u32;
        header(sheet, lang, &keys, &[16.0, 8.0, 10.0, 22.0, 22.0, 60.0], n)?;
        for (r, w) in (1u32..).zip(view.groups.iter().filter_map(|g| g.wash.as_ref())) {
            sheet.write_string(r, 0, &w.group_id)?;
            sheet.write_number(r, 1, w.trades as f64)?;
            sheet.write_number(r, 2, w.volume as f64)?;
            sheet.write_string(r, 3, rfc3339_micros(w.first_ts))?;
            sheet.write_string(r, 4, rfc3339_micros(w.last_ts))?;
            sheet.write_string(r, 5, w.trade_ids.join(";"))?;
        }
    }
    if !view.breaches.is_empty() {
        let sheet = wb.add_worksheet().set_name(BREACHES_SHEET)?;
        let keys = [
            "group",
            "group_source",
            "breach_kind",
            "breach_scope",
            "breach_date",
            "breach_figure",
            "breach_limit",
            "only_as_group",
            "breach_parts",
        ];
        header(
            sheet,
            lang,
            &keys,
            &[16.0, 10.0, 16.0, 10.0, 12.0, 10.0, 10.0, 12.0, 60.0],
            view.breaches.len() as u32,
        )?;
        for (r, b) in (1u32..).zip(&view.breaches) {
            sheet.write_string(r, 0, &b.group_id)?;
            sheet.write_string(r, 1, label(lang, b.source.as_str()))?;
            sheet.write_string(r, 2, label_of(lang, "breach_", b.kind.as_str()))?;
            sheet.write_string(r, 3, &b.scope)?;
            sheet.write_string(r, 4, b.date.to_string())?;
            sheet.write_number(r, 5, b.figure as f64)?;
            sheet.write_number(r, 6, b.limit as f64)?;
            sheet.write_string(r, 7, yes_no(b.only_as_group))?;
            let parts: Vec<String> = b
                .parts
                .iter()
                .map(|p| format!("{}:{}", p.account, p.share))
                .collect();
            sheet.write_string(r, 8, parts.join(";"))?;
        }
    }
    let months = crate::monthly::of_view(view);
    if !months.is_empty() {
        let sheet = wb.add_worksheet().set_name(MONTHLY_SHEET)?;
        let widths = [10.0; crate::monthly::MONTHLY_LABELS.len()];
        header(
            sheet,
            lang,
            &crate::monthly::MONTHLY_LABELS,
            &widths,
            months.len() as u32,
        )?;
        for (r, m) in (1u32..).zip(&months) {
            sheet.write_string(r, 0, m.month.to_string())?;
            for (c, v) in (1u16..).zip(m.values()) {
                sheet.write_number(r, c, v as f64)?;
            }
        }
    }
    wb.save(path)?;
    Ok(())
}
