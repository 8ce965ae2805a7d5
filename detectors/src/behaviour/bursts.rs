//! Group bursts: accounts in no group that keep turning up when a group's accounts trade one
//! contract together.
//!
//! A trading studio (工作室) running borrowed accounts fires one order across dozens of them at
//! once: the same contract, the same direction, within a second or two. An account it runs that
//! nothing else ties to it (no shared terminal, order placer or transfer) trades in those bursts
//! and little else. Pairwise synchronised trading misses it: with a few trades it meets each of
//! the group's accounts only a few times, and at a burst the other accounts present are the
//! studio's own (many of them not yet found), so the crowd that the pairwise model uses to explain
//! a meeting is the studio itself. The question asked here is "does this account join this
//! group's bursts more often than chance?", once per group and account.
//!
//! # Design
//!
//! *Bursts.* In each lane (one instrument, one direction) the side events of a group's accounts
//! are cut into runs whose consecutive events are at most `window` apart and whose whole span is
//! at most `max_span` (a burst is a moment, not a session). A run is a *burst* of the group when
//! at least `min_accounts` distinct accounts of the group trade in it and the group's accounts are
//! at least `min_share` of all distinct accounts trading the lane in the run's span widened by
//! `window` on both sides. The share is what keeps the market's busy moments (a release, the
//! open) out: there the group is a handful among hundreds, and everyone present meets it.
//!
//! *Joining.* An account in no group joins a burst when it has a side event in the lane within
//! the widened span, other than a trade with one of the group's accounts (trading with the group
//! is matched trading, not trading alongside it).
//!
//! *Chance.* Time is cut into buckets (`bucket`, 30 minutes by default). An account's side
//! events in one lane are cut into *visits* as the synchronised-trading detector does (a visit
//! takes every later event of the account within `window`). Under the null, an account's visits
//! in a (lane, bucket) fall where the market's visits fall, and a visit lands in burst `b` with
//! chance `q_b`: the larger of the burst's widened span over the bucket's length (the uniform
//! chance) and the share of the bucket's visits by accounts in no group that the burst's one-off
//! crowd made, `(r_b + 1) / (V + 1)`, where `r_b` counts the accounts in no group that joined `b`
//! and no other burst of the group (a stranger who happened to be there) and `V` the bucket's
//! visits by accounts in no group. An account with `v` visits in the bucket joins `b` with chance
//! `1 - (1 - q_b)^v`; the expected number of bursts it joins is the sum of those over the group's
//! bursts, so a busy account that trades all day is expected to join many. The significance is
//! `-log10 P(Poisson(expected) >= joined)`. The tests are counted, for every group, as the
//! accounts in no group active in each (lane, bucket) of its bursts, added over those buckets (an
//! account active in two of them counts twice: an upper bound), and the findings are chosen by the
//! Benjamini–Hochberg procedure at the false discovery rate `false_discovery_rate`: sorted by
//! p-value, the first `i` are kept for the largest `i` whose p-value is at most `i * rate /
//! tests`. This is the analyst's question (of the accounts put forward, how many are wrong?), and
//! unlike a family-wise bound it does not ask each of a studio's thirty borrowed accounts seen in
//! the same three bursts to prove itself as if it were the only one.
//!
//! *Rounds.* An account found joins its group for the next round, so the group's bursts grow
//! their share and its other borrowed accounts are asked again, until nothing changes.
//!
//! *Cost.* Sorting the side events, `O(n log n)`; each round reads every side event a constant
//! number of times plus the widened span of each burst.

use std::collections::BTreeMap;

use ahash::{AHashMap, AHashSet};
use graph_core::NodeId;
use serde::{Deserialize, Serialize};

use super::TradeEvent;
use super::poisson::poisson_significance;

