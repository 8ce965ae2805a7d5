//! The detectors' graph algorithms on an edge list, timed, for side-by-side runs with other graph
//! libraries (`bench/peers.sh`). Each workload prints one JSON line: what was read, the load time
//! (file to the structure the algorithm runs on) and the compute time apart, the peak resident
//! memory, and a summary of the result that the harness compares with the other side's.
//!
//! ```text
//! cargo run --release -p detectors --example graph_bench -- WORKLOAD ARGS...
//!   components EDGES                      connected components (detectors::components)
//!   leiden EDGES [--truth CMTY] [--out LABELS] [--resolution 0.05] [--iterations 2] [--modularity]
//!                                         Leiden refinement, CPM by default (detectors::cluster)
//!   fastrp EDGES [--dim 128] [--iterations 4] [--pairs PAIRS] [--out EMB]
//!                                         FastRP over the product's graph (detectors::embed)
//!   graph EDGES                           the edge list as the product's PropertyGraph, memory only
//!   control HOLDINGS                      majority control and look-through (detectors::control)
//!   gen-edges OUT NODES EDGES SEED        a random edge list, dense ids in order of appearance
//!   gen-ownership OUT ENTITIES PERSONS SEED   a shareholding registry as `owner,entity,pct`
//! ```
//!
//! Edge lists are whitespace-separated pairs of unsigned integers, `#` lines skipped, each
//! undirected edge once; nodes are renumbered densely in order of first appearance. Labels and
//! embeddings are written in the file's own node ids so that one scorer can read both sides.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use ahash::AHashMap;
use detectors::cluster::{LouvainConfig, Quality, louvain};
use detectors::components::connected_components;
use detectors::control::{ControlAnalysis, ControlConfig};
use detectors::embed::{EdgeWeights, FastRpConfig, fast_rp};
use graph_core::model::{
    Entity, EntityKind, Extra, Person, Record, ShareKind, Shareholding, Transfer,
};
use graph_core::{GraphBuilder, NodeData, NodeKind, PropertyGraph};

type Failure = Box<dyn std::error::Error>;

/// A `/proc/self/status` figure in KiB (`VmHWM:` peak, `VmRSS:` current); 0 where unavailable.
fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// An edge list with dense node numbers; `ids[i]` is node `i`'s id in the file.
struct EdgeList {
    ids: Vec<u64>,
    edges: Vec<(u32, u32)>,
}

/// Parses an unsigned decimal; `None` for anything else.
fn number(field: &[u8]) -> Option<u64> {
    if field.is_empty() {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit()
            .then(|| acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0')))
    })
}

fn read_edges(path: &str) -> Result<EdgeList, Failure> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut raw: Vec<(u64, u64)> = Vec::with_capacity(bytes.len() / 12);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.first().is_none_or(|&b| b == b'#') {
            continue;
        }
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        match (
            fields.next().and_then(number),
            fields.next().and_then(number),
        ) {
            (Some(u), Some(v)) => raw.push((u, v)),
            (None, None) => {}
            _ => return Err(format!("{path}:{}: not a pair of node ids", i + 1).into()),
        }
    }
    drop(bytes);
    // Dense numbers in order of first appearance: a table when the ids are small, a hash map
    // otherwise.
    let max = raw.iter().map(|e| e.0.max(e.1)).max().unwrap_or(0);
    let mut ids = Vec::new();
    let edges = if max < 4 * raw.len() as u64 + 1024 {
        let mut table = vec![u32::MAX; max as usize + 1];
        let mut dense = |x: u64| {
            let slot = &mut table[x as usize];
            if *slot == u32::MAX {
                *slot = ids.len() as u32;
                ids.push(x);
            }
            *slot
        };
        raw.iter().map(|&(u, v)| (dense(u), dense(v))).collect()
    } else {
        let mut table: AHashMap<u64, u32> = AHashMap::new();
        let mut dense = |x: u64| {
            *table.entry(x).or_insert_with(|| {
                ids.push(x);
                ids.len() as u32 - 1
            })
        };
        raw.iter().map(|&(u, v)| (dense(u), dense(v))).collect()
    };
    Ok(EdgeList { ids, edges })
}

