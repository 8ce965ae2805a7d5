#!/usr/bin/env bash
# The demo: generate a realistic dataset with planted control groups, ingest it, analyse it,
# evaluate against the planted truth, write reports, print graph statistics, then serve the
# GraphQL API, the GraphiQL explorer and the investigation page until Ctrl-C.
# Usage: scripts/demo.sh [ACCOUNTS] (default 20000). Output goes to ./demo/.
# CTRLGRAPH_LISTEN (default 127.0.0.1:8080) sets where it serves; DEMO_NO_SERVE=1 stops before.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
cargo build --release --locked
scripts/build-graphiql.sh
# The investigation page (served by `ctrlgraph serve` at /), built from npm packages.
command -v npm >/dev/null || { echo "error: npm is not installed (Debian: apt-get install nodejs npm)" >&2; exit 1; }
(cd web && npm ci --no-audit --no-fund && npm run build)
bin=target/release/ctrlgraph
rm -rf demo && mkdir -p demo
export CTRLGRAPH_STORE=demo/store
"$bin" gen --accounts "$accounts" --seed 42 --out demo/dataset
"$bin" ingest demo/dataset
"$bin" stats
"$bin" analyze
"$bin" eval --truth demo/dataset/truth.csv
"$bin" report --format html,xlsx,csv,json --out demo/report
"$bin" report --format html --lang zh --out demo/report-zh
echo "reports in demo/report (Chinese HTML in demo/report-zh); store in demo/store"
[ "${DEMO_NO_SERVE:-}" = 1 ] && exit 0
for role in viewer analyst admin; do
  token=$("$bin" token add --tokens demo/tokens.toml --name "demo-$role" --role "$role" 2>/dev/null)
  echo "$role token: $token"
done
echo "Investigation page: http://${CTRLGRAPH_LISTEN:-127.0.0.1:8080}/  (sign in with a token above)"
echo "GraphiQL: http://${CTRLGRAPH_LISTEN:-127.0.0.1:8080}/graphiql/?token=<token>  (or put {\"Authorization\": \"Bearer <token>\"} in its headers)"
exec "$bin" serve --tokens demo/tokens.toml
