//! Synchronised trading: account pairs that trade the same instrument in the same direction within
//! a few seconds of each other more often than their own activity explains. The design is in the
//! parent module's documentation.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use ahash::{AHashMap, AHashSet};
use graph_core::NodeId;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::market::{Buckets, Market, lane_runs};
use super::poisson::poisson_significance;
use super::{TradeEvent, lap};

/// The configuration of [`synchronised_pairs`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncConfig {
    /// Two side events co-occur when at most this far apart, in microseconds (default 3 s).
    pub window_us: i64,
    /// ... and at most this many positions apart in their lane (default 64). Bounds the work per
    /// event in liquid contracts; see the module documentation.
    pub max_fanout: u32,
    /// The length of the profile buckets that the expected count is computed over, in
    /// microseconds (default 30 minutes).
    pub profile_bucket_us: i64,
    /// An account whose visits to a lane exceed this share of the trading time in windows is not
    /// counted in that lane (default 0.2).
    pub max_presence: f64,
    /// The fewest co-events a reported pair has (default 3).
    pub min_co_events: u32,
    /// The family-wise error rate over all pairs of counted accounts (default 0.01): the
    /// significance threshold is `log10(tests / family_alpha)`.
    pub family_alpha: f64,
    /// How many example trade pairs to attach to each reported pair (default 5).
    pub max_examples: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            window_us: 3_000_000,
            max_fanout: 64,
            profile_bucket_us: 30 * 60 * 1_000_000,
            max_presence: 0.2,
            min_co_events: 3,
            family_alpha: 0.01,
            max_examples: 5,
        }
    }
}

/// Two accounts that trade the same instrument in the same direction together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncPair {
    /// The account with the smaller node id.
    pub a: NodeId,
    /// The account with the larger node id.
    pub b: NodeId,
    /// Distinct co-occurrences: the smaller of "visits of `a` that meet `b`" and "visits of `b`
    /// that meet `a`", so a burst counts once.
    pub co_events: u32,
    /// The co-events expected by chance from the two accounts' own activity per instrument, side
    /// and time bucket.
    pub expected: f64,
    /// `-log10 P(Poisson(expected) >= co_events)`; compare with [`SyncReport::threshold`].
    pub significance: f64,
    /// A few co-occurring trades, as (trade of `a`, trade of `b`) ids, in time order.
    pub examples: Vec<(u32, u32)>,
}

/// What [`synchronised_pairs`] found, and how hard it looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Reported pairs, most significant first.
    pub pairs: Vec<SyncPair>,
    /// The significance a pair needed: `log10(tests / family_alpha)`.
    pub threshold: f64,
    /// The number of pair hypotheses behind the threshold: pairs of counted accounts.
    pub tests: f64,
    /// Accounts counted in at least one lane.
    pub counted_accounts: u32,
    /// (account, lane) combinations left out as too present to be informative.
    pub omnipresent_account_lanes: u32,
    /// Accounts left out because they have fewer than `min_co_events` visits in all.
    pub sparse_accounts: u32,
    /// Account pairs that co-occurred at least once.
    pub co_occurring_pairs: u64,
    /// Account pairs whose co-events reached the threshold in the scan (before the final check).
    pub candidates: u64,
}

/// Finds synchronised pairs in `trades`. See the module documentation for the statistic.
pub fn synchronised_pairs(trades: &[TradeEvent], config: &SyncConfig) -> SyncReport {
    let market = Market::build(trades);
    sync_on(&market, config, None, None)
}

/// For some accounts, the accounts that are not part of the anonymous market at their moments:
/// they have other evidence towards it, so their presence is not the crowd that explains a
/// meeting.
pub type Known = AHashMap<NodeId, AHashSet<NodeId>>;

/// One entry of an account's sparse profile: its visits in one (lane, bucket) key, their mean
/// span as a share of the bucket's active length, and their crowd: the other accounts near
/// enough to be met, added over the visits (see [`Marks::crowd_of`]).
#[derive(Debug, Clone, Copy)]
struct Prof {
    key: u32,
    visits: f32,
    reach: f32,
    crowd: f32,
}

/// One counted side event. The fields the scan reads for a neighbour sit together, so that a
/// neighbourhood is one stream of memory, not four.
#[derive(Debug, Clone, Copy, Default)]
struct Ev {
    ts: i64,
    acct: u32,
    /// The other account of the trade.
    cp: u32,
    /// The visit the event belongs to, numbered from 1 per account across its lanes, so that
    /// visits of one account increase with lane and time.
    visit: u32,
    id: u32,
}

/// The counted side events and everything the scan and the expectation need.
#[derive(Debug)]
struct Counted {
    window: i64,
    fanout: usize,
    /// Counted side events in (lane, ts) order; accounts by activity rank.
    ev: Vec<Ev>,
    lane_start: Vec<usize>,
    /// Each account's counted positions, by rank, in lane then time order, and their visits.
    acct_start: Vec<usize>,
    acct_pos: Vec<u32>,
    own_visit: Vec<u32>,
    /// Each account's profile, by rank, sorted by key.
    prof_start: Vec<usize>,
    prof: Vec<Prof>,
    /// Per (lane, bucket) key: twice the effective half-window as a share of the bucket's active
    /// length, i.e. the chance that one uniformly placed event falls near another.
    gain: Vec<f32>,
    /// Per key: the visits of all counted accounts.
    key_visits: Vec<f32>,
    buckets: Buckets,
    /// The scan numbers accounts by activity rank; this maps a rank to the market's dense number.
    dense_of: Vec<u32>,
}

/// Greedy visits of one account in one lane: a visit takes every event up to `window` after its
/// first. Fed the event times in order.
struct Visits {
    window: i64,
    start: i64,
    fresh: bool,
}

impl Visits {
    fn new(window: i64) -> Self {
        Visits {
            window,
            start: 0,
            fresh: true,
        }
    }

    /// Feeds the next event time; true when it opens a new visit.
    fn step(&mut self, t: i64) -> bool {
        if self.fresh || t > self.start + self.window {
            self.fresh = false;
            self.start = t;
            true
        } else {
            false
        }
    }
}

