#!/usr/bin/env bash
# Load test of `ctrlgraph serve` with wrk (Debian): an investor profile, a 2-hop neighbourhood,
# the first page of controlGroups and the first page of the market-wide breach list, at 64 and at
# 1000 connections (QUERIES="profile groups" picks some). Responses are checked for
# GraphQL errors by the wrk script (bench/lua/graphql.lua), not only for status codes.
# Usage: bench/serve.sh STORE [SECONDS]   (STORE: an analysed store, e.g. bench/out/1000000-1/store)
# Needs wrk (apt-get install wrk) and /usr/bin/time. Prints one RESULT line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:?usage: bench/serve.sh STORE [SECONDS]}"
secs="${2:-20}"
command -v wrk >/dev/null || { echo "error: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
cargo build --release --locked
bin=target/release/ctrlgraph
out=bench/out/serve && rm -rf "$out" && mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"  # 1000 connections need more than the usual 1024 descriptors

# Sample ids: accounts of suspected groups and ordinary accounts, half and half.
"$bin" --store "$store" report --format csv --out "$out" >/dev/null
tail -n +2 "$out/groups.csv" | cut -d, -f2 | shuf -n 500 --random-source=<(yes) > "$out/ids.txt"
awk -F, 'NR > 1 && NR % 997 == 0 && n++ < 500 { print $1 }' "$(dirname "$store")/dataset/accounts.csv" >> "$out/ids.txt"

token=$("$bin" token add --tokens "$out/tokens.toml" --name bench --role analyst 2>/dev/null)
/usr/bin/time -v "$bin" --store "$store" serve --tokens "$out/tokens.toml" --listen 127.0.0.1:18080 \
  --audit-log "$out/audit.log" > "$out/serve.txt" 2> "$out/serve.time" &
server=$!
# $server is /usr/bin/time; signal its child, the server, so that time reports the peak RSS.
stop() { pkill -TERM -P "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT
started=$(date +%s.%N)
until grep -q serving "$out/serve.txt" 2>/dev/null; do
  kill -0 $server 2>/dev/null || { cat "$out/serve.time"; exit 1; }
  sleep 0.2
done
echo "startup (load snapshot): $(echo "$(date +%s.%N) - $started" | bc) s; $(cat "$out/serve.txt")"

export GQL_TOKEN="$token" GQL_IDS_FILE="$out/ids.txt"
for q in ${QUERIES:-profile neighborhood groups breaches}; do
  export GQL_QUERY_FILE="bench/queries/$q.graphql"
  for c in 64 1000; do
    GQL_DELAY_MS=0 wrk -t2 -c"$c" -d"${secs}s" --timeout 10s -s bench/lua/graphql.lua http://127.0.0.1:18080 \
      | grep RESULT | sed "s/^/$q c=$c closed-loop /"
  done
  # 1000 open connections, each pausing ~1 s between requests (~1000 requests/s offered).
  GQL_DELAY_MS=1000 wrk -t2 -c1000 -d"${secs}s" --timeout 10s -s bench/lua/graphql.lua http://127.0.0.1:18080 \
    | grep RESULT | sed "s/^/$q c=1000 paced-1s /"
done
stop
echo "server peak RSS: $(awk -F: '/Maximum resident set size/ { printf "%.0f MiB", $2/1024 }' "$out/serve.time")"
echo "audit lines: $(wc -l < "$out/audit.log")"
