//! A group's evidence drawn as a graph: accounts, holders, controllers, persons, entities and
//! identifiers as nodes styled by kind, evidence as edges labelled with the share, role or
//! criterion, strong evidence solid and weak evidence dashed. The layout is a deterministic
//! force-directed one (Fruchterman–Reingold from positions on a circle, fixed iteration count),
//! so the same group always gives the same drawing; it is rendered server-side to inline SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::evidence::{authorised, control, identifier, is_of};
use crate::i18n::{Lang, code, label, label_of};
use crate::view::{GroupView, STRONG_WEIGHT, SubjectKind};

/// The kind of a node, which sets its shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Account,
    Person,
    Entity,
    Identifier,
}

impl NodeKind {
    fn class(self) -> &'static str {
        match self {
            NodeKind::Account => "n-acc",
            NodeKind::Person => "n-per",
            NodeKind::Entity => "n-ent",
            NodeKind::Identifier => "n-id",
        }
    }
}

/// A node of the drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    /// A second line under the id: a name or an identifier kind.
    pub caption: Option<String>,
}

/// An edge of the drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
    pub strong: bool,
}

/// The nodes and edges drawn for a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceGraph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl EvidenceGraph {
    fn node(&mut self, index: &mut BTreeMap<String, usize>, id: &str, kind: NodeKind) -> usize {
        if let Some(&i) = index.get(id) {
            return i;
        }
        self.nodes.push(Node {
            id: id.to_owned(),
            kind,
            caption: None,
        });
        index.insert(id.to_owned(), self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: String, strong: bool) {
        if from == to {
            return;
        }
        if let Some(e) = self
            .edges
            .iter_mut()
            .find(|e| e.from == from && e.to == to && e.label == label)
        {
            e.strong |= strong;
            return;
        }
        self.edges.push(Edge {
            from,
            to,
            label,
            strong,
        });
    }
}

/// The evidence graph of a group: what the drawing shows.
pub fn evidence_graph(g: &GroupView, lang: Lang) -> EvidenceGraph {
    let mut graph = EvidenceGraph::default();
    let mut index = BTreeMap::new();
    let subject_kind = |id: &str| match g.subjects.get(id).map(|s| s.kind) {
        Some(SubjectKind::Entity) => NodeKind::Entity,
        _ => NodeKind::Person,
    };
    for a in &g.accounts {
        graph.node(&mut index, &a.account_id, NodeKind::Account);
    }
    for a in &g.accounts {
        if let Some(h) = &a.holder_id {
            let acc = index[&a.account_id];
            let holder = graph.node(&mut index, h, subject_kind(h));
            graph.edge(holder, acc, label(lang, "rel_holds").to_owned(), true);
        }
    }
    for link in &g.links {
        let (a, b) = (index[&link.a], index[&link.b]);
        for s in &link.signals {
            let strong = s.weight >= STRONG_WEIGHT;
            match s.kind.as_str() {
                "same_holder" => {}
                "control" => {
                    let Some(c) = control(s) else {
                        continue;
                    };
                    graph.node(&mut index, &c.controller, subject_kind(&c.controller));
                    for hop in c.paths.iter().flatten() {
                        let from = graph.node(&mut index, &hop.from, subject_kind(&hop.from));
                        let to = graph.node(&mut index, &hop.to, subject_kind(&hop.to));
                        let text = hop
                            .share
                            .clone()
                            .unwrap_or_else(|| code(lang, &hop.what).into_owned());
                        graph.edge(from, to, text, strong);
                    }
                }
                "shared_identifier" => {
                    let Some((kind, value, _)) = identifier(s) else {
                        continue;
                    };
                    let id =
                        graph.node(&mut index, &format!("{kind}:{value}"), NodeKind::Identifier);
                    graph.nodes[id].caption = Some(code(lang, &kind).into_owned());
                    graph.edge(id, a, s.criterion.clone(), strong);
                    graph.edge(id, b, s.criterion.clone(), strong);
                }
                "account_role" | "common_agent" => {
                    let Some((person, role, _)) = authorised(s) else {
                        continue;
                    };
                    let p = graph.node(&mut index, &person, NodeKind::Person);
                    let role = code(lang, &role).into_owned();
                    graph.edge(p, a, role.clone(), strong);
                    graph.edge(p, b, role, strong);
                }
                "officer" | "spouse" | "family" | "arrangement" => {
                    let Some((x, what, y)) = is_of(s) else {
                        continue;
                    };
                    let x = graph.node(&mut index, &x, subject_kind(&x));
                    let y = graph.node(&mut index, &y, subject_kind(&y));
                    graph.edge(x, y, code(lang, &what).into_owned(), strong);
                }
                other => {
                    let text = format!("{} {}", s.criterion, label_of(lang, "sig_", other));
                    graph.edge(a, b, text, strong);
                }
            }
        }
    }
    for n in &mut graph.nodes {
        if n.caption.is_none()
            && let Some(name) = g.subjects.get(&n.id).and_then(|s| s.name.clone())
        {
            n.caption = Some(name);
        }
        if n.kind == NodeKind::Identifier {
            // Show the value alone; the caption says its kind.
            if let Some((_, v)) = n.id.split_once(':') {
                n.id = v.to_owned();
            }
        }
    }
    graph
}

