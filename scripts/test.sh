#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, and the whole test suite.
# Needs the shared external data (CTRLGRAPH_SHARED_DATA, default ../shared/data); fails loudly
# when it is absent rather than skipping the tests that use it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CTRLGRAPH_SHARED_DATA="${CTRLGRAPH_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
if [ ! -d "$CTRLGRAPH_SHARED_DATA/external" ]; then
  echo "error: the shared external data is absent: no external/ folder in $CTRLGRAPH_SHARED_DATA" >&2
  echo "       (set CTRLGRAPH_SHARED_DATA to the folder that holds external/)" >&2
  exit 1
fi
command -v cargo >/dev/null || { echo "error: cargo is not installed (https://rustup.rs)" >&2; exit 1; }

echo "== GraphiQL explorer (npm)"
scripts/build-graphiql.sh
echo "== browser and CJK font for the report rendering test"
scripts/ensure-browser.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
# One closing line over all test binaries, for whoever reads the log.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "workspace: %d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt

# The investigation page, end to end in headless Chromium against `ctrlgraph serve`.
echo "== web end-to-end"
scripts/web-e2e.sh
