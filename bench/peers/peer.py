"""One peer library on one workload of bench/peers.sh, timed: prints one JSON line with the load
time (file to the library's graph) and the compute time apart, the process's memory, and the
result summary that the harness compares with ctrlgraph's.

    python peer.py WORKLOAD LIBRARY INPUT [OUT]

WORKLOAD is components, leiden, fastrp, graph, control or ingest; LIBRARY one of the peers the
workload names below. Edge lists are the harness's dense files: `u v` per line, ids 0..n-1, each
undirected edge once.
"""

import json
import os
import sys
import time


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def emit(side, workload, nodes, edges, load, compute, **extra):
    out = {
        "side": side,
        "workload": workload,
        "nodes": nodes,
        "edges": edges,
        "load_s": round(load, 4),
        "compute_s": round(compute, 4),
        "peak_rss_kib": status_kib("VmHWM:"),
        "rss_kib": status_kib("VmRSS:"),
    }
    out.update(extra)
    print(json.dumps(out), flush=True)


def write_labels(path, labels):
    with open(path, "w") as f:
        f.write("".join(f"{i} {c}\n" for i, c in enumerate(labels)))


def networkit():
    """NetworKit with every core the machine gives (it starts with one here)."""
    import networkit as nk

    nk.setNumberOfThreads(nk.getMaxNumberOfThreads())
    return nk


def components(lib, path):
    if lib == "igraph":
        import igraph as ig

        t = time.perf_counter()
        g = ig.Graph.Read_Edgelist(path, directed=False)
        load = time.perf_counter() - t
        t = time.perf_counter()
        k = len(g.connected_components())
        compute = time.perf_counter() - t
        emit(lib, "components", g.vcount(), g.ecount(), load, compute, components=k)
    elif lib == "networkit":
        nk = networkit()

        t = time.perf_counter()
        g = nk.readGraph(path, nk.Format.EdgeListSpaceZero)
        load = time.perf_counter() - t
        t = time.perf_counter()
        cc = nk.components.ConnectedComponents(g)
        cc.run()
        k = cc.numberOfComponents()
        compute = time.perf_counter() - t
        emit(lib, "components", g.numberOfNodes(), g.numberOfEdges(), load, compute,
             components=k, threads=nk.getCurrentNumberOfThreads())
    else:
        raise SystemExit(f"components: unknown peer {lib}")


def leiden(lib, path, out):
    import igraph as ig

    if lib in ("igraph", "leidenalg"):
        t = time.perf_counter()
        g = ig.Graph.Read_Edgelist(path, directed=False)
        load = time.perf_counter() - t
        t = time.perf_counter()
        if lib == "igraph":
            part = g.community_leiden(objective_function="CPM", resolution=0.05, n_iterations=2)
        else:
            import leidenalg as la

            part = la.find_partition(g, la.CPMVertexPartition, resolution_parameter=0.05,
                                     n_iterations=2, seed=0)
        labels = part.membership
        compute = time.perf_counter() - t
        n, m = g.vcount(), g.ecount()
        extra = {"quality": "cpm", "resolution": 0.05, "iterations": 2}
    elif lib == "networkit":
        nk = networkit()

        t = time.perf_counter()
        g = nk.readGraph(path, nk.Format.EdgeListSpaceZero)
        load = time.perf_counter() - t
        t = time.perf_counter()
        plm = nk.community.PLM(g, refine=True, gamma=1.0)
        plm.run()
        labels = plm.getPartition().getVector()
        compute = time.perf_counter() - t
        n, m = g.numberOfNodes(), g.numberOfEdges()
        extra = {"quality": "modularity", "resolution": 1.0,
                 "threads": nk.getCurrentNumberOfThreads()}
    else:
        raise SystemExit(f"leiden: unknown peer {lib}")
    write_labels(out, labels)
    emit(lib, "leiden", n, m, load, compute, communities=len(set(labels)), **extra)


