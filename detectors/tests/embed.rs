//! FastRP on small synthetic graphs built with `GraphBuilder`: determinism, planted control pairs
//! and identifier hubs.

use detectors::cluster::{SplitConfig, SplitMethod, split_by_embedding};
use detectors::embed::{Embeddings, FastRpConfig, fast_rp};
use graph_core::model::{
    Account, AccountType, AuthRole, Authorization, Extra, IdentifierKind, IdentifierObs, Member,
    Person, Record, Transfer,
};
use graph_core::{GraphBuilder, NodeId, PropertyGraph};

mod support;
use support::Rng;

fn person(id: &str) -> Record {
    Record::Person(Person {
        person_id: id.into(),
        name: None,
        id_number: None,
        extra: Extra::new(),
    })
}

fn account(id: &str, holder: &str, member: &str) -> Record {
    Record::Account(Account {
        account_id: id.into(),
        holder_id: holder.into(),
        member_id: Some(member.into()),
        account_type: Some(AccountType::Individual),
        open_date: None,
        status: None,
        extra: Extra::new(),
    })
}

fn ident(subject: &str, kind: IdentifierKind, value: &str) -> Record {
    Record::Identifier(IdentifierObs {
        subject_id: subject.into(),
        kind,
        value: value.into(),
        first_seen: None,
        last_seen: None,
        count: None,
        extra: Extra::new(),
    })
}

fn transfer(id: usize, from: &str, to: &str) -> Record {
    Record::Transfer(Transfer {
        transfer_id: format!("T{id}"),
        ts: 0,
        from_account: from.into(),
        to_account: to.into(),
        amount: 100.0,
        extra: Extra::new(),
    })
}

/// The background population shared by all tests: 400 ordinary accounts `A0..A399`, each with
/// its own holder, MAC and phone, spread over three members; the first 300 share the
/// branch-office IP `10.0.0.1` (a hub); 400 random transfers between them.
fn background(b: &mut GraphBuilder) {
    let mut rng = Rng(11);
    let mut add = |r: Record| b.add_record(&r);
    for m in 0..3 {
        add(Record::Member(Member {
            member_id: format!("M{m}"),
            name: None,
            uscc: None,
            extra: Extra::new(),
        }));
    }
    for i in 0..400 {
        let (a, p) = (format!("A{i}"), format!("P{i}"));
        add(person(&p));
        add(account(&a, &p, &format!("M{}", i % 3)));
        add(ident(&a, IdentifierKind::Mac, &format!("MAC{i}")));
        add(ident(&p, IdentifierKind::Phone, &format!("1380000{i:04}")));
        if i < 300 {
            add(ident(&a, IdentifierKind::Ip, "10.0.0.1"));
        }
    }
    for t in 0..400 {
        let (s, d) = (rng.below(400), rng.below(400));
        if s != d {
            add(transfer(t, &format!("A{s}"), &format!("A{d}")));
        }
    }
}

/// A family of accounts under one control: one holder, one MAC, one order placer, the hub IP.
fn family(b: &mut GraphBuilder, holder: &str, placer: &str, mac: &str, accounts: &[&str]) {
    b.add_record(&person(holder));
    b.add_record(&person(placer));
    for a in accounts {
        b.add_record(&account(a, holder, "M0"));
        b.add_record(&ident(a, IdentifierKind::Mac, mac));
        b.add_record(&ident(a, IdentifierKind::Ip, "10.0.0.1"));
        b.add_record(&Record::Authorization(Authorization {
            account_id: (*a).into(),
            person_id: placer.into(),
            role: AuthRole::OrderPlacer,
            extra: Extra::new(),
        }));
    }
}

/// The background plus a controlled pair `X1`, `X2` (a [`family`]); besides, `X1` sends money to
/// two ordinary accounts and `X2` receives from a third and has an IP and a disk serial of its
/// own, so that the pair is alike, not identical.
fn synthetic_graph() -> PropertyGraph {
    let mut b = GraphBuilder::new();
    background(&mut b);
    family(&mut b, "PX", "QX", "MACX", &["X1", "X2"]);
    let mut add = |r: Record| b.add_record(&r);
    add(transfer(1000, "X1", "A5"));
    add(transfer(1001, "X1", "A17"));
    add(transfer(1002, "A42", "X2"));
    add(ident("X2", IdentifierKind::Ip, "192.168.1.7"));
    add(ident("X2", IdentifierKind::DiskSerial, "WD-123456"));
    b.finish()
}

fn ordinary(g: &PropertyGraph, range: std::ops::Range<usize>) -> Vec<NodeId> {
    range.map(|i| g.find(&format!("A{i}")).unwrap()).collect()
}

/// Mean cosine over all pairs of `nodes`.
fn mean_pairwise(e: &Embeddings, nodes: &[NodeId]) -> f32 {
    let mut sum = 0.0;
    let mut count = 0;
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            sum += e.cosine(*a, *b).unwrap();
            count += 1;
        }
    }
    sum / count as f32
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let g = synthetic_graph();
    let cfg = FastRpConfig::default();
    let a = fast_rp(&g, &cfg).unwrap();
    let b = fast_rp(&g, &cfg).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    let c = fast_rp(&g, &FastRpConfig { seed: 43, ..cfg }).unwrap();
    assert_ne!(a.to_bytes(), c.to_bytes());
    assert_eq!(Embeddings::from_bytes(&a.to_bytes()).unwrap(), a);
}

