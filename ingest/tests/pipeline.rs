//! Ingest runs end to end against the embedded store: counts, rejects, warnings, encodings,
//! idempotence and updates.

use std::fs;
use std::path::Path;

use graph_core::model::{Record, Table};
use ingest::{Encoding, IngestError, IngestOptions, RedbStore, Store, ingest_dir};
use proptest::prelude::*;

fn opts() -> IngestOptions {
    IngestOptions::default()
}

fn counts(summary: &ingest::IngestSummary, file: &str) -> (u64, u64, u64, u64) {
    let f = summary
        .files
        .iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("{file} in summary"));
    (f.read, f.loaded, f.rejected, f.warnings)
}

#[test]
fn bad_input_rows_are_loaded_or_rejected_as_the_fixture_readme_says() {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(tmp.path()).unwrap();
    let s = ingest_dir(&fixtures::dataset("bad-input"), &store, &opts()).unwrap();
    for f in &s.files {
        assert_eq!(f.loaded + f.rejected, f.read, "{}", f.file);
    }
    let expect = [
        ("members.csv", 2, 2, 0),
        ("persons.csv", 8, 6, 2),
        ("entities.csv", 7, 3, 4),
        ("accounts.csv", 8, 4, 4),
        ("shareholdings.csv", 7, 3, 4),
        ("relations.csv", 4, 2, 2),
        ("identifiers.csv", 6, 4, 2),
        ("transfers.csv", 3, 1, 2),
        ("trades.csv", 5, 3, 2),
        ("reported_groups.csv", 2, 2, 0),
    ];
    for (file, read, loaded, rejected) in expect {
        let (r, l, j, _) = counts(&s, file);
        assert_eq!((r, l, j), (read, loaded, rejected), "{file}");
    }
    let t = s.totals();
    assert_eq!((t.read, t.loaded, t.rejected), (52, 30, 22));

    let rejects = store.last_rejects().unwrap();
    assert_eq!(rejects.len(), 22);
    let find = |file: &str, needle: &str| {
        rejects
            .iter()
            .find(|r| r.file == file && r.reason.contains(needle))
            .unwrap_or_else(|| panic!("a reject in {file} containing {needle:?}: {rejects:#?}"))
    };
    let r = find("accounts.csv", "unknown person or entity `P99`");
    assert_eq!((r.line, r.column.as_str()), (6, "holder_id"));
    assert!(r.raw.starts_with("A5,P99,M1"));
    assert_eq!(find("accounts.csv", "unknown member `M9`").line, 7);
    assert_eq!(
        find("accounts.csv", "unknown account type `personal`").column,
        "account_type"
    );
    assert_eq!(
        find("accounts.csv", "cells, more than the header's 6").line,
        9
    );
    assert_eq!(find("persons.csv", "conflicting content").line, 8);
    assert_eq!(find("persons.csv", "required cell is empty").line, 9);
    assert_eq!(
        find("entities.csv", "unknown entity kind `corporation`").line,
        5
    );
    assert_eq!(
        find("entities.csv", "not a number").column,
        "registered_capital"
    );
    assert_eq!(find("entities.csv", "not a YYYY-MM-DD date").line, 7);
    assert_eq!(find("entities.csv", "already used by a person").line, 8);
    assert_eq!(find("shareholdings.csv", "percentage 0 is outside").line, 5);
    assert_eq!(
        find("shareholdings.csv", "percentage 120 is outside").line,
        6
    );
    assert!(
        find("shareholdings.csv", "`A1` is a account")
            .reason
            .contains("not a person or entity")
    );
    assert_eq!(
        find("relations.csv", "unknown relation kind `cousin`").line,
        3
    );
    assert_eq!(find("identifiers.csv", "not-a-mac").column, "value");
    assert_eq!(
        find("identifiers.csv", "not an ISO 8601 timestamp").column,
        "first_seen"
    );
    assert_eq!(find("transfers.csv", "negative amount").line, 3);
    assert_eq!(find("trades.csv", "not a whole number").column, "volume");

    let warnings = store.last_warnings().unwrap();
    let warned = |file: &str, needle: &str| {
        assert!(
            warnings
                .iter()
                .any(|w| w.file == file && w.message.contains(needle)),
            "a warning in {file} containing {needle:?}: {warnings:#?}"
        );
    };
    warned("members.csv", "fails its check character");
    warned("persons.csv", "fails its check digit");
    warned("persons.csv", "exact duplicate of line 2");
    warned("shareholdings.csv", "entity `E1` add up to 110.00%");
    warned("identifiers.csv", "read as +08:00");
    warned("trades.csv", "exact duplicate of line 3");

    // What was loaded is normalised and queryable.
    assert_eq!(store.count(Table::Persons).unwrap(), 5);
    assert_eq!(store.count(Table::Trades).unwrap(), 2);
    let Some(Record::Identifier(i)) = store
        .get(Table::Identifiers, "A2\u{1f}phone\u{1f}13800138000")
        .unwrap()
    else {
        panic!("A2's phone, normalised");
    };
    assert_eq!(i.value, "13800138000");
    let Some(Record::Person(p1)) = store.get(Table::Persons, "P1").unwrap() else {
        panic!("P1")
    };
    assert_eq!(p1.extra.get("nickname").map(String::as_str), Some("老张"));

    // The files beside the database say the same.
    store.export_run_files().unwrap();
    let csv = fs::read_to_string(tmp.path().join("rejects.csv")).unwrap();
    assert_eq!(csv.lines().count(), 23);
    assert!(csv.starts_with("file,line,column,reason,raw\n"));
}

