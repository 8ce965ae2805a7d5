//! Trading-behaviour evidence from the trade tape: synchronised trading, matched trades (对敲),
//! wash trades (对倒) inside suspected groups, and compact per-account trading profiles.
//!
//! Everything here is a pure function of a slice of [`TradeEvent`]s that the caller loaded from
//! the store; nothing does I/O. The entry points are:
//!
//! - [`synchronised_pairs`]: account pairs that repeatedly trade the same instrument in the same
//!   direction within a few seconds, more often than their own activity explains.
//! - [`matched_pairs`]: account pairs that repeatedly trade with each other (opposite sides), more
//!   often than the order book would pair them by chance, with their round trips.
//! - [`detect`]: both of the above on one shared sorted view of the tape, run side by side.
//! - [`wash_trades`]: given a group assignment, the trades inside each group.
//! - [`group_bursts`]: given a group assignment, the accounts in no group that keep trading in
//!   the group's bursts (many of its accounts in one contract and direction within seconds).
//! - [`TradeIndex`]: an index built once, answering [`TradeIndex::account_stats`] cheaply.
//! - [`synth`]: a synthetic market with planted pairs, for tests and benchmarks.
//!
//! # Design
//!
//! ## The shared view
//!
//! Every trade has two *sides*: the buyer's and the seller's. A *lane* is one instrument and one
//! direction (IF2403 buys, IF2403 sells, ...). The tape is turned into side events sorted by
//! `(lane, ts, account, counterparty, id)` and into a compressed-sparse-row index from each
//! account to its side events (in lane, then time order). Accounts and instruments are renumbered
//! densely so that per-account state is a plain array. Self-trades (buyer = seller) are left out:
//! they are wash trades by definition and say nothing about pairs.
//!
//! ## Synchronised trading
//!
//! *Visits.* An account's side events in one lane are cut greedily into visits: a visit starts at
//! an event and takes every later event of that account in the lane up to `window` later. A burst
//! of fifty orders in two seconds is one visit, so it counts once, not fifty times.
//!
//! *Co-occurrence.* Two side events in the same lane *co-occur* when they are at most `window`
//! apart and at most `max_fanout` positions apart in the lane. The count for a pair is, seen from
//! each account, the number of its visits that co-occur with the other account; the pair's
//! `co_events` is the smaller of the two counts, so that neither account's burst inflates it.
//! A co-occurrence is ignored when either of the two events has the other account as its
//! counterparty: trading with each other is matched or wash trading, not synchronised trading.
//!
//! *Why the fan-out cap.* In a liquid contract hundreds of trades fall into every few seconds and
//! counting every pair inside every window is quadratic in that rate (about 5e9 pair checks for
//! 10M trades). The cap bounds the work at `2 * max_fanout` checks per side event whatever the
//! rate, and shrinks the effective window in busy periods to about `max_fanout / rate`, which is
//! where a co-occurrence stops being informative anyway. The expected count below uses the same
//! effective window, so the statistic stays calibrated when the cap binds. In quiet markets the
//! cap never binds and the definition is exactly "within `window`".
//!
//! *Who is counted.* An account whose visits in a lane cover more than `max_presence` of the
//! tape's trading time in `window`-slots (a market maker that is always there) is left out of
//! that lane: its
//! co-occurrence with anyone is expected, a pair involving it would need an implausibly long run to
//! stand out, and such accounts would otherwise take most of the fan-out slots and most of the
//! time. An account with fewer than `min_co_events` visits in total is left out too, since it can
//! never reach the minimum. The report counts what was left out.
//!
//! *Expected count.* Time is cut into profile buckets (`profile_bucket`, 30 minutes by default)
//! and each account gets a sparse profile: visits, visit spans and crowds per (lane, bucket). A
//! visit's *crowd* is the number of distinct other accounts with an event near enough to be met
//! (within the window and the fan-out of its first or last event). The null model places the
//! other account's visits as the market's own visits are placed: a visit of `b` meets a given
//! visit of `a` with chance `c_a + s_b`, where `c_a` is the larger of the uniform chance (`2 w /
//! L` plus `a`'s span, `w` the effective window of that (lane, bucket) and `L` its active
//! length) and `a`'s mean crowd as a share of the key's visits, and `s_b` is `b`'s mean span. `b`
//! itself is left out of `a`'s crowd: its presence is what is tested. The expected count is the
//! sum over shared keys of `min(V_b (1 - e^{-V_a (c_a + s_b)}), V_a (1 - e^{-V_b (c_b + s_a)}))`.
//! So the expectation comes from each account's own activity per instrument, side and time of
//! day, and from the market at the moments it trades: two accounts that both trade at the open,
//! or into the crowd after a release, meet there often and are expected to, while two light
//! accounts that meet once in a liquid contract get a tiny expectation but only one co-event.
//! A group that is the crowd itself (a studio of dozens of accounts in a quiet contract) would
//! explain away its own meetings, so accounts that other evidence already ties to an account (a
//! shared terminal, agent, controller: `known`) are left out of its crowd; `analysis` passes the
//! links found without trading evidence, and in the group-conditioned pass the accounts tied to
//! each group. The scan
//! filters with the uniform chance alone, a lower bound, and survivors get the full expectation.
//!
//! *Significance.* `significance = -log10 P(Poisson(expected) >= co_events)`. A pair is reported
//! when it has at least `min_co_events` and its significance reaches
//! `log10(tests / family_alpha)`, where `tests` is the number of pairs of counted accounts: a
//! Bonferroni correction, because with a million accounts there are 5e11 pairs and some will meet
//! a few times by chance. This is what keeps coincidental same-second trades in liquid contracts
//! from making pairs.
//!
//! *Algorithm.* Accounts are renumbered by counted activity, busiest first, and each pair is
//! tallied by its less busy account, in parallel over accounts (rayon). For each of its side
//! events the account scans the at most `2 * max_fanout` neighbours in the lane and, for every
//! busier partner met, counts both its own visits that meet the partner and the partner's visits
//! that meet it (every side event carries its visit number, and meetings arrive in time order, so
//! "a visit number above the last one counted" is a new visit). The tallies live in a per-thread
//! array indexed by rank and reset through a touched list: no hashing, and the busy partners that
//! a light account meets most share a few hot cache lines, which is what makes the scan fast. A
//! partner whose smaller tally reaches `min_co_events` gets its expectation computed, walking the
//! shorter of the two profiles and binary-searching the longer one, and abandoned as soon as it
//! passes the largest expectation that tally could beat (precomputed per count by bisection);
//! nearly all chance partners are dropped after one shared key. The survivors, a few per thousand
//! accounts, are checked again and get their examples. Nothing proportional to the number of
//! co-occurring pairs (0.9e9 for 10M trades) is ever stored, so memory stays linear in the tape.
//! The tallies are checked against the quadratic definition in the unit tests.
//!
//! ## Matched trades (对敲)
//!
//! Trades are keyed by unordered account pair and sorted, which gives the number of trades and the
//! volume of every pair that ever traded with each other. Under random matching by the order book,
//! a trade in instrument `i` during bucket `h` has buyer `a` and seller `b` with probability
//! `(B_a / N) (S_b / N)`, where `B` and `S` are trade counts as buyer and seller and `N` the
//! trades of that (instrument, bucket); the expected number of trades between `a` and `b` is the
//! sum over shared keys of `(B_a S_b + S_a B_b) / N`. Significance is the Poisson upper tail as
//! above, tested against `log10(tests / family_alpha)` with `tests` all pairs of accounts that
//! trade: any two of them could have been matched, and counting only the pairs that did trade
//! lets three chance trades between light accounts through. For reported pairs the trades
//! are sorted by instrument and time and round trips are matched greedily: a trade followed, within
//! `round_trip_window` and in the same instrument, by one in the other direction with the same
//! volume and a price within `price_tolerance` (relative).
//!
//! ## Wash trades (对倒) and profiles
//!
//! [`wash_trades`] is one pass over the tape with the caller's group assignment.
//! [`TradeIndex`] keeps each account's trade indices (a CSR), so a profile costs a pass over that
//! account's trades only.
//!
//! ## Cost
//!
//! Sorting the side events is `O(n log n)`; the synchronised scan is `O(n * max_fanout)` reads
//! and at most that many tally updates; the matched pass is one sort of `n` keys. Memory is about
//! 160 bytes per trade at the peak, on top of the caller's tape. On the synthetic 10M-trade market
//! of [`synth::SynthConfig::ten_million`] (1M accounts, 8 instruments, 4 hours), [`detect`] takes
//! about 33 s of CPU and 36 s of wall time on this project's 2-core machine (shared with other
//! builds when measured), peaking at 2.2 GB with the tape; see `examples/behaviour_10m.rs`,
//! `benches/behaviour.rs` and the ignored test in `tests/behaviour_perf.rs`. The busiest lane of
//! that market carries about 190 side events a second, so the fan-out cap narrows the window there
//! to about a third of a second; 64 of its 100 planted pairs (lags up to 2 s) are found, with no
//! false pair. In the 200k-trade market all are found.

