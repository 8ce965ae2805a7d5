//! The pages: sign-in, search, the list of groups, a group's graph and a subject's neighbourhood.
//! Each page builds its own DOM and may keep state across a language switch (`relabel`).

import { GRAPH_FIELDS, gql, me, neighborhood, setToken, type Connection, type Subgraph, type Viewer } from "./api";
import { h, replace, type Child } from "./dom";
import { BREACH_FIELDS, loadSeries, renderBreachPanel, type Breach } from "./breaches";
import type { PositionPoint } from "./breach-chart";
import { evidenceHubs, GraphView, legend, type NodeAttrs } from "./graph-view";
import { lang, t, tDyn } from "./i18n";
import { fill, GROUP_DETAIL_FIELDS, loadSubject, raw, renderGroupDetail, renderProfile, renderReview, subjectName, type GroupDetail } from "./panel";

export interface Page {
  el: HTMLElement;
  /** Called on a language switch; pages without it are rebuilt. */
  relabel?: () => void;
  destroy?: () => void;
}

declare global {
  interface Window {
    /** The graph on screen, for the end-to-end tests (node positions, counts). */
    ctrlgraphView?: GraphView;
  }
}

export function loginPage(onLogin: (viewer: Viewer) => void): Page {
  const input = h("input", { type: "password", name: "token", autocomplete: "off", "data-testid": "token", required: true });
  const error = h("p", { class: "error", "data-testid": "login-error" });
  const form = h(
    "form",
    { class: "login card" },
    h("h2", {}, t("login.title")),
    h("label", {}, t("login.token"), input),
    h("button", { type: "submit", "data-testid": "login-submit" }, t("login.submit")),
    error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    me(value)
      .then((viewer) => {
        setToken(value);
        onLogin(viewer);
      })
      .catch(() => (error.textContent = t("login.bad")));
  });
  return { el: h("main", { class: "page" }, form) };
}

interface Hit {
  subject: { id: string; kind: string; label: string };
  matchedField: string;
  matchedText: string;
}

export function searchPage(query: string): Page {
  const input = h("input", { type: "search", name: "q", value: query, placeholder: t("search.placeholder"), "data-testid": "search-input" });
  const results = h("div", { "data-testid": "search-results" });
  const form = h("form", { class: "searchbar" }, input, h("button", { type: "submit", "data-testid": "search-submit" }, t("search.submit")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
  });
  if (query) {
    void fill(
      results,
      gql<{ search: Hit[] }>(
        `query Search($text: String!) { search(text: $text, first: 50) { subject { id kind label } matchedField matchedText } }`,
        { text: query },
      ),
      ({ search }) =>
        search.length === 0
          ? h("p", {}, t("search.none"))
          : h(
              "ul",
              { class: "hits" },
              search.map((hit) =>
                h(
                  "li",
                  { "data-testid": "hit", "data-id": hit.subject.id },
                  h("span", { class: `kind kind-${hit.subject.kind}` }, tDyn("kind", hit.subject.kind)),
                  " ",
                  h("a", { href: `#/subject/${encodeURIComponent(hit.subject.id)}` }, subjectName(hit.subject)),
                  h("span", { class: "small" }, " ", raw(hit.subject.id), ` · ${t("search.matched", { field: tDyn("field", hit.matchedField) })}: `, raw(hit.matchedText)),
                ),
              ),
            ),
    );
  }
  return { el: h("main", { class: "page" }, h("h2", {}, t("search.title")), form, results) };
}

interface GroupRow {
  id: string;
  size: number;
  score: number;
  status: string;
  criteria: string[];
  controller: { id: string; label: string } | null;
  members: { id: string; label: string }[];
  review: { decision: string } | null;
}
interface GroupPage {
  controlGroups: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: GroupRow }[];
  };
}

const ORDERS = ["PRIORITY", "SCORE_DESC", "SIZE_DESC", "ID_ASC"] as const;
const CRITERIA = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"];

