//! Criterion benchmarks of the behaviour detectors on synthetic markets.
//!
//! `cargo bench -p detectors --bench behaviour` times [`detect`] (synchronised + matched) on the
//! 200k-trade market of the recall test. With `BEHAVIOUR_BENCH_10M=1` it also times the 10M-trade
//! market (1M accounts, 8 instruments, 4 hours; ten samples, several minutes in all).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use detectors::behaviour::synth::{SynthConfig, generate};
use detectors::behaviour::{
    BehaviourConfig, MatchedConfig, SyncConfig, TradeIndex, detect, matched_pairs,
    synchronised_pairs, wash_trades,
};
use graph_core::NodeId;

fn small_market(c: &mut Criterion) {
    let market = generate(&SynthConfig::default());
    let trades = &market.trades;
    let mut group = c.benchmark_group("behaviour_200k");
    group.sample_size(20);
    group.bench_function("detect", |b| {
        b.iter(|| detect(black_box(trades), &BehaviourConfig::default()));
    });
    group.bench_function("synchronised_pairs", |b| {
        b.iter(|| synchronised_pairs(black_box(trades), &SyncConfig::default()));
    });
    group.bench_function("matched_pairs", |b| {
        b.iter(|| matched_pairs(black_box(trades), &MatchedConfig::default()));
    });
    group.bench_function("wash_trades", |b| {
        let group_of = |n: NodeId| Some(n.0 / 4);
        b.iter(|| wash_trades(black_box(trades), &group_of));
    });
    group.bench_function("account_stats_all", |b| {
        let index = TradeIndex::new(trades);
        let accounts: Vec<NodeId> = index.accounts().collect();
        b.iter(|| {
            accounts
                .iter()
                .filter_map(|&a| index.account_stats(a, 5))
                .count()
        });
    });
    group.finish();
}

fn ten_million(c: &mut Criterion) {
    if std::env::var_os("BEHAVIOUR_BENCH_10M").is_none() {
        return;
    }
    let market = generate(&SynthConfig::ten_million());
    let mut group = c.benchmark_group("behaviour_10m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(300));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("detect", |b| {
        b.iter(|| detect(black_box(&market.trades), &BehaviourConfig::default()));
    });
    group.finish();
}

criterion_group!(benches, small_market, ten_million);
criterion_main!(benches);
