//! The ownership and control computations on the PyPI package `bods-v04-fixtures` (BODS 0.4 edge
//! cases, each with an `.expected.md` that states what a query engine must answer). The package is
//! installed by `scripts/bods-fixtures.sh` into a virtual environment of its own; the folder can
//! also be given as `CTRLGRAPH_BODS_FIXTURES`. Without Python or PyPI these tests fail and say so.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use detectors::control::{
    ControlAnalysis, ControlBasis, ControlConfig, beneficial_owners, integrated_ownership,
    ultimate_controllers,
};
use graph_core::model::{Record, ShareKind};
use graph_core::{GraphBuilder, NodeId, PropertyGraph};
use ingest::bods::{BodsImport, import_file};

/// The package's data folder: `CTRLGRAPH_BODS_FIXTURES`, else what the install script prints.
fn data_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("CTRLGRAPH_BODS_FIXTURES") {
            return PathBuf::from(d);
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bods-fixtures.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed (it installs the PyPI package bods-v04-fixtures; set CTRLGRAPH_BODS_FIXTURES to its data folder to skip the install):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(dir.join("VERSION").is_file(), "no fixtures at {}", dir.display());
        dir
    })
    .clone()
}

fn load(case: &str) -> (PropertyGraph, BodsImport) {
    let path = data_dir().join(case);
    let imp = import_file(&path).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut b = GraphBuilder::new();
    for r in &imp.records {
        b.add_record(r);
    }
    assert!(b.unresolved().is_empty(), "{:?}", b.unresolved());
    (b.finish(), imp)
}

fn id(g: &PropertyGraph, key: &str) -> NodeId {
    g.find(key).unwrap_or_else(|| panic!("no node {key}"))
}

fn persons(imp: &BodsImport) -> usize {
    imp.records
        .iter()
        .filter(|r| matches!(r, Record::Person(_)))
        .count()
}

/// 01: Jane Smith is the single-hop beneficial owner of Acme Holdings with 75%; both interest
/// types are kept and the stake is not counted twice.
#[test]
fn direct_ownership_names_jane_smith_with_75_percent_in_one_hop() {
    let (g, imp) = load("core/01-direct-ownership.json");
    let kinds: Vec<ShareKind> = imp
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Shareholding(s) => Some(s.kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [ShareKind::Equity, ShareKind::Voting],
        "both interests kept"
    );
    let (acme, jane) = (
        id(&g, "rec-acme-holdings-ltd"),
        id(&g, "rec-jane-smith-1975"),
    );
    let cfg = ControlConfig::default();
    let bo = beneficial_owners(&g, acme, &cfg);
    assert_eq!(bo.owners.len(), 1);
    assert_eq!(bo.owners[0].person, jane);
    assert!(
        (bo.owners[0].pct_min - 75.0).abs() < 1e-9,
        "{:?}",
        bo.owners[0]
    );
    assert!(bo.owners[0].controls && bo.owners[0].certain);
    let ups = ultimate_controllers(&g, acme, &cfg);
    assert_eq!(ups.len(), 1);
    assert_eq!(
        (ups[0].controller, ups[0].basis),
        (jane, ControlBasis::Majority)
    );
    assert!(ups[0].paths.iter().all(|p| p.len() == 1), "a single hop");
    // 75% of capital and 75% of votes are one stake of 75%, not 150%.
    let a = ControlAnalysis::compute(&g, &cfg);
    let link = a.control_link(jane, acme).expect("Jane controls Acme");
    assert!((link.pct_min - 75.0).abs() < 1e-9);
    assert!((a.claim(&g, link).share_sum() - 75.0).abs() < 1e-9);
}

/// 10: Alpha and Beta own each other 100%. The computation terminates, names no natural person,
/// never makes an entity its own owner, and does not inflate ownership to 200%.
#[test]
fn circular_ownership_terminates_without_a_person_or_an_inflated_stake() {
    let (g, imp) = load("edge-cases/10-circular-ownership.json");
    assert_eq!(persons(&imp), 0);
    let shareholdings = imp
        .records
        .iter()
        .filter(|r| matches!(r, Record::Shareholding(_)))
        .count();
    assert_eq!(shareholdings, 2, "both sides of the cycle are kept");
    let cfg = ControlConfig::default();
    for (x, other) in [
        ("rec-alpha-corp", "rec-beta-corp"),
        ("rec-beta-corp", "rec-alpha-corp"),
    ] {
        let (x, other) = (id(&g, x), id(&g, other));
        let bo = beneficial_owners(&g, x, &cfg);
        assert!(bo.owners.is_empty() && bo.senior_managing_officials.is_empty());
        // The cycle is flagged by naming its other side, never the entity itself.
        let ups: Vec<NodeId> = ultimate_controllers(&g, x, &cfg)
            .iter()
            .map(|u| u.controller)
            .collect();
        assert_eq!(ups, [other]);
        for s in integrated_ownership(&g, x, &cfg) {
            assert_ne!(s.owner, x, "no stake in itself");
            assert!(s.pct_max <= 100.0 + 1e-9, "{s:?}");
        }
    }
}

/// 11: Opaque Holdings declares that it cannot identify a beneficial owner. No placeholder
/// person is made, the reason code is kept verbatim on the entity and in the import's warnings,
/// and the query answers "declared unknown" rather than "nothing published".
#[test]
fn a_declared_unknown_owner_is_kept_as_such_and_no_person_is_invented() {
    let (g, imp) = load("edge-cases/11-anonymous-person.json");
    assert_eq!(persons(&imp), 0, "no placeholder person");
    let reason = "subjectUnableToConfirmOrIdentifyBeneficialOwner";
    assert!(
        imp.warnings.iter().any(|w| w.contains(reason)),
        "{:?}",
        imp.warnings
    );
    let declared = imp.records.iter().find_map(|r| match r {
        Record::Entity(e) if e.entity_id == "rec-opaque-holdings-sa" => {
            e.extra.get("bods_unspecified_owner").cloned()
        }
        _ => None,
    });
    assert!(
        declared.as_deref().is_some_and(|d| d.starts_with(reason)),
        "{declared:?}"
    );
    let opaque = id(&g, "rec-opaque-holdings-sa");
    let cfg = ControlConfig::default();
    assert!(beneficial_owners(&g, opaque, &cfg).owners.is_empty());
    assert!(
        ultimate_controllers(&g, opaque, &cfg)
            .iter()
            .all(|u| u.controller == opaque || u.basis != ControlBasis::Majority)
    );
}
