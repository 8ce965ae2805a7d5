//! Hand-made graphs and invariants of the ownership and control computations.
//!
//! Graphs are written inline as text, one fact a line:
//! `person P`, `entity E [kind]`, `owns O E 60 [voting|gp|lp]` (or a range `75-100`),
//! `manages M F`, `officer P E role`, `account A holder`.

use graph_core::model::{
    Account, Entity, EntityKind, Extra, Officer, OfficerRole, Person, Record, Relation,
    RelationKind, ShareKind, Shareholding,
};
use graph_core::{EdgeData, EdgeId, GraphBuilder, NodeId, PropertyGraph};
use proptest::prelude::*;

use super::*;

/// The records of a spec, nodes first (the builder needs them before the edges that name them).
fn records(spec: &str) -> (Vec<Record>, Vec<Record>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w[0] {
            "person" => nodes.push(Record::Person(Person {
                person_id: w[1].into(),
                name: None,
                id_number: None,
                extra: Extra::new(),
            })),
            "entity" => nodes.push(Record::Entity(Entity {
                entity_id: w[1].into(),
                name: None,
                uscc: None,
                kind: Some(w.get(2).map_or(EntityKind::Company, |k| k.parse().unwrap())),
                registered_capital: None,
                established: None,
                status: None,
                extra: Extra::new(),
            })),
            "owns" => {
                let (min, max) = match w[3].split_once('-') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (w[3].parse().unwrap(), w[3].parse().unwrap()),
                };
                let kind = match w.get(4).copied() {
                    None => ShareKind::Equity,
                    Some("voting") => ShareKind::Voting,
                    Some("gp") => ShareKind::GeneralPartner,
                    Some("lp") => ShareKind::LimitedPartner,
                    Some(k) => panic!("unknown share kind {k}"),
                };
                edges.push(Record::Shareholding(Shareholding {
                    owner_id: w[1].into(),
                    entity_id: w[2].into(),
                    share_min: min,
                    share_max: max,
                    kind,
                    extra: Extra::new(),
                }));
            }
            "manages" => edges.push(Record::Relation(Relation {
                from_id: w[1].into(),
                to_id: w[2].into(),
                kind: RelationKind::Manages,
                extra: Extra::new(),
            })),
            "officer" => edges.push(Record::Officer(Officer {
                person_id: w[1].into(),
                entity_id: w[2].into(),
                role: w[3].parse().unwrap(),
                extra: Extra::new(),
            })),
            // Accounts are nodes with an edge; they go last so that their holder exists.
            "account" => edges.push(Record::Account(Account {
                account_id: w[1].into(),
                holder_id: w[2].into(),
                member_id: None,
                account_type: None,
                open_date: None,
                status: None,
                extra: Extra::new(),
            })),
            other => panic!("unknown spec line {other}"),
        }
    }
    (nodes, edges)
}

fn build(nodes: &[Record], edges: &[Record]) -> PropertyGraph {
    let mut b = GraphBuilder::new();
    for r in nodes.iter().chain(edges) {
        b.add_record(r);
    }
    assert!(b.unresolved().is_empty(), "{:?}", b.unresolved());
    b.finish()
}

fn graph(spec: &str) -> PropertyGraph {
    let (n, e) = records(spec);
    build(&n, &e)
}

fn id(g: &PropertyGraph, key: &str) -> NodeId {
    g.find(key).unwrap_or_else(|| panic!("no node {key}"))
}

/// The edge between two nodes named by key (the first one if several).
fn edge(g: &PropertyGraph, src: &str, dst: &str) -> EdgeId {
    let (s, d) = (id(g, src), id(g, dst));
    g.out(s)
        .find(|a| a.node == d)
        .map(|a| a.edge)
        .unwrap_or_else(|| panic!("no edge {src} -> {dst}"))
}

fn keys(g: &PropertyGraph, nodes: impl IntoIterator<Item = NodeId>) -> Vec<String> {
    let mut k: Vec<String> = nodes.into_iter().map(|n| g.key(n).to_owned()).collect();
    k.sort();
    k
}