/// Node positions in [0, 1]², deterministic for a given graph.
pub fn layout(graph: &EvidenceGraph) -> Vec<(f64, f64)> {
    let n = graph.nodes.len();
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![(0.5, 0.5)];
    }
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / n as f64;
            (0.5 + 0.4 * t.cos(), 0.5 + 0.4 * t.sin())
        })
        .collect();
    let k = (1.0 / n as f64).sqrt() * 1.2;
    let iterations = if n > 60 { 80 } else { 200 };
    let mut temp = 0.1;
    let cool = temp / iterations as f64;
    let mut disp = vec![(0.0f64, 0.0f64); n];
    for _ in 0..iterations {
        disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d2 = (dx * dx + dy * dy).max(1e-6);
                let f = k * k / d2;
                disp[i].0 += dx * f;
                disp[i].1 += dy * f;
                disp[j].0 -= dx * f;
                disp[j].1 -= dy * f;
            }
        }
        for e in &graph.edges {
            let (dx, dy) = (pos[e.from].0 - pos[e.to].0, pos[e.from].1 - pos[e.to].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-3);
            let f = d / k;
            disp[e.from].0 -= dx * f;
            disp[e.from].1 -= dy * f;
            disp[e.to].0 += dx * f;
            disp[e.to].1 += dy * f;
        }
        for i in 0..n {
            // A weak pull to the centre keeps parts of a disconnected drawing together.
            disp[i].0 += (0.5 - pos[i].0) * 0.3;
            disp[i].1 += (0.5 - pos[i].1) * 0.3;
            let len = (disp[i].0 * disp[i].0 + disp[i].1 * disp[i].1)
                .sqrt()
                .max(1e-9);
            let step = len.min(temp);
            pos[i].0 += disp[i].0 / len * step;
            pos[i].1 += disp[i].1 / len * step;
        }
        temp -= cool;
    }
    // Fit into the unit square.
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pos {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    let (w, h) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    pos.iter()
        .map(|p| {
            (
                if x1 - x0 < 1e-6 { 0.5 } else { (p.0 - x0) / w },
                if y1 - y0 < 1e-6 { 0.5 } else { (p.1 - y0) / h },
            )
        })
        .collect()
}

