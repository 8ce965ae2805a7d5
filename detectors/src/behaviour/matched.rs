//! Matched trades (对敲): account pairs that trade with each other more often than random matching
//! by the order book explains, with their round trips. The design is in the parent module's
//! documentation.

use ahash::AHashSet;
use graph_core::NodeId;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::time::Instant;

use super::market::{Buckets, Market};
use super::poisson::poisson_significance;
use super::{TradeEvent, lap};

/// The configuration of [`matched_pairs`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchedConfig {
    /// The length of the profile buckets that the expected count is computed over, in
    /// microseconds (default 30 minutes).
    pub profile_bucket_us: i64,
    /// The fewest trades between a reported pair (default 3).
    pub min_trades: u32,
    /// The family-wise error rate over all pairs of accounts that trade (default 0.01): the
    /// significance threshold is `log10(tests / family_alpha)`.
    pub family_alpha: f64,
    /// A round trip's second leg comes at most this long after the first, in microseconds
    /// (default 5 minutes).
    pub round_trip_window_us: i64,
    /// ... at a price within this share of the first leg's price (default 0.001).
    pub price_tolerance: f64,
    /// How many example trade ids to attach to each reported pair (default 10).
    pub max_examples: usize,
}

impl Default for MatchedConfig {
    fn default() -> Self {
        MatchedConfig {
            profile_bucket_us: 30 * 60 * 1_000_000,
            min_trades: 3,
            family_alpha: 0.01,
            round_trip_window_us: 5 * 60 * 1_000_000,
            price_tolerance: 0.001,
            max_examples: 10,
        }
    }
}

/// Two accounts that trade with each other more than chance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedPair {
    /// The account with the smaller node id.
    pub a: NodeId,
    /// The account with the larger node id.
    pub b: NodeId,
    /// Trades between the two, in either direction.
    pub trades: u32,
    /// Their volume, in lots.
    pub volume: u64,
    /// The trades expected by chance from the two accounts' buying and selling per instrument
    /// and time bucket.
    pub expected: f64,
    /// `-log10 P(Poisson(expected) >= trades)`; compare with [`MatchedReport::threshold`].
    pub significance: f64,
    /// Round trips: a trade and, soon after, one back in the same instrument at the same volume
    /// and nearly the same price.
    pub round_trips: u32,
    /// Some trade ids, round-trip legs first, then in time order.
    pub examples: Vec<u32>,
}

/// What [`matched_pairs`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedReport {
    /// Reported pairs, most significant first.
    pub pairs: Vec<MatchedPair>,
    /// The significance a pair needed: `log10(tests / family_alpha)`.
    pub threshold: f64,
    /// The number of pair hypotheses: pairs of accounts that trade (with anyone).
    pub tests: f64,
    /// Pairs that traded with each other at least once.
    pub trading_pairs: u64,
}

/// Finds matched pairs in `trades`. See the module documentation for the statistic.
pub fn matched_pairs(trades: &[TradeEvent], config: &MatchedConfig) -> MatchedReport {
    let market = Market::build(trades);
    matched_on(&market, trades, config, None)
}

/// One entry of an account's sparse profile: trades as buyer and as seller in one (instrument,
/// bucket).
#[derive(Debug, Clone, Copy)]
struct Prof {
    key: u32,
    buys: f32,
    sells: f32,
}