/// Scans the market; with `focus`, only pairs of one focus account and one other are tested (and
/// the threshold corrects for those tests alone).
pub(crate) fn sync_on(
    m: &Market,
    cfg: &SyncConfig,
    focus: Option<&AHashSet<NodeId>>,
    known: Option<&Known>,
) -> SyncReport {
    let mut clock = Instant::now();
    let window = cfg.window_us.max(1);
    let min_co = cfg.min_co_events.max(1);
    let n_acct = m.remap.len();
    let focus_dense: Option<Vec<bool>> = focus.map(|f| {
        (0..n_acct as u32)
            .map(|d| f.contains(&m.remap.node(d)))
            .collect()
    });
    let n_lanes = m.lanes();

    // Presence is measured against the trading time of the tape in window-slots: an account in
    // a fifth of all 3-second slots is there whatever the lane's liquidity, while one that
    // trades a few times in an illiquid contract is not, however few slots that lane fills.
    let buckets = Buckets::new(m.span, &m.ts, cfg.profile_bucket_us, window, n_lanes);
    let slots = (buckets.active / window as f64).max(1.0);

    // Which (account, lane) runs are counted, as flags parallel to the account index.
    let mut keep_csr = vec![false; m.acct_pos.len()];
    let slices = split_by_sizes(&mut keep_csr, (0..n_acct).map(|a| m.range(a).len()));
    let omnipresent = AtomicU64::new(0);
    let counted_accounts = slices
        .into_par_iter()
        .enumerate()
        .map(|(a, flags)| {
            let range = m.range(a);
            let times = &m.acct_ts[range.clone()];
            let mut total = 0u64;
            for (_, run) in lane_runs(&m.acct_lane[range]) {
                let mut visits = Visits::new(window);
                let v = times[run.clone()]
                    .iter()
                    .filter(|&&t| visits.step(t))
                    .count();
                if v as f64 <= cfg.max_presence * slots {
                    flags[run].fill(true);
                    total += v as u64;
                } else {
                    omnipresent.fetch_add(1, Ordering::Relaxed);
                }
            }
            if total < u64::from(min_co) {
                flags.fill(false);
                return (0u32, u32::from(total > 0), 0u32);
            }
            let focused = focus_dense.as_ref().is_some_and(|f| f[a]);
            (1u32, 0u32, u32::from(focused))
        })
        .reduce(|| (0, 0, 0), |x, y| (x.0 + y.0, x.1 + y.1, x.2 + y.2));
    let (counted_accounts, sparse_accounts, counted_focus) = counted_accounts;

    lap(&mut clock, "sync.eligibility");
    let counted = build_counted(m, cfg, &keep_csr, &buckets, known);
    drop(keep_csr);
    lap(&mut clock, "sync.profiles");

    let e = f64::from(counted_accounts);
    let tests = match focus_dense {
        Some(_) => {
            let f = f64::from(counted_focus);
            (f * (e - f) + f * (f - 1.0) / 2.0).max(1.0)
        }
        None => (e * (e - 1.0) / 2.0).max(1.0),
    };
    // Pairs of exactly one focus account, by rank.
    let tested = |ra: u32, rb: u32| match &focus_dense {
        Some(f) => {
            f[counted.dense_of[ra as usize] as usize] != f[counted.dense_of[rb as usize] as usize]
        }
        None => true,
    };
    let alpha = if cfg.family_alpha > 0.0 && cfg.family_alpha < 1.0 {
        cfg.family_alpha
    } else {
        0.01
    };
    let threshold = tests.log10() - alpha.log10();
    let limits = mu_limits(threshold, 1024);

    // The scan: each pair is counted by its less busy account (the higher rank), which tallies
    // for every busier partner both its own visits that meet the partner and the partner's visits
    // that meet it, and keeps the partners whose smaller tally reaches the threshold. Counting
    // from the light side keeps the tallies touched in the busy accounts' few cache lines.
    let co_occurring = AtomicU64::new(0);
    let pool = Mutex::new(Vec::new());
    let survivors: Vec<(u32, u32, u32)> = (0..n_acct as u32)
        .into_par_iter()
        .with_min_len(16)
        .map_init(
            || Pooled::take(&pool, n_acct),
            |pooled, b| {
                let scratch = &mut pooled.scratch;
                let touched = counted.scan(b, scratch);
                co_occurring.fetch_add(touched as u64, Ordering::Relaxed);
                let mut out = Vec::new();
                for &a in &scratch.touched {
                    let slot = scratch.slot[a as usize];
                    let c = slot.own_count.min(slot.partner_count);
                    if c < min_co || !tested(a, b) {
                        continue;
                    }
                    let limit = limits.get(c as usize).copied().unwrap_or(f64::INFINITY);
                    let mu = counted.expected_up_to(a, b, limit);
                    if mu <= limit && poisson_significance(c, mu) >= threshold {
                        out.push((b, a, c));
                    }
                }
                scratch.reset();
                out
            },
        )
        .flatten_iter()
        .collect();
    lap(&mut clock, "sync.scan");
    let candidates = survivors.len() as u64;

    let mut pairs: Vec<SyncPair> = survivors
        .into_par_iter()
        .filter_map(|(ra, rb, co)| {
            let expected = counted.expected(ra, rb);
            let significance = poisson_significance(co, expected);
            if co < min_co || significance < threshold {
                return None;
            }
            // Ranks back to dense numbers, whose order is node order; smaller node first.
            let (mut a, mut b) = (counted.dense_of[ra as usize], counted.dense_of[rb as usize]);
            let (mut ra, mut rb) = (ra, rb);
            if a > b {
                std::mem::swap(&mut a, &mut b);
                std::mem::swap(&mut ra, &mut rb);
            }
            Some(SyncPair {
                a: m.remap.node(a),
                b: m.remap.node(b),
                co_events: co,
                expected,
                significance,
                examples: counted.examples(ra, rb, cfg.max_examples),
            })
        })
        .collect();
    pairs.sort_by(|x, y| {
        y.significance
            .total_cmp(&x.significance)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    lap(&mut clock, "sync.join");

    SyncReport {
        pairs,
        threshold,
        tests,
        counted_accounts,
        omnipresent_account_lanes: omnipresent.into_inner() as u32,
        sparse_accounts,
        co_occurring_pairs: co_occurring.into_inner(),
        candidates,
    }
}

/// For each count `c` below `n`, an expectation above which `c` co-events cannot reach
/// `threshold` (the significance falls as the expectation grows). Found by bisection and kept on
/// the safe side: at the returned value the significance is already below the threshold.
fn mu_limits(threshold: f64, n: usize) -> Vec<f64> {
    (0..n as u32)
        .map(|c| {
            if poisson_significance(c, 1e-12) < threshold {
                return 0.0;
            }
            let (mut lo, mut hi) = (1e-12f64, f64::from(c).max(1.0));
            while poisson_significance(c, hi) >= threshold {
                hi *= 2.0;
            }
            for _ in 0..60 {
                let mid = (lo * hi).sqrt();
                if poisson_significance(c, mid) >= threshold {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        })
        .collect()
}

/// An open visit while profiles are built: its key, first and last event times, and first and
/// last positions in the lane order.
#[derive(Debug, Clone, Copy)]
struct OpenVisit {
    key: u32,
    start: i64,
    end: i64,
    first: usize,
    last: usize,
}

/// Adds a finished visit with `crowd` other accounts near it to the profile being built from
/// `from` on; while building, `reach` holds the total span in microseconds.
fn close_visit(prof: &mut Vec<Prof>, from: usize, visit: &OpenVisit, crowd: f32) {
    let span = (visit.end - visit.start) as f32;
    let own = prof.len() > from;
    match prof.last_mut() {
        Some(p) if own && p.key == visit.key => {
            p.visits += 1.0;
            p.reach += span;
            p.crowd += crowd;
        }
        _ => prof.push(Prof {
            key: visit.key,
            visits: 1.0,
            reach: span,
            crowd,
        }),
    }
}

/// The visits of one account expected to meet one of another's `vx` visits when each of its `vy`
/// visits meets a given one with chance `g`: `vy (1 - e^{-vx g})`.
#[inline]
fn side(vx: f64, vy: f64, g: f64) -> f64 {
    let z = vx * g;
    if z < 1e-3 {
        // 1 - e^{-z} = z (1 - z / 2) to 2e-7 relative here; no transcendental call on the common
        // path.
        vy * z * (1.0 - 0.5 * z)
    } else {
        vy * -(-z).exp_m1()
    }
}

/// The lane positions `lo..hi` near the visit from position `first` to `last` (times
/// `start..end`): within the window and the fan-out before its first event or after its last,
/// and those between, inside the lane `lane_lo..lane_end` of `ev`. These are the events a meeting
/// with the visit can be counted with.
fn near(
    ev: &[Ev],
    (lane_lo, lane_end): (usize, usize),
    visit: &OpenVisit,
    window: i64,
    fanout: usize,
) -> std::ops::Range<usize> {
    let floor = lane_lo.max(visit.first.saturating_sub(fanout));
    let mut lo = visit.first;
    while lo > floor && ev[lo - 1].ts >= visit.start - window {
        lo -= 1;
    }
    let ceil = lane_end.min(visit.last + fanout + 1);
    let mut hi = visit.last + 1;
    while hi < ceil && ev[hi].ts <= visit.end + window {
        hi += 1;
    }
    lo..hi
}

/// Which accounts one visit's crowd has counted: `at[account] == stamp`, a new stamp per visit.
#[derive(Debug)]
struct Marks {
    stamp: u32,
    at: Vec<u32>,
}

impl Marks {
    fn new(accounts: usize) -> Self {
        Marks {
            stamp: 0,
            at: vec![0; accounts],
        }
    }

    /// The crowd of a visit: the distinct accounts other than `own`, and other than those
    /// `known` to it, with an event [`near`] it.
    fn crowd_of(
        &mut self,
        ev: &[Ev],
        near: std::ops::Range<usize>,
        own: u32,
        known: Option<&AHashSet<u32>>,
    ) -> usize {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.at.fill(0);
            self.stamp = 1;
        }
        let mut n = 0;
        for e in &ev[near] {
            let at = &mut self.at[e.acct as usize];
            if e.acct != own && *at != self.stamp && known.is_none_or(|k| !k.contains(&e.acct)) {
                *at = self.stamp;
                n += 1;
            }
        }
        n
    }
}

/// Cuts `slice` into consecutive pieces of the given sizes (which must add up to its length), for
/// filling disjoint parts in parallel.
fn split_by_sizes<T>(mut slice: &mut [T], sizes: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    for n in sizes {
        let (head, tail) = std::mem::take(&mut slice).split_at_mut(n);
        out.push(head);
        slice = tail;
    }
    debug_assert!(slice.is_empty());
    out
}

/// Compacts the counted side events and builds the profiles and effective windows.
fn build_counted(
    m: &Market,
    cfg: &SyncConfig,
    keep_csr: &[bool],
    buckets: &Buckets,
    known: Option<&Known>,
) -> Counted {
    let mut clock = Instant::now();
    let window = cfg.window_us.max(1);
    let fanout = cfg.max_fanout.max(1) as usize;
    let n_acct = m.remap.len();
    let n_lanes = m.lanes();

    // Number the accounts by counted activity, busiest first: the scan's per-partner counters
    // are hit in proportion to the partner's activity, so the hot ones share a few cache lines.
    let kept_of = |a: usize| {
        keep_csr[m.acct_start[a]..m.acct_start[a + 1]]
            .iter()
            .filter(|&&k| k)
            .count()
    };
    let kept: Vec<usize> = (0..n_acct).into_par_iter().map(kept_of).collect();
    let mut dense_of: Vec<u32> = (0..n_acct as u32).collect();
    dense_of.par_sort_unstable_by_key(|&a| (std::cmp::Reverse(kept[a as usize]), a));
    let mut rank_of = vec![0u32; n_acct];
    for (r, &a) in dense_of.iter().enumerate() {
        rank_of[a as usize] = r as u32;
    }

    // Which lane-ordered events are counted: scattered from the account order in parallel.
    let keep: Vec<AtomicBool> = (0..m.ts.len()).map(|_| AtomicBool::new(false)).collect();
    m.acct_pos
        .par_iter()
        .zip(keep_csr.par_iter())
        .filter(|&(_, &k)| k)
        .for_each(|(&p, _)| keep[p as usize].store(true, Ordering::Relaxed));
    let keep: Vec<bool> = keep.into_iter().map(AtomicBool::into_inner).collect();

    // The counted events in lane order, one lane per task, and where each one went.
    let per_lane: Vec<usize> = (0..n_lanes)
        .into_par_iter()
        .map(|l| {
            keep[m.lane_start[l]..m.lane_start[l + 1]]
                .iter()
                .filter(|&&k| k)
                .count()
        })
        .collect();
    let mut lane_start = vec![0usize; n_lanes + 1];
    for l in 0..n_lanes {
        lane_start[l + 1] = lane_start[l] + per_lane[l];
    }
    let mut ev = vec![Ev::default(); lane_start[n_lanes]];
    let mut newpos = vec![u32::MAX; m.ts.len()];
    split_by_sizes(&mut ev, per_lane.iter().copied())
        .into_par_iter()
        .zip(split_by_sizes(
            &mut newpos,
            (0..n_lanes).map(|l| m.lane_start[l + 1] - m.lane_start[l]),
        ))
        .enumerate()
        .for_each(|(l, (out, moved))| {
            let (base, first) = (lane_start[l], m.lane_start[l]);
            let mut n = 0;
            for p in m.lane_start[l]..m.lane_start[l + 1] {
                if keep[p] {
                    moved[p - first] = (base + n) as u32;
                    out[n] = Ev {
                        ts: m.ts[p],
                        acct: rank_of[m.acct[p] as usize],
                        cp: rank_of[m.cp[p] as usize],
                        visit: 0,
                        id: m.id[p],
                    };
                    n += 1;
                }
            }
        });
    drop(keep);
    // The known accounts by rank, for the crowds of the accounts that have some.
    let known: AHashMap<u32, AHashSet<u32>> = known
        .map(|k| {
            k.iter()
                .filter_map(|(a, others)| {
                    let a = rank_of[m.remap.get(*a)? as usize];
                    let others = others
                        .iter()
                        .filter_map(|o| m.remap.get(*o).map(|d| rank_of[d as usize]))
                        .collect();
                    Some((a, others))
                })
                .collect()
        })
        .unwrap_or_default();

    // Each account's counted events by rank, in blocks of ranks per task.
    let mut acct_start = vec![0usize; n_acct + 1];
    for (r, &a) in dense_of.iter().enumerate() {
        acct_start[r + 1] = acct_start[r] + kept[a as usize];
    }
    let n_kept = acct_start[n_acct];
    let (mut acct_pos, mut own_ts, mut own_lane) =
        (vec![0u32; n_kept], vec![0i64; n_kept], vec![0u32; n_kept]);
    const BLOCK: usize = 4096;
    let blocks = n_acct.div_ceil(BLOCK);
    let block_size = |i: usize| acct_start[((i + 1) * BLOCK).min(n_acct)] - acct_start[i * BLOCK];
    split_by_sizes(&mut acct_pos, (0..blocks).map(block_size))
        .into_par_iter()
        .zip(split_by_sizes(&mut own_ts, (0..blocks).map(block_size)))
        .zip(split_by_sizes(&mut own_lane, (0..blocks).map(block_size)))
        .enumerate()
        .for_each(|(i, ((pos, times), lanes))| {
            let mut n = 0;
            for &a in &dense_of[i * BLOCK..((i + 1) * BLOCK).min(n_acct)] {
                for k in m.range(a as usize) {
                    if keep_csr[k] {
                        pos[n] = newpos[m.acct_pos[k] as usize];
                        times[n] = m.acct_ts[k];
                        lanes[n] = m.acct_lane[k];
                        n += 1;
                    }
                }
            }
        });
    drop(newpos);

    lap(&mut clock, "sync.compact");
    // The effective half-window per (lane, bucket) is `window`, or the time `fanout` counted
    // events take at that lane's rate in that bucket, whichever is shorter; `gain` is twice it
    // as a share of the bucket's active length: the chance that one uniformly placed event falls
    // near another.
    let n_buckets = buckets.count().max(1);
    let mut per_key = vec![0u32; n_lanes * n_buckets];
    per_key
        .par_chunks_mut(n_buckets)
        .enumerate()
        .for_each(|(l, counts)| {
            for e in &ev[lane_start[l]..lane_start[l + 1]] {
                counts[buckets.of(e.ts)] += 1;
            }
        });
    let gain: Vec<f64> = per_key
        .iter()
        .enumerate()
        .map(|(key, &n)| {
            let len = buckets.len[key % n_buckets];
            let half = (fanout as f64 * len / f64::from(n.max(1))).min(window as f64);
            2.0 * half / len
        })
        .collect();

    // Visits and profiles, per block of ranks in parallel: each account's visit numbers (from 1,
    // across its lanes) and its visits, spans and crowds per (lane, bucket), keyed lane-major so
    // that the keys come out sorted.
    let mut own_visit = vec![0u32; n_kept];
    let blocks_out: Vec<(Vec<Prof>, Vec<usize>)> =
        split_by_sizes(&mut own_visit, (0..blocks).map(block_size))
            .into_par_iter()
            .enumerate()
            .map(|(i, visit_out)| {
                let ranks = i * BLOCK..((i + 1) * BLOCK).min(n_acct);
                let base = acct_start[ranks.start];
                let mut prof: Vec<Prof> = Vec::new();
                let mut lens = Vec::with_capacity(ranks.len());
                let mut marks = Marks::new(n_acct);
                for r in ranks {
                    let range = acct_start[r]..acct_start[r + 1];
                    let before = prof.len();
                    let mut number = 0u32;
                    for (lane, run) in lane_runs(&own_lane[range.clone()]) {
                        let (lane_lo, lane_end) =
                            (lane_start[lane as usize], lane_start[lane as usize + 1]);
                        let mut close = |prof: &mut Vec<Prof>, o: &OpenVisit| {
                            let around = near(&ev, (lane_lo, lane_end), o, window, fanout);
                            let crowd =
                                marks.crowd_of(&ev, around, r as u32, known.get(&(r as u32)));
                            close_visit(prof, before, o, crowd as f32);
                        };
                        let mut visits = Visits::new(window);
                        let mut open: Option<OpenVisit> = None;
                        for k in range.start + run.start..range.start + run.end {
                            let (t, pos) = (own_ts[k], acct_pos[k] as usize);
                            if visits.step(t) {
                                number += 1;
                                if let Some(o) = open.take() {
                                    close(&mut prof, &o);
                                }
                                let key = lane * n_buckets as u32 + buckets.of(t) as u32;
                                open = Some(OpenVisit {
                                    key,
                                    start: t,
                                    end: t,
                                    first: pos,
                                    last: pos,
                                });
                            } else if let Some(o) = open.as_mut() {
                                o.end = t;
                                o.last = pos;
                            }
                            visit_out[k - base] = number;
                        }
                        if let Some(o) = open {
                            close(&mut prof, &o);
                        }
                    }
                    for p in &mut prof[before..] {
                        // While counting, `reach` holds the total span in microseconds.
                        let len = buckets.len[p.key as usize % n_buckets];
                        p.reach = (f64::from(p.reach) / f64::from(p.visits) / len) as f32;
                    }
                    lens.push(prof.len() - before);
                }
                (prof, lens)
            })
            .collect();
    lap(&mut clock, "sync.visits");
    // Scatter the visit numbers to the lane order, in parallel through atomics (the positions
    // are distinct, so relaxed stores suffice).
    let scattered: Vec<AtomicU32> = (0..ev.len()).map(|_| AtomicU32::new(0)).collect();
    acct_pos
        .par_iter()
        .zip(own_visit.par_iter())
        .for_each(|(&p, &v)| scattered[p as usize].store(v, Ordering::Relaxed));
    ev.par_iter_mut()
        .zip(scattered.par_iter())
        .for_each(|(e, v)| e.visit = v.load(Ordering::Relaxed));
    drop(scattered);
    let mut prof_start = Vec::with_capacity(n_acct + 1);
    prof_start.push(0);
    let mut prof = Vec::with_capacity(blocks_out.iter().map(|b| b.0.len()).sum());
    for (block, lens) in blocks_out {
        for n in lens {
            prof_start.push(prof_start.last().copied().unwrap_or(0) + n);
        }
        prof.extend(block);
    }
    let mut key_visits = vec![0f32; n_lanes * n_buckets];
    for p in &prof {
        key_visits[p.key as usize] += p.visits;
    }

    Counted {
        window,
        fanout,
        ev,
        lane_start,
        acct_start,
        acct_pos,
        own_visit,
        prof_start,
        prof,
        gain: gain.into_iter().map(|g| g as f32).collect(),
        key_visits,
        buckets: buckets.clone(),
        dense_of,
    }
}

/// What an owner has tallied for one partner.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Visits of the owner that met the partner, and the last one counted.
    own_count: u32,
    own_last: u32,
    /// Visits of the partner that met the owner, and the latest one counted: meetings arrive in
    /// time order, so a visit number not above it was counted already.
    partner_count: u32,
    partner_last: u32,
}

/// Per-thread partner tallies, dense over account ranks and reset through the touched list.
#[derive(Debug)]
struct Scratch {
    slot: Vec<Slot>,
    touched: Vec<u32>,
}

/// A [`Scratch`] on loan from a pool, returned when dropped. Rayon calls `map_init`'s init once
/// per split, which can be thousands of times; allocating a fresh dense array each time had the
/// kernel zeroing gigabytes of pages.
struct Pooled<'p> {
    scratch: Scratch,
    pool: &'p Mutex<Vec<Scratch>>,
}

impl<'p> Pooled<'p> {
    fn take(pool: &'p Mutex<Vec<Scratch>>, n: usize) -> Self {
        let spare = pool.lock().map(|mut p| p.pop()).ok().flatten();
        Pooled {
            scratch: spare.unwrap_or_else(|| Scratch::new(n)),
            pool,
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let scratch = std::mem::replace(
            &mut self.scratch,
            Scratch {
                slot: Vec::new(),
                touched: Vec::new(),
            },
        );
        if let Ok(mut p) = self.pool.lock() {
            p.push(scratch);
        }
    }
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            slot: vec![Slot::default(); n],
            touched: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &a in &self.touched {
            self.slot[a as usize] = Slot::default();
        }
        self.touched.clear();
    }
}

impl Counted {
    fn profile(&self, a: u32) -> &[Prof] {
        &self.prof[self.prof_start[a as usize]..self.prof_start[a as usize + 1]]
    }

    fn lane_of(&self, p: u32) -> usize {
        self.lane_start.partition_point(|&s| s <= p as usize) - 1
    }

    /// Calls `f(j)` for every side event `j` that co-occurs with the event at `p`, in position
    /// (so time) order: within the window and the fan-out in the same lane (`lane_lo..lane_end`),
    /// of another account ranked below `below`, and not on a trade between the two accounts.
    fn for_each_meeting(
        &self,
        p: usize,
        lane_lo: usize,
        lane_end: usize,
        below: u32,
        mut f: impl FnMut(usize),
    ) {
        let (b, t, own_cp) = (self.ev[p].acct, self.ev[p].ts, self.ev[p].cp);
        let floor = lane_lo.max(p.saturating_sub(self.fanout));
        let mut lo = p;
        while lo > floor && self.ev[lo - 1].ts >= t - self.window {
            lo -= 1;
        }
        let hi = lane_end.min(p + self.fanout + 1);
        for (j, e) in self.ev[lo..hi].iter().enumerate() {
            if e.ts > t + self.window {
                break;
            }
            // Same account (`j == p` included), or the two trade with each other here: not
            // synchronisation.
            if e.acct < below && e.acct != b && e.cp != b && own_cp != e.acct {
                f(lo + j);
            }
        }
    }

    /// Walks the counted events of `a` in order, calling `f(position, lane start, lane end,
    /// visit)`.
    fn walk(&self, a: u32, mut f: impl FnMut(usize, usize, usize, u32)) {
        let (mut lane_lo, mut lane_end) = (0usize, 0usize);
        let range = self.acct_start[a as usize]..self.acct_start[a as usize + 1];
        for (&p, &visit) in self.acct_pos[range.clone()]
            .iter()
            .zip(&self.own_visit[range])
        {
            let p = p as usize;
            if p >= lane_end {
                let lane = self.lane_of(p as u32);
                lane_lo = self.lane_start[lane];
                lane_end = self.lane_start[lane + 1];
            }
            f(p, lane_lo, lane_end, visit);
        }
    }

    /// Tallies, for owner `b` and every partner ranked before it (busier), the visits of each
    /// that meet the other, into `scratch`. Returns the number of such partners met.
    fn scan(&self, b: u32, scratch: &mut Scratch) -> usize {
        self.walk(b, |p, lane_lo, lane_end, own_visit| {
            // Only busier partners: the other pairs are the partners' to count.
            self.for_each_meeting(p, lane_lo, lane_end, b, |j| {
                let a = self.ev[j].acct;
                let slot = &mut scratch.slot[a as usize];
                if slot.own_count == 0 {
                    scratch.touched.push(a);
                }
                if slot.own_last != own_visit {
                    slot.own_count += 1;
                    slot.own_last = own_visit;
                }
                let partner_visit = self.ev[j].visit;
                if partner_visit > slot.partner_last {
                    slot.partner_count += 1;
                    slot.partner_last = partner_visit;
                }
            });
        });
        scratch.touched.len()
    }

    /// The co-events expected in one key from profile entries `x` and `y` if both placed their
    /// visits uniformly in the bucket: `min(v_y (1 - e^{-v_x g}), v_x (1 - e^{-v_y g}))`, `g =
    /// gain + r_x + r_y` with `r` the mean spans. Never above [`Counted::term`]. Symmetric to the
    /// bit.
    #[inline]
    fn term_uniform(&self, x: &Prof, y: &Prof) -> f64 {
        let g = f64::from(self.gain[x.key as usize]) + (f64::from(x.reach) + f64::from(y.reach));
        let (vx, vy) = (f64::from(x.visits), f64::from(y.visits));
        side(vx, vy, g).min(side(vy, vx, g))
    }

    /// The chance that a visit of another account, placed as the key's visits are, falls near a
    /// given visit of `x`, on average over `x`'s visits, leaving out `partner` visits of the
    /// other account found near `x`'s: the larger of the uniform chance (effective window plus
    /// span) and `x`'s crowd as a share of the key's visits. Trades in a moment the whole market
    /// trades in are expected to meet; the partner's own presence is not part of that market.
    #[inline]
    fn chance(&self, x: &Prof, partner: f32) -> f64 {
        let key = x.key as usize;
        let uniform = f64::from(self.gain[key]) + f64::from(x.reach);
        let crowd = (f64::from(x.crowd) - f64::from(partner)).max(0.0);
        let all = f64::from(self.key_visits[key]).max(1.0);
        uniform.max(crowd / f64::from(x.visits) / all)
    }

    /// The co-events expected in one key between `x` and `y`, placing each one's visits as the
    /// key's visits are placed: `min(v_y (1 - e^{-v_x (c_x + r_y)}), v_x (1 - e^{-v_y (c_y +
    /// r_x)}))` with `c` from [`Counted::chance`] and `px`, `py` the visits of the other found
    /// near `x`'s and `y`'s. Symmetric to the bit.
    #[inline]
    fn term(&self, x: &Prof, px: f32, y: &Prof, py: f32) -> f64 {
        let (vx, vy) = (f64::from(x.visits), f64::from(y.visits));
        let from_y = side(vx, vy, self.chance(x, px) + f64::from(y.reach));
        let from_x = side(vy, vx, self.chance(y, py) + f64::from(x.reach));
        from_x.min(from_y)
    }

    /// For each key of `a`'s profile (in key order), how many of `a`'s visits there have an
    /// event of `b` near them: the part of `a`'s crowd that `b` makes.
    fn partner_visits(&self, a: u32, b: u32) -> Vec<(u32, f32)> {
        let n_buckets = self.buckets.count().max(1) as u32;
        let mut out: Vec<(u32, f32)> = Vec::new();
        let range = self.acct_start[a as usize]..self.acct_start[a as usize + 1];
        let (pos, visit) = (&self.acct_pos[range.clone()], &self.own_visit[range]);
        let mut i = 0;
        while i < pos.len() {
            let mut j = i + 1;
            while j < pos.len() && visit[j] == visit[i] {
                j += 1;
            }
            let (first, last) = (pos[i] as usize, pos[j - 1] as usize);
            let lane = self.lane_of(first as u32);
            let o = OpenVisit {
                key: lane as u32 * n_buckets + self.buckets.of(self.ev[first].ts) as u32,
                start: self.ev[first].ts,
                end: self.ev[last].ts,
                first,
                last,
            };
            let bounds = (self.lane_start[lane], self.lane_start[lane + 1]);
            let around = near(&self.ev, bounds, &o, self.window, self.fanout);
            if self.ev[around].iter().any(|e| e.acct == b) {
                match out.last_mut() {
                    Some(last) if last.0 == o.key => last.1 += 1.0,
                    _ => out.push((o.key, 1.0)),
                }
            }
            i = j;
        }
        out
    }

    /// The co-events of `a` and `b` expected by chance, each placing its visits as the market's
    /// visits are placed in every key (see [`Counted::chance`]); symmetric in `a` and `b`.
    fn expected(&self, a: u32, b: u32) -> f64 {
        let (pa, pb) = (self.profile(a), self.profile(b));
        let (na, nb) = (self.partner_visits(a, b), self.partner_visits(b, a));
        let of = |n: &[(u32, f32)], key: u32| {
            n.binary_search_by_key(&key, |x| x.0)
                .map_or(0.0, |i| n[i].1)
        };
        let (mut i, mut j) = (0, 0);
        let mut mu = 0.0;
        while i < pa.len() && j < pb.len() {
            match pa[i].key.cmp(&pb[j].key) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let key = pa[i].key;
                    mu += self.term(&pa[i], of(&na, key), &pb[j], of(&nb, key));
                    i += 1;
                    j += 1;
                }
            }
        }
        mu
    }

    /// A lower bound of [`Counted::expected`] from [`Counted::term_uniform`], giving up as soon as
    /// the sum passes `limit`. Walks the shorter profile and finds its keys in the longer one by
    /// binary search: a light account against a market-wide one costs a few probes, not the long
    /// profile. Shared keys are summed in key
    /// order whichever side is shorter, so both accounts of a pair get the same bits.
    fn expected_up_to(&self, a: u32, b: u32, limit: f64) -> f64 {
        let (pa, pb) = (self.profile(a), self.profile(b));
        let (short, long) = if pa.len() <= pb.len() {
            (pa, pb)
        } else {
            (pb, pa)
        };
        let mut mu = 0.0;
        let mut from = 0;
        for x in short {
            let rest = &long[from..];
            match rest.binary_search_by_key(&x.key, |p| p.key) {
                Ok(i) => {
                    let y = rest[i];
                    mu += self.term_uniform(x, &y);
                    if mu > limit {
                        return mu;
                    }
                    from += i + 1;
                }
                Err(i) => from += i,
            }
            if from == long.len() {
                break;
            }
        }
        mu
    }

    /// Up to `max` co-occurring (trade of `a`, trade of `b`) ids, one per visit of `a`, earliest
    /// first.
    fn examples(&self, a: u32, b: u32, max: usize) -> Vec<(u32, u32)> {
        let mut found: Vec<(i64, u32, u32)> = Vec::new();
        let mut used = 0u32;
        self.walk(a, |p, lane_lo, lane_end, visit| {
            if used == visit {
                return;
            }
            let mut hit = None;
            self.for_each_meeting(p, lane_lo, lane_end, u32::MAX, |j| {
                if hit.is_none() && self.ev[j].acct == b {
                    hit = Some(j);
                }
            });
            if let Some(j) = hit {
                used = visit;
                found.push((self.ev[p].ts, self.ev[p].id, self.ev[j].id));
            }
        });
        found.sort_unstable();
        found
            .into_iter()
            .take(max)
            .map(|(_, x, y)| (x, y))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::synth::{SynthConfig, generate};
    use std::collections::{BTreeMap, BTreeSet};

    fn small(seed: u64) -> Vec<TradeEvent> {
        generate(&SynthConfig {
            trades: 4000,
            accounts: 150,
            instruments: 2,
            hours: 1,
            sync_pairs: 3,
            sync_events: (4, 8),
            seed,
            ..SynthConfig::default()
        })
        .trades
    }

    /// The counted view with every account counted: the tallies depend on which events are
    /// counted, not on why.
    fn counted(m: &Market, cfg: &SyncConfig) -> Counted {
        let buckets = Buckets::new(
            m.span,
            &m.ts,
            cfg.profile_bucket_us,
            cfg.window_us,
            m.lanes(),
        );
        build_counted(m, cfg, &vec![true; m.acct_pos.len()], &buckets, None)
    }

    /// The tallies by definition, over all pairs of counted events: for each unordered pair of
    /// accounts, the distinct visits of each that meet the other.
    fn brute(c: &Counted) -> BTreeMap<(u32, u32), (u32, u32)> {
        let mut met: BTreeMap<(u32, u32), (BTreeSet<u32>, BTreeSet<u32>)> = BTreeMap::new();
        for l in 0..c.lane_start.len() - 1 {
            for p in c.lane_start[l]..c.lane_start[l + 1] {
                for j in c.lane_start[l]..c.lane_start[l + 1] {
                    let (x, y) = (c.ev[p], c.ev[j]);
                    if p == j
                        || x.acct == y.acct
                        || (x.ts - y.ts).abs() > c.window
                        || p.abs_diff(j) > c.fanout
                        || x.cp == y.acct
                        || y.cp == x.acct
                    {
                        continue;
                    }
                    let e = met
                        .entry((x.acct.min(y.acct), x.acct.max(y.acct)))
                        .or_default();
                    if x.acct < y.acct {
                        e.0.insert(x.visit);
                    } else {
                        e.1.insert(x.visit);
                    }
                }
            }
        }
        met.into_iter()
            .map(|(k, (a, b))| (k, (a.len() as u32, b.len() as u32)))
            .collect()
    }

    #[test]
    fn scan_tallies_match_the_definition() {
        for seed in 0..6 {
            let trades = small(seed);
            let m = Market::build(&trades);
            for fanout in [2, 5, 64] {
                let cfg = SyncConfig {
                    max_fanout: fanout,
                    ..SyncConfig::default()
                };
                let c = counted(&m, &cfg);
                let want = brute(&c);
                let mut got = BTreeMap::new();
                let mut scratch = Scratch::new(m.remap.len());
                for b in 0..m.remap.len() as u32 {
                    c.scan(b, &mut scratch);
                    for &a in &scratch.touched {
                        let s = scratch.slot[a as usize];
                        // a < b: the smaller rank first, its tally is the partner's.
                        got.insert((a, b), (s.partner_count, s.own_count));
                    }
                    scratch.reset();
                }
                assert_eq!(got, want, "seed {seed} fanout {fanout}");
            }
        }
    }

    #[test]
    fn expectation_is_symmetric_to_the_bit() {
        let trades = small(9);
        let m = Market::build(&trades);
        let c = counted(&m, &SyncConfig::default());
        let n = m.remap.len() as u32;
        for a in 0..n {
            for b in (a + 1..n).step_by(7) {
                let (x, y) = (c.expected(a, b), c.expected(b, a));
                assert_eq!(x.to_bits(), y.to_bits(), "{a} {b}");
                let limit = x / 2.0;
                assert!(c.expected_up_to(a, b, limit) > limit || x == 0.0);
            }
        }
    }

    /// A market of `n` accounts over `days` days: quiet random trades all day, a crowd of
    /// `crowd` accounts trading one contract in the same second at `bursts` moments a day (the
    /// open, a release), each taking part with chance one half, and accounts 0 and 1 trading
    /// together, away from the crowds, at `planted` moments.
    fn bursty(n: u32, days: i64, bursts: usize, crowd: u32, planted: usize) -> Vec<TradeEvent> {
        use rand_xoshiro::Xoshiro256PlusPlus;
        use rand_xoshiro::rand_core::{RngCore, SeedableRng};
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut below = move |n: i64| (rng.next_u64() % n as u64) as i64;
        let day = 86_400_000_000i64;
        let session = 4 * 3_600_000_000i64;
        let mut trades = Vec::new();
        let mut push = |ts: i64, instrument: u32, buy: u32, sell: u32| {
            let id = trades.len() as u32;
            trades.push(TradeEvent {
                id,
                ts,
                instrument,
                buy: NodeId(buy),
                sell: NodeId(sell),
                price: 100.0,
                volume: 1,
            });
        };
        // Counterparties: a pool of accounts that nobody else uses.
        for d in 0..days {
            let start = d * day;
            for _ in 0..2000 {
                let a = 2 + below(i64::from(n) - 2) as u32;
                let c = n + below(2000) as u32;
                push(start + below(session), below(2) as u32, a, c);
            }
            for k in 0..bursts {
                let t0 = start + (k as i64 + 1) * session / (bursts as i64 + 1);
                for a in 2..2 + crowd {
                    if below(2) == 0 {
                        let c = n + below(2000) as u32;
                        push(t0 + below(1_000_000), 0, a, c);
                    }
                }
            }
        }
        for _ in 0..planted {
            let t = below(days) * day + below(session);
            let (c, e) = (n + below(2000) as u32, n + below(2000) as u32);
            push(t, 1, 0, c);
            push(t + below(500_000), 1, 1, e);
        }
        trades.sort_by_key(|t| (t.ts, t.id));
        for (i, t) in trades.iter_mut().enumerate() {
            t.id = i as u32;
        }
        trades
    }

    #[test]
    fn a_crowd_the_market_gathers_is_not_synchronised_trading() {
        // 150 accounts meet at 3 moments a day for 20 days: any two of them about 15 times, far
        // more than uniform trading would give. Only the planted pair trades together by itself.
        let trades = bursty(600, 20, 3, 150, 10);
        let report = synchronised_pairs(&trades, &SyncConfig::default());
        let pairs: Vec<(u32, u32)> = report.pairs.iter().map(|p| (p.a.0, p.b.0)).collect();
        let first = &pairs[..pairs.len().min(8)];
        assert_eq!(
            pairs,
            vec![(0, 1)],
            "{} pairs, first {first:?}",
            pairs.len()
        );
        // The crowd's pairs do meet often: the scan sees them, the expectation explains them.
        assert!(
            report.co_occurring_pairs > 5_000,
            "{}",
            report.co_occurring_pairs
        );
    }

    #[test]
    fn a_studio_that_is_the_crowd_is_found_when_its_ties_are_known() {
        // No bursts of strangers; 40 accounts (2..42) trade together at 12 moments of a quiet
        // tape, each taking part with chance one half: they are the whole crowd there.
        let mut trades = bursty(600, 20, 0, 0, 0);
        let day = 86_400_000_000i64;
        let mut next = trades.len() as u32;
        for k in 0..12i64 {
            let t0 = (k % 20) * day + 3_600_000_000 + k * 97_000_000;
            for a in 2..42u32 {
                if (a as i64 * 7 + k * 3) % 2 == 0 {
                    trades.push(TradeEvent {
                        id: next,
                        ts: t0 + i64::from(a) * 10_000,
                        instrument: 1,
                        buy: NodeId(a),
                        sell: NodeId(5000 + next),
                        price: 100.0,
                        volume: 1,
                    });
                    next += 1;
                }
            }
        }
        trades.sort_by_key(|t| (t.ts, t.id));
        let m = Market::build(&trades);
        let cfg = SyncConfig::default();
        let studio = |r: &SyncReport| {
            r.pairs
                .iter()
                .filter(|p| (2..42).contains(&p.a.0) && (2..42).contains(&p.b.0))
                .count()
        };
        let unknown = sync_on(&m, &cfg, None, None);
        let mut known: Known = AHashMap::new();
        for a in 2..42u32 {
            known.insert(NodeId(a), (2..42).filter(|&b| b != a).map(NodeId).collect());
        }
        let knowing = sync_on(&m, &cfg, None, Some(&known));
        assert!(
            studio(&knowing) > 2 * studio(&unknown).max(1),
            "known {} unknown {}",
            studio(&knowing),
            studio(&unknown)
        );
        assert!(knowing.pairs.iter().all(|p| p.a.0 >= 2 && p.b.0 < 42));
    }

    #[test]
    fn limits_bracket_the_threshold() {
        let threshold = 9.5;
        let limits = mu_limits(threshold, 64);
        for (c, &mu) in limits.iter().enumerate() {
            let c = c as u32;
            if mu == 0.0 {
                assert!(poisson_significance(c, 1e-12) < threshold);
                continue;
            }
            assert!(poisson_significance(c, mu) < threshold, "{c}");
            assert!(poisson_significance(c, mu * (1.0 - 1e-9)) >= threshold * (1.0 - 1e-12));
        }
    }
}
