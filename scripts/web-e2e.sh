#!/usr/bin/env bash
# End-to-end tests of the investigation page: builds the web app (npm ci + vite), makes sure
# Debian's Chromium is installed, builds the ctrlgraph binary, then runs web/e2e/ (node --test,
# playwright-core) against `ctrlgraph serve` on fixture data. Screenshots and server logs go to
# target/test-artefacts/web/. Fails loudly when npm, node or Chromium are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

command -v node >/dev/null || { echo "error: node is not installed (Debian: apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is not installed (Debian: apt-get install npm)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "error: node $(node --version) is too old; the web build needs node >= 20.19" >&2; exit 1; }

echo "== web: npm ci && npm run build"
(cd web && npm ci --no-audit --no-fund && npm run build)

echo "== web: browser"
scripts/ensure-browser.sh

echo "== web: ctrlgraph binary"
# The binary the workspace's tests use: after `cargo test --workspace` this builds nothing, while
# `cargo build --bin ctrlgraph` alone resolves features differently and rebuilds dependencies.
cargo test --workspace --locked --no-run
target_dir="${CARGO_TARGET_DIR:-$root/target}"
export CTRLGRAPH_BIN="$target_dir/debug/ctrlgraph"
export CTRLGRAPH_ARTEFACTS="$root/target/test-artefacts/web"
rm -rf "$CTRLGRAPH_ARTEFACTS" && mkdir -p "$CTRLGRAPH_ARTEFACTS"

echo "== web: end-to-end tests"
(cd web && npm run e2e)
echo "web: screenshots in $CTRLGRAPH_ARTEFACTS"