#[test]
fn surveillance_tapes_are_loaded_or_rejected_as_the_fixture_readme_says() {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(tmp.path()).unwrap();
    let s = ingest_dir(
        &fixtures::dataset("surveillance-bad-input"),
        &store,
        &opts(),
    )
    .unwrap();
    for f in &s.files {
        assert_eq!(f.loaded + f.rejected, f.read, "{}", f.file);
    }
    let expect = [
        ("persons.csv", 2, 2, 0),
        ("accounts.csv", 2, 2, 0),
        ("positions.csv", 6, 3, 3),
        ("orders.csv", 7, 2, 5),
        ("limits.csv", 6, 3, 3),
        ("trading_days.csv", 3, 2, 1),
    ];
    for (file, read, loaded, rejected) in expect {
        let (r, l, j, _) = counts(&s, file);
        assert_eq!((r, l, j), (read, loaded, rejected), "{file}");
    }
    let t = s.totals();
    assert_eq!((t.read, t.loaded, t.rejected), (26, 14, 12));

    let rejects = store.last_rejects().unwrap();
    assert_eq!(rejects.len(), 12);
    let find = |file: &str, needle: &str| {
        rejects
            .iter()
            .find(|r| r.file == file && r.reason.contains(needle))
            .unwrap_or_else(|| panic!("a reject in {file} containing {needle:?}: {rejects:#?}"))
    };
    let r = find("positions.csv", "negative position -3");
    assert_eq!((r.line, r.column.as_str()), (4, "long"));
    assert!(r.raw.starts_with("2024-03-04,A1,IF2406,-3"));
    let r = find("positions.csv", "unknown account `A9`");
    assert_eq!((r.line, r.column.as_str()), (5, "account_id"));
    assert_eq!(
        find("positions.csv", "unknown purpose `investment`").line,
        6
    );
    let r = find("orders.csv", "filled 6 is above the volume 5");
    assert_eq!((r.line, r.column.as_str()), (3, "filled"));
    assert_eq!(find("orders.csv", "needs its cancel_ts").line, 4);
    let r = find("orders.csv", "cancel_ts is before");
    assert_eq!((r.line, r.column.as_str()), (5, "cancel_ts"));
    assert_eq!(find("orders.csv", "unknown account `A9`").line, 7);
    assert_eq!(find("orders.csv", "volume is zero").line, 8);
    let r = find("limits.csv", "unknown limit kind `margin`");
    assert_eq!((r.line, r.column.as_str()), (4, "kind"));
    assert_eq!(find("limits.csv", "conflicting content").line, 6);
    assert_eq!(find("limits.csv", "to_date is before from_date").line, 7);
    assert_eq!(find("trading_days.csv", "not a YYYY-MM-DD date").line, 4);

    assert_eq!(store.count(Table::Positions).unwrap(), 3);
    assert_eq!(store.count(Table::Orders).unwrap(), 2);
    assert_eq!(store.count(Table::Limits).unwrap(), 3);
    assert_eq!(store.count(Table::TradingDays).unwrap(), 2);
    let Some(Record::Position(p)) = store
        .get(
            Table::Positions,
            "2024-03-04\u{1f}A1\u{1f}IF2403\u{1f}speculation",
        )
        .unwrap()
    else {
        panic!("A1's IF2403 position, speculation by default");
    };
    assert_eq!((p.long, p.short), (12, 0));
    let Some(Record::Order(o)) = store.get(Table::Orders, "O5").unwrap() else {
        panic!("O5")
    };
    assert_eq!(o.order_type, graph_core::model::OrderType::Fok);
    assert_eq!(o.cancelled_lots(), 5);
}

