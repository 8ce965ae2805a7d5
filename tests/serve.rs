//! `ctrlgraph serve` through the binary: tokens from `ctrlgraph token add`, the GraphQL API,
//! the GraphiQL explorer bundled from npm (no network), and a clean stop on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::{Served, start_serving};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctrlgraph"));
    c.env_remove("RUST_LOG").env("CTRLGRAPH_PROGRESS", "false");
    c
}

fn run(store: &Path, args: &[&str]) -> Output {
    let o = bin().arg("--store").arg(store).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "ctrlgraph {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn serve(store: &Path, tokens: &Path) -> Served {
    let mut cmd = bin();
    cmd.arg("--store")
        .arg(store)
        .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
        .arg(tokens)
        .arg("--graphiql-dir")
        .arg(root().join("graphiql/dist"));
    start_serving(cmd)
}

#[test]
fn serve_answers_graphql_and_graphiql_offline() {
    let dist = root().join("graphiql/dist/index.html");
    assert!(
        dist.is_file(),
        "the GraphiQL bundle is not built ({}): run `npm ci && npm run build` in graphiql/ \
         (scripts/test.sh does it before the tests)",
        dist.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    run(
        &store,
        &[
            "ingest",
            root()
                .join("fixtures/datasets/ownership-chain")
                .to_str()
                .unwrap(),
        ],
    );
    run(&store, &["analyze"]);
    let tokens = dir.path().join("tokens.toml");
    let mut cmd = bin();
    cmd.arg("--store").arg(&store);
    let token = support::add_token(cmd, &tokens, "ann", "analyst");
    assert!(token.starts_with("cg_"), "{token}");
    assert!(!std::fs::read_to_string(&tokens).unwrap().contains(&token));

    let served = serve(&store, &tokens);
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client
        .get(format!("{}/healthz", served.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["groups"], 1);

    let resp = client
        .post(format!("{}/graphql", served.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query": "{ account(id: \"A03\") { groups { controller { id } size } } }" }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().unwrap();
    assert_eq!(v["data"]["account"]["groups"][0]["controller"]["id"], "P01");
    assert_eq!(v["data"]["account"]["groups"][0]["size"], 9);
    let resp = client
        .post(format!("{}/graphql", served.url))
        .json(&serde_json::json!({ "query": "{ me { name } }" }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The explorer and everything it loads come from the server itself.
    let page = client
        .get(format!("{}/graphiql/", served.url))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("ctrlgraph GraphiQL"), "{html}");
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/assets/"))
        .collect();
    assert!(!assets.is_empty(), "no bundled assets in {html}");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the explorer page loads something from the network: {html}"
    );
    for a in assets {
        let r = client.get(format!("{}{a}", served.url)).send().unwrap();
        assert_eq!(r.status(), 200, "{a}");
        assert!(r.bytes().unwrap().len() > 100, "{a} is empty");
    }

    // The audit log is its own file in the store folder.
    let audit = std::fs::read_to_string(store.join("audit.log")).unwrap();
    assert_eq!(audit.lines().count(), 2, "{audit}");
}

#[test]
fn serve_refuses_the_alias_attack_with_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let data = root().join("fixtures/datasets/family-and-nominee");
    run(&store, &["ingest", data.to_str().unwrap()]);
    run(&store, &["analyze"]);
    let tokens = dir.path().join("tokens.toml");
    let mut cmd = bin();
    cmd.arg("--store").arg(&store);
    let token = support::add_token(cmd, &tokens, "vera", "viewer");
    let served = serve(&store, &tokens);
    let client = reqwest::blocking::Client::new();
    let post = |query: String| {
        let r = client
            .post(format!("{}/graphql", served.url))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "query": query }))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    // The review's probe: 500 aliases of the largest drawing of a member's neighbourhood.
    let attack = format!(
        "{{ {} }}",
        (0..500)
            .map(|i| format!(
                "a{i}: neighborhood(id: \"M01\", depth: 3, limit: 5000) {{ nodes {{ id }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, v) = post(attack);
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "TOO_MANY_ROOT_FIELDS",
        "{v}"
    );
    assert!(v.get("data").is_none(), "{v}");
    // Thirty of them pass the root-field limit but not the complexity limit.
    let thirty = format!(
        "{{ {} }}",
        (0..30)
            .map(|i| format!(
                "a{i}: neighborhood(id: \"M01\", depth: 3, limit: 5000) {{ nodes {{ id }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (_, v) = post(thirty);
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v}"
    );
    // One is served.
    let (status, v) =
        post("{ neighborhood(id: \"M01\", depth: 3, limit: 5000) { nodes { id } } }".into());
    assert_eq!(status, 200, "{v}");
    assert!(
        !v["data"]["neighborhood"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Analysts keep the explorer up all day: statistics, reports, a second server, and an ingest
/// and analysis of new data all run beside it on the same store folder, and the server picks
/// up the new analysis by itself.
#[test]
fn the_store_serves_reads_and_a_new_analysis_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let dataset = |name: &str| root().join("fixtures/datasets").join(name);
    run(
        &store,
        &["ingest", dataset("ownership-chain").to_str().unwrap()],
    );
    run(&store, &["analyze"]);
    let tokens = dir.path().join("tokens.toml");
    let mut cmd = bin();
    cmd.arg("--store").arg(&store);
    support::add_token(cmd, &tokens, "ann", "analyst");
    let mut cmd = bin();
    cmd.arg("--store")
        .arg(&store)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--refresh-ms",
            "200",
            "--tokens",
        ])
        .arg(&tokens)
        .arg("--graphiql-dir")
        .arg(root().join("graphiql/dist"));
    let served = start_serving(cmd);
    let client = reqwest::blocking::Client::new();
    let health = |url: &str| -> serde_json::Value {
        client
            .get(format!("{url}/healthz"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(health(&served.url)["groups"], 1);

    let stats = run(&store, &["stats"]);
    assert!(
        String::from_utf8_lossy(&stats.stdout).contains("account"),
        "{}",
        String::from_utf8_lossy(&stats.stdout)
    );
    let out = dir.path().join("report");
    run(
        &store,
        &["report", "--format", "csv", "--out", out.to_str().unwrap()],
    );
    assert!(out.join("groups.csv").is_file());

    // A second server on the same folder.
    let mut cmd = bin();
    cmd.arg("--store")
        .arg(&store)
        .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
        .arg(&tokens)
        .arg("--graphiql-dir")
        .arg(root().join("graphiql/dist"))
        .arg("--audit-log")
        .arg(dir.path().join("second-audit.log"));
    let second = start_serving(cmd);
    assert_eq!(health(&second.url)["groups"], 1);

    // New data and a new analysis while both serve; the first server swaps it in.
    let before = health(&served.url)["analysedAt"].clone();
    run(
        &store,
        &["ingest", dataset("family-and-nominee").to_str().unwrap()],
    );
    let analysed = run(&store, &["analyze"]);
    let text = String::from_utf8_lossy(&analysed.stdout).into_owned();
    let groups: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no group count in {text}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let h = health(&served.url);
        if h["analysedAt"] != before {
            assert_eq!(h["groups"], groups, "{h}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never picked up the new analysis: {h}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
