//! BODS import on the standard's worked examples and a real UK PSC fragment (see
//! `external/bods-examples/SOURCE.md` for what each file shows), plus small inline cases.

use std::collections::HashSet;
use std::path::PathBuf;

use graph_core::model::{EntityKind, OfficerRole, Record, ShareKind, Shareholding};
use ingest::bods::{BodsError, BodsImport, StatedInterest, import_file, import_slice};

fn examples() -> PathBuf {
    fixtures::external("bods-examples")
}

fn load(rel: &str) -> BodsImport {
    let path = examples().join(rel);
    import_file(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn shareholdings(imp: &BodsImport) -> Vec<&Shareholding> {
    imp.records
        .iter()
        .filter_map(|r| match r {
            Record::Shareholding(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The one shareholding of `kind` from `owner` in `entity`, as `(min, max)`.
fn share(imp: &BodsImport, owner: &str, entity: &str, kind: ShareKind) -> Option<(f64, f64)> {
    let found: Vec<_> = shareholdings(imp)
        .into_iter()
        .filter(|s| s.owner_id == owner && s.entity_id == entity && s.kind == kind)
        .map(|s| (s.share_min, s.share_max))
        .collect();
    assert!(
        found.len() <= 1,
        "duplicate shareholdings {owner} -> {entity}"
    );
    found.first().copied()
}

fn person_ids(imp: &BodsImport) -> Vec<&str> {
    imp.records
        .iter()
        .filter_map(|r| match r {
            Record::Person(p) => Some(p.person_id.as_str()),
            _ => None,
        })
        .collect()
}

fn person_name<'a>(imp: &'a BodsImport, id: &str) -> Option<&'a str> {
    imp.records.iter().find_map(|r| match r {
        Record::Person(p) if p.person_id == id => p.name.as_deref(),
        _ => None,
    })
}

fn entity<'a>(imp: &'a BodsImport, id: &str) -> &'a graph_core::model::Entity {
    imp.records
        .iter()
        .find_map(|r| match r {
            Record::Entity(e) if e.entity_id == id => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no entity `{id}`"))
}

fn stated<'a>(imp: &'a BodsImport, owner: &str, entity: &str) -> Vec<&'a StatedInterest> {
    imp.indirect
        .iter()
        .filter(|s| s.owner_id == owner && s.entity_id == entity)
        .collect()
}

fn warned(imp: &BodsImport, needle: &str) -> bool {
    imp.warnings.iter().any(|w| w.contains(needle))
}

/// Every example file imports, and what it imports is a consistent graph fragment: node ids are
/// unique across persons and entities, every link points at imported nodes, and the records come
/// in the documented order.
#[test]
fn every_example_imports_consistently() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["examples-v0.4", "real-uk-psc-v0.2"] {
        for e in std::fs::read_dir(examples().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), 20, "19 BODS 0.4 examples and one 0.2 file");
    for f in &files {
        let imp = import_file(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.display();
        assert!(!imp.records.is_empty(), "{name}: no records");
        let mut persons = HashSet::new();
        let mut entities = HashSet::new();
        let mut rank = 0;
        for r in &imp.records {
            let this_rank = match r {
                Record::Person(p) => {
                    assert!(
                        persons.insert(p.person_id.clone()),
                        "{name}: person {} twice",
                        p.person_id
                    );
                    0
                }
                Record::Entity(e) => {
                    assert!(
                        entities.insert(e.entity_id.clone()),
                        "{name}: entity {} twice",
                        e.entity_id
                    );
                    assert!(
                        !persons.contains(&e.entity_id),
                        "{name}: {} is a person and an entity",
                        e.entity_id
                    );
                    1
                }
                Record::Shareholding(s) => {
                    assert!(
                        persons.contains(&s.owner_id) || entities.contains(&s.owner_id),
                        "{name}: owner {}",
                        s.owner_id
                    );
                    assert!(
                        entities.contains(&s.entity_id),
                        "{name}: entity {}",
                        s.entity_id
                    );
                    assert!(
                        0.0 <= s.share_min && s.share_min <= s.share_max && s.share_max <= 100.0,
                        "{name}: {s:?}"
                    );
                    2
                }
                Record::Officer(o) => {
                    assert!(
                        persons.contains(&o.person_id),
                        "{name}: officer {}",
                        o.person_id
                    );
                    assert!(
                        entities.contains(&o.entity_id),
                        "{name}: officer of {}",
                        o.entity_id
                    );
                    3
                }
                other => panic!("{name}: unexpected record {other:?}"),
            };
            assert!(this_rank >= rank, "{name}: records out of order at {r:?}");
            rank = this_rank;
        }
        for s in &imp.indirect {
            assert!(
                persons.contains(&s.owner_id) || entities.contains(&s.owner_id),
                "{name}: {s:?}"
            );
            assert!(entities.contains(&s.entity_id), "{name}: {s:?}");
            assert!(!s.direct, "{name}: {s:?}");
        }
    }
}

#[test]
fn schema_files_are_not_bods_data() {
    let err = import_file(&examples().join("schema-v0.4/entity-record.json")).unwrap_err();
    assert!(matches!(err, BodsError::NotBods { .. }), "{err}");
    assert!(err.to_string().contains("not BODS data"), "{err}");
}

/// Person 1 -> Company B (60% of A) -> Company A; the person's 30% of A is stated as indirect.
#[test]
fn indirect_ownership_is_stated_not_linked() {
    let imp = load("examples-v0.4/indirect-ownership.json");
    let (a, b, p1) = ("ad3f6c2fcc9e", "d4ab89ea169a", "c25d4d612c2c");
    assert_eq!(person_ids(&imp), [p1]);
    assert_eq!(person_name(&imp, p1), Some("Person 1"));
    assert_eq!(entity(&imp, a).name.as_deref(), Some("Company A"));
    assert_eq!(entity(&imp, a).kind, Some(EntityKind::Company));
    assert_eq!(
        entity(&imp, a).extra.get("source").map(String::as_str),
        Some("indirect-ownership.json")
    );
    assert_eq!(
        entity(&imp, a)
            .extra
            .get("bods_identifiers")
            .map(String::as_str),
        Some("GB-COH:XE9999")
    );
    assert_eq!(share(&imp, b, a, ShareKind::Equity), Some((60.0, 60.0)));
    assert_eq!(
        shareholdings(&imp).len(),
        1,
        "the stated 30% must not become an edge"
    );
    let s = stated(&imp, p1, a);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].share_min, s[0].share_max, s[0].kind, s[0].direct),
        (30.0, 30.0, ShareKind::Equity, false)
    );
    // Person 1's link to Company B states neither a type nor a share.
    assert!(
        warned(
            &imp,
            "relationship `05e81af035e4`: `unstated` interest of `c25d4d612c2c` in `d4ab89ea169a`"
        ),
        "{:?}",
        imp.warnings
    );
}