#[test]
fn surveillance_tapes_read_from_gbk_like_the_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let utf = tmp.path().join("utf");
    write_small(&utf, "张三");
    fs::write(
        utf.join("positions.csv"),
        "date,account_id,instrument,long,short,purpose,备注\n2024-03-04,A1,IF2403,7,2,speculation,大户\n",
    )
    .unwrap();
    fs::write(
        utf.join("orders.csv"),
        "order_id,ts,account_id,instrument,side,offset,volume,status,席位\n\
         O1,2024-03-04T09:30:00+08:00,A2,IF2403,sell,open,3,filled,上海一部\n",
    )
    .unwrap();
    let gbk = tmp.path().join("gbk");
    fs::create_dir_all(&gbk).unwrap();
    for f in ["persons.csv", "accounts.csv", "positions.csv", "orders.csv"] {
        let text = fs::read_to_string(utf.join(f)).unwrap();
        let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
        assert!(!bad);
        fs::write(gbk.join(f), &bytes).unwrap();
    }
    let store = RedbStore::open(&gbk.join("store")).unwrap();
    let s = ingest_dir(
        &gbk,
        &store,
        &IngestOptions {
            encoding: Encoding::Gbk,
            progress: false,
        },
    )
    .unwrap();
    assert_eq!(s.totals().rejected, 0, "{s:?}");
    let Some(Record::Position(p)) = store
        .get(
            Table::Positions,
            "2024-03-04\u{1f}A1\u{1f}IF2403\u{1f}speculation",
        )
        .unwrap()
    else {
        panic!("the position")
    };
    assert_eq!(p.extra.get("备注").map(String::as_str), Some("大户"));
    let Some(Record::Order(o)) = store.get(Table::Orders, "O1").unwrap() else {
        panic!("the order")
    };
    assert_eq!(o.extra.get("席位").map(String::as_str), Some("上海一部"));
}

#[test]
fn missing_accounts_file_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("persons.csv"), "person_id\nP1\n").unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let err = ingest_dir(&data, &store, &opts()).unwrap_err();
    assert!(matches!(err, IngestError::MissingAccounts(_)));
    assert!(err.is_input_error());
    assert!(
        err.to_string()
            .contains("accounts.csv is required and missing")
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 0);
}

#[test]
fn missing_required_column_names_the_file_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("accounts.csv"),
        "account_id,member_id\nA1,M1\n",
    )
    .unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let err = ingest_dir(tmp.path(), &store, &opts()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("accounts.csv: line 1: missing required column(s): holder_id"),
        "{msg}"
    );
    assert_eq!(store.count(Table::Accounts).unwrap(), 0);
}

fn write_small(dir: &Path, holder_name: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("persons.csv"),
        format!("person_id,name\nP1,{holder_name}\nP2,李四\n"),
    )
    .unwrap();
    fs::write(
        dir.join("accounts.csv"),
        "account_id,holder_id,account_type\nA1,P1,individual\nA2,P2,individual\n",
    )
    .unwrap();
}

#[test]
fn reingest_is_idempotent_and_a_second_dataset_adds_and_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let d1 = tmp.path().join("d1");
    write_small(&d1, "张三");
    ingest_dir(&d1, &store, &opts()).unwrap();
    ingest_dir(&d1, &store, &opts()).unwrap();
    assert_eq!(store.count(Table::Accounts).unwrap(), 2);
    assert_eq!(store.count(Table::Persons).unwrap(), 2);
    assert_eq!(store.ingest_runs().unwrap().len(), 2);

    // The second folder updates P1, adds P3 and an account whose holder is only in the store.
    let d2 = tmp.path().join("d2");
    fs::create_dir_all(&d2).unwrap();
    fs::write(
        d2.join("persons.csv"),
        "person_id,name\nP1,张三丰\nP3,王五\n",
    )
    .unwrap();
    fs::write(
        d2.join("accounts.csv"),
        "account_id,holder_id\nA3,P3\nA4,P2\n",
    )
    .unwrap();
    let s = ingest_dir(&d2, &store, &opts()).unwrap();
    assert_eq!(s.totals().rejected, 0, "references to stored ids resolve");
    assert_eq!(store.count(Table::Persons).unwrap(), 3);
    assert_eq!(store.count(Table::Accounts).unwrap(), 4);
    let Some(Record::Person(p)) = store.get(Table::Persons, "P1").unwrap() else {
        panic!()
    };
    assert_eq!(p.name.as_deref(), Some("张三丰"));
}

