//! Fund-flow patterns: money passed between accounts in identical amounts.
//!
//! Layering and structuring move the same sum through several accounts: around a cycle
//! (A → B → C → A), along a chain, into one account from several (fan-in) or out of one into
//! several (fan-out). Ordinary transfers carry arbitrary amounts, so two transfers of exactly the
//! same amount that also share an account are rare by chance; several of them joined into one
//! structure within a short time are evidence that one party moves the money (criterion C8,
//! fund flows).
//!
//! A second test looks at one account at a time: several transfers of similar (not identical)
//! amounts arriving from different senders within a few days (fan-in, structuring). The mirror
//! image, one payer paying several payees similar sums, is a payroll and is not tested: on the
//! AMLSim tape it gave 878 patterns, none of them an alert. Similar amounts alone are common, so such a set counts only when it is
//! improbable under the account's own transfer rate and the share of all transfers whose amount
//! falls in the set's band: `P(Poisson(rate × window × share) >= k)`, with a Bonferroni bound
//! over every (account, direction, window) tested.
//!
//! The identical-amount detector groups transfers by amount (to the cent), joins the transfers of one amount that
//! share an account and fall within `window_micros` of each other, and reports every joined
//! structure of at least `min_transfers` transfers over at most `max_accounts` accounts, with two
//! payers at least (one payer paying the same sum again and again is a standing payment or a
//! payroll). A structure of only two transfers must also hold at least half of all the transfers
//! of its amount: round sums such as 1,100.00 that many people send meet by chance.

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
#[serde(default)]
pub struct FlowConfig {
    pub min_transfers: usize,
    pub max_accounts: usize,
    pub max_same_amount: usize,
    pub window_micros: i64,
    /// Fan-in and fan-out: the window, the widest max/min amount ratio, the smallest set, and
    /// the family-wise error rate of the significance test.
    pub fan_window_micros: i64,
    pub fan_ratio: f64,
    pub fan_min: usize,
    pub fan_alpha: f64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            min_transfers: 2,
            max_accounts: 12,
            max_same_amount: 200,
            window_micros: 10 * 86_400 * 1_000_000,
            fan_window_micros: 10 * 86_400 * 1_000_000,
            fan_ratio: 1.5,
            fan_min: 3,
            fan_alpha: 0.01,
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
                if let Some(&j) = last_at.get(&acc)
                    && t.ts - ts[j].ts <= cfg.window_micros
                {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
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
            // Two transfers of a sum that others use too meet by chance; three or more joined
            // within days do not.
            if members.len() < cfg.min_transfers || (members.len() < 3 && members.len() * 2 < n) {
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
            let edges: Vec<(NodeId, NodeId)> =
                members.iter().map(|&i| (ts[i].from, ts[i].to)).collect();
            // One payer paying the same sum again and again, to one payee or to many, is a
            // standing payment or a payroll; a pattern needs money from two payers at least
            // (a round trip, a cycle, a chain, a fan-in).
            if edges.iter().all(|e| e.0 == edges[0].0) {
                continue;
            }
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

/// Fan-in sets of similar amounts that chance does not explain.
pub fn similar_amount_fans(transfers: &[TransferEvent], cfg: &FlowConfig) -> Vec<FlowPattern> {
    if transfers.len() < cfg.fan_min {
        return Vec::new();
    }
    let mut amounts: Vec<f64> = transfers.iter().map(|t| t.amount).collect();
    amounts.sort_unstable_by(f64::total_cmp);
    let share_in = |lo: f64, hi: f64| {
        let a = amounts.partition_point(|x| *x < lo);
        let b = amounts.partition_point(|x| *x <= hi);
        (b - a) as f64 / amounts.len() as f64
    };
    let t0 = transfers.iter().map(|t| t.ts).min().unwrap_or(0);
    let t1 = transfers.iter().map(|t| t.ts).max().unwrap_or(0);
    let span = (t1 - t0).max(cfg.fan_window_micros) as f64;
    let windows = (span / cfg.fan_window_micros as f64).ceil();
    let mut by_receiver: AHashMap<NodeId, Vec<&TransferEvent>> = AHashMap::new();
    for t in transfers {
        if t.from != t.to && t.amount > 0.0 {
            by_receiver.entry(t.to).or_default().push(t);
        }
    }
    let mut receivers: Vec<NodeId> = by_receiver.keys().copied().collect();
    receivers.sort_unstable();
    // Every candidate set examined is a test: the bound covers the search over starts and bands.
    let mut tested = 0u64;
    let mut found: Vec<(f64, NodeId, Vec<&TransferEvent>)> = Vec::new();
    for receiver in receivers {
        let ts = &by_receiver[&receiver];
        if ts.len() < cfg.fan_min {
            continue;
        }
        let rate = ts.len() as f64 / span;
        let expected_in_window = rate * cfg.fan_window_micros as f64;
        let mut sorted: Vec<&TransferEvent> = ts.clone();
        sorted.sort_unstable_by_key(|t| (t.ts, t.id));
        // The best set: for each start, the transfers within the window whose amounts lie in the
        // band [a, a × ratio] for some member a, one per sender.
        let mut best: Option<(f64, Vec<&TransferEvent>)> = None;
        for (i, first) in sorted.iter().enumerate() {
            let mut by_amount: Vec<&TransferEvent> = sorted[i..]
                .iter()
                .take_while(|t| t.ts - first.ts <= cfg.fan_window_micros)
                .copied()
                .collect();
            if by_amount.len() < cfg.fan_min {
                continue;
            }
            by_amount.sort_unstable_by(|a, b| a.amount.total_cmp(&b.amount));
            for (j, low) in by_amount.iter().enumerate() {
                let mut set: Vec<&TransferEvent> = Vec::new();
                for t in &by_amount[j..] {
                    if t.amount > low.amount * cfg.fan_ratio {
                        break;
                    }
                    if !set.iter().any(|s| s.from == t.from) {
                        set.push(t);
                    }
                }
                if set.len() < cfg.fan_min {
                    continue;
                }
                tested += 1;
                let hi = set.iter().map(|t| t.amount).fold(0.0, f64::max);
                let expected = expected_in_window * share_in(low.amount, hi);
                let sig = crate::behaviour::poisson_significance(set.len() as u32, expected);
                if best.as_ref().is_none_or(|(s, _)| sig > *s) {
                    best = Some((sig, set));
                }
            }
        }
        if let Some((sig, set)) = best {
            found.push((sig, receiver, set));
        }
    }
    // Hypotheses: every window of every receiver that could hold a set, plus the search over
    // starts and bands within the windows that did.
    let receivers_tested = by_receiver
        .values()
        .filter(|v| v.len() >= cfg.fan_min)
        .count();
    let tested = tested as f64 + receivers_tested as f64 * windows;
    let threshold = (tested.max(1.0) / cfg.fan_alpha).log10();
    let mut out = Vec::new();
    for (sig, receiver, set) in found {
        if sig <= threshold {
            continue;
        }
        let mut accounts: Vec<NodeId> = set.iter().map(|t| t.from).collect();
        accounts.push(receiver);
        accounts.sort_unstable();
        accounts.dedup();
        if accounts.len() > cfg.max_accounts {
            continue;
        }
        let mut ids: Vec<u32> = set.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        out.push(FlowPattern {
            accounts,
            transfers: ids,
            amount: set.iter().map(|t| t.amount).sum::<f64>() / set.len() as f64,
            shape: FlowShape::FanIn,
            first_ts: set.iter().map(|t| t.ts).min().unwrap_or(0),
            last_ts: set.iter().map(|t| t.ts).max().unwrap_or(0),
        });
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
    // Every account both sends and receives: the money goes round.
    if out_deg.keys().all(|a| in_deg.contains_key(a))
        && in_deg.keys().all(|a| out_deg.contains_key(a))
    {
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
            // A payroll: one payer, the same sum to three payees.
            t(17, 1, 60, 61, 777.77),
            t(18, 3, 60, 62, 777.77),
            t(19, 5, 60, 63, 777.77),
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
        assert_eq!(
            fan.accounts,
            vec![NodeId(10), NodeId(11), NodeId(12), NodeId(13)]
        );
        let cycle = found.iter().find(|p| p.amount == 10.27).unwrap();
        assert_eq!(cycle.shape, FlowShape::Cycle);
        assert_eq!(cycle.transfers, vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_quick_fan_in_of_similar_amounts_stands_out_from_a_busy_market() {
        // Background: 2,000 transfers over 200 days among 500 accounts, amounts 50..5,000.
        let mut tape = Vec::new();
        let mut x = 17u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for i in 0..2000u32 {
            let from = (next() % 500) as u32;
            let to = (next() % 500) as u32;
            let amount = 50.0 + (next() % 495_000) as f64 / 100.0;
            tape.push(t(i, (next() % 200) as i64, from, to, amount));
        }
        // Four small, similar transfers into account 900 within a week.
        for (k, amount) in [3.53, 3.63, 4.45, 4.02].into_iter().enumerate() {
            tape.push(t(
                5000 + k as u32,
                2 + 2 * k as i64,
                901 + k as u32,
                900,
                amount,
            ));
        }
        let found = similar_amount_fans(&tape, &FlowConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].shape, FlowShape::FanIn);
        assert_eq!(
            found[0].accounts,
            vec![
                NodeId(900),
                NodeId(901),
                NodeId(902),
                NodeId(903),
                NodeId(904)
            ]
        );
    }

    #[test]
    fn common_round_amounts_are_not_evidence() {
        let tape: Vec<_> = (0..300).map(|i| t(i, 0, 1, 100 + i, 10_000.0)).collect();
        assert!(identical_amount_flows(&tape, &FlowConfig::default()).is_empty());
    }
}

/// An account in no group whose fund transfers go mostly to and from one group's accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFlow {
    pub account: NodeId,
    /// The group's account it moved money with most (one the group held before this search
    /// when there is one).
    pub member: NodeId,
    /// Distinct accounts of the group it moved money with, and all its distinct counterparties.
    pub members: u32,
    pub counterparties: u32,
    /// Its transfers with the group's accounts, and their total.
    pub transfers: u32,
    pub total: f64,
}

/// Accounts whose money moves mostly within one group: an account in no group that transfers
/// with at least two of a group's accounts, which are at least half of all its counterparties.
///
/// A pair of transfers between a busy account and a quiet one says little (a studio's funding
/// account pays forty accounts, so each payment weighs a tenth), but the quiet account whose
/// counterparties are almost all one group's accounts is what a studio's borrowed account looks
/// like; a stranger who paid one member once, or a busy account paying many, does not qualify.
/// An account found joins its group for the next round, until nothing changes, so a chain of
/// nominee accounts that only pay one another is followed to its end.
pub fn group_flows(
    transfers: &[TransferEvent],
    group_of: &AHashMap<NodeId, u32>,
) -> Vec<GroupFlow> {
    let mut with: AHashMap<NodeId, AHashMap<NodeId, (u32, f64)>> = AHashMap::new();
    for t in transfers {
        if t.from == t.to {
            continue;
        }
        for (x, y) in [(t.from, t.to), (t.to, t.from)] {
            let e = with.entry(x).or_default().entry(y).or_default();
            e.0 += 1;
            e.1 += t.amount;
        }
    }
    let mut outside: Vec<NodeId> = with
        .keys()
        .filter(|x| !group_of.contains_key(x))
        .copied()
        .collect();
    outside.sort_unstable();
    let mut member_of = group_of.clone();
    let mut found = Vec::new();
    loop {
        // Each round reads the groups as the last one left them.
        let mut round = Vec::new();
        for &x in &outside {
            if member_of.contains_key(&x) {
                continue;
            }
            let peers = &with[&x];
            let mut by_group: AHashMap<u32, u32> = AHashMap::new();
            for y in peers.keys() {
                if let Some(&gi) = member_of.get(y) {
                    *by_group.entry(gi).or_default() += 1;
                }
            }
            let best = by_group
                .into_iter()
                .max_by(|p, q| p.1.cmp(&q.1).then(q.0.cmp(&p.0)));
            let Some((gi, k)) = best.filter(|(_, k)| *k >= 2 && 2 * *k as usize >= peers.len())
            else {
                continue;
            };
            let mut in_group: Vec<(NodeId, u32, f64)> = peers
                .iter()
                .filter(|(y, _)| member_of.get(y) == Some(&gi))
                .map(|(y, (n, total))| (*y, *n, *total))
                .collect();
            // Prefer the group's own accounts, then the most transfers, then the lowest id.
            let added = |y: NodeId| !group_of.contains_key(&y);
            in_group.sort_by(|p, q| {
                added(p.0)
                    .cmp(&added(q.0))
                    .then(q.1.cmp(&p.1))
                    .then(p.0.cmp(&q.0))
            });
            round.push((
                gi,
                GroupFlow {
                    account: x,
                    member: in_group[0].0,
                    members: k,
                    counterparties: peers.len() as u32,
                    transfers: in_group.iter().map(|p| p.1).sum(),
                    total: in_group.iter().map(|p| p.2).sum(),
                },
            ));
        }
        if round.is_empty() {
            break;
        }
        for (gi, f) in round {
            member_of.insert(f.account, gi);
            found.push(f);
        }
    }
    found
}

#[cfg(test)]
mod group_flow_tests {
    use super::*;

    fn t(id: u32, from: u32, to: u32) -> TransferEvent {
        TransferEvent {
            id,
            ts: i64::from(id),
            from: NodeId(from),
            to: NodeId(to),
            amount: 1000.0,
        }
    }

    #[test]
    fn accounts_whose_money_moves_within_one_group_are_found_along_a_chain() {
        // Group 0 holds accounts 1, 2 and 3. Account 10 pays 1 and 2; account 11 moves money
        // only with 10 and 3 (found in the second round). Account 20 paid account 1 once;
        // account 30 pays 1 and 2 but also six other accounts.
        let group_of: AHashMap<NodeId, u32> = [(NodeId(1), 0), (NodeId(2), 0), (NodeId(3), 0)]
            .into_iter()
            .collect();
        let mut ts = vec![
            t(0, 10, 1),
            t(1, 2, 10),
            t(2, 11, 10),
            t(3, 3, 11),
            t(4, 20, 1),
        ];
        ts.push(t(5, 30, 1));
        ts.push(t(6, 30, 2));
        for (i, other) in (40..46).enumerate() {
            ts.push(t(10 + i as u32, 30, other));
        }
        let found = group_flows(&ts, &group_of);
        let ids: Vec<(u32, u32, u32)> = found
            .iter()
            .map(|f| (f.account.0, f.member.0, f.members))
            .collect();
        assert_eq!(ids, vec![(10, 1, 2), (11, 3, 2)]);
        assert_eq!(found[1].counterparties, 2);
    }
}