/// Scores the pairs that traded; with `focus`, only pairs of one focus account and one other
/// (and the threshold corrects for those tests alone).
pub(crate) fn matched_on(
    m: &Market,
    trades: &[TradeEvent],
    cfg: &MatchedConfig,
    focus: Option<&AHashSet<NodeId>>,
) -> MatchedReport {
    let mut clock = Instant::now();
    let buckets = Buckets::new(m.span, &m.ts, cfg.profile_bucket_us, 1, m.instruments.len());
    let n_buckets = buckets.count().max(1);
    let n_instr = m.instruments.len();
    let n_acct = m.remap.len();

    // Trades per (instrument, bucket), from the buy lanes (each trade once).
    let mut per_key = vec![0u32; n_instr * n_buckets];
    for i in 0..n_instr {
        for &t in &m.ts[m.lane_start[2 * i]..m.lane_start[2 * i + 1]] {
            per_key[i * n_buckets + buckets.of(t)] += 1;
        }
    }

    let profiles: Vec<Vec<Prof>> = (0..n_acct as u32)
        .into_par_iter()
        .map(|a| {
            let range = m.range(a as usize);
            let mut keys: Vec<(u32, bool)> = m.acct_lane[range.clone()]
                .iter()
                .zip(&m.acct_ts[range])
                .map(|(&lane, &t)| {
                    let key = (lane / 2) * n_buckets as u32 + buckets.of(t) as u32;
                    (key, lane % 2 == 0)
                })
                .collect();
            keys.sort_unstable_by_key(|k| k.0);
            let mut out: Vec<Prof> = Vec::new();
            for (key, buy) in keys {
                let (b, s) = if buy { (1.0, 0.0) } else { (0.0, 1.0) };
                match out.last_mut() {
                    Some(p) if p.key == key => {
                        p.buys += b;
                        p.sells += s;
                    }
                    _ => out.push(Prof {
                        key,
                        buys: b,
                        sells: s,
                    }),
                }
            }
            out
        })
        .collect();
    let expected = |a: u32, b: u32| -> f64 {
        let (pa, pb) = (&profiles[a as usize], &profiles[b as usize]);
        let (mut i, mut j, mut mu) = (0, 0, 0.0);
        while i < pa.len() && j < pb.len() {
            match pa[i].key.cmp(&pb[j].key) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let (x, y) = (pa[i], pb[j]);
                    let n = f64::from(per_key[x.key as usize]);
                    mu += (f64::from(x.buys) * f64::from(y.sells)
                        + f64::from(x.sells) * f64::from(y.buys))
                        / n;
                    i += 1;
                    j += 1;
                }
            }
        }
        mu
    };

    lap(&mut clock, "matched.profiles");
    // Every trade keyed by its unordered account pair; a run of equal keys is one pair.
    let mut keyed: Vec<(u64, u32)> = trades
        .par_iter()
        .enumerate()
        .filter(|(_, t)| t.buy != t.sell)
        .map(|(i, t)| {
            let (x, y) = (m.remap.dense(t.buy), m.remap.dense(t.sell));
            let key = (u64::from(x.min(y)) << 32) | u64::from(x.max(y));
            (key, i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut distinct = 0u64;
    let mut start = 0;
    for run in keyed.chunk_by(|x, y| x.0 == y.0) {
        distinct += 1;
        if run.len() >= cfg.min_trades.max(1) as usize {
            runs.push((start, start + run.len()));
        }
        start += run.len();
    }
    lap(&mut clock, "matched.pairs");
    // Any two active accounts could have been matched, so the family is all their pairs, not
    // only the pairs that did trade (counting those alone let three chance trades between light
    // accounts through).
    let active = (0..n_acct).filter(|&a| !m.range(a).is_empty()).count() as f64;
    let is_focus: Option<Vec<bool>> = focus.map(|f| {
        (0..n_acct as u32)
            .map(|d| f.contains(&m.remap.node(d)))
            .collect()
    });
    let tests = match &is_focus {
        Some(flags) => {
            let f = (0..n_acct)
                .filter(|&a| flags[a] && !m.range(a).is_empty())
                .count() as f64;
            (f * (active - f) + f * (f - 1.0) / 2.0).max(1.0)
        }
        None => (active * (active - 1.0) / 2.0).max(1.0),
    };
    let alpha = if cfg.family_alpha > 0.0 && cfg.family_alpha < 1.0 {
        cfg.family_alpha
    } else {
        0.01
    };
    let threshold = tests.log10() - alpha.log10();

    let mut pairs: Vec<MatchedPair> = runs
        .into_par_iter()
        .filter_map(|(s, e)| {
            let run = &keyed[s..e];
            let (a, b) = ((run[0].0 >> 32) as u32, run[0].0 as u32);
            if let Some(flags) = &is_focus
                && flags[a as usize] == flags[b as usize]
            {
                return None;
            }
            let n = run.len() as u32;
            let mu = expected(a, b);
            let significance = poisson_significance(n, mu);
            if significance < threshold {
                return None;
            }
            let mut legs: Vec<&TradeEvent> =
                run.iter().map(|&(_, i)| &trades[i as usize]).collect();
            // Content order, so that round trips do not depend on the caller's order.
            legs.sort_by(|x, y| {
                (x.instrument, x.ts, x.buy, x.volume)
                    .cmp(&(y.instrument, y.ts, y.buy, y.volume))
                    .then(x.price.total_cmp(&y.price))
                    .then(x.id.cmp(&y.id))
            });
            let (round_trips, in_trip) = round_trips(&legs, cfg);
            let examples: Vec<u32> = legs
                .iter()
                .zip(&in_trip)
                .filter(|(_, r)| **r)
                .map(|(t, _)| t.id)
                .chain(
                    legs.iter()
                        .zip(&in_trip)
                        .filter(|(_, r)| !**r)
                        .map(|(t, _)| t.id),
                )
                .take(cfg.max_examples)
                .collect();
            Some(MatchedPair {
                a: m.remap.node(a),
                b: m.remap.node(b),
                trades: n,
                volume: legs.iter().map(|t| t.volume).sum(),
                expected: mu,
                significance,
                round_trips,
                examples,
            })
        })
        .collect();
    pairs.sort_by(|x, y| {
        y.significance
            .total_cmp(&x.significance)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    lap(&mut clock, "matched.score");
    MatchedReport {
        pairs,
        threshold,
        tests,
        trading_pairs: distinct,
    }
}

/// How many of a pair's trades look at the lookahead for a return leg; a market maker pair may
/// have thousands of trades, and a return leg further than this is not a round trip anyway.
const LOOKAHEAD: usize = 32;

/// Greedy round trips over one pair's trades sorted by instrument and time: each trade is paired
/// with the first later unused trade of the same instrument in the other direction, within the
/// window, at the same volume and a close price. Returns the count and which trades are legs.
fn round_trips(legs: &[&TradeEvent], cfg: &MatchedConfig) -> (u32, Vec<bool>) {
    let mut used = vec![false; legs.len()];
    let mut count = 0;
    for i in 0..legs.len() {
        if used[i] {
            continue;
        }
        let x = legs[i];
        for j in i + 1..legs.len().min(i + 1 + LOOKAHEAD) {
            let y = legs[j];
            if y.instrument != x.instrument || y.ts - x.ts > cfg.round_trip_window_us {
                break;
            }
            let close = (y.price - x.price).abs() <= cfg.price_tolerance * x.price.abs();
            if !used[j] && y.buy == x.sell && y.volume == x.volume && close {
                used[i] = true;
                used[j] = true;
                count += 1;
                break;
            }
        }
    }
    (count, used)
}