#[test]
fn gbk_and_bom_files_read_the_same_as_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let utf = tmp.path().join("utf");
    write_small(&utf, "张三");
    let gbk = tmp.path().join("gbk");
    fs::create_dir_all(&gbk).unwrap();
    for f in ["persons.csv", "accounts.csv"] {
        let text = fs::read_to_string(utf.join(f)).unwrap();
        let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
        assert!(!bad);
        fs::write(gbk.join(f), &bytes).unwrap();
    }
    let bom = tmp.path().join("bom");
    fs::create_dir_all(&bom).unwrap();
    for f in ["persons.csv", "accounts.csv"] {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(fs::read(utf.join(f)).unwrap());
        fs::write(bom.join(f), bytes).unwrap();
    }
    let read_name = |dir: &Path, encoding| {
        let store = RedbStore::open(&dir.join("store")).unwrap();
        let s = ingest_dir(
            dir,
            &store,
            &IngestOptions {
                encoding,
                progress: false,
            },
        )
        .unwrap();
        let Some(Record::Person(p)) = store.get(Table::Persons, "P1").unwrap() else {
            panic!("P1 in {}: {s:?}", dir.display())
        };
        (p.name, s.totals().rejected)
    };
    assert_eq!(read_name(&utf, Encoding::Utf8), (Some("张三".into()), 0));
    assert_eq!(read_name(&gbk, Encoding::Gbk), (Some("张三".into()), 0));
    assert_eq!(read_name(&bom, Encoding::Utf8), (Some("张三".into()), 0));
    // GBK read as UTF-8 is not silently garbled, nor half loaded: the file is refused as a
    // whole with the hint, and nothing of the run is stored.
    let store = RedbStore::open(&tmp.path().join("store-wrong")).unwrap();
    let err = ingest_dir(&gbk, &store, &opts()).unwrap_err();
    assert!(err.is_input_error());
    let msg = err.to_string();
    assert!(
        msg.contains("persons.csv") && msg.contains("--encoding gbk"),
        "{msg}"
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 0);
    assert_eq!(store.count(Table::Persons).unwrap(), 0);
}