/// The configuration of [`group_bursts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BurstConfig {
    /// Consecutive events of a burst, and a joining event and the burst, are at most this far
    /// apart, in microseconds (default 3 s, the synchronised-trading window).
    pub window_us: i64,
    /// A burst spans at most this long, in microseconds (default 30 s).
    pub max_span_us: i64,
    /// The fewest distinct accounts of the group in a burst (default 3).
    pub min_accounts: u32,
    /// The smallest share of the group's accounts among all accounts trading the lane in the
    /// burst's widened span (default 1/3).
    pub min_share: f64,
    /// The length of the buckets that chance is computed over, in microseconds (default 30
    /// minutes).
    pub bucket_us: i64,
    /// The fewest bursts an account must join (default 2).
    pub min_joined: u32,
    /// The false discovery rate over all (group, account) tests (default 0.01).
    pub false_discovery_rate: f64,
    /// How many example trade pairs to attach to each finding (default 5).
    pub max_examples: usize,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            window_us: 3_000_000,
            max_span_us: 30_000_000,
            min_accounts: 3,
            min_share: 1.0 / 3.0,
            bucket_us: 30 * 60 * 1_000_000,
            min_joined: 2,
            false_discovery_rate: 0.01,
            max_examples: 5,
        }
    }
}

/// An account in no group that joins one group's bursts more often than chance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupBurst {
    pub account: NodeId,
    /// The group, as the caller numbered it.
    pub group: u32,
    /// The group's account present in most of the bursts it joined (one the group held before
    /// this search when there is one).
    pub member: NodeId,
    /// The bursts it joined, and of those the ones `member` traded in.
    pub joined: u32,
    pub with_member: u32,
    /// The group's bursts in all, in the round it was found.
    pub bursts: u32,
    /// The bursts it was expected to join by chance.
    pub expected: f64,
    /// `-log10 P(Poisson(expected) >= joined)`; compare with `threshold`.
    pub significance: f64,
    /// The significance the Benjamini–Hochberg procedure needed in the round it was found.
    pub threshold: f64,
    /// A few (trade of `account`, trade of `member`) pairs from bursts they both traded in, in
    /// time order.
    pub examples: Vec<(u32, u32)>,
}

/// One side of a trade: the account's buy or sell.
#[derive(Debug, Clone, Copy)]
struct Side {
    ts: i64,
    account: NodeId,
    other: NodeId,
    trade: u32,
    /// Whether this event starts a visit of its account in the lane.
    visit: bool,
}

/// One burst of one group, in one lane.
struct Burst {
    lane: usize,
    bucket: i64,
    /// The uniform chance of a visit landing in it.
    span_share: f64,
    /// The accounts in no group that joined it, with their first trade in it.
    joined: Vec<(NodeId, u32)>,
    /// The group's accounts that traded in it, with their first trade in it.
    members: AHashMap<NodeId, u32>,
    start: i64,
}

/// Accounts in no group that join one group's bursts more often than chance; see the module
/// documentation. `group_of` maps the accounts of each group to the group's number; an account
/// found joins its group for the following rounds and is reported once, with the group whose
/// bursts it joined most significantly.
pub fn group_bursts(
    trades: &[TradeEvent],
    group_of: &AHashMap<NodeId, u32>,
    cfg: &BurstConfig,
) -> Vec<GroupBurst> {
    let w = cfg.window_us.max(0);
    let bucket_us = cfg.bucket_us.max(1);
    let lanes = lanes(trades, w);
    let mut member_of = group_of.clone();
    let mut found = Vec::new();
    loop {
        let round = one_round(&lanes, &member_of, group_of, cfg, w, bucket_us);
        if round.is_empty() {
            break;
        }
        for f in round {
            member_of.insert(f.account, f.group);
            found.push(f);
        }
    }
    found
}

/// The tape as side events per lane, in time order, with visit starts marked.
fn lanes(trades: &[TradeEvent], w: i64) -> Vec<Vec<Side>> {
    let mut lane_of: BTreeMap<(u32, bool), usize> = BTreeMap::new();
    for t in trades {
        for buy in [true, false] {
            let n = lane_of.len();
            lane_of.entry((t.instrument, buy)).or_insert(n);
        }
    }
    let mut lanes: Vec<Vec<Side>> = vec![Vec::new(); lane_of.len()];
    for t in trades {
        if t.buy == t.sell {
            continue;
        }
        for (buy, account, other) in [(true, t.buy, t.sell), (false, t.sell, t.buy)] {
            lanes[lane_of[&(t.instrument, buy)]].push(Side {
                ts: t.ts,
                account,
                other,
                trade: t.id,
                visit: false,
            });
        }
    }
    for lane in &mut lanes {
        lane.sort_unstable_by_key(|s| (s.ts, s.account, s.trade));
        let mut last: AHashMap<NodeId, i64> = AHashMap::new();
        for s in lane.iter_mut() {
            let prev = last.insert(s.account, s.ts);
            s.visit = prev.is_none_or(|p| s.ts - p > w);
        }
    }
    lanes
}