/// The edge list as the product's graph: one account per node, one transfers edge per pair.
fn property_graph(list: &EdgeList) -> PropertyGraph {
    let mut b = GraphBuilder::new();
    let keys: Vec<String> = list.ids.iter().map(u64::to_string).collect();
    for k in &keys {
        b.add_node(
            k,
            NodeData::Account {
                account_type: None,
                status: None,
            },
        );
    }
    for &(u, v) in &list.edges {
        b.add_record(&Record::Transfer(Transfer {
            transfer_id: String::new(),
            ts: 0,
            from_account: keys[u as usize].clone(),
            to_account: keys[v as usize].clone(),
            amount: 1.0,
            extra: Extra::new(),
        }));
    }
    b.finish()
}

/// Options after the positional arguments, as `--name value` or a bare `--flag`.
struct Options(Vec<String>);

impl Options {
    fn value(&self, name: &str) -> Option<&str> {
        let at = self.0.iter().position(|a| a == name)?;
        self.0.get(at + 1).map(String::as_str)
    }
    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }
    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, Failure> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{name}: cannot read {v:?}").into()),
        }
    }
}

/// The mean over ground-truth communities of the best F1 against a found community (the
/// measure of Yang and Leskovec 2012 for com-Amazon), and the share matched at Jaccard >= 0.5.
fn best_f1(labels: &[u32], truth: &[Vec<u32>]) -> (f64, f64) {
    let k = labels.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut size = vec![0usize; k];
    for &c in labels {
        size[c as usize] += 1;
    }
    let (mut f1_sum, mut matched) = (0.0, 0usize);
    for members in truth {
        let mut overlap: AHashMap<u32, usize> = AHashMap::new();
        for &m in members {
            *overlap.entry(labels[m as usize]).or_default() += 1;
        }
        let (mut bf, mut bj) = (0f64, 0f64);
        for (&c, &o) in &overlap {
            let (o, s, t) = (o as f64, members.len() as f64, size[c as usize] as f64);
            bf = bf.max(2.0 * o / (s + t));
            bj = bj.max(o / (s + t - o));
        }
        f1_sum += bf;
        matched += usize::from(bj >= 0.5);
    }
    let n = truth.len().max(1) as f64;
    (f1_sum / n, matched as f64 / n)
}

/// Ground-truth communities (one per line, file ids) in dense numbers; members the edge list
/// does not name are left out.
fn read_truth(path: &str, list: &EdgeList) -> Result<Vec<Vec<u32>>, Failure> {
    let dense: AHashMap<u64, u32> = list
        .ids
        .iter()
        .enumerate()
        .map(|(i, &x)| (x, i as u32))
        .collect();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse::<u64>().ok())
                .filter_map(|x| dense.get(&x).copied())
                .collect::<Vec<u32>>()
        })
        .filter(|c| !c.is_empty())
        .collect())
}