/// 50% direct plus 50% through Company B, which holds 50% of A.
#[test]
fn mixed_direct_and_indirect() {
    let imp = load("examples-v0.4/mixed-direct-and-indirect-ownership.json");
    let (a, b, p1) = ("9bfe59b6a869", "ec61aeda7141", "53508b65253f");
    assert_eq!(share(&imp, p1, a, ShareKind::Equity), Some((50.0, 50.0)));
    assert_eq!(share(&imp, b, a, ShareKind::Equity), Some((50.0, 50.0)));
    let s = stated(&imp, p1, a);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].share_min, s[0].share_max), (50.0, 50.0));
}

/// Person 1 holds 60% of the top company through two intermediaries in both variants.
#[test]
fn multiple_indirect_ownership() {
    let imp = load("examples-v0.4/multiple-indirect-ownership.json");
    let (b, c, d, p1) = (
        "63e3a8a8946f",
        "d177864a8b39",
        "05fbbfb94b79",
        "92ebf964a1f6",
    );
    assert_eq!(share(&imp, c, b, ShareKind::Equity), Some((50.0, 50.0)));
    assert_eq!(share(&imp, d, b, ShareKind::Equity), Some((50.0, 50.0)));
    assert_eq!(shareholdings(&imp).len(), 2);
    assert_eq!(stated(&imp, p1, b)[0].share_min, 60.0);

    let imp = load("examples-v0.4/mutilple-indirect-ownership-2.json");
    let (a, b, c, p1) = (
        "1e049760d6c7",
        "41454e3ba398",
        "6c9fd5c92201",
        "731c7a8e7601",
    );
    assert_eq!(share(&imp, b, a, ShareKind::Equity), Some((40.0, 40.0)));
    assert_eq!(share(&imp, c, a, ShareKind::Equity), Some((20.0, 20.0)));
    assert_eq!(stated(&imp, p1, a)[0].share_max, 60.0);
    assert_eq!(imp.indirect.len(), 1);
}