fn one_round(
    lanes: &[Vec<Side>],
    member_of: &AHashMap<NodeId, u32>,
    original: &AHashMap<NodeId, u32>,
    cfg: &BurstConfig,
    w: i64,
    bucket_us: i64,
) -> Vec<GroupBurst> {
    // Visits and distinct active accounts in no group, per (lane, bucket).
    let mut key_visits: AHashMap<(usize, i64), (u32, u32)> = AHashMap::new();
    for (li, lane) in lanes.iter().enumerate() {
        let mut seen: AHashSet<(NodeId, i64)> = AHashSet::new();
        for s in lane.iter().filter(|s| !member_of.contains_key(&s.account)) {
            let key = (li, s.ts.div_euclid(bucket_us));
            let e = key_visits.entry(key).or_default();
            if s.visit {
                e.0 += 1;
            }
            if seen.insert((s.account, key.1)) {
                e.1 += 1;
            }
        }
    }

    let mut by_group: AHashMap<u32, Vec<Burst>> = AHashMap::new();
    for (li, lane) in lanes.iter().enumerate() {
        let mut runs: AHashMap<u32, Vec<usize>> = AHashMap::new();
        for (i, s) in lane.iter().enumerate() {
            if let Some(&g) = member_of.get(&s.account) {
                runs.entry(g).or_default().push(i);
            }
        }
        let mut runs: Vec<(u32, Vec<usize>)> = runs.into_iter().collect();
        runs.sort_unstable_by_key(|r| r.0);
        for (g, idx) in runs {
            let mut start = 0;
            for k in 1..=idx.len() {
                let cut = k == idx.len()
                    || lane[idx[k]].ts - lane[idx[k - 1]].ts > w
                    || lane[idx[k]].ts - lane[idx[start]].ts > cfg.max_span_us;
                if cut {
                    if let Some(b) =
                        burst(lane, li, &idx[start..k], g, member_of, cfg, w, bucket_us)
                    {
                        by_group.entry(g).or_default().push(b);
                    }
                    start = k;
                }
            }
        }
    }

    let mut tests = 0.0f64;
    let mut scored: Vec<(f64, GroupBurst)> = Vec::new();
    let mut groups: Vec<(u32, Vec<Burst>)> = by_group.into_iter().collect();
    groups.sort_unstable_by_key(|g| g.0);
    for (g, bursts) in &groups {
        let mut keys: Vec<(usize, i64)> = bursts.iter().map(|b| (b.lane, b.bucket)).collect();
        keys.sort_unstable();
        keys.dedup();
        tests += keys
            .iter()
            .map(|k| f64::from(key_visits.get(k).map_or(0, |v| v.1)))
            .sum::<f64>();
        let mut joined: AHashMap<NodeId, u32> = AHashMap::new();
        for b in bursts {
            for (x, _) in &b.joined {
                *joined.entry(*x).or_default() += 1;
            }
        }
        let candidates: AHashSet<NodeId> = joined
            .iter()
            .filter(|(_, k)| **k >= cfg.min_joined.max(1))
            .map(|(x, _)| *x)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        // The chance of one visit landing in each burst, per (lane, bucket).
        let mut chance: AHashMap<(usize, i64), Vec<f64>> = AHashMap::new();
        for b in bursts {
            let one_off = b.joined.iter().filter(|(x, _)| joined[x] == 1).count();
            let visits = key_visits.get(&(b.lane, b.bucket)).map_or(0, |v| v.0);
            let crowd = (one_off as f64 + 1.0) / (f64::from(visits) + 1.0);
            let q = crowd.max(b.span_share).min(1.0);
            chance.entry((b.lane, b.bucket)).or_default().push(q);
        }
        // The candidates' visits per (lane, bucket) of the group's bursts.
        let mut visits: AHashMap<NodeId, AHashMap<(usize, i64), u32>> = AHashMap::new();
        for &(li, bucket) in &keys {
            let lane = &lanes[li];
            let lo = lane.partition_point(|s| s.ts < bucket * bucket_us);
            let hi = lane.partition_point(|s| s.ts < (bucket + 1) * bucket_us);
            for s in &lane[lo..hi] {
                if s.visit && candidates.contains(&s.account) {
                    *visits
                        .entry(s.account)
                        .or_default()
                        .entry((li, bucket))
                        .or_default() += 1;
                }
            }
        }
        let mut cands: Vec<NodeId> = candidates.into_iter().collect();
        cands.sort_unstable();
        for x in cands {
            let expected: f64 = visits.get(&x).map_or(0.0, |per_key| {
                per_key
                    .iter()
                    .map(|(key, &v)| {
                        chance.get(key).map_or(0.0, |qs| {
                            qs.iter()
                                .map(|q| 1.0 - (1.0 - q).powi(v as i32))
                                .sum::<f64>()
                        })
                    })
                    .sum()
            });
            let k = joined[&x];
            let significance = poisson_significance(k, expected);
            scored.push((
                significance,
                finding(x, *g, k, bursts, expected, significance, original, cfg),
            ));
        }
    }
    let Some(threshold) =
        benjamini_hochberg(scored.iter().map(|s| s.0), tests, cfg.false_discovery_rate)
    else {
        return Vec::new();
    };
    tracing::debug!(
        tests,
        threshold,
        scored = scored.len(),
        "group bursts round"
    );
    // Each account once, with its most significant group.
    let mut best: BTreeMap<NodeId, GroupBurst> = BTreeMap::new();
    for (s, mut f) in scored {
        if s < threshold {
            continue;
        }
        f.threshold = threshold;
        match best.get(&f.account) {
            Some(have) if have.significance >= s => {}
            _ => {
                best.insert(f.account, f);
            }
        }
    }
    best.into_values().collect()
}

