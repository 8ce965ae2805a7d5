//! One-shot measurement of the behaviour detectors on a synthetic market (10M trades by
//! default): generation, sync + matched time, peak memory, and recall of the planted pairs.
//!
//! `cargo run --release -p detectors --example behaviour_10m -- [trades] [accounts] [family_alpha]`
//! with `SYNC_MAX_FANOUT`, `SYNC_MAX_PRESENCE`, `SYNC_MIN_CO_EVENTS` and `SYNTH_SEED` in the
//! environment to override those defaults, and `RUST_LOG=detectors=debug` for the time of each
//! phase.

use std::collections::BTreeSet;
use std::time::Instant;

use detectors::behaviour::synth::{SynthConfig, generate};
use detectors::behaviour::{BehaviourConfig, detect};

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // RUST_LOG=detectors=debug shows the time of each phase.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let mut synth = SynthConfig::ten_million();
    if let Some(n) = args.get(1).and_then(|s| s.parse().ok()) {
        synth.trades = n;
    }
    if let Some(n) = args.get(2).and_then(|s| s.parse().ok()) {
        synth.accounts = n;
    }
    let mut config = BehaviourConfig::default();
    if let Some(a) = args.get(3).and_then(|s| s.parse().ok()) {
        config.sync.family_alpha = a;
        config.matched.family_alpha = a;
    }

    // Tuning knobs, for trying other trade-offs than the defaults.
    if let Some(v) = std::env::var("SYNC_MAX_FANOUT")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.sync.max_fanout = v;
    }
    if let Some(v) = std::env::var("SYNC_MAX_PRESENCE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.sync.max_presence = v;
    }
    if let Some(v) = std::env::var("SYNTH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        synth.seed = v;
    }
    if let Some(v) = std::env::var("SYNC_MIN_CO_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.sync.min_co_events = v;
    }

    let t = Instant::now();
    let market = generate(&synth);
    let generated = t.elapsed();
    let rss_after_gen = peak_rss_mib().unwrap_or(f64::NAN);

    let t = Instant::now();
    let report = detect(&market.trades, &config);
    let detected = t.elapsed();

    let truth: BTreeSet<_> = market.sync_pairs.iter().copied().collect();
    let hits = report
        .sync
        .pairs
        .iter()
        .filter(|p| truth.contains(&(p.a, p.b)))
        .count();
    let planted: BTreeSet<_> = market
        .wash_pairs
        .iter()
        .chain(&market.matched_pairs)
        .copied()
        .collect();
    let matched_hits = report
        .matched
        .pairs
        .iter()
        .filter(|p| planted.contains(&(p.a, p.b)))
        .count();
    println!(
        "trades {} accounts {} threads {}",
        market.trades.len(),
        synth.accounts,
        rayon::current_num_threads()
    );
    println!(
        "generate {:.2} s (peak RSS {rss_after_gen:.0} MiB)",
        generated.as_secs_f64()
    );
    println!(
        "detect (sync + matched) {:.2} s, peak RSS {:.0} MiB",
        detected.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    println!(
        "sync: {} pairs, planted {} found {hits}, false {}, threshold {:.2}, counted {} accounts, \
         {} omnipresent account-lanes, {} sparse accounts, {} co-occurring pairs, {} candidates",
        report.sync.pairs.len(),
        truth.len(),
        report.sync.pairs.len() - hits,
        report.sync.threshold,
        report.sync.counted_accounts,
        report.sync.omnipresent_account_lanes,
        report.sync.sparse_accounts,
        report.sync.co_occurring_pairs,
        report.sync.candidates,
    );
    println!(
        "matched: {} pairs, planted {} found {matched_hits}, false {}, threshold {:.2}, \
         {} trading pairs",
        report.matched.pairs.len(),
        planted.len(),
        report.matched.pairs.len() - matched_hits,
        report.matched.threshold,
        report.matched.trading_pairs,
    );
}
