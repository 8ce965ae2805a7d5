//! Reports of analysed fixtures checked for content: every group in every format, account
//! counts, one evidence drawing per group, the workbook read back, the evidence wording the
//! report parses, change reports, and golden files of the hand-made ownership-chain dataset.
//!
//! Goldens live in `tests/golden/`; after an intended change, refresh them with
//! `UPDATE_GOLDEN=1 cargo test -p reports --test reports` and review the diff.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use calamine::{Reader, Xlsx, open_workbook};
use ingest::{IngestOptions, RedbStore, Store};
use reports::{ChangeKind, Filters, Format, Lang, ReportOptions, evidence};

const ALL: [Format; 4] = [Format::Html, Format::Xlsx, Format::Csv, Format::Json];

fn analysed(data: &Path, store_dir: &Path) -> RedbStore {
    let store = RedbStore::open(store_dir).expect("store");
    ingest::ingest_dir(data, &store, &IngestOptions::default()).expect("ingest");
    service::analyze(&store, &service::AnalyzeOptions::default(), &mut |_| {}).expect("analyze");
    store
}

/// A generated dataset (Chinese names, every kind of evidence) analysed once for all tests.
fn generated() -> &'static (tempfile::TempDir, RedbStore) {
    static CELL: OnceLock<(tempfile::TempDir, RedbStore)> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        fixtures::generate(&fixtures::GenConfig::new(3000, 3), &data).expect("generate");
        let store = analysed(&data, &dir.path().join("store"));
        (dir, store)
    })
}

fn opts(out: &Path, lang: Lang) -> ReportOptions {
    ReportOptions {
        formats: ALL.to_vec(),
        out: out.to_owned(),
        lang,
        filters: Filters::default(),
        since: None,
        breach_charts: reports::DEFAULT_BREACH_CHARTS,
    }
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn every_format_covers_every_group_and_account() {
    let (_dir, store) = generated();
    let results = service::load_results(store).unwrap().unwrap();
    assert!(
        results.groups.len() >= 20,
        "{} groups",
        results.groups.len()
    );
    let out = tempfile::tempdir().unwrap();
    let written = reports::write_reports(store, &opts(out.path(), Lang::En), &mut |_| {}).unwrap();
    assert_eq!(written.groups, results.groups.len());
    let accounts: usize = results.groups.iter().map(|g| g.accounts.len()).sum();
    let signals: usize = results
        .groups
        .iter()
        .flat_map(|g| &g.links)
        .map(|l| l.signals.len())
        .sum();

    // groups.csv keeps the columns of the detection issue.
    let (header, rows) = csv_rows(&out.path().join("groups.csv"));
    assert_eq!(
        header,
        [
            "group_id",
            "account_id",
            "score",
            "controller_id",
            "criteria",
            "status",
            "group_size",
            "missing_from_report"
        ]
    );
    assert_eq!(rows.len(), accounts);
    let ids: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), results.groups.len());
    for g in &results.groups {
        let n = rows.iter().filter(|r| r[0] == g.id).count();
        assert_eq!(n, g.accounts.len(), "{}", g.id);
        assert!(rows.iter().any(|r| r[0] == g.id && r[6] == n.to_string()));
    }
    let (header, acc) = csv_rows(&out.path().join("accounts.csv"));
    assert_eq!(header[..3], ["group_id", "account_id", "holder_id"]);
    assert_eq!(acc.len(), accounts);
    assert!(
        acc.iter().all(|r| !r[2].is_empty() && !r[3].is_empty()),
        "every account has a holder with a name"
    );
    let (_, ev) = csv_rows(&out.path().join("evidence.csv"));
    assert_eq!(ev.len(), signals);
    let (_, wash) = csv_rows(&out.path().join("wash_trades.csv"));
    assert_eq!(wash.len(), results.wash_trades.len());

    // JSON: every group with its accounts.
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(
        json["groups"].as_array().unwrap().len(),
        results.groups.len()
    );
    for (g, j) in results
        .groups
        .iter()
        .zip(json["groups"].as_array().unwrap())
    {
        assert_eq!(j["id"], g.id.as_str());
        assert_eq!(j["accounts"].as_array().unwrap().len(), g.accounts.len());
    }

    // HTML: a section and one drawing per group, four charts, nothing from the network.
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(
        html.matches("<section class=\"group\"").count(),
        results.groups.len()
    );
    assert_eq!(
        html.matches("<svg class=\"evidence\"").count(),
        results.groups.len()
    );
    for g in &results.groups {
        assert!(html.contains(&format!("id=\"g-{}\"", g.id)), "{}", g.id);
    }
    assert_eq!(html.matches("<svg").count(), results.groups.len() + 4);
    for bad in ["http://", "https://", "src=", "<script", "@import", "url("] {
        assert!(!html.contains(bad), "the HTML contains `{bad}`");
    }

    // XLSX read back: the three sheets with a row per group, account and signal.
    let mut wb: Xlsx<_> = open_workbook(out.path().join("report.xlsx")).unwrap();
    let names = wb.sheet_names();
    for s in ["Groups", "Accounts", "Evidence"] {
        assert!(names.iter().any(|n| n == s), "{names:?}");
    }
    let groups = wb.worksheet_range("Groups").unwrap();
    assert_eq!(groups.height(), results.groups.len() + 1);
    assert_eq!(
        groups.get((1, 0)).unwrap().to_string(),
        results.groups[0].id
    );
    assert_eq!(groups.get((0, 0)).unwrap().to_string(), "Group");
    assert_eq!(
        wb.worksheet_range("Accounts").unwrap().height(),
        accounts + 1
    );
    assert_eq!(
        wb.worksheet_range("Evidence").unwrap().height(),
        signals + 1
    );
}

