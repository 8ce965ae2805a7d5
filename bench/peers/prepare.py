"""Inputs of bench/peers.sh from com-Amazon, written under the harness's output folder (never
into the repository): the edge list with dense ids in order of first appearance (what every
side reads), the top-5000 communities in those ids, and for the embedding workload a training
edge list without 2% of the edges plus the labelled pairs (held-out edges and as many non-edges)
that one scorer rates both sides' embeddings on.

    python prepare.py RAW_EDGES RAW_COMMUNITIES OUT_DIR
"""

import os
import sys

import numpy as np


def main():
    raw_edges, raw_truth, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    edges = np.loadtxt(raw_edges, dtype=np.int64, comments="#")
    flat = edges.ravel()
    uniq, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    dense = rank[inverse].reshape(-1, 2)
    n, m = int(uniq.size), int(dense.shape[0])
    write_edges(os.path.join(out, "amazon.txt"), dense)
    lookup = dict(zip(uniq.tolist(), rank.tolist()))
    with open(raw_truth) as f, open(os.path.join(out, "amazon-truth.txt"), "w") as w:
        for line in f:
            ids = [str(lookup[int(x)]) for x in line.split() if int(x) in lookup]
            if ids:
                w.write(" ".join(ids) + "\n")
    # Link prediction: 2% of the edges held out, the same number of node pairs that are not
    # edges as negatives.
    rng = np.random.default_rng(1)
    held = rng.random(m) < 0.02
    write_edges(os.path.join(out, "amazon-train.txt"), dense[~held])
    existing = set(map(tuple, np.sort(dense, axis=1).tolist()))
    negatives = []
    while len(negatives) < int(held.sum()):
        u, v = rng.integers(0, n, size=2).tolist()
        if u != v and (min(u, v), max(u, v)) not in existing:
            negatives.append((u, v))
    with open(os.path.join(out, "amazon-pairs.txt"), "w") as w:
        w.write("".join(f"{u} {v} 1\n" for u, v in dense[held].tolist()))
        w.write("".join(f"{u} {v} 0\n" for u, v in negatives))
    print(f"com-Amazon: {n} nodes, {m} edges, {int(held.sum())} held out")


def write_edges(path, edges):
    with open(path, "w") as w:
        w.write("".join(f"{u} {v}\n" for u, v in edges.tolist()))


if __name__ == "__main__":
    main()
