//! The `ctrlgraph` command end to end: exit codes, crash safety of ingest, and the pipeline from
//! a generated dataset to groups and reports.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctrlgraph"));
    c.env_remove("CTRLGRAPH_STORE").env("RUST_LOG", "warn");
    c
}

fn run(store: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/datasets")
        .join(name)
}

#[test]
fn missing_accounts_csv_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("persons.csv"), "person_id\nP1\n").unwrap();
    let o = run(
        &tmp.path().join("store"),
        &["ingest", data.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("accounts.csv is required and missing"),
        "{}",
        text(&o)
    );
}

#[test]
fn ingest_prints_per_file_counts_and_writes_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let o = run(&store, &["ingest", fixture("bad-input").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let total = out
        .lines()
        .find(|l| l.starts_with("total"))
        .expect("a total row");
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&cells[1..4], ["52", "30", "22"], "{out}");
    let rejects = fs::read_to_string(store.join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 23);
    assert!(rejects.contains("accounts.csv,6,holder_id,unknown person or entity `P99`"));
    // Stats on the store it made.
    let o = run(&store, &["stats", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"][0], serde_json::json!(["account", 4]));
}

#[test]
fn stats_without_a_store_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&tmp.path().join("nothing"), &["stats"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no store at"));
}

/// Writes a valid dataset big enough that its ingest takes a while.
fn write_big(dir: &Path, accounts: usize, trades: usize) {
    fs::create_dir_all(dir).unwrap();
    let mut p = std::io::BufWriter::new(fs::File::create(dir.join("persons.csv")).unwrap());
    writeln!(p, "person_id,name").unwrap();
    let mut a = std::io::BufWriter::new(fs::File::create(dir.join("accounts.csv")).unwrap());
    writeln!(a, "account_id,holder_id,account_type").unwrap();
    for i in 0..accounts {
        writeln!(p, "BP{i},name{i}").unwrap();
        writeln!(a, "BA{i},BP{i},individual").unwrap();
    }
    let mut t = std::io::BufWriter::new(fs::File::create(dir.join("trades.csv")).unwrap());
    writeln!(
        t,
        "trade_id,ts,instrument,buy_account,sell_account,price,volume"
    )
    .unwrap();
    for i in 0..trades {
        writeln!(
            t,
            "BT{i},2024-03-01T09:30:00.{:06}+08:00,IF2403,BA{},BA{},3500.2,1",
            i % 1_000_000,
            i % accounts,
            (i * 7 + 1) % accounts
        )
        .unwrap();
    }
}

#[test]
fn a_killed_ingest_leaves_the_previous_state_intact_and_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let o = run(&store, &["ingest", fixture("bad-input").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = run(&store, &["stats", "--json"]);
    assert!(before.status.success());

    let big = tmp.path().join("big");
    write_big(&big, 50_000, 1_500_000);
    let mut child = bin()
        .arg("--store")
        .arg(&store)
        .args(["ingest", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it is well into the run: the database file grows as the transaction writes.
    let db = store.join("ctrlgraph.redb");
    let size0 = fs::metadata(&db).unwrap().len();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let grown = fs::metadata(&db).map(|m| m.len()).unwrap_or(0) > size0 + (8 << 20);
        if grown || started.elapsed() > Duration::from_secs(3) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest finished before it could be killed"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let after = run(&store, &["stats", "--json"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    assert_eq!(
        after.stdout, before.stdout,
        "the store is as before the killed run"
    );
    // And the interrupted dataset loads completely when run again.
    let o = run(&store, &["ingest", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&run(&store, &["stats", "--json"]).stdout).unwrap();
    assert_eq!(v["nodes"][0], serde_json::json!(["account", 50_004]));
}

#[test]
fn report_input_errors_exit_2_and_reports_name_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();
    let o = run(
        &store,
        &["ingest", fixture("ownership-chain").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["report", "--format", "html", "--out", out_s]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no analysis in the store"),
        "{}",
        text(&o)
    );
    let o = run(&store, &["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["report", "--format", "pdf", "--out", out_s]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(
        &store,
        &[
            "report", "--format", "csv", "--since", "previous", "--out", out_s,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("keeps no earlier analysis"),
        "{}",
        text(&o)
    );
    let o = run(
        &store,
        &[
            "report",
            "--format",
            "html,xlsx,csv,json",
            "--lang",
            "zh",
            "--out",
            out_s,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("1 groups over 9 accounts"), "{stdout}");
    for f in [
        "report.html",
        "report.xlsx",
        "groups.csv",
        "accounts.csv",
        "evidence.csv",
        "monthly.csv",
        "report.json",
    ] {
        assert!(out.join(f).is_file() && stdout.contains(f), "{f}: {stdout}");
    }
    // A second analysis keeps the first: the change report against it has no change.
    let o = run(&store, &["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(
        &store,
        &[
            "report", "--format", "csv", "--since", "previous", "--out", out_s,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("0 new, 0 grown, 0 shrunk, 0 reshaped, 0 dissolved, 1 unchanged"),
        "{}",
        text(&o)
    );
}

#[test]
fn analyze_checks_groups_against_the_limits_and_breaches_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let o = run(
        &store,
        &["ingest", fixture("surveillance").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["breaches"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("run `ctrlgraph analyze` first"),
        "{}",
        text(&o)
    );
    let o = run(&store, &["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("3 limit breaches (2 only as a group); 2 reporting findings"),
        "{}",
        text(&o)
    );

    let o = run(&store, &["breaches", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3, "{all:#?}");
    // Only-as-a-group findings come first, with each account's part.
    let first = &all[0];
    assert_eq!(first["only_as_group"], true);
    assert_eq!(first["kind"], "position_long");
    assert_eq!(
        (first["figure"].as_u64(), first["limit"].as_u64()),
        (Some(1300), Some(1200))
    );
    let parts: Vec<(String, u64)> = first["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["account"].as_str().unwrap().to_owned(),
                p["share"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(parts, [("A1".to_string(), 700), ("A2".to_string(), 600)]);
    let group = first["group_id"].as_str().unwrap().to_owned();
    assert_eq!(all[1]["kind"], "cancel");
    assert_eq!(all[1]["figure"], 6, "the FOK cancellations do not count");
    assert_eq!(
        (
            all[2]["group_id"].as_str(),
            all[2]["only_as_group"].as_bool()
        ),
        (Some("R1"), Some(false))
    );

    let o = run(&store, &["breaches", "--kind", "cancel"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 breaches, 1 only as a group"), "{out}");
    assert!(out.contains("A1:3 A2:3"), "{out}");
    let o = run(&store, &["breaches", "--only-as-group"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 breaches, 2 only as a group"));
    let o = run(&store, &["breaches", "--group", "R1"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 breaches, 0 only as a group"), "{out}");
    assert!(
        out.contains("R1") && out.contains("reported") && !out.contains(&group),
        "{out}"
    );
    let o = run(&store, &["breaches", "--kind", "margin"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown breach kind `margin`"),
        "{}",
        text(&o)
    );

    let o = run(&store, &["breaches", "--reporting"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let overdue = out
        .lines()
        .find(|l| l.starts_with("overdue"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        overdue.contains(&group) && overdue.contains("A1 A2"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("stale") && l.contains("R1")),
        "{out}"
    );
    assert!(
        out.contains("2 reporting findings (as of 2024-03-05)"),
        "{out}"
    );
    // Measured on the day A2's deadline had not passed yet, the group is not overdue.
    let o = run(&store, &["analyze", "--as-of", "2024-01-10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["breaches", "--reporting"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.lines().any(|l| l.starts_with("overdue")), "{out}");
}

#[test]
fn the_checks_find_the_breaches_planted_in_generated_tapes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = tmp.path().join("store");
    let data_s = data.to_str().unwrap();
    let o = run(
        &store,
        &[
            "gen",
            "--accounts",
            "3000",
            "--seed",
            "5",
            "--tapes",
            "--out",
            data_s,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["ingest", data_s]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Every tape row of the generator is valid.
    for f in [
        "positions.csv",
        "orders.csv",
        "limits.csv",
        "trading_days.csv",
    ] {
        let line = String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with(f))
            .unwrap_or_else(|| panic!("{f} in {}", text(&o)))
            .to_owned();
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((cols[1] == cols[2], cols[3]), (true, "0"), "{line}");
    }
    let o = run(&store, &["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["breaches", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found = found.as_array().unwrap();

    let mut truth_groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut r = csv::Reader::from_path(data.join("truth.csv")).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        truth_groups
            .entry(row[1].to_owned())
            .or_default()
            .push(row[0].to_owned());
    }
    let mut r = csv::Reader::from_path(data.join("breaches_truth.csv")).unwrap();
    let (mut planted, mut hit) = (0, 0);
    for row in r.records() {
        let row = row.unwrap();
        let accounts = &truth_groups[&row[0]];
        planted += 1;
        // Found for a detected group holding at least two of the planted accounts, with the
        // planted figure and only-as-a-group flag when the detected group is the planted one.
        let ok = found.iter().any(|b| {
            let parts: Vec<&str> = b["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["account"].as_str().unwrap())
                .collect();
            b["source"] == "detected"
                && b["kind"] == row[1]
                && b["scope"] == row[2]
                && b["date"] == row[3]
                && b["limit"].as_u64() == row[5].parse().ok()
                && parts
                    .iter()
                    .filter(|a| accounts.iter().any(|x| x == *a))
                    .count()
                    >= 2
                && (parts.len() != accounts.len()
                    || (b["figure"].as_u64() == row[4].parse().ok()
                        && b["only_as_group"].as_bool() == Some(&row[8] == "true")))
        });
        hit += u32::from(ok);
    }
    assert!(planted >= 10, "{planted} planted breaches");
    assert!(
        f64::from(hit) >= 0.9 * f64::from(planted),
        "{hit} of {planted} planted breaches found"
    );
    // A reported group that a detected group matches is never listed as stale.
    let o = run(&store, &["breaches", "--reporting", "--json"]);
    let reporting: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let reporting = reporting.as_array().unwrap();
    assert!(
        reporting.iter().any(|r| r["kind"] == "overdue"),
        "{reporting:#?}"
    );
    for stale in reporting.iter().filter(|r| r["kind"] == "stale") {
        assert!(
            !reporting
                .iter()
                .any(|r| r["kind"] == "partly_reported" && r["reported_group"] == stale["group_id"]),
            "{stale:#}"
        );
    }
    // Exempt and busy innocents alone never make a breach: every position, opening or
    // cancellation breach involves a planted group's accounts.
    let planted_accounts: std::collections::BTreeSet<&str> = truth_groups
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    for b in found.iter().filter(|b| b["kind"] != "self_trade") {
        assert!(
            b["parts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| planted_accounts.contains(p["account"].as_str().unwrap())),
            "{b:#}"
        );
    }
}

/// The cells of a file's row in the ingest summary: read, loaded, rejected, warnings, new,
/// updated, unchanged.
fn summary_row(o: &Output, file: &str) -> Vec<u64> {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(file))
        .unwrap_or_else(|| panic!("{file} in {}", text(o)));
    line.split_whitespace()
        .skip(1)
        .take(7)
        .map(|c| c.parse().unwrap())
        .collect()
}

fn write_dataset(dir: &Path, persons: &str, accounts: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("persons.csv"), persons).unwrap();
    fs::write(dir.join("accounts.csv"), accounts).unwrap();
}

#[test]
fn an_unterminated_quote_is_rejected_by_line_and_the_rest_of_the_file_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut accounts = String::from("account_id,holder_id,account_type\n");
    for i in 2..=3001 {
        if i == 5 {
            accounts.push_str("A5,\"P1,individual\n");
        } else {
            accounts.push_str(&format!("A{i},P1,individual\n"));
        }
    }
    write_dataset(&data, "person_id\nP1\n", &accounts);
    let store = tmp.path().join("store");
    let o = run(&store, &["ingest", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(&summary_row(&o, "accounts.csv")[..3], [3000, 2999, 1]);
    let rejects = fs::read_to_string(store.join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    assert!(
        rejects.contains("accounts.csv,5,,unterminated quote opened on line 5,"),
        "{rejects}"
    );
}

#[cfg(unix)]
#[test]
fn a_contract_file_that_cannot_be_read_exits_2_naming_it_and_creates_no_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write_dataset(&data, "person_id\nP1\n", "account_id,holder_id\nA1,P1\n");
    std::os::unix::fs::symlink(data.join("gone.csv"), data.join("trades.csv")).unwrap();
    let store = tmp.path().join("store");
    let o = run(&store, &["ingest", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(
            "trades.csv: cannot be read: it is a symbolic link to a file that does not exist"
        ),
        "{}",
        text(&o)
    );
    assert!(!store.exists(), "no store is created for unusable input");
    fs::remove_file(data.join("trades.csv")).unwrap();
    fs::create_dir(data.join("orders.csv")).unwrap();
    let o = run(&store, &["ingest", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("orders.csv: cannot be read: it is a folder, not a file"));
}

#[test]
fn a_mistyped_dataset_or_store_creates_nothing_and_later_commands_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let o = run(
        &store,
        &["ingest", tmp.path().join("datset").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a folder"), "{}", text(&o));
    assert!(!store.exists(), "a failed ingest leaves no store");
    // A dataset refused after the store was opened (a duplicate column) leaves none either.
    let data = tmp.path().join("data");
    write_dataset(
        &data,
        "person_id,person_id\nP1,P1\n",
        "account_id,holder_id\nA1,P1\n",
    );
    let o = run(&store, &["ingest", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("column `person_id` appears twice"),
        "{}",
        text(&o)
    );
    assert!(!store.exists(), "a failed first ingest leaves no store");
    let tokens = tmp.path().join("tokens.toml");
    let o = run(
        &store,
        &[
            "token",
            "add",
            "--tokens",
            tokens.to_str().unwrap(),
            "--name",
            "ann",
            "--role",
            "analyst",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("added an analyst token for ann"),
        "{}",
        text(&o)
    );
    let out = tmp.path().join("out");
    let truth = tmp.path().join("truth.csv");
    for args in [
        vec!["stats"],
        vec!["analyze"],
        vec!["report", "--out", out.to_str().unwrap()],
        vec![
            "serve",
            "--tokens",
            tokens.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        vec!["breaches"],
        vec!["eval", "--truth", truth.to_str().unwrap()],
        vec!["similar", "A1"],
    ] {
        let o = run(&store, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("no store at {}", store.display())),
            "{args:?}: {}",
            text(&o)
        );
        assert!(!store.exists(), "{args:?} created the store");
    }
}

#[test]
fn files_in_the_wrong_encoding_are_refused_with_the_hint_and_nothing_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let utf = tmp.path().join("utf");
    write_dataset(
        &utf,
        "person_id,name\nP1,张三\nP2,李四\n",
        "account_id,holder_id\nA1,P1\nA2,P2\n",
    );
    let store = tmp.path().join("store");
    let o = run(
        &store,
        &["ingest", "--encoding", "gbk", utf.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("persons.csv: the file is valid UTF-8")
            && err.contains("without --encoding gbk"),
        "{err}"
    );
    assert!(!store.exists());
    let gb = tmp.path().join("gb");
    fs::create_dir_all(&gb).unwrap();
    let (bytes, _, _) = encoding_rs::GB18030.encode("person_id,name\nP1,张三\nP2,李四\n");
    fs::write(gb.join("persons.csv"), &bytes).unwrap();
    fs::write(
        gb.join("accounts.csv"),
        "account_id,holder_id\nA1,P1\nA2,P2\n",
    )
    .unwrap();
    // Into an existing store: the store keeps what it had.
    let o = run(&store, &["ingest", utf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = run(&store, &["stats", "--json"]).stdout;
    let o = run(&store, &["ingest", gb.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("persons.csv: 2 of the 2 rows with non-ASCII text are not valid UTF-8")
            && err.contains("--encoding gbk"),
        "{err}"
    );
    assert_eq!(run(&store, &["stats", "--json"]).stdout, before);
}

#[test]
fn a_second_folder_reports_new_updated_and_unchanged_rows_and_warns_of_changed_holders() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let d1 = tmp.path().join("d1");
    write_dataset(
        &d1,
        "person_id,id_number\nP1,110101199003074477\nP2,\n",
        "account_id,holder_id\nA1,P1\nA2,P2\n",
    );
    let o = run(&store, &["ingest", d1.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(summary_row(&o, "accounts.csv"), [2, 2, 0, 0, 2, 0, 0]);
    let d2 = tmp.path().join("d2");
    write_dataset(
        &d2,
        "person_id,id_number\nP1,110101199003078888\nP2,\nP3,\n",
        "account_id,holder_id\nA1,P3\nA2,P2\n",
    );
    let o = run(&store, &["ingest", d2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(&summary_row(&o, "persons.csv")[4..], [1, 1, 1]);
    assert_eq!(&summary_row(&o, "accounts.csv")[4..], [0, 1, 1]);
    assert!(
        text(&o).contains("2 of them change an identity number or an account holder"),
        "{}",
        text(&o)
    );
    let warnings = fs::read_to_string(store.join("warnings.csv")).unwrap();
    assert!(
        warnings.contains("accounts.csv,2,holder_id,\"holder of account `A1` changed: the store has `P1`, this file `P3`\""),
        "{warnings}"
    );
    assert!(
        warnings.contains("the store has `110101199003074477`, this file `110101199003078888`"),
        "{warnings}"
    );
}

#[test]
fn ids_typed_in_another_case_find_the_account_and_usage_errors_exit_2_once_worded() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let o = run(
        &store,
        &["ingest", fixture("ownership-chain").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&store, &["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let upper = run(&store, &["similar", "A01", "-k", "3"]);
    assert_eq!(upper.status.code(), Some(0), "{}", text(&upper));
    let lower = run(&store, &["similar", "a01", "-k", "3"]);
    assert_eq!(lower.status.code(), Some(0), "{}", text(&lower));
    assert_eq!(lower.stdout, upper.stdout);
    let o = run(
        &store,
        &[
            "eval",
            "--truth",
            tmp.path().join("missing.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("cannot open the truth file"),
        "{}",
        text(&o)
    );
    // Reports carry the analysis time to the second.
    let out = tmp.path().join("out");
    let o = run(
        &store,
        &["report", "--format", "json", "--out", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let at = report["analysis_created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.len() == 20 && at.ends_with('Z'),
        "{at}"
    );
    // An error's cause is printed once.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let tokens = tmp.path().join("tokens.toml");
    let o = run(
        &store,
        &[
            "token",
            "add",
            "--tokens",
            tokens.to_str().unwrap(),
            "--name",
            "v",
            "--role",
            "viewer",
        ],
    );
    assert!(text(&o).contains("added a viewer token"), "{}", text(&o));
    let o = run(
        &store,
        &[
            "serve",
            "--tokens",
            tokens.to_str().unwrap(),
            "--listen",
            &addr,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
    let cause = line.rsplit(": ").next().unwrap();
    assert_eq!(line.matches(cause).count(), 1, "{line}");
    assert!(
        !store.join("audit.log").exists(),
        "a server that did not start leaves no audit log"
    );
}