#[test]
fn chinese_report_carries_chinese_labels_and_names() {
    let (_dir, store) = generated();
    let out = tempfile::tempdir().unwrap();
    reports::write_reports(store, &opts(out.path(), Lang::Zh), &mut |_| {}).unwrap();
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"zh-Hans\">"));
    assert!(html.contains("疑似实际控制关系账户组"));
    assert!(html.contains("Noto Sans CJK SC"));
    // Every holder name of the accounts file appears in the HTML.
    let (_, acc) = csv_rows(&out.path().join("accounts.csv"));
    let names: BTreeSet<&str> = acc.iter().map(|r| r[3].as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
    );
    for n in names {
        assert!(html.contains(n), "{n} missing from the HTML");
    }
    // The bases of control read in Chinese: the controller's and each holder's own.
    for english in [
        "ultimate controller",
        "majority control",
        "manager of the product",
        "holder of the accounts",
    ] {
        assert!(!html.contains(english), "{english} left in English");
    }
    assert!(html.contains("多数控制"));
    let mut wb: Xlsx<_> = open_workbook(out.path().join("report.xlsx")).unwrap();
    let groups = wb.worksheet_range("Groups").unwrap();
    assert_eq!(groups.get((0, 0)).unwrap().to_string(), "账户组");
    for row in groups.rows().skip(1) {
        let basis = row[6].to_string();
        assert!(
            !basis.chars().any(|c| c.is_ascii_lowercase()),
            "{basis} in English"
        );
    }
}

