//! The shared sorted view of the tape: dense account and instrument numbers, side events sorted
//! by lane and time, and each account's side events as a compressed sparse row.

use ahash::AHashMap;
use graph_core::NodeId;
use rayon::prelude::*;

use std::time::Instant;

use super::{TradeEvent, lap};

/// Dense numbering of the accounts of a tape, in increasing [`NodeId`] order, so that dense
/// order and node order agree and "the smaller account" means the same in both.
#[derive(Debug)]
pub(crate) struct Remap {
    ids: Vec<NodeId>,
    lookup: Lookup,
}

#[derive(Debug)]
enum Lookup {
    /// Indexed by node id; used when node ids are not much sparser than the tape, which is the
    /// normal case since they are dense graph indices.
    Table(Vec<u32>),
    Map(AHashMap<u32, u32>),
}

impl Remap {
    /// Numbers every buyer and seller of `trades`.
    pub(crate) fn build(trades: &[TradeEvent]) -> Self {
        let Some(max) = trades.par_iter().map(|t| t.buy.0.max(t.sell.0)).max() else {
            return Remap {
                ids: Vec::new(),
                lookup: Lookup::Table(Vec::new()),
            };
        };
        if (max as usize) <= 8 * trades.len() + (1 << 22) {
            const UNSEEN: u32 = u32::MAX;
            const SEEN: u32 = u32::MAX - 1;
            let mut table = vec![UNSEEN; max as usize + 1];
            for t in trades {
                table[t.buy.index()] = SEEN;
                table[t.sell.index()] = SEEN;
            }
            let mut ids = Vec::new();
            for (i, slot) in table.iter_mut().enumerate() {
                if *slot == SEEN {
                    *slot = ids.len() as u32;
                    ids.push(NodeId(i as u32));
                }
            }
            Remap {
                ids,
                lookup: Lookup::Table(table),
            }
        } else {
            let mut raw: Vec<u32> = trades
                .par_iter()
                .flat_map_iter(|t| [t.buy.0, t.sell.0])
                .collect();
            raw.par_sort_unstable();
            raw.dedup();
            let map = raw
                .iter()
                .enumerate()
                .map(|(i, &id)| (id, i as u32))
                .collect();
            Remap {
                ids: raw.into_iter().map(NodeId).collect(),
                lookup: Lookup::Map(map),
            }
        }
    }

    /// The number of accounts.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The dense number of `node`, if it trades.
    pub(crate) fn get(&self, node: NodeId) -> Option<u32> {
        match &self.lookup {
            Lookup::Table(t) => t.get(node.index()).copied().filter(|&d| d < u32::MAX - 1),
            Lookup::Map(m) => m.get(&node.0).copied(),
        }
    }

    /// The dense number of an account known to trade.
    pub(crate) fn dense(&self, node: NodeId) -> u32 {
        match &self.lookup {
            Lookup::Table(t) => t[node.index()],
            Lookup::Map(m) => m[&node.0],
        }
    }

    /// The node of a dense number.
    pub(crate) fn node(&self, dense: u32) -> NodeId {
        self.ids[dense as usize]
    }
}

/// One side of a trade, while sorting.
#[derive(Debug, Clone, Copy)]
struct SideEvent {
    ts: i64,
    lane: u32,
    acct: u32,
    cp: u32,
    id: u32,
}