export function groupsPage(params: URLSearchParams): Page {
  const order = ORDERS.includes(params.get("order") as (typeof ORDERS)[number]) ? params.get("order")! : "PRIORITY";
  const unreported = params.get("status") === "UNREPORTED";
  const member = params.get("member") ?? "";
  const criterion = CRITERIA.includes(params.get("criterion") ?? "") ? params.get("criterion")! : "";
  const reviewed = ["true", "false"].includes(params.get("reviewed") ?? "") ? params.get("reviewed")! : "";

  const orderSel = h("select", { name: "order", "data-testid": "groups-order" }, ORDERS.map((o) => h("option", { value: o, selected: o === order }, tDyn("groups.order", o))));
  const unreportedBox = h("input", { type: "checkbox", name: "unreported", checked: unreported, "data-testid": "groups-unreported" });
  const memberInput = h("input", { type: "text", name: "member", value: member, size: 10, "data-testid": "groups-member" });
  const criterionSel = h(
    "select",
    { name: "criterion", "data-testid": "groups-criterion" },
    h("option", { value: "" }, t("groups.any")),
    CRITERIA.map((c) => h("option", { value: c, selected: c === criterion }, c)),
  );
  const reviewedSel = h(
    "select",
    { name: "reviewed", "data-testid": "groups-reviewed" },
    h("option", { value: "" }, t("groups.any")),
    h("option", { value: "false", selected: reviewed === "false" }, t("groups.unreviewed")),
    h("option", { value: "true", selected: reviewed === "true" }, t("groups.reviewed")),
  );
  const filters = h(
    "form",
    { class: "filters" },
    h("label", {}, t("groups.order"), " ", orderSel),
    h("label", {}, unreportedBox, " ", t("groups.unreported")),
    h("label", {}, t("groups.member"), " ", memberInput),
    h("label", {}, t("groups.criterion"), " ", criterionSel),
    h("label", {}, t("groups.review"), " ", reviewedSel),
    h("button", { type: "submit", "data-testid": "groups-apply" }, t("groups.apply")),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    next.set("order", orderSel.value);
    if (unreportedBox.checked) next.set("status", "UNREPORTED");
    if (memberInput.value.trim()) next.set("member", memberInput.value.trim());
    if (criterionSel.value) next.set("criterion", criterionSel.value);
    if (reviewedSel.value) next.set("reviewed", reviewedSel.value);
    location.hash = `#/groups?${next}`;
  });

  const total = h("p", { class: "small", "data-testid": "groups-total" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true, "data-testid": "groups-more" }, t("groups.more"));
  const error = h("p", { class: "error" });
  const filter: Record<string, string | boolean> = {};
  if (unreported) filter.status = "UNREPORTED";
  if (member) filter.memberId = member;
  if (criterion) filter.criterion = criterion;
  if (reviewed) filter.reviewed = reviewed === "true";
  let after: string | null = null;

  const load = (): void => {
    more.disabled = true;
    gql<GroupPage>(
      `query Groups($filter: GroupFilter, $order: GroupOrder!, $after: String) {
        controlGroups(filter: $filter, orderBy: $order, first: 50, after: $after) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id size score status criteria controller { id label } members { id label } review { decision } } }
        }
      }`,
      { filter, order, after },
    )
      .then(({ controlGroups: page }) => {
        total.textContent = t(page.totalCount === 1 ? "groups.total1" : "groups.total", { n: page.totalCount });
        total.dataset.total = String(page.totalCount);
        // Which list this is, for tests that must not read the one being left.
        total.dataset.loaded = params.toString();
        for (const { node: g } of page.edges) {
          body.append(
            h(
              "tr",
              { "data-testid": "group-row", "data-id": g.id },
              h("td", {}, h("a", { href: `#/group/${encodeURIComponent(g.id)}` }, g.id)),
              h(
                "td",
                { class: "num size" },
                // A bar growing with the logarithm of the size: 2 accounts short, 200 long.
                h("span", { class: "sizebar", style: `width:${Math.min(120, Math.round(18 * Math.log2(Math.max(2, g.size))))}px` }),
                ` ${g.size}`,
              ),
              h("td", { class: "num" }, g.score.toFixed(3)),
              h("td", {}, h("span", { class: `status status-${g.status}` }, tDyn("status", g.status))),
              h("td", {}, g.criteria.join(" ")),
              h("td", {}, g.controller ? h("a", { href: `#/subject/${encodeURIComponent(g.controller.id)}` }, raw(g.controller.label)) : ""),
              h("td", {}, h("span", { class: "count" }, g.members.length), " ", raw(g.members.map((m) => m.id).join(", "))),
              h("td", { "data-testid": "group-review" }, g.review ? tDyn("review", g.review.decision) : "–"),
            ),
          );
        }
        after = page.pageInfo.endCursor;
        more.hidden = !page.pageInfo.hasNextPage;
        more.disabled = false;
      })
      .catch((e: Error) => (error.textContent = t("error.generic", { msg: e.message })));
  };
  more.addEventListener("click", load);
  load();

  const table = h(
    "table",
    { class: "groups", "data-testid": "groups-table" },
    h(
      "thead",
      {},
      h("tr", {}, (["col.id", "col.size", "col.score", "col.status", "col.criteria", "col.controller", "col.members", "col.review"] as const).map((k) => h("th", {}, t(k)))),
    ),
    body,
  );
  return { el: h("main", { class: "page" }, h("h2", {}, t("groups.title")), filters, total, error, table, more) };
}

