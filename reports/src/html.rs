//! The HTML report: one self-contained file (inline CSS, inline SVG charts and drawings, no
//! script, no URL) that prints one group per page. Rendered with minijinja templates in strict
//! mode, streamed group by group; the groups' sections are rendered in parallel batches.

use std::path::Path;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::ReportError;
use crate::changes::ChangeKind;
use crate::charts::summary_charts;
use crate::drawing::render_svg;
use crate::i18n::{Lang, label_of, messages};
use crate::tables::rfc3339_micros;
use crate::view::{GroupView, HopView, ReportView, STRONG_WEIGHT};

const CSS: &str = include_str!("../templates/report.css");

/// What `desc` reads of a signal or of a pair's evidence.
#[derive(serde::Deserialize)]
struct Described {
    description: String,
    detail: detectors::results::SignalDetail,
}

fn environment(lang: Lang) -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("head.html", include_str!("../templates/head.html"))?;
    env.add_template("group.html", include_str!("../templates/group.html"))?;
    env.add_template("foot.html", include_str!("../templates/foot.html"))?;
    env.add_function("tr", move |prefix: String, value: String| -> String {
        label_of(lang, &prefix, &value).into_owned()
    });
    // A signal (or a pair's evidence) described in the report's language.
    env.add_function(
        "desc",
        move |s: Value| -> Result<String, minijinja::Error> {
            let s = <Described as serde::Deserialize>::deserialize(s)?;
            Ok(crate::evidence::describe(lang, &s.detail, &s.description).into_owned())
        },
    );
    env.add_function("code", move |value: Option<String>| -> String {
        value.map_or_else(String::new, |v| crate::i18n::code(lang, &v).into_owned())
    });
    env.add_global("t", Value::from(Serde(messages(lang))));
    Ok(env)
}

#[derive(Serialize)]
struct ContentsRow<'a> {
    id: &'a str,
    score: String,
    size: usize,
    status: &'a str,
    controller: String,
    criteria: String,
}

/// A row of the breaches section.
#[derive(Serialize)]
struct BreachRow<'a> {
    group_id: &'a str,
    /// The group has a section of its own to link to.
    linked: bool,
    source: &'a str,
    kind: &'a str,
    scope: &'a str,
    date: String,
    figure: u64,
    limit: u64,
    only_as_group: bool,
    only: &'static str,
    parts: String,
}

/// A row of the monthly statistics table: one measure over the months.
#[derive(Serialize)]
struct MonthlyRow {
    /// The measure's catalogue key.
    key: &'static str,
    values: Vec<u64>,
}

#[derive(Serialize)]
struct Contribution {
    label: String,
    value: String,
    width: u32,
}

#[derive(Serialize)]
struct PathRow<'a> {
    controller: String,
    basis: &'a str,
    target: String,
    hops: &'a [HopView],
}

fn named(g: &GroupView, id: &str) -> String {
    match g.subjects.get(id).and_then(|s| s.name.as_deref()) {
        Some(n) => format!("{id} {n}"),
        None => id.to_owned(),
    }
}