/// The significance (`-log10 p`) a finding needs so that the findings kept have a false
/// discovery rate of at most `rate` among `tests` tests (Benjamini–Hochberg): the significance
/// of the `i`-th most significant, for the largest `i` where it is at least `log10(tests / (i
/// rate))`. `None` when no finding qualifies.
fn benjamini_hochberg(
    significance: impl Iterator<Item = f64>,
    tests: f64,
    rate: f64,
) -> Option<f64> {
    let mut s: Vec<f64> = significance.filter(|s| s.is_finite()).collect();
    s.sort_unstable_by(|a, b| b.total_cmp(a));
    let tests = tests.max(s.len() as f64);
    s.iter()
        .enumerate()
        .filter(|(i, si)| **si >= (tests / ((*i + 1) as f64 * rate)).log10())
        .map(|(_, si)| *si)
        .next_back()
}

/// The run `idx` of group `g`'s events in one lane, as a burst when it is one.
#[allow(clippy::too_many_arguments)]
fn burst(
    lane: &[Side],
    li: usize,
    idx: &[usize],
    g: u32,
    member_of: &AHashMap<NodeId, u32>,
    cfg: &BurstConfig,
    w: i64,
    bucket_us: i64,
) -> Option<Burst> {
    let mut members: AHashMap<NodeId, u32> = AHashMap::new();
    for &i in idx {
        members.entry(lane[i].account).or_insert(lane[i].trade);
    }
    if (members.len() as u32) < cfg.min_accounts {
        return None;
    }
    let (start, end) = (lane[idx[0]].ts, lane[idx[idx.len() - 1]].ts);
    let lo = lane.partition_point(|s| s.ts < start - w);
    let hi = lane.partition_point(|s| s.ts <= end + w);
    let mut everyone: AHashSet<NodeId> = AHashSet::new();
    let mut joined: Vec<(NodeId, u32)> = Vec::new();
    let mut seen: AHashSet<NodeId> = AHashSet::new();
    for s in &lane[lo..hi] {
        everyone.insert(s.account);
        if member_of.contains_key(&s.account) || member_of.get(&s.other) == Some(&g) {
            continue;
        }
        if seen.insert(s.account) {
            joined.push((s.account, s.trade));
        }
    }
    if (members.len() as f64) < cfg.min_share * everyone.len() as f64 {
        return None;
    }
    Some(Burst {
        lane: li,
        bucket: start.div_euclid(bucket_us),
        span_share: ((end - start + 2 * w) as f64 / bucket_us as f64).min(1.0),
        joined,
        members,
        start,
    })
}

