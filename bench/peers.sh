#!/usr/bin/env bash
# Side-by-side benchmarks of ctrlgraph's graph algorithms against peer libraries, on the same
# inputs, on this machine:
#   components      com-Amazon and a generated 10M-edge graph    igraph, NetworKit
#   leiden          com-Amazon, CPM 0.05, 2 iterations           igraph, leidenalg, NetworKit PLM
#   fastrp          com-Amazon minus 2% of its edges, 128 dims,  pycleora (same dims, iterations)
#                   4 iterations, link-prediction AUC
#   ingest          `ctrlgraph gen --accounts 100000 --seed 1`   DuckDB read_csv into tables
#   control         100k generated entities, majority control    scipy.sparse (power series),
#                   and look-through                             networkx
#   memory          the edge lists in each library's graph       igraph, NetworKit
# ctrlgraph's side is `cargo run --release -p detectors --example graph_bench` (the detectors'
# own code) and the `ctrlgraph` binary for ingest; the peers run from bench/peers/peer.py in a
# virtual environment of their own, built here from PyPI. Sides alternate (A B A B ...), each
# run under /usr/bin/time -v; the table shows medians of the compute time (load apart), and one
# scorer (bench/peers/score.py) rates every side's communities and embeddings.
#
# Usage: bench/peers.sh [--quick] [--reps N] [--only WORKLOAD,...]
#   --quick   com-Amazon workloads only, one repetition: a smoke check of a few minutes
# Env: CTRLGRAPH_SHARED_DATA (default ../shared/data), CARGO_TARGET_DIR (default target).
# Output: $CARGO_TARGET_DIR/peers/ (results.jsonl, the table in table.md, logs); real data is
# only read from the shared folder, never copied into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

reps=3
quick=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; reps=1 ;;
    --reps) reps="$2"; shift ;;
    --only) only="$2"; shift ;;
    *) echo "usage: bench/peers.sh [--quick] [--reps N] [--only WORKLOAD,...]" >&2; exit 2 ;;
  esac
  shift
done
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

shared="${CTRLGRAPH_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
amazon_raw="$shared/external/snap-com-amazon"
[ -f "$amazon_raw/com-amazon.ungraph.txt" ] && [ -f "$amazon_raw/com-amazon.top5000.cmty.txt" ] || {
  echo "error: com-Amazon not found under $amazon_raw (set CTRLGRAPH_SHARED_DATA)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (Debian: apt-get install time)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 is not installed" >&2; exit 1; }

target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/peers"
venv="$target/venv-peers"
py="$venv/bin/python"
mkdir -p "$out/data" "$out/runs"

# --- peers, from PyPI, pinned ---------------------------------------------------------------
required=(igraph==1.0.0 leidenalg==0.12.0 networkit==11.3 pycleora==3.2.1 duckdb==2.0.1
  scipy==1.17.1 networkx==3.6.1 numpy==2.4.6)
