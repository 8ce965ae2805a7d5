"""The one scorer of bench/peers.sh, applied to every side's output alike.

    python score.py f1 LABELS TRUTH     communities: mean best F1 over the ground-truth ones
    python score.py auc EMB PAIRS       embeddings: link-prediction AUC of cosine scores

LABELS has `node community` lines; TRUTH one community per line (the harness's dense ids). EMB
is little-endian f32 rows with the node id of each row as little-endian u64 in EMB.ids; PAIRS
has `u v 1|0` lines (held-out edge or non-edge). A node without an embedding scores 0.
"""

import json
import sys
from collections import Counter

import numpy as np


def best_f1(labels_path, truth_path):
    label = {}
    with open(labels_path) as f:
        for line in f:
            node, c = line.split()
            label[int(node)] = int(c)
    size = Counter(label.values())
    f1s, matched = [], 0
    with open(truth_path) as f:
        for line in f:
            members = [int(x) for x in line.split()]
            overlap = Counter(label[m] for m in members)
            s = len(members)
            f1s.append(max(2 * o / (s + size[c]) for c, o in overlap.items()))
            if max(o / (s + size[c] - o) for c, o in overlap.items()) >= 0.5:
                matched += 1
    return {"best_f1": round(float(np.mean(f1s)), 4),
            "matched_jaccard_0_5": round(matched / len(f1s), 4)}


def auc(emb_path, pairs_path):
    ids = np.fromfile(emb_path + ".ids", dtype="<u8")
    rows = np.fromfile(emb_path, dtype="<f4").reshape(ids.size, -1).astype(np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    index = np.full(int(ids.max()) + 2, -1, dtype=np.int64)
    index[ids.astype(np.int64)] = np.arange(ids.size)
    pairs = np.loadtxt(pairs_path, dtype=np.int64)
    u = index[np.minimum(pairs[:, 0], index.size - 1)]
    v = index[np.minimum(pairs[:, 1], index.size - 1)]
    ok = (u >= 0) & (v >= 0)
    scores = np.zeros(len(pairs))
    scores[ok] = np.einsum("ij,ij->i", rows[u[ok]], rows[v[ok]])
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    pos = pairs[:, 2] == 1
    p, q = int(pos.sum()), int((~pos).sum())
    value = (ranks[pos].sum() - p * (p + 1) / 2) / (p * q)
    return {"auc": round(float(value), 4), "pairs": int(len(pairs))}


def main():
    kind = sys.argv[1]
    if kind == "f1":
        print(json.dumps(best_f1(sys.argv[2], sys.argv[3])))
    elif kind == "auc":
        print(json.dumps(auc(sys.argv[2], sys.argv[3])))
    else:
        raise SystemExit("usage: score.py f1 LABELS TRUTH | auc EMB PAIRS")


if __name__ == "__main__":
    main()