/// The finding for account `x` and group `g`: the group's account it traded beside most, and
/// examples from the bursts they both traded in.
#[allow(clippy::too_many_arguments)]
fn finding(
    x: NodeId,
    g: u32,
    joined: u32,
    bursts: &[Burst],
    expected: f64,
    significance: f64,
    original: &AHashMap<NodeId, u32>,
    cfg: &BurstConfig,
) -> GroupBurst {
    let mine: Vec<(&Burst, u32)> = bursts
        .iter()
        .filter_map(|b| b.joined.iter().find(|(a, _)| *a == x).map(|(_, t)| (b, *t)))
        .collect();
    let mut count: BTreeMap<NodeId, u32> = BTreeMap::new();
    for (b, _) in &mine {
        for m in b.members.keys() {
            *count.entry(*m).or_default() += 1;
        }
    }
    // Prefer the group's own accounts, then the most bursts, then the lowest id.
    let member = count
        .iter()
        .max_by(|p, q| {
            original
                .contains_key(p.0)
                .cmp(&original.contains_key(q.0))
                .then(p.1.cmp(q.1))
                .then(q.0.cmp(p.0))
        })
        .map(|(m, _)| *m)
        .unwrap_or(x);
    let mut examples: Vec<(i64, u32, u32)> = mine
        .iter()
        .filter_map(|(b, t)| b.members.get(&member).map(|mt| (b.start, *t, *mt)))
        .collect();
    examples.sort_unstable();
    GroupBurst {
        account: x,
        group: g,
        member,
        joined,
        with_member: examples.len() as u32,
        bursts: bursts.len() as u32,
        expected,
        significance,
        threshold: 0.0,
        examples: examples
            .into_iter()
            .take(cfg.max_examples)
            .map(|(_, a, b)| (a, b))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::{RngCore, SeedableRng};

    /// A uniform draw from `0..n` (`n` far below 2^64, so the modulo bias is nil).
    fn below(rng: &mut Xoshiro256PlusPlus, n: i64) -> i64 {
        (rng.next_u64() % n as u64) as i64
    }

    const SEC: i64 = 1_000_000;
    const DAY0: i64 = 1_711_330_200 * SEC;

    /// A random market: `accounts` accounts trading `instruments` contracts over `days` sessions
    /// of four hours, `trades` trades in all, counterparties at random.
    fn market(seed: u64, accounts: u32, trades: u32, days: i64) -> Vec<TradeEvent> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..trades)
            .map(|i| {
                let buy = below(&mut rng, i64::from(accounts)) as u32;
                let mut sell = below(&mut rng, i64::from(accounts)) as u32;
                if sell == buy {
                    sell = (sell + 1) % accounts;
                }
                TradeEvent {
                    id: i,
                    ts: DAY0
                        + below(&mut rng, days) * 86_400 * SEC
                        + below(&mut rng, 4 * 3600 * SEC),
                    instrument: below(&mut rng, 3) as u32,
                    buy: NodeId(buy),
                    sell: NodeId(sell),
                    price: 100.0,
                    volume: 1,
                }
            })
            .collect()
    }

    /// Adds a burst at `ts`: each of `buyers` buys instrument 0 within a second, from a random
    /// market account.
    fn add_burst(
        tape: &mut Vec<TradeEvent>,
        rng: &mut Xoshiro256PlusPlus,
        ts: i64,
        buyers: &[u32],
    ) {
        for &b in buyers {
            let id = tape.len() as u32;
            tape.push(TradeEvent {
                id,
                ts: ts + below(rng, SEC),
                instrument: 0,
                buy: NodeId(b),
                sell: NodeId(below(rng, 1000) as u32),
                price: 100.0,
                volume: 1,
            });
        }
    }

    fn group(ids: impl IntoIterator<Item = u32>) -> AHashMap<NodeId, u32> {
        ids.into_iter().map(|i| (NodeId(i), 0)).collect()
    }

    #[test]
    fn a_studio_s_borrowed_accounts_are_found_from_a_few_bursts() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut tape = market(1, 1000, 20_000, 5);
        // A studio of 20 known accounts (1000..1020) and 10 borrowed ones (1020..1030) that
        // trade in its bursts only: 4 bursts over 4 days, each borrowed account in 3 of them.
        for day in 0..4 {
            let mut buyers: Vec<u32> = (1000..1020).collect();
            buyers.extend((1020..1030).filter(|b| (b + day) % 4 != 0));
            add_burst(
                &mut tape,
                &mut rng,
                DAY0 + i64::from(day) * 86_400 * SEC + 3600 * SEC,
                &buyers,
            );
        }
        let found = group_bursts(&tape, &group(1000..1020), &BurstConfig::default());
        let accounts: Vec<u32> = found.iter().map(|f| f.account.0).collect();
        assert_eq!(accounts, (1020..1030).collect::<Vec<_>>(), "{found:?}");
        for f in &found {
            assert!(f.significance >= f.threshold);
            assert!(f.joined >= 3 && f.bursts >= 4, "{f:?}");
            assert!((1000..1020).contains(&f.member.0));
            assert!(!f.examples.is_empty());
        }
    }

    #[test]
    fn the_market_s_busy_moments_are_not_the_group_s_bursts() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let mut tape = market(2, 1000, 20_000, 5);
        // Ten market-wide moments (a release, the open): the same 250 busy traders (600..850)
        // are there every time with 20 strangers, and 5 of the group's 20 accounts.
        for moment in 0..10 {
            let mut buyers: Vec<u32> = (0..20).map(|_| below(&mut rng, 600) as u32).collect();
            buyers.extend(600..850);
            buyers.extend((1000..1020).filter(|b| (b + moment) % 4 == 0));
            buyers.sort_unstable();
            buyers.dedup();
            let ts =
                DAY0 + i64::from(moment / 2) * 86_400 * SEC + i64::from(moment % 2) * 7200 * SEC;
            add_burst(&mut tape, &mut rng, ts + 900 * SEC, &buyers);
        }
        let found = group_bursts(&tape, &group(1000..1020), &BurstConfig::default());
        assert!(found.is_empty(), "{found:?}");
        // The share is what keeps them out: without it the recurring busy traders would pass.
        let blind = BurstConfig {
            min_share: 0.0,
            ..BurstConfig::default()
        };
        let found = group_bursts(&tape, &group(1000..1020), &blind);
        assert!(
            found.iter().any(|f| (600..850).contains(&f.account.0)),
            "{found:?}"
        );
    }

    #[test]
    fn benjamini_hochberg_keeps_what_the_1995_paper_keeps() {
        // The fifteen p-values of Benjamini and Hochberg's example: at a rate of 0.05 the first
        // four are discoveries (Bonferroni keeps three).
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
            0.5719, 0.6528, 0.7590, 1.0,
        ];
        let cut = benjamini_hochberg(p.iter().map(|p| -f64::log10(*p)), 15.0, 0.05);
        assert_eq!(cut, Some(-f64::log10(0.0095)));
        // Tests beyond the scored ones count: among 1,000 tests none of these is a discovery.
        assert_eq!(
            benjamini_hochberg(p.iter().map(|p| -f64::log10(*p)), 1000.0, 0.05),
            None
        );
    }

    #[test]
    fn chance_alone_finds_nobody() {
        // Groups whose accounts trade at random, like everyone else: whatever bursts they have
        // by chance, nobody joins them beyond chance.
        for seed in 0..6 {
            let tape = market(seed, 600, 40_000, 3);
            let groups: AHashMap<NodeId, u32> = (0..120).map(|i| (NodeId(i), i / 30)).collect();
            let found = group_bursts(&tape, &groups, &BurstConfig::default());
            assert!(found.is_empty(), "seed {seed}: {found:?}");
        }
    }

    #[test]
    fn a_trade_with_the_group_is_not_trading_beside_it() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut tape = market(3, 1000, 5_000, 5);
        for day in 0..4 {
            let ts = DAY0 + i64::from(day) * 86_400 * SEC + 7200 * SEC;
            add_burst(&mut tape, &mut rng, ts, &(1000..1020).collect::<Vec<_>>());
            // Account 1500 sells to the group's account 1000 in each burst.
            let id = tape.len() as u32;
            tape.push(TradeEvent {
                id,
                ts: ts + SEC / 2,
                instrument: 0,
                buy: NodeId(1500),
                sell: NodeId(1000),
                price: 100.0,
                volume: 1,
            });
        }
        let found = group_bursts(&tape, &group(1000..1020), &BurstConfig::default());
        assert!(found.iter().all(|f| f.account != NodeId(1500)), "{found:?}");
    }
}