/// Side events sorted by `(lane, ts, account, counterparty, id)`, as parallel arrays, and the
/// per-account index into them. Lane `2 i` holds the buys of instrument `i`, lane `2 i + 1` the
/// sells. Self-trades are left out.
#[derive(Debug)]
pub(crate) struct Market {
    pub remap: Remap,
    /// Instrument codes by dense instrument number, ascending.
    pub instruments: Vec<u32>,
    /// `lane_start[l]..lane_start[l + 1]` are the side events of lane `l`.
    pub lane_start: Vec<usize>,
    pub ts: Vec<i64>,
    pub acct: Vec<u32>,
    /// The other account of the trade.
    pub cp: Vec<u32>,
    pub id: Vec<u32>,
    /// `acct_pos[acct_start[a]..acct_start[a + 1]]` are the side events of account `a`, in lane
    /// then time order.
    pub acct_start: Vec<usize>,
    pub acct_pos: Vec<u32>,
    /// The lane and time of each entry of `acct_pos`: per-account passes read these in order
    /// instead of gathering from the lane arrays, one cache miss per event.
    pub acct_lane: Vec<u32>,
    pub acct_ts: Vec<i64>,
    /// Earliest and latest trade time, if any trade.
    pub span: Option<(i64, i64)>,
}

impl Market {
    /// Sorts the tape into lanes and indexes it by account.
    pub(crate) fn build(trades: &[TradeEvent]) -> Self {
        assert!(
            trades.len() < (u32::MAX / 2) as usize,
            "more than 2^31 trades do not fit the u32 positions"
        );
        let mut clock = Instant::now();
        let remap = Remap::build(trades);
        let mut instruments: Vec<u32> = trades
            .par_iter()
            .fold(ahash::AHashSet::new, |mut s, t| {
                s.insert(t.instrument);
                s
            })
            .reduce(ahash::AHashSet::new, |mut a, b| {
                a.extend(b);
                a
            })
            .into_iter()
            .collect();
        instruments.sort_unstable();
        let instrument_index: AHashMap<u32, u32> = instruments
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as u32))
            .collect();
        let n_lanes = 2 * instruments.len();

        let mut events: Vec<SideEvent> = trades
            .par_iter()
            .filter(|t| t.buy != t.sell)
            .flat_map_iter(|t| {
                let lane = 2 * instrument_index[&t.instrument];
                let (b, s) = (remap.dense(t.buy), remap.dense(t.sell));
                [
                    SideEvent {
                        ts: t.ts,
                        lane,
                        acct: b,
                        cp: s,
                        id: t.id,
                    },
                    SideEvent {
                        ts: t.ts,
                        lane: lane + 1,
                        acct: s,
                        cp: b,
                        id: t.id,
                    },
                ]
            })
            .collect();
        // The id is only a tie-break: two events equal in everything else are interchangeable,
        // so results do not depend on the order of the caller's list.
        lap(&mut clock, "market.events");
        events.par_sort_unstable_by_key(|e| (e.lane, e.ts, e.acct, e.cp, e.id));
        lap(&mut clock, "market.sort");

        let mut lane_start = vec![0usize; n_lanes + 1];
        for e in &events {
            lane_start[e.lane as usize + 1] += 1;
        }
        for l in 0..n_lanes {
            lane_start[l + 1] += lane_start[l];
        }
        let ts: Vec<i64> = events.par_iter().map(|e| e.ts).collect();
        let acct: Vec<u32> = events.par_iter().map(|e| e.acct).collect();
        let cp: Vec<u32> = events.par_iter().map(|e| e.cp).collect();
        let id: Vec<u32> = events.par_iter().map(|e| e.id).collect();

        let (acct_start, acct_pos) = csr(remap.len(), &acct);
        let acct_lane = acct_pos
            .par_iter()
            .map(|&p| events[p as usize].lane)
            .collect();
        let acct_ts = acct_pos.par_iter().map(|&p| ts[p as usize]).collect();
        drop(events);
        let span = trades
            .par_iter()
            .map(|t| (t.ts, t.ts))
            .reduce_with(|a, b| (a.0.min(b.0), a.1.max(b.1)));
        lap(&mut clock, "market.index");
        Market {
            remap,
            instruments,
            lane_start,
            ts,
            acct,
            cp,
            id,
            acct_start,
            acct_pos,
            acct_lane,
            acct_ts,
            span,
        }
    }

    /// The number of lanes.
    pub(crate) fn lanes(&self) -> usize {
        self.lane_start.len() - 1
    }

    /// The range of account `a`'s entries in `acct_pos`, `acct_lane` and `acct_ts`.
    pub(crate) fn range(&self, a: usize) -> std::ops::Range<usize> {
        self.acct_start[a]..self.acct_start[a + 1]
    }
}

