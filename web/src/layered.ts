//! A layered (Sugiyama-style) layout for the structure of control, drawn the way ownership tools
//! draw it: controllers and the persons and entities above on top, ranked by ownership depth,
//! holders below them, accounts at the bottom and hubs (shared identifiers, evidence, members)
//! under the accounts. Layers are ordered by barycentre sweeps to cut crossings, spaced by the
//! width of each node's label, and a layer too wide for the canvas is folded into bands (the
//! layers below the fold are folded together, so a holder's band is its accounts' band).
//!
//! Pure computation: no DOM, no sigma. Coordinates are in pixels at scale 1, y pointing down.

/** A node to place: its box is `width` wide (node or label, whichever is wider) and `height` tall. */
export interface LayeredNode {
  id: string;
  kind: string;
  width: number;
  height: number;
}

/** An edge, by kind: the kind decides which end goes above the other. */
export interface LayeredEdge {
  source: string;
  target: string;
  kind: string;
}

export interface LayeredOptions {
  /** The width a row may take before its layer is folded into bands (the canvas width). */
  maxWidth: number;
  /** A node forced onto the top layer (the group's controller). */
  top?: string | null;
  /** Horizontal gap between two boxes of a row. */
  gapX?: number;
  /** Vertical gap between two rows. */
  gapY?: number;
  /** Barycentre sweeps (one down and one up each). */
  sweeps?: number;
}

export interface LayeredResult {
  /** Centre of each node, y down. */
  positions: Map<string, { x: number; y: number }>;
  /** The layer of each node (0 is the top). */
  ranks: Map<string, number>;
  /** How many bands the widest layers were folded into (1: not folded). */
  bands: number;
  /** The extent of all boxes. */
  bbox: { x1: number; y1: number; x2: number; y2: number };
}

/** Edges whose source is drawn above their target. */
const SOURCE_ABOVE = new Set(["OWNS", "CONTROLS", "OFFICER", "AUTHORISED"]);
/** Edges whose target is drawn above their source (an account's holder above the account). */
const TARGET_ABOVE = new Set(["HELD_BY"]);
/** Node kinds drawn as hubs, under the accounts they join. */
const HUB_KINDS = new Set(["IDENTIFIER", "MEMBER", "EVIDENCE"]);

type Role = "structure" | "account" | "hub";

function roleOf(kind: string): Role {
  if (kind === "ACCOUNT") return "account";
  if (HUB_KINDS.has(kind)) return "hub";
  return "structure";
}

/**
 * Lays out `nodes` in layers. Deterministic: the same input gives the same drawing, and input
 * order only breaks ties.
 */