#[test]
fn a_file_in_the_wrong_encoding_is_refused_as_a_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let utf = tmp.path().join("utf");
    write_small(&utf, "张三");
    // UTF-8 read as GBK would load every row with a garbled name.
    let store = RedbStore::open(&tmp.path().join("s1")).unwrap();
    let gbk = IngestOptions {
        encoding: Encoding::Gbk,
        progress: false,
    };
    let err = ingest_dir(&utf, &store, &gbk).unwrap_err();
    assert!(matches!(err, IngestError::WrongEncoding { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("persons.csv") && msg.contains("without --encoding gbk"),
        "{msg}"
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 0);
    assert_eq!(store.count(Table::Accounts).unwrap(), 0);
    // A GB18030 file with one ASCII row among Chinese names, read as UTF-8.
    let gb = tmp.path().join("gb");
    fs::create_dir_all(&gb).unwrap();
    let text = "person_id,name\nP1,张三\nP2,李四\nP3,Smith\nP4,王五\n";
    let (bytes, _, bad) = encoding_rs::GB18030.encode(text);
    assert!(!bad);
    fs::write(gb.join("persons.csv"), &bytes).unwrap();
    fs::write(gb.join("accounts.csv"), "account_id,holder_id\nA1,P3\n").unwrap();
    let store = RedbStore::open(&tmp.path().join("s2")).unwrap();
    let err = ingest_dir(&gb, &store, &opts()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("persons.csv: 3 of the 3 rows with non-ASCII text are not valid UTF-8")
            && msg.contains("--encoding gbk"),
        "{msg}"
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 0);
    assert_eq!(store.count(Table::Persons).unwrap(), 0);
    // One broken row among UTF-8 names is only that row's defect.
    let one = tmp.path().join("one");
    fs::create_dir_all(&one).unwrap();
    let mut p = "person_id,name\nP1,张三\nP2,李四\n".as_bytes().to_vec();
    p.extend(b"P3,\xff\xfe\n");
    fs::write(one.join("persons.csv"), p).unwrap();
    fs::write(one.join("accounts.csv"), "account_id,holder_id\nA1,P1\n").unwrap();
    let store = RedbStore::open(&tmp.path().join("s3")).unwrap();
    let s = ingest_dir(&one, &store, &opts()).unwrap();
    assert_eq!(counts(&s, "persons.csv"), (3, 2, 1, 0));
}

fn accounts_with(lines: &[(usize, &str)], rows: usize) -> String {
    let mut text = String::from("account_id,holder_id,account_type\n");
    for i in 0..rows {
        // The header is line 1, so row i is on line i + 2.
        match lines.iter().find(|(l, _)| *l == i + 2) {
            Some((_, row)) => text.push_str(row),
            None => text.push_str(&format!("A{i},P1,individual")),
        }
        text.push('\n');
    }
    text
}

#[test]
fn an_unterminated_quote_costs_one_row_and_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(
        data.join("persons.csv"),
        "person_id,name\nP1,\"Lee, Ann\"\n",
    )
    .unwrap();
    let text = accounts_with(
        &[(5, "A3,\"P1,individual"), (900, "A898,P1,\"individual\"")],
        3000,
    );
    fs::write(data.join("accounts.csv"), text).unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let s = ingest_dir(&data, &store, &opts()).unwrap();
    assert_eq!(counts(&s, "accounts.csv"), (3000, 2999, 1, 0));
    let r = store.last_rejects().unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0].line, r[0].reason.as_str(), r[0].raw.as_str()),
        (
            5,
            "unterminated quote opened on line 5",
            "A3,\"P1,individual"
        )
    );
    let Some(Record::Person(p)) = store.get(Table::Persons, "P1").unwrap() else {
        panic!()
    };
    assert_eq!(p.name.as_deref(), Some("Lee, Ann"));
}

#[test]
fn short_rows_and_duplicate_columns_are_not_silently_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("persons.csv"), "person_id\nP1\n").unwrap();
    fs::write(
        data.join("accounts.csv"),
        accounts_with(&[(3, "A1,P1"), (4, "A2,P1,individual,extra")], 4),
    )
    .unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let s = ingest_dir(&data, &store, &opts()).unwrap();
    assert_eq!(counts(&s, "accounts.csv"), (4, 2, 2, 0));
    let r = store.last_rejects().unwrap();
    let reasons: Vec<(u64, &str)> = r.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (3, "row has 2 cells, fewer than the header's 3"),
            (4, "row has 4 cells, more than the header's 3"),
        ]
    );
    fs::write(
        data.join("accounts.csv"),
        "account_id,holder_id,status,holder_id\nA1,P1,active,P2\n",
    )
    .unwrap();
    let err = ingest_dir(&data, &store, &opts()).unwrap_err();
    assert!(err.is_input_error());
    assert!(
        err.to_string()
            .ends_with("accounts.csv: line 1: column `holder_id` appears twice (columns 2 and 4)"),
        "{err}"
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn a_contract_file_that_exists_but_cannot_be_read_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    /// What the case expects the error to say, and how it spoils `trades.csv` in a folder.
    type Case<'a> = (&'a str, &'a dyn Fn(&Path));
    let cases: [Case; 3] = [
        ("symbolic link to a file that does not exist", &|p| {
            std::os::unix::fs::symlink(p.join("nowhere.csv"), p.join("trades.csv")).unwrap();
        }),
        ("symbolic link that cannot be followed", &|p| {
            std::os::unix::fs::symlink(p.join("trades.csv"), p.join("trades.csv")).unwrap();
        }),
        ("a folder, not a file", &|p| {
            fs::create_dir(p.join("trades.csv")).unwrap();
        }),
    ];
    for (i, (reason, make)) in cases.iter().enumerate() {
        let data = tmp.path().join(format!("d{i}"));
        write_small(&data, "张三");
        make(&data);
        let err = ingest_dir(&data, &store, &opts()).unwrap_err();
        assert!(err.is_input_error(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "{}: cannot be read",
                data.join("trades.csv").display()
            )) && msg.contains(reason),
            "{msg}"
        );
    }
    // The required file as a folder says so too.
    let data = tmp.path().join("acc");
    fs::create_dir_all(data.join("accounts.csv")).unwrap();
    let msg = ingest_dir(&data, &store, &opts()).unwrap_err().to_string();
    assert!(
        msg.contains("accounts.csv: cannot be read: it is a folder"),
        "{msg}"
    );
    assert_eq!(store.ingest_runs().unwrap().len(), 0);
}