mod bursts;
mod market;
mod matched;
mod poisson;
mod stats;
mod sync;
pub mod synth;
mod wash;

use std::time::Instant;

use graph_core::NodeId;
use serde::{Deserialize, Serialize};

pub use bursts::{BurstConfig, GroupBurst, group_bursts};
pub use matched::{MatchedConfig, MatchedPair, MatchedReport, matched_pairs};
pub use poisson::poisson_significance;
pub use stats::{AccountStats, Counterparty, TradeIndex};
pub use sync::{Known, SyncConfig, SyncPair, SyncReport, synchronised_pairs};
pub use wash::{WashGroup, WashPair, wash_trades};

/// One matched trade of the tape, as the caller loads it from the store.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TradeEvent {
    /// The index of the trade in the caller's list, quoted back as evidence.
    pub id: u32,
    /// The trade time, microseconds since the Unix epoch (UTC).
    pub ts: i64,
    /// The instrument (contract), as a code the caller assigns.
    pub instrument: u32,
    /// The buying account.
    pub buy: NodeId,
    /// The selling account.
    pub sell: NodeId,
    /// The trade price.
    pub price: f64,
    /// The traded volume, in lots.
    pub volume: u64,
}

/// The configuration of [`detect`]: one for each detector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BehaviourConfig {
    /// Synchronised trading.
    pub sync: SyncConfig,
    /// Matched trades.
    pub matched: MatchedConfig,
    /// Accounts joining a group's bursts.
    pub bursts: BurstConfig,
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourReport {
    /// Synchronised pairs.
    pub sync: SyncReport,
    /// Matched pairs.
    pub matched: MatchedReport,
}