/// Two people hold CHRINON LTD jointly through a "joint shareholding" arrangement, 50/50.
#[test]
fn joint_ownership_goes_through_the_arrangement() {
    let imp = load("examples-v0.4/joint-ownership.json");
    let (chrinon, joint) = ("31c55e425764", "91b4236a7d89");
    let (natalie, roberto) = ("1accb8b18b99", "f040df24d9ec");
    assert_eq!(entity(&imp, chrinon).name.as_deref(), Some("CHRINON LTD"));
    assert_eq!(
        entity(&imp, chrinon).established,
        chrono::NaiveDate::from_ymd_opt(2010, 11, 18)
    );
    assert_eq!(
        entity(&imp, chrinon)
            .extra
            .get("jurisdiction")
            .map(String::as_str),
        Some("GB")
    );
    let arrangement = entity(&imp, joint);
    assert_eq!(arrangement.kind, Some(EntityKind::Other));
    assert_eq!(
        arrangement
            .extra
            .get("bods_entity_type")
            .map(String::as_str),
        Some("arrangement")
    );
    assert_eq!(
        share(&imp, joint, chrinon, ShareKind::Equity),
        Some((100.0, 100.0))
    );
    assert_eq!(
        share(&imp, natalie, joint, ShareKind::Equity),
        Some((50.0, 50.0))
    );
    assert_eq!(
        share(&imp, roberto, joint, ShareKind::Equity),
        Some((50.0, 50.0))
    );
    assert_eq!(person_name(&imp, natalie), Some("Natalie Coleman"));
    assert_eq!(person_name(&imp, roberto), Some("Roberto Lopez"));
    assert!(imp.indirect.is_empty());
}

/// Bands are kept as ranges; exclusive bounds keep their values.
#[test]
fn share_bands_are_kept_as_ranges() {
    // {"minimum": 75, "exclusiveMaximum": 100}
    let imp = load("examples-v0.4/bods-package-entity-owning-entity.json");
    assert_eq!(
        share(&imp, "e83cce729ada", "12b7dd0770ce", ShareKind::Equity),
        Some((75.0, 100.0))
    );

    // {"exclusiveMinimum": 25, "exclusiveMaximum": 50}, with no direct/indirect level.
    let imp = load("examples-v0.4/bods-package-linking-annotations.json");
    let hunt = "0fc263ba4126";
    assert_eq!(person_name(&imp, hunt), Some("Mr Jeremy Hunt"));
    assert_eq!(
        share(&imp, hunt, "a01c1a0863e2", ShareKind::Equity),
        Some((25.0, 50.0))
    );
    let s = shareholdings(&imp)[0];
    assert_eq!(
        s.extra.get("bods_direct_or_indirect").map(String::as_str),
        Some("unknown")
    );
    assert_eq!(
        s.extra.get("share_min_exclusive").map(String::as_str),
        Some("true")
    );
    assert!(warned(
        &imp,
        "1 share interest(s) state no direct/indirect level"
    ));

    // Shares and votes, both {"minimum": 25, "exclusiveMaximum": 50}.
    let imp = load("examples-v0.4/full-pep-declaration.json");
    let (mine, hubbard) = ("a7b3bd81d8ba", "9bcdcc85e803");
    assert_eq!(
        share(&imp, hubbard, mine, ShareKind::Equity),
        Some((25.0, 50.0))
    );
    assert_eq!(
        share(&imp, hubbard, mine, ShareKind::Voting),
        Some((25.0, 50.0))
    );
    assert_eq!(shareholdings(&imp)[0].share_pct(), 37.5);
    let flags = &shareholdings(&imp)[0].extra;
    assert_eq!(flags.get("share_min_exclusive"), None);
    assert_eq!(
        flags.get("share_max_exclusive").map(String::as_str),
        Some("true")
    );
}