#[test]
fn a_second_folder_is_compared_with_the_store_and_changed_identities_are_warned() {
    let tmp = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&tmp.path().join("store")).unwrap();
    let d1 = tmp.path().join("d1");
    fs::create_dir_all(&d1).unwrap();
    fs::write(
        d1.join("persons.csv"),
        "person_id,name,id_number\nP1,张三,11010519491231002X\nP2,李四,\n",
    )
    .unwrap();
    fs::write(d1.join("entities.csv"), "entity_id,name\nE1,甲公司\n").unwrap();
    fs::write(
        d1.join("accounts.csv"),
        "account_id,holder_id\nA1,P1\nA2,P2\n",
    )
    .unwrap();
    fs::write(
        d1.join("shareholdings.csv"),
        "owner_id,entity_id,share_pct\nP1,E1,62\n",
    )
    .unwrap();
    let s = ingest_dir(&d1, &store, &opts()).unwrap();
    let f = |s: &ingest::IngestSummary, file: &str| {
        let f = s.files.iter().find(|f| f.file == file).unwrap().clone();
        (f.new, f.updated, f.unchanged, f.conflicts)
    };
    assert_eq!(f(&s, "persons.csv"), (2, 0, 0, 0));
    // The second folder: P1 with another identity number, P2 unchanged, A1 re-pointed, a new
    // holder of E1 whose share adds up with the stored one.
    let d2 = tmp.path().join("d2");
    fs::create_dir_all(&d2).unwrap();
    fs::write(
        d2.join("persons.csv"),
        "person_id,name,id_number\nP1,张三,110105194912310021\nP2,李四,\nP3,王五,\n",
    )
    .unwrap();
    fs::write(
        d2.join("accounts.csv"),
        "account_id,holder_id\nA1,P3\nA2,P2\n",
    )
    .unwrap();
    fs::write(
        d2.join("shareholdings.csv"),
        "owner_id,entity_id,share_pct\nP3,E1,50\n",
    )
    .unwrap();
    let s = ingest_dir(&d2, &store, &opts()).unwrap();
    assert_eq!(f(&s, "persons.csv"), (1, 1, 1, 1));
    assert_eq!(f(&s, "accounts.csv"), (0, 1, 1, 1));
    assert_eq!(f(&s, "shareholdings.csv"), (1, 0, 0, 0));
    let w: Vec<String> = store
        .last_warnings()
        .unwrap()
        .into_iter()
        .map(|w| format!("{}:{}:{}: {}", w.file, w.line, w.column, w.message))
        .collect();
    assert!(
        w.contains(&"persons.csv:2:id_number: identity number of person `P1` changed: the store has `11010519491231002X`, this file `110105194912310021`".to_string()),
        "{w:#?}"
    );
    assert!(
        w.contains(&"accounts.csv:2:holder_id: holder of account `A1` changed: the store has `P1`, this file `P3`".to_string()),
        "{w:#?}"
    );
    assert!(
        w.contains(&"shareholdings.csv:0:share_pct: shareholdings of entity `E1` add up to 112.00% (62.00% of it held in the store from earlier ingests)".to_string()),
        "{w:#?}"
    );
    for f in &s.files {
        assert_eq!(f.new + f.updated + f.unchanged, f.loaded, "{}", f.file);
    }
}

