//! Detection quality on real external data and on generated datasets, through the same library
//! path as `ctrlgraph ingest` + `analyze` + `eval`. The figures are printed so the test log
//! doubles as a record; the assertions are floors a little under the measured values.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use detectors::analysis::{AnalysisConfig, AnalysisInput, run};
use detectors::eval::{Metrics, evaluate};
use detectors::flows::TransferEvent;
use graph_core::model::{Record, Table};
use ingest::{IngestOptions, RedbStore, Store, ingest_dir};

/// Ingests a dataset folder into a fresh store, analyses it and evaluates against `truth`.
fn analyse(dataset: &Path, truth: &[Vec<String>]) -> Metrics {
    analyse_dataset(dataset, truth, true)
}

/// [`analyse`]; a dataset that is not `clean` may have rows rejected (they are counted, not lost).
fn analyse_dataset(dataset: &Path, truth: &[Vec<String>], clean: bool) -> Metrics {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(tmp.path()).unwrap();
    let summary = ingest_dir(dataset, &store, &IngestOptions::default()).unwrap();
    let totals = summary.totals();
    assert_eq!(totals.loaded + totals.rejected, totals.read, "{summary:?}");
    if clean {
        assert_eq!(totals.rejected, 0, "{summary:?}");
    }
    let g = ingest::load::load_graph(&store, false).unwrap();
    let mut transfers = Vec::new();
    store
        .scan(Table::Transfers, &mut |r| {
            if let Record::Transfer(t) = r {
                transfers.push(TransferEvent {
                    id: transfers.len() as u32,
                    ts: t.ts,
                    from: g.find(&t.from_account).unwrap(),
                    to: g.find(&t.to_account).unwrap(),
                    amount: t.amount,
                });
            }
            Ok(())
        })
        .unwrap();
    let mut trades = Vec::new();
    let mut instruments: BTreeMap<String, u32> = BTreeMap::new();
    store
        .scan(Table::Trades, &mut |r| {
            if let Record::Trade(t) = r {
                let n = instruments.len() as u32;
                trades.push(detectors::behaviour::TradeEvent {
                    id: trades.len() as u32,
                    ts: t.ts,
                    instrument: *instruments.entry(t.instrument).or_insert(n),
                    buy: g.find(&t.buy_account).unwrap(),
                    sell: g.find(&t.sell_account).unwrap(),
                    price: t.price,
                    volume: t.volume,
                });
            }
            Ok(())
        })
        .unwrap();
    let input = AnalysisInput {
        trades: &trades,
        transfers: &transfers,
        ..AnalysisInput::default()
    };
    let a = run(&g, &input, &AnalysisConfig::default(), &mut |_| {}).unwrap();
    let detected: Vec<Vec<String>> = a
        .results
        .groups
        .iter()
        .map(|g| g.accounts.clone())
        .collect();
    let n = store.count(Table::Accounts).unwrap() as usize;
    evaluate(&detected, truth, n)
}

fn read_truth(path: &Path) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut r = csv::Reader::from_path(path).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        groups
            .entry(row[1].to_owned())
            .or_default()
            .push(row[0].to_owned());
    }
    groups.into_values().collect()
}

/// AMLSim's accounts and transfers in the input format; its alerts (cycles and fan-ins) are the
/// true groups.
fn amlsim_dataset(out: &Path) -> Vec<Vec<String>> {
    let src = fixtures::external("amlsim-10k-alert-groups");
    fs::create_dir_all(out).unwrap();
    let mut persons = fs::File::create(out.join("persons.csv")).unwrap();
    let mut accounts = fs::File::create(out.join("accounts.csv")).unwrap();
    writeln!(persons, "person_id").unwrap();
    writeln!(accounts, "account_id,holder_id,account_type").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut r = csv::Reader::from_path(src.join("accounts.csv")).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        if seen.insert(row[1].to_owned()) {
            writeln!(persons, "{}", &row[1]).unwrap();
        }
        writeln!(accounts, "AC{},{},individual", &row[0], &row[1]).unwrap();
    }
    let mut transfers = fs::File::create(out.join("transfers.csv")).unwrap();
    writeln!(transfers, "transfer_id,ts,from_account,to_account,amount").unwrap();
    let mut r = csv::Reader::from_path(src.join("transactions_subset.csv")).unwrap();
    // TIMESTAMP counts simulation days from 0.
    let day0 = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        let day = day0 + chrono::Days::new(row[5].parse().unwrap());
        writeln!(
            transfers,
            "TX{},{}T12:00:00+08:00,AC{},AC{},{}",
            &row[0], day, &row[1], &row[2], &row[4]
        )
        .unwrap();
    }
    let mut groups: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut r = csv::Reader::from_path(src.join("alerts.csv")).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        let g = groups.entry(row[0].to_owned()).or_default();
        g.insert(format!("AC{}", &row[4]));
        g.insert(format!("AC{}", &row[5]));
    }
    groups
        .into_values()
        .map(|s| s.into_iter().collect())
        .collect()
}

