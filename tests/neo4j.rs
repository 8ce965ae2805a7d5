//! The Neo4j store against a real Neo4j 5.26 server: the shared one `scripts/test.sh` starts
//! (`CTRLGRAPH_TEST_NEO4J_URI`, `_USER`, `_PASSWORD`), and private ones that the fault tests start,
//! kill and restart themselves through the launcher in `neo4j-launcher/`.
//!
//! Without a configured server these tests fail with a message saying so; only
//! `CTRLGRAPH_SKIP_NEO4J=1` skips them, loudly.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod support;
use support::{Served, start_serving};

/// Tests on the shared server take turns: Neo4j Community has one user database.
static SHARED: Mutex<()> = Mutex::new(());

struct Server {
    uri: String,
    user: String,
    password: String,
}

fn skipped() -> bool {
    if std::env::var("CTRLGRAPH_SKIP_NEO4J").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: CTRLGRAPH_SKIP_NEO4J=1 opts out of the Neo4j tests");
        return true;
    }
    false
}

fn shared_server() -> Server {
    let uri = std::env::var("CTRLGRAPH_TEST_NEO4J_URI").unwrap_or_else(|_| {
        panic!(
            "no Neo4j server for the tests: CTRLGRAPH_TEST_NEO4J_URI is not set. Run the tests \
             through scripts/test.sh (it starts one), or set CTRLGRAPH_SKIP_NEO4J=1 to skip them"
        )
    });
    Server {
        uri,
        user: std::env::var("CTRLGRAPH_TEST_NEO4J_USER").unwrap_or_else(|_| "neo4j".into()),
        password: std::env::var("CTRLGRAPH_TEST_NEO4J_PASSWORD")
            .expect("CTRLGRAPH_TEST_NEO4J_PASSWORD is set beside CTRLGRAPH_TEST_NEO4J_URI"),
    }
}

fn bin(server: &Server) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctrlgraph"));
    c.env_remove("CTRLGRAPH_STORE")
        .env_remove("CTRLGRAPH_CONFIG")
        .env("RUST_LOG", "warn")
        .env("CTRLGRAPH_NEO4J_USER", &server.user)
        .env("CTRLGRAPH_NEO4J_PASSWORD", &server.password);
    c
}

fn run(server: &Server, store: &str, args: &[&str]) -> Output {
    bin(server)
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

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    o
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/datasets")
        .join(name)
}

/// Runs Cypher on a server and returns the rows.
fn cypher(server: &Server, q: &str) -> Vec<neo4rs::Row> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let g = neo4rs::Graph::new(&server.uri, &server.user, &server.password)
            .await
            .unwrap();
        let mut s = g.execute(neo4rs::query(q)).await.unwrap();
        let mut rows = Vec::new();
        while let Some(r) = s.next().await.unwrap() {
            rows.push(r);
        }
        rows
    })
}

fn count(server: &Server, q: &str) -> i64 {
    cypher(server, q)[0].get::<i64>("n").unwrap()
}

/// Empties the shared database (the schema stays).
fn wipe(server: &Server) {
    cypher(
        server,
        "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
    );
}

/// The per-file counts of an ingest's output, without the timing column.
fn counts_table(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains(".csv ") || l.starts_with("total ") || l.starts_with("file "))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols[..cols.len() - 1].join(" ")
        })
        .collect()
}

/// The summary's read, loaded, rejected and warnings columns: what a run read and kept, whatever
/// the store held before it (the new, updated and unchanged columns compare with that).
fn read_counts(o: &Output) -> Vec<String> {
    counts_table(o)
        .iter()
        .map(|l| l.split_whitespace().take(5).collect::<Vec<_>>().join(" "))
        .collect()
}

fn stats(server: &Server, store: &str) -> serde_json::Value {
    let o = ok(run(server, store, &["stats", "--json"]));
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_object_mut().unwrap().remove("memory_bytes");
    v
}

/// Groups of a `groups.csv` report as sets of accounts.
fn group_sets(report: &Path) -> BTreeSet<BTreeSet<String>> {
    let mut groups: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let mut r = csv::Reader::from_path(report).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        groups
            .entry(row[0].to_owned())
            .or_default()
            .insert(row[1].to_owned());
    }
    groups.into_values().collect()
}

