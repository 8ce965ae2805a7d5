//! The graph canvas: a graphology graph drawn by sigma (WebGL). A neighbourhood is laid out by
//! ForceAtlas2 in a web worker that stops once the layout has settled; a group is laid out in
//! layers (`layered.ts`: controller on top, accounts at the bottom), its pairwise evidence collapsed
//! into hubs (expandable on demand) and its labels placed by the view itself so that none overlaps
//! another, covers a node or leaves the canvas. Nodes are styled by kind, edges by kind and by
//! evidence strength; clicking a node selects and expands it, Shift+click explains the path from
//! the selected node. Big graphs stay smooth: labels only when zoomed in, edge labels only on
//! small graphs, edges hidden while the camera moves.

import { MultiDirectedGraph } from "graphology";
import FA2Layout from "graphology-layout-forceatlas2/worker";
import { inferSettings } from "graphology-layout-forceatlas2";
import Sigma from "sigma";
import type { EdgeDisplayData, NodeDisplayData } from "sigma/types";
import { connection, neighborhood, type Connection, type GraphEdge, type GraphNode, type Strength, type Subgraph } from "./api";
import { download } from "./dom";
import { lang, t, tDyn } from "./i18n";
import { layered } from "./layered";
import { edgeText, identifierText } from "./words";

/** The kinds of node drawn: the API's, and the view's own evidence hubs. */
export type ViewKind = GraphNode["kind"] | "EVIDENCE";

export interface NodeAttrs {
  kind: ViewKind;
  label: string;
  /** The label as the API gave it, kept for relabelling in another language. */
  apiLabel?: string;
  groupId: string | null;
  x: number;
  y: number;
  size: number;
  color: string;
  /** Made by the view (an evidence hub), not returned by the API: not selectable in the API. */
  synthetic?: boolean;
  /** The signal kind of an evidence hub. */
  hubKind?: string;
}
export interface EdgeAttrs {
  kind: string;
  label: string;
  /** The label as the API gave it (codes), kept for relabelling in another language. */
  apiLabel: string | null;
  apiLabelZh: string | null;
  weight: number | null;
  strength: GraphEdge["strength"];
  criterion: string | null;
  size: number;
  color: string;
  type: "line" | "arrow";
  synthetic?: boolean;
}

/** Colours and sizes by node kind; the legend is drawn from the same table. */
export const NODE_STYLE: Record<ViewKind, { color: string; size: number }> = {
  ACCOUNT: { color: "#2563eb", size: 7 },
  PERSON: { color: "#16a34a", size: 9 },
  ENTITY: { color: "#ea580c", size: 9 },
  MEMBER: { color: "#7c3aed", size: 11 },
  IDENTIFIER: { color: "#64748b", size: 5 },
  EVIDENCE: { color: "#be123c", size: 8 },
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
  // The API labels every edge in both languages; the English one has its codes put in words.
  if (lang() === "zh" && edge.labelZh) return edge.labelZh;
  if (edge.label) return edgeText(edge.kind, edge.label);
  if (edge.kind === "OWNS" && edge.weight !== null) return `${edge.weight}%`;
  return edge.criterion ?? "";
}

/** A node's label: the API's (a name or an id), an identifier's kind in the page's language. */
function nodeLabel(kind: ViewKind, apiLabel: string): string {
  return kind === "IDENTIFIER" ? identifierText(apiLabel) : apiLabel;
}

/** Signal kinds the drawn structure already shows: holders, holdings, roles, relations, shared identifiers, transfers. */
const DRAWN_SIGNALS = new Set([
  "same_holder",
  "control",
  "officer",
  "account_role",
  "common_agent",
  "spouse",
  "family",
  "arrangement",
  "shared_identifier",
  "transfers",
]);

/** An evidence link between two accounts, as the group's detail lists it. */
export interface EvidenceRef {
  a: { id: string };
  b: { id: string };
  strength: Strength;
  signals: { kind: string }[];
}

/** An evidence hub: one kind of evidence and the accounts it links, with the strongest link of each. */
export interface EvidenceHub {
  kind: string;
  accounts: Map<string, Strength>;
}

