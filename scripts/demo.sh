#!/usr/bin/env bash
# The demo: generate a realistic dataset with planted control groups, ingest it, analyse it,
# evaluate against the planted truth, write reports, and print graph statistics.
# Usage: scripts/demo.sh [ACCOUNTS] (default 20000). Output goes to ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
cargo build --release --locked
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
"$bin" report --format csv --out demo/report
echo "reports in demo/report; store in demo/store"