#[test]
fn ingest_gives_the_embedded_stores_summary_and_rejects_and_is_idempotent() {
    if skipped() {
        return;
    }
    let _turn = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let server = shared_server();
    wipe(&server);
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("bad-input");
    let data = data.to_str().unwrap();
    let embedded = tmp.path().join("embedded");
    let embedded = embedded.to_str().unwrap();
    let out = tmp.path().join("neo4j-run");
    let out = out.to_str().unwrap();

    let e = ok(run(&server, embedded, &["ingest", data]));
    let n = ok(run(
        &server,
        &server.uri,
        &["ingest", data, "--rejects-dir", out],
    ));
    assert_eq!(counts_table(&n), counts_table(&e));
    assert!(
        counts_table(&n)
            .iter()
            .any(|l| l.starts_with("total 52 30 22 6")),
        "{}",
        text(&n)
    );
    for f in ["rejects.csv", "warnings.csv"] {
        let a = std::fs::read_to_string(Path::new(embedded).join(f)).unwrap();
        let b = std::fs::read_to_string(Path::new(out).join(f)).unwrap();
        assert_eq!(a, b, "{f} differs");
    }
    assert_eq!(stats(&server, &server.uri), stats(&server, embedded));

    // Again: the same summary, and not one node more.
    let nodes = count(&server, "MATCH (n) RETURN count(n) AS n");
    let again = ok(run(
        &server,
        &server.uri,
        &["ingest", data, "--rejects-dir", out],
    ));
    // Everything is unchanged now, as in the embedded store ingested twice.
    let e_again = ok(run(&server, embedded, &["ingest", data]));
    assert_eq!(counts_table(&again), counts_table(&e_again));
    assert!(
        counts_table(&again)
            .iter()
            .any(|l| l.starts_with("total 52 30 22 6 0 0 30")),
        "{}",
        text(&again)
    );
    assert_eq!(
        count(&server, "MATCH (n) RETURN count(n) AS n"),
        nodes + 1 + 22 + 6,
        "only the run record and its rejects and warnings are new"
    );
    assert_eq!(stats(&server, &server.uri), stats(&server, embedded));
    assert_eq!(
        count(
            &server,
            "MATCH (r:IngestRun {status: 'completed'}) RETURN count(r) AS n"
        ),
        2
    );
}

#[test]
fn surveillance_tapes_ingest_like_the_embedded_store_and_are_readable_nodes() {
    if skipped() {
        return;
    }
    let _turn = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let server = shared_server();
    wipe(&server);
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("surveillance-bad-input");
    let data = data.to_str().unwrap();
    let embedded = tmp.path().join("embedded");
    let embedded = embedded.to_str().unwrap();
    let out = tmp.path().join("neo4j-run");
    let out = out.to_str().unwrap();

    let e = ok(run(&server, embedded, &["ingest", data]));
    let n = ok(run(
        &server,
        &server.uri,
        &["ingest", data, "--rejects-dir", out],
    ));
    assert_eq!(counts_table(&n), counts_table(&e));
    assert!(
        counts_table(&n)
            .iter()
            .any(|l| l.starts_with("total 26 14 12")),
        "{}",
        text(&n)
    );
    let a = std::fs::read_to_string(Path::new(embedded).join("rejects.csv")).unwrap();
    let b = std::fs::read_to_string(Path::new(out).join("rejects.csv")).unwrap();
    assert_eq!(a, b, "rejects.csv differs");
    for (label, n) in [
        ("Position", 3),
        ("Order", 2),
        ("Limit", 3),
        ("TradingDay", 2),
    ] {
        assert_eq!(
            count(&server, &format!("MATCH (x:{label}) RETURN count(x) AS n")),
            n,
            "{label}"
        );
    }
    assert_eq!(
        count(
            &server,
            "MATCH (p:Position {account_id: 'A1', instrument: 'IF2403', date: '2024-03-04'}) \
             RETURN p.long AS n"
        ),
        12
    );
    assert_eq!(
        count(
            &server,
            "MATCH (o:Order {key: 'O5'}) WHERE o.order_type = 'fok' AND o.status = 'cancelled' \
             RETURN count(o) AS n"
        ),
        1
    );
}