def fastrp(lib, path, out):
    import numpy as np

    if lib != "pycleora":
        raise SystemExit(f"fastrp: unknown peer {lib}")
    import pycleora

    t = time.perf_counter()
    # Each line is one hyperedge of two nodes; reflexive adds each node's own row, as Cleora's
    # documentation configures homogeneous graphs.
    g = pycleora.SparseMatrix.from_files([path], "complex::reflexive::node")
    load = time.perf_counter() - t
    t = time.perf_counter()
    emb = pycleora.embed(g, feature_dim=128, num_iterations=4, whiten=False)
    compute = time.perf_counter() - t
    ids = np.array([int(x) for x in g.entity_ids], dtype="<u8")
    ids.tofile(out + ".ids")
    np.ascontiguousarray(emb, dtype="<f4").tofile(out)
    emit(lib, "fastrp", g.num_entities, g.num_edges, load, compute, dim=int(emb.shape[1]),
         iterations=4, embedded=int(emb.shape[0]))


def graph(lib, path):
    """The edge list in the library's graph, for its memory."""
    if lib == "igraph":
        import igraph as ig

        t = time.perf_counter()
        g = ig.Graph.Read_Edgelist(path, directed=False)
        n, m = g.vcount(), g.ecount()
    elif lib == "networkit":
        nk = networkit()

        t = time.perf_counter()
        g = nk.readGraph(path, nk.Format.EdgeListSpaceZero)
        n, m = g.numberOfNodes(), g.numberOfEdges()
    else:
        raise SystemExit(f"graph: unknown peer {lib}")
    emit(lib, "graph", n, m, time.perf_counter() - t, 0.0)


def read_holdings(path):
    """`owner,entity,pct` rows as index arrays; ids starting with P are persons."""
    import numpy as np

    owners, entities, pcts = [], [], []
    with open(path) as f:
        next(f)
        for line in f:
            o, e, p = line.rstrip("\n").split(",")
            owners.append(o)
            entities.append(e)
            pcts.append(float(p))
    index = {}
    for x in owners + entities:
        if x not in index:
            index[x] = len(index)
    o = np.fromiter((index[x] for x in owners), dtype=np.int64, count=len(owners))
    e = np.fromiter((index[x] for x in entities), dtype=np.int64, count=len(entities))
    names = [None] * len(index)
    for k, v in index.items():
        names[v] = k
    return names, o, e, np.array(pcts)


MAJORITY = 50.0 + 1e-3  # the product's majority: strictly above 50%, with its float tolerance


def control_scipy(path):
    import numpy as np
    import scipy.sparse as sp

    t = time.perf_counter()
    names, o, e, p = read_holdings(path)
    n = len(names)
    w = sp.csr_matrix((p / 100.0, (o, e)), shape=(n, n))
    w.sum_duplicates()
    load = time.perf_counter() - t

    t = time.perf_counter()
    # Majority control as a fixed point: C[x, z] when the stakes in z of x and of what x
    # controls exceed the majority; (I + C) @ W sums them.
    eye = sp.identity(n, format="csr")
    c = sp.csr_matrix((n, n))
    while True:
        g = ((eye + c) > 0).astype(np.float64)
        s = (g @ w).tocsr()
        s.data = (s.data * 100.0 > MAJORITY).astype(np.float64)
        s.eliminate_zeros()
        s.setdiag(0)
        s.eliminate_zeros()
        if s.nnz == c.nnz and (s != c).nnz == 0:
            break
        c = s
    links = c.nnz
    # Look-through: the series W + W^2 + ... by powers, until a power's largest entry is below
    # the product's tolerance; then walks back to the owner removed (Vitali et al. 2011):
    # divide row i by 1 + S[i, i].
    total = w.copy()
    power = w.copy()
    while power.nnz and power.data.max() >= 1e-10:
        power = (power @ w).tocsr()
        power.data[power.data < 1e-14] = 0
        power.eliminate_zeros()
        total = total + power
    closed = total.diagonal()
    total = sp.diags(1.0 / (1.0 + closed)) @ total
    total = total.tocsr()
    total.setdiag(0)
    total.eliminate_zeros()
    pct = np.minimum(total.data * 100.0, 100.0)
    pct = pct[pct > 1e-6]
    compute = time.perf_counter() - t
    persons = sum(1 for x in names if x.startswith("P"))
    emit("scipy", "control", n, int(w.nnz), load, compute, entities=n - persons, persons=persons,
         control_links=int(links), stakes=int(pct.size), stake_sum=round(float(pct.sum()), 6))