/// Asserts that every word the Chinese HTML report in `out` shows is Chinese, except data (ids,
/// identifier values in backticks, names as the sources spell them, trade ids) and a few
/// conventional Latin terms.
fn assert_no_english(out: &Path) {
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    // Text between tags, scripts and styles left out; SVG text kept (the charts' and drawings'
    // captions), except the drawings' node labels and the raw-value cells (`mono`: identifier
    // values, trade ids), which are data.
    let mut text = String::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        text.push('\n');
        let tag = &rest[i..];
        let skip_to = [
            ("<script", "</script>"),
            ("<style", "</style>"),
            ("<text class=\"n-label\"", "</text>"),
            ("<td class=\"mono\"", "</td>"),
        ]
        .iter()
        .find(|(open, _)| tag.starts_with(open))
        .map(|(_, close)| (*close).to_owned());
        rest = match skip_to {
            Some(end) => tag.find(&end).map_or("", |j| &tag[j + end.len()..]),
            None => tag.find('>').map_or("", |j| &tag[j + 1..]),
        };
    }
    text.push_str(rest);
    // Names as the sources spell them are data, and so are identifier values (in backticks).
    let (_, acc) = csv_rows(&out.join("accounts.csv"));
    let mut names: Vec<&str> = acc.iter().map(|r| r[3].as_str()).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut plain = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 0 {
            plain.push_str(part);
            plain.push(' ');
        }
    }
    for n in names.iter().filter(|n| !n.is_empty()) {
        plain = plain.replace(n, " ");
    }
    // Conventional in Chinese surveillance documents: device and number names, the p-value.
    let allowed = ["MAC", "IP", "USCC", "log"];
    let mut english: BTreeSet<String> = BTreeSet::new();
    for token in
        plain.split(|c: char| c.is_whitespace() || "，。；：、（）()[]{}=,;:|/\"'".contains(c))
    {
        // Ids and codes carry digits (A00001234, IF2403, TR00100000001): data, not words.
        if token.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let word: String = token
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '_')
            .collect();
        if word.len() >= 3 && !allowed.contains(&word.as_str()) {
            english.insert(token.to_owned());
        }
    }
    let context: Vec<String> = english
        .iter()
        .take(5)
        .filter_map(|w| {
            let i = plain.find(w.as_str())?;
            let lo = plain.floor_char_boundary(i.saturating_sub(60));
            let hi = plain.ceil_char_boundary((i + w.len() + 40).min(plain.len()));
            Some(plain[lo..hi].replace('\n', " "))
        })
        .collect();
    assert!(
        english.is_empty(),
        "English left in the Chinese report: {english:?}, in {context:#?}"
    );
}

/// Every word the Chinese HTML report shows is Chinese.
#[test]
fn the_chinese_report_leaves_no_word_in_english() {
    let (_dir, store) = generated();
    let out = tempfile::tempdir().unwrap();
    reports::write_reports(store, &opts(out.path(), Lang::Zh), &mut |_| {}).unwrap();
    assert_no_english(out.path());
}

#[test]
fn filters_keep_only_matching_groups() {
    let (_dir, store) = generated();
    let results = service::load_results(store).unwrap().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = opts(out.path(), Lang::En);
    o.formats = vec![Format::Csv];
    o.filters = Filters {
        min_score: Some(0.9),
        statuses: vec!["unreported".into()],
    };
    let written = reports::write_reports(store, &o, &mut |_| {}).unwrap();
    let expected = results
        .groups
        .iter()
        .filter(|g| g.score >= 0.9 && g.status == "unreported")
        .count();
    assert!(expected > 0 && expected < results.groups.len());
    assert_eq!(written.groups, expected);
    let (_, rows) = csv_rows(&out.path().join("groups.csv"));
    assert!(
        rows.iter()
            .all(|r| r[5] == "unreported" && r[2].parse::<f32>().unwrap() >= 0.9)
    );
}