/**
 * The graph workspace shared by the group and subject pages: a toolbar, the canvas with its
 * legend under it (never over the drawing), and a side panel with the selected node's profile,
 * an explained path and `extra`.
 */
function workspace(opts: {
  /** The page's title: its words, and its data (names) as marked nodes. */
  title: () => Child;
  exportName: string;
  load: () => Promise<Subgraph>;
  extra: (panel: HTMLElement) => void;
  initialSelection?: string;
  /** Lay out in layers (a group's structure of control), with pairwise evidence collapsed. */
  layered?: boolean;
  /** Called before the loaded graph is drawn, and after. */
  before?: (view: GraphView) => void;
  after?: (view: GraphView) => void;
}): Page {
  const status = h("span", { class: "small", "data-testid": "graph-status" });
  const canvas = h("div", { class: "graph", "data-testid": "graph", "data-view": opts.exportName });
  const legendSlot = h("div", { class: "legend-slot" });
  const profile = h("section", { "data-testid": "profile-panel" });
  const pathBox = h("section", { "data-testid": "path-panel" });
  const extra = h("section");
  const title = h("h2");
  const toolbar = h("div", { class: "toolbar" });
  const hint = h("p", { class: "small hint" });
  let view: GraphView | null = null;
  let selected: string | null = opts.initialSelection ?? null;
  let lastPath: { path: Connection | null; a: string; b: string } | null = null;

  const showStatus = (v: GraphView): void => {
    status.textContent = t("graph.status", { nodes: v.graph.order, edges: v.graph.size });
  };
  const showProfile = (id: string, attrs?: NodeAttrs): void => {
    selected = id;
    if (attrs?.synthetic && view) {
      // An evidence hub is the page's own: what it stands for and the accounts it joins.
      const accounts = view.graph.neighbors(id);
      replace(
        profile,
        h(
          "div",
          { class: "profile", "data-testid": "profile", "data-id": id },
          h("h3", {}, h("span", { class: "kind kind-EVIDENCE" }, t("kind.EVIDENCE")), " ", attrs.label),
          h("p", { class: "small" }, t("graph.hubinfo")),
          h("ul", { class: "refs" }, accounts.map((a) => h("li", {}, h("a", { href: `#/subject/${encodeURIComponent(a)}` }, raw(a))))),
        ),
      );
      return;
    }
    void fill(profile, loadSubject(id), (p) => (p ? renderProfile(p) : h("p", {}, id)));
  };
  const showPath = (): void => {
    if (!lastPath) return replace(pathBox);
    const { path, a, b } = lastPath;
    replace(
      pathBox,
      h("h4", {}, t(path ? "graph.path" : "graph.nopath", { a, b })),
      path ? h("ol", { class: "small", "data-testid": "path-explanation" }, (lang() === "zh" ? path.zh : path.explanation).map((line) => h("li", {}, line))) : null,
      h("button", { type: "button", onclick: () => view?.clearPath() && undefined }, t("graph.clearpath")),
    );
  };
  const chrome = (): void => {
    replace(title, opts.title());
    hint.textContent = t("graph.hint");
    const pairwise = opts.layered
      ? h("button", { type: "button", "data-testid": "pairwise", "aria-pressed": String(view?.pairwiseShown ?? false) }, t(view?.pairwiseShown ? "graph.pairwise.hide" : "graph.pairwise.show"))
      : null;
    pairwise?.addEventListener("click", () => {
      if (!view) return;
      const shown = view.togglePairwise();
      pairwise.textContent = t(shown ? "graph.pairwise.hide" : "graph.pairwise.show");
      pairwise.setAttribute("aria-pressed", String(shown));
    });
    replace(
      toolbar,
      h("button", { type: "button", "data-testid": "fit", onclick: () => view?.fit() }, t("graph.fit")),
      h("button", { type: "button", "data-testid": "layout", onclick: () => view?.runLayout() }, t("graph.layout")),
      pairwise,
      h("button", { type: "button", "data-testid": "export-png", onclick: () => void view?.exportPng(opts.exportName) }, t("graph.png")),
      h("button", { type: "button", "data-testid": "export-json", onclick: () => view?.exportJson(opts.exportName) }, t("graph.json")),
      status,
    );
    replace(legendSlot, legend());
    view?.relabel();
    if (view) showStatus(view);
    if (selected) showProfile(selected);
    else replace(profile, h("p", { class: "small" }, t("profile.none")));
    showPath();
    opts.extra(extra);
  };

  const el = h(
    "main",
    { class: "page workspace" },
    h("div", { class: "main-col" }, title, toolbar, hint, h("div", { class: "graph-wrap" }, canvas), legendSlot),
    h("aside", { class: "side" }, profile, pathBox, extra),
  );
  chrome();

  // Sigma needs the container in the document to measure it: start on the next frame.
  requestAnimationFrame(() => {
    view = new GraphView(canvas, {
      layered: opts.layered,
      onSelect: (id, attrs) => showProfile(id, attrs),
      onPath: (path, a, b) => {
        lastPath = { path, a, b };
        showPath();
      },
      onChange: showStatus,
    });
    window.ctrlgraphView = view;
    opts
      .load()
      .then((sub) => {
        replace(title, opts.title());
        if (view) opts.before?.(view);
        view?.reset(sub);
        if (view) opts.after?.(view);
        canvas.dataset.loaded = "true";
      })
      .catch((e: Error) => {
        canvas.dataset.loaded = "error";
        replace(extra, h("p", { class: "error" }, t("error.generic", { msg: e.message })));
      });
  });

  return {
    el,
    relabel: chrome,
    destroy: () => {
      view?.destroy();
      if (window.ctrlgraphView === view) window.ctrlgraphView = undefined;
    },
  };
}