fn controlled(g: &PropertyGraph, x: &str) -> Vec<String> {
    keys(
        g,
        control_of(g, id(g, x), &ControlConfig::default())
            .iter()
            .map(|l| l.controlled),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn stake_of(g: &PropertyGraph, owner: &str, entity: &str) -> IntegratedStake {
    let (o, e) = (id(g, owner), id(g, entity));
    *integrated_ownership(g, e, &ControlConfig::default())
        .iter()
        .find(|s| s.owner == o)
        .unwrap_or_else(|| panic!("{owner} holds nothing of {entity}"))
}

// ---------------------------------------------------------------------------------------------
// Hand-made cases.

#[test]
fn three_level_chain() {
    let g = graph(
        "person P
         entity A
         entity B
         entity C
         owns P A 80
         owns A B 70
         owns B C 60
         account X C",
    );
    let cfg = ControlConfig::default();
    assert_eq!(controlled(&g, "P"), ["A", "B", "C"]);
    assert_eq!(controlled(&g, "A"), ["B", "C"]);
    let links = control_of(&g, id(&g, "P"), &cfg);
    assert_eq!(links.iter().map(|l| l.depth).collect::<Vec<_>>(), [1, 2, 3]);

    let s = stake_of(&g, "P", "C");
    assert!(close(s.pct_min, 33.6) && close(s.pct_max, 33.6), "{s:?}");
    assert!(close(s.direct_min, 0.0) && close(s.indirect_min(), 33.6));

    let chain = vec![edge(&g, "P", "A"), edge(&g, "A", "B"), edge(&g, "B", "C")];
    let ups = ultimate_controllers(&g, id(&g, "C"), &cfg);
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert_eq!(ups[0].controller, id(&g, "P"));
    assert_eq!(ups[0].basis, ControlBasis::Majority);
    assert_eq!(ups[0].paths, vec![chain.clone()]);

    // The account's ultimate controller is its holder's, with the held-by edge appended.
    let ups = ultimate_controllers(&g, id(&g, "X"), &cfg);
    let mut with_account = chain;
    with_account.push(edge(&g, "X", "C"));
    assert_eq!(ups[0].controller, id(&g, "P"));
    assert_eq!(ups[0].paths, vec![with_account]);

    let bo = beneficial_owners(&g, id(&g, "C"), &cfg);
    assert_eq!(bo.owners.len(), 1);
    assert!(bo.owners[0].controls && bo.owners[0].certain && close(bo.owners[0].pct_min, 33.6));
}

#[test]
fn control_by_summing_a_direct_stake_and_one_through_a_controlled_company() {
    let g = graph(
        "person P
         entity A
         entity B
         owns P A 60
         owns P B 25
         owns A B 30",
    );
    assert_eq!(controlled(&g, "P"), ["A", "B"]);
    assert!(controlled(&g, "A").is_empty(), "30% alone controls nothing");
    let cfg = ControlConfig::default();
    let link = control_of(&g, id(&g, "P"), &cfg)
        .into_iter()
        .find(|l| l.controlled == id(&g, "B"))
        .unwrap();
    assert!(close(link.pct_min, 55.0));
    assert_eq!(
        link.via,
        [edge(&g, "P", "B"), edge(&g, "A", "B")],
        "direct edge first"
    );
    assert_eq!(
        control_proof(&g, &link, &cfg),
        [
            vec![edge(&g, "P", "B")],
            vec![edge(&g, "P", "A"), edge(&g, "A", "B")]
        ]
    );

    // The same stakes through a company P does not control make nothing.
    let g = graph(
        "person P
         entity A
         entity B
         owns P A 50
         owns P B 25
         owns A B 30",
    );
    assert!(controlled(&g, "P").is_empty(), "50% is not a majority");
}

#[test]
fn cross_holding_cycle_terminates_with_the_right_figures() {
    let g = graph(
        "person P
         entity A
         entity B
         owns P A 55
         owns A B 51
         owns B A 30",
    );
    assert_eq!(controlled(&g, "P"), ["A", "B"]);
    assert_eq!(controlled(&g, "A"), ["B"]);
    assert!(controlled(&g, "B").is_empty());

    // Walks P→A→(B→A)* and P→A→B→(A→B)*: geometric series of ratio 0.51 × 0.30.
    let r = 0.51 * 0.30;
    assert!(close(stake_of(&g, "P", "A").pct_min, 55.0 / (1.0 - r)));
    assert!(close(
        stake_of(&g, "P", "B").pct_min,
        55.0 * 0.51 / (1.0 - r)
    ));
    // A's walks back to itself are removed (Vitali et al.): A holds its direct 51% of B.
    assert!(close(stake_of(&g, "A", "B").pct_min, 51.0));
    assert!(close(stake_of(&g, "B", "A").pct_min, 30.0));

    let ups = ultimate_controllers(&g, id(&g, "B"), &ControlConfig::default());
    assert_eq!(keys(&g, ups.iter().map(|u| u.controller)), ["P"]);
}

#[test]
fn mutual_control_cycle_names_both_sides_and_the_outside_owner() {
    let g = graph(
        "person Q
         entity A
         entity B
         owns Q A 49
         owns A B 51
         owns B A 51",
    );
    assert_eq!(controlled(&g, "A"), ["B"]);
    assert_eq!(controlled(&g, "B"), ["A"]);
    assert!(controlled(&g, "Q").is_empty());
    let cfg = ControlConfig::default();
    let ups = ultimate_controllers(&g, id(&g, "A"), &cfg);
    assert_eq!(ups[0].controller, id(&g, "B"));
    assert_eq!(ups[0].basis, ControlBasis::Majority);
    let q = ups.iter().find(|u| u.controller == id(&g, "Q")).unwrap();
    let expect = 49.0 / (1.0 - 0.51 * 0.51);
    assert!(
        matches!(q.basis, ControlBasis::BeneficialOwner { pct_min, .. } if close(pct_min, expect)),
        "{q:?}"
    );
    assert_eq!(q.paths[0], [edge(&g, "Q", "A")]);
}

#[test]
fn decoy_45_45_split_controls_nothing() {
    let g = graph(
        "person P1
         person P2
         entity Z
         owns P1 Z 45
         owns P2 Z 45",
    );
    let cfg = ControlConfig::default();
    assert!(controllers_of(&g, id(&g, "Z"), &cfg).is_empty());
    let ups = ultimate_controllers(&g, id(&g, "Z"), &cfg);
    assert_eq!(keys(&g, ups.iter().map(|u| u.controller)), ["P1", "P2"]);
    assert!(ups.iter().all(
        |u| matches!(u.basis, ControlBasis::BeneficialOwner { pct_min, .. } if close(pct_min, 45.0))
    ));
    let a = ControlAnalysis::compute(&g, &cfg);
    assert!(a.links().is_empty());
}

#[test]
fn general_partner_with_one_percent_controls_its_partnership() {
    let g = graph(
        "person Q
         person L1
         person L2
         entity G
         entity LP partnership
         owns Q G 100
         owns G LP 1 gp
         owns L1 LP 60 lp
         owns L2 LP 39 lp",
    );
    let cfg = ControlConfig::default();
    let ctrl = controllers_of(&g, id(&g, "LP"), &cfg);
    assert_eq!(keys(&g, ctrl.iter().map(|l| l.controller)), ["G", "Q"]);
    assert!(ctrl.iter().all(|l| l.basis == ControlBasis::GeneralPartner));
    assert!(
        controlled(&g, "L1").is_empty(),
        "a limited partner does not control"
    );

    let ups = ultimate_controllers(&g, id(&g, "LP"), &cfg);
    assert_eq!(ups[0].controller, id(&g, "Q"));
    assert_eq!(ups[0].basis, ControlBasis::GeneralPartner);
    assert_eq!(
        ups[0].paths,
        [vec![edge(&g, "Q", "G"), edge(&g, "G", "LP")]]
    );
    // Limited partners are still owners: L1 and L2 are beneficial owners, Q (1%) is one by control.
    let bo = beneficial_owners(&g, id(&g, "LP"), &cfg);
    assert_eq!(
        keys(&g, bo.owners.iter().map(|o| o.person)),
        ["L1", "L2", "Q"]
    );
    assert!(close(stake_of(&g, "Q", "LP").pct_min, 1.0));
}

#[test]
fn limited_partner_stake_in_a_company_counts_as_equity() {
    let g = graph(
        "person P
         entity C
         owns P C 60 lp",
    );
    assert_eq!(controlled(&g, "P"), ["C"]);
}

#[test]
fn asset_manager_decides_for_its_products() {
    let g = graph(
        "person R
         entity M asset_manager
         entity F1 fund_product
         entity F2 fund_product
         entity F3 fund_product
         owns R M 70
         manages M F1
         manages M F2
         owns M F3 2
         account A1 F1
         account A3 F3",
    );
    let cfg = ControlConfig::default();
    assert_eq!(controlled(&g, "M"), ["F1", "F2", "F3"]);
    assert_eq!(controlled(&g, "R"), ["F1", "F2", "F3", "M"]);
    let a = ControlAnalysis::compute(&g, &cfg);
    for f in ["F1", "F2", "F3"] {
        let l = a.control_link(id(&g, "R"), id(&g, f)).unwrap();
        assert_eq!(l.basis, ControlBasis::Manages, "{f}");
    }
    let ups = a.ultimate_of(&g, id(&g, "A1"));
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert_eq!(ups[0].controller, id(&g, "R"));
    assert_eq!(ups[0].basis, ControlBasis::Manages);
    assert_eq!(
        ups[0].paths,
        [vec![
            edge(&g, "R", "M"),
            edge(&g, "M", "F1"),
            edge(&g, "A1", "F1")
        ]]
    );
    assert_eq!(
        ultimate_controllers(&g, id(&g, "A3"), &cfg)[0].controller,
        id(&g, "R")
    );
}

#[test]
fn shares_over_100_percent_are_a_warning() {
    let g = graph(
        "person X
         person Y
         entity Z
         owns X Z 60
         owns Y Z 50",
    );
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    assert_eq!(
        a.warnings(),
        [ControlWarning::SharesExceed100 {
            entity: id(&g, "Z"),
            measure: StakeMeasure::Capital,
            total_pct: 110.0,
            edges: vec![edge(&g, "X", "Z"), edge(&g, "Y", "Z")],
        }]
    );
    assert_eq!(
        keys(&g, a.controllers_of(id(&g, "Z")).map(|l| l.controller)),
        ["X"]
    );
}

#[test]
fn senior_managing_official_stands_in_when_nobody_reaches_the_threshold() {
    let g = graph(
        "person P1
         person P2
         person P3
         person L
         person E
         person D
         entity Z
         owns P1 Z 10
         owns P2 Z 10
         owns P3 Z 10
         officer D Z director
         officer E Z executive
         officer L Z legal_rep",
    );
    let cfg = ControlConfig::default();
    let bo = beneficial_owners(&g, id(&g, "Z"), &cfg);
    assert!(bo.is_fallback());
    let smo: Vec<_> = bo
        .senior_managing_officials
        .iter()
        .map(|s| (g.key(s.0), s.2))
        .collect();
    assert_eq!(
        smo,
        [("L", OfficerRole::LegalRep), ("E", OfficerRole::Executive)]
    );
    let ups = ultimate_controllers(&g, id(&g, "Z"), &cfg);
    assert_eq!(
        ups[0].basis,
        ControlBasis::SeniorManagingOfficial {
            role: OfficerRole::LegalRep
        }
    );
    assert_eq!(ups[0].paths, [vec![edge(&g, "L", "Z")]]);
}

#[test]
fn ranges_use_the_minimum_for_control_and_flag_possible_owners() {
    let g = graph(
        "entity INC
         entity UK
         person P
         entity Z
         owns INC UK 75-100
         owns P Z 20-30",
    );
    let cfg = ControlConfig::default();
    assert_eq!(controlled(&g, "INC"), ["UK"]);
    let bo = beneficial_owners(&g, id(&g, "Z"), &cfg);
    assert_eq!(bo.owners.len(), 1);
    assert!(!bo.owners[0].certain && close(bo.owners[0].pct_max, 30.0));
    let s = stake_of(&g, "INC", "UK");
    assert!(close(s.pct_min, 75.0) && close(s.pct_max, 100.0));
    // Nothing is known above INC and UK has no person owner nor officer: INC alone.
    let ups = ultimate_controllers(&g, id(&g, "UK"), &cfg);
    assert_eq!(keys(&g, ups.iter().map(|u| u.controller)), ["INC"]);
}

#[test]
fn one_holding_stated_as_equity_and_votes_counts_once() {
    let g = graph(
        "person P
         person V
         entity Z
         entity Y
         owns P Z 30
         owns P Z 30 voting
         owns V Y 10
         owns V Y 60 voting",
    );
    assert!(controlled(&g, "P").is_empty());
    assert_eq!(controlled(&g, "V"), ["Y"]);
    // Votes are not ownership.
    assert!(close(stake_of(&g, "V", "Y").pct_min, 10.0));
}

#[test]
fn majority_is_strict_and_tolerates_float_rounding() {
    let spec = |last: &str| {
        format!(
            "person P
             entity A
             entity C
             entity D
             entity Z
             owns P A 50
             owns P C 60
             owns P D 60
             owns P Z 16.7
             owns C Z 16.7
             owns D Z {last}"
        )
    };
    // 50% is no majority, and 16.7 + 16.7 + 16.6 (a little above 50 in f32) is 50%.
    assert_eq!(controlled(&graph(&spec("16.6")), "P"), ["C", "D"]);
    // 16.7 + 16.7 + 16.61 is a majority.
    assert_eq!(controlled(&graph(&spec("16.61")), "P"), ["C", "D", "Z"]);
}

#[test]
fn persons_and_person_held_accounts_are_their_own_ultimate_controllers() {
    let g = graph(
        "person P
         account X P",
    );
    let cfg = ControlConfig::default();
    let ups = ultimate_controllers(&g, id(&g, "P"), &cfg);
    assert_eq!(
        (ups[0].controller, ups[0].basis),
        (id(&g, "P"), ControlBasis::Holder)
    );
    let ups = ultimate_controllers(&g, id(&g, "X"), &cfg);
    assert_eq!(ups[0].paths, [vec![edge(&g, "X", "P")]]);
    assert_eq!(
        ControlAnalysis::compute(&g, &cfg).ultimate_of(&g, id(&g, "X")),
        ups
    );
}

#[test]
fn whole_graph_pass_agrees_with_the_single_subject_queries() {
    let g = graph(
        "person P
         person Q
         person L
         entity A
         entity B
         entity C
         entity D partnership
         entity M asset_manager
         entity F fund_product
         owns P A 55
         owns A B 51
         owns B A 30
         owns Q B 40
         owns B C 45
         owns P C 10
         owns C D 1 gp
         owns Q D 99 lp
         owns D M 80
         manages M F
         officer L C legal_rep
         account X1 F
         account X2 C",
    );
    let cfg = ControlConfig::default();
    let a = ControlAnalysis::compute(&g, &cfg);
    for n in g.node_ids() {
        if g.kind(n) == NodeKind::Entity {
            let mut single = controllers_of(&g, n, &cfg);
            single.sort_by_key(|l| l.controller);
            let whole: Vec<ControlLink> = a.controllers_of(n).cloned().collect();
            assert_eq!(single, whole, "{}", g.key(n));
            assert_eq!(
                integrated_ownership(&g, n, &cfg),
                a.ownership_of(n),
                "{}",
                g.key(n)
            );
            assert_eq!(
                &beneficial_owners(&g, n, &cfg),
                a.beneficial_owners(n).unwrap()
            );
        }
        assert_eq!(
            ultimate_controllers(&g, n, &cfg),
            a.ultimate_of(&g, n),
            "{}",
            g.key(n)
        );
    }
    for l in a.links() {
        assert_eq!(
            control_of(&g, l.controller, &cfg)
                .iter()
                .find(|m| m.controlled == l.controlled),
            Some(l)
        );
    }
    // P controls A, B (through A) and C (45 + 10), hence D as C's general partner, M and F.
    assert_eq!(controlled(&g, "P"), ["A", "B", "C", "D", "F", "M"]);
    let ups = a.ultimate_of(&g, id(&g, "X1"));
    assert_eq!(ups[0].controller, id(&g, "P"));
    assert_eq!(ups[0].basis, ControlBasis::Manages);
}

/// The claim of a majority reached partly directly and partly through a controlled company names
/// both legs, each share on it, and a sum equal to the link's stake (the case where only the
/// direct 24% leg was shown beside "54.0%").
#[test]
fn a_majority_claim_shows_every_leg_and_adds_up() {
    let g = graph(
        "person P
         entity Z
         entity Y
         entity N
         owns P Z 24
         owns P Y 60
         owns Y Z 30
         owns N Z 46",
    );
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    let link = a
        .control_link(id(&g, "P"), id(&g, "Z"))
        .expect("P controls Z");
    let claim = a.claim(&g, link);
    assert!(close(link.pct_min, 54.0));
    assert!(close(claim.share_sum(), 54.0));
    let legs: Vec<(String, Option<f64>, Vec<EdgeId>)> = claim
        .stakes
        .iter()
        .map(|s| (g.key(s.source).to_owned(), s.share_min, s.chain.clone()))
        .collect();
    assert_eq!(
        legs,
        [
            ("P".to_owned(), Some(24.0), vec![]),
            ("Y".to_owned(), Some(30.0), vec![edge(&g, "P", "Y")]),
        ]
    );
    let paths: Vec<Vec<EdgeId>> = claim.paths().collect();
    assert_eq!(
        paths,
        [
            vec![edge(&g, "P", "Z")],
            vec![edge(&g, "P", "Y"), edge(&g, "Y", "Z")]
        ]
    );
}

/// A manager's control of its product and a general partner's of its partnership are roles:
/// their claims carry no share.
#[test]
fn role_claims_carry_no_share() {
    let g = graph(
        "entity M asset_manager
         entity F fund_product
         entity L partnership
         person Q
         manages M F
         owns Q L 1 gp
         owns M L 99 lp",
    );
    let a = ControlAnalysis::compute(&g, &ControlConfig::default());
    let manages = a
        .control_link(id(&g, "M"), id(&g, "F"))
        .expect("M manages F");
    let c = a.claim(&g, manages);
    assert_eq!(c.link.basis, ControlBasis::Manages);
    assert_eq!(c.stakes.len(), 1);
    assert_eq!(c.stakes[0].share_min, None);
    let gp = a
        .control_link(id(&g, "Q"), id(&g, "L"))
        .expect("Q is L's general partner");
    let c = a.claim(&g, gp);
    assert_eq!(c.link.basis, ControlBasis::GeneralPartner);
    assert_eq!(c.stakes.iter().map(|s| s.edges.len()).sum::<usize>(), 1);
}

// ---------------------------------------------------------------------------------------------
// Invariants on random graphs.

/// A random ownership graph: persons `P0..`, entities `E0..` (some partnerships, an asset
/// manager and products), shareholdings and `manages` relations.
fn arb_spec() -> impl Strategy<Value = (Vec<Record>, Vec<Record>)> {
    let edge = (0usize..12, 0usize..8, 1u32..=1000, 0usize..10);
    (
        2usize..4,
        proptest::collection::vec(edge, 0..24),
        proptest::collection::vec((0usize..8, 0usize..8), 0..2),
    )
        .prop_map(|(persons, stakes, manages)| {
            let mut spec = String::new();
            for p in 0..persons {
                spec.push_str(&format!("person P{p}\n"));
            }
            let kinds = [
                "company",
                "company",
                "company",
                "partnership",
                "company",
                "asset_manager",
                "fund_product",
                "company",
            ];
            for (e, k) in kinds.iter().enumerate() {
                spec.push_str(&format!("entity E{e} {k}\n"));
            }
            let mut seen = std::collections::HashSet::new();
            for (o, e, share, k) in stakes {
                let owner = if o < persons {
                    format!("P{o}")
                } else {
                    format!("E{}", (o - persons) % 8)
                };
                let kind = match k {
                    0 => " voting",
                    1 => " gp",
                    2 => " lp",
                    _ => "",
                };
                // One record per (owner, entity, kind): the contract's key.
                if seen.insert((owner.clone(), e, kind)) {
                    spec.push_str(&format!(
                        "owns {owner} E{e} {} {kind}\n",
                        f64::from(share) / 10.0
                    ));
                }
            }
            for (m, f) in manages {
                spec.push_str(&format!("manages E{m} E{f}\n"));
            }
            records(&spec)
        })
}

/// The least fixed point of the control rule by plain repetition over all parties, as an
/// independent reference for the worklist.
fn naive_control(g: &PropertyGraph) -> std::collections::BTreeSet<(NodeId, NodeId)> {
    let parties: Vec<NodeId> = g.node_ids().filter(|&n| is_party(g, n)).collect();
    let mut out = std::collections::BTreeSet::new();
    for &x in &parties {
        let mut group = vec![x];
        loop {
            let mut next = vec![x];
            for &z in &parties {
                if z == x || g.kind(z) != NodeKind::Entity {
                    continue;
                }
                let has_gp = has_general_partner(g, z);
                let mut sum = 0.0;
                let mut decisive = false;
                for &y in &group {
                    let edges: Vec<EdgeId> =
                        g.out(y).filter(|a| a.node == z).map(|a| a.edge).collect();
                    decisive |= edges.iter().any(|&e| is_manages_relation(g, e));
                    let p = majority::pair_stake(g, y, z, edges.into_iter(), has_gp);
                    decisive |= p.general_partner || p.manager;
                    sum += p.min;
                }
                if decisive || sum > 50.0 + PCT_EPSILON {
                    next.push(z);
                }
            }
            if next.len() == group.len() {
                break;
            }
            group = next;
        }
        out.extend(group[1..].iter().map(|&z| (x, z)));
    }
    out
}

fn control_by_key(g: &PropertyGraph, a: &ControlAnalysis) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = a
        .links()
        .iter()
        .map(|l| {
            (
                g.key(l.controller).to_owned(),
                g.key(l.controlled).to_owned(),
                format!("{:?}", l.basis),
            )
        })
        .collect();
    v.sort();
    v
}

/// Solves `x (I − W) = e_j` row-wise by Gauss-Jordan to get `(I − W)⁻¹` of a small dense matrix.
fn inverse_of_i_minus(w: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = w.len();
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut row: Vec<f64> = (0..n)
                .map(|j| f64::from(u8::from(i == j)) - w[i][j])
                .collect();
            row.extend((0..n).map(|j| f64::from(u8::from(i == j))));
            row
        })
        .collect();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))
            .unwrap();
        a.swap(c, p);
        let d = a[c][c];
        for v in &mut a[c] {
            *v /= d;
        }
        for r in 0..n {
            if r != c {
                let f = a[r][c];
                if f != 0.0 {
                    let pivot = a[c].clone();
                    for (v, pv) in a[r].iter_mut().zip(pivot) {
                        *v -= f * pv;
                    }
                }
            }
        }
    }
    a.into_iter().map(|row| row[n..].to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Control is decided the same whatever the order of the records.
    #[test]
    fn control_does_not_depend_on_record_order(
        (nodes, edges) in arb_spec(),
        seed in any::<u64>(),
    ) {
        let cfg = ControlConfig::default();
        let g1 = build(&nodes, &edges);
        let mut nodes2 = nodes;
        let mut edges2 = edges;
        shuffle(&mut nodes2, seed);
        shuffle(&mut edges2, seed.rotate_left(17));
        let g2 = build(&nodes2, &edges2);
        let a1 = ControlAnalysis::compute(&g1, &cfg);
        let a2 = ControlAnalysis::compute(&g2, &cfg);
        prop_assert_eq!(control_by_key(&g1, &a1), control_by_key(&g2, &a2));
        // Where the look-through diverged (stakes over 100% around a cycle) the clamped figures
        // depend on the sweep order; those entities are flagged and skipped here.
        let flagged = |g: &PropertyGraph, a: &ControlAnalysis| -> Vec<String> {
            a.warnings()
                .iter()
                .filter_map(|w| match w {
                    ControlWarning::LookthroughNotConverged { entity } => Some(g.key(*entity).to_owned()),
                    _ => None,
                })
                .collect()
        };
        let mut diverged = flagged(&g1, &a1);
        diverged.extend(flagged(&g2, &a2));
        for n in g1.node_ids().filter(|&n| !diverged.iter().any(|k| k == g1.key(n))) {
            let m = g2.find(g1.key(n)).unwrap();
            let s1 = a1.ownership_of(n);
            let s2 = a2.ownership_of(m);
            prop_assert_eq!(s1.len(), s2.len());
            for s in s1 {
                let t = a2.integrated(g2.find(g1.key(s.owner)).unwrap(), m).unwrap();
                prop_assert!((s.pct_min - t.pct_min).abs() < 1e-6 && (s.pct_max - t.pct_max).abs() < 1e-6);
            }
        }
    }

    /// The worklist finds exactly the least fixed point; nobody controls itself; every link has
    /// proof paths that chain from the controller to the controlled entity, and its last hops sum
    /// to a majority unless they include a general-partner or manager edge.
    #[test]
    fn every_control_is_proved((nodes, edges) in arb_spec()) {
        let cfg = ControlConfig::default();
        let g = build(&nodes, &edges);
        let a = ControlAnalysis::compute(&g, &cfg);
        let found: std::collections::BTreeSet<_> = a.links().iter().map(|l| (l.controller, l.controlled)).collect();
        prop_assert_eq!(&found, &naive_control(&g));
        for l in a.links() {
            prop_assert_ne!(l.controller, l.controlled);
            let paths = a.proof_paths(&g, l);
            prop_assert!(!paths.is_empty());
            let mut last_hops = std::collections::BTreeSet::new();
            for p in &paths {
                prop_assert_eq!(g.edge(p[0]).src, l.controller);
                prop_assert_eq!(g.edge(*p.last().unwrap()).dst, l.controlled);
                for w in p.windows(2) {
                    prop_assert_eq!(g.edge(w[0]).dst, g.edge(w[1]).src);
                }
                last_hops.insert(*p.last().unwrap());
            }
            let decisive = l.via.iter().any(|&e| match g.edge(e).data {
                EdgeData::Owns { kind: ShareKind::GeneralPartner, .. } => true,
                EdgeData::Relation { .. } => true,
                _ => is_manager_holding(&g, g.edge(e).src, g.edge(e).dst),
            });
            // Sum the proof's edges per source, capital and votes apart, as the rule does.
            let mut per_src: std::collections::BTreeMap<NodeId, (f64, f64)> = Default::default();
            for &e in &l.via {
                if let EdgeData::Owns { share_min, kind, .. } = g.edge(e).data {
                    let s = per_src.entry(g.edge(e).src).or_default();
                    match kind {
                        ShareKind::Voting => s.1 += f64::from(share_min),
                        ShareKind::GeneralPartner => {}
                        _ => s.0 += f64::from(share_min),
                    }
                }
            }
            let sum: f64 = per_src.values().map(|(c, v)| c.max(*v)).sum();
            prop_assert!(decisive || sum > 50.0, "{:?} sums to {}", l, sum);
            prop_assert!(decisive || close(sum, l.pct_min));
            // The last hops of the paths alone make the control, unless the paths were cut.
            prop_assert!(last_hops.iter().all(|e| l.via.contains(e)));
            if paths.len() < cfg.max_paths && !decisive {
                let mut per_src: std::collections::BTreeMap<NodeId, (f64, f64)> = Default::default();
                for &e in &last_hops {
                    if let EdgeData::Owns { share_min, kind, .. } = g.edge(e).data {
                        let s = per_src.entry(g.edge(e).src).or_default();
                        match kind {
                            ShareKind::Voting => s.1 += f64::from(share_min),
                            _ => s.0 += f64::from(share_min),
                        }
                    }
                }
                let sum: f64 = per_src.values().map(|(c, v)| c.max(*v)).sum();
                prop_assert!(sum > 50.0, "{:?}: proof paths sum to {}", l, sum);
            }
        }
    }

    /// In a pure tree the integrated stake of an ancestor is the product along the unique path.
    #[test]
    fn tree_lookthrough_is_the_product_along_the_path(
        parents in proptest::collection::vec((any::<prop::sample::Index>(), 1u32..=100), 1..24),
    ) {
        let mut spec = String::from("person R\n");
        let mut parent = vec![usize::MAX];
        let mut share = vec![1.0];
        for (i, _) in parents.iter().enumerate() {
            spec.push_str(&format!("entity N{}\n", i + 1));
        }
        for (i, (p, s)) in parents.iter().enumerate() {
            let p = p.index(i + 1);
            let owner = if p == 0 { "R".to_owned() } else { format!("N{p}") };
            spec.push_str(&format!("owns {owner} N{} {s}\n", i + 1));
            parent.push(p);
            share.push(f64::from(*s) / 100.0);
        }
        let g = graph(&spec);
        let name = |i: usize| if i == 0 { "R".to_owned() } else { format!("N{i}") };
        let cfg = ControlConfig::default();
        for z in 1..parent.len() {
            let stakes = integrated_ownership(&g, id(&g, &name(z)), &cfg);
            let mut expected = Vec::new();
            let (mut v, mut product) = (z, 1.0);
            while v != 0 {
                product *= share[v];
                v = parent[v];
                expected.push((id(&g, &name(v)), 100.0 * product));
            }
            // Stakes below the tolerance (1e-8 %) are not reported.
            prop_assert!(stakes.len() <= expected.len());
            for (o, pct) in expected {
                let got = stakes.iter().find(|s| s.owner == o);
                if pct >= 1e-6 {
                    let s = got.unwrap();
                    prop_assert!((s.pct_min - pct).abs() < 1e-9 * pct.max(1.0), "{:?} vs {}", s, pct);
                    prop_assert!(close(s.pct_min, s.pct_max));
                }
            }
        }
    }

    /// With cycles, the look-through equals the closed form `[(I − W)⁻¹]ᵢⱼ / [(I − W)⁻¹]ᵢᵢ`.
    #[test]
    fn cyclic_lookthrough_matches_the_closed_form(
        cells in proptest::collection::vec((0usize..6, 0usize..6, 1u32..=40), 1..20),
    ) {
        let n = 6;
        let mut w = vec![vec![0.0; n]; n];
        let mut spec = String::new();
        for i in 0..n {
            spec.push_str(&format!("entity E{i}\n"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, j, s) in cells {
            // At most two holders of 40% per entity keeps every column below 100%.
            let holders = w.iter().filter(|row| row[j] > 0.0).count();
            if seen.insert((i, j)) && holders < 2 {
                w[i][j] = f64::from(s) / 100.0;
                spec.push_str(&format!("owns E{i} E{j} {s}\n"));
            }
        }
        let g = graph(&spec);
        let m = inverse_of_i_minus(&w);
        let cfg = ControlConfig::default();
        for j in 0..n {
            let stakes = integrated_ownership(&g, id(&g, &format!("E{j}")), &cfg);
            for (i, row) in m.iter().enumerate() {
                if i == j {
                    continue;
                }
                let expected = 100.0 * row[j] / row[i];
                let got = stakes.iter().find(|s| g.key(s.owner) == format!("E{i}")).map_or(0.0, |s| s.pct_min);
                prop_assert!((got - expected).abs() < 1e-6, "E{} in E{}: {} vs {}", i, j, got, expected);
            }
        }
        let a = ControlAnalysis::compute(&g, &cfg);
        prop_assert!(a.warnings().is_empty());
    }
}

/// A deterministic Fisher-Yates shuffle (splitmix64), to avoid a dependency on `rand`.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    let mut next = || {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..v.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every control claim accounts for each proof edge of its link exactly once, each chain
    /// starts at the controller and ends where its party's edges begin, and a majority's stakes
    /// add up to the link's stake.
    #[test]
    fn control_claims_add_up((nodes, edges) in arb_spec()) {
        let g = build(&nodes, &edges);
        let a = ControlAnalysis::compute(&g, &ControlConfig::default());
        for l in a.links() {
            let c = a.claim(&g, l);
            let mut counted: Vec<EdgeId> = c.stakes.iter().flat_map(|s| s.edges.clone()).collect();
            counted.sort_unstable();
            let mut via = l.via.clone();
            via.sort_unstable();
            prop_assert_eq!(counted, via);
            for s in &c.stakes {
                prop_assert!(s.edges.iter().all(|&e| g.edge(e).src == s.source && g.edge(e).dst == l.controlled));
                match s.chain.first() {
                    None => prop_assert_eq!(s.source, l.controller),
                    Some(&e) => {
                        prop_assert_eq!(g.edge(e).src, l.controller);
                        prop_assert_eq!(g.edge(*s.chain.last().unwrap()).dst, s.source);
                    }
                }
            }
            if l.basis == ControlBasis::Majority {
                prop_assert!((c.share_sum() - l.pct_min).abs() < 1e-6, "{} vs {}", c.share_sum(), l.pct_min);
            }
        }
    }
}