#[test]
fn result_does_not_depend_on_the_number_of_threads() {
    let g = synthetic_graph();
    let cfg = FastRpConfig::default();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| fast_rp(&g, &cfg).unwrap().to_bytes())
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn only_accounts_are_embedded_by_default_and_rows_are_unit_length() {
    let g = synthetic_graph();
    let e = fast_rp(&g, &FastRpConfig::default()).unwrap();
    let accounts: Vec<NodeId> = g.nodes_of_kind(graph_core::NodeKind::Account).collect();
    assert_eq!(e.nodes, accounts);
    assert_eq!(e.dim(), 64);
    for row in e.vectors.rows() {
        assert!((row.dot(&row) - 1.0).abs() < 1e-4);
    }
}

#[test]
fn accounts_sharing_holder_mac_and_order_placer_are_nearest_neighbours() {
    let g = synthetic_graph();
    let e = fast_rp(&g, &FastRpConfig::default()).unwrap();
    let (x1, x2) = (g.find("X1").unwrap(), g.find("X2").unwrap());
    let pair = e.cosine(x1, x2).unwrap();
    let background = mean_pairwise(&e, &ordinary(&g, 0..400));
    eprintln!("controlled pair cosine {pair:.3}, mean random pair {background:.3}");
    assert!(pair > 0.7, "controlled pair cosine {pair}");
    assert!(background < 0.2, "mean random pair cosine {background}");
    let top = e.similar(x1, 3);
    assert_eq!(top[0].0, x2);
    assert!(top[1].1 < pair - 0.3, "runner-up {top:?} is too close");
}

#[test]
fn a_hub_ip_does_not_make_the_accounts_behind_it_alike() {
    let g = synthetic_graph();
    let hub = ordinary(&g, 0..300);
    let others = ordinary(&g, 300..400);
    let damped = fast_rp(&g, &FastRpConfig::default()).unwrap();
    let flat = fast_rp(
        &g,
        &FastRpConfig {
            normalization_strength: 0.0,
            ..FastRpConfig::default()
        },
    )
    .unwrap();
    let (hub_damped, hub_flat) = (mean_pairwise(&damped, &hub), mean_pairwise(&flat, &hub));
    let others_damped = mean_pairwise(&damped, &others);
    eprintln!(
        "hub accounts: mean cosine {hub_damped:.3} with beta -0.5, {hub_flat:.3} with beta 0; \
         accounts off the hub {others_damped:.3}"
    );
    assert!(hub_damped < 0.3, "hub accounts too alike: {hub_damped}");
    assert!(
        hub_flat > hub_damped + 0.1,
        "beta has no effect: {hub_flat} vs {hub_damped}"
    );
    // The hub must not drown a real tie either: the controlled pair is still each other's best.
    let x1 = g.find("X1").unwrap();
    assert_eq!(damped.similar(x1, 1)[0].0, g.find("X2").unwrap());
}

#[test]
fn a_community_of_two_families_joined_by_one_transfer_is_split_in_two() {
    let mut b = GraphBuilder::new();
    background(&mut b);
    let fa = ["FA1", "FA2", "FA3", "FA4", "FA5"];
    let fb = ["FB1", "FB2", "FB3", "FB4"];
    family(&mut b, "PA", "QA", "MACA", &fa);
    family(&mut b, "PB", "QB", "MACB", &fb);
    // The one tie that put both families in one community; each family also trades outside.
    b.add_record(&transfer(2000, "FA1", "FB1"));
    b.add_record(&transfer(2001, "FA2", "A7"));
    b.add_record(&transfer(2002, "A8", "FB3"));
    let g = b.finish();
    let emb = fast_rp(&g, &FastRpConfig::default()).unwrap();
    let ids = |names: &[&str]| -> Vec<NodeId> {
        let mut v: Vec<NodeId> = names.iter().map(|n| g.find(n).unwrap()).collect();
        v.sort();
        v
    };
    let (a, bb) = (ids(&fa), ids(&fb));
    let community: Vec<NodeId> = a.iter().chain(&bb).copied().collect();
    for cfg in [
        SplitConfig::default(),
        SplitConfig {
            method: SplitMethod::KMeans { k: 2 },
            ..SplitConfig::default()
        },
    ] {
        assert_eq!(
            split_by_embedding(&community, &emb, &cfg),
            vec![a.clone(), bb.clone()],
            "{cfg:?}"
        );
        // One family alone is tight and stays whole.
        assert_eq!(
            split_by_embedding(&a, &emb, &cfg),
            vec![a.clone()],
            "{cfg:?}"
        );
    }
    // Unrelated accounts behind the hub IP have no embedding structure to split along.
    let loose = ordinary(&g, 0..12);
    assert_eq!(
        split_by_embedding(&loose, &emb, &SplitConfig::default()),
        vec![loose.clone()]
    );
}
