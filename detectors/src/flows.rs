//! Fund-flow patterns: money passed between accounts in identical amounts.
//!
//! Layering and structuring move the same sum through several accounts: around a cycle
//! (A → B → C → A), along a chain, into one account from several (fan-in) or out of one into
//! several (fan-out). Ordinary transfers carry arbitrary amounts, so two transfers of exactly the
//! same amount that also share an account are rare by chance; several of them joined into one
//! structure within a short time are evidence that one party moves the money (criterion C8,
//! fund flows).
//!
//! The detector groups transfers by amount (to the cent), joins the transfers of one amount that
//! share an account and fall within `window_micros` of each other, and reports every joined
//! structure of at least `min_transfers` transfers over at most `max_accounts` accounts. A
//! structure must also hold at least half of all the transfers of its amount: round sums such as
//! 1,100.00 that many people send meet by chance, so two of them sharing an account prove
//! nothing, while an odd amount like 10.27 moved three times around four accounts does.

use ahash::AHashMap;
use graph_core::NodeId;
use serde::{Deserialize, Serialize};

/// One fund transfer of the tape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferEvent {
    /// Index in the caller's list, for evidence.
    pub id: u32,
    /// Microseconds since the Unix epoch (UTC).
    pub ts: i64,
    pub from: NodeId,
    pub to: NodeId,
    pub amount: f64,
}

/// Settings of the flow detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowConfig {
    pub min_transfers: usize,
    pub max_accounts: usize,
    pub max_same_amount: usize,
    pub window_micros: i64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            min_transfers: 2,
            max_accounts: 12,
            max_same_amount: 200,
            window_micros: 31 * 86_400 * 1_000_000,
        }
    }
}

/// The shape of a flow structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowShape {
    /// The money comes back to where it started.
    Cycle,
    /// Several senders, one receiver.
    FanIn,
    /// One sender, several receivers.
    FanOut,
    /// Anything else (a chain, or a mixture).
    Chain,
}

/// One structure of identical-amount transfers.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowPattern {
    pub accounts: Vec<NodeId>,
    pub transfers: Vec<u32>,
    pub amount: f64,
    pub shape: FlowShape,
    pub first_ts: i64,
    pub last_ts: i64,
}

/// Finds the identical-amount structures of a transfer tape.
pub fn identical_amount_flows(transfers: &[TransferEvent], cfg: &FlowConfig) -> Vec<FlowPattern> {
    let mut by_amount: AHashMap<i64, Vec<&TransferEvent>> = AHashMap::new();
    for t in transfers {
        if t.from != t.to && t.amount > 0.0 {
            by_amount
                .entry((t.amount * 100.0).round() as i64)
                .or_default()
                .push(t);
        }
    }
    let mut amounts: Vec<_> = by_amount
        .into_iter()
        .filter(|(_, ts)| ts.len() >= cfg.min_transfers && ts.len() <= cfg.max_same_amount)
        .collect();
    amounts.sort_unstable_by_key(|(cents, _)| *cents);
    let mut out = Vec::new();
    for (cents, mut ts) in amounts {
        ts.sort_unstable_by_key(|t| (t.ts, t.id));
        // Union transfers that share an account and lie within the window.
        let n = ts.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut last_at: AHashMap<NodeId, usize> = AHashMap::new();
        for (i, t) in ts.iter().enumerate() {
            for acc in [t.from, t.to] {
                if let Some(&j) = last_at.get(&acc) {
                    if t.ts - ts[j].ts <= cfg.window_micros {
                        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                        parent[a.max(b)] = a.min(b);
                    }
                }
                last_at.insert(acc, i);
            }
        }
        let mut comps: AHashMap<usize, Vec<usize>> = AHashMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            comps.entry(r).or_default().push(i);
        }
        let mut comps: Vec<Vec<usize>> = comps.into_values().collect();
        comps.sort_unstable();
        for members in comps {
            if members.len() < cfg.min_transfers || members.len() * 2 < n {
                continue;
            }
            let mut accounts: Vec<NodeId> = members
                .iter()
                .flat_map(|&i| [ts[i].from, ts[i].to])
                .collect();
            accounts.sort_unstable();
            accounts.dedup();
            if accounts.len() > cfg.max_accounts || accounts.len() < 2 {
                continue;
            }
            let edges: Vec<(NodeId, NodeId)> = members.iter().map(|&i| (ts[i].from, ts[i].to)).collect();
            out.push(FlowPattern {
                shape: shape_of(&edges),
                transfers: members.iter().map(|&i| ts[i].id).collect(),
                first_ts: members.iter().map(|&i| ts[i].ts).min().unwrap_or(0),
                last_ts: members.iter().map(|&i| ts[i].ts).max().unwrap_or(0),
                amount: cents as f64 / 100.0,
                accounts,
            });
        }
    }
    out
}