#[test]
fn either_store_gives_the_same_groups_and_neo4j_holds_them_as_graph_data() {
    if skipped() {
        return;
    }
    let _turn = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let server = shared_server();
    wipe(&server);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let embedded = tmp.path().join("embedded");
    let embedded = embedded.to_str().unwrap();
    ok(run(
        &server,
        embedded,
        &["gen", "--accounts", "3000", "--seed", "11", "--out", data],
    ));
    let runs = tmp.path().join("runs");
    for store in [embedded, server.uri.as_str()] {
        ok(run(
            &server,
            store,
            &["ingest", data, "--rejects-dir", runs.to_str().unwrap()],
        ));
        ok(run(&server, store, &["analyze"]));
    }
    let (re, rn) = (tmp.path().join("re"), tmp.path().join("rn"));
    ok(run(
        &server,
        embedded,
        &["report", "--out", re.to_str().unwrap()],
    ));
    ok(run(
        &server,
        &server.uri,
        &["report", "--out", rn.to_str().unwrap()],
    ));
    let groups = group_sets(&re.join("groups.csv"));
    assert!(groups.len() >= 10, "the dataset has planted groups");
    assert_eq!(group_sets(&rn.join("groups.csv")), groups);
    assert_eq!(
        std::fs::read_to_string(rn.join("groups.csv")).unwrap(),
        std::fs::read_to_string(re.join("groups.csv")).unwrap(),
        "same ids, scores and criteria too"
    );

    // The written-back results, as an analyst queries them.
    let published: BTreeSet<BTreeSet<String>> = cypher(
        &server,
        "MATCH (a:Account)-[:MEMBER_OF]->(g:ControlGroup:Current) RETURN g.id AS id, collect(a.id) AS accounts",
    )
    .iter()
    .map(|r| r.get::<Vec<String>>("accounts").unwrap().into_iter().collect())
    .collect();
    assert_eq!(published, groups);
    let evidence = count(
        &server,
        "MATCH (n:Analysis:Current) MATCH (:Account)-[e:EVIDENCE {analysis: n.id}]->(:Account) \
         WHERE e.criterion STARTS WITH 'C' AND e.weight > 0 RETURN count(e) AS n",
    );
    assert!(evidence > 0);
    let embedded_accounts = count(
        &server,
        "MATCH (a:Account) WHERE size(a.embedding) > 0 RETURN count(a) AS n",
    );
    assert_eq!(embedded_accounts, 3000, "every account has its embedding");

    // The README's queries for analysts run and find what they promise.
    let first = cypher(
        &server,
        "MATCH (a:Account)-[:MEMBER_OF]->(g:ControlGroup:Current) \
         RETURN g.id, g.score, g.status, g.criteria, g.controller_id, collect(a.id) AS accounts \
         ORDER BY g.score DESC",
    );
    assert_eq!(first.len(), groups.len());
    let top: String = first[0].get("g.id").unwrap();
    let account: String = first[0].get::<Vec<String>>("accounts").unwrap()[0].clone();
    let readme = [
        format!(
            "MATCH (n:Analysis:Current) \
             MATCH (a:Account)-[e:EVIDENCE {{analysis: n.id, group: '{top}'}}]->(b:Account) \
             RETURN a.id, b.id, e.criterion, e.kind, e.weight, e.description"
        ),
        format!(
            "MATCH (n:Analysis:Current) \
             MATCH p = (:Account {{id: '{account}'}})-[:EVIDENCE {{analysis: n.id}}]-(:Account) RETURN p"
        ),
        format!(
            "MATCH (a:Account {{id: '{account}'}}), (b:Account) WHERE b <> a AND b.embedding IS NOT NULL \
             RETURN b.id, vector.similarity.cosine(a.embedding, b.embedding) AS cos ORDER BY cos DESC LIMIT 10"
        ),
    ];
    for q in &readme {
        assert!(!cypher(&server, q).is_empty(), "no rows from {q}");
    }
    cypher(
        &server,
        "MATCH (g:ControlGroup:Current) WHERE g.status = 'unreported' AND 'C1' IN g.criteria \
         RETURN g.id, g.size, g.score ORDER BY g.score DESC",
    );

    // The dataset itself as a graph for Browser and Bloom: one relationship per record, with
    // both ends, and shared identifier values as nodes of their own.
    let linked = || -> Vec<(&str, i64, i64)> {
        [
            (
                "HELD_BY",
                "MATCH (:Account)-[x:HELD_BY]->() RETURN count(x) AS n",
                "MATCH (n:Account) RETURN count(n) AS n",
            ),
            (
                "AT_MEMBER",
                "MATCH (:Account)-[x:AT_MEMBER]->(:Member) RETURN count(x) AS n",
                "MATCH (n:Account) WHERE n.member_id IS NOT NULL RETURN count(n) AS n",
            ),
            (
                "OWNS",
                "MATCH ()-[x:OWNS]->(:Entity) RETURN count(x) AS n",
                "MATCH (n:Shareholding) RETURN count(n) AS n",
            ),
            (
                "OFFICER_OF",
                "MATCH (:Person)-[x:OFFICER_OF]->(:Entity) RETURN count(x) AS n",
                "MATCH (n:Officer) RETURN count(n) AS n",
            ),
            (
                "RELATED",
                "MATCH ()-[x:RELATED]->() RETURN count(x) AS n",
                "MATCH (n:Relation) RETURN count(n) AS n",
            ),
            (
                "AUTHORISED",
                "MATCH (:Person)-[x:AUTHORISED]->(:Account) RETURN count(x) AS n",
                "MATCH (n:Authorization) RETURN count(n) AS n",
            ),
            (
                "HAS_IDENTIFIER",
                "MATCH ()-[x:HAS_IDENTIFIER]->(:IdentifierValue) RETURN count(x) AS n",
                "MATCH (n:Identifier) RETURN count(n) AS n",
            ),
            (
                "TRANSFERRED",
                "MATCH (:Account)-[x:TRANSFERRED]->(:Account) RETURN count(x) AS n",
                "MATCH (n:Transfer) RETURN count(n) AS n",
            ),
            (
                "IdentifierValue",
                "MATCH (v:IdentifierValue) RETURN count(v) AS n",
                "MATCH (n:Identifier) RETURN count(DISTINCT [n.kind, n.value]) AS n",
            ),
        ]
        .into_iter()
        .map(|(what, rels, records)| (what, count(&server, rels), count(&server, records)))
        .collect()
    };
    let before = linked();
    for (what, rels, records) in &before {
        assert!(*records > 0, "the generated dataset has {what} records");
        assert_eq!(rels, records, "{what}: one per record");
    }
    // The README's query for following ownership from a group's controller to its accounts.
    let chains = cypher(
        &server,
        "MATCH (g:ControlGroup:Current) WHERE 'C1' IN g.criteria \
         MATCH p = (c {id: g.controller_id})-[:OWNS*1..4]->(:Entity)<-[:HELD_BY]-(a:Account)-[:MEMBER_OF]->(g) \
         RETURN g.id, [n IN nodes(p) | n.id] AS path LIMIT 25",
    );
    assert!(
        !chains.is_empty(),
        "ownership chains from controllers to their groups' accounts"
    );
    let sharing = cypher(
        &server,
        &format!(
            "MATCH (:Account {{id: '{account}'}})-[:HELD_BY]->(h)-[:HAS_IDENTIFIER]->(v:IdentifierValue)<-[:HAS_IDENTIFIER]-(o) \
             RETURN v.kind, v.value, collect(DISTINCT o.id) AS others"
        ),
    );
    for row in &sharing {
        assert!(!row.get::<Vec<String>>("others").unwrap().is_empty());
    }
    // Ingesting the same dataset again adds no relationship.
    ok(run(
        &server,
        &server.uri,
        &["ingest", data, "--rejects-dir", runs.to_str().unwrap()],
    ));
    assert_eq!(
        linked(),
        before,
        "re-ingest is idempotent for the relationships too"
    );

    // A new analysis replaces the previous one entirely.
    let groups_before = count(&server, "MATCH (g:ControlGroup) RETURN count(g) AS n");
    ok(run(&server, &server.uri, &["analyze"]));
    assert_eq!(
        count(&server, "MATCH (g:ControlGroup) RETURN count(g) AS n"),
        groups_before
    );
    assert_eq!(count(&server, "MATCH (n:Analysis) RETURN count(n) AS n"), 1);
    assert_eq!(
        count(&server, "MATCH ()-[e:EVIDENCE]->() RETURN count(e) AS n"),
        evidence
    );
    assert_eq!(
        count(
            &server,
            "MATCH (a:Account) WHERE a.embedding_staged IS NOT NULL RETURN count(a) AS n"
        ),
        0
    );
}