/// The report reads each signal's parts from its stored detail: every signal the analysis of a
/// generated dataset and of the hand-made datasets produces carries the detail of its kind, its
/// English words spell out that detail, and it has Chinese words.
#[test]
fn every_stored_signal_carries_the_detail_of_its_kind() {
    use detectors::results::SignalDetail as D;
    let tmp = tempfile::tempdir().unwrap();
    let mut stores = vec![];
    for name in ["ownership-chain", "family-and-nominee"] {
        stores.push(analysed(&fixtures::dataset(name), &tmp.path().join(name)));
    }
    let (_dir, generated) = generated();
    let mut seen = BTreeSet::new();
    let mut check = |store: &dyn Store| {
        let results = service::load_results(store).unwrap().unwrap();
        for g in &results.groups {
            for s in g.links.iter().flat_map(|l| &l.signals) {
                let ok = match (s.kind.as_str(), &s.detail) {
                    ("control", D::Control { paths, .. }) => {
                        evidence::control(s).is_some()
                            && paths
                                .iter()
                                .flatten()
                                .all(|h| !h.from.is_empty() && !h.to.is_empty())
                    }
                    ("shared_identifier", D::Identifier { .. }) => {
                        evidence::identifier(s).is_some()
                    }
                    ("account_role" | "common_agent", D::Authorised { .. }) => {
                        evidence::authorised(s).is_some()
                    }
                    ("officer", D::Officer { .. })
                    | ("spouse" | "family" | "arrangement", D::Relation { .. }) => {
                        evidence::is_of(s).is_some()
                    }
                    ("same_holder", D::SameHolder { .. })
                    | ("transfers", D::Transfers { .. })
                    | ("fund_flow", D::Flow { .. })
                    | ("sync_trading", D::Sync { .. } | D::GroupBurst { .. })
                    | ("matched_trading", D::Matched { .. }) => true,
                    _ => false,
                };
                assert!(ok, "{} evidence with the detail {:?}", s.kind, s.detail);
                assert_eq!(s.description, s.detail.english());
                assert_ne!(
                    evidence::describe(Lang::Zh, &s.detail, &s.description),
                    s.description,
                    "no Chinese wording for {} evidence",
                    s.kind
                );
                seen.insert(s.kind.clone());
            }
        }
    };
    for s in &stores {
        check(s);
    }
    check(generated);
    for kind in ["control", "shared_identifier", "officer", "same_holder"] {
        assert!(
            seen.contains(kind),
            "no {kind} evidence in the fixtures: {seen:?}"
        );
    }
}

#[test]
fn ownership_paths_carry_their_percentages() {
    let tmp = tempfile::tempdir().unwrap();
    let store = analysed(&fixtures::dataset("ownership-chain"), tmp.path());
    let results = service::load_results(&store).unwrap().unwrap();
    let view = reports::view::build(&store, &results, &Filters::default(), None).unwrap();
    let g = &view.groups[0];
    assert!(!g.ownership_paths.is_empty());
    assert!(
        g.ownership_paths
            .iter()
            .flat_map(|p| &p.hops)
            .any(|h| h.share.as_deref().is_some_and(|s| s.ends_with('%')))
    );
    let controller = g.controller.as_ref().unwrap();
    assert_eq!(controller.name.as_deref(), Some("陈志强"));
    // The drawing shows the controller, the holders and the accounts.
    let drawing = reports::drawing::evidence_graph(g, Lang::En);
    for id in ["P01", "E01", "A01"] {
        assert!(drawing.nodes.iter().any(|n| n.id == id), "{id} not drawn");
    }
    assert!(drawing.edges.iter().any(|e| e.label.ends_with('%')));
}

