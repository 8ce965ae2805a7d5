//! A synthetic futures market with planted behaviour, for tests and benchmarks of the behaviour
//! detectors: heavy-tailed account activity, a few instruments of unequal liquidity, a U-shaped
//! intraday profile, and planted synchronised pairs, wash pairs and round-tripping pairs with the
//! truth returned beside the tape.
//!
//! Deterministic for a given [`SynthConfig`] (its own SplitMix64 generator, no global state).

use graph_core::NodeId;

use super::TradeEvent;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Background trades (planted trades come on top).
    pub trades: usize,
    /// Accounts; account `i` is `NodeId(first_node + i)`.
    pub accounts: u32,
    /// The first account's node id.
    pub first_node: u32,
    /// Instruments, numbered `0..instruments`, the lower ones more liquid.
    pub instruments: u32,
    /// Trading hours, one continuous session.
    pub hours: u32,
    /// The session start, microseconds UTC.
    pub start_ts: i64,
    /// The Pareto tail index of account activity (smaller = heavier tail).
    pub pareto_alpha: f64,
    /// The share of an account's trades in its home instrument.
    pub home_share: f64,
    /// Planted synchronised pairs.
    pub sync_pairs: usize,
    /// Co-events per synchronised pair, drawn uniformly from this inclusive range.
    pub sync_events: (u32, u32),
    /// The largest lag between the two legs of a synchronised co-event, microseconds.
    pub sync_max_lag_us: i64,
    /// The share of synchronised co-events that are bursts of several trades per account.
    pub burst_share: f64,
    /// Planted wash pairs (two accounts trading with each other).
    pub wash_pairs: usize,
    /// Trades per wash pair.
    pub wash_trades: u32,
    /// Planted round-tripping pairs.
    pub matched_pairs: usize,
    /// Round trips per such pair.
    pub round_trips: u32,
    /// The seed.
    pub seed: u64,
}

impl Default for SynthConfig {
    /// A small market: 200k trades over 20k accounts, 8 instruments, 4 hours, 50 synchronised
    /// pairs, 10 wash pairs and 10 round-tripping pairs.
    fn default() -> Self {
        SynthConfig {
            trades: 200_000,
            accounts: 20_000,
            first_node: 0,
            instruments: 8,
            hours: 4,
            // 2024-03-01 09:30 +08:00.
            start_ts: 1_709_256_600_000_000,
            pareto_alpha: 1.16,
            home_share: 0.7,
            sync_pairs: 50,
            sync_events: (8, 30),
            sync_max_lag_us: 2_000_000,
            burst_share: 0.1,
            wash_pairs: 10,
            wash_trades: 12,
            matched_pairs: 10,
            round_trips: 6,
            seed: 42,
        }
    }
}

impl SynthConfig {
    /// The benchmark market: 10M trades over 1M accounts, 8 instruments, 4 hours.
    pub fn ten_million() -> Self {
        SynthConfig {
            trades: 10_000_000,
            accounts: 1_000_000,
            sync_pairs: 100,
            wash_pairs: 20,
            matched_pairs: 20,
            ..SynthConfig::default()
        }
    }
}

/// A generated tape and what was planted in it.
#[derive(Debug, Clone)]
pub struct SynthMarket {
    /// All trades sorted by time, `id` = index.
    pub trades: Vec<TradeEvent>,
    /// Planted synchronised pairs, smaller node first, ascending.
    pub sync_pairs: Vec<(NodeId, NodeId)>,
    /// Planted wash pairs, smaller node first, ascending.
    pub wash_pairs: Vec<(NodeId, NodeId)>,
    /// Planted round-tripping pairs, smaller node first, ascending.
    pub matched_pairs: Vec<(NodeId, NodeId)>,
}

/// SplitMix64: tiny, fast, and good enough for synthetic data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// Walker's alias table: O(1) draws from a discrete distribution.
#[derive(Debug)]
struct Alias {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut prob = vec![1.0; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            prob[s] = scaled[s];
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        Alias { prob, alias }
    }

    fn draw(&self, rng: &mut Rng) -> u32 {
        let i = rng.below(self.prob.len() as u64) as usize;
        if rng.unit() < self.prob[i] {
            i as u32
        } else {
            self.alias[i]
        }
    }
}

