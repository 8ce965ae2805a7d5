//! Behaviour detectors on small inline tapes, invariants under proptest, and recall on a
//! synthetic market with planted pairs.

use std::collections::BTreeSet;

use detectors::behaviour::synth::{SynthConfig, generate};
use detectors::behaviour::{
    BehaviourConfig, MatchedConfig, SyncConfig, TradeEvent, TradeIndex, detect, matched_pairs,
    poisson_significance, synchronised_pairs, wash_trades,
};
use graph_core::NodeId;
use proptest::prelude::*;

const SECOND: i64 = 1_000_000;
const T0: i64 = 1_709_256_600 * SECOND;

/// A tape under construction; ids are assigned in push order.
#[derive(Default)]
struct Tape {
    trades: Vec<TradeEvent>,
    seed: u64,
}

impl Tape {
    fn push(&mut self, secs: f64, instrument: u32, buy: u32, sell: u32, price: f64, volume: u64) {
        let id = self.trades.len() as u32;
        self.trades.push(TradeEvent {
            id,
            ts: T0 + (secs * SECOND as f64) as i64,
            instrument,
            buy: NodeId(buy),
            sell: NodeId(sell),
            price,
            volume,
        });
    }

    /// A small deterministic generator, so the inline tapes need no dependency.
    fn rand(&mut self) -> f64 {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.rand() * f64::from(hi - lo)) as u32
    }

    /// `n` background trades over `secs` seconds among accounts `lo..hi`, instrument 1.
    fn background(&mut self, n: usize, secs: f64, lo: u32, hi: u32) {
        for _ in 0..n {
            let t = self.rand() * secs;
            let b = self.pick(lo, hi);
            let mut s = self.pick(lo, hi);
            while s == b {
                s = self.pick(lo, hi);
            }
            self.push(t, 1, b, s, 3500.0, 1);
        }
    }
}

fn has_pair(pairs: impl IntoIterator<Item = (NodeId, NodeId)>, a: u32, b: u32) -> bool {
    pairs
        .into_iter()
        .any(|p| p == (NodeId(a.min(b)), NodeId(a.max(b))))
}