fn write_dataset(dir: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn change_reports_match_groups_by_stable_id() {
    let tmp = tempfile::tempdir().unwrap();
    let store = analysed(
        &fixtures::dataset("ownership-chain"),
        &tmp.path().join("store"),
    );
    let first = service::load_results(&store).unwrap().unwrap();
    let group = first.groups[0].clone();

    // A JSON report of the first analysis, to compare with by file too.
    let earlier = tmp.path().join("earlier");
    let mut o = opts(&earlier, Lang::En);
    o.formats = vec![Format::Json];
    reports::write_reports(&store, &o, &mut |_| {}).unwrap();

    // A second delivery: one more account of a holder in the group, and a new pair of
    // accounts held by one new person.
    let more = tmp.path().join("more");
    write_dataset(
        &more,
        &[
            ("persons.csv", "person_id,name,id_number\nP90,周晓明,\n"),
            (
                "accounts.csv",
                "account_id,holder_id,member_id,account_type,open_date,status\nA90,E01,M01,institution,2024-01-02,active\nA91,P90,M01,individual,2024-01-03,active\nA92,P90,M02,individual,2024-01-04,active\n",
            ),
        ],
    );
    ingest::ingest_dir(&more, &store, &IngestOptions::default()).unwrap();
    service::analyze(&store, &service::AnalyzeOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(
        service::list_history(&store).unwrap(),
        vec![first.created_at.clone()]
    );

    for since in [
        "previous".to_owned(),
        first.created_at.clone(),
        earlier.display().to_string(),
    ] {
        let out = tmp.path().join("now");
        let mut o = opts(&out, Lang::Zh);
        o.since = Some(since.clone());
        let written = reports::write_reports(&store, &o, &mut |_| {}).unwrap();
        let c = written.changes.expect("changes");
        assert_eq!(c.previous_created_at, first.created_at, "{since}");
        let grown: Vec<_> = c.of(ChangeKind::Grown).collect();
        assert_eq!(grown.len(), 1, "{since}: {c:?}");
        assert_eq!(grown[0].group_id, group.id);
        assert_eq!(grown[0].added, ["A90"]);
        assert_eq!(c.count(ChangeKind::New), 1);
        assert_eq!(c.count(ChangeKind::Dissolved), 0);
        let (header, rows) = csv_rows(&out.join("changes.csv"));
        assert_eq!(header[0], "change");
        assert_eq!(rows.len(), 2);
        let html = fs::read_to_string(out.join("report.html")).unwrap();
        assert!(html.contains("新增账户组") && html.contains("扩大的账户组"));
        let mut wb: Xlsx<_> = open_workbook(out.join("report.xlsx")).unwrap();
        assert_eq!(wb.worksheet_range("Changes").unwrap().height(), 3);
    }

    let mut o = opts(&tmp.path().join("x"), Lang::En);
    o.since = Some("2001-01-01T00:00:00Z".into());
    let e = reports::write_reports(&store, &o, &mut |_| {}).unwrap_err();
    assert!(e.is_input_error());
    assert!(e.to_string().contains(&first.created_at), "{e}");
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(golden_dir()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {} (create it with UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its golden file at line {} (refresh with UPDATE_GOLDEN=1 after checking the change):\n  expected: {:?}\n  actual:   {:?}",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn ownership_chain_reports_match_their_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let store = analysed(
        &fixtures::dataset("ownership-chain"),
        &tmp.path().join("store"),
    );
    let out = tmp.path().join("out");
    let mut o = opts(&out, Lang::En);
    o.formats = vec![Format::Csv, Format::Json];
    reports::write_reports(&store, &o, &mut |_| {}).unwrap();
    // The analysis time is the one field that changes between runs.
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    json["analysis_created_at"] = "ANALYSIS_TIME".into();
    check_golden(
        "ownership-chain.json",
        &(serde_json::to_string_pretty(&json).unwrap() + "\n"),
    );
    for f in ["groups.csv", "accounts.csv", "evidence.csv"] {
        check_golden(
            &format!("ownership-chain.{f}"),
            &fs::read_to_string(out.join(f)).unwrap(),
        );
    }
}

#[test]
fn breaches_go_to_their_csv_json_and_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let store = analysed(
        &fixtures::dataset("surveillance"),
        &dir.path().join("store"),
    );
    let out = tempfile::tempdir().unwrap();
    let w = reports::write_reports(&store, &opts(out.path(), Lang::Zh), &mut |_| {}).unwrap();
    assert!(w.files.iter().any(|f| f.ends_with("breaches.csv")));
    let (header, rows) = csv_rows(&out.path().join("breaches.csv"));
    assert_eq!(
        header,
        [
            "group_id",
            "group_source",
            "kind",
            "scope",
            "date",
            "figure",
            "limit",
            "limit_scope",
            "only_as_group",
            "account_id",
            "share",
            "alone"
        ]
    );
    // Two breaches of the detected group with two accounts each, one of R1 with one.
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(
        rows[0][1..10],
        [
            "detected",
            "position_long",
            "IF2403",
            "2024-03-04",
            "1300",
            "1200",
            "IF",
            "true",
            "A1"
        ]
    );
    assert_eq!(rows[0][10..], ["700", "700"]);
    assert_eq!((rows[4][0].as_str(), rows[4][8].as_str()), ("R1", "false"));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("breaches.json")).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["breaches"].as_array().unwrap().len(), 3);
    assert_eq!(json["breaches"][1]["kind"], "cancel");
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert!(
        report.get("breaches").is_none(),
        "report.json keeps its fields"
    );
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("<h2>限额违规</h2>"), "the breaches section");
    assert!(html.contains(
        "<td>多头投机持仓超限</td><td>IF2403</td><td>2024-03-04</td><td class=\"num\">1300</td>"
    ));
    assert!(
        html.contains("<td>R1</td><td>客户报备</td>"),
        "a reported group, not linked"
    );
    let mut wb: Xlsx<_> = open_workbook(out.path().join("report.xlsx")).unwrap();
    let sheet = wb.worksheet_range("Breaches").unwrap();
    assert_eq!(sheet.height(), 4);
    assert_eq!(sheet.get((0, 2)).unwrap().to_string(), "违规类型");
    assert_eq!(sheet.get((1, 2)).unwrap().to_string(), "多头投机持仓超限");
    assert_eq!(sheet.get((1, 8)).unwrap().to_string(), "A1:700;A2:600");
}