/// A state-owned chain: the state controls the ministry (not by shares), the ministry holds 23.5%
/// directly and 76.5% through Suomen Kaasuverkko; the state's 100% is stated as indirect.
#[test]
fn state_owned_chain() {
    let imp = load("examples-v0.4/bods-package-fi-soe.json");
    let (gasgrid, kaasu, ministry, state) = (
        "19f1c5afe9d7",
        "0199c515a699",
        "7ff95ba3682c",
        "05ce06ec97b1",
    );
    assert_eq!(entity(&imp, ministry).kind, Some(EntityKind::StateBody));
    assert_eq!(
        entity(&imp, ministry)
            .extra
            .get("bods_entity_type")
            .map(String::as_str),
        Some("stateBody/governmentDepartment")
    );
    assert_eq!(entity(&imp, state).kind, Some(EntityKind::StateBody));
    assert_eq!(entity(&imp, gasgrid).kind, Some(EntityKind::Company));
    assert_eq!(
        share(&imp, kaasu, gasgrid, ShareKind::Equity),
        Some((76.5, 76.5))
    );
    assert_eq!(
        share(&imp, ministry, kaasu, ShareKind::Equity),
        Some((100.0, 100.0))
    );
    assert_eq!(
        share(&imp, ministry, gasgrid, ShareKind::Equity),
        Some((23.5, 23.5))
    );
    assert_eq!(shareholdings(&imp).len(), 3);
    assert_eq!(stated(&imp, state, gasgrid)[0].share_min, 100.0);
    assert!(warned(
        &imp,
        "`otherInfluenceOrControl` interest of `05ce06ec97b1` in `7ff95ba3682c` (direct) is not a shareholding"
    ));
}

/// Statement updates over time: the latest statement of each record wins, and closed records
/// (Riyadh Byrne-Amin, later Declan Byrne-Amin) are not imported.
#[test]
fn fermcat_latest_statement_wins() {
    let imp = load("examples-v0.4/fermcat.json");
    let (fermcat, patrick) = ("ent-93c75c87ab28f889", "per-41c0bb0cef246f7c");
    assert_eq!(person_ids(&imp), [patrick]);
    assert_eq!(person_name(&imp, patrick), Some("Patrick O'Donohue"));
    // `hasPublicListing: false`, unlike the listed company of the exempt-from-disclosure case.
    assert_eq!(entity(&imp, fermcat).extra.get("listed"), None);
    // 50% until January 2022, then 100%.
    assert_eq!(
        share(&imp, patrick, fermcat, ShareKind::Equity),
        Some((100.0, 100.0))
    );
    assert_eq!(shareholdings(&imp).len(), 1);
    let officers: Vec<_> = imp
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Officer(o) => Some((o.person_id.as_str(), o.entity_id.as_str(), o.role)),
            _ => None,
        })
        .collect();
    assert_eq!(officers, [(patrick, fermcat, OfficerRole::Director)]);
    assert!(warned(
        &imp,
        "person `per-5faa4103dee78621` is closed as of 2021-09-11T14:02:11Z"
    ));
    assert!(warned(
        &imp,
        "person `per-e334cc6258e56467` is closed as of 2022-01-21T11:56:47Z"
    ));
    assert!(warned(
        &imp,
        "relationship `rel-b64a491543d986d0` is closed"
    ));
}

/// Shear Trust's stake grows 60 -> 70 -> 80% while Maria Esteves's record is closed in 2023.
#[test]
fn tecido_latest_statement_wins() {
    let imp = load("examples-v0.4/tecido.json");
    let (tecido, shear) = ("01B68D7633", "033E84672B");
    assert!(person_ids(&imp).is_empty());
    assert_eq!(
        share(&imp, shear, tecido, ShareKind::Equity),
        Some((80.0, 80.0))
    );
    assert_eq!(
        share(&imp, shear, tecido, ShareKind::Voting),
        Some((80.0, 80.0))
    );
    assert_eq!(shareholdings(&imp).len(), 2);
    assert!(warned(
        &imp,
        "relationship `022EBEB66B` is closed as of 2023-03-03"
    ));
}