/**
 * The pairwise evidence the structure does not already show (trading and fund-flow patterns),
 * collapsed into one hub per signal kind joined to the accounts it links: a group of n accounts
 * trading in step draws n edges instead of n(n-1)/2.
 */
export function evidenceHubs(links: EvidenceRef[]): EvidenceHub[] {
  const hubs = new Map<string, EvidenceHub>();
  for (const link of links) {
    for (const signal of link.signals) {
      if (DRAWN_SIGNALS.has(signal.kind)) continue;
      let hub = hubs.get(signal.kind);
      if (!hub) hubs.set(signal.kind, (hub = { kind: signal.kind, accounts: new Map() }));
      for (const id of [link.a.id, link.b.id]) {
        if (hub.accounts.get(id) !== "STRONG") hub.accounts.set(id, link.strength);
      }
    }
  }
  return [...hubs.values()].sort((x, y) => x.kind.localeCompare(y.kind));
}

function hubLabel(kind: string, accounts: number): string {
  return `${tDyn("sig", kind)} (${accounts})`;
}

/** Edge kinds whose labels the layered view writes: holdings, roles, relations, transfers, trades, evidence (when shown). */
const LABELLED_EDGES = new Set(["OWNS", "CONTROLS", "OFFICER", "RELATION", "AUTHORISED", "TRANSFERS", "TRADED_WITH", "EVIDENCE"]);
/** Label font of the layered view (the DOM labels and the measurements use the same). */
const LABEL_FONT = "12px system-ui, 'Noto Sans CJK SC', sans-serif";
const EDGE_LABEL_FONT = "11px system-ui, 'Noto Sans CJK SC', sans-serif";
const LABEL_HEIGHT = 15;
/** Room kept around each label, so that two labels never touch. */
const LABEL_GAP = 2;

/** A placed label's box in viewport pixels. */
interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

/** Boxes bucketed in a uniform grid, so that checking a candidate costs the boxes near it. */
class BoxGrid {
  private readonly cells = new Map<string, Box[]>();
  constructor(private readonly cell = 64) {}
  private keys(b: Box): string[] {
    const out: string[] = [];
    for (let i = Math.floor(b.x1 / this.cell); i <= Math.floor(b.x2 / this.cell); i++)
      for (let j = Math.floor(b.y1 / this.cell); j <= Math.floor(b.y2 / this.cell); j++) out.push(`${i},${j}`);
    return out;
  }
  add(b: Box): void {
    for (const k of this.keys(b)) {
      const list = this.cells.get(k);
      if (list) list.push(b);
      else this.cells.set(k, [b]);
    }
  }
  hits(b: Box, except?: Box): boolean {
    for (const k of this.keys(b)) for (const other of this.cells.get(k) ?? []) if (other !== except && overlaps(b, other)) return true;
    return false;
  }
}

/** What the layered view drew, in page coordinates, for tests and figures. */
export interface LayoutReport {
  layoutMs: number;
  bands: number;
  labelsShown: number;
  labelsTotal: number;
  nodes: { id: string; kind: string; rank: number; box: Box }[];
}