/// The surveillance dataset analysed, and its reports in `lang`.
fn surveillance_reports(lang: Lang) -> (tempfile::TempDir, RedbStore, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = analysed(
        &fixtures::dataset("surveillance"),
        &dir.path().join("store"),
    );
    let out = dir.path().join("out");
    reports::write_reports(&store, &opts(&out, lang), &mut |_| {}).unwrap();
    (dir, store, out)
}

#[test]
fn surveillance_monthly_statistics_match_their_golden_file() {
    let (_dir, store, out) = surveillance_reports(Lang::En);
    let text = fs::read_to_string(out.join("monthly.csv")).unwrap();
    check_golden("surveillance.monthly.csv", &text);

    // The statistics agree with the other files of the same report.
    let (header, rows) = csv_rows(&out.join("monthly.csv"));
    assert_eq!(header, reports::monthly::MONTHLY_COLUMNS);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let sum = |name: &str| -> u64 {
        rows.iter()
            .map(|r| r[col(name)].parse::<u64>().unwrap())
            .sum()
    };
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("breaches.json")).unwrap()).unwrap();
    let breaches = json["breaches"].as_array().unwrap();
    assert_eq!(sum("breaches"), breaches.len() as u64);
    for kind in detectors::surveillance::BreachKind::ALL {
        let n = breaches
            .iter()
            .filter(|b| b["kind"] == kind.as_str())
            .count() as u64;
        assert_eq!(sum(&format!("breaches_{}", kind.as_str())), n, "{kind:?}");
    }
    let (_, groups) = csv_rows(&out.join("groups.csv"));
    let ids: BTreeSet<&str> = groups.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(sum("groups_detected"), ids.len() as u64);
    assert_eq!(sum("accounts_in_groups"), groups.len() as u64);
    let found = service::load_surveillance(&store).unwrap().unwrap();
    let as_of = found.as_of.unwrap().format("%Y-%m").to_string();
    let row = rows
        .iter()
        .find(|r| r[0] == as_of)
        .expect("the as-of month");
    assert_eq!(row[col("overdue_reports")], "1", "A1+A2 never reported");
    assert_eq!(row[col("stale_reports")], "1", "R1 ties nothing");

    let mut wb: Xlsx<_> = open_workbook(out.join("report.xlsx")).unwrap();
    let sheet = wb.worksheet_range("Monthly").unwrap();
    assert_eq!(sheet.height(), rows.len() + 1);
    assert_eq!(sheet.get((0, 0)).unwrap().to_string(), "Month");
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Monthly statistics</h2>"));
    // Months as columns, a row per measure.
    assert!(html.contains(&format!("<th class=\"num\">{as_of}</th>")));
    assert!(html.contains("<tr><th>Overdue reports</th><td class=\"num\">1</td></tr>"));
}