/// The generator's state while building one market.
struct Gen<'c> {
    cfg: &'c SynthConfig,
    rng: Rng,
    accounts: Alias,
    instruments: Alias,
    duration: i64,
    trades: Vec<TradeEvent>,
}

impl Gen<'_> {
    fn node(&self, i: u32) -> NodeId {
        NodeId(self.cfg.first_node + i)
    }

    /// A time in the session: mostly uniform, with more trading after the open and before the
    /// close.
    fn time(&mut self) -> i64 {
        let u = self.rng.unit();
        let d = self.duration as f64;
        let offset = if u < 0.7 {
            self.rng.unit() * d
        } else {
            let tail = (-self.rng.unit().max(1e-12).ln() * 0.05 * d).min(d - 1.0);
            if u < 0.85 { tail } else { d - 1.0 - tail }
        };
        self.cfg.start_ts + offset as i64
    }

    /// The home instrument of account `a`, fixed by a hash so that it needs no table.
    fn home(&self, a: u32) -> u32 {
        let mut r = Rng(u64::from(a) ^ self.cfg.seed.rotate_left(17));
        self.instruments.draw(&mut r)
    }

    fn instrument_for(&mut self, a: u32) -> u32 {
        if self.rng.unit() < self.cfg.home_share {
            self.home(a)
        } else {
            self.instruments.draw(&mut self.rng)
        }
    }

    /// A price near the instrument's slowly drifting level, on its tick grid.
    fn price(&mut self, instrument: u32, ts: i64) -> f64 {
        let (base, tick) = if instrument.is_multiple_of(2) {
            (3000.0 + 700.0 * f64::from(instrument), 0.2)
        } else {
            (100.0 + f64::from(instrument), 0.005)
        };
        let phase = (ts - self.cfg.start_ts) as f64 / self.duration as f64;
        let level = base * (1.0 + 0.004 * (phase * 6.3 * f64::from(instrument + 1)).sin());
        let noise = self.rng.below(7) as f64 - 3.0;
        ((level / tick).round() + noise) * tick
    }

    fn volume(&mut self) -> u64 {
        let mut v = 1;
        while v < 50 && self.rng.unit() < 0.5 {
            v += 1;
        }
        v
    }

    /// A background counterparty other than the accounts in `not`.
    fn other(&mut self, not: &[u32]) -> u32 {
        loop {
            let c = self.accounts.draw(&mut self.rng);
            if !not.contains(&c) {
                return c;
            }
        }
    }

    fn push(&mut self, ts: i64, instrument: u32, buy: u32, sell: u32, price: f64, volume: u64) {
        self.trades.push(TradeEvent {
            id: 0,
            ts,
            instrument,
            buy: self.node(buy),
            sell: self.node(sell),
            price,
            volume,
        });
    }

    /// One side event of `a` in a planted co-event, against a background counterparty.
    fn leg(&mut self, ts: i64, instrument: u32, buy: bool, a: u32, not: &[u32]) {
        let c = self.other(not);
        let (p, v) = (self.price(instrument, ts), self.volume());
        if buy {
            self.push(ts, instrument, a, c, p, v);
        } else {
            self.push(ts, instrument, c, a, p, v);
        }
    }
}