/** The hover mark of the layered view: a ring round the node, no label (the view writes those). */
function drawHoverRing(context: CanvasRenderingContext2D, data: { x: number; y: number; size: number }): void {
  context.beginPath();
  context.arc(data.x, data.y, data.size + 3, 0, 2 * Math.PI);
  context.strokeStyle = "#0f172a";
  context.lineWidth = 2;
  context.stroke();
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
  /**
   * Lay the graph out in layers (a group's structure of control) with the view's own labels,
   * instead of ForceAtlas2 with sigma's.
   */
  layered?: boolean;
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
  private readonly layeredMode: boolean;
  /** The node forced onto the top layer (the group's controller). */
  private top: string | null = null;
  /** Pairwise evidence edges drawn (otherwise collapsed into hubs and the structure). */
  private pairwise = false;
  private readonly labelLayer: HTMLElement | null = null;
  private readonly labelEls = new Map<string, HTMLElement>();
  private labelFrame: number | null = null;
  private readonly widths = new Map<string, number>();
  private measureCtx: CanvasRenderingContext2D | null = null;
  private ranks = new Map<string, number>();
  private lastLayout = { ms: 0, bands: 1 };
  private lastLabels: { text: string; font: string; x: number; y: number; box: Box }[] = [];

  constructor(
    container: HTMLElement,
    private readonly options: GraphViewOptions = {},
  ) {
    this.container = container;
    this.layeredMode = options.layered ?? false;
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
      // The layered view writes its labels itself (see `placeLabels`); hovering rings the node
      // instead of drawing a second label over them.
      ...(this.layeredMode ? { renderLabels: false, renderEdgeLabels: false, defaultDrawNodeHover: drawHoverRing } : {}),
    });
    if (this.layeredMode) {
      this.labelLayer = document.createElement("div");
      this.labelLayer.className = "graph-labels";
      this.labelLayer.dataset.testid = "graph-labels";
      container.appendChild(this.labelLayer);
      container.dataset.pairwise = "collapsed";
      this.renderer.on("afterRender", () => this.scheduleLabels());
    }
    const onNode = (node: string, shift: boolean): void => {
      const synthetic = this.graph.getNodeAttribute(node, "synthetic") === true;
      if (shift && this.selected && this.selected !== node) {
        // A path is the API's to explain: evidence hubs are the view's own.
        if (!synthetic && this.graph.getNodeAttribute(this.selected, "synthetic") !== true) void this.explainPath(this.selected, node);
      } else void this.select(node, !synthetic && (this.options.expandOnClick ?? true));
    };
    this.renderer.on("clickNode", ({ node, event }) => onNode(node, (event.original as MouseEvent).shiftKey));
    // Sigma takes a second click soon after the first for a double click (and zooms): on a node,
    // a click on another node is a click (select, or explain the path with Shift).
    this.renderer.on("doubleClickNode", ({ node, event, preventSigmaDefault }) => {
      preventSigmaDefault();
      if (node !== this.selected) onNode(node, (event.original as MouseEvent).shiftKey);
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
        label: nodeLabel(node.kind, node.label || node.id),
        apiLabel: node.label || node.id,
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
        apiLabelZh: edge.labelZh,
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

  /** Draws evidence hubs (see `evidenceHubs`), each joined to the accounts of the graph it links. */
  addHubs(hubs: EvidenceHub[]): void {
    for (const hub of hubs) {
      const id = `hub:${hub.kind}`;
      const accounts = [...hub.accounts].filter(([a]) => this.graph.hasNode(a));
      if (accounts.length === 0 || this.graph.hasNode(id)) continue;
      this.graph.addNode(id, {
        kind: "EVIDENCE",
        label: hubLabel(hub.kind, accounts.length),
        groupId: null,
        x: 0,
        y: 0,
        size: NODE_STYLE.EVIDENCE.size,
        color: NODE_STYLE.EVIDENCE.color,
        synthetic: true,
        hubKind: hub.kind,
      });
      for (const [account, strength] of accounts) {
        const style = EDGE_STYLE[strength === "STRONG" ? "strong" : "weak"];
        this.graph.addDirectedEdgeWithKey(`${id}~${account}`, account, id, {
          kind: "EVIDENCE_HUB",
          label: "",
          apiLabel: null,
          apiLabelZh: null,
          weight: null,
          strength,
          criterion: null,
          size: Math.min(style.size, 2),
          color: style.color,
          type: "line",
          synthetic: true,
        });
      }
    }
    this.tune();
    this.publishCounts();
    this.runLayout();
  }

  /** The node drawn on the top layer of the layered view (the group's controller). */
  setTop(id: string | null): void {
    this.top = id;
  }

  /** Shows or collapses the pairwise evidence edges; returns whether they are shown. */
  togglePairwise(show = !this.pairwise): boolean {
    this.pairwise = show;
    this.container.dataset.pairwise = show ? "shown" : "collapsed";
    this.renderer.refresh();
    return show;
  }

  get pairwiseShown(): boolean {
    return this.pairwise;
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

  /** Zooms to the whole drawing; in the layered view the frame includes the labels. */
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
    // The layered view's labels are DOM elements: write them onto the image where they stand.
    if (this.layeredMode) {
      this.placeLabels();
      ctx.scale(ratio, ratio);
      ctx.textBaseline = "middle";
      for (const label of this.lastLabels) {
        ctx.font = label.font;
        ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
        ctx.fillRect(label.box.x1, label.box.y1, label.box.x2 - label.box.x1, label.box.y2 - label.box.y1);
        ctx.fillStyle = "#0f172a";
        ctx.fillText(label.text, label.x, label.y);
      }
    }
    const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, "image/png"));
    if (!blob) throw new Error("the browser could not encode the PNG");
    download(blob, `${name}.png`);
  }

  /** Labels the edges again in the page's current language (after a language switch). */
  relabel(): void {
    this.graph.forEachEdge((id, a) => {
      if (a.synthetic) return;
      this.graph.setEdgeAttribute(id, "label", edgeLabel({ kind: a.kind, label: a.apiLabel, labelZh: a.apiLabelZh, weight: a.weight, criterion: a.criterion } as GraphEdge));
    });
    this.graph.forEachNode((id, a) => {
      if (a.hubKind) this.graph.setNodeAttribute(id, "label", hubLabel(a.hubKind, this.graph.degree(id)));
      else if (a.apiLabel) this.graph.setNodeAttribute(id, "label", nodeLabel(a.kind, a.apiLabel));
    });
    if (this.layeredMode) this.runLayout();
  }

  /** The current view as JSON: nodes with positions, edges with their labels and strength (what the API returned: no evidence hubs). */
  toJson(meta: Record<string, unknown> = {}): unknown {
    return {
      ...meta,
      nodes: this.graph.filterNodes((_, a) => !a.synthetic).map((id) => {
        const a = this.graph.getNodeAttributes(id);
        return { id, kind: a.kind, label: a.label, groupId: a.groupId, x: a.x, y: a.y };
      }),
      edges: this.graph.filterEdges((_, a) => !a.synthetic).map((id) => {
        const a = this.graph.getEdgeAttributes(id);
        const [source, target] = this.graph.extremities(id);
        return { id, source, target, kind: a.kind, label: a.label, weight: a.weight, strength: a.strength, criterion: a.criterion };
      }),
    };
  }

  exportJson(name: string, meta: Record<string, unknown> = {}): void {
    const blob = new Blob([JSON.stringify(this.toJson(meta), null, 2)], { type: "application/json" });
    download(blob, `${name}.json`);
  }

  /** Stops the layout worker and frees the WebGL contexts. */
  destroy(): void {
    if (this.labelFrame !== null) cancelAnimationFrame(this.labelFrame);
    this.stopLayout();
    this.layout?.kill();
    this.layout = null;
    this.renderer.kill();
  }

  /** Runs ForceAtlas2 in its worker until nodes stop moving (or a time cap), then stops it. */
  runLayout(): void {
    if (this.layeredMode) return this.layoutLayered();
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

  /**
   * The layered layout (see `layered.ts`), computed at once: boxes as wide as the labels, rows
   * folded to the canvas width, and the camera's frame set to the boxes, labels included.
   */
  private layoutLayered(): void {
    const started = performance.now();
    this.stopLayout();
    const { width, height } = this.renderer.getDimensions();
    const boxes = this.graph.mapNodes((id, a) => {
      const d = 2 * a.size * this.sizeScale;
      return { id, kind: a.kind, width: Math.max(d, this.textWidth(a.label, LABEL_FONT) + 2 * LABEL_GAP), height: d + LABEL_HEIGHT + 2 * LABEL_GAP };
    });
    const edges = this.graph
      .filterEdges((_, a) => a.kind !== "EVIDENCE")
      .map((e) => ({ source: this.graph.source(e), target: this.graph.target(e), kind: this.graph.getEdgeAttribute(e, "kind") }));
    // Fold rows at the canvas width, or wider when that makes the drawing too tall for the
    // canvas: the fold with the largest scale at fit (at most 1) wins.
    const pad = this.renderer.getSetting("stagePadding") ?? 30;
    const availW = Math.max(240, width - 2 * pad - 20);
    const availH = Math.max(160, height - 2 * pad - 20);
    let result: ReturnType<typeof layered> | null = null;
    let scale = 0;
    for (const m of [1, 1.5, 2, 3, 4, 6, 8, 12, 16]) {
      const trial = layered(boxes, edges, { maxWidth: availW * m, top: this.top });
      const s = Math.min(1, availW / (trial.bbox.x2 - trial.bbox.x1 || 1), availH / (trial.bbox.y2 - trial.bbox.y1 + LABEL_HEIGHT || 1));
      if (s <= scale) break;
      [result, scale] = [trial, s];
      if (s >= 1 || trial.bands === 1) break;
    }
    if (!result) result = layered(boxes, edges, { maxWidth: availW, top: this.top });
    this.ranks = result.ranks;
    // Sigma's y axis points up: the top layer gets the largest y. The node sits at the top of its
    // box, its label under it.
    for (const box of boxes) {
      const p = result.positions.get(box.id)!;
      const d = box.height - LABEL_HEIGHT - 2 * LABEL_GAP;
      this.graph.mergeNodeAttributes(box.id, { x: p.x, y: -(p.y - box.height / 2 + d / 2) });
    }
    // The frame: all boxes, but never so small that a two-node group is blown up to fill the canvas.
    const b = result.bbox;
    const minW = width / 1.5;
    const minH = height / 1.5;
    const cx = (b.x1 + b.x2) / 2;
    const cy = -(b.y1 + b.y2) / 2;
    const w = Math.max(b.x2 - b.x1, minW);
    const h = Math.max(b.y2 - b.y1, minH);
    this.renderer.setCustomBBox(this.graph.order ? { x: [cx - w / 2, cx + w / 2], y: [cy - h / 2, cy + h / 2] } : null);
    this.renderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });
    this.renderer.refresh();
    this.lastLayout = { ms: performance.now() - started, bands: result.bands };
    this.container.dataset.layout = "stopped";
    this.container.dataset.layoutMs = this.lastLayout.ms.toFixed(1);
    this.container.dataset.bands = String(result.bands);
  }

  /** The width of `text` in `font`, measured once. */
  private textWidth(text: string, font: string): number {
    const key = `${font}|${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      this.measureCtx ??= document.createElement("canvas").getContext("2d");
      if (this.measureCtx) {
        this.measureCtx.font = font;
        w = Math.ceil(this.measureCtx.measureText(text).width);
      } else w = 7 * text.length;
      this.widths.set(key, w);
    }
    return w;
  }

  private scheduleLabels(): void {
    if (this.labelFrame !== null) return;
    this.labelFrame = requestAnimationFrame(() => {
      this.labelFrame = null;
      this.placeLabels();
    });
  }

  /** Viewport boxes of the nodes drawn (not hidden by a reducer). */
  private viewportNodes(): { id: string; kind: string; box: Box; x: number; y: number; r: number; label: string; important: number }[] {
    const out: { id: string; kind: string; box: Box; x: number; y: number; r: number; label: string; important: number }[] = [];
    this.graph.forEachNode((id, a) => {
      const d = this.renderer.getNodeDisplayData(id);
      if (!d || d.hidden) return;
      const p = this.renderer.framedGraphToViewport(d);
      const r = this.renderer.scaleSize(d.size);
      // Labels are placed in this order: the selection and the path, the top, persons and
      // entities, hubs, accounts.
      const important =
        (d.highlighted || d.forceLabel ? 0 : 10) + (id === this.top ? 0 : a.kind === "PERSON" || a.kind === "ENTITY" ? 1 : a.kind === "ACCOUNT" ? 3 : 2);
      out.push({ id, kind: a.kind, x: p.x, y: p.y, r, box: { x1: p.x - r, y1: p.y - r, x2: p.x + r, y2: p.y + r }, label: d.label ?? "", important });
    });
    return out;
  }

  /**
   * Places the labels of the layered view: node labels first (under the node, else above, right,
   * left), then edge labels (at the middle of the edge, else further towards either end). A
   * label goes where it overlaps no other label and no node and stays inside the canvas; where
   * there is no such place it is left out until the camera zooms in. Returns how many were shown.
   */
  placeLabels(): { shown: number; total: number } {
    if (!this.labelLayer) return { shown: 0, total: 0 };
    const { width, height } = this.renderer.getDimensions();
    const nodes = this.viewportNodes();
    const grid = new BoxGrid();
    const placed = new BoxGrid();
    const nodeBox = new Map<string, Box>();
    for (const n of nodes) {
      grid.add(n.box);
      nodeBox.set(n.id, n.box);
    }
    const inside = (b: Box): boolean => b.x1 >= 1 && b.y1 >= 1 && b.x2 <= width - 1 && b.y2 <= height - 1;
    const labels: { key: string; text: string; font: string; x: number; y: number; box: Box; edge: boolean; raw: boolean }[] = [];
    let total = 0;
    const tryPlace = (key: string, text: string, font: string, height_: number, spots: { x: number; y: number }[], own?: Box, edge = false): boolean => {
      const w = this.textWidth(text, font) + 2 * LABEL_GAP;
      for (const s of spots) {
        // A spot is the label's centre; the box keeps LABEL_GAP of room on each side.
        const box = { x1: s.x - w / 2, y1: s.y - height_ / 2, x2: s.x + w / 2, y2: s.y + height_ / 2 };
        if (!inside(box) || placed.hits(box) || grid.hits(box, own)) continue;
        placed.add(box);
        labels.push({ key, text, font, x: s.x, y: s.y, box, edge, raw: !edge && !this.graph.getNodeAttribute(key.slice(2), "synthetic") });
        return true;
      }
      return false;
    };
    const hh = LABEL_HEIGHT + LABEL_GAP;
    const placeNode = (n: (typeof nodes)[number], text: string): boolean => {
      const w = this.textWidth(text, LABEL_FONT) + 2 * LABEL_GAP;
      const spots = [
        { x: n.x, y: n.y + n.r + 1 + hh / 2 },
        { x: n.x, y: n.y - n.r - 1 - hh / 2 },
        { x: n.x + n.r + 2 + w / 2, y: n.y },
        { x: n.x - n.r - 2 - w / 2, y: n.y },
      ];
      return tryPlace(`n:${n.id}`, text, LABEL_FONT, hh, spots, nodeBox.get(n.id));
    };
    nodes.sort((a, b) => a.important - b.important || a.y - b.y || a.x - b.x);
    // Whole labels first, in priority order; then, where a whole label found no room, a shortened
    // one (a company's name cut to its first characters reads better than no name).
    const unplaced: (typeof nodes)[number][] = [];
    for (const n of nodes) {
      if (!n.label) continue;
      total++;
      // Ids and codes cut short say nothing (every account of a group shares a prefix): only names.
      if (!placeNode(n, n.label) && (n.kind === "PERSON" || n.kind === "ENTITY")) unplaced.push(n);
    }
    for (const n of unplaced) {
      const chars = [...n.label];
      for (const keep of [Math.ceil(chars.length * 0.6), 6, 4]) {
        if (keep >= chars.length - 1 || keep < 3) continue;
        if (placeNode(n, `${chars.slice(0, keep).join("")}…`)) break;
      }
    }
    // Edge labels last: they give way to every node label.
    this.graph.forEachEdge((id, a, source, target) => {
      if (a.synthetic || !a.label || !LABELLED_EDGES.has(a.kind)) return;
      const d = this.renderer.getEdgeDisplayData(id);
      if (!d || d.hidden) return;
      const s = nodeBox.get(source);
      const t2 = nodeBox.get(target);
      if (!s || !t2) return;
      const sx = (s.x1 + s.x2) / 2;
      const sy = (s.y1 + s.y2) / 2;
      const tx = (t2.x1 + t2.x2) / 2;
      const ty = (t2.y1 + t2.y2) / 2;
      const at = (f: number): { x: number; y: number } => ({ x: sx + f * (tx - sx), y: sy + f * (ty - sy) });
      total++;
      tryPlace(`e:${id}`, a.label, EDGE_LABEL_FONT, 13 + LABEL_GAP, [at(0.5), at(0.35), at(0.65), at(0.2), at(0.8)], undefined, true);
    });
    // Write the DOM: one element per label, reused across placements.
    const keep = new Set<string>();
    for (const l of labels) {
      keep.add(l.key);
      let el = this.labelEls.get(l.key);
      if (!el) {
        el = document.createElement("span");
        el.className = l.edge ? "glabel glabel-edge" : "glabel";
        el.dataset.for = l.key;
        // A node's label is its name or id: data, not the page's words (a hub's label is the page's).
        if (l.raw) el.dataset.raw = "";
        this.labelLayer.appendChild(el);
        this.labelEls.set(l.key, el);
      }
      if (el.textContent !== l.text) el.textContent = l.text;
      el.style.transform = `translate(${Math.round(l.box.x1 + LABEL_GAP)}px, ${Math.round(l.box.y1 + LABEL_GAP / 2)}px)`;
      el.style.width = `${Math.ceil(l.box.x2 - l.box.x1 - 2 * LABEL_GAP)}px`;
    }
    for (const [key, el] of this.labelEls) {
      if (keep.has(key)) continue;
      el.remove();
      this.labelEls.delete(key);
    }
    this.lastLabels = labels.map((l) => ({ text: l.text, font: l.font, x: l.box.x1 + LABEL_GAP, y: l.y, box: l.box }));
    this.container.dataset.labels = `${labels.length}/${total}`;
    return { shown: labels.length, total };
  }

  /** Node boxes in page coordinates, layers and layout figures: what the layout tests check. */
  layoutReport(): LayoutReport {
    const { shown, total } = this.placeLabels();
    const rect = this.container.getBoundingClientRect();
    return {
      layoutMs: this.lastLayout.ms,
      bands: this.lastLayout.bands,
      labelsShown: shown,
      labelsTotal: total,
      nodes: this.viewportNodes().map((n) => ({
        id: n.id,
        kind: n.kind,
        rank: this.ranks.get(n.id) ?? -1,
        box: { x1: rect.left + n.box.x1, y1: rect.top + n.box.y1, x2: rect.left + n.box.x2, y2: rect.top + n.box.y2 },
      })),
    };
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
    this.renderer.setSetting("renderEdgeLabels", !this.layeredMode && this.graph.size <= EDGE_LABEL_LIMIT);
    this.renderer.setSetting("hideEdgesOnMove", this.graph.size > HIDE_EDGES_ON_MOVE);
    this.renderer.setSetting("hideLabelsOnMove", this.graph.order > 1000);
    const order = this.graph.order;
    this.sizeScale = order > 300 ? Math.max(0.35, Math.sqrt(300 / order)) : 1;
    // Small graphs show every label; big ones only those of nodes drawn large enough (zoomed in).
    this.renderer.setSetting("labelRenderedSizeThreshold", order <= 150 ? 0 : order > 500 ? 10 : 6);
  }

  private publishCounts(): void {
    // What the API returned: the view's own hubs are not counted.
    this.container.dataset.nodes = String(this.graph.filterNodes((_, a) => !a.synthetic).length);
    this.container.dataset.edges = String(this.graph.filterEdges((_, a) => !a.synthetic).length);
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
    // Collapsed, pairwise evidence is shown by the structure and the hubs instead.
    if (this.layeredMode && data.kind === "EVIDENCE" && !this.pairwise) out.hidden = true;
    // Hundreds of holdings fanning out of one controller would paint the canvas dark: thinner, lighter.
    if (this.layeredMode && this.graph.order > 60 && CONTROL.has(data.kind)) {
      out.color = "#94a3b8";
      out.size = 1;
    }
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