/// One attribute of an SVG tag, as a number.
fn num_attr(tag: &str, name: &str) -> Option<i64> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    tag[i..j].parse().ok()
}

fn str_attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(&tag[i..j])
}

/// A bar segment of a chart: left x, top and bottom y in pixels, fill colour.
#[derive(Debug, Clone)]
struct Segment {
    x: i64,
    top: i64,
    bottom: i64,
    fill: String,
}

#[test]
fn the_html_charts_each_position_breaching_group_with_bars_stacked_by_account() {
    use detectors::surveillance::BreachKind;
    let (_dir, store, out) = surveillance_reports(Lang::Zh);
    // The charts' titles, axes and legends, the breaches and the monthly table: all Chinese.
    assert_no_english(&out);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let found = service::load_surveillance(&store).unwrap().unwrap();
    let results = service::load_results(&store).unwrap().unwrap();
    // The first position breach of each group, in the table's order.
    let mut firsts: Vec<&detectors::surveillance::Breach> = Vec::new();
    for b in &found.breaches {
        if matches!(b.kind, BreachKind::PositionLong | BreachKind::PositionShort)
            && !firsts
                .iter()
                .any(|f| f.group_id == b.group_id && f.source == b.source)
        {
            firsts.push(b);
        }
    }
    assert_eq!(firsts.len(), 2, "the detected group and R1");
    let figures: Vec<&str> = html
        .split("<figure class=\"breach-chart\"")
        .skip(1)
        .map(|f| &f[..f.find("</figure>").unwrap()])
        .collect();
    assert_eq!(figures.len(), firsts.len(), "one chart per group");
    assert!(html.contains("超限账户组持仓走势") && html.contains("分账户多头投机持仓"));
    assert!(
        !html.contains("未绘图的持仓超限账户组数"),
        "every group is drawn"
    );

    for (b, fig) in firsts.iter().zip(&figures) {
        assert!(
            fig.starts_with(&format!(
                " id=\"chart-{}-{}\"",
                b.source.as_str(),
                b.group_id
            )),
            "charts in the table's order: {}",
            &fig[..60]
        );
        for bad in ["http", "url("] {
            assert!(!fig.contains(bad));
        }
        // The legend: account and colour, one colour each.
        let legend: Vec<(String, String)> = fig
            .split("<span class=\"key\" style=\"background:")
            .skip(1)
            .map(|s| {
                let colour = s[..7].to_ascii_uppercase();
                let account = s[s.find("</span>").unwrap() + 7..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
                (account, colour)
            })
            .collect();
        let colours: BTreeSet<&str> = legend.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(colours.len(), legend.len(), "one colour per account");
        // The bars: rects filled with an account's colour.
        let segments: Vec<Segment> = fig
            .split("<rect")
            .skip(1)
            .filter_map(|r| {
                let fill = str_attr(r, "fill")?.to_ascii_uppercase();
                if !colours.contains(fill.as_str()) {
                    return None;
                }
                let (y, h) = (num_attr(r, "y")?, num_attr(r, "height")?);
                Some(Segment {
                    x: num_attr(r, "x")?,
                    top: y.min(y + h),
                    bottom: y.max(y + h),
                    fill,
                })
            })
            .collect();
        let baseline = segments.iter().map(|s| s.bottom).max().unwrap();
        // The limit line gives the scale: its y is the limit's.
        let limit_y: i64 = fig
            .split("<polyline")
            .skip(1)
            .find(|p| str_attr(p, "stroke") == Some("#222222"))
            .and_then(|p| str_attr(p, "points"))
            .and_then(|pts| pts.split_whitespace().next())
            .and_then(|pt| pt.split(',').nth(1))
            .and_then(|y| y.parse().ok())
            .expect("a limit line");
        let px_per_lot = (baseline - limit_y) as f64 / b.limit as f64;
        // The days with bars, oldest first, as the API's series gives them.
        let accounts: Vec<String> = match b.source {
            detectors::surveillance::GroupSource::Detected => results
                .groups
                .iter()
                .find(|g| g.id == b.group_id)
                .unwrap()
                .accounts
                .clone(),
            detectors::surveillance::GroupSource::Reported => {
                let mut a = Vec::new();
                store
                    .scan(graph_core::model::Table::ReportedGroups, &mut |r| {
                        if let graph_core::model::Record::ReportedGroup(g) = r
                            && g.group_id == b.group_id
                        {
                            a.push(g.account_id);
                        }
                        Ok(())
                    })
                    .unwrap();
                a
            }
        };
        let mut positions = Vec::new();
        store
            .scan(graph_core::model::Table::Positions, &mut |r| {
                if let graph_core::model::Record::Position(p) = r {
                    positions.push(p);
                }
                Ok(())
            })
            .unwrap();
        let mut limits = Vec::new();
        store
            .scan(graph_core::model::Table::Limits, &mut |r| {
                if let graph_core::model::Record::Limit(l) = r {
                    limits.push(l);
                }
                Ok(())
            })
            .unwrap();
        let side = |p: &detectors::surveillance::PositionPoint| {
            if b.kind == BreachKind::PositionLong {
                p.long
            } else {
                p.short
            }
        };
        let series: Vec<_> =
            detectors::surveillance::position_series(&accounts, &b.scope, &positions, &limits)
                .into_iter()
                .filter(|p| side(p) > 0)
                .collect();
        let xs: BTreeSet<i64> = segments.iter().map(|s| s.x).collect();
        assert_eq!(xs.len(), series.len(), "a bar per day with lots");
        for (x, point) in xs.iter().zip(&series) {
            let mut stack: Vec<&Segment> = segments.iter().filter(|s| s.x == *x).collect();
            stack.sort_by_key(|s| std::cmp::Reverse(s.bottom));
            // Stacked: each segment stands on the one below, the lowest on the baseline.
            assert_eq!(stack[0].bottom, baseline, "{}: {}", b.group_id, point.date);
            for w in stack.windows(2) {
                assert_eq!(
                    w[1].bottom, w[0].top,
                    "{}: {} not stacked",
                    b.group_id, point.date
                );
            }
            let top = stack.last().unwrap().top;
            let total = side(point) as f64;
            assert!(
                ((baseline - top) as f64 - total * px_per_lot).abs() <= 2.0,
                "{} on {}: the stack is {} px for {total} lots",
                b.group_id,
                point.date,
                baseline - top
            );
            if point.date == b.date {
                // The breached day's stack is the breach's figure, each account its share.
                assert_eq!(total as u64, b.figure);
                for p in &b.parts {
                    let colour = &legend.iter().find(|(a, _)| *a == p.account).unwrap().1;
                    let seg = stack.iter().find(|s| &s.fill == colour).unwrap();
                    assert!(
                        ((seg.bottom - seg.top) as f64 - p.share as f64 * px_per_lot).abs() <= 2.0,
                        "{}'s part of {}",
                        p.account,
                        b.group_id
                    );
                }
            }
        }
    }
    // A cap below the number of groups draws the first and says how many are left.
    let out2 = tempfile::tempdir().unwrap();
    let mut o = opts(out2.path(), Lang::En);
    o.formats = vec![Format::Html];
    o.breach_charts = 1;
    reports::write_reports(&store, &o, &mut |_| {}).unwrap();
    let html = fs::read_to_string(out2.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<figure class=\"breach-chart\"").count(), 1);
    assert!(html.contains("Groups with position breaches not drawn: <b>1</b>"));
}
