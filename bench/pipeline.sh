#!/usr/bin/env bash
# Measures the pipeline on a generated dataset with /usr/bin/time -v: generation, ingest (rows/s
# overall and per file, peak RSS, store size on disk) and analysis (per-stage times, peak RSS).
# Usage: bench/pipeline.sh [ACCOUNTS] [SEED]   (default 1000000 accounts, seed 1)
#        TAPES=1 bench/pipeline.sh ...           (also the surveillance tapes: positions, orders,
#                                                 limits, calendar; the analysis checks them)
# Writes its figures to bench/out/ACCOUNTS-SEED/ and prints a summary for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-1000000}"
seed="${2:-1}"
out="bench/out/${accounts}-${seed}"
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
cargo build --release --locked
bin=target/release/ctrlgraph
rm -rf "$out" && mkdir -p "$out"
export CTRLGRAPH_STORE="$out/store"

peak() { awk -F: '/Maximum resident set size/ { printf "%.0f MiB", $2/1024 }' "$1"; }
wall() { awk '/Elapsed \(wall clock\)/ { print $NF }' "$1"; }

/usr/bin/time -v "$bin" gen --accounts "$accounts" --seed "$seed" ${TAPES:+--tapes} --out "$out/dataset" \
  > "$out/gen.txt" 2> "$out/gen.time"
/usr/bin/time -v "$bin" ingest "$out/dataset" > "$out/ingest.txt" 2> "$out/ingest.time"
/usr/bin/time -v "$bin" analyze > "$out/analyze.txt" 2> "$out/analyze.time"
"$bin" eval --truth "$out/dataset/truth.csv" > "$out/eval.txt"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -srm)"
echo "date: $(date -u +%Y-%m-%d)"
echo "dataset: $accounts accounts, seed $seed, $(du -sh "$out/dataset" | cut -f1) of CSV"
echo "gen:     wall $(wall "$out/gen.time"), peak RSS $(peak "$out/gen.time")"
echo "ingest:  wall $(wall "$out/ingest.time"), peak RSS $(peak "$out/ingest.time"), store $(du -sh "$out/store" | cut -f1)"
cat "$out/ingest.txt"
echo "analyze: wall $(wall "$out/analyze.time"), peak RSS $(peak "$out/analyze.time")"
cat "$out/analyze.txt"
cat "$out/eval.txt"
