//! Wash trades (对倒): trades whose buyer and seller are in one group, aggregated per group.

use ahash::AHashMap;
use graph_core::NodeId;
use serde::{Deserialize, Serialize};

use super::TradeEvent;

/// The wash trades of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WashGroup {
    /// The group, as the caller numbered it.
    pub group: u32,
    /// Trades between accounts of the group, self-trades included.
    pub trades: u32,
    /// Their volume, in lots.
    pub volume: u64,
    /// The first trade's time, microseconds UTC.
    pub first_ts: i64,
    /// The last trade's time, microseconds UTC.
    pub last_ts: i64,
    /// The accounts of the group that took part, ascending.
    pub accounts: Vec<NodeId>,
    /// The instruments traded, ascending.
    pub instruments: Vec<u32>,
    /// The trades per unordered account pair (a self-trade is a pair of one account with
    /// itself), ascending by pair.
    pub pairs: Vec<WashPair>,
    /// The trade ids, ascending.
    pub trade_ids: Vec<u32>,
}

/// The wash trades between two accounts of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WashPair {
    /// The account with the smaller node id.
    pub a: NodeId,
    /// The account with the larger node id (equal to `a` for self-trades).
    pub b: NodeId,
    /// Trades between them.
    pub trades: u32,
    /// Their volume, in lots.
    pub volume: u64,
}

/// The trades whose buyer and seller are in one group, per group, ascending by group. An account
/// for which `group_of` returns `None` is in no group; a self-trade of an account in a group is a
/// wash trade of that group.
///
/// A slice or map assignment is passed as a closure, e.g.
/// `&|n: NodeId| groups.get(n.index()).copied().flatten()`.
pub fn wash_trades(
    trades: &[TradeEvent],
    group_of: &dyn Fn(NodeId) -> Option<u32>,
) -> Vec<WashGroup> {
    let mut by_group: AHashMap<u32, WashGroup> = AHashMap::new();
    let mut by_pair: AHashMap<(u32, NodeId, NodeId), (u32, u64)> = AHashMap::new();
    for t in trades {
        let Some(g) = group_of(t.buy) else { continue };
        if t.buy != t.sell && group_of(t.sell) != Some(g) {
            continue;
        }
        let w = by_group.entry(g).or_insert_with(|| WashGroup {
            group: g,
            trades: 0,
            volume: 0,
            first_ts: t.ts,
            last_ts: t.ts,
            accounts: Vec::new(),
            instruments: Vec::new(),
            pairs: Vec::new(),
            trade_ids: Vec::new(),
        });
        w.trades += 1;
        w.volume += t.volume;
        w.first_ts = w.first_ts.min(t.ts);
        w.last_ts = w.last_ts.max(t.ts);
        w.accounts.push(t.buy);
        w.accounts.push(t.sell);
        w.instruments.push(t.instrument);
        w.trade_ids.push(t.id);
        let pair = by_pair
            .entry((g, t.buy.min(t.sell), t.buy.max(t.sell)))
            .or_insert((0, 0));
        pair.0 += 1;
        pair.1 += t.volume;
    }
    for ((g, a, b), (trades, volume)) in by_pair {
        if let Some(w) = by_group.get_mut(&g) {
            w.pairs.push(WashPair {
                a,
                b,
                trades,
                volume,
            });
        }
    }
    let mut out: Vec<WashGroup> = by_group.into_values().collect();
    for w in &mut out {
        w.accounts.sort_unstable();
        w.accounts.dedup();
        w.instruments.sort_unstable();
        w.instruments.dedup();
        w.trade_ids.sort_unstable();
        w.pairs.sort_unstable_by_key(|p| (p.a, p.b));
    }
    out.sort_unstable_by_key(|w| w.group);
    out
}