interface GroupData extends GroupDetail {
  graph: Subgraph;
  accounts: { id: string }[];
  breaches: Breach[];
}

/**
 * A group's view: the graph, and in the side panel its breaches as one trader (when it has any),
 * its detail and evidence, and the review. `focus=evidence` in the URL scrolls to the evidence.
 */
export function groupPage(id: string, viewer: Viewer, params: URLSearchParams = new URLSearchParams()): Page {
  let group: GroupData | null = null;
  let error: string | null = null;
  let page: Page;
  let focusEvidence = params.get("focus") === "evidence";
  // Kept across a language switch: the chosen contract and the series already loaded.
  const chart = { instrument: null as string | null };
  const series = new Map<string, Promise<PositionPoint[]>>();
  const seriesOf = (instrument: string): Promise<PositionPoint[]> => {
    let s = series.get(instrument);
    if (!s) {
      s = loadSeries(id, instrument);
      series.set(instrument, s);
      s.catch(() => series.delete(instrument));
    }
    return s;
  };
  const load = async (): Promise<Subgraph> => {
    try {
      const data = await gql<{ controlGroup: GroupData | null }>(
        `query Group($id: ID!) { controlGroup(id: $id) { ${GROUP_DETAIL_FIELDS} accounts { id } breaches { ${BREACH_FIELDS} } graph { ${GRAPH_FIELDS} truncated } } }`,
        { id },
      );
      group = data.controlGroup;
      if (!group) error = t("group.notfound");
    } catch (e) {
      error = (e as Error).message;
    }
    page.relabel?.();
    return group?.graph ?? { nodes: [], edges: [] };
  };
  const extra = (panel: HTMLElement): void => {
    if (error) return replace(panel, h("p", { class: "error" }, error));
    if (!group) return replace(panel, h("p", { class: "small" }, t("loading")));
    const g = group;
    const showEvidence = (): void => {
      const evidence = panel.querySelector<HTMLElement>('[data-testid="evidence"]');
      if (!evidence) return;
      evidence.classList.add("focus");
      evidence.previousElementSibling?.scrollIntoView({ block: "start" });
    };
    replace(
      panel,
      g.graph.truncated ? h("p", { class: "small" }, t("group.truncated")) : null,
      g.breaches.length ? renderBreachPanel({ breaches: g.breaches, members: g.accounts.map((a) => a.id), state: chart, series: seriesOf, onEvidence: showEvidence }) : null,
      renderGroupDetail(g),
      renderReview(g, viewer.role, (review) => {
        g.review = review;
        g.reviews = [review, ...g.reviews];
        extra(panel);
      }),
    );
    if (focusEvidence) {
      // Once the chart above it is drawn, so that it does not push the evidence away.
      focusEvidence = false;
      const drawn = chart.instrument ? seriesOf(chart.instrument) : Promise.resolve([]);
      void drawn.catch(() => []).then(() => requestAnimationFrame(showEvidence));
    }
  };
  page = workspace({
    title: () => t("group.title", { id }) + (group ? ` · ${group.size} · ${group.score.toFixed(3)}` : ""),
    exportName: `group-${id}`,
    load,
    extra,
    layered: true,
    before: (view) => view.setTop(group?.controller?.id ?? null),
    after: (view) => {
      if (group) view.addHubs(evidenceHubs(group.evidence));
    },
  });
  return page;
}

/** A subject's neighbourhood; `depth` (1-3) and `limit` (nodes, up to 5000) come from the URL. */
export function subjectPage(id: string, params: URLSearchParams): Page {
  const depth = Math.min(3, Math.max(1, Number(params.get("depth")) || 1));
  const limit = Math.min(5000, Math.max(1, Number(params.get("limit")) || 500));
  // The subject's name once the neighbourhood is loaded; until then its id.
  let label: string | null = null;
  let kind: string | undefined;
  return workspace({
    title: () => {
      const who = label && label !== id ? [subjectName({ id, label, kind }), " (", raw(id), ")"] : raw(id);
      return [who, ` · ${t(depth === 1 ? "subject.depth1" : "subject.depth", { n: depth })}`];
    },
    exportName: `subject-${id}`,
    load: async () => {
      const sub = await neighborhood(id, depth, limit);
      const node = sub.nodes.find((n) => n.id === id);
      label = node?.label ?? null;
      kind = node?.kind;
      return sub;
    },
    extra: () => {},
    initialSelection: id,
  });
}
