//! The API over real HTTP: a server on a loopback port, started on an analysed fixture store,
//! queried with bearer tokens of each role.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gql_api::auth::{Role, add_token};
use gql_api::{ServerConfig, Shared, Tokens};
use serde_json::{Value, json};

/// An analysed store of a fixture dataset.
fn analysed_store(dataset: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ingest::RedbStore::open(dir.path()).expect("store");
    ingest::ingest_dir(
        &fixtures::dataset(dataset),
        &store,
        &ingest::IngestOptions::default(),
    )
    .expect("ingest");
    service::analyze(&store, &service::AnalyzeOptions::default(), &mut |_| {}).expect("analyze");
    dir
}

struct Tokens3 {
    viewer: String,
    analyst: String,
    admin: String,
    file: PathBuf,
}

fn tokens(dir: &Path) -> Tokens3 {
    let file = dir.join("tokens.toml");
    Tokens3 {
        viewer: add_token(&file, "vera", Role::Viewer).unwrap(),
        analyst: add_token(&file, "anna", Role::Analyst).unwrap(),
        admin: add_token(&file, "adam", Role::Admin).unwrap(),
        file,
    }
}

/// A server running on its own runtime thread; stopped (and the store closed) on drop.
struct Server {
    url: String,
    audit: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(store_dir: &Path, tokens: &Path, tweak: impl FnOnce(&mut ServerConfig)) -> Server {
        let store = ingest::RedbStore::open(store_dir).expect("open store");
        Server::start_on(Arc::new(store), store_dir.join("audit.log"), tokens, tweak)
    }

