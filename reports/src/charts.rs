//! The summary charts, drawn with plotters' SVG backend: score distribution, group sizes,
//! criteria frequency and how many members a group's accounts spread across.

use std::collections::BTreeMap;

use plotters::prelude::*;

use crate::i18n::{Lang, label};
use crate::view::ReportView;

/// A drawn chart: its title and inline SVG.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Chart {
    pub title: String,
    pub svg: String,
}

/// Bars over labelled categories, as an SVG element.
fn bar_chart(x_desc: &str, y_desc: &str, labels: &[String], values: &[u64]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (420, 260)).into_drawing_area();
        let max = values.iter().copied().max().unwrap_or(0).max(1);
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let n = labels.len().max(1) as u32;
            let mut chart = ChartBuilder::on(&root)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d((0u32..n).into_segmented(), 0u64..max + max / 10 + 1)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_labels(labels.len())
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                        labels.get(*i as usize).cloned().unwrap_or_default()
                    }
                    SegmentValue::Last => String::new(),
                })
                .draw()?;
            chart.draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(0x2b, 0x6c, 0xb0).filled())
                    .margin(4)
                    .data(values.iter().enumerate().map(|(i, v)| (i as u32, *v))),
            )?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!("a chart could not be drawn: {e}");
        }
    }
    // plotters writes a full SVG document; drop the XML declaration if any, keep the element.
    // Inline SVG in HTML needs no namespace; leaving it out keeps the file free of URLs.
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => &svg,
    };
    svg.replace(r#" xmlns="http://www.w3.org/2000/svg""#, "")
}

/// The four summary charts of a report.
pub fn summary_charts(view: &ReportView, lang: Lang) -> Vec<Chart> {
    let t = |k| label(lang, k).to_owned();
    let count = t("count");

    // Scores in tenths.
    let mut scores = [0u64; 10];
    for g in &view.groups {
        let bin = ((g.score.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        scores[bin] += 1;
    }
    let score_labels: Vec<String> = (0..10).map(|i| format!("{:.1}", i as f64 / 10.0)).collect();

    // Sizes 2..=11 and 12+.
    let mut sizes: BTreeMap<usize, u64> = BTreeMap::new();
    for g in &view.groups {
        *sizes.entry(g.size().min(12)).or_default() += 1;
    }
    let lo = sizes.keys().next().copied().unwrap_or(2).min(2);
    let size_keys: Vec<usize> = (lo..=sizes.keys().last().copied().unwrap_or(2)).collect();
    let size_labels: Vec<String> = size_keys
        .iter()
        .map(|s| {
            if *s == 12 {
                "12+".into()
            } else {
                s.to_string()
            }
        })
        .collect();
    let size_values: Vec<u64> = size_keys
        .iter()
        .map(|s| sizes.get(s).copied().unwrap_or(0))
        .collect();

    let crits: Vec<String> = detectors::evidence::Criterion::ALL
        .iter()
        .map(ToString::to_string)
        .collect();
    let crit_values: Vec<u64> = crits
        .iter()
        .map(|c| {
            view.groups
                .iter()
                .filter(|g| g.criteria.contains(c))
                .count() as u64
        })
        .collect();

    let mut spans: BTreeMap<usize, u64> = BTreeMap::new();
    for g in &view.groups {
        *spans.entry(g.members_spanned.clamp(1, 5)).or_default() += 1;
    }
    let span_labels: Vec<String> = (1..=5)
        .map(|s| if s == 5 { "5+".into() } else { s.to_string() })
        .collect();
    let span_values: Vec<u64> = (1..=5)
        .map(|s| spans.get(&s).copied().unwrap_or(0))
        .collect();

    vec![
        Chart {
            title: t("chart_scores"),
            svg: bar_chart(&t("score"), &count, &score_labels, &scores),
        },
        Chart {
            title: t("chart_sizes"),
            svg: bar_chart(&t("size"), &count, &size_labels, &size_values),
        },
        Chart {
            title: t("chart_criteria"),
            svg: bar_chart(&t("criterion"), &count, &crits, &crit_values),
        },
        Chart {
            title: t("chart_members"),
            svg: bar_chart(&t("members_spanned"), &count, &span_labels, &span_values),
        },
    ]
}