/// The real UK PSC fragment in BODS 0.2: AIMIA INC. holds 75-100% of two UK companies; its own
/// owner is "unknown person(s)".
#[test]
fn uk_psc_v02_ranges_and_unknown_owner() {
    let imp = load("real-uk-psc-v0.2/aimia-uk-psc-bods-0.2.json");
    let uk1 = "openownership-register-6986942533025490740";
    let uk2 = "openownership-register-17922597383544943623";
    let inc = "openownership-register-4464213138928640503";
    assert!(person_ids(&imp).is_empty());
    assert_eq!(
        entity(&imp, uk1).name.as_deref(),
        Some("AIMIA HOLDINGS UK LIMITED")
    );
    assert_eq!(
        entity(&imp, uk2).name.as_deref(),
        Some("AIMIA HOLDINGS UK II LIMITED")
    );
    assert_eq!(entity(&imp, inc).name.as_deref(), Some("AIMIA INC."));
    assert_eq!(
        entity(&imp, inc)
            .extra
            .get("jurisdiction")
            .map(String::as_str),
        Some("CA")
    );
    assert_eq!(
        entity(&imp, uk1).established,
        chrono::NaiveDate::from_ymd_opt(2007, 11, 26)
    );
    // Five repetitions of GB-COH 06436883 collapse into one.
    let ids = entity(&imp, uk1).extra.get("bods_identifiers").unwrap();
    assert_eq!(ids.matches("GB-COH:06436883").count(), 1, "{ids}");
    assert_eq!(
        share(&imp, inc, uk1, ShareKind::Equity),
        Some((75.0, 100.0))
    );
    assert_eq!(
        share(&imp, inc, uk2, ShareKind::Equity),
        Some((75.0, 100.0))
    );
    assert_eq!(shareholdings(&imp).len(), 2);
    assert!(
        warned(&imp, "unknown or undisclosed (unknown: Unknown person(s))"),
        "{:?}",
        imp.warnings
    );
}

#[test]
fn listed_company_exempt_from_disclosure() {
    let imp = load("examples-v0.4/listed-company-exempt-from-disclosure.json");
    assert_eq!(imp.records.len(), 1);
    assert_eq!(
        entity(&imp, "4c7ea3bfbe6c")
            .extra
            .get("listed")
            .map(String::as_str),
        Some("true")
    );
    assert!(warned(
        &imp,
        "(subjectExemptFromDisclosure: Exempt from disclosure"
    ));
}

/// Trust roles are no shareholdings; the anonymous beneficiary is a node without identity.
#[test]
fn levent_trust_roles_are_warnings() {
    let imp = load("examples-v0.4/levent.json");
    assert_eq!(
        entity(&imp, "8e40d059")
            .extra
            .get("bods_entity_type")
            .map(String::as_str),
        Some("arrangement/trust")
    );
    assert!(shareholdings(&imp).is_empty());
    let anon = imp.records.iter().find_map(|r| match r {
        Record::Person(p) if p.person_id == "81337a6e" => Some(p),
        _ => None,
    });
    let anon = anon.expect("the anonymous beneficiary");
    assert_eq!(anon.name, None);
    assert_eq!(
        anon.extra.get("bods_person_type").map(String::as_str),
        Some("anonymousPerson")
    );
    for t in [
        "`trustee` interest of `700c264e`",
        "`settlor` interest of `d8855000`",
        "`beneficiaryOfLegalArrangement` interest of `81337a6e`",
    ] {
        assert!(warned(&imp, t), "{t}: {:?}", imp.warnings);
    }
}

/// The nominee arrangement sits on the board (not a person, so no officer); the nominator's
/// control is indirect and has no share.
#[test]
fn nomination_is_reported() {
    let imp = load("examples-v0.4/nomination.json");
    assert!(shareholdings(&imp).is_empty());
    assert!(imp.indirect.is_empty());
    assert!(!imp.records.iter().any(|r| matches!(r, Record::Officer(_))));
    assert!(warned(
        &imp,
        "`boardMember` interest of `103AB1984D` in `104AB1984C`: the holder is not a person"
    ));
    assert!(warned(
        &imp,
        "`otherInfluenceOrControl` interest of `101AB1984F` in `104AB1984C` (indirect) is not a shareholding"
    ));
    assert_eq!(
        entity(&imp, "103AB1984D")
            .extra
            .get("bods_entity_type")
            .map(String::as_str),
        Some("arrangement/nomination")
    );
    assert_eq!(
        person_name(&imp, "101AB1984F"),
        Some("Silvia Teixeira Perez")
    );
}