def control_networkx(path):
    import networkx as nx

    t = time.perf_counter()
    names, o, e, p = read_holdings(path)
    g = nx.DiGraph()
    g.add_nodes_from(range(len(names)))
    for a, b, pct in zip(o.tolist(), e.tolist(), p.tolist()):
        if g.has_edge(a, b):
            g[a][b]["pct"] += pct
        else:
            g.add_edge(a, b, pct=pct)
    load = time.perf_counter() - t

    t = time.perf_counter()
    # Majority control: one worklist per owner, each company added once.
    links = 0
    for x in g.nodes:
        if g.out_degree(x) == 0:
            continue
        group, members, acc = {x}, [x], {}
        i = 0
        while i < len(members):
            y = members[i]
            i += 1
            for z, d in g.adj[y].items():
                if z in group:
                    continue
                acc[z] = acc.get(z, 0.0) + d["pct"]
                if acc[z] > MAJORITY:
                    group.add(z)
                    members.append(z)
        links += len(members) - 1
    # Look-through: per entity, residual mass pushed upstream until below the tolerance; the
    # mass that comes back to the entity is its closed-walk factor.
    sums, closed = {}, {}
    for z in g.nodes:
        if g.in_degree(z) == 0:
            continue
        total, residual, queue = {}, {z: 1.0}, [z]
        while queue:
            v = queue.pop()
            mass = residual.pop(v, 0.0)
            if mass == 0.0:
                continue
            for u, d in g.pred[v].items():
                add = mass * d["pct"] / 100.0
                total[u] = total.get(u, 0.0) + add
                r = residual.get(u, 0.0) + add
                residual[u] = r
                if r >= 1e-12 and (r - add) < 1e-12:
                    queue.append(u)
        closed[z] = total.pop(z, 0.0)
        sums[z] = total
    stakes, stake_sum = 0, 0.0
    for z, total in sums.items():
        for u, s in total.items():
            pct = min(100.0 * s / (1.0 + closed.get(u, 0.0)), 100.0)
            if pct > 1e-6:
                stakes += 1
                stake_sum += pct
    compute = time.perf_counter() - t
    persons = sum(1 for x in names if x.startswith("P"))
    emit("networkx", "control", g.number_of_nodes(), g.number_of_edges(), load, compute,
         entities=len(names) - persons, persons=persons, control_links=links, stakes=stakes,
         stake_sum=round(stake_sum, 6))


def ingest_duckdb(dataset, db):
    import duckdb

    files = sorted(f for f in os.listdir(dataset) if f.endswith(".csv") and f != "truth.csv")
    if os.path.exists(db):
        os.remove(db)
    t = time.perf_counter()
    con = duckdb.connect(db)
    rows = 0
    for f in files:
        table = f[:-4]
        con.execute(f"CREATE TABLE \"{table}\" AS SELECT * FROM read_csv('{os.path.join(dataset, f)}')")
        rows += con.execute(f"SELECT count(*) FROM \"{table}\"").fetchone()[0]
    con.close()
    took = time.perf_counter() - t
    emit("duckdb", "ingest", 0, 0, 0.0, took, rows=rows, files=len(files),
         rows_per_s=round(rows / took), threads=2)


def main():
    workload, lib, path = sys.argv[1], sys.argv[2], sys.argv[3]
    out = sys.argv[4] if len(sys.argv) > 4 else None
    if workload == "components":
        components(lib, path)
    elif workload == "leiden":
        leiden(lib, path, out)
    elif workload == "fastrp":
        fastrp(lib, path, out)
    elif workload == "graph":
        graph(lib, path)
    elif workload == "control" and lib == "scipy":
        control_scipy(path)
    elif workload == "control" and lib == "networkx":
        control_networkx(path)
    elif workload == "ingest" and lib == "duckdb":
        ingest_duckdb(path, out)
    else:
        raise SystemExit(f"unknown workload or peer: {workload} {lib}")


if __name__ == "__main__":
    main()
