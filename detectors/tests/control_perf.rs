//! Timing of the whole-graph control pass on a synthetic registry of 100,000 entities and about
//! 150,000 shareholdings. Ignored by default; run it in release mode:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/targets/control cargo test --release -p detectors --test control_perf \
//!     -- --ignored --nocapture
//! ```

use std::time::Instant;

use detectors::control::{ControlAnalysis, ControlConfig, ControlWarning};
use graph_core::model::{
    Account, Entity, EntityKind, Extra, Officer, OfficerRole, Person, Record, Relation,
    RelationKind, ShareKind, Shareholding,
};
use graph_core::{GraphBuilder, NodeKind, PropertyGraph};

mod support;
use support::Rng;

fn entity(id: String, kind: EntityKind) -> Record {
    Record::Entity(Entity {
        entity_id: id,
        name: None,
        uscc: None,
        kind: Some(kind),
        registered_capital: None,
        established: None,
        status: None,
        extra: Extra::new(),
    })
}

fn holding(owner: String, entity: String, pct: f64, kind: ShareKind) -> Record {
    Record::Shareholding(Shareholding {
        owner_id: owner,
        entity_id: entity,
        share_min: pct,
        share_max: pct,
        kind,
        extra: Extra::new(),
    })
}

/// A registry shaped like real ones: most companies held by persons, holding pyramids four
/// levels deep, some cross-holdings, partnerships with a general partner, asset managers with
/// their products, a few hubs holding thousands of companies.
fn synthetic(entities: usize, persons: usize, seed: u64) -> PropertyGraph {
    let mut rng = Rng(seed);
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for p in 0..persons {
        nodes.push(Record::Person(Person {
            person_id: format!("P{p}"),
            name: None,
            id_number: None,
            extra: Extra::new(),
        }));
    }
    // Level of each entity: 0 (held by persons only) for 60%, then 25%, 10%, 5%.
    let level = |i: usize| match i * 100 / entities {
        0..60 => 0,
        60..85 => 1,
        85..95 => 2,
        _ => 3,
    };
    let managers = entities / 100;
    for e in 0..entities {
        let kind = if e < managers {
            EntityKind::AssetManager
        } else if e % 50 == 7 {
            EntityKind::Partnership
        } else if e % 40 == 3 {
            EntityKind::FundProduct
        } else {
            EntityKind::Company
        };
        nodes.push(entity(format!("E{e}"), kind));
    }
    let bound = |l: usize| match l {
        0 => 0,
        1 => entities * 60 / 100,
        2 => entities * 85 / 100,
        _ => entities * 95 / 100,
    };
    for e in 0..entities {
        let name = format!("E{e}");
        let lower = bound(level(e));
        // Owners: one to three, shares that add up to at most 100%.
        let owners = 1 + rng.below(2) + usize::from(rng.chance(0.1));
        let mut left = 100.0;
        for k in 0..owners {
            let pct = if k + 1 == owners {
                left
            } else {
                (10 + rng.below(70)) as f64 * left / 100.0
            };
            left -= pct;
            let owner = if lower > 0 && rng.chance(0.7) {
                format!("E{}", rng.below(lower))
            } else if rng.chance(0.002) {
                // Hubs: a few state holding companies.
                format!("E{}", managers + rng.below(5))
            } else {
                format!("P{}", rng.below(persons))
            };
            if owner == name {
                continue;
            }
            let kind = if e % 50 == 7 {
                if k == 0 {
                    ShareKind::GeneralPartner
                } else {
                    ShareKind::LimitedPartner
                }
            } else {
                ShareKind::Equity
            };
            let pct = if kind == ShareKind::GeneralPartner {
                1.0
            } else {
                pct
            };
            edges.push(holding(owner, name.clone(), pct, kind));
        }
        // Cross-holdings: a lower-level company takes a stake in its holder's level.
        if level(e) > 0 && rng.chance(0.01) {
            let lower_e = rng.below(lower);
            edges.push(holding(
                name.clone(),
                format!("E{lower_e}"),
                10.0,
                ShareKind::Equity,
            ));
        }
        // Products are managed by an asset manager.
        if e % 40 == 3 && managers > 0 {
            edges.push(Record::Relation(Relation {
                from_id: format!("E{}", rng.below(managers)),
                to_id: name.clone(),
                kind: RelationKind::Manages,
                extra: Extra::new(),
            }));
        }
        if rng.chance(0.5) {
            edges.push(Record::Officer(Officer {
                person_id: format!("P{}", rng.below(persons)),
                entity_id: name.clone(),
                role: OfficerRole::LegalRep,
                extra: Extra::new(),
            }));
        }
        if rng.chance(0.3) {
            edges.push(Record::Account(Account {
                account_id: format!("A{e}"),
                holder_id: name,
                member_id: None,
                account_type: None,
                open_date: None,
                status: None,
                extra: Extra::new(),
            }));
        }
    }
    let mut b = GraphBuilder::new();
    for r in nodes.iter().chain(&edges) {
        b.add_record(r);
    }
    b.finish()
}