/// Runs the synchronised-trading and matched-trade detectors on one shared sorted view of the
/// tape, side by side on the rayon pool. Same results as calling [`synchronised_pairs`] and
/// [`matched_pairs`] separately, with the sorting done once.
pub fn detect(trades: &[TradeEvent], config: &BehaviourConfig) -> BehaviourReport {
    detect_knowing(trades, config, None)
}

/// [`detect`], with `known` listing for some accounts the accounts other evidence already ties
/// to them: they are left out of their crowds (see the synchronised-trading design above), so a
/// studio trading together is not taken for the market.
pub fn detect_knowing(
    trades: &[TradeEvent],
    config: &BehaviourConfig,
    known: Option<&Known>,
) -> BehaviourReport {
    let market = market::Market::build(trades);
    let (sync, matched) = rayon::join(
        || sync::sync_on(&market, &config.sync, None, known),
        || matched::matched_on(&market, trades, &config.matched, None),
    );
    BehaviourReport { sync, matched }
}

/// [`detect`] for the pairs of one `focus` account and one other only, with the significance
/// threshold corrected for those tests alone. With the accounts of each suspected group merged
/// into one focus account, this asks of every other account whether it trades with the group,
/// a much smaller question than whether any two accounts trade together. `known` lists, for a
/// focus account, the accounts that other evidence already ties to it: they are left out of its
/// crowd (see the synchronised-trading design above).
pub fn detect_focused(
    trades: &[TradeEvent],
    config: &BehaviourConfig,
    focus: &ahash::AHashSet<NodeId>,
    known: Option<&Known>,
) -> BehaviourReport {
    let market = market::Market::build(trades);
    let (sync, matched) = rayon::join(
        || sync::sync_on(&market, &config.sync, Some(focus), known),
        || matched::matched_on(&market, trades, &config.matched, Some(focus)),
    );
    BehaviourReport { sync, matched }
}

/// Logs at debug level how long the phase that ends now took, and restarts the clock: the phases'
/// times are what to look at when tuning on a big tape.
fn lap(clock: &mut Instant, phase: &'static str) {
    tracing::debug!(
        phase,
        ms = clock.elapsed().as_millis() as u64,
        "behaviour phase"
    );
    *clock = Instant::now();
}
