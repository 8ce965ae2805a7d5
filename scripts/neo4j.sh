#!/usr/bin/env bash
# A real Neo4j 5.26 Community server on 127.0.0.1 for the tests and benchmarks, started through
# the small launcher in neo4j-launcher/ (embedded DBMS with the Bolt connector, authentication on).
#
#   scripts/neo4j.sh build            fetch the Neo4j jars from Maven Central and build the launcher
#   scripts/neo4j.sh start DIR [PW]   start a server whose data, log and pid live in DIR; prints its
#                                     bolt:// URI once it accepts connections
#   scripts/neo4j.sh stop DIR         stop it (SIGTERM, then SIGKILL after 60 s)
#   scripts/neo4j.sh classpath        the launcher's Java classpath (for tests that start their own)
#
# Needs java (17+) and mvn; fails with a message naming what is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
launcher="$root/neo4j-launcher"
cp="$launcher/target/classes:$launcher/target/lib/*"

need() {
  command -v "$1" >/dev/null || {
    echo "error: $1 is not installed; the Neo4j tests need it ($2)" >&2
    echo "       (set CTRLGRAPH_SKIP_NEO4J=1 to skip the Neo4j tests explicitly)" >&2
    exit 1
  }
}

build() {
  need java "a Java 17 runtime, e.g. apt-get install openjdk-17-jdk-headless"
  need mvn "Maven, e.g. apt-get install maven"
  local stamp="$launcher/target/.built"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$launcher/pom.xml" ] &&
     [ -z "$(find "$launcher/src" -newer "$stamp" -print -quit)" ]; then
    return 0
  fi
  echo "== building the Neo4j launcher (fetches Neo4j 5.26 from Maven Central on first use)" >&2
  local t0=$SECONDS
  if ! (cd "$launcher" && mvn -q -B package >"$launcher/mvn.log" 2>&1); then
    echo "error: building the Neo4j launcher failed (Maven Central unreachable or a download failed?)" >&2
    tail -30 "$launcher/mvn.log" >&2
    exit 1
  fi
  touch "$stamp"
  echo "== launcher built in $((SECONDS - t0)) s" >&2
}

start() {
  local dir="$1" pw="${2:-ctrlgraph-test}"
  build
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "error: a Neo4j launched from $dir is already running (pid $(cat "$dir/pid"))" >&2
    exit 1
  fi
  : >"$dir/neo4j.out"
  nohup java -Xms256m -Xmx${CTRLGRAPH_NEO4J_HEAP:-1g} -cp "$cp" org.ctrlgraph.neo4j.Launcher \
    --home "$dir/home" --password "$pw" --pagecache "${CTRLGRAPH_NEO4J_PAGECACHE_MB:-512}" \
    >"$dir/neo4j.out" 2>"$dir/neo4j.err" </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 180); do
    if grep -q '^NEO4J_READY ' "$dir/neo4j.out"; then
      sed -n 's/^NEO4J_READY //p' "$dir/neo4j.out" | tee "$dir/uri"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "error: Neo4j exited before it was ready; its log:" >&2
      tail -40 "$dir/neo4j.err" >&2
      exit 1
    fi
    sleep 1
  done
  echo "error: Neo4j did not become ready within 180 s; its log:" >&2
  tail -40 "$dir/neo4j.err" >&2
  exit 1
}

stop() {
  local dir="$1"
  [ -f "$dir/pid" ] || return 0
  local pid; pid="$(cat "$dir/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/pid"
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?usage: neo4j.sh start DIR [PASSWORD]}" "${3:-}" ;;
  stop) stop "${2:?usage: neo4j.sh stop DIR}" ;;
  classpath) echo "$cp" ;;
  *) echo "usage: scripts/neo4j.sh build | start DIR [PASSWORD] | stop DIR | classpath" >&2; exit 2 ;;
esac