#[test]
fn wrong_credentials_exit_2_with_a_clear_message() {
    if skipped() {
        return;
    }
    let server = shared_server();
    let wrong = Server {
        password: "not-the-password".into(),
        ..shared_server()
    };
    let o = run(&wrong, &server.uri, &["stats"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("refused the credentials"), "{}", text(&o));
    let o = bin(&server)
        .env_remove("CTRLGRAPH_NEO4J_PASSWORD")
        .args(["--store", &server.uri, "stats"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no Neo4j password"), "{}", text(&o));
}

/// A Neo4j server of one test's own, to kill and restart.
struct Private {
    child: Option<Child>,
    home: tempfile::TempDir,
    port: u16,
    server: Server,
}

impl Private {
    fn start() -> Private {
        let home = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut p = Private {
            child: None,
            home,
            port,
            server: Server {
                uri: format!("bolt://127.0.0.1:{port}"),
                user: "neo4j".into(),
                password: "private-test".into(),
            },
        };
        p.launch();
        p
    }

    fn launch(&mut self) {
        let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("neo4j-launcher/target");
        assert!(
            launcher.join("lib").is_dir(),
            "the Neo4j launcher is not built: run `scripts/neo4j.sh build` (scripts/test.sh does)"
        );
        let cp = format!(
            "{}:{}/*",
            launcher.join("classes").display(),
            launcher.join("lib").display()
        );
        let mut child = Command::new("java")
            .args([
                "-Xmx512m",
                "-cp",
                &cp,
                "org.ctrlgraph.neo4j.Launcher",
                "--home",
            ])
            .arg(self.home.path())
            .args([
                "--password",
                &self.server.password,
                "--port",
                &self.port.to_string(),
            ])
            .args(["--pagecache", "128", "--exit-on-stdin-close"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("java runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.any(|l| l.is_ok_and(|l| l.starts_with("NEO4J_READY ")));
        assert!(ready, "the private Neo4j did not start");
        self.child = Some(child);
    }

    /// Kills the server the hard way, as a crash would.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn neo4j_stopped_during_an_ingest_fails_clearly_and_a_rerun_completes_it() {
    if skipped() {
        return;
    }
    let mut neo = Private::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let embedded = tmp.path().join("embedded");
    let embedded = embedded.to_str().unwrap();
    let runs = tmp.path().join("runs");
    let runs = runs.to_str().unwrap();
    let server = Server {
        uri: neo.server.uri.clone(),
        user: neo.server.user.clone(),
        password: neo.server.password.clone(),
    };
    let s = &server;
    ok(run(
        s,
        embedded,
        &["gen", "--accounts", "20000", "--seed", "4", "--out", data],
    ));
    let uri = s.uri.clone();

    // The store a server would hold open across the outage.
    let settings = service::StoreSettings {
        neo4j_password: Some(s.password.clone()),
        ..Default::default()
    };
    let held = service::open_store(&uri, &settings).unwrap();

    let ingest = bin(s)
        .args(["--store", &uri, "ingest", data, "--rejects-dir", runs])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while held.count(graph_core::model::Table::Accounts).unwrap() == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the ingest wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    neo.kill();
    let o = ingest.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("is unavailable"), "{out}");
    assert!(
        out.contains("re-run the same ingest to complete it"),
        "{out}"
    );
    assert!(
        !out.contains("total "),
        "nothing is reported as loaded: {out}"
    );

    // While the server is down the held store says so; when it is back, it works again.
    let e = held.count(graph_core::model::Table::Accounts).unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    neo.launch();
    assert!(held.count(graph_core::model::Table::Accounts).unwrap() > 0);
    assert!(held.unfinished_ingest().unwrap().is_some());

    let a = run(s, &uri, &["analyze"]);
    assert_eq!(a.status.code(), Some(2), "{}", text(&a));
    assert!(text(&a).contains("did not complete"), "{}", text(&a));

    let again = ok(run(s, &uri, &["ingest", data, "--rejects-dir", runs]));
    let e = ok(run(s, embedded, &["ingest", data]));
    // The batches the stopped run committed are unchanged now; what was read and kept is the
    // embedded store's.
    assert_eq!(read_counts(&again), read_counts(&e));
    for line in counts_table(&again).iter().skip(1) {
        let n: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(
            n[4] + n[5] + n[6],
            n[1],
            "new + updated + unchanged = loaded: {line}"
        );
    }
    assert_eq!(stats(s, &uri), stats(s, embedded));
    assert!(held.unfinished_ingest().unwrap().is_none());
    assert_eq!(
        count(
            s,
            "MATCH (r:IngestRun {status: 'completed'}) RETURN count(r) AS n"
        ),
        1,
        "one completed run"
    );
    assert_eq!(
        count(
            s,
            "MATCH (r:IngestRun {status: 'failed'}) RETURN count(r) AS n"
        ),
        1,
        "the interrupted run is marked failed"
    );
    ok(run(s, &uri, &["analyze"]));
}

fn serve(server: &Server, store: &str, tokens: &Path, audit: &Path) -> Served {
    serve_with(server, store, tokens, audit, &[])
}

fn serve_with(server: &Server, store: &str, tokens: &Path, audit: &Path, extra: &[&str]) -> Served {
    let mut cmd = bin(server);
    cmd.args([
        "--store",
        store,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tokens",
    ])
    .arg(tokens)
    .arg("--audit-log")
    .arg(audit)
    .args(extra);
    start_serving(cmd)
}

/// Adds a token to a tokens file and returns it.
fn add_token(server: &Server, store: &str, tokens: &Path, name: &str, role: &str) -> String {
    let mut cmd = bin(server);
    cmd.args(["--store", store]);
    support::add_token(cmd, tokens, name, role)
}

fn gql(s: &Served, token: &str, query: &str) -> serde_json::Value {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/graphql", s.url))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().unwrap()
}

#[test]
fn serve_runs_on_neo4j_writes_reviews_there_and_recovers_when_neo4j_returns() {
    if skipped() {
        return;
    }
    let mut neo = Private::start();
    let s = &Server {
        uri: neo.server.uri.clone(),
        user: neo.server.user.clone(),
        password: neo.server.password.clone(),
    };
    let uri = s.uri.clone();
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    ok(run(
        s,
        &uri,
        &[
            "ingest",
            fixture("family-and-nominee").to_str().unwrap(),
            "--rejects-dir",
            runs.to_str().unwrap(),
        ],
    ));
    ok(run(s, &uri, &["analyze"]));
    let tokens = tmp.path().join("tokens.toml");
    let token = add_token(s, &uri, &tokens, "ann", "analyst");
    let audit = tmp.path().join("audit.log");

    let srv = serve(s, &uri, &tokens, &audit);
    let v = gql(
        &srv,
        &token,
        "{ account(id: \"A04\") { groups { id size status } } }",
    );
    let group = &v["data"]["account"]["groups"][0];
    assert_eq!(group["size"], 3, "{v}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let review = format!(
        "mutation {{ reviewGroup(id: \"{gid}\", decision: ESCALATED, note: \"nominee\") {{ decision }} }}"
    );
    let v = gql(&srv, &token, &review);
    assert_eq!(v["data"]["reviewGroup"]["decision"], "ESCALATED", "{v}");
    assert_eq!(
        count(
            s,
            &format!(
                "MATCH (r:Review {{group_id: '{gid}', decision: 'ESCALATED', reviewer: 'ann'}}) \
                 RETURN count(r) AS n"
            )
        ),
        1,
        "the review is stored in Neo4j"
    );

    // Neo4j goes away: reads from the loaded snapshot go on, writes fail with a coded error.
    neo.kill();
    let v = gql(&srv, &token, "{ account(id: \"A01\") { holder { id } } }");
    assert_eq!(v["data"]["account"]["holder"]["id"], "P01", "{v}");
    let v = gql(&srv, &token, &review);
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "STORE_UNAVAILABLE",
        "{v}"
    );

    // Neo4j is back: the same server writes again, without a restart.
    neo.launch();
    let t0 = Instant::now();
    loop {
        let v = gql(&srv, &token, &review);
        if v.get("errors").is_none() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the server did not recover: {v}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(srv);

    // A new server on the same database sees the reviews.
    let srv = serve(s, &uri, &tokens, &audit);
    let v = gql(
        &srv,
        &token,
        &format!("{{ controlGroup(id: \"{gid}\") {{ reviews {{ decision reviewer }} }} }}"),
    );
    let reviews = v["data"]["controlGroup"]["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 2, "{v}");
    assert!(reviews.iter().all(|r| r["reviewer"] == "ann"));
}

#[test]
fn servers_sharing_neo4j_lose_no_review_and_see_each_others_work() {
    if skipped() {
        return;
    }
    let _turn = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let s = &shared_server();
    wipe(s);
    let uri = s.uri.clone();
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let dataset = fixture("family-and-nominee");
    ok(run(
        s,
        &uri,
        &[
            "ingest",
            dataset.to_str().unwrap(),
            "--rejects-dir",
            runs.to_str().unwrap(),
        ],
    ));
    ok(run(s, &uri, &["analyze"]));
    let tokens = tmp.path().join("tokens.toml");
    let ann = add_token(s, &uri, &tokens, "ann", "analyst");
    let bob = add_token(s, &uri, &tokens, "bob", "analyst");
    let admin = add_token(s, &uri, &tokens, "root", "admin");
    let refresh = ["--refresh-ms", "300"];
    let a = serve_with(s, &uri, &tokens, &tmp.path().join("a.log"), &refresh);
    let b = serve_with(s, &uri, &tokens, &tmp.path().join("b.log"), &refresh);
    let v = gql(&a, &ann, "{ account(id: \"A04\") { groups { id } } }");
    let gid = v["data"]["account"]["groups"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Two analysts on two servers review the same group at the same moments.
    const EACH: usize = 12;
    std::thread::scope(|scope| {
        for (srv, token, who) in [(&a, &ann, "ann"), (&b, &bob, "bob")] {
            let gid = &gid;
            scope.spawn(move || {
                for i in 0..EACH {
                    let v = gql(
                        srv,
                        token,
                        &format!(
                            "mutation {{ reviewGroup(id: \"{gid}\", decision: ESCALATED, \
                             note: \"{who} {i}\") {{ note }} }}"
                        ),
                    );
                    assert_eq!(
                        v["data"]["reviewGroup"]["note"],
                        format!("{who} {i}"),
                        "{v}"
                    );
                }
            });
        }
    });
    assert_eq!(
        count(s, "MATCH (r:Review) RETURN count(DISTINCT r.seq) AS n"),
        2 * EACH as i64,
        "every review is its own numbered node in Neo4j"
    );

    // Each server shows all of them, in the same order, each analyst's in the order written.
    let history = |srv: &Served| -> Vec<String> {
        let v = gql(
            srv,
            &ann,
            &format!("{{ controlGroup(id: \"{gid}\") {{ reviews {{ note }} }} }}"),
        );
        v["data"]["controlGroup"]["reviews"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|r| r["note"].as_str().unwrap().to_owned())
            .collect()
    };
    let t0 = Instant::now();
    while history(&a).len() < 2 * EACH || history(&b).len() < 2 * EACH {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the servers did not pick up each other's reviews: {:?} / {:?}",
            history(&a),
            history(&b)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = history(&a);
    assert_eq!(seen, history(&b));
    for who in ["ann", "bob"] {
        let mine: Vec<_> = seen
            .iter()
            .filter(|n| n.starts_with(who))
            .cloned()
            .collect();
        let written: Vec<_> = (0..EACH).map(|i| format!("{who} {i}")).collect();
        assert_eq!(mine, written, "{who}'s reviews in the order written");
    }

    // A re-analysis through one server reaches the other without a restart.
    let analysed = |srv: &Served| {
        gql(srv, &ann, "{ market { analysedAt } }")["data"]["market"]["analysedAt"].clone()
    };
    let before = analysed(&b);
    let v = gql(&a, &admin, "mutation { reanalyze { analysedAt } }");
    let after = v["data"]["reanalyze"]["analysedAt"].clone();
    assert!(after.is_string() && after != before, "{v}");
    let t0 = Instant::now();
    while analysed(&b) != after {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the other server kept the old analysis"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        history(&b).len(),
        2 * EACH,
        "the reviews stay with the group's stable id"
    );
}
