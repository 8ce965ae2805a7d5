#!/usr/bin/env bash
# Times `ctrlgraph report` (HTML, XLSX, CSV and JSON, each alone, then all four in Chinese) on an
# analysed store, under /usr/bin/time -v. Usage: bench/report.sh STORE [OUT]
# Make the store with bench/pipeline.sh, or: ctrlgraph gen --accounts 1000000 --seed 1 --out D;
# ctrlgraph --store S ingest D; ctrlgraph --store S analyze  (about 10,500 groups).
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:?usage: bench/report.sh STORE [OUT]}"
out="${2:-bench/out/report}"
mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --quiet
bin="$CARGO_TARGET_DIR/release/ctrlgraph"
for fmt in html xlsx csv json; do
  /usr/bin/time -v "$bin" --store "$store" --progress false report --format "$fmt" --out "$out/$fmt" \
    > "$out/$fmt.stdout" 2> "$out/$fmt.time"
  printf '%-5s wall %s, peak RSS %s KiB, %s\n' "$fmt" \
    "$(grep 'Elapsed (wall' "$out/$fmt.time" | awk '{print $NF}')" \
    "$(grep 'Maximum resident' "$out/$fmt.time" | awk '{print $NF}')" \
    "$(head -1 "$out/$fmt.stdout")"
done
/usr/bin/time -v "$bin" --store "$store" --progress false report --format html,xlsx,csv,json --lang zh \
  --out "$out/all-zh" > "$out/all.stdout" 2> "$out/all.time"
printf '%-5s wall %s, peak RSS %s KiB, %s\n' "all" \
  "$(grep 'Elapsed (wall' "$out/all.time" | awk '{print $NF}')" \
  "$(grep 'Maximum resident' "$out/all.time" | awk '{print $NF}')" \
  "$(head -1 "$out/all.stdout")"
ls -l "$out"/*/report.* "$out"/csv/*.csv