/// One group's section.
fn group_section(env: &Environment<'_>, g: &GroupView, lang: Lang) -> Result<String, ReportError> {
    let contributions: Vec<Contribution> = g
        .contributions
        .iter()
        .map(|(k, w)| Contribution {
            label: label_of(lang, "sig_", k).into_owned(),
            value: format!("{w:.3}"),
            width: (w.clamp(0.0, 1.0) * 200.0).round() as u32,
        })
        .collect();
    let paths: Vec<PathRow<'_>> = g
        .ownership_paths
        .iter()
        .map(|p| PathRow {
            controller: named(g, &p.controller),
            basis: if lang == Lang::Zh && !p.basis_zh.is_empty() {
                &p.basis_zh
            } else {
                &p.basis
            },
            target: named(g, &p.target),
            hops: &p.hops,
        })
        .collect();
    let (wash_first, wash_last, wash_sample) = match &g.wash {
        Some(w) => (
            rfc3339_micros(w.first_ts),
            rfc3339_micros(w.last_ts),
            w.trade_ids
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => Default::default(),
    };
    let tmpl = env.get_template("group.html")?;
    Ok(tmpl.render(context! {
        g => Serde(g),
        score => format!("{:.4}", g.score),
        svg => render_svg(g, lang),
        contributions => Serde(contributions),
        paths => Serde(paths),
        wash_first => wash_first,
        wash_last => wash_last,
        wash_sample => wash_sample,
        strong_weight => STRONG_WEIGHT,
    })?)
}

/// Renders the whole report into `w`.
pub fn render(
    view: &ReportView,
    lang: Lang,
    w: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    let env = environment(lang)?;
    let io = |e: std::io::Error| ReportError::Io {
        path: "report.html".into(),
        source: e,
    };
    let contents: Vec<ContentsRow<'_>> = view
        .groups
        .iter()
        .map(|g| ContentsRow {
            id: &g.id,
            score: format!("{:.3}", g.score),
            size: g.size(),
            status: &g.status,
            controller: g
                .controller
                .as_ref()
                .map(|c| named(g, &c.id))
                .unwrap_or_default(),
            criteria: g.criteria.join(" "),
        })
        .collect();
    let change_counts: std::collections::BTreeMap<&str, usize> = [
        ChangeKind::New,
        ChangeKind::Grown,
        ChangeKind::Shrunk,
        ChangeKind::Reshaped,
        ChangeKind::Dissolved,
    ]
    .into_iter()
    .map(|k| (k.as_str(), view.changes.as_ref().map_or(0, |c| c.count(k))))
    .collect();
    let listed: std::collections::HashSet<&str> =
        view.groups.iter().map(|g| g.id.as_str()).collect();
    let breaches: Vec<BreachRow<'_>> = view
        .breaches
        .iter()
        .map(|b| BreachRow {
            group_id: &b.group_id,
            linked: listed.contains(b.group_id.as_str()),
            source: b.source.as_str(),
            kind: b.kind.as_str(),
            scope: &b.scope,
            date: b.date.to_string(),
            figure: b.figure,
            limit: b.limit,
            only_as_group: b.only_as_group,
            only: if b.only_as_group { "yes" } else { "no" },
            parts: b
                .parts
                .iter()
                .map(|p| format!("{} {}", p.account, p.share))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let position_charts: Vec<crate::breach_charts::DrawnChart> = view
        .breach_charts
        .charts
        .par_iter()
        .map(|c| crate::breach_charts::draw(c, lang))
        .collect();
    // Months as columns and one row per measure, as exchanges publish them.
    let months = crate::monthly::of_view(view);
    let monthly: Vec<MonthlyRow> = crate::monthly::MONTHLY_LABELS[1..]
        .iter()
        .enumerate()
        .map(|(i, key)| MonthlyRow {
            key,
            values: months.iter().map(|m| m.values()[i]).collect(),
        })
        .collect();
    let month_names: Vec<String> = months.iter().map(|m| m.month.to_string()).collect();
    let head = env.get_template("head.html")?.render(context! {
        breaches => Serde(breaches),
        position_charts => Serde(position_charts),
        charts_not_drawn => view.breach_charts.not_drawn,
        charts_cap => view.breach_charts.cap,
        monthly => Serde(monthly),
        months => Serde(month_names),
        html_lang => lang.html_tag(),
        css => CSS,
        analysis_created_at => &view.analysis_created_at,
        filters => view.filters.describe(),
        summary => Serde(&view.summary),
        charts => Serde(summary_charts(view, lang)),
        changes => Serde(&view.changes),
        change_counts => Serde(change_counts),
        contents => Serde(contents),
    })?;
    w.write_all(head.as_bytes()).map_err(io)?;
    // Parallel batches keep memory bounded while both cores render.
    for batch in view.groups.chunks(256) {
        let sections = batch
            .par_iter()
            .map(|g| group_section(&env, g, lang))
            .collect::<Result<Vec<_>, _>>()?;
        for s in sections {
            w.write_all(s.as_bytes()).map_err(io)?;
        }
    }
    let foot = env.get_template("foot.html")?.render(context! {})?;
    w.write_all(foot.as_bytes()).map_err(io)?;
    Ok(())
}

/// Writes the report to `path` (atomically: a failed run leaves no half file).
pub fn write(view: &ReportView, lang: Lang, path: &Path) -> Result<(), ReportError> {
    let mut failure = None;
    ingest::store::write_atomically(path, |w| {
        if let Err(e) = render(view, lang, w) {
            failure = Some(e);
            return Err(std::io::Error::other("rendering failed"));
        }
        w.flush()
    })
    .map_err(|e| failure.take().unwrap_or_else(|| ReportError::from(e)))
}