/// A cell that may be right or broken in one of the ways the contract names.
fn cell(good: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(good.to_string()),
        1 => Just(String::new()),
        1 => Just("x?".to_string()),
        1 => Just("-7".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Whatever the rows hold, every row read is either loaded or rejected.
    #[test]
    fn loaded_plus_rejected_is_read(
        persons in prop::collection::vec((0u8..20, cell("张三")), 1..30),
        accounts in prop::collection::vec((0u8..20, 0u8..25, cell("individual")), 1..30),
        shares in prop::collection::vec((0u8..25, 0u8..25, cell("40")), 0..30),
        trades in prop::collection::vec((0u8..20, 0u8..20, cell("3"), cell("2024-03-01T09:30:00+08:00")), 0..30),
        positions in prop::collection::vec((0u8..25, cell("4"), cell("speculation")), 0..20),
        orders in prop::collection::vec((0u8..25, cell("5"), cell("2"), cell("cancelled"), cell("2024-03-01T09:31:00+08:00")), 0..20),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let mut p = String::from("person_id,name\n");
        for (i, name) in &persons { p += &format!("P{i},{name}\n"); }
        fs::write(d.join("persons.csv"), p).unwrap();
        let mut e = String::from("entity_id,kind\n");
        for i in 0..5 { e += &format!("E{i},company\n"); }
        fs::write(d.join("entities.csv"), e).unwrap();
        let mut a = String::from("account_id,holder_id,account_type\n");
        for (i, h, t) in &accounts { a += &format!("A{i},P{h},{t}\n"); }
        fs::write(d.join("accounts.csv"), a).unwrap();
        let mut s = String::from("owner_id,entity_id,share_pct\n");
        for (o, t, pct) in &shares { s += &format!("P{o},E{},{pct}\n", t % 7); }
        fs::write(d.join("shareholdings.csv"), s).unwrap();
        let mut t = String::from("trade_id,ts,instrument,buy_account,sell_account,price,volume\n");
        for (n, (b, sl, vol, ts)) in trades.iter().enumerate() { t += &format!("T{n},{ts},IF2403,A{b},A{sl},3500,{vol}\n"); }
        fs::write(d.join("trades.csv"), t).unwrap();
        let mut p = String::from("date,account_id,instrument,long,short,purpose\n");
        for (a, lots, purpose) in &positions { p += &format!("2024-03-01,A{a},IF2403,{lots},1,{purpose}\n"); }
        fs::write(d.join("positions.csv"), p).unwrap();
        let mut o = String::from("order_id,ts,account_id,instrument,side,offset,volume,filled,status,cancel_ts\n");
        for (n, (a, vol, filled, status, cancel)) in orders.iter().enumerate() {
            o += &format!("O{n},2024-03-01T09:30:00+08:00,A{a},IF2403,buy,open,{vol},{filled},{status},{cancel}\n");
        }
        fs::write(d.join("orders.csv"), o).unwrap();
        let store = RedbStore::open(&d.join("store")).unwrap();
        let summary = ingest_dir(d, &store, &opts()).unwrap();
        let mut rejected = 0;
        for f in &summary.files {
            prop_assert_eq!(f.loaded + f.rejected, f.read, "{}", f.file);
            rejected += f.rejected;
        }
        prop_assert_eq!(store.last_rejects().unwrap().len() as u64, rejected);
        prop_assert_eq!(summary.files.iter().find(|f| f.file == "persons.csv").unwrap().read, persons.len() as u64);
    }
}

#[test]
fn each_store_has_its_own_id_key_kept_across_reopening() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key_a = RedbStore::open(a.path()).unwrap().id_key().unwrap();
    let key_b = RedbStore::open(b.path()).unwrap().id_key().unwrap();
    assert_ne!(key_a, key_b, "two stores drew the same key");
    assert_ne!(key_a.0, [0u8; 32]);
    // Reopening and re-ingesting keep the key, so identifier ids stay stable.
    let store = RedbStore::open(a.path()).unwrap();
    ingest_dir(
        &fixtures::dataset("ownership-chain"),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(store.id_key().unwrap(), key_a);
    drop(store);
    assert_eq!(RedbStore::open(a.path()).unwrap().id_key().unwrap(), key_a);
    assert_eq!(format!("{key_a:?}"), "IdKey(<hidden>)");
}

#[cfg(unix)]
#[test]
fn the_store_and_its_run_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path()).unwrap();
    ingest_dir(
        &fixtures::dataset("bad-input"),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    store.export_run_files().unwrap();
    for name in [ingest::store::DB_FILE, "rejects.csv", "warnings.csv"] {
        let mode = fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} has mode {:o}", mode & 0o777);
    }
}
