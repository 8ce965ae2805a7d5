"""The table of bench/peers.sh: medians per workload and side, the ratio of each peer's median
to ctrlgraph's, the quality each side reached, and the checks that both computed the same thing.

    python table.py RESULTS.jsonl
"""

import json
import statistics
import sys
from collections import defaultdict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    runs = defaultdict(list)
    scored = defaultdict(list)
    for line in open(sys.argv[1]):
        rec = json.loads(line)
        (scored if rec.get("scored") else runs)[(rec["row"], rec["side"])].append(rec)

    def med(row, side, key):
        return median([r.get(key) for r in runs.get((row, side), [])])

    def med_scored(row, side, key):
        return median([r.get(key) for r in scored.get((row, side), [])])

    rows = []
    for row in dict.fromkeys(r for r, _ in runs):
        sides = [s for r, s in runs if r == row]
        rows.append((row, sides))

    checks = []
    out = []
    out.append("| workload | side | runs | load s | compute s | ratio | process CPU s | peak RSS MiB | result |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    base = {side: runs.get(("memory/baseline", side), []) for side in ("ctrlgraph", "igraph", "networkit")}
    for row, sides in rows:
        if row == "memory/baseline":
            continue
        family = row.split("/")[0]
        ref = None
        for side in sides:
            n = len(runs[(row, side)])
            load, compute = med(row, side, "load_s"), med(row, side, "compute_s")
            rss = med(row, side, "max_rss_kib")
            if family == "ingest":
                rate = med(row, side, "rows_per_s")
                result = f"{rate:,.0f} rows/s ({med(row, side, 'rows'):,.0f} rows)"
                metric = rate
            elif family == "memory":
                edges = med(row, side, "edges")
                b_peak = median([r["max_rss_kib"] for r in base.get(side, [])]) or 0
                b_rss = median([r["rss_kib"] for r in base.get(side, [])]) or 0
                peak = (rss - b_peak) * 1024 / edges
                steady = (med(row, side, "rss_kib") - b_rss) * 1024 / edges
                result = f"{peak:.1f} B/edge at peak, {steady:.1f} B/edge resident after load"
                if side == "ctrlgraph":
                    result += f" (graph's own count {med(row, side, 'graph_bytes_per_edge'):.1f})"
                metric = peak
            else:
                metric = compute
                if family == "components":
                    k = med(row, side, "components")
                    result = f"{k:,.0f} component{'' if k == 1 else 's'}"
                elif family == "leiden":
                    f1 = med_scored(row, side, "best_f1")
                    result = (f"best F1 {f1:.4f}, {med_scored(row, side, 'matched_jaccard_0_5'):.3f} "
                              f"matched, {med(row, side, 'communities'):,.0f} communities "
                              f"({runs[(row, side)][0].get('quality')})")
                elif family == "fastrp":
                    result = f"AUC {med_scored(row, side, 'auc'):.4f}"
                elif family == "control":
                    result = (f"{med(row, side, 'control_links'):,.0f} control links, "
                              f"{med(row, side, 'stakes'):,.0f} stakes, sum {med(row, side, 'stake_sum'):,.3f}")
                else:
                    result = ""
            if side == "ctrlgraph":
                ref = metric
                ratio = "1"
            elif ref and metric:
                # Speed: the peer's time over ctrlgraph's; ingest: ctrlgraph's rate over the
                # peer's; memory: ctrlgraph's bytes over the peer's. Above 1: ctrlgraph ahead.
                if family == "ingest":
                    ratio = f"{ref / metric:.2f}"
                elif family == "memory":
                    ratio = f"{metric / ref:.2f}"
                else:
                    ratio = f"{metric / ref:.2f}"
            else:
                ratio = "—"
            fmt = lambda x: "—" if x is None else f"{x:.3f}"
            cpu = med(row, side, "cpu_s")
            out.append(f"| {row} | {side} | {n} | {fmt(load)} | {fmt(compute)} | {ratio} | "
                       f"{fmt(cpu)} | {rss / 1024:,.0f} | {result} |")

        # Did every side compute the same thing?
        if family == "components":
            counts = {s: {r["components"] for r in runs[(row, s)]} for s in sides}
            same = len(set().union(*counts.values())) == 1
            checks.append(f"{row}: component counts {'equal' if same else 'DIFFER'}: {counts}")
        elif family == "control":
            figs = {s: (med(row, s, "control_links"), med(row, s, "stakes"), med(row, s, "stake_sum"))
                    for s in sides}
            c = figs["ctrlgraph"]
            for s, f in figs.items():
                ok = f[0] == c[0] and f[1] == c[1] and abs(f[2] - c[2]) <= 1e-6 * max(1.0, c[2])
                checks.append(f"{row}: {s} links/stakes/sum {f} {'equal' if ok else 'DIFFER from ctrlgraph'}")
        elif family in ("leiden", "fastrp"):
            key = "best_f1" if family == "leiden" else "auc"
            own = med(row, "ctrlgraph", key)
            shared = med_scored(row, "ctrlgraph", key)
            if own is not None and shared is not None:
                ok = abs(own - shared) <= 2e-4
                checks.append(f"{row}: ctrlgraph's own {key} {own:.4f}, shared scorer {shared:.4f}: "
                              f"{'agree' if ok else 'DISAGREE'}")
    print("\n".join(out))
    print()
    print("Ratio: a peer's median over ctrlgraph's (compute time; ingest: ctrlgraph's rows/s over "
          "the peer's; memory: the peer's bytes per edge at peak over ctrlgraph's); above 1, "
          "ctrlgraph is ahead.")
    print()
    for c in checks:
        print(f"- {c}")


if __name__ == "__main__":
    main()
