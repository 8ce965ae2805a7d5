//! FastRP at production scale: a synthetic graph of about 5M nodes and 10M edges (1M accounts).
//! Ignored by default; run in release and read the printed figures:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/targets/embed cargo test --release -p detectors --test embed_scale \
//!     -- --ignored --nocapture
//! ```
//!
//! Peak memory is the process high-water mark (`VmHWM`), reset through `/proc/self/clear_refs`
//! just before the step measured, so it includes the graph that is already resident.

use std::time::Instant;

use detectors::embed::{FastRpConfig, fast_rp};
use graph_core::model::{
    Account, AuthRole, Authorization, Entity, Extra, IdentifierKind, IdentifierObs, Member, Person,
    Record, Trade, Transfer,
};
use graph_core::{GraphBuilder, PropertyGraph};

mod support;
use support::{Rng, reset_peak, status_kib};

fn ident(subject: String, kind: IdentifierKind, value: String) -> Record {
    Record::Identifier(IdentifierObs {
        subject_id: subject,
        kind,
        value,
        first_seen: None,
        last_seen: None,
        count: None,
        extra: Extra::new(),
    })
}

/// 1M accounts held by 900k persons and 100k entities at 150 members; a MAC per account (5%
/// shared), two IPs per account from a pool of 1M with 1% of observations on 50 hub IPs, a phone
/// per holder, an address per entity, 300k order placers, 1.5M transfers and 2M trades.
fn build(accounts: usize) -> PropertyGraph {
    let mut rng = Rng(2024);
    let mut b = GraphBuilder::new();
    let persons = accounts * 9 / 10;
    let entities = accounts / 10;
    let holder = |i: usize| {
        if i < persons {
            format!("P{i}")
        } else {
            format!("E{}", i - persons)
        }
    };
    for m in 0..150 {
        b.add_record(&Record::Member(Member {
            member_id: format!("M{m}"),
            name: None,
            uscc: None,
            extra: Extra::new(),
        }));
    }
    for p in 0..persons {
        b.add_record(&Record::Person(Person {
            person_id: format!("P{p}"),
            name: None,
            id_number: None,
            extra: Extra::new(),
        }));
        b.add_record(&ident(
            format!("P{p}"),
            IdentifierKind::Phone,
            format!("{}", 13_000_000_000u64 + rng.below(persons * 2) as u64),
        ));
    }
    for e in 0..entities {
        b.add_record(&Record::Entity(Entity {
            entity_id: format!("E{e}"),
            name: None,
            uscc: None,
            kind: None,
            registered_capital: None,
            established: None,
            status: None,
            extra: Extra::new(),
        }));
        b.add_record(&ident(
            format!("E{e}"),
            IdentifierKind::Address,
            format!("addr{}", rng.below(entities * 3)),
        ));
    }
    for a in 0..accounts {
        let id = format!("A{a}");
        b.add_record(&Record::Account(Account {
            account_id: id.clone(),
            holder_id: holder(rng.below(persons + entities)),
            member_id: Some(format!("M{}", rng.below(150))),
            account_type: None,
            open_date: None,
            status: None,
            extra: Extra::new(),
        }));
        let mac = if rng.below(20) == 0 {
            rng.below(accounts)
        } else {
            a
        };
        b.add_record(&ident(id.clone(), IdentifierKind::Mac, format!("MAC{mac}")));
        for _ in 0..2 {
            let ip = if rng.below(100) == 0 {
                rng.below(50)
            } else {
                rng.below(accounts)
            };
            b.add_record(&ident(id.clone(), IdentifierKind::Ip, format!("IP{ip}")));
        }
    }
    for p in 0..accounts * 3 / 10 {
        b.add_record(&Record::Authorization(Authorization {
            account_id: format!("A{}", rng.below(accounts)),
            person_id: format!("P{}", p % persons),
            role: AuthRole::OrderPlacer,
            extra: Extra::new(),
        }));
    }
    for t in 0..accounts * 3 / 2 {
        b.add_record(&Record::Transfer(Transfer {
            transfer_id: format!("T{t}"),
            ts: 0,
            from_account: format!("A{}", rng.below(accounts)),
            to_account: format!("A{}", rng.below(accounts)),
            amount: 1.0,
            extra: Extra::new(),
        }));
    }
    for t in 0..accounts * 2 {
        b.add_record(&Record::Trade(Trade {
            trade_id: format!("X{t}"),
            ts: 0,
            instrument: format!("IF240{}", rng.below(4)),
            buy_account: format!("A{}", rng.below(accounts)),
            sell_account: format!("A{}", rng.below(accounts)),
            price: 1.0,
            volume: 1,
            extra: Extra::new(),
        }));
    }
    b.finish()
}

#[test]
#[ignore = "scale measurement: ~5M nodes, run in release"]
fn fast_rp_on_five_million_nodes() {
    let accounts: usize = std::env::var("EMBED_SCALE_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let g = build(accounts);
    let graph_mem = g.memory_use().total();
    eprintln!(
        "graph: {} nodes, {} edges, built in {:.1?}, graph arrays {} MiB, RSS {} MiB",
        g.node_count(),
        g.edge_count(),
        t.elapsed(),
        graph_mem >> 20,
        status_kib("VmRSS:") >> 10
    );
    let rss_before = status_kib("VmRSS:");
    reset_peak();
    let cfg = FastRpConfig::default();
    let t = Instant::now();
    let e = fast_rp(&g, &cfg).unwrap();
    let took = t.elapsed();
    let peak = status_kib("VmHWM:");
    eprintln!(
        "fast_rp dim {} weights {:?} on {} threads: {:.2?}; RSS before {} MiB, peak {} MiB \
         (+{} MiB); output {} x {} = {} MiB",
        cfg.dim,
        cfg.iteration_weights,
        rayon::current_num_threads(),
        took,
        rss_before >> 10,
        peak >> 10,
        (peak.saturating_sub(rss_before)) >> 10,
        e.len(),
        e.dim(),
        (e.len() * e.dim() * 4) >> 20
    );
    let probe = e.nodes[e.len() / 2];
    let t = Instant::now();
    let top = e.similar(probe, 10);
    eprintln!("similar(k = 10) over {} rows: {:.2?}", e.len(), t.elapsed());
    assert_eq!(top.len(), 10);
    let t = Instant::now();
    let bytes = e.to_bytes();
    eprintln!("to_bytes: {} MiB in {:.2?}", bytes.len() >> 20, t.elapsed());
}