#[test]
fn planted_sync_pair_is_found_and_busy_chance_pair_is_not() {
    let mut tape = Tape {
        seed: 7,
        ..Tape::default()
    };
    let hour = 3600.0;
    tape.background(3000, hour, 1000, 1400);
    // Two very active accounts buying every ~20 s at random: they meet by chance about every
    // third visit.
    for acct in [10, 11] {
        for _ in 0..180 {
            let t = tape.rand() * hour;
            let cp = tape.pick(1000, 1400);
            tape.push(t, 1, acct, cp, 3500.0, 2);
        }
    }
    // A light pair buying together eight times, within a second.
    for _ in 0..8 {
        let t = tape.rand() * hour;
        let lag = tape.rand();
        let (c1, c2) = (tape.pick(1000, 1400), tape.pick(1000, 1400));
        tape.push(t, 1, 20, c1, 3500.0, 3);
        tape.push(t + lag, 1, 21, c2, 3500.0, 3);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    let found: Vec<_> = report.pairs.iter().map(|p| (p.a, p.b)).collect();
    let planted = report
        .pairs
        .iter()
        .find(|p| (p.a, p.b) == (NodeId(20), NodeId(21)))
        .expect("planted pair reported");
    assert_eq!(planted.co_events, 8);
    // Eight visits each in an hour: 8 * 8 * 6 s / 3600 s ~ 0.11 meetings expected.
    assert!(planted.expected < 0.2, "{planted:?}");
    assert!(
        planted.significance > report.threshold + 3.0,
        "{planted:?} vs {}",
        report.threshold
    );
    assert!(!planted.examples.is_empty());
    assert!(!has_pair(found.iter().copied(), 10, 11), "{found:?}");
    assert_eq!(found, vec![(NodeId(20), NodeId(21))], "no other pair");
}

#[test]
fn omnipresent_accounts_are_left_out_of_their_lane() {
    let mut tape = Tape {
        seed: 3,
        ..Tape::default()
    };
    tape.background(500, 600.0, 1000, 1100);
    // A market maker buying every second.
    for i in 0..600 {
        tape.push(f64::from(i), 1, 5, 1000 + (i % 100) as u32, 3500.0, 1);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    assert!(report.omnipresent_account_lanes >= 1);
    assert!(
        report
            .pairs
            .iter()
            .all(|p| p.a != NodeId(5) && p.b != NodeId(5))
    );
}

#[test]
fn a_pair_in_an_illiquid_contract_is_not_omnipresent() {
    let mut tape = Tape {
        seed: 4,
        ..Tape::default()
    };
    tape.background(2000, 14_400.0, 1000, 1300);
    // Instrument 9 trades only when the pair does: six times in four hours.
    for k in 0..6 {
        let t = 500.0 + 2000.0 * f64::from(k);
        tape.push(t, 9, 40, 1001, 101.0, 1);
        tape.push(t + 0.4, 9, 41, 1002, 101.0, 1);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    assert_eq!(report.omnipresent_account_lanes, 0);
    let pair = report
        .pairs
        .iter()
        .find(|p| (p.a, p.b) == (NodeId(40), NodeId(41)))
        .expect("pair reported");
    assert_eq!(pair.co_events, 6);
}

#[test]
fn a_burst_counts_once() {
    let mut tape = Tape {
        seed: 11,
        ..Tape::default()
    };
    tape.background(400, 3600.0, 1000, 1200);
    // Four ordinary co-events...
    for k in 0..4 {
        let t = 300.0 + 700.0 * f64::from(k);
        tape.push(t, 1, 20, 1001, 3500.0, 1);
        tape.push(t + 0.5, 1, 21, 1002, 3500.0, 1);
    }
    // ...and one burst of 30 orders each within two seconds.
    for i in 0..30 {
        let t = 3000.0 + f64::from(i) * 0.06;
        tape.push(t, 1, 20, 1003, 3500.0, 1);
        tape.push(t + 0.01, 1, 21, 1004, 3500.0, 1);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    let pair = report
        .pairs
        .iter()
        .find(|p| (p.a, p.b) == (NodeId(20), NodeId(21)))
        .expect("pair reported");
    assert_eq!(pair.co_events, 5, "{pair:?}");
}

#[test]
fn a_lone_burst_is_not_synchronised_trading() {
    let mut tape = Tape {
        seed: 12,
        ..Tape::default()
    };
    tape.background(400, 3600.0, 1000, 1200);
    for i in 0..50 {
        let t = 1000.0 + f64::from(i) * 0.04;
        tape.push(t, 1, 20, 1003, 3500.0, 1);
        tape.push(t + 0.01, 1, 21, 1004, 3500.0, 1);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    assert!(report.pairs.is_empty(), "{:?}", report.pairs);
}

#[test]
fn trading_with_each_other_is_not_synchronised_trading() {
    let mut tape = Tape {
        seed: 13,
        ..Tape::default()
    };
    tape.background(400, 3600.0, 1000, 1200);
    // 20 buys from 21, and a second later 21 buys back from 20: both accounts buy within a
    // second, ten times, but only from each other.
    for k in 0..10 {
        let t = 100.0 + 300.0 * f64::from(k);
        tape.push(t, 1, 20, 21, 3500.0, 1);
        tape.push(t + 1.0, 1, 21, 20, 3500.0, 1);
    }
    let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
    assert!(report.pairs.is_empty(), "{:?}", report.pairs);
    // It is a matched pair with ten round trips instead.
    let matched = matched_pairs(&tape.trades, &MatchedConfig::default());
    assert_eq!(matched.pairs.len(), 1);
    assert_eq!(matched.pairs[0].round_trips, 10);
}

#[test]
fn wash_trades_per_group_with_exact_volumes() {
    let mut tape = Tape::default();
    // Group 1: accounts 1, 2, 3. Group 2: accounts 4, 5. Account 6: no group.
    tape.push(10.0, 1, 1, 2, 3500.0, 5); // id 0, wash in group 1
    tape.push(20.0, 1, 2, 3, 3500.2, 7); // id 1, wash in group 1
    tape.push(30.0, 2, 4, 5, 101.5, 11); // id 2, wash in group 2
    tape.push(40.0, 1, 1, 4, 3500.0, 13); // id 3, across groups: not wash
    tape.push(50.0, 1, 6, 1, 3500.0, 17); // id 4, outside: not wash
    tape.push(60.0, 3, 3, 3, 99.0, 19); // id 5, self-trade in group 1
    tape.push(70.0, 2, 5, 4, 101.4, 23); // id 6, wash in group 2
    tape.push(80.0, 1, 6, 6, 3500.0, 29); // id 7, self-trade outside any group
    let group_of = |n: NodeId| match n.0 {
        1..=3 => Some(1),
        4 | 5 => Some(2),
        _ => None,
    };
    let groups = wash_trades(&tape.trades, &group_of);
    assert_eq!(groups.len(), 2);
    let g1 = &groups[0];
    assert_eq!((g1.group, g1.trades, g1.volume), (1, 3, 5 + 7 + 19));
    assert_eq!(g1.trade_ids, vec![0, 1, 5]);
    assert_eq!(g1.accounts, vec![NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(g1.instruments, vec![1, 3]);
    assert_eq!(
        (g1.first_ts, g1.last_ts),
        (T0 + 10 * SECOND, T0 + 60 * SECOND)
    );
    let pair_volumes: Vec<_> = g1
        .pairs
        .iter()
        .map(|p| (p.a.0, p.b.0, p.trades, p.volume))
        .collect();
    assert_eq!(
        pair_volumes,
        vec![(1, 2, 1, 5), (2, 3, 1, 7), (3, 3, 1, 19)]
    );
    let g2 = &groups[1];
    assert_eq!((g2.group, g2.trades, g2.volume), (2, 2, 34));
    assert_eq!(g2.trade_ids, vec![2, 6]);
    assert_eq!(g2.pairs.len(), 1);

    // A slice assignment works through a closure too.
    let slice: Vec<Option<u32>> = vec![None, Some(1), Some(1), Some(1), Some(2), Some(2), None];
    let by_slice = wash_trades(&tape.trades, &|n: NodeId| {
        slice.get(n.index()).copied().flatten()
    });
    assert_eq!(by_slice, groups);
}

#[test]
fn matched_pair_with_round_trips() {
    let mut tape = Tape {
        seed: 5,
        ..Tape::default()
    };
    tape.background(5000, 14_400.0, 1000, 1300);
    // 30 sells to 31, and within a minute buys the same lots back at the same price; four times.
    for k in 0..4 {
        let t = 1000.0 + 3000.0 * f64::from(k);
        tape.push(t, 1, 31, 30, 3500.0, 4 + u64::from(k as u32));
        tape.push(t + 20.0, 1, 30, 31, 3500.2, 4 + u64::from(k as u32));
    }
    // One stray trade between them that has no return leg.
    tape.push(9000.0, 1, 30, 31, 3501.0, 1);
    let report = matched_pairs(&tape.trades, &MatchedConfig::default());
    let pair = report
        .pairs
        .iter()
        .find(|p| (p.a, p.b) == (NodeId(30), NodeId(31)))
        .expect("matched pair reported");
    assert_eq!(pair.trades, 9);
    assert_eq!(pair.volume, 2 * (4 + 5 + 6 + 7) + 1);
    assert_eq!(pair.round_trips, 4);
    assert!(pair.expected < 0.1, "{pair:?}");
    assert!(pair.significance >= report.threshold);
    assert_eq!(pair.examples.len(), 9);
    // Round-trip legs come first in the examples; the stray trade is last.
    assert_eq!(
        *pair.examples.last().unwrap(),
        (tape.trades.len() - 1) as u32
    );
    // Background accounts trading with each other by chance are not reported.
    assert_eq!(report.pairs.len(), 1, "{:?}", report.pairs);
}

#[test]
fn account_stats_are_exact() {
    let mut tape = Tape::default();
    tape.push(1.0, 1, 1, 2, 10.0, 5);
    tape.push(2.0, 1, 2, 1, 10.0, 3);
    tape.push(3.0, 2, 1, 3, 10.0, 2);
    tape.push(4.0, 2, 1, 1, 10.0, 7);
    tape.push(5.0, 1, 2, 3, 10.0, 9);
    let index = TradeIndex::new(&tape.trades);
    let s = index.account_stats(NodeId(1), 1).unwrap();
    assert_eq!((s.trades, s.buys, s.sells, s.self_trades), (4, 3, 2, 1));
    assert_eq!(
        (s.buy_volume, s.sell_volume, s.volume),
        (5 + 2 + 7, 3 + 7, 24)
    );
    assert_eq!(s.instruments, vec![(1, 2), (2, 2)]);
    assert_eq!(s.counterparties, 2);
    assert_eq!(s.top_counterparties.len(), 1);
    assert_eq!(s.top_counterparties[0].account, NodeId(2));
    assert_eq!(
        (
            s.top_counterparties[0].trades,
            s.top_counterparties[0].volume
        ),
        (2, 8)
    );
    assert_eq!((s.first_ts, s.last_ts), (T0 + SECOND, T0 + 4 * SECOND));
    assert_eq!(index.trades_of(NodeId(3)), &[2, 4]);
    assert!(index.account_stats(NodeId(99), 3).is_none());
    assert_eq!(index.accounts().count(), 3);
}

#[test]
fn empty_tape_is_fine() {
    let report = detect(&[], &BehaviourConfig::default());
    assert!(report.sync.pairs.is_empty());
    assert!(report.matched.pairs.is_empty());
    assert!(wash_trades(&[], &|_| Some(0)).is_empty());
}

/// A small random market for the invariants.
fn small_market(seed: u64) -> Vec<TradeEvent> {
    generate(&SynthConfig {
        trades: 3000,
        accounts: 300,
        instruments: 3,
        hours: 1,
        sync_pairs: 3,
        sync_events: (5, 10),
        wash_pairs: 2,
        matched_pairs: 2,
        round_trips: 3,
        seed,
        ..SynthConfig::default()
    })
    .trades
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn results_do_not_depend_on_input_order(seed in 0u64..1000, shuffle in any::<u64>()) {
        let trades = small_market(seed);
        let mut shuffled = trades.clone();
        // Fisher-Yates with a splitmix stream; ids travel with their trades.
        let mut s = shuffle;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (s ^ (s >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            shuffled.swap(i, (z % (i as u64 + 1)) as usize);
        }
        let config = BehaviourConfig::default();
        prop_assert_eq!(detect(&trades, &config), detect(&shuffled, &config));
    }

    #[test]
    fn significance_is_monotone_in_co_events(k in 0u32..500, mu in 1e-6f64..300.0) {
        prop_assert!(poisson_significance(k + 1, mu) > poisson_significance(k, mu));
        prop_assert!(poisson_significance(k, mu) >= 0.0);
    }

    #[test]
    fn reported_pairs_are_well_formed(seed in 0u64..1000) {
        let trades = small_market(seed);
        let config = BehaviourConfig::default();
        let report = detect(&trades, &config);
        for p in &report.sync.pairs {
            prop_assert!(p.a < p.b);
            prop_assert!(p.co_events >= config.sync.min_co_events);
            prop_assert!(p.significance >= report.sync.threshold);
            prop_assert!(p.expected >= 0.0 && p.expected.is_finite());
            for &(x, y) in &p.examples {
                let (tx, ty) = (&trades[x as usize], &trades[y as usize]);
                prop_assert!(tx.buy == p.a || tx.sell == p.a);
                prop_assert!(ty.buy == p.b || ty.sell == p.b);
                prop_assert_eq!(tx.instrument, ty.instrument);
                prop_assert!((tx.ts - ty.ts).abs() <= config.sync.window_us);
            }
        }
        for p in &report.matched.pairs {
            prop_assert!(p.a < p.b);
            prop_assert!(p.trades >= config.matched.min_trades);
            prop_assert!(2 * p.round_trips <= p.trades);
            for &x in &p.examples {
                let t = &trades[x as usize];
                prop_assert!((t.buy, t.sell) == (p.a, p.b) || (t.buy, t.sell) == (p.b, p.a));
            }
        }
    }
}

#[test]
fn more_co_events_at_fixed_activity_score_higher() {
    // Accounts 20 and 21 each buy ten times; moving more of 21's buys next to 20's raises the
    // co-events and, with the activity unchanged, the significance.
    let mut last = (0, 0.0);
    for together in [7u32, 8, 9, 10] {
        let mut tape = Tape {
            seed: 99,
            ..Tape::default()
        };
        tape.background(600, 3600.0, 1000, 1200);
        for k in 0..10u32 {
            let t = 100.0 + 340.0 * f64::from(k);
            tape.push(t, 1, 20, 1001, 3500.0, 1);
            let t21 = if k < together { t + 1.0 } else { t + 150.0 };
            tape.push(t21, 1, 21, 1002, 3500.0, 1);
        }
        let report = synchronised_pairs(&tape.trades, &SyncConfig::default());
        let p = report
            .pairs
            .iter()
            .find(|p| p.a == NodeId(20))
            .expect("pair");
        assert_eq!(p.co_events, together);
        assert!(p.significance > last.1, "{together}: {p:?} after {last:?}");
        last = (together, p.significance);
    }
}

#[test]
fn synthetic_market_recall_and_false_pairs() {
    let market = generate(&SynthConfig::default());
    let report = detect(&market.trades, &BehaviourConfig::default());

    let truth: BTreeSet<_> = market.sync_pairs.iter().copied().collect();
    let found: BTreeSet<_> = report.sync.pairs.iter().map(|p| (p.a, p.b)).collect();
    let hits = found.intersection(&truth).count();
    let recall = hits as f64 / truth.len() as f64;
    let false_pairs: Vec<_> = report
        .sync
        .pairs
        .iter()
        .filter(|p| !truth.contains(&(p.a, p.b)))
        .collect();
    eprintln!(
        "sync: {} trades, {} planted, {} found, recall {recall:.3}, {} false, threshold {:.2}, \
         counted {} accounts, {} candidates",
        market.trades.len(),
        truth.len(),
        found.len(),
        false_pairs.len(),
        report.sync.threshold,
        report.sync.counted_accounts,
        report.sync.candidates,
    );
    for p in &false_pairs {
        eprintln!("  false: {p:?}");
    }
    assert!(recall >= 0.9, "recall {recall}");
    assert!(false_pairs.len() <= 5, "{} false pairs", false_pairs.len());

    // Wash and round-tripping pairs are matched pairs.
    let matched: BTreeSet<_> = report.matched.pairs.iter().map(|p| (p.a, p.b)).collect();
    let planted: BTreeSet<_> = market
        .wash_pairs
        .iter()
        .chain(&market.matched_pairs)
        .copied()
        .collect();
    let matched_hits = matched.intersection(&planted).count();
    let matched_false = matched.difference(&planted).count();
    eprintln!(
        "matched: {} planted, {} found, {matched_hits} hits, {matched_false} false, threshold {:.2}",
        planted.len(),
        matched.len(),
        report.matched.threshold
    );
    assert!(matched_hits as f64 >= 0.9 * planted.len() as f64);
    assert!(matched_false <= 5);
    for (a, b) in &market.matched_pairs {
        let p = report
            .matched
            .pairs
            .iter()
            .find(|p| (p.a, p.b) == (*a, *b))
            .expect("round-tripping pair found");
        assert!(p.round_trips >= 5, "{p:?}");
    }
}