export function layered(nodes: LayeredNode[], edges: LayeredEdge[], options: LayeredOptions): LayeredResult {
  const gapX = options.gapX ?? 18;
  const gapY = options.gapY ?? 34;
  const sweeps = options.sweeps ?? 4;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const role = new Map(nodes.map((n) => [n.id, roleOf(n.kind)]));

  // Neighbours (any edge) for ordering and placement; "above" pairs among structure nodes for ranks.
  const adj = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  const down = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    if (!byId.has(e.source) || !byId.has(e.target) || e.source === e.target) continue;
    adj.get(e.source)!.push(e.target);
    adj.get(e.target)!.push(e.source);
    let upper: string | null = null;
    let lower: string | null = null;
    if (SOURCE_ABOVE.has(e.kind)) [upper, lower] = [e.source, e.target];
    else if (TARGET_ABOVE.has(e.kind)) [upper, lower] = [e.target, e.source];
    if (upper && lower && role.get(upper) === "structure" && role.get(lower) === "structure") down.get(upper)!.push(lower);
  }

  const ranks = structureRanks(nodes, down, role, options.top ?? null);
  let maxStructure = -1;
  for (const r of ranks.values()) maxStructure = Math.max(maxStructure, r);
  const accountRank = maxStructure + 1;
  for (const n of nodes) {
    const r = role.get(n.id);
    if (r === "account") ranks.set(n.id, accountRank);
    else if (r === "hub") ranks.set(n.id, accountRank + 1);
  }
  const rankCount = Math.max(...ranks.values()) + 1;

  // Layers, first in order of discovery from the top, then by barycentre sweeps.
  const layers: string[][] = Array.from({ length: rankCount }, () => []);
  for (const id of discoveryOrder(nodes, adj, ranks)) layers[ranks.get(id)!].push(id);
  const pos = new Map<string, number>();
  const renumber = (layer: string[]): void => layer.forEach((id, i) => pos.set(id, (i + 0.5) / layer.length));
  layers.forEach(renumber);
  const sortByBarycentre = (r: number, from: (other: number) => boolean): void => {
    const key = new Map<string, number>();
    for (const id of layers[r]) {
      let sum = 0;
      let count = 0;
      for (const m of adj.get(id)!) {
        if (!from(ranks.get(m)!)) continue;
        sum += pos.get(m)!;
        count++;
      }
      key.set(id, count ? sum / count : pos.get(id)!);
    }
    layers[r].sort((a, b) => key.get(a)! - key.get(b)! || pos.get(a)! - pos.get(b)!);
    renumber(layers[r]);
  };
  for (let s = 0; s < sweeps; s++) {
    for (let r = 1; r < rankCount; r++) sortByBarycentre(r, (o) => o < r);
    for (let r = rankCount - 2; r >= 0; r--) sortByBarycentre(r, (o) => o > r);
  }

  // Fold: from the first layer wider than the canvas down, all layers share k bands.
  const width = (id: string): number => byId.get(id)!.width + gapX;
  const layerWidth = layers.map((l) => l.reduce((sum, id) => sum + width(id), 0));
  const firstWide = layerWidth.findIndex((w) => w > options.maxWidth);
  const band = new Map<string, number>();
  let bands = 1;
  if (firstWide >= 0) {
    const folded = layers.map((_, r) => r).filter((r) => r >= firstWide);
    const pivot = folded.reduce((best, r) => (layers[r].length > layers[best].length ? r : best), folded[0]);
    const order = [...folded].sort((a, b) => Math.abs(a - pivot) - Math.abs(b - pivot) || a - b);
    for (let k = Math.ceil(Math.max(...folded.map((r) => layerWidth[r])) / options.maxWidth); ; k++) {
      band.clear();
      for (const r of order) {
        const layer = layers[r];
        layer.forEach((id, i) => {
          let sum = 0;
          let count = 0;
          if (r !== pivot) {
            for (const m of adj.get(id)!) {
              const b = band.get(m);
              if (b === undefined) continue;
              sum += b;
              count++;
            }
          }
          band.set(id, count ? Math.round(sum / count) : Math.min(k - 1, Math.floor((i * k) / layer.length)));
        });
      }
      const rowWidth = new Map<string, number>();
      for (const r of folded) for (const id of layers[r]) {
        const key = `${r}/${band.get(id)}`;
        rowWidth.set(key, (rowWidth.get(key) ?? 0) + width(id));
      }
      bands = k;
      if (Math.max(...rowWidth.values()) <= options.maxWidth || k >= layers[pivot].length) break;
    }
  }

  // Rows: a layer above the fold is one row; below it, one row per band and layer present in
  // the band (a band without hubs has no hub row), bands half a row apart.
  const rowHeight = Math.max(...nodes.map((n) => n.height)) + gapY;
  const rows = new Map<string, { y: number; ids: string[] }>();
  const rowY = new Map<string, number>();
  if (firstWide >= 0) {
    const present = Array.from({ length: bands }, () => new Set<number>());
    for (let r = firstWide; r < rankCount; r++) for (const id of layers[r]) present[band.get(id)!].add(r);
    let y = firstWide * rowHeight;
    present.forEach((set, b) => {
      if (set.size === 0) return;
      [...set].sort((x, z) => x - z).forEach((r, i) => rowY.set(`${r}/${b}`, y + i * rowHeight));
      y += set.size * rowHeight + rowHeight / 2;
    });
  }
  for (let r = 0; r < rankCount; r++) {
    for (const id of layers[r]) {
      const b = firstWide >= 0 && r >= firstWide ? band.get(id)! : -1;
      const key = `${r}/${b}`;
      if (!rows.has(key)) rows.set(key, { y: b < 0 ? r * rowHeight : rowY.get(key)!, ids: [] });
      rows.get(key)!.ids.push(id);
    }
  }

  // x: rows packed and centred, then pulled towards their neighbours without overlapping.
  const xs = new Map<string, number>();
  for (const row of rows.values()) {
    const total = row.ids.reduce((sum, id) => sum + width(id), 0);
    let x = -total / 2;
    for (const id of row.ids) {
      xs.set(id, x + width(id) / 2);
      x += width(id);
    }
  }
  const rowList = [...rows.values()];
  // The widest row stays packed; the others are pulled towards it.
  const rowWidth = (row: { ids: string[] }): number => row.ids.reduce((sum, id) => sum + width(id), 0);
  const widest = rowList.reduce((best, row) => (rowWidth(row) > rowWidth(best) ? row : best), rowList[0]);
  const pull = (row: { ids: string[] }): void => {
    // A node goes under the nodes above it that it hangs from (an account under its holder, a
    // company under its owners); a node with none above, over the nodes it holds.
    const desired = row.ids.map((id) => {
      const all = adj.get(id)!;
      const above = all.filter((m) => ranks.get(m)! < ranks.get(id)!);
      const near = above.length ? above : all;
      return near.length ? near.reduce((sum, m) => sum + xs.get(m)!, 0) / near.length : xs.get(id)!;
    });
    const n = row.ids.length;
    const sep = (i: number): number => (width(row.ids[i]) + width(row.ids[i + 1])) / 2;
    const fwd = new Array<number>(n);
    const bwd = new Array<number>(n);
    for (let i = 0; i < n; i++) fwd[i] = i === 0 ? desired[i] : Math.max(desired[i], fwd[i - 1] + sep(i - 1));
    for (let i = n - 1; i >= 0; i--) bwd[i] = i === n - 1 ? desired[i] : Math.min(desired[i], bwd[i + 1] - sep(i));
    // Both passes keep every gap; so does their mean, which balances the shift left and right.
    row.ids.forEach((id, i) => xs.set(id, (fwd[i] + bwd[i]) / 2));
  };
  const byY = [...rowList].sort((a, b) => a.y - b.y);
  for (let s = 0; s < 2; s++) {
    for (const row of [...byY].reverse()) if (row !== widest) pull(row);
    for (const row of byY) if (row !== widest) pull(row);
  }

  const positions = new Map<string, { x: number; y: number }>();
  const bbox = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (const row of rows.values()) {
    for (const id of row.ids) {
      const p = { x: xs.get(id)!, y: row.y };
      positions.set(id, p);
      const n = byId.get(id)!;
      bbox.x1 = Math.min(bbox.x1, p.x - n.width / 2);
      bbox.x2 = Math.max(bbox.x2, p.x + n.width / 2);
      bbox.y1 = Math.min(bbox.y1, p.y - n.height / 2);
      bbox.y2 = Math.max(bbox.y2, p.y + n.height / 2);
    }
  }
  if (nodes.length === 0) Object.assign(bbox, { x1: 0, y1: 0, x2: 0, y2: 0 });
  return { positions, ranks, bands, bbox };
}

