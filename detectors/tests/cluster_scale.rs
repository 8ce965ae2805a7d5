//! Community detection at production scale: a planted-partition graph of 1M nodes in groups of 2
//! to 12 with about 3.8M edges, 60% of them inside the groups. Ignored by default; run in release:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/targets/embed cargo test --release -p detectors --test cluster_scale \
//!     -- --ignored --nocapture
//! ```

use std::time::Instant;

use detectors::cluster::{LouvainConfig, Quality, louvain};

mod support;
use support::{Rng, status_kib};

/// The share of planted groups found exactly (same members, nothing more).
fn exact_share(planted: &[u32], found: &[u32]) -> f64 {
    let groups = *planted.iter().max().unwrap() as usize + 1;
    let mut first = vec![u32::MAX; groups];
    let mut pure = vec![true; groups];
    let mut found_size = vec![0usize; found.len()];
    let mut planted_size = vec![0usize; groups];
    for (p, f) in planted.iter().zip(found) {
        let g = *p as usize;
        planted_size[g] += 1;
        found_size[*f as usize] += 1;
        if first[g] == u32::MAX {
            first[g] = *f;
        } else if first[g] != *f {
            pure[g] = false;
        }
    }
    let exact = (0..groups)
        .filter(|g| pure[*g] && found_size[first[*g] as usize] == planted_size[*g])
        .count();
    exact as f64 / groups as f64
}

#[test]
#[ignore = "scale measurement: 1M nodes, run in release"]
fn louvain_on_one_million_nodes() {
    let n = 1_000_000usize;
    let mut rng = Rng(7);
    let mut planted = Vec::with_capacity(n);
    let mut starts = Vec::new();
    while planted.len() < n {
        let size = (2 + rng.below(11)).min(n - planted.len());
        starts.push((planted.len(), size));
        planted.extend(std::iter::repeat_n(starts.len() as u32 - 1, size));
    }
    let mut edges = Vec::with_capacity(4 * n);
    for &(start, size) in &starts {
        // Each group is a ring with chords, so that it is connected and dense.
        for i in 0..size {
            let a = (start + i) as u32;
            for j in i + 1..size {
                if j == i + 1 || rng.below(2) == 0 {
                    edges.push((a, (start + j) as u32, 1.0));
                }
            }
        }
    }
    let inside = edges.len();
    while edges.len() < inside * 10 / 6 {
        let (a, b) = (rng.below(n) as u32, rng.below(n) as u32);
        if a != b {
            edges.push((a, b, 1.0));
        }
    }
    eprintln!(
        "planted partition: {n} nodes, {} groups, {} edges ({inside} inside)",
        starts.len(),
        edges.len()
    );
    for (name, cfg) in [
        ("modularity γ = 1", LouvainConfig::default()),
        (
            "CPM γ = 0.1",
            LouvainConfig {
                quality: Quality::Cpm,
                resolution: 0.1,
                ..LouvainConfig::default()
            },
        ),
    ] {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let rss = status_kib("VmRSS:");
        let t = Instant::now();
        let found = louvain(n, &edges, &cfg);
        let took = t.elapsed();
        let peak = status_kib("VmHWM:");
        let k = *found.iter().max().unwrap() + 1;
        eprintln!(
            "{name}: {k} communities in {took:.2?}, peak RSS +{} MiB, planted groups found \
             exactly: {:.1}%",
            peak.saturating_sub(rss) >> 10,
            exact_share(&planted, &found) * 100.0
        );
    }
}
