#!/usr/bin/env bash
# Ingest rows/s into Neo4j and projection load time (Neo4j → in-memory graph), beside the
# embedded store, on a generated dataset. Starts its own Neo4j 5.26 (scripts/neo4j.sh) and stops it.
# Usage: bench/neo4j.sh [ACCOUNTS] [SEED]   (default 100000 accounts, seed 1)
# Figures land in bench/out/neo4j-ACCOUNTS-SEED/; a summary for BENCHMARKS.md is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-100000}"
seed="${2:-1}"
out="bench/out/neo4j-${accounts}-${seed}"
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
cargo build --release --locked
bin="${CARGO_TARGET_DIR:-target}/release/ctrlgraph"
rm -rf "$out" && mkdir -p "$out"

export CTRLGRAPH_NEO4J_HEAP="${CTRLGRAPH_NEO4J_HEAP:-4g}" CTRLGRAPH_NEO4J_PAGECACHE_MB="${CTRLGRAPH_NEO4J_PAGECACHE_MB:-2048}"
export CTRLGRAPH_NEO4J_PASSWORD="bench-$RANDOM-$RANDOM"
trap 'scripts/neo4j.sh stop "$out/server"' EXIT
uri="$(scripts/neo4j.sh start "$out/server" "$CTRLGRAPH_NEO4J_PASSWORD")"

peak() { awk -F: '/Maximum resident set size/ { printf "%.0f MiB", $2/1024 }' "$1"; }
wall() { awk '/Elapsed \(wall clock\)/ { print $NF }' "$1"; }

"$bin" gen --accounts "$accounts" --seed "$seed" --out "$out/dataset" > "$out/gen.txt"
for s in embedded neo4j; do
  store="$out/store"; [ "$s" = neo4j ] && store="$uri"
  /usr/bin/time -v "$bin" --store "$store" ingest "$out/dataset" --rejects-dir "$out/$s-run" \
    > "$out/$s-ingest.txt" 2> "$out/$s-ingest.time"
  /usr/bin/time -v "$bin" --store "$store" analyze > "$out/$s-analyze.txt" 2> "$out/$s-analyze.time"
  "$bin" --store "$store" report --out "$out/$s-report" > /dev/null
done
cmp -s "$out/embedded-report/groups.csv" "$out/neo4j-report/groups.csv" \
  && same="identical" || same="DIFFERENT"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -srm); Neo4j heap $CTRLGRAPH_NEO4J_HEAP, page cache ${CTRLGRAPH_NEO4J_PAGECACHE_MB} MiB"
echo "date: $(date -u +%Y-%m-%d)"
echo "dataset: $accounts accounts, seed $seed, $(du -sh "$out/dataset" | cut -f1) of CSV"
for s in embedded neo4j; do
  echo "== $s"
  echo "ingest:  wall $(wall "$out/$s-ingest.time"), peak RSS $(peak "$out/$s-ingest.time")"
  tail -2 "$out/$s-ingest.txt"
  echo "analyze: wall $(wall "$out/$s-analyze.time"), peak RSS $(peak "$out/$s-analyze.time")"
  grep -E 'load graph|load trades|store|total' "$out/$s-analyze.txt"
done
echo "Neo4j store on disk: $(du -sh "$out/server/home" | cut -f1)"
echo "groups.csv through either store: $same"