const V02_PEOPLE: &str = r#"[
  {"statementID": "p-old", "statementType": "personStatement", "personType": "knownPerson",
   "names": [{"type": "alternative", "fullName": "Lao Wang"}, {"type": "legal", "givenName": "Wang", "familyName": "Wu"}]},
  {"statementID": "p1", "statementType": "personStatement", "personType": "knownPerson", "replacesStatements": ["p-old"],
   "names": [{"fullName": "王　五"}], "identifiers": [{"scheme": "CHN-IDCARD", "id": "11010519491231002x"}]},
  {"statementID": "e1", "statementType": "entityStatement", "entityType": "registeredEntity", "name": "ＡＢＣ 有限公司",
   "identifiers": [{"scheme": "CN-SAMR", "id": "91350100m000100y43"}], "dissolutionDate": "2020-01-01"},
  {"statementID": "e2", "statementType": "entityStatement", "entityType": "registeredEntity", "name": "Holdco",
   "identifiers": [{"scheme": "CN-XYZ", "id": "91440300708461136T"}]},
  {"statementID": "r1", "statementType": "ownershipOrControlStatement",
   "subject": {"describedByEntityStatement": "e1"}, "interestedParty": {"describedByEntityStatement": "e2"},
   "interests": [{"type": "shareholding", "interestLevel": "direct", "share": {"exact": 70}},
                 {"type": "voting-rights", "interestLevel": "direct", "share": {"minimum": 50, "maximum": 75, "exclusiveMinimum": true}}]},
  {"statementID": "r2", "statementType": "ownershipOrControlStatement",
   "subject": {"describedByEntityStatement": "e1"}, "interestedParty": {"describedByPersonStatement": "p1"},
   "interests": [{"type": "shareholding", "interestLevel": "indirect", "share": {"exact": 70}},
                 {"type": "senior-managing-official", "interestLevel": "direct"},
                 {"type": "appointment-of-board", "interestLevel": "direct"},
                 {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 5}, "endDate": "2019-05-01"}]},
  {"statementID": "r3", "statementType": "ownershipOrControlStatement",
   "subject": {"describedByEntityStatement": "p-old"}, "interestedParty": {"describedByPersonStatement": "p1"},
   "interests": [{"type": "shareholding", "share": {"exact": 1}}]},
  {"statementID": "r4", "statementType": "ownershipOrControlStatement",
   "subject": {"describedByEntityStatement": "e9"}, "interestedParty": {"describedByPersonStatement": "p1"},
   "interests": [{"type": "shareholding", "share": {"exact": 1}}]}
]"#;

#[test]
fn v02_statements_map_to_records() {
    let imp = import_slice(V02_PEOPLE.as_bytes(), "inline").unwrap();
    // The replaced statement is gone; the CHN-IDCARD identifier is the identity number.
    let Record::Person(p) = &imp.records[0] else {
        panic!("{:?}", imp.records[0])
    };
    assert_eq!(
        (p.person_id.as_str(), p.name.as_deref()),
        ("p1", Some("王 五"))
    );
    assert_eq!(p.id_number.as_deref(), Some("11010519491231002X"));
    assert_eq!(p.extra.get("source").map(String::as_str), Some("inline"));
    assert_eq!(person_ids(&imp), ["p1"]);
    let e1 = entity(&imp, "e1");
    assert_eq!(e1.name.as_deref(), Some("ABC 有限公司"));
    assert_eq!(e1.uscc.as_deref(), Some("91350100M000100Y43"));
    assert_eq!(e1.status, Some(graph_core::model::EntityStatus::Cancelled));
    // An unlisted Chinese scheme is taken as a USCC only because the check character holds.
    assert_eq!(
        entity(&imp, "e2").uscc.as_deref(),
        Some("91440300708461136T")
    );
    assert_eq!(
        share(&imp, "e2", "e1", ShareKind::Equity),
        Some((70.0, 70.0))
    );
    assert_eq!(
        share(&imp, "e2", "e1", ShareKind::Voting),
        Some((50.0, 75.0))
    );
    assert_eq!(
        share(&imp, "p1", "e1", ShareKind::Equity),
        None,
        "indirect and ended interests are no edges"
    );
    assert_eq!(stated(&imp, "p1", "e1")[0].share_min, 70.0);
    let officer = imp.records.iter().find_map(|r| match r {
        Record::Officer(o) => Some((o.person_id.as_str(), o.entity_id.as_str(), o.role)),
        _ => None,
    });
    assert_eq!(officer, Some(("p1", "e1", OfficerRole::Executive)));
    assert!(warned(
        &imp,
        "`appointment-of-board` interest of `p1` in `e1` (direct) is not a shareholding"
    ));
    assert!(warned(&imp, "ended on 2019-05-01"));
    assert!(warned(
        &imp,
        "relationship `r3`: its subject is `p-old`, which this file does not define"
    ));
    assert!(warned(
        &imp,
        "relationship `r4`: its subject is `e9`, which this file does not define"
    ));
}