    /// A server on a store that others may share.
    fn start_on(
        store: Arc<dyn ingest::Store>,
        audit: PathBuf,
        tokens: &Path,
        tweak: impl FnOnce(&mut ServerConfig),
    ) -> Server {
        let shared =
            Arc::new(Shared::load(store, service::AnalyzeOptions::default()).expect("snapshot"));
        let mut cfg = ServerConfig::new(Tokens::load(tokens).unwrap(), audit.clone());
        tweak(&mut cfg);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                gql_api::serve(shared, &cfg, listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        Server {
            url: format!("http://{addr}"),
            audit,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn post_raw(&self, token: Option<&str>, body: String) -> (u16, Value) {
        let client = reqwest::blocking::Client::new();
        let mut req = client
            .post(format!("{}/graphql", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, v)
    }

    fn query(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, v) = self.post_raw(
            Some(token),
            Value::Object(serde_json::Map::from_iter([
                ("query".to_owned(), Value::from(query)),
                ("variables".to_owned(), variables),
            ]))
            .to_string(),
        );
        assert_eq!(status, 200, "{v}");
        v
    }

    /// The data of a query that must succeed.
    fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let v = self.query(token, query, variables);
        assert!(v.get("errors").is_none(), "unexpected errors: {v}");
        v["data"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn codes(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or_else(|| panic!("error without extensions.code: {e}"))
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn ownership_queries_name_the_controller_and_prove_it() {
    let dir = analysed_store("ownership-chain");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});

    // The group of the fixture: nine accounts, P01 the controller, C1 among its criteria.
    let d = srv.data(
        &t.viewer,
        "query G { controlGroups(first: 10) { totalCount edges { cursor node { id size score criteria controller { id label } accounts { id } } } } }",
        json!({}),
    );
    let edges = d["controlGroups"]["edges"].as_array().unwrap();
    let g = edges
        .iter()
        .map(|e| &e["node"])
        .find(|n| {
            n["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == "A02")
        })
        .expect("A02's group");
    assert_eq!(
        ids(&g["accounts"]),
        [
            "A01", "A02", "A03", "A04", "A05", "A06", "A08", "A09", "A10"
        ]
    );
    assert_eq!(g["controller"]["id"], "P01");
    assert_eq!(g["controller"]["label"], "陈志强");
    assert!(g["criteria"].as_array().unwrap().contains(&json!("C1")));

    // Ultimate controllers of A04 (three-level chain) with the path P01 -> E01 -> E02 -> E03 -> A04.
    let d = srv.data(
        &t.analyst,
        "{ ultimateControllers(subjectId: \"A04\") { controller { id } basis pathCount path { source target kind label } } }",
        json!({}),
    );
    let u = &d["ultimateControllers"].as_array().unwrap()[0];
    assert_eq!(u["controller"]["id"], "P01");
    assert_eq!(u["basis"], "majority");
    let path: Vec<(&str, &str)> = u["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["source"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        path,
        [
            ("P01", "E01"),
            ("E01", "E02"),
            ("E02", "E03"),
            ("A04", "E03")
        ]
    );

    // Ownership paths multiply the shares: 60% x 70% x 80% = 33.6%.
    let d = srv.data(
        &t.analyst,
        "{ ownershipPaths(from: \"P01\", to: \"E03\") { shareMin shareMax edges { label labelZh } } }",
        json!({}),
    );
    let p = &d["ownershipPaths"].as_array().unwrap()[0];
    assert!((p["shareMin"].as_f64().unwrap() - 33.6).abs() < 0.01, "{p}");
    assert_eq!(p["edges"].as_array().unwrap().len(), 3);
    // Each edge is labelled in Chinese too: the share kind in words, the percentage kept.
    for e in p["edges"].as_array().unwrap() {
        let (en, zh) = (e["label"].as_str().unwrap(), e["labelZh"].as_str().unwrap());
        assert!(en.ends_with("% equity"), "{e}");
        assert!(zh.starts_with("股权 ") && zh.ends_with('%'), "{e}");
        assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{e}");
    }

    // A threshold above P01's stakes leaves E03 without a majority controller.
    let d = srv.data(
        &t.analyst,
        "{ ultimateControllers(subjectId: \"E03\", threshold: 85) { controller { id } basis } }",
        json!({}),
    );
    assert!(
        d["ultimateControllers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["basis"] != "majority"),
        "{d}"
    );

    // The institution profile of the asset manager E09: its products and their accounts.
    let d = srv.data(
        &t.viewer,
        "{ entity(id: \"E09\") { isInstitution entityKind productsManaged { id } productAccounts { id } groups { id } ultimateControllers { controller { id } } } }",
        json!({}),
    );
    let e = &d["entity"];
    assert_eq!(e["isInstitution"], true);
    assert_eq!(ids(&e["productsManaged"]), ["E10", "E11"]);
    assert_eq!(ids(&e["productAccounts"]), ["A09", "A10"]);
    assert_eq!(e["groups"].as_array().unwrap().len(), 1);
    assert_eq!(e["ultimateControllers"][0]["controller"]["id"], "P01");

    // A07 is not in the group: P01's 45% of E06 controls nothing.
    let d = srv.data(
        &t.viewer,
        "{ account(id: \"A07\") { groups { id } ultimateControllers { controller { id } } } }",
        json!({}),
    );
    assert_eq!(d["account"]["groups"], json!([]));
    assert_ne!(
        d["account"]["ultimateControllers"][0]["controller"]["id"],
        "P01"
    );

    // The explained connection from A07's holder to P01 and the group drawing.
    let d = srv.data(
        &t.analyst,
        "{ connection(a: \"A02\", b: \"A09\") { nodes { id } edges { kind } explanation zh: explanation(lang: ZH) } }",
        json!({}),
    );
    let c = &d["connection"];
    assert_eq!(c["nodes"][0]["id"], "A02");
    assert_eq!(c["nodes"].as_array().unwrap().last().unwrap()["id"], "A09");
    assert_eq!(
        c["explanation"].as_array().unwrap().len(),
        c["edges"].as_array().unwrap().len()
    );
    // The Chinese sentences name the same ids and figures, in Chinese words.
    let words = |v: &Value| -> Vec<String> {
        v.as_str()
            .unwrap()
            .split(|ch: char| !ch.is_ascii_alphanumeric() && ch != '.' && ch != '%')
            .filter(|w| w.chars().any(|ch| ch.is_ascii_digit()))
            .map(str::to_owned)
            .collect()
    };
    let (en, zh) = (
        c["explanation"].as_array().unwrap(),
        c["zh"].as_array().unwrap(),
    );
    assert_eq!(en.len(), zh.len());
    for (e, z) in en.iter().zip(zh) {
        // As sets: a chain names its middle entity once in Chinese (`P01 →[…]→ E09 →[…]→ E10`).
        let a: std::collections::BTreeSet<String> = words(e).into_iter().collect();
        let b: std::collections::BTreeSet<String> = words(z).into_iter().collect();
        assert_eq!(a, b, "{e} / {z}");
        assert!(
            z.as_str()
                .unwrap()
                .chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
            "{z}"
        );
    }
    let gid = g["id"].as_str().unwrap();
    let d = srv.data(
        &t.viewer,
        "query($id: ID!) { controlGroup(id: $id) { graph { nodes { id kind } edges { source target kind strength } } evidence { strength } } }",
        json!({ "id": gid }),
    );
    let graph = &d["controlGroup"]["graph"];
    let nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for must in ["A01", "A04", "P01", "E01", "E02", "E03", "E09"] {
        assert!(nodes.contains(&must), "{must} missing from {nodes:?}");
    }
    // Every edge joins drawn nodes.
    for e in graph["edges"].as_array().unwrap() {
        assert!(nodes.contains(&e["source"].as_str().unwrap()), "{e}");
        assert!(nodes.contains(&e["target"].as_str().unwrap()), "{e}");
    }
    let evidence = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "EVIDENCE")
        .count();
    assert_eq!(
        evidence,
        d["controlGroup"]["evidence"].as_array().unwrap().len()
    );
}

#[test]
fn a_controller_profile_shows_what_it_controls_and_how() {
    let dir = analysed_store("ownership-chain");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});
    let d = srv.data(
        &t.viewer,
        "{ person(id: \"P01\") { groups { id } involvement { group { id } roles accountsReached { id } how } } }",
        json!({}),
    );
    let inv = d["person"]["involvement"].as_array().unwrap();
    let g = inv
        .iter()
        .find(|i| {
            i["roles"]
                .as_array()
                .unwrap()
                .contains(&json!("controller"))
        })
        .unwrap_or_else(|| panic!("P01 controls a group: {d}"));
    assert_eq!(
        g["roles"],
        json!(["holder", "controller", "controls"]),
        "{g}"
    );
    let reached = ids(&g["accountsReached"]);
    for a in ["A01", "A02", "A04", "A05", "A06", "A08"] {
        assert!(
            reached.iter().any(|r| r == a),
            "{a} not reached: {reached:?}"
        );
    }
    let how: Vec<&str> = g["how"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    // E05 is controlled by 25% held directly plus E04's 30%: both legs and the sum are shown.
    assert!(
        how.iter().any(|h| h.starts_with(
            "E05 by majority control, 55.0% = 25.00% held directly + 30.00% held by E04"
        ) && h.contains("E04 -[equity 30.00%]-> E05")),
        "{how:?}"
    );
    // A general partner's control is a role, not a percentage.
    assert!(
        how.iter().any(|h| h.starts_with("E08 as general partner")),
        "{how:?}"
    );
    assert!(how.iter().all(|h| !h.contains("(0.0%)")), "{how:?}");
    assert_eq!(
        ids(&d["person"]["groups"]),
        ids(&json!(inv.iter().map(|i| &i["group"]).collect::<Vec<_>>()))
    );
    // A shareholder holding no account is named by the group's evidence only.
    let d = srv.data(
        &t.viewer,
        "{ entity(id: \"E07\") { groups { id } involvement { roles accountsReached { id } } } }",
        json!({}),
    );
    let inv = d["entity"]["involvement"].as_array().unwrap();
    assert_eq!(inv.len(), 1, "E07 is on the chain to E08: {d}");
    assert_eq!(inv[0]["roles"], json!(["evidence"]));
    assert!(ids(&inv[0]["accountsReached"]).is_empty());

    // E15 is E01 under another id (one USCC): both records name the subject and the join.
    for e in ["E15", "E01"] {
        let d = srv.data(
            &t.viewer,
            &format!("{{ entity(id: \"{e}\") {{ resolvedSubject {{ id }} sameSubject {{ record {{ id }} with {{ id }} reason }} }} }}"),
            json!({}),
        );
        assert_eq!(d["entity"]["resolvedSubject"]["id"], "E01", "{d}");
        assert_eq!(
            d["entity"]["sameSubject"],
            json!([{"record": {"id": "E15"}, "with": {"id": "E01"}, "reason": "same_uscc"}]),
            "{d}"
        );
    }
    let d = srv.data(
        &t.viewer,
        "{ entity(id: \"E02\") { resolvedSubject { id } sameSubject { reason } } }",
        json!({}),
    );
    assert_eq!(d["entity"]["resolvedSubject"]["id"], "E02");
    assert_eq!(d["entity"]["sameSubject"], json!([]));
}

#[test]
fn investor_profile_search_masking_and_reviews() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});

    let profile = "query P { account(id: \"A01\") { id label member { id } holder { ... on Person { id name idNumber } } holderAccounts { id } identifiers { identifierKind value } groups { id size status missingFromReport { id } } trading { trades instruments } riskFlags { code } } }";
    let a = srv.data(&t.analyst, profile, json!({}))["account"].clone();
    assert_eq!(a["holder"]["id"], "P01");
    assert_eq!(a["holder"]["name"], "王建国");
    assert_eq!(a["holder"]["idNumber"], "310101196803120113");
    let phones: Vec<&str> = a["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["identifierKind"] == "phone")
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(phones, ["13901010001"]);
    let group = &a["groups"][0];
    assert_eq!(group["size"], 3);
    assert_eq!(group["status"], "PARTIALLY_REPORTED");
    assert_eq!(ids(&group["missingFromReport"]), ["A04"]);
    let flags: Vec<&str> = a["riskFlags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!flags.contains(&"UNREPORTED_GROUP"), "{flags:?}");
    let nominee = srv.data(
        &t.analyst,
        "{ account(id: \"A04\") { riskFlags { code } } }",
        json!({}),
    );
    assert!(
        nominee["account"]["riskFlags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "MISSING_FROM_REPORT"),
        "{nominee}"
    );

    // A viewer sees the same profile with the identity number and phone masked.
    let v = srv.data(&t.viewer, profile, json!({}))["account"].clone();
    assert_eq!(v["holder"]["idNumber"], "310101********0113");
    let masked: Vec<&str> = v["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["identifierKind"] == "phone")
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(masked, ["139****0001"]);
    let text = serde_json::to_string(&srv.query(&t.viewer, "{ controlGroups { edges { node { evidence { signals { description zh: description(lang: ZH) subjects } } graph { nodes { label } } } } } }", json!({}))).unwrap();
    assert!(
        !text.contains("13901010001"),
        "a viewer saw a phone: {text}"
    );

    // Evidence in Chinese: the same ids and figures as the English words.
    let evidence = "{ account(id: \"A01\") { groups { evidence { signals { kind description zh: description(lang: ZH) } } } } }";
    let v = srv.data(&t.viewer, evidence, json!({}));
    let zh: BTreeMap<String, String> = v["account"]["groups"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["signals"].as_array().unwrap())
        .map(|s| {
            (
                s["description"].as_str().unwrap().to_owned(),
                s["zh"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(zh["P01 is spouse of P02"], "P01 是 P02 的配偶");
    assert_eq!(
        zh["shared address `上海市黄浦区中山南路128号1501室` (used by 2 holder(s))"],
        "共用地址 `上海市黄浦区中山南路128号1501室`（2 个持有人使用）"
    );
    assert_eq!(
        zh["1 fund transfer(s) totalling 200000.00 CNY"],
        "资金划转 1 笔，合计 200000.00 元"
    );

    // Search: by phone in a raw spelling, by name, by identity number, by id prefix.
    let search = "query($t: String!) { search(text: $t, first: 10) { matchedField matchedText subject { id kind } } }";
    let hits = srv.data(&t.analyst, search, json!({ "t": "+86 139-0101-0001" }));
    let first = &hits["search"][0];
    assert_eq!(first["matchedField"], "phone");
    assert_eq!(first["subject"]["id"], "P01");
    let hits = srv.data(&t.analyst, search, json!({ "t": "李秀英" }));
    assert_eq!(hits["search"][0]["subject"]["id"], "P02");
    let hits = srv.data(&t.viewer, search, json!({ "t": "32050519900417031x" }));
    assert_eq!(hits["search"][0]["subject"]["id"], "P04");
    assert_eq!(hits["search"][0]["matchedText"], "320505********031X");
    let hits = srv.data(
        &t.analyst,
        "{ search(text: \"A0\", kinds: [ACCOUNT], first: 5) { subject { id kind } } }",
        json!({}),
    );
    let found = hits["search"].as_array().unwrap();
    assert_eq!(found.len(), 5);
    assert!(found.iter().all(|h| h["subject"]["kind"] == "ACCOUNT"));

    // Linked accounts, neighbourhood, similar accounts, the member and market profiles.
    let d = srv.data(
        &t.analyst,
        "{ linkedAccounts(accountId: \"A01\", minWeight: 0.5) { account { id } hops criteria weight } }",
        json!({}),
    );
    let linked: Vec<&str> = d["linkedAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["account"]["id"].as_str().unwrap())
        .collect();
    assert!(
        linked.contains(&"A02") && linked.contains(&"A04"),
        "{linked:?}"
    );
    assert!(
        !linked.contains(&"A03"),
        "the sibling is only weakly linked: {d}"
    );
    let d = srv.data(
        &t.analyst,
        "{ linkedAccounts(accountId: \"A01\", criteria: [C4]) { account { id } } }",
        json!({}),
    );
    assert_eq!(d["linkedAccounts"], json!([{ "account": { "id": "A02" } }]));
    let d = srv.data(
        &t.viewer,
        "{ neighborhood(id: \"P01\", depth: 2, limit: 1000, edgeKinds: [HELD_BY, RELATION, HAS_IDENTIFIER]) { nodes { id kind } edges { source target kind } truncated } }",
        json!({}),
    );
    let n = &d["neighborhood"];
    let nodes: Vec<&str> = n["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(
        nodes.contains(&"A01") && nodes.contains(&"P02") && nodes.contains(&"P03"),
        "{nodes:?}"
    );
    assert!(
        n["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| ["HELD_BY", "RELATION", "HAS_IDENTIFIER"]
                .contains(&e["kind"].as_str().unwrap()))
    );
    let d = srv.data(
        &t.viewer,
        "{ neighborhood(id: \"P01\", depth: 3, limit: 3) { nodes { id } truncated } }",
        json!({}),
    );
    assert_eq!(d["neighborhood"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(d["neighborhood"]["truncated"], true);
    let d = srv.data(
        &t.viewer,
        "{ similarAccounts(accountId: \"A01\", k: 3) { account { id } cosine } }",
        json!({}),
    );
    let sim = d["similarAccounts"].as_array().unwrap();
    assert_eq!(sim.len(), 3);
    assert!(
        sim.windows(2)
            .all(|w| w[0]["cosine"].as_f64() >= w[1]["cosine"].as_f64())
    );
    let d = srv.data(
        &t.viewer,
        "{ member(id: \"M01\") { accountCount accountsByType { label count } groups { id } riskiestAccounts(first: 3) { account { id } score } } market { accounts persons groups unreportedGroups partiallyReportedGroups groupsBySize { label count } groupsByCriterion { label count } relatedPartyVolume { instrument share } } }",
        json!({}),
    );
    let m = &d["member"];
    assert_eq!(m["groups"].as_array().unwrap().len(), 1);
    assert_eq!(m["riskiestAccounts"].as_array().unwrap().len(), 3);
    let total: i64 = m["accountsByType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, m["accountCount"].as_i64().unwrap());
    let mk = &d["market"];
    assert_eq!(mk["accounts"], 34);
    assert_eq!(mk["groups"], 1);
    assert_eq!(mk["partiallyReportedGroups"], 1);
    let sizes: i64 = mk["groupsBySize"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!(sizes, 1);

    // Reviews: a viewer may not, an analyst may; the review survives a restart and a
    // re-analysis (by an admin; an analyst may not re-analyse).
    let gid = group["id"].as_str().unwrap().to_owned();
    let review = "mutation R($id: ID!) { reviewGroup(id: $id, decision: CONFIRMED, note: \"registry checked\") { decision reviewer at } }";
    let v = srv.query(&t.viewer, review, json!({ "id": gid }));
    assert_eq!(codes(&v), ["FORBIDDEN"]);
    let d = srv.data(&t.analyst, review, json!({ "id": gid }));
    assert_eq!(d["reviewGroup"]["reviewer"], "anna");
    let v = srv.query(&t.analyst, "mutation { reanalyze { groups } }", json!({}));
    assert_eq!(codes(&v), ["FORBIDDEN"]);
    drop(srv);

    let srv = Server::start(dir.path(), &t.file, |_| {});
    let q = "query($id: ID!) { controlGroup(id: $id) { review { decision note reviewer } reviews { decision } } }";
    let d = srv.data(&t.viewer, q, json!({ "id": gid }));
    assert_eq!(d["controlGroup"]["review"]["decision"], "CONFIRMED");
    assert_eq!(d["controlGroup"]["review"]["note"], "registry checked");
    let d = srv.data(
        &t.admin,
        "mutation { reanalyze { groups analysedAt } }",
        json!({}),
    );
    assert_eq!(d["reanalyze"]["groups"], 1);
    let d = srv.data(&t.viewer, q, json!({ "id": gid }));
    assert_eq!(d["controlGroup"]["review"]["reviewer"], "anna");
    let d = srv.data(
        &t.viewer,
        "{ controlGroups(filter: { reviewed: true }) { totalCount } }",
        json!({}),
    );
    assert_eq!(d["controlGroups"]["totalCount"], 1);

    // The audit log: one line per request, with who, the operation and the subjects returned.
    let audit = std::fs::read_to_string(&srv.audit).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let p = lines
        .iter()
        .find(|l| l["operation"] == "P" && l["who"] == "vera")
        .expect("the viewer's profile request is audited");
    assert_eq!(p["role"], "viewer");
    let subjects: Vec<&str> = p["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&"A01") && subjects.contains(&"P01"),
        "{subjects:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["error_codes"] == json!(["FORBIDDEN"]))
    );
}

#[test]
fn servers_sharing_a_store_pick_up_each_others_reviews_and_analyses() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let store: Arc<dyn ingest::Store> =
        Arc::new(ingest::RedbStore::open(dir.path()).expect("open store"));
    let every = |cfg: &mut ServerConfig| cfg.refresh = Some(Duration::from_millis(100));
    let a = Server::start_on(store.clone(), dir.path().join("a.log"), &t.file, every);
    let b = Server::start_on(store.clone(), dir.path().join("b.log"), &t.file, every);
    let gid = a.data(
        &t.analyst,
        r#"{ account(id: "A01") { groups { id } } }"#,
        json!({}),
    )["account"]["groups"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviews = |s: &Server| {
        s.data(
            &t.viewer,
            "query($id: ID!) { controlGroup(id: $id) { reviews { note reviewer } } }",
            json!({ "id": gid }),
        )["controlGroup"]["reviews"]
            .clone()
    };
    let review = |s: &Server, note: &str| {
        s.data(
            &t.analyst,
            "mutation($id: ID!, $note: String) { reviewGroup(id: $id, decision: CONFIRMED, note: $note) { note } }",
            json!({ "id": gid, "note": note }),
        );
    };
    let eventually = |what: &str, done: &dyn Fn() -> bool| {
        let t0 = std::time::Instant::now();
        while !done() {
            assert!(t0.elapsed() < Duration::from_secs(15), "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    review(&a, "seen on A");
    assert_eq!(
        reviews(&a).as_array().unwrap().len(),
        1,
        "the writer shows it at once"
    );
    eventually("B picks up A's review", &|| {
        reviews(&b).as_array().unwrap().len() == 1
    });
    review(&b, "seen on B");
    // B's write reads the journal back, so A's review stays beside it.
    assert_eq!(
        reviews(&b),
        json!([{ "note": "seen on A", "reviewer": "anna" }, { "note": "seen on B", "reviewer": "anna" }])
    );
    eventually("A picks up B's review", &|| reviews(&a) == reviews(&b));

    // Another process analyses the store: both servers swap the new analysis in.
    let analysed_at = |s: &Server| {
        s.data(&t.viewer, "{ market { analysedAt } }", json!({}))["market"]["analysedAt"].clone()
    };
    let before = analysed_at(&a);
    service::analyze(
        store.as_ref(),
        &service::AnalyzeOptions::default(),
        &mut |_| {},
    )
    .expect("analyze");
    let now = service::analysis_stamp(store.as_ref())
        .unwrap()
        .expect("stamped");
    assert_ne!(json!(now), before);
    eventually("A loads the new analysis", &|| {
        analysed_at(&a) == json!(now)
    });
    eventually("B loads the new analysis", &|| {
        analysed_at(&b) == json!(now)
    });
    assert_eq!(
        reviews(&a).as_array().unwrap().len(),
        2,
        "reviews stay with the stable id"
    );
}

#[test]
fn pagination_is_relay_and_clamped() {
    // A generated dataset gives enough groups to page through.
    let data = tempfile::tempdir().unwrap();
    fixtures::generate(&fixtures::GenConfig::new(3_000, 5), data.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ingest::RedbStore::open(dir.path()).unwrap();
    ingest::ingest_dir(data.path(), &store, &ingest::IngestOptions::default()).unwrap();
    service::analyze(&store, &service::AnalyzeOptions::default(), &mut |_| {}).unwrap();
    drop(store);
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});

    let q = "query($after: String) { controlGroups(first: 7, after: $after, orderBy: SCORE_DESC) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { id score } } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut scores = Vec::new();
    let total;
    loop {
        let d = srv.data(&t.viewer, q, json!({ "after": after }));
        let c = &d["controlGroups"];
        for e in c["edges"].as_array().unwrap() {
            seen.push(e["node"]["id"].as_str().unwrap().to_owned());
            scores.push(e["node"]["score"].as_f64().unwrap());
        }
        if c["pageInfo"]["hasNextPage"] != true {
            total = c["totalCount"].as_u64().unwrap() as usize;
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert!(total > 14, "only {total} groups");
    assert_eq!(seen.len(), total);
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), total, "pages overlap");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "not by score");

    // first is clamped to 500; a filter narrows the count; a bad cursor is a coded error.
    let d = srv.data(
        &t.viewer,
        "{ controlGroups(first: 100000) { edges { cursor } } }",
        json!({}),
    );
    assert_eq!(
        d["controlGroups"]["edges"].as_array().unwrap().len(),
        total.min(500)
    );
    let d = srv.data(&t.viewer, "{ controlGroups(filter: { minSize: 4, minScore: 0.5 }) { totalCount edges { node { size score } } } }", json!({}));
    let c = &d["controlGroups"];
    assert!((c["totalCount"].as_u64().unwrap() as usize) < total);
    assert!(
        c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["size"].as_i64().unwrap() >= 4
                && e["node"]["score"].as_f64().unwrap() >= 0.5)
    );
    let v = srv.query(
        &t.viewer,
        "{ controlGroups(after: \"nonsense\") { totalCount } }",
        json!({}),
    );
    assert_eq!(codes(&v), ["BAD_USER_INPUT"]);
    let d = srv.data(
        &t.viewer,
        "{ controlGroups(filter: { criterion: C4 }) { edges { node { criteria } } } }",
        json!({}),
    );
    assert!(
        d["controlGroups"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["criteria"]
                .as_array()
                .unwrap()
                .contains(&json!("C4")))
    );

    // A request over the time limit is stopped with TIMEOUT: a 3-hop drawing of a member's
    // neighbourhood here takes several milliseconds of a worker thread, the limit is 1 ms.
    let d = srv.data(
        &t.viewer,
        "{ controlGroups(first: 1) { edges { node { members { id } } } } }",
        json!({}),
    );
    let member = d["controlGroups"]["edges"][0]["node"]["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(srv);
    let srv = Server::start(dir.path(), &t.file, |c| {
        c.timeout = Duration::from_millis(1);
    });
    let q = format!(
        "{{ neighborhood(id: \"{member}\", depth: 3, limit: 5000) {{ nodes {{ id label groupId }} edges {{ id label }} }} }}"
    );
    let (status, v) = srv.post_raw(Some(&t.viewer), json!({ "query": q }).to_string());
    assert_eq!(status, 504, "{v}");
    assert_eq!(codes(&v), ["TIMEOUT"]);
    let audit = std::fs::read_to_string(&srv.audit).unwrap();
    assert!(
        audit.lines().last().unwrap().contains("\"TIMEOUT\""),
        "{audit}"
    );
}

#[test]
fn security_rules_hold_and_every_error_is_coded() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |c| {
        c.body_limit = 4096;
        c.limits = gql_api::Limits {
            depth: 6,
            complexity: 200,
            root_fields: 100,
            aliases: 100,
        };
    });
    let q = json!({ "query": "{ me { name role } }" }).to_string();

    // No token, a wrong token: 401 with a coded error; introspection is not open either.
    let (status, v) = srv.post_raw(None, q.clone());
    assert_eq!(status, 401);
    assert_eq!(codes(&v), ["UNAUTHENTICATED"]);
    let (status, v) = srv.post_raw(Some("cg_wrong"), q.clone());
    assert_eq!(status, 401);
    assert_eq!(codes(&v), ["UNAUTHENTICATED"]);
    let (status, _) = srv.post_raw(
        None,
        json!({ "query": "{ __schema { types { name } } }" }).to_string(),
    );
    assert_eq!(status, 401);
    let d = srv.data(&t.viewer, "{ __schema { queryType { name } } }", json!({}));
    assert_eq!(d["__schema"]["queryType"]["name"], "Query");
    let d = srv.data(&t.analyst, "{ me { name role } }", json!({}));
    assert_eq!(d["me"], json!({ "name": "anna", "role": "ANALYST" }));

    // Depth and complexity limits.
    let deep = "{ account(id: \"A01\") { groups { accounts { groups { accounts { groups { accounts { id } } } } } } } }";
    assert_eq!(
        codes(&srv.query(&t.viewer, deep, json!({}))),
        ["QUERY_TOO_DEEP"]
    );
    let wide = format!(
        "{{ {} }}",
        (0..80)
            .map(|i| format!("a{i}: account(id: \"A01\") {{ id label }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(
        codes(&srv.query(&t.viewer, &wide, json!({}))),
        ["QUERY_TOO_COMPLEX"]
    );

    // Body limit, batches, bad JSON, parse and validation errors.
    let big = json!({ "query": format!("{{ me {{ name }} }} #{}", "x".repeat(5000)) }).to_string();
    let (status, v) = srv.post_raw(Some(&t.viewer), big);
    assert_eq!(status, 413);
    assert_eq!(codes(&v), ["PAYLOAD_TOO_LARGE"]);
    let (status, v) = srv.post_raw(Some(&t.viewer), format!("[{q},{q}]"));
    assert_eq!(status, 400);
    assert_eq!(codes(&v), ["BATCH_NOT_SUPPORTED"]);
    let (status, v) = srv.post_raw(Some(&t.viewer), "{not json".into());
    assert_eq!(status, 400);
    assert_eq!(codes(&v), ["BAD_REQUEST"]);
    let v = srv.query(&t.viewer, "{ me { name ", json!({}));
    assert_eq!(codes(&v), ["GRAPHQL_PARSE_FAILED"]);
    let v = srv.query(&t.viewer, "{ me { nonsense } }", json!({}));
    assert_eq!(codes(&v), ["GRAPHQL_VALIDATION_FAILED"]);
    let v = srv.query(
        &t.viewer,
        "{ ownershipPaths(from: \"NOPE\", to: \"A01\") { shareMin } }",
        json!({}),
    );
    assert_eq!(codes(&v), ["NOT_FOUND"]);
    let v = srv.query(
        &t.viewer,
        "{ washTrades(groupId: \"NOPE\") { trades } }",
        json!({}),
    );
    assert_eq!(codes(&v), ["NOT_FOUND"]);
    let v = srv.query(
        &t.viewer,
        "{ ultimateControllers(subjectId: \"A01\", threshold: 120) { basis } }",
        json!({}),
    );
    assert_eq!(codes(&v), ["BAD_USER_INPUT"]);
    drop(srv);
}

#[test]
fn the_checked_in_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let sdl = gql_api::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "schema.graphql differs from the schema in gql-api: regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p gql-api --test http the_checked_in_schema` \
         (or `ctrlgraph schema > schema.graphql`) and review the change"
    );
}

#[test]
fn breaches_position_series_and_overdue_reports_over_http() {
    let dir = analysed_store("surveillance");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});

    let q = "query($f: BreachFilter) { breaches(filter: $f, first: 1) { totalCount pageInfo { hasNextPage endCursor } \
             edges { node { groupId source kind scope date figure limit limitScope onlyAsGroup \
             group { id } parts { account { id } share alone } } } } }";
    let d = srv.data(&t.viewer, q, json!({}));
    let c = &d["breaches"];
    assert_eq!(c["totalCount"], 3, "{d}");
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let b = &c["edges"][0]["node"];
    assert_eq!(
        (
            &b["kind"],
            &b["scope"],
            &b["date"],
            &b["figure"],
            &b["limit"],
            &b["onlyAsGroup"]
        ),
        (
            &json!("POSITION_LONG"),
            &json!("IF2403"),
            &json!("2024-03-04"),
            &json!(1300),
            &json!(1200),
            &json!(true)
        ),
        "{d}"
    );
    assert_eq!(b["limitScope"], "IF");
    assert_eq!(
        b["parts"][0],
        json!({"account": {"id": "A1"}, "share": 700, "alone": 700})
    );
    let group = b["group"]["id"].as_str().unwrap().to_owned();
    assert_eq!(b["groupId"], group.as_str());

    let count =
        |f: Value| srv.data(&t.viewer, q, json!({ "f": f }))["breaches"]["totalCount"].clone();
    assert_eq!(count(json!({"kind": "CANCEL"})), 1);
    assert_eq!(count(json!({"onlyAsGroup": false})), 1);
    assert_eq!(count(json!({"source": "REPORTED"})), 1);
    assert_eq!(count(json!({"status": "UNREPORTED"})), 2);
    assert_eq!(count(json!({"instrument": "IF"})), 3);
    assert_eq!(count(json!({"instrument": "IF2406"})), 0);
    assert_eq!(count(json!({"from": "2024-03-05"})), 0);
    assert_eq!(count(json!({"from": "2024-03-04", "to": "2024-03-04"})), 3);
    let v = srv.query(&t.viewer, q, json!({ "f": {"from": "March"} }));
    assert_eq!(codes(&v), ["BAD_USER_INPUT"]);
    let v = srv.query(
        &t.viewer,
        "{ breaches(after: \"nope\") { totalCount } }",
        json!({}),
    );
    assert_eq!(codes(&v), ["BAD_USER_INPUT"]);

    let d = srv.data(
        &t.viewer,
        "query($id: ID!) { controlGroup(id: $id) { breaches { kind figure } \
         positionSeries(instrument: \"IF2403\") { date long short limit parts { account { id } long short } } } }",
        json!({ "id": group }),
    );
    let g = &d["controlGroup"];
    assert_eq!(
        g["breaches"],
        json!([{"kind": "POSITION_LONG", "figure": 1300}, {"kind": "CANCEL", "figure": 6}])
    );
    assert_eq!(
        g["positionSeries"][0],
        json!({"date": "2024-03-04", "long": 1300, "short": 650, "limit": 1200, "parts": [
            {"account": {"id": "A1"}, "long": 700, "short": 0},
            {"account": {"id": "A2"}, "long": 600, "short": 650}]}),
        "hedging lots are left out: {d}"
    );
    assert_eq!(g["positionSeries"][1]["long"], 1000);

    let d = srv.data(
        &t.viewer,
        "{ overdueReports { kind groupId group { id } reportedGroup accounts { id } missing { id } due overdue } }",
        json!({}),
    );
    let r = d["overdueReports"].as_array().unwrap();
    assert_eq!(r.len(), 2, "{d}");
    assert_eq!(
        (&r[0]["kind"], &r[0]["group"]["id"], &r[0]["overdue"]),
        (&json!("OVERDUE"), &json!(group), &json!(true))
    );
    assert_eq!(r[0]["missing"], json!([{"id": "A1"}, {"id": "A2"}]));
    assert_eq!(
        (&r[1]["kind"], &r[1]["groupId"], &r[1]["group"]),
        (&json!("STALE"), &json!("R1"), &Value::Null)
    );
    drop(srv);
}

/// The id of the phone identifier `13901010001` as a viewer finds it.
fn phone_identifier_id(srv: &Server, token: &str) -> String {
    let d = srv.data(
        token,
        "{ search(text: \"13901010001\", kinds: [IDENTIFIER]) { subject { id kind } } }",
        json!({}),
    );
    let id = d["search"][0]["subject"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("I-"), "{d}");
    id
}

#[test]
fn identifier_ids_cannot_be_computed_from_the_value() {
    use sha2::Digest as _;
    let a = analysed_store("family-and-nominee");
    let b = analysed_store("family-and-nominee");
    let t = tokens(a.path());
    let srv = Server::start(a.path(), &t.file, |_| {});
    let id = phone_identifier_id(&srv, &t.viewer);
    // Hashing kind and value, as anyone holding a list of candidate phones could, misses it.
    let plain = sha2::Sha256::digest(b"phone\x1f13901010001");
    assert_ne!(id, format!("I-{}", &hex::encode(plain)[..16]));
    // The id still names the identifier.
    let d = srv.data(
        &t.viewer,
        "query($id: ID!) { subject(id: $id) { kind label } }",
        json!({ "id": id }),
    );
    assert_eq!(d["subject"]["kind"], "IDENTIFIER", "{d}");
    drop(srv);

    // Another store of the same data has another key, so other ids.
    let srv = Server::start(b.path(), &t.file, |_| {});
    assert_ne!(phone_identifier_id(&srv, &t.viewer), id);
    drop(srv);

    // Re-ingesting into the same store keeps the ids.
    let store = ingest::RedbStore::open(a.path()).unwrap();
    ingest::ingest_dir(
        &fixtures::dataset("family-and-nominee"),
        &store,
        &ingest::IngestOptions::default(),
    )
    .unwrap();
    drop(store);
    let srv = Server::start(a.path(), &t.file, |_| {});
    assert_eq!(phone_identifier_id(&srv, &t.viewer), id);
}

#[test]
fn viewers_find_identity_numbers_and_phones_only_whole_and_searches_are_rate_limited() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |c| {
        c.search_rate = gql_api::limit::RateLimit {
            burst: 6,
            per_minute: 1,
        };
    });
    let search =
        "query($t: String!) { search(text: $t, first: 10) { matchedField subject { id } } }";
    let hits = |token: &str, text: &str| -> Vec<(String, String)> {
        srv.data(token, search, json!({ "t": text }))["search"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["matchedField"].as_str().unwrap().to_owned(),
                    h["subject"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let fields = |h: &[(String, String)], f: &str| h.iter().filter(|(m, _)| m == f).count();

    // A prefix of an identity number or a phone finds it for an analyst, never for a viewer,
    // who could otherwise read a masked number digit by digit.
    let id_prefix = "3205051990";
    assert!(hits(&t.analyst, id_prefix).contains(&("idNumber".into(), "P04".into())));
    assert_eq!(fields(&hits(&t.viewer, id_prefix), "idNumber"), 0);
    assert_eq!(
        hits(&t.viewer, "32050519900417031x"),
        [("idNumber".to_owned(), "P04".to_owned())]
    );
    assert!(fields(&hits(&t.analyst, "1390101"), "phone") > 0);
    assert_eq!(fields(&hits(&t.viewer, "1390101"), "phone"), 0);
    assert!(fields(&hits(&t.viewer, "13901010001"), "phone") > 0);

    // Six searches at once, then one a minute: the seventh is refused, for this token only.
    hits(&t.viewer, "王");
    hits(&t.viewer, "李");
    let v = srv.query(&t.viewer, search, json!({ "t": "P0" }));
    assert_eq!(codes(&v), ["RATE_LIMITED"], "{v}");
    assert!(!hits(&t.analyst, "P0").is_empty());
}

#[test]
fn aliases_and_large_arguments_count_against_the_limits() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});
    let drawing = |alias: usize| {
        format!(
            "n{alias}: neighborhood(id: \"M01\", depth: 3, limit: 5000) {{ nodes {{ id kind label groupId }} edges {{ id source target kind label weight strength criterion }} truncated }}"
        )
    };
    let aliased = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n).map(drawing).collect::<Vec<_>>().join(" ")
        )
    };

    // One full drawing with the fields the investigation page asks for fits the default
    // complexity, two do not: the cost follows depth and limit, where it used to be a point
    // per field whatever they asked for.
    let d = srv.data(&t.viewer, &aliased(1), json!({}));
    assert!(!d["n0"]["nodes"].as_array().unwrap().is_empty());
    assert_eq!(
        codes(&srv.query(&t.viewer, &aliased(2), json!({}))),
        ["QUERY_TOO_COMPLEX"]
    );
    // Small drawings stay cheap, many at once included.
    let small = format!(
        "{{ {} }}",
        (0..20)
            .map(|i| format!("s{i}: neighborhood(id: \"M01\") {{ nodes {{ id }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(
        srv.query(&t.viewer, &small, json!({}))
            .get("errors")
            .is_none()
    );
    // A page costs its size: 500 groups with their evidence are too much, 5 are not.
    let page = |n: usize| {
        format!(
            "{{ controlGroups(first: {n}) {{ edges {{ node {{ id score size status criteria accounts {{ id label }} evidence {{ weight signals {{ description }} }} }} }} }} }}"
        )
    };
    assert_eq!(
        codes(&srv.query(&t.viewer, &page(500), json!({}))),
        ["QUERY_TOO_COMPLEX"]
    );
    assert!(
        srv.query(&t.viewer, &page(5), json!({}))
            .get("errors")
            .is_none()
    );

    // The alias attack of the review: 500 aliases of the largest drawing, refused before any
    // work with a coded error, and so are many aliases hidden in a fragment.
    let attack = format!(
        "{{ {} }}",
        (0..500)
            .map(|i| format!(
                "a{i}: neighborhood(id: \"M01\", depth: 3, limit: 5000) {{ nodes {{ id }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, v) = srv.post_raw(Some(&t.viewer), json!({ "query": attack }).to_string());
    assert_eq!(status, 400, "{v}");
    assert_eq!(codes(&v), ["TOO_MANY_ROOT_FIELDS"]);
    let fragment = format!(
        "{{ ...F }} fragment F on Query {{ {} }}",
        (0..40)
            .map(|i| format!("m{i}: me {{ name }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, v) = srv.post_raw(Some(&t.viewer), json!({ "query": fragment }).to_string());
    assert_eq!(
        (status, codes(&v)),
        (400, vec!["TOO_MANY_ROOT_FIELDS".to_owned()])
    );
    let nested = format!(
        "{{ me {{ {} }} }}",
        (0..70)
            .map(|i| format!("n{i}: name"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, v) = srv.post_raw(Some(&t.viewer), json!({ "query": nested }).to_string());
    assert_eq!(
        (status, codes(&v)),
        (400, vec!["TOO_MANY_ALIASES".to_owned()])
    );
    drop(srv);

    // The answer is bounded too.
    let srv = Server::start(dir.path(), &t.file, |c| c.response_limit = 2000);
    let (status, v) = srv.post_raw(Some(&t.viewer), json!({ "query": aliased(1) }).to_string());
    assert_eq!(
        (status, codes(&v)),
        (400, vec!["RESPONSE_TOO_LARGE".to_owned()])
    );
    let audit = std::fs::read_to_string(&srv.audit).unwrap();
    assert!(audit.contains("RESPONSE_TOO_LARGE"), "{audit}");
}

#[test]
fn a_token_removed_from_the_tokens_file_stops_working_without_a_restart() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let file = t.file.clone();
    let srv = Server::start(dir.path(), &t.file, |c| c.tokens_file = Some(file));
    let me = json!({ "query": "{ me { name } }" }).to_string();
    assert_eq!(srv.post_raw(Some(&t.viewer), me.clone()).0, 200);

    // Revoke the viewer's token: drop its entry from the file.
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(&t.file).unwrap()).unwrap();
    doc["token"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["name"].as_str() != Some("vera"));
    std::fs::write(&t.file, toml::to_string(&doc).unwrap()).unwrap();
    let (status, v) = srv.post_raw(Some(&t.viewer), me.clone());
    assert_eq!(
        (status, codes(&v)),
        (401, vec!["UNAUTHENTICATED".to_owned()])
    );
    assert_eq!(srv.post_raw(Some(&t.analyst), me.clone()).0, 200);

    // A token added to the file works at once too.
    let new = add_token(&t.file, "nina", Role::Viewer).unwrap();
    let d = srv.data(&new, "{ me { name } }", json!({}));
    assert_eq!(d["me"]["name"], "nina");

    // A file broken by an edit lets nobody in until it is fixed.
    let good = std::fs::read_to_string(&t.file).unwrap();
    std::fs::write(&t.file, "[[token]]\nname = ").unwrap();
    assert_eq!(srv.post_raw(Some(&t.analyst), me.clone()).0, 401);
    std::fs::write(&t.file, good).unwrap();
    assert_eq!(srv.post_raw(Some(&t.analyst), me).0, 200);
}

#[test]
fn the_audit_log_names_what_was_done_and_nothing_is_served_unaudited() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});
    let d = srv.data(
        &t.viewer,
        "{ controlGroups { edges { node { id } } } }",
        json!({}),
    );
    let gid = d["controlGroups"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An unnamed mutation and a search.
    srv.data(
        &t.analyst,
        &format!("mutation {{ reviewGroup(id: \"{gid}\", decision: DISMISSED) {{ at }} }}"),
        json!({}),
    );
    srv.data(
        &t.viewer,
        "query($t: String!) { search(text: $t) { matchedField } }",
        json!({ "t": "李秀英" }),
    );
    let lines: Vec<Value> = std::fs::read_to_string(&srv.audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let review: Vec<&Value> = lines
        .iter()
        .filter(|l| l["root_fields"] == json!(["reviewGroup"]))
        .collect();
    assert_eq!(review.len(), 2, "a line before and one after: {lines:?}");
    assert_eq!(review[0]["phase"], "started");
    let done = review[1];
    assert_eq!(done["operation_type"], "mutation");
    assert_eq!(done["who"], "anna");
    assert_eq!(
        done["actions"],
        json!([{ "field": "reviewGroup", "group": gid, "decision": "DISMISSED" }])
    );
    assert_eq!(done["subjects"], json!([gid]));
    let search = lines
        .iter()
        .find(|l| l["root_fields"] == json!(["search"]))
        .expect("the search is audited");
    assert_eq!(
        search["actions"],
        json!([{ "field": "search", "text": "李秀英" }])
    );
    drop(srv);

    // A log that cannot be written (a full disk) refuses every request, and a review is not
    // stored unaudited.
    let store = ingest::RedbStore::open(dir.path()).unwrap();
    let srv = Server::start_on(Arc::new(store), "/dev/full".into(), &t.file, |_| {});
    let (status, v) = srv.post_raw(
        Some(&t.viewer),
        json!({ "query": "{ me { name } }" }).to_string(),
    );
    assert_eq!(
        (status, codes(&v)),
        (503, vec!["AUDIT_UNAVAILABLE".to_owned()])
    );
    assert!(v.get("data").is_none(), "{v}");
    let review = json!({ "query": format!("mutation {{ reviewGroup(id: \"{gid}\", decision: CONFIRMED) {{ at }} }}") });
    let (status, v) = srv.post_raw(Some(&t.analyst), review.to_string());
    assert_eq!(
        (status, codes(&v)),
        (503, vec!["AUDIT_UNAVAILABLE".to_owned()])
    );
    drop(srv);
    let srv = Server::start(dir.path(), &t.file, |_| {});
    let d = srv.data(
        &t.viewer,
        "query($id: ID!) { controlGroup(id: $id) { reviews { decision } } }",
        json!({ "id": gid }),
    );
    assert_eq!(
        d["controlGroup"]["reviews"],
        json!([{ "decision": "DISMISSED" }])
    );
}

#[cfg(unix)]
#[test]
fn static_files_do_not_follow_links_out_and_the_audit_log_is_private() {
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "the secret").unwrap();
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<html>page</html>").unwrap();
    std::fs::write(web.path().join("app.js"), "console.log(1)").unwrap();
    symlink(
        outside.path().join("secret.txt"),
        web.path().join("leak.txt"),
    )
    .unwrap();
    symlink(outside.path(), web.path().join("assets")).unwrap();
    symlink(web.path().join("app.js"), web.path().join("inner.js")).unwrap();
    let web_dir = web.path().to_owned();
    let srv = Server::start(dir.path(), &t.file, |c| c.web_dir = Some(web_dir));
    let get = |path: &str| {
        let r = reqwest::blocking::get(format!("{}{path}", srv.url)).unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(get("/app.js"), (200, "console.log(1)".to_owned()));
    assert_eq!(get("/inner.js").0, 200, "a link inside the folder is fine");
    assert_eq!(get("/").1, "<html>page</html>");
    for path in [
        "/leak.txt",
        "/assets/secret.txt",
        "/assets/../leak.txt",
        "/%61ssets/secret.txt",
    ] {
        let (status, body) = get(path);
        assert!(!body.contains("the secret"), "{path} leaked the file");
        assert_eq!(status, 404, "{path}");
    }
    srv.data(&t.viewer, "{ me { name } }", json!({}));
    let mode = std::fs::metadata(&srv.audit).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "audit.log has mode {:o}", mode & 0o777);
}

#[test]
fn zero_counts_give_nothing_and_negative_counts_are_refused() {
    let dir = analysed_store("family-and-nominee");
    let t = tokens(dir.path());
    let srv = Server::start(dir.path(), &t.file, |_| {});
    let len = |d: &Value, path: &str| d.pointer(path).unwrap().as_array().unwrap().len();

    let d = srv.data(
        &t.viewer,
        "{ controlGroups(first: 0) { totalCount edges { cursor } } breaches(first: 0) { edges { cursor } } \
         search(text: \"P0\", first: 0) { matchedField } similarAccounts(accountId: \"A01\", k: 0) { cosine } \
         member(id: \"M01\") { accounts(first: 0) { id } riskiestAccounts(first: 0) { score } page: accounts(first: 2, offset: 1) { id } } }",
        json!({}),
    );
    assert_eq!(d["controlGroups"]["totalCount"], 1, "{d}");
    for path in [
        "/controlGroups/edges",
        "/breaches/edges",
        "/search",
        "/similarAccounts",
        "/member/accounts",
        "/member/riskiestAccounts",
    ] {
        assert_eq!(len(&d, path), 0, "{path} with 0: {d}");
    }
    assert_eq!(len(&d, "/member/page"), 2);
    let d = srv.data(
        &t.viewer,
        "{ controlGroups(first: 1) { edges { node { candidates(first: 0) { score } } } } }",
        json!({}),
    );
    assert_eq!(len(&d, "/controlGroups/edges/0/node/candidates"), 0);

    for q in [
        "{ controlGroups(first: -1) { totalCount } }",
        "{ breaches(first: -1) { totalCount } }",
        "{ search(text: \"P0\", first: -1) { matchedField } }",
        "{ similarAccounts(accountId: \"A01\", k: -1) { cosine } }",
        "{ member(id: \"M01\") { accounts(offset: -10) { id } } }",
        "{ member(id: \"M01\") { accounts(first: -1) { id } } }",
        "{ member(id: \"M01\") { riskiestAccounts(first: -1) { score } } }",
        "{ controlGroups { edges { node { candidates(first: -1) { score } } } } }",
    ] {
        assert_eq!(
            codes(&srv.query(&t.viewer, q, json!({}))),
            ["BAD_USER_INPUT"],
            "{q}"
        );
    }
}