/// Generates a market. Planted accounts are drawn uniformly from all accounts (so mostly light
/// ones, like nominee accounts), each used in at most one planted pair.
pub fn generate(cfg: &SynthConfig) -> SynthMarket {
    let mut rng = Rng(cfg.seed);
    let n = cfg.accounts.max(4);
    // Pareto weights, capped so that no single account dominates a small market.
    let cap = f64::from(n).powf(0.75);
    let weights: Vec<f64> = (0..n)
        .map(|_| (1.0 - rng.unit()).powf(-1.0 / cfg.pareto_alpha).min(cap))
        .collect();
    // Liquidity falls off with the instrument number.
    let liq: Vec<f64> = (0..cfg.instruments.max(1))
        .map(|i| 1.0 / (1.0 + 0.5 * f64::from(i)))
        .collect();
    let mut g = Gen {
        cfg,
        rng,
        accounts: Alias::new(&weights),
        instruments: Alias::new(&liq),
        duration: i64::from(cfg.hours.max(1)) * 3_600_000_000,
        trades: Vec::with_capacity(cfg.trades + 64 * cfg.sync_pairs),
    };

    for _ in 0..cfg.trades {
        let buy = g.accounts.draw(&mut g.rng);
        let sell = g.other(&[buy]);
        let instrument = g.instrument_for(buy);
        let ts = g.time();
        let (p, v) = (g.price(instrument, ts), g.volume());
        g.push(ts, instrument, buy, sell, p, v);
    }

    let mut used = vec![false; n as usize];
    let mut fresh_pair = |rng: &mut Rng| loop {
        let (a, b) = (
            rng.below(u64::from(n)) as u32,
            rng.below(u64::from(n)) as u32,
        );
        if a != b && !used[a as usize] && !used[b as usize] {
            used[a as usize] = true;
            used[b as usize] = true;
            return (a, b);
        }
    };

    let mut sync_pairs = Vec::new();
    for _ in 0..cfg.sync_pairs {
        let (a, b) = fresh_pair(&mut g.rng);
        let span = u64::from(cfg.sync_events.1.saturating_sub(cfg.sync_events.0)) + 1;
        let k = cfg.sync_events.0 + g.rng.below(span) as u32;
        for _ in 0..k {
            let instrument = g.instrument_for(a);
            let buy = g.rng.unit() < 0.5;
            let t = g.time();
            let lag = g.rng.below(cfg.sync_max_lag_us as u64 + 1) as i64;
            let (t_a, t_b) = if g.rng.unit() < 0.5 {
                (t, t + lag)
            } else {
                (t + lag, t)
            };
            let burst = if g.rng.unit() < cfg.burst_share {
                2 + g.rng.below(4)
            } else {
                1
            };
            for i in 0..burst as i64 {
                g.leg(t_a + 150_000 * i, instrument, buy, a, &[a, b]);
                g.leg(t_b + 150_000 * i, instrument, buy, b, &[a, b]);
            }
        }
        sync_pairs.push(ordered(g.node(a), g.node(b)));
    }

    let mut wash_pairs = Vec::new();
    for _ in 0..cfg.wash_pairs {
        let (a, b) = fresh_pair(&mut g.rng);
        let instrument = g.instrument_for(a);
        for _ in 0..cfg.wash_trades {
            let ts = g.time();
            let (p, v) = (g.price(instrument, ts), g.volume());
            if g.rng.unit() < 0.5 {
                g.push(ts, instrument, a, b, p, v);
            } else {
                g.push(ts, instrument, b, a, p, v);
            }
        }
        wash_pairs.push(ordered(g.node(a), g.node(b)));
    }

    let mut matched_pairs = Vec::new();
    for _ in 0..cfg.matched_pairs {
        let (a, b) = fresh_pair(&mut g.rng);
        let instrument = g.instrument_for(a);
        for _ in 0..cfg.round_trips {
            let ts = g.time();
            let back = ts + 2_000_000 + g.rng.below(58_000_000) as i64;
            let (p, v) = (g.price(instrument, ts), g.volume());
            g.push(ts, instrument, b, a, p, v);
            g.push(back, instrument, a, b, p, v);
        }
        matched_pairs.push(ordered(g.node(a), g.node(b)));
    }

    let mut trades = g.trades;
    trades.sort_by(|x, y| {
        (x.ts, x.instrument, x.buy, x.sell, x.volume)
            .cmp(&(y.ts, y.instrument, y.buy, y.sell, y.volume))
            .then(x.price.total_cmp(&y.price))
    });
    for (i, t) in trades.iter_mut().enumerate() {
        t.id = i as u32;
    }
    sync_pairs.sort_unstable();
    wash_pairs.sort_unstable();
    matched_pairs.sort_unstable();
    SynthMarket {
        trades,
        sync_pairs,
        wash_pairs,
        matched_pairs,
    }
}

fn ordered(a: NodeId, b: NodeId) -> (NodeId, NodeId) {
    (a.min(b), a.max(b))
}