#[test]
fn amlsim_alert_groups_are_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = amlsim_dataset(tmp.path());
    assert_eq!(truth.len(), 391);
    let m = analyse(tmp.path(), &truth);
    println!("AMLSim 10k alert groups: {m:?}");
    // Measured: group recall 0.829, pairwise F1 0.685 (the aim is 0.9 group recall; see
    // BENCHMARKS.md for what the misses are). The floors guard against regressions.
    assert!(m.group_recall >= 0.81, "{m:?}");
    assert!(m.f1 >= 0.66, "{m:?}");
}

#[test]
fn hand_made_fixtures_give_their_expected_groups() {
    for name in ["family-and-nominee", "ownership-chain", "trading-only"] {
        let dir = fixtures::dataset(name);
        let truth = read_truth(&dir.join("truth.csv"));
        let m = analyse(&dir, &truth);
        println!("{name}: {m:?}");
        assert_eq!((m.precision, m.recall), (1.0, 1.0), "{name}: {m:?}");
    }
}

#[test]
fn generated_datasets_meet_the_quality_targets() {
    for seed in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = fixtures::GenConfig::new(20_000, seed);
        fixtures::generate(&cfg, tmp.path()).unwrap();
        let truth = read_truth(&tmp.path().join("truth.csv"));
        let m = analyse(tmp.path(), &truth);
        println!("generated 20k seed {seed}: {m:?}");
        // The generator still counts a device name alone, or a terminal shared by 9-14
        // holders alone, as a fair tie; the detector, following the domain brief, lets such a
        // value join accounts only beside other evidence. It also plants rings of three or more
        // accounts at one member tied by one terminal alone, which the detector cannot tell from
        // that member's hall terminal without other evidence (seed 1: F1 0.957, seed 2: 0.918,
        // group recall 0.968; 0.938 before that rule, which lifts the independent holdouts by
        // 0.015-0.06: BENCHMARKS.md).
        assert!(m.f1 >= 0.91, "seed {seed}: {m:?}");
        assert!(m.group_recall >= 0.95, "seed {seed}: {m:?}");
    }
}

/// A dataset from the independent holdout generator (`fixtures/holdout/holdout_gen.py`, written
/// from the domain brief and the contract without reading the detectors or the Rust generator),
/// `hard` profile: weak members, noisy identifiers, dirty rows, trading studios whose borrowed
/// accounts show up only in the studio's bursts. Seed 5 was not looked at while the detectors
/// were written; at 8,000 accounts it measured F1 0.934 (precision 0.980, recall 0.892), against
/// 0.863 before member-aware services and cluster-confirmed values and 0.760 before the
/// group-burst search (`BENCHMARKS.md`).
#[test]
fn an_independent_holdout_meets_its_floor() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/holdout/holdout_gen.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--out"])
        .arg(tmp.path())
        .args(["--accounts", "8000", "--seed", "5", "--profile", "hard"])
        .output()
        .expect("python3 is needed to run the holdout generator (Debian: apt-get install python3)");
    assert!(
        out.status.success(),
        "holdout_gen.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth = read_truth(&tmp.path().join("truth.csv"));
    let m = analyse_dataset(tmp.path(), &truth, false);
    println!("holdout hard 8k seed 5: {m:?}");
    assert!(m.f1 >= 0.91, "{m:?}");
    assert!(m.recall >= 0.87, "{m:?}");
    assert!(m.precision >= 0.95, "{m:?}");
}

/// The robustness grid: every generator profile (large groups up to 200 accounts, weak members,
/// agents serving hundreds of accounts, thin markets), asserting the worst profile, and each
/// profile above the rule baseline tuned on that very dataset.
#[test]
fn every_generator_profile_meets_the_floor_worst_first() {
    let mut rows = Vec::new();
    for name in fixtures::Profile::NAMES {
        let tmp = tempfile::tempdir().unwrap();
        let profile = fixtures::Profile::named(name).unwrap();
        let cfg = fixtures::GenConfig::with_profile(8_000, 3, profile);
        fixtures::generate(&cfg, tmp.path()).unwrap();
        let truth = read_truth(&tmp.path().join("truth.csv"));
        let m = analyse(tmp.path(), &truth);
        let store_dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(store_dir.path()).unwrap();
        ingest_dir(tmp.path(), &store, &IngestOptions::default()).unwrap();
        let g = ingest::load::load_graph(&store, false).unwrap();
        let n = store.count(Table::Accounts).unwrap() as usize;
        let (settings, rules) = detectors::eval::tuned_rule_baseline(&g, &truth, n);
        rows.push((m.f1, name, m, rules, settings));
    }
    rows.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (_, name, m, rules, settings) in &rows {
        println!(
            "profile {name}: F1 {:.3} group recall {:.3} precision {:.3} recall {:.3}; rules F1 {:.3} ({settings:?})",
            m.f1, m.group_recall, m.precision, m.recall, rules.f1
        );
    }
    let (_, worst, m, _, _) = &rows[0];
    assert!(m.f1 >= 0.95, "worst profile {worst}: {m:?}");
    for (_, name, m, rules, _) in &rows {
        assert!(m.group_recall >= 0.92, "{name}: {m:?}");
        assert!(m.f1 > rules.f1, "{name}: {m:?} against rules {rules:?}");
    }
}