#[test]
#[ignore = "timing; run in release mode with --ignored --nocapture"]
fn whole_graph_pass_on_100k_entities() {
    let t0 = Instant::now();
    let g = synthetic(100_000, 80_000, 7);
    let owns = g
        .edges()
        .iter()
        .filter(|e| e.data.kind() == graph_core::EdgeKind::Owns)
        .count();
    println!(
        "built {} nodes, {} edges ({owns} shareholdings) in {:.2?}",
        g.node_count(),
        g.edge_count(),
        t0.elapsed()
    );
    assert!(owns > 140_000, "{owns}");

    let cfg = ControlConfig::default();
    let t1 = Instant::now();
    let a = ControlAnalysis::compute(&g, &cfg);
    let took = t1.elapsed();
    let with_ultimate = a
        .entities()
        .iter()
        .filter(|&&e| !a.ultimate_of(&g, e).is_empty())
        .count();
    let stakes: usize = a.entities().iter().map(|&e| a.ownership_of(e).len()).sum();
    println!(
        "control analysis in {took:.2?} on {} threads: {} control links, {stakes} integrated stakes, \
         {with_ultimate} of {} entities with an ultimate controller, {} warnings",
        rayon::current_num_threads(),
        a.links().len(),
        a.entities().len(),
        a.warnings().len()
    );
    let not_converged = a
        .warnings()
        .iter()
        .filter(|w| matches!(w, ControlWarning::LookthroughNotConverged { .. }))
        .count();
    println!(
        "warnings: {} shareholdings over 100%, {not_converged} look-throughs not converged",
        a.warnings().len() - not_converged
    );
    assert_eq!(not_converged, 0);
    let t2 = Instant::now();
    let accounts: Vec<_> = g.nodes_of_kind(NodeKind::Account).collect();
    let named = accounts
        .iter()
        .filter(|&&acc| !a.ultimate_of(&g, acc).is_empty())
        .count();
    println!(
        "ultimate controllers of {} accounts looked up in {:.2?} ({named} named)",
        accounts.len(),
        t2.elapsed()
    );
    assert_eq!(named, accounts.len());
}

/// A pathological registry: a ring of cross-holdings through 2,000 companies (each 40% of the
/// next, the rest held by persons) with 20,000 companies held by members of the ring.
#[test]
#[ignore = "timing; run in release mode with --ignored --nocapture"]
fn whole_graph_pass_with_a_giant_cycle() {
    let ring = 2_000;
    let below = 20_000;
    let mut rng = Rng(11);
    let mut records = Vec::new();
    for p in 0..1_000 {
        records.push(Record::Person(Person {
            person_id: format!("P{p}"),
            name: None,
            id_number: None,
            extra: Extra::new(),
        }));
    }
    for e in 0..ring + below {
        records.push(entity(format!("E{e}"), EntityKind::Company));
    }
    for e in 0..ring {
        let next = format!("E{}", (e + 1) % ring);
        records.push(holding(
            format!("E{e}"),
            next.clone(),
            40.0,
            ShareKind::Equity,
        ));
        records.push(holding(
            format!("P{}", rng.below(1_000)),
            next,
            60.0,
            ShareKind::Equity,
        ));
    }
    for e in ring..ring + below {
        let owner = format!("E{}", rng.below(ring));
        records.push(holding(owner, format!("E{e}"), 70.0, ShareKind::Equity));
    }
    let mut b = GraphBuilder::new();
    for r in &records {
        b.add_record(r);
    }
    let g = b.finish();
    let t = Instant::now();
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    println!(
        "giant cycle of {ring} with {below} companies below: {:.2?}, {} links, {} warnings",
        t.elapsed(),
        a.links().len(),
        a.warnings().len()
    );
    assert!(a.warnings().is_empty());
}

/// Bad data: a ring of ten companies each holding 100% of the next (so the walk series does not
/// converge) above 20,000 companies. Every look-through below it is stopped early and flagged.
#[test]
#[ignore = "timing; run in release mode with --ignored --nocapture"]
fn whole_graph_pass_with_a_divergent_cycle() {
    let ring = 10;
    let below = 20_000;
    let mut rng = Rng(13);
    let mut records = Vec::new();
    for e in 0..ring + below {
        records.push(entity(format!("E{e}"), EntityKind::Company));
    }
    for e in 0..ring {
        records.push(holding(
            format!("E{e}"),
            format!("E{}", (e + 1) % ring),
            100.0,
            ShareKind::Equity,
        ));
    }
    for e in ring..ring + below {
        let owner = format!("E{}", rng.below(ring));
        records.push(holding(owner, format!("E{e}"), 70.0, ShareKind::Equity));
    }
    let mut b = GraphBuilder::new();
    for r in &records {
        b.add_record(r);
    }
    let g = b.finish();
    let t = Instant::now();
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    println!(
        "divergent cycle of {ring} with {below} companies below: {:.2?}, {} links, {} warnings",
        t.elapsed(),
        a.links().len(),
        a.warnings().len()
    );
    assert_eq!(a.warnings().len(), ring + below);
}