optional=(pecanpy==2.0.9 ladybug==0.22.0)
if [ ! -x "$py" ]; then
  python3 -m venv "$venv" || { echo "error: cannot create a virtual environment at $venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
installed() { "$py" -c "import importlib.metadata as m, sys; n, v = sys.argv[1].split('=='); sys.exit(m.version(n) != v)" "$1" 2>/dev/null; }
for pkg in "${required[@]}"; do
  installed "$pkg" && continue
  "$py" -m pip install --quiet --disable-pip-version-check "$pkg" >&2 \
    || { echo "error: required peer ${pkg%%==*} ($pkg) cannot be installed from PyPI into $venv" >&2; exit 1; }
done
for pkg in "${optional[@]}"; do
  installed "$pkg" && continue
  "$py" -m pip install --quiet --disable-pip-version-check "$pkg" >&2 \
    || echo "warning: optional peer ${pkg%%==*} ($pkg) cannot be installed; it is left out" >&2
done
"$py" -c "import igraph, leidenalg, networkit, pycleora, duckdb, scipy, networkx" \
  || { echo "error: a required peer does not import in $venv" >&2; exit 1; }

# --- ctrlgraph, release ---------------------------------------------------------------------
export CARGO_TARGET_DIR="$target"
cargo build --release --quiet -p detectors --example graph_bench
cargo build --release --quiet -p ctrlgraph
bench="$target/release/examples/graph_bench"
ctrlgraph="$target/release/ctrlgraph"

# --- inputs ---------------------------------------------------------------------------------
data="$out/data"
if [ ! -f "$data/amazon-pairs.txt" ]; then
  "$py" bench/peers/prepare.py "$amazon_raw/com-amazon.ungraph.txt" \
    "$amazon_raw/com-amazon.top5000.cmty.txt" "$data"
fi
printf '0 1\n' > "$data/one-edge.txt"
if [ "$quick" = 0 ]; then
  [ -f "$data/gen10m.txt" ] || "$bench" gen-edges "$data/gen10m.txt" 6000000 10000000 1
  [ -f "$data/ownership.csv" ] || "$bench" gen-ownership "$data/ownership.csv" 100000 80000 7
  [ -f "$data/gen100k/accounts.csv" ] || "$ctrlgraph" gen --accounts 100000 --seed 1 --out "$data/gen100k" >/dev/null
fi

results="$out/results.jsonl"
: > "$results"

# run ROW SIDE REP CMD...: CMD under /usr/bin/time -v; its last JSON line, with the row, the
# repetition, the wall time and the peak RSS, is appended to results.jsonl.
run() {
  local row="$1" side="$2" rep="$3"
  shift 3
  local log="$out/runs/${row//\//_}-$side-$rep"
  if ! /usr/bin/time -v -o "$log.time" "$@" > "$log.out" 2> "$log.err"; then
    echo "error: $row / $side failed; see $log.err" >&2
    tail -5 "$log.err" >&2
    exit 1
  fi
  "$py" - "$row" "$side" "$rep" "$log" >> "$results" <<'EOF'
import json, re, sys
row, side, rep, log = sys.argv[1:5]
lines = [l for l in open(log + ".out") if l.startswith("{")]
rec = json.loads(lines[-1]) if lines else {}
time = open(log + ".time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time).group(1))
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", time)
wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
text = open(log + ".out").read()
ing = re.search(r"(\d+) rows in ([\d.]+)s \((\d+) rows/s\)", text)
if ing:  # ctrlgraph ingest's own summary line
    rec.update(side="ctrlgraph", workload="ingest", rows=int(ing.group(1)),
               compute_s=float(ing.group(2)), load_s=0.0, rows_per_s=int(ing.group(3)))
cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", time).group(1)) for k in ("User", "System"))
rec.update(row=row, side=side, rep=int(rep), wall_s=round(wall, 3), cpu_s=round(cpu, 3),
           max_rss_kib=rss)
print(json.dumps(rec))
EOF
  echo "  $row  $side  rep $rep: $(tail -1 "$results" | cut -c1-160)" >&2
}

# score ROW SIDE REP KIND FILE REFERENCE: the shared scorer's figures, merged into the row.
score() {
  "$py" bench/peers/score.py "$4" "$5" "$6" | "$py" -c "
import json, sys
fig = json.loads(sys.stdin.read()); fig.update(row='$1', side='$2', rep=int('$3'), scored=True)
print(json.dumps(fig))" >> "$results"
}

a="$data/amazon.txt"
for rep in $(seq 1 "$reps"); do
  echo "repetition $rep of $reps" >&2
  if wanted components; then
    run components/amazon ctrlgraph "$rep" "$bench" components "$a"
    run components/amazon igraph "$rep" "$py" bench/peers/peer.py components igraph "$a"
    run components/amazon networkit "$rep" "$py" bench/peers/peer.py components networkit "$a"
    if [ "$quick" = 0 ]; then
      g="$data/gen10m.txt"
      run components/gen10m ctrlgraph "$rep" "$bench" components "$g"
      run components/gen10m igraph "$rep" "$py" bench/peers/peer.py components igraph "$g"
      run components/gen10m networkit "$rep" "$py" bench/peers/peer.py components networkit "$g"
    fi
  fi
  if wanted leiden; then
    t="$data/amazon-truth.txt"
    run leiden/amazon ctrlgraph "$rep" "$bench" leiden "$a" --truth "$t" --out "$out/labels-ctrlgraph.txt"
    score leiden/amazon ctrlgraph "$rep" f1 "$out/labels-ctrlgraph.txt" "$t"
    for peer in igraph leidenalg networkit; do
      run leiden/amazon "$peer" "$rep" "$py" bench/peers/peer.py leiden "$peer" "$a" "$out/labels-$peer.txt"
      score leiden/amazon "$peer" "$rep" f1 "$out/labels-$peer.txt" "$t"
    done
  fi
  if wanted fastrp; then
    tr="$data/amazon-train.txt"
    pairs="$data/amazon-pairs.txt"
    run fastrp/amazon ctrlgraph "$rep" "$bench" fastrp "$tr" --dim 128 --iterations 4 --pairs "$pairs" --out "$out/emb-ctrlgraph.bin"
    score fastrp/amazon ctrlgraph "$rep" auc "$out/emb-ctrlgraph.bin" "$pairs"
    run fastrp/amazon pycleora "$rep" "$py" bench/peers/peer.py fastrp pycleora "$tr" "$out/emb-pycleora.bin"
    score fastrp/amazon pycleora "$rep" auc "$out/emb-pycleora.bin" "$pairs"
  fi
  if [ "$quick" = 0 ] && wanted ingest; then
    rm -rf "$out/store-ctrlgraph"
    run ingest/gen100k ctrlgraph "$rep" env CTRLGRAPH_STORE="$out/store-ctrlgraph" "$ctrlgraph" ingest "$data/gen100k"
    run ingest/gen100k duckdb "$rep" "$py" bench/peers/peer.py ingest duckdb "$data/gen100k" "$out/duckdb.db"
  fi
  if [ "$quick" = 0 ] && wanted control; then
    o="$data/ownership.csv"
    run control/100k ctrlgraph "$rep" "$bench" control "$o"
    run control/100k scipy "$rep" "$py" bench/peers/peer.py control scipy "$o"
    run control/100k networkx "$rep" "$py" bench/peers/peer.py control networkx "$o"
  fi
  if wanted memory; then
    # Memory hardly varies between runs: the 10M-edge graph is measured in the first
    # repetition only.
    inputs=(amazon:"$a")
    if [ "$quick" = 0 ] && [ "$rep" = 1 ]; then inputs+=(gen10m:"$data/gen10m.txt"); fi
    for input in "${inputs[@]}" baseline:"$data/one-edge.txt"; do
      name="${input%%:*}" file="${input#*:}"
      run "memory/$name" ctrlgraph "$rep" "$bench" graph "$file"
      run "memory/$name" igraph "$rep" "$py" bench/peers/peer.py graph igraph "$file"
      run "memory/$name" networkit "$rep" "$py" bench/peers/peer.py graph networkit "$file"
    done
  fi
done

"$py" bench/peers/table.py "$results" | tee "$out/table.md"
