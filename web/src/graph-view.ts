//! The graph canvas: a graphology graph drawn by sigma (WebGL), laid out by ForceAtlas2 in a web
//! worker that stops once the layout has settled. Nodes are styled by kind, edges by kind and by
//! evidence strength; clicking a node selects and expands it, Shift+click explains the path from
//! the selected node. Big graphs stay smooth: labels only when zoomed in, edge labels only on
//! small graphs, edges hidden while the camera moves.

import { MultiDirectedGraph } from "graphology";
import FA2Layout from "graphology-layout-forceatlas2/worker";
import { inferSettings } from "graphology-layout-forceatlas2";
import Sigma from "sigma";
import type { EdgeDisplayData, NodeDisplayData } from "sigma/types";
import { connection, neighborhood, type Connection, type GraphEdge, type GraphNode, type Subgraph } from "./api";
import { download } from "./dom";
import { t, tDyn } from "./i18n";

export interface NodeAttrs {
  kind: GraphNode["kind"];
  label: string;
  groupId: string | null;
  x: number;
  y: number;
  size: number;
  color: string;
}
export interface EdgeAttrs {
  kind: string;
  label: string;
  /** The label as the API gave it (codes), kept for relabelling in another language. */
  apiLabel: string | null;
  weight: number | null;
  strength: GraphEdge["strength"];
  criterion: string | null;
  size: number;
  color: string;
  type: "line" | "arrow";
}

/** Colours and sizes by node kind; the legend is drawn from the same table. */
export const NODE_STYLE: Record<GraphNode["kind"], { color: string; size: number }> = {
  ACCOUNT: { color: "#2563eb", size: 7 },
  PERSON: { color: "#16a34a", size: 9 },
  ENTITY: { color: "#ea580c", size: 9 },
  MEMBER: { color: "#7c3aed", size: 11 },
  IDENTIFIER: { color: "#64748b", size: 5 },
};

/** Edge classes of the legend: strong evidence is thick and red, weak evidence thin and amber. */
export const EDGE_STYLE = {
  strong: { color: "#dc2626", size: 4 },
  weak: { color: "#f59e0b", size: 1.2 },
  control: { color: "#334155", size: 2 },
  other: { color: "#cbd5e1", size: 1 },
} as const;

const DIRECTED = new Set(["OWNS", "CONTROLS", "OFFICER", "TRANSFERS", "AUTHORISED"]);
const CONTROL = new Set(["OWNS", "CONTROLS", "OFFICER"]);

/** Above this many edges, edge labels are not drawn (they cost more than the edges). */
const EDGE_LABEL_LIMIT = 400;
/** Above this many edges, edges are hidden while the camera moves. */
const HIDE_EDGES_ON_MOVE = 1500;

function edgeClass(edge: Pick<GraphEdge, "kind" | "strength">): keyof typeof EDGE_STYLE {
  if (edge.strength === "STRONG") return "strong";
  if (edge.strength === "WEAK") return "weak";
  return CONTROL.has(edge.kind) ? "control" : "other";
}

function edgeLabel(edge: GraphEdge): string {
  // Contract codes (roles, relations, share kinds, identifier kinds) in the page's language.
  if (edge.label) return edge.label.split(" ").map((w) => tDyn("code", w)).join(" ");
  if (edge.kind === "OWNS" && edge.weight !== null) return `${edge.weight}%`;
  return edge.criterion ?? "";
}

/** A stable pseudo-random number in [0, 1) from a string, so first layouts repeat. */
function hash01(text: string, salt = 0): number {
  let h = 2166136261 ^ salt;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return ((h >>> 0) % 100000) / 100000;
}

export interface GraphViewOptions {
  /** A node was selected (click); the page shows its profile. */
  onSelect?: (id: string, attrs: NodeAttrs) => void;
  /** A path was explained (Shift+click), or `null` when it was cleared. */
  onPath?: (path: Connection | null, a: string, b: string) => void;
  /** Nodes or edges were added or removed. */
  onChange?: (view: GraphView) => void;
  /** Expand a node when it is clicked (default true). */
  expandOnClick?: boolean;
}