/// Splits a run of lane numbers (sorted, as an account's are) into `(lane, range)` per lane.
pub(crate) fn lane_runs(lanes: &[u32]) -> impl Iterator<Item = (u32, std::ops::Range<usize>)> + '_ {
    let mut start = 0;
    lanes.chunk_by(|x, y| x == y).map(move |run| {
        let r = start..start + run.len();
        start = r.end;
        (run[0], r)
    })
}

/// A compressed sparse row from owner to positions, positions in increasing order per owner.
pub(crate) fn csr(n_owners: usize, owner_of: &[u32]) -> (Vec<usize>, Vec<u32>) {
    let mut start = vec![0usize; n_owners + 1];
    for &o in owner_of {
        start[o as usize + 1] += 1;
    }
    for i in 0..n_owners {
        start[i + 1] += start[i];
    }
    let mut cursor = start.clone();
    let mut pos = vec![0u32; owner_of.len()];
    for (p, &o) in owner_of.iter().enumerate() {
        pos[cursor[o as usize]] = p as u32;
        cursor[o as usize] += 1;
    }
    (start, pos)
}

/// Profile buckets: fixed-length slices of time, numbered densely from the first trade, with the
/// active length of each (first to last trade in it, across the whole tape).
#[derive(Debug, Clone)]
pub(crate) struct Buckets {
    width: i64,
    first: i64,
    /// Active length of each bucket in microseconds, at least `min_len`.
    pub len: Vec<f64>,
    /// The total active length of the buckets that have trades: the trading time of the tape,
    /// without the nights and breaks between sessions.
    pub active: f64,
}

impl Buckets {
    /// Buckets of `width` microseconds over the times `ts`, each at least `min_len` long, widened
    /// if need be so that `groups` times their number stays below 2^25 (the per-(lane, bucket)
    /// tables stay small even for a long tape of many contracts).
    pub(crate) fn new(
        span: Option<(i64, i64)>,
        ts: &[i64],
        width: i64,
        min_len: i64,
        groups: usize,
    ) -> Self {
        let Some((lo, hi)) = span else {
            return Buckets {
                width: width.max(1),
                first: 0,
                len: Vec::new(),
                active: 0.0,
            };
        };
        let max_buckets = ((1i64 << 25) / groups.max(1) as i64).max(1);
        let mut width = width.max(1);
        if (hi - lo) / width >= max_buckets {
            width = (hi - lo) / max_buckets + 1;
        }
        let first = lo.div_euclid(width);
        let n = (hi.div_euclid(width) - first + 1) as usize;
        let mut lo_t = vec![i64::MAX; n];
        let mut hi_t = vec![i64::MIN; n];
        for &t in ts {
            let h = (t.div_euclid(width) - first) as usize;
            lo_t[h] = lo_t[h].min(t);
            hi_t[h] = hi_t[h].max(t);
        }
        let mut active = 0.0;
        let len = lo_t
            .iter()
            .zip(&hi_t)
            .map(|(&a, &b)| {
                if a > b {
                    min_len as f64
                } else {
                    let l = (b - a).max(min_len) as f64;
                    active += l;
                    l
                }
            })
            .collect();
        Buckets {
            width,
            first,
            len,
            active,
        }
    }

    /// The number of buckets.
    pub(crate) fn count(&self) -> usize {
        self.len.len()
    }

    /// The bucket of time `t` (which must lie within the span given to [`Buckets::new`]).
    pub(crate) fn of(&self, t: i64) -> usize {
        (t.div_euclid(self.width) - self.first) as usize
    }
}
