//! Per-account trading profiles: an index built once over the tape, then a cheap summary per
//! account (a pass over that account's trades only).

use ahash::AHashMap;
use graph_core::NodeId;
use serde::{Deserialize, Serialize};

use super::TradeEvent;
use super::market::{Remap, csr};

/// Each account's trades, indexed once, for [`TradeIndex::account_stats`].
#[derive(Debug)]
pub struct TradeIndex<'t> {
    trades: &'t [TradeEvent],
    remap: Remap,
    start: Vec<usize>,
    trade_of: Vec<u32>,
}

/// A compact trading profile of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountStats {
    /// The account.
    pub account: NodeId,
    /// Trades the account is on (a self-trade counts once).
    pub trades: u32,
    /// Trades as buyer.
    pub buys: u32,
    /// Trades as seller.
    pub sells: u32,
    /// Trades with itself as buyer and seller.
    pub self_trades: u32,
    /// Lots bought plus lots sold (a self-trade counts on both sides).
    pub volume: u64,
    /// Lots bought.
    pub buy_volume: u64,
    /// Lots sold.
    pub sell_volume: u64,
    /// The first trade's time, microseconds UTC.
    pub first_ts: i64,
    /// The last trade's time, microseconds UTC.
    pub last_ts: i64,
    /// (instrument, trades) per instrument traded, most traded first.
    pub instruments: Vec<(u32, u32)>,
    /// Distinct counterparties, self excluded.
    pub counterparties: u32,
    /// The counterparties traded with most, by trades then volume.
    pub top_counterparties: Vec<Counterparty>,
}

/// One counterparty of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterparty {
    /// The counterparty.
    pub account: NodeId,
    /// Trades with it, either direction.
    pub trades: u32,
    /// Their volume, in lots.
    pub volume: u64,
}

impl<'t> TradeIndex<'t> {
    /// Indexes `trades` by account: `O(n)` time, keeping 4 bytes per trade side.
    pub fn new(trades: &'t [TradeEvent]) -> Self {
        let remap = Remap::build(trades);
        // Owner per (trade, side); a self-trade is listed once, under its buyer.
        let mut owner = Vec::with_capacity(2 * trades.len());
        let mut trade = Vec::with_capacity(2 * trades.len());
        for (i, t) in trades.iter().enumerate() {
            owner.push(remap.dense(t.buy));
            trade.push(i as u32);
            if t.sell != t.buy {
                owner.push(remap.dense(t.sell));
                trade.push(i as u32);
            }
        }
        let (start, pos) = csr(remap.len(), &owner);
        let trade_of = pos.into_iter().map(|p| trade[p as usize]).collect();
        TradeIndex {
            trades,
            remap,
            start,
            trade_of,
        }
    }

    /// The accounts that trade, ascending.
    pub fn accounts(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.remap.len() as u32).map(|d| self.remap.node(d))
    }

    /// The indices (into the indexed slice) of the trades `account` is on, in slice order.
    pub fn trades_of(&self, account: NodeId) -> &[u32] {
        match self.remap.get(account) {
            Some(d) => &self.trade_of[self.start[d as usize]..self.start[d as usize + 1]],
            None => &[],
        }
    }

    /// The profile of `account` with its `top_k` main counterparties, or `None` if it never
    /// traded. Costs a pass over the account's own trades.
    pub fn account_stats(&self, account: NodeId, top_k: usize) -> Option<AccountStats> {
        let mine = self.trades_of(account);
        if mine.is_empty() {
            return None;
        }
        let mut s = AccountStats {
            account,
            trades: 0,
            buys: 0,
            sells: 0,
            self_trades: 0,
            volume: 0,
            buy_volume: 0,
            sell_volume: 0,
            first_ts: i64::MAX,
            last_ts: i64::MIN,
            instruments: Vec::new(),
            counterparties: 0,
            top_counterparties: Vec::new(),
        };
        let mut instruments: AHashMap<u32, u32> = AHashMap::new();
        let mut others: AHashMap<NodeId, (u32, u64)> = AHashMap::new();
        for &i in mine {
            let t = &self.trades[i as usize];
            s.trades += 1;
            s.first_ts = s.first_ts.min(t.ts);
            s.last_ts = s.last_ts.max(t.ts);
            *instruments.entry(t.instrument).or_insert(0) += 1;
            if t.buy == account {
                s.buys += 1;
                s.buy_volume += t.volume;
            }
            if t.sell == account {
                s.sells += 1;
                s.sell_volume += t.volume;
            }
            if t.buy == t.sell {
                s.self_trades += 1;
                continue;
            }
            let other = if t.buy == account { t.sell } else { t.buy };
            let e = others.entry(other).or_insert((0, 0));
            e.0 += 1;
            e.1 += t.volume;
        }
        s.volume = s.buy_volume + s.sell_volume;
        s.instruments = instruments.into_iter().collect();
        s.instruments
            .sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        s.counterparties = others.len() as u32;
        let mut top: Vec<Counterparty> = others
            .into_iter()
            .map(|(account, (trades, volume))| Counterparty {
                account,
                trades,
                volume,
            })
            .collect();
        top.sort_unstable_by(|x, y| {
            y.trades
                .cmp(&x.trades)
                .then(y.volume.cmp(&x.volume))
                .then(x.account.cmp(&y.account))
        });
        top.truncate(top_k);
        s.top_counterparties = top;
        Some(s)
    }
}