export class GraphView {
  readonly graph = new MultiDirectedGraph<NodeAttrs, EdgeAttrs>();
  readonly renderer: Sigma<NodeAttrs, EdgeAttrs>;
  private layout: FA2Layout<NodeAttrs, EdgeAttrs> | null = null;
  private layoutTimer: number | null = null;
  private selected: string | null = null;
  private pathNodes: Set<string> | null = null;
  private pathEdges: Set<string> | null = null;
  private hovered: string | null = null;
  /** Node sizes shrink on big graphs so that 2,000 nodes do not cover each other. */
  private sizeScale = 1;
  private readonly expanded = new Set<string>();
  private readonly container: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly options: GraphViewOptions = {},
  ) {
    this.container = container;
    this.renderer = new Sigma(this.graph, container, {
      allowInvalidContainer: true,
      renderEdgeLabels: true,
      enableEdgeEvents: false,
      defaultEdgeType: "line",
      labelRenderedSizeThreshold: 0,
      labelDensity: 0.7,
      labelFont: "system-ui, 'Noto Sans CJK SC', sans-serif",
      edgeLabelFont: "system-ui, 'Noto Sans CJK SC', sans-serif",
      edgeLabelSize: 11,
      labelSize: 12,
      edgeLabelColor: { color: "#475569" },
      zIndex: true,
      nodeReducer: (node, data) => this.reduceNode(node, data),
      edgeReducer: (edge, data) => this.reduceEdge(edge, data),
    });
    this.renderer.on("clickNode", ({ node, event }) => {
      const original = event.original as MouseEvent;
      if (original.shiftKey && this.selected && this.selected !== node) void this.explainPath(this.selected, node);
      else void this.select(node, this.options.expandOnClick ?? true);
    });
    this.renderer.on("clickStage", () => this.clearPath());
    this.renderer.on("enterNode", ({ node }) => {
      this.hovered = node;
      container.style.cursor = "pointer";
    });
    this.renderer.on("leaveNode", () => {
      this.hovered = null;
      container.style.cursor = "";
    });
    this.publishCounts();
  }

  /** Adds nodes and edges not yet drawn, new nodes placed around `anchor`; returns how many nodes were new. */
  add(sub: Subgraph, anchor?: string): number {
    const origin = anchor && this.graph.hasNode(anchor) ? this.graph.getNodeAttributes(anchor) : { x: 0, y: 0 };
    const spread = anchor ? 0.2 * Math.sqrt(this.graph.order + 1) : Math.sqrt(sub.nodes.length + 1);
    let added = 0;
    for (const node of sub.nodes) {
      if (this.graph.hasNode(node.id)) continue;
      const style = NODE_STYLE[node.kind] ?? NODE_STYLE.IDENTIFIER;
      const angle = 2 * Math.PI * hash01(node.id);
      const radius = spread * (0.3 + hash01(node.id, 7));
      this.graph.addNode(node.id, {
        kind: node.kind,
        label: node.label || node.id,
        groupId: node.groupId,
        x: origin.x + radius * Math.cos(angle),
        y: origin.y + radius * Math.sin(angle),
        size: style.size,
        color: style.color,
      });
      added++;
    }
    for (const edge of sub.edges) {
      if (this.graph.hasEdge(edge.id)) continue;
      if (!this.graph.hasNode(edge.source) || !this.graph.hasNode(edge.target)) {
        console.warn(`edge ${edge.id} names a node that is not in the graph`);
        continue;
      }
      const style = EDGE_STYLE[edgeClass(edge)];
      this.graph.addDirectedEdgeWithKey(edge.id, edge.source, edge.target, {
        kind: edge.kind,
        label: edgeLabel(edge),
        apiLabel: edge.label,
        weight: edge.weight,
        strength: edge.strength,
        criterion: edge.criterion,
        size: style.size,
        color: style.color,
        type: DIRECTED.has(edge.kind) ? "arrow" : "line",
      });
    }
    this.tune();
    this.publishCounts();
    this.runLayout();
    return added;
  }

  /** Replaces everything drawn with `sub`. */
  reset(sub: Subgraph): void {
    this.stopLayout();
    this.graph.clear();
    this.expanded.clear();
    this.selected = null;
    this.pathNodes = this.pathEdges = null;
    this.add(sub);
  }

  /** Selects `id` (profile in the side panel) and optionally expands its neighbours. */
  async select(id: string, expand: boolean): Promise<void> {
    this.selected = id;
    this.renderer.refresh({ skipIndexation: false, schedule: true });
    if (this.graph.hasNode(id)) this.options.onSelect?.(id, this.graph.getNodeAttributes(id));
    if (expand) await this.expand(id);
  }

  /** Fetches the neighbours of `id` and draws those not yet on screen; returns how many were new. */
  async expand(id: string, limit = 200): Promise<number> {
    if (this.expanded.has(id)) return 0;
    this.container.dataset.busy = "expanding";
    try {
      const sub = await neighborhood(id, 1, limit);
      this.expanded.add(id);
      return this.add(sub, id);
    } finally {
      delete this.container.dataset.busy;
    }
  }

  /** Highlights the explained path between `a` and `b`, drawing its nodes if they are missing. */
  async explainPath(a: string, b: string): Promise<Connection | null> {
    this.container.dataset.busy = "path";
    try {
      const path = await connection(a, b);
      if (path) {
        this.add(path, a);
        this.pathNodes = new Set(path.nodes.map((n) => n.id));
        this.pathEdges = new Set(path.edges.map((e) => e.id));
      } else {
        this.pathNodes = new Set([a, b]);
        this.pathEdges = new Set();
      }
      this.container.dataset.path = path ? String(path.edges.length) : "none";
      this.renderer.refresh();
      this.options.onPath?.(path, a, b);
      return path;
    } finally {
      delete this.container.dataset.busy;
    }
  }

  clearPath(): void {
    if (!this.pathNodes) return;
    this.pathNodes = this.pathEdges = null;
    delete this.container.dataset.path;
    this.renderer.refresh();
  }

  fit(): void {
    void this.renderer.getCamera().animatedReset({ duration: 300 });
  }

  /** The viewport position of a node (for tests that click real nodes). */
  nodePosition(id: string): { x: number; y: number } | null {
    if (!this.graph.hasNode(id)) return null;
    const data = this.renderer.getNodeDisplayData(id);
    if (!data) return null;
    const rect = this.container.getBoundingClientRect();
    const p = this.renderer.framedGraphToViewport(data);
    return { x: rect.left + p.x, y: rect.top + p.y };
  }

  /** The current view as a PNG: sigma's canvas layers drawn onto one white canvas. */
  async exportPng(name: string): Promise<void> {
    this.renderer.refresh();
    const { width, height } = this.renderer.getDimensions();
    const ratio = window.devicePixelRatio || 1;
    const out = document.createElement("canvas");
    out.width = width * ratio;
    out.height = height * ratio;
    const ctx = out.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    // WebGL layers keep no drawing buffer: read them in the same task as the render above.
    for (const canvas of Object.values(this.renderer.getCanvases())) {
      ctx.drawImage(canvas, 0, 0, out.width, out.height);
    }
    const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, "image/png"));
    if (!blob) throw new Error("the browser could not encode the PNG");
    download(blob, `${name}.png`);
  }

  /** Labels the edges again in the page's current language (after a language switch). */
  relabel(): void {
    this.graph.forEachEdge((id, a) => {
      this.graph.setEdgeAttribute(id, "label", edgeLabel({ kind: a.kind, label: a.apiLabel, weight: a.weight, criterion: a.criterion } as GraphEdge));
    });
  }

  /** The current view as JSON: nodes with positions, edges with their labels and strength. */
  toJson(meta: Record<string, unknown> = {}): unknown {
    return {
      ...meta,
      nodes: this.graph.mapNodes((id, a) => ({ id, kind: a.kind, label: a.label, groupId: a.groupId, x: a.x, y: a.y })),
      edges: this.graph.mapEdges((id, a, source, target) => ({
        id,
        source,
        target,
        kind: a.kind,
        label: a.label,
        weight: a.weight,
        strength: a.strength,
        criterion: a.criterion,
      })),
    };
  }

  exportJson(name: string, meta: Record<string, unknown> = {}): void {
    const blob = new Blob([JSON.stringify(this.toJson(meta), null, 2)], { type: "application/json" });
    download(blob, `${name}.json`);
  }

  /** Stops the layout worker and frees the WebGL contexts. */
  destroy(): void {
    this.stopLayout();
    this.layout?.kill();
    this.layout = null;
    this.renderer.kill();
  }

  /** Runs ForceAtlas2 in its worker until nodes stop moving (or a time cap), then stops it. */
  runLayout(): void {
    if (this.graph.order < 2) return;
    this.stopLayout();
    this.layout?.kill();
    const settings = { ...inferSettings(this.graph), barnesHutOptimize: this.graph.order > 400 };
    this.layout = new FA2Layout(this.graph, { settings });
    this.layout.start();
    this.container.dataset.layout = "running";
    const started = performance.now();
    const cap = Math.min(8000, 1500 + 3 * this.graph.order);
    let previous = this.positions();
    this.layoutTimer = window.setInterval(() => {
      const now = this.positions();
      if (performance.now() - started > cap || this.settled(previous, now)) this.stopLayout();
      previous = now;
    }, 300);
  }

  stopLayout(): void {
    if (this.layoutTimer !== null) window.clearInterval(this.layoutTimer);
    this.layoutTimer = null;
    if (this.layout?.isRunning()) this.layout.stop();
    if (this.container.dataset.layout === "running") this.container.dataset.layout = "stopped";
  }

  private positions(): Float64Array {
    const out = new Float64Array(this.graph.order * 2);
    let i = 0;
    this.graph.forEachNode((_, a) => {
      out[i++] = a.x;
      out[i++] = a.y;
    });
    return out;
  }

  /** Settled when the mean move over one interval is under 0.5% of the drawing's extent. */
  private settled(before: Float64Array, after: Float64Array): boolean {
    if (before.length !== after.length) return false;
    let moved = 0;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < after.length; i += 2) {
      moved += Math.hypot(after[i] - before[i], after[i + 1] - before[i + 1]);
      minX = Math.min(minX, after[i]);
      maxX = Math.max(maxX, after[i]);
      minY = Math.min(minY, after[i + 1]);
      maxY = Math.max(maxY, after[i + 1]);
    }
    const extent = Math.max(maxX - minX, maxY - minY, 1e-9);
    return moved / (after.length / 2) < 0.005 * extent;
  }

  /** Rendering settings that depend on the graph's size. */
  private tune(): void {
    this.renderer.setSetting("renderEdgeLabels", this.graph.size <= EDGE_LABEL_LIMIT);
    this.renderer.setSetting("hideEdgesOnMove", this.graph.size > HIDE_EDGES_ON_MOVE);
    this.renderer.setSetting("hideLabelsOnMove", this.graph.order > 1000);
    const order = this.graph.order;
    this.sizeScale = order > 300 ? Math.max(0.35, Math.sqrt(300 / order)) : 1;
    // Small graphs show every label; big ones only those of nodes drawn large enough (zoomed in).
    this.renderer.setSetting("labelRenderedSizeThreshold", order <= 150 ? 0 : order > 500 ? 10 : 6);
  }

  private publishCounts(): void {
    this.container.dataset.nodes = String(this.graph.order);
    this.container.dataset.edges = String(this.graph.size);
    this.options.onChange?.(this);
  }

  private reduceNode(node: string, data: NodeAttrs): Partial<NodeDisplayData> {
    const out: Partial<NodeDisplayData> = { ...data, size: data.size * this.sizeScale };
    if (node === this.selected) {
      out.highlighted = true;
      out.forceLabel = true;
      out.size = Math.max(data.size, data.size * this.sizeScale * 1.4);
      out.zIndex = 2;
    }
    if (this.pathNodes) {
      if (this.pathNodes.has(node)) {
        out.forceLabel = true;
        out.zIndex = 2;
        out.highlighted = true;
      } else {
        out.color = "#e2e8f0";
        out.label = "";
        out.zIndex = 0;
      }
    }
    if (node === this.hovered) out.forceLabel = true;
    return out;
  }

  private reduceEdge(edge: string, data: EdgeAttrs): Partial<EdgeDisplayData> {
    const out: Partial<EdgeDisplayData> = { ...data, zIndex: data.strength === "STRONG" ? 1 : 0 };
    if (this.pathEdges) {
      if (this.pathEdges.has(edge)) {
        out.color = "#0f172a";
        out.size = Math.max(data.size, 3);
        out.forceLabel = true;
        out.zIndex = 2;
      } else {
        out.hidden = true;
      }
    }
    return out;
  }
}

/** The legend: node kinds and edge classes with the colours the canvas uses. */
export function legend(): HTMLElement {
  const root = document.createElement("div");
  root.className = "legend";
  root.dataset.testid = "legend";
  const title = document.createElement("strong");
  title.textContent = t("graph.legend");
  root.appendChild(title);
  for (const [kind, style] of Object.entries(NODE_STYLE)) {
    const row = document.createElement("div");
    row.innerHTML = `<span class="dot" style="background:${style.color}"></span>`;
    row.append(t(`kind.${kind}` as Parameters<typeof t>[0]));
    root.appendChild(row);
  }
  for (const [cls, style] of Object.entries(EDGE_STYLE)) {
    const row = document.createElement("div");
    row.innerHTML = `<span class="line" style="background:${style.color};height:${Math.max(1, style.size)}px"></span>`;
    row.append(t(`edge.${cls}` as Parameters<typeof t>[0]));
    root.appendChild(row);
  }
  return root;
}