/// Escapes text for SVG and HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The group's evidence drawing as an SVG element (styled by the report's CSS classes).
pub fn render_svg(g: &GroupView, lang: Lang) -> String {
    let graph = evidence_graph(g, lang);
    let pos = layout(&graph);
    let n = graph.nodes.len();
    let width = 860.0;
    let height = if n <= 6 {
        300.0
    } else if n <= 16 {
        420.0
    } else if n <= 28 {
        600.0
    } else {
        760.0
    };
    let (mx, my) = (90.0, 40.0);
    let xy = |i: usize| {
        (
            mx + pos[i].0 * (width - 2.0 * mx),
            my + pos[i].1 * (height - 2.0 * my),
        )
    };
    let mut svg = String::with_capacity(1024 + 300 * (n + graph.edges.len()));
    let _ = write!(
        svg,
        r#"<svg class="evidence" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}">"#,
        escape(&format!("{} {}", label(lang, "evidence_graph"), g.id))
    );
    for e in &graph.edges {
        let ((x1, y1), (x2, y2)) = (xy(e.from), xy(e.to));
        let class = if e.strong { "e-strong" } else { "e-weak" };
        let _ = write!(
            svg,
            r#"<line class="{class}" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}"/>"#
        );
        // Labels sit past the middle, away from the source: sources (controllers, holders,
        // authorised persons) are the hubs, where labels would pile up.
        let (lx, ly) = (x1 + (x2 - x1) * 0.6, y1 + (y2 - y1) * 0.6);
        let _ = write!(
            svg,
            r#"<text class="e-label" x="{lx:.1}" y="{ly:.1}">{}</text>"#,
            escape(&truncate(&e.label, 28))
        );
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let (x, y) = xy(i);
        let class = node.kind.class();
        match node.kind {
            NodeKind::Account => {
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="20" height="14" rx="3"/>"#,
                    x - 10.0,
                    y - 7.0
                );
            }
            NodeKind::Person => {
                let _ = write!(
                    svg,
                    r#"<circle class="{class}" cx="{x:.1}" cy="{y:.1}" r="8"/>"#
                );
            }
            NodeKind::Entity => {
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="18" height="18"/>"#,
                    x - 9.0,
                    y - 9.0
                );
            }
            NodeKind::Identifier => {
                let _ = write!(
                    svg,
                    r#"<polygon class="{class}" points="{:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1}"/>"#,
                    x - 8.0,
                    y - 8.0,
                    x + 8.0,
                    y + 8.0
                );
            }
        }
        let _ = write!(
            svg,
            r#"<text class="n-label" x="{x:.1}" y="{:.1}">{}</text>"#,
            y - 12.0,
            escape(&truncate(&node.id, 26))
        );
        if let Some(c) = &node.caption {
            let _ = write!(
                svg,
                r#"<text class="n-caption" x="{x:.1}" y="{:.1}">{}</text>"#,
                y + 20.0,
                escape(&truncate(c, 18))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> EvidenceGraph {
        EvidenceGraph {
            nodes: (0..n)
                .map(|i| Node {
                    id: format!("N{i}"),
                    kind: NodeKind::Account,
                    caption: None,
                })
                .collect(),
            edges: edges
                .iter()
                .map(|&(from, to)| Edge {
                    from,
                    to,
                    label: String::new(),
                    strong: true,
                })
                .collect(),
        }
    }

    #[test]
    fn layout_is_deterministic_inside_the_unit_square_and_spreads_nodes() {
        let g = graph(8, &[(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7)]);
        let a = layout(&g);
        assert_eq!(a, layout(&g));
        for p in &a {
            assert!((0.0..=1.0).contains(&p.0) && (0.0..=1.0).contains(&p.1));
        }
        for i in 0..a.len() {
            for j in (i + 1)..a.len() {
                let d = ((a[i].0 - a[j].0).powi(2) + (a[i].1 - a[j].1).powi(2)).sqrt();
                assert!(d > 0.05, "nodes {i} and {j} overlap: {d}");
            }
        }
    }

    #[test]
    fn linked_nodes_sit_closer_than_unlinked_ones() {
        // A path 0-1-2-3-4-5: neighbours are nearer than the two ends.
        let g = graph(6, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
        let p = layout(&g);
        let d = |i: usize, j: usize| ((p[i].0 - p[j].0).powi(2) + (p[i].1 - p[j].1).powi(2)).sqrt();
        assert!(d(0, 1) < d(0, 5));
        assert!(d(2, 3) < d(0, 5));
    }

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