#[test]
fn one_id_names_one_node() {
    let json = r#"[
      {"recordId": "x", "recordType": "person", "statementDate": "2020-01-01", "recordDetails": {"personType": "knownPerson", "names": [{"fullName": "A"}]}},
      {"recordId": "x", "recordType": "entity", "statementDate": "2021-01-01", "recordDetails": {"entityType": {"type": "registeredEntity"}, "name": "X Ltd"}},
      {"recordId": "x", "recordType": "person", "statementDate": "2019-01-01", "recordDetails": {"personType": "knownPerson", "names": [{"fullName": "B"}]}}
    ]"#;
    let imp = import_slice(json.as_bytes(), "inline").unwrap();
    assert_eq!(imp.records.len(), 1);
    assert_eq!(entity(&imp, "x").name.as_deref(), Some("X Ltd"));
    assert!(warned(&imp, "id `x` names both a person and a entity"));
}

#[test]
fn json_lines_and_bad_input() {
    let lines = "{\"recordId\": \"e\", \"recordType\": \"entity\", \"recordDetails\": {\"name\": \"E\"}}\n\
                 {\"recordId\": \"p\", \"recordType\": \"person\", \"recordDetails\": {\"names\": [{\"fullName\": \"P\"}]}}\n\
                 {\"recordId\": \"r\", \"recordType\": \"relationship\", \"recordDetails\": {\"subject\": \"e\", \"interestedParty\": \"p\",\
                   \"interests\": [{\"type\": \"shareholding\", \"directOrIndirect\": \"direct\", \"share\": {\"exact\": 51}}]}}\n";
    let imp = import_slice(lines.as_bytes(), "lines").unwrap();
    assert_eq!(share(&imp, "p", "e", ShareKind::Equity), Some((51.0, 51.0)));
    assert_eq!(imp.records.len(), 3);

    let empty = import_slice(b" [] ", "empty").unwrap();
    assert!(empty.records.is_empty() && empty.warnings.is_empty());

    let err = import_slice(b"[{\"recordId\": ", "broken").unwrap_err();
    assert!(matches!(err, BodsError::Json { .. }));
    assert!(
        err.to_string().starts_with("broken: not valid JSON"),
        "{err}"
    );
    let err = import_slice(b"42", "number").unwrap_err();
    assert!(err.to_string().contains("a top-level number"), "{err}");
    let err = import_slice(br#"[{"hello": "world"}]"#, "other").unwrap_err();
    assert!(matches!(err, BodsError::NotBods { .. }), "{err}");
    let err = import_file(std::path::Path::new("/nonexistent/bods.json")).unwrap_err();
    assert!(matches!(err, BodsError::Io { .. }), "{err}");

    // One odd statement among good ones is a warning, not an error.
    let mixed = br#"[{"recordId": "e", "recordType": "entity", "recordDetails": {"name": "E"}}, 7, {"recordType": "entity"}]"#;
    let imp = import_slice(mixed, "mixed").unwrap();
    assert_eq!(imp.records.len(), 1);
    assert!(warned(&imp, "statement #2: a number"));
    assert!(warned(
        &imp,
        "statement #3: a 0.4 statement without recordId"
    ));
}