/// The area under the ROC curve of cosine scores for labelled pairs (`u v 1|0`, file ids): the
/// chance that a held-out edge scores above a non-edge, ties counted half.
fn auc(emb: &[f32], dim: usize, dense: &AHashMap<u64, usize>, path: &str) -> Result<f64, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let row = |x: u64| dense.get(&x).map(|&i| &emb[i * dim..(i + 1) * dim]);
    let mut scored: Vec<(f32, bool)> = Vec::new();
    for l in text.lines() {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let [u, v, label] = f[..] else { continue };
        let s = match (row(u), row(v)) {
            (Some(a), Some(b)) => a.iter().zip(b).map(|(x, y)| x * y).sum(),
            _ => 0.0,
        };
        scored.push((s, label == 1));
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann-Whitney U with mid-ranks for ties.
    let (mut rank_sum, mut positives, mut i) = (0.0, 0usize, 0);
    while i < scored.len() {
        let mut j = i;
        while j < scored.len() && scored[j].0 == scored[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        for s in &scored[i..j] {
            if s.1 {
                rank_sum += mid;
                positives += 1;
            }
        }
        i = j;
    }
    let (p, q) = (positives as f64, (scored.len() - positives) as f64);
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

/// The JSON line every workload prints; `extra` holds the workload's own fields.
fn report(workload: &str, nodes: usize, edges: usize, load: f64, compute: f64, extra: &str) {
    println!(
        "{{\"side\":\"ctrlgraph\",\"workload\":\"{workload}\",\"nodes\":{nodes},\"edges\":{edges},\
         \"load_s\":{load:.4},\"compute_s\":{compute:.4},\"peak_rss_kib\":{},\
         \"rss_kib\":{},\"threads\":{}{extra}}}",
        status_kib("VmHWM:"),
        status_kib("VmRSS:"),
        rayon::current_num_threads()
    );
}

fn components(path: &str) -> Result<(), Failure> {
    let t = Instant::now();
    let list = read_edges(path)?;
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (_, k) = connected_components(list.ids.len(), &list.edges);
    let compute = t.elapsed().as_secs_f64();
    let extra = format!(",\"components\":{k}");
    report(
        "components",
        list.ids.len(),
        list.edges.len(),
        load,
        compute,
        &extra,
    );
    Ok(())
}

fn leiden(path: &str, opts: &Options) -> Result<(), Failure> {
    let t = Instant::now();
    let list = read_edges(path)?;
    let n = list.ids.len();
    let weighted: Vec<(u32, u32, f64)> = list.edges.iter().map(|&(u, v)| (u, v, 1.0)).collect();
    let load = t.elapsed().as_secs_f64();
    let modularity = opts.flag("--modularity");
    let cfg = LouvainConfig {
        quality: if modularity {
            Quality::Modularity
        } else {
            Quality::Cpm
        },
        resolution: opts.parsed("--resolution", if modularity { 1.0 } else { 0.05 })?,
        iterations: opts.parsed("--iterations", 2)?,
        seed: opts.parsed("--seed", 0)?,
        ..LouvainConfig::default()
    };
    let t = Instant::now();
    let labels = louvain(n, &weighted, &cfg);
    let compute = t.elapsed().as_secs_f64();
    let k = labels.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut extra = format!(
        ",\"quality\":\"{}\",\"resolution\":{},\"iterations\":{},\"communities\":{k}",
        if modularity { "modularity" } else { "cpm" },
        cfg.resolution,
        cfg.iterations
    );
    if let Some(truth) = opts.value("--truth") {
        let truth = read_truth(truth, &list)?;
        let (f1, matched) = best_f1(&labels, &truth);
        write!(
            extra,
            ",\"best_f1\":{f1:.4},\"matched_jaccard_0_5\":{matched:.4}"
        )?;
    }
    if let Some(out) = opts.value("--out") {
        let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
        for (id, c) in list.ids.iter().zip(&labels) {
            writeln!(w, "{id} {c}")?;
        }
        w.flush()?;
    }
    report("leiden", n, list.edges.len(), load, compute, &extra);
    Ok(())
}

fn fastrp(path: &str, opts: &Options) -> Result<(), Failure> {
    let t = Instant::now();
    let list = read_edges(path)?;
    let graph = property_graph(&list);
    let load = t.elapsed().as_secs_f64();
    let iterations: usize = opts.parsed("--iterations", 4)?;
    let mut weights = vec![0.0];
    weights.extend(std::iter::repeat_n(1.0, iterations));
    let cfg = FastRpConfig {
        dim: opts.parsed("--dim", 128)?,
        iteration_weights: weights,
        edge_weights: EdgeWeights::uniform(),
        seed: opts.parsed("--seed", 42)?,
        ..FastRpConfig::default()
    };
    let t = Instant::now();
    let emb = fast_rp(&graph, &cfg)?;
    let compute = t.elapsed().as_secs_f64();
    let dim = emb.dim();
    let flat = emb
        .vectors
        .as_slice()
        .ok_or("embeddings are not contiguous")?;
    // Rows follow node ids, which are the dense numbers of the edge list.
    let dense: AHashMap<u64, usize> = emb
        .nodes
        .iter()
        .enumerate()
        .map(|(row, n)| (list.ids[n.index()], row))
        .collect();
    let mut extra = format!(
        ",\"dim\":{dim},\"iterations\":{iterations},\"embedded\":{}",
        emb.len()
    );
    if let Some(pairs) = opts.value("--pairs") {
        write!(extra, ",\"auc\":{:.4}", auc(flat, dim, &dense, pairs)?)?;
    }
    if let Some(out) = opts.value("--out") {
        // The file ids as little-endian u64 (`OUT.ids`), the rows as little-endian f32 (`OUT`).
        let mut ids = Vec::with_capacity(emb.len() * 8);
        for n in &emb.nodes {
            ids.extend_from_slice(&list.ids[n.index()].to_le_bytes());
        }
        std::fs::write(format!("{out}.ids"), ids)?;
        let mut rows = Vec::with_capacity(flat.len() * 4);
        for x in flat {
            rows.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(out, rows)?;
    }
    report(
        "fastrp",
        graph.node_count(),
        graph.edge_count(),
        load,
        compute,
        &extra,
    );
    Ok(())
}

fn graph(path: &str) -> Result<(), Failure> {
    let t = Instant::now();
    let list = read_edges(path)?;
    let (n, m) = (list.ids.len(), list.edges.len());
    let graph = property_graph(&list);
    drop(list);
    let load = t.elapsed().as_secs_f64();
    let mem = graph.memory_use();
    let extra = format!(
        ",\"graph_bytes\":{},\"graph_bytes_per_edge\":{:.1}",
        mem.total(),
        mem.total() as f64 / m.max(1) as f64
    );
    report("graph", n, m, load, 0.0, &extra);
    drop(graph);
    Ok(())
}

/// Reads `owner,entity,pct` rows (a header first). Owners whose id starts with `P` are persons,
/// everything else a company.
fn control(path: &str) -> Result<(), Failure> {
    let t = Instant::now();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut holdings = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [owner, entity, pct] = f[..] else {
            return Err(format!("{path}:{}: expected owner,entity,pct", i + 1).into());
        };
        let pct: f64 = pct
            .parse()
            .map_err(|_| format!("{path}:{}: bad pct", i + 1))?;
        holdings.push((owner, entity, pct));
    }
    let mut b = GraphBuilder::new();
    let mut seen: ahash::AHashSet<&str> = ahash::AHashSet::new();
    for &(owner, entity, _) in &holdings {
        for id in [owner, entity] {
            if !seen.insert(id) {
                continue;
            }
            b.add_record(&if id.starts_with('P') {
                Record::Person(Person {
                    person_id: id.to_owned(),
                    name: None,
                    id_number: None,
                    extra: Extra::new(),
                })
            } else {
                Record::Entity(Entity {
                    entity_id: id.to_owned(),
                    name: None,
                    uscc: None,
                    kind: Some(EntityKind::Company),
                    registered_capital: None,
                    established: None,
                    status: None,
                    extra: Extra::new(),
                })
            });
        }
    }
    for &(owner, entity, pct) in &holdings {
        b.add_record(&Record::Shareholding(Shareholding {
            owner_id: owner.to_owned(),
            entity_id: entity.to_owned(),
            share_min: pct,
            share_max: pct,
            kind: ShareKind::Equity,
            extra: Extra::new(),
        }));
    }
    let g = b.finish();
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    let compute = t.elapsed().as_secs_f64();
    let (mut stakes, mut total) = (0usize, 0f64);
    for &e in a.entities() {
        for s in a.ownership_of(e) {
            if s.pct_min > 1e-6 {
                stakes += 1;
                total += s.pct_min;
            }
        }
    }
    let extra = format!(
        ",\"entities\":{},\"persons\":{},\"control_links\":{},\"stakes\":{stakes},\
         \"stake_sum\":{total:.6}",
        a.entities().len(),
        g.nodes_of_kind(NodeKind::Person).count(),
        a.links().len()
    );
    report(
        "control",
        g.node_count(),
        g.edge_count(),
        load,
        compute,
        &extra,
    );
    Ok(())
}

/// The generators' random numbers: SplitMix64 (rand_xoshiro's), seeded with the seed itself.
struct Rng(rand_xoshiro::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(rand_xoshiro::rand_core::SeedableRng::seed_from_u64(seed))
    }
    fn next(&mut self) -> u64 {
        rand_xoshiro::rand_core::RngCore::next_u64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// A graph shaped like account linkage: 70% of the edges inside blocks of 16 consecutive
/// nodes, the rest between random nodes, no self-loops; nodes renumbered in order of first
/// appearance, so every node in `0..k` appears.
fn gen_edges(out: &str, nodes: usize, edges: usize, seed: u64) -> Result<(), Failure> {
    let mut rng = Rng::new(seed);
    let mut dense = vec![u32::MAX; nodes];
    let mut next = 0u32;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut line = String::new();
    let mut written = 0;
    while written < edges {
        let u = rng.below(nodes);
        let v = if rng.chance(0.7) {
            u / 16 * 16 + rng.below(16)
        } else {
            rng.below(nodes)
        };
        if u == v || v >= nodes {
            continue;
        }
        let mut id = |x: usize| {
            if dense[x] == u32::MAX {
                dense[x] = next;
                next += 1;
            }
            dense[x]
        };
        let (a, b) = (id(u), id(v));
        line.clear();
        writeln!(line, "{a} {b}")?;
        w.write_all(line.as_bytes())?;
        written += 1;
    }
    w.flush()?;
    println!("{{\"generated\":\"{out}\",\"nodes\":{next},\"edges\":{edges}}}");
    Ok(())
}

/// A registry shaped like the control timing test's: 60% of the companies held by persons only,
/// holding pyramids four levels deep, 1% of the companies holding 10% of a company of a lower
/// level (cycles), a few hubs; one to three owners per company, stakes to two decimals adding
/// up to at most 100%. Equity only, so that every side applies the same rule.
fn gen_ownership(out: &str, entities: usize, persons: usize, seed: u64) -> Result<(), Failure> {
    let mut rng = Rng::new(seed);
    let level = |i: usize| match i * 100 / entities {
        0..60 => 0,
        60..85 => 1,
        85..95 => 2,
        _ => 3,
    };
    let bound = |l: usize| match l {
        0 => 0,
        1 => entities * 60 / 100,
        2 => entities * 85 / 100,
        _ => entities * 95 / 100,
    };
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(w, "owner,entity,pct")?;
    let mut rows = 0;
    for e in 0..entities {
        let lower = bound(level(e));
        let owners = 1 + rng.below(2) + usize::from(rng.chance(0.1));
        let mut left = 10_000u64;
        let mut taken = ahash::AHashSet::new();
        for k in 0..owners {
            let hundredths = if k + 1 == owners {
                left
            } else {
                (10 + rng.below(70)) as u64 * left / 100
            };
            left -= hundredths;
            let owner = if lower > 0 && rng.chance(0.7) {
                format!("E{}", rng.below(lower))
            } else if rng.chance(0.002) {
                format!("E{}", rng.below(5))
            } else {
                format!("P{}", rng.below(persons))
            };
            if owner == format!("E{e}") || hundredths == 0 || !taken.insert(owner.clone()) {
                continue;
            }
            writeln!(
                w,
                "{owner},E{e},{}.{:02}",
                hundredths / 100,
                hundredths % 100
            )?;
            rows += 1;
        }
        if level(e) > 0 && rng.chance(0.01) {
            let target = rng.below(lower);
            writeln!(w, "E{e},E{target},10.00")?;
            rows += 1;
        }
    }
    w.flush()?;
    println!("{{\"generated\":\"{out}\",\"entities\":{entities},\"shareholdings\":{rows}}}");
    Ok(())
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: graph_bench components|leiden|fastrp|graph|control|gen-edges|gen-ownership ARGS";
    let workload = args.first().ok_or(usage)?.as_str();
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or(usage);
    let num = |i: usize| -> Result<u64, Failure> {
        arg(i)?
            .parse()
            .map_err(|_| format!("argument {i}: not a number").into())
    };
    let opts = Options(args.iter().skip(2).cloned().collect());
    match workload {
        "components" => components(arg(1)?),
        "leiden" => leiden(arg(1)?, &opts),
        "fastrp" => fastrp(arg(1)?, &opts),
        "graph" => graph(arg(1)?),
        "control" => control(arg(1)?),
        "gen-edges" => gen_edges(arg(1)?, num(2)? as usize, num(3)? as usize, num(4)?),
        "gen-ownership" => gen_ownership(arg(1)?, num(2)? as usize, num(3)? as usize, num(4)?),
        _ => Err(usage.into()),
    }
}