/**
 * Ranks of the persons and entities: the longest chain of holdings and roles from the top (cycles
 * broken where a depth-first search meets them again). A node with no such edge at all (a holder
 * known only by its accounts, a relative) sits on the lowest of these layers, next to the holders;
 * `top` is always on the first layer.
 */
function structureRanks(nodes: LayeredNode[], down: Map<string, string[]>, role: Map<string, Role>, top: string | null): Map<string, number> {
  const structure = nodes.filter((n) => role.get(n.id) === "structure").map((n) => n.id);
  const hasUp = new Set<string>();
  for (const id of structure) for (const m of down.get(id)!) hasUp.add(m);
  // Depth-first from the sources (top first) keeps the edges that do not close a cycle.
  const dag = new Map<string, string[]>(structure.map((id) => [id, []]));
  const state = new Map<string, 1 | 2>();
  const visit = (start: string): void => {
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const frame = stack[stack.length - 1];
      const [id, i] = frame;
      const next = down.get(id)!;
      if (i >= next.length) {
        state.set(id, 2);
        stack.pop();
        continue;
      }
      frame[1]++;
      const m = next[i];
      if (state.get(m) === 1) continue; // a back edge: the cycle is broken here
      dag.get(id)!.push(m);
      if (!state.has(m)) {
        state.set(m, 1);
        stack.push([m, 0]);
      }
    }
  };
  const starts = [...(top && dag.has(top) ? [top] : []), ...structure.filter((id) => !hasUp.has(id)), ...structure];
  for (const id of starts) if (!state.has(id)) visit(id);

  // Longest path in topological order (Kahn).
  const indegree = new Map(structure.map((id) => [id, 0]));
  for (const id of structure) for (const m of dag.get(id)!) indegree.set(m, indegree.get(m)! + 1);
  const ranks = new Map(structure.map((id) => [id, 0]));
  const queue = structure.filter((id) => indegree.get(id) === 0);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q];
    for (const m of dag.get(id)!) {
      ranks.set(m, Math.max(ranks.get(m)!, ranks.get(id)! + 1));
      indegree.set(m, indegree.get(m)! - 1);
      if (indegree.get(m) === 0) queue.push(m);
    }
  }
  const linked = new Set<string>(hasUp);
  for (const id of structure) if (down.get(id)!.length) linked.add(id);
  let lowest = 0;
  for (const id of linked) lowest = Math.max(lowest, ranks.get(id)!);
  for (const id of structure) if (!linked.has(id)) ranks.set(id, lowest);
  if (top && ranks.has(top) && !linked.has(top)) ranks.set(top, 0);
  return ranks;
}

/** Nodes in breadth-first order from the top layer down, so first layers follow the structure. */
function discoveryOrder(nodes: LayeredNode[], adj: Map<string, string[]>, ranks: Map<string, number>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const sorted = [...nodes].sort((a, b) => ranks.get(a.id)! - ranks.get(b.id)!);
  for (const start of sorted) {
    if (seen.has(start.id)) continue;
    seen.add(start.id);
    const queue = [start.id];
    for (let q = 0; q < queue.length; q++) {
      out.push(queue[q]);
      for (const m of adj.get(queue[q])!) {
        if (seen.has(m)) continue;
        seen.add(m);
        queue.push(m);
      }
    }
  }
  return out;
}