fn shape_of(edges: &[(NodeId, NodeId)]) -> FlowShape {
    let mut out_deg: AHashMap<NodeId, usize> = AHashMap::new();
    let mut in_deg: AHashMap<NodeId, usize> = AHashMap::new();
    for (f, t) in edges {
        *out_deg.entry(*f).or_default() += 1;
        *in_deg.entry(*t).or_default() += 1;
    }
    let receivers: Vec<_> = in_deg.keys().collect();
    let senders: Vec<_> = out_deg.keys().collect();
    if senders.len() > 1 && receivers.len() == 1 {
        return FlowShape::FanIn;
    }
    if senders.len() == 1 && receivers.len() > 1 {
        return FlowShape::FanOut;
    }
    // Every account both sends and receives: the money goes round.
    if out_deg.keys().all(|a| in_deg.contains_key(a)) && in_deg.keys().all(|a| out_deg.contains_key(a)) {
        return FlowShape::Cycle;
    }
    FlowShape::Chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: u32, day: i64, from: u32, to: u32, amount: f64) -> TransferEvent {
        TransferEvent {
            id,
            ts: day * 86_400_000_000,
            from: NodeId(from),
            to: NodeId(to),
            amount,
        }
    }

    #[test]
    fn finds_a_cycle_and_a_fan_in_and_ignores_coincidences() {
        let tape = vec![
            // A cycle of 10.27 over four accounts.
            t(0, 0, 1, 2, 10.27),
            t(1, 3, 2, 3, 10.27),
            t(2, 5, 3, 4, 10.27),
            t(3, 6, 4, 1, 10.27),
            // A fan-in of 4.85.
            t(4, 0, 10, 13, 4.85),
            t(5, 2, 11, 13, 4.85),
            t(6, 4, 12, 13, 4.85),
            // The same amount twice between unrelated accounts: no structure.
            t(7, 1, 20, 21, 99.99),
            t(8, 1, 22, 23, 99.99),
            // The same amount, sharing an account, but a year apart.
            t(9, 0, 30, 31, 55.55),
            t(10, 400, 31, 32, 55.55),
            // A round sum many send: one chain of two among five unrelated uses.
            t(11, 1, 40, 41, 1100.0),
            t(12, 2, 41, 42, 1100.0),
            t(13, 2, 50, 51, 1100.0),
            t(14, 2, 52, 53, 1100.0),
            t(15, 2, 54, 55, 1100.0),
            t(16, 2, 56, 57, 1100.0),
        ];
        let found = identical_amount_flows(&tape, &FlowConfig::default());
        assert_eq!(found.len(), 2, "{found:?}");
        let fan = found.iter().find(|p| p.amount == 4.85).unwrap();
        assert_eq!(fan.shape, FlowShape::FanIn);
        assert_eq!(fan.accounts, vec![NodeId(10), NodeId(11), NodeId(12), NodeId(13)]);
        let cycle = found.iter().find(|p| p.amount == 10.27).unwrap();
        assert_eq!(cycle.shape, FlowShape::Cycle);
        assert_eq!(cycle.transfers, vec![0, 1, 2, 3]);
    }

    #[test]
    fn common_round_amounts_are_not_evidence() {
        let tape: Vec<_> = (0..300).map(|i| t(i, 0, 1, 100 + i, 10_000.0)).collect();
        assert!(identical_amount_flows(&tape, &FlowConfig::default()).is_empty());
    }
}
