//! What follows from a group: its limit breaches as one trader on the group view (a table, and the
//! chart of its position against the limit), and the market-wide page of breaches and reporting
//! findings, filtered and paged with the API's cursor.

import { gql } from "./api";
import { positionChart, type PositionPoint, type Side } from "./breach-chart";
import { h, replace, type Child } from "./dom";
import { t, tDyn, tParts } from "./i18n";
import { raw, subjectLink } from "./panel";

export type BreachKind = "POSITION_LONG" | "POSITION_SHORT" | "OPENING" | "SELF_TRADE" | "CANCEL" | "LARGE_CANCEL";
export const BREACH_KINDS: BreachKind[] = ["POSITION_LONG", "POSITION_SHORT", "OPENING", "SELF_TRADE", "CANCEL", "LARGE_CANCEL"];

export interface Breach {
  groupId: string;
  source: "DETECTED" | "REPORTED";
  kind: BreachKind;
  scope: string;
  date: string;
  figure: number;
  limit: number;
  limitScope: string;
  onlyAsGroup: boolean;
  parts: { account: { id: string; label: string }; share: number; alone: number }[];
}

export const BREACH_FIELDS = "groupId source kind scope date figure limit limitScope onlyAsGroup parts { account { id label } share alone }";

const SIDE: Partial<Record<BreachKind, Side>> = { POSITION_LONG: "long", POSITION_SHORT: "short" };

/** The contracts of a group's position breaches, that of its first position breach first. */
export function breachedInstruments(breaches: Breach[]): string[] {
  return [...new Set(breaches.filter((b) => SIDE[b.kind]).map((b) => b.scope))];
}

/** The group's figure against the limit, with the limit's scope when it is the product's. */
function figureCells(b: Breach): HTMLElement[] {
  return [
    h("td", { class: "num", "data-testid": "breach-figure" }, String(b.figure)),
    h(
      "td",
      { class: "num", "data-testid": "breach-limit" },
      String(b.limit),
      b.limitScope !== b.scope ? h("span", { class: "small" }, " ", tParts("breach.limitScope", { scope: raw(b.limitScope) })) : null,
    ),
  ];
}

/** Each account's share of the figure and its own figure alone. */
function partsList(b: Breach): HTMLElement {
  return h(
    "ul",
    { class: "refs parts" },
    b.parts.map((p) =>
      h(
        "li",
        { "data-testid": "breach-part", "data-account": p.account.id, "data-share": p.share, "data-alone": p.alone },
        subjectLink(p.account),
        ` ${p.share} `,
        h("span", { class: "small" }, t("breach.alone", { n: p.alone })),
      ),
    ),
  );
}

function onlyBadge(b: Breach): Child {
  return b.onlyAsGroup ? h("span", { class: "only-group", "data-testid": "only-as-group" }, t("breach.onlyAsGroup")) : null;
}

/**
 * The breach panel of a group view: the breaches (only-as-a-group first, as the API orders
 * them), a link from each to the group's evidence, and the chart of the group's position in the
 * chosen contract. `series` loads a contract's series once; `state.instrument` is kept by the
 * caller across language switches.
 */
export function renderBreachPanel(opts: {
  breaches: Breach[];
  /** The group's accounts, in the order that gives each its colour. */
  members: string[];
  state: { instrument: string | null };
  series: (instrument: string) => Promise<PositionPoint[]>;
  onEvidence: () => void;
}): HTMLElement {
  const { breaches, state } = opts;
  const instruments = breachedInstruments(breaches);
  if (!state.instrument || !instruments.includes(state.instrument)) state.instrument = instruments[0] ?? null;
  const root = h("section", { class: "breaches", "data-testid": "breach-panel", "data-count": breaches.length });
  const evidenceLink = (b: Breach): HTMLElement =>
    h(
      "a",
      {
        href: `#/group/${encodeURIComponent(b.groupId)}?focus=evidence`,
        "data-testid": "breach-evidence",
        onclick: (event: Event) => {
          event.preventDefault();
          opts.onEvidence();
        },
      },
      t("breach.evidence"),
    );
  const table = h(
    "table",
    { class: "groups breach-table", "data-testid": "breach-table" },
    h("thead", {}, h("tr", {}, (["bcol.kind", "bcol.scope", "bcol.date", "bcol.figure", "bcol.limit"] as const).map((k) => h("th", {}, t(k))))),
    h(
      "tbody",
      {},
      breaches.map((b) => [
        h(
          "tr",
          { "data-testid": "breach-row", "data-kind": b.kind, "data-scope": b.scope, "data-date": b.date, "data-only": String(b.onlyAsGroup), class: b.onlyAsGroup ? "only" : "" },
          h("td", {}, tDyn("breach", b.kind), " ", onlyBadge(b)),
          h("td", {}, raw(b.scope)),
          h("td", { class: "day" }, b.date),
          figureCells(b),
        ),
        h("tr", { class: "parts-row" }, h("td", { colspan: 5 }, partsList(b), evidenceLink(b))),
      ]),
    ),
  );
  const chartTitle = h("h4");
  const chartBox = h("div", { "data-testid": "chart-box" });
  const showChart = (): void => {
    const instrument = state.instrument;
    if (!instrument) {
      root.dataset.ready = "true";
      return;
    }
    root.dataset.ready = "false";
    replace(chartTitle, tParts("chart.title", { instrument: raw(instrument) }));
    replace(chartBox, h("p", { class: "small" }, t("loading")));
    opts
      .series(instrument)
      .then((series) => {
        if (state.instrument !== instrument) return;
        const breached: Record<Side, Set<string>> = { long: new Set(), short: new Set() };
        for (const b of breaches) if (b.scope === instrument && SIDE[b.kind]) breached[SIDE[b.kind]!].add(b.date);
        replace(chartBox, positionChart(instrument, series, breached, opts.members));
        root.dataset.ready = "true";
      })
      .catch((e: Error) => {
        replace(chartBox, h("p", { class: "error" }, t("error.generic", { msg: e.message })));
        root.dataset.ready = "true";
      });
  };
  let picker: HTMLSelectElement | null = null;
  if (instruments.length > 1) {
    picker = h("select", { name: "instrument", "data-testid": "chart-instrument" }, instruments.map((i) => h("option", { value: i, selected: i === state.instrument, "data-raw": true }, i)));
    picker.addEventListener("change", () => {
      state.instrument = picker!.value;
      showChart();
    });
  }
  replace(
    root,
    h("h4", {}, t("breach.panel"), ` (${breaches.length})`),
    table,
    state.instrument
      ? [chartTitle, picker ? h("label", { class: "small" }, t("chart.instrument"), " ", picker) : null, chartBox]
      : null,
  );
  showChart();
  return root;
}

/** A group's position series in one contract, oldest day first. */
export async function loadSeries(groupId: string, instrument: string): Promise<PositionPoint[]> {
  const data = await gql<{ controlGroup: { positionSeries: PositionPoint[] } | null }>(
    `query Series($id: ID!, $instrument: String!) {
      controlGroup(id: $id) { positionSeries(instrument: $instrument) { date long short limit parts { account { id label } long short } } }
    }`,
    { id: groupId, instrument },
  );
  return data.controlGroup?.positionSeries ?? [];
}

interface ListedBreach extends Breach {
  group: { id: string; size: number; status: string } | null;
}
interface BreachPage {
  breaches: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: ListedBreach }[];
  };
}
interface ReportingIssue {
  kind: "OVERDUE" | "PARTLY_REPORTED" | "STALE";
  groupId: string;
  group: { id: string; size: number } | null;
  reportedGroup: string | null;
  accounts: { id: string; label: string }[];
  missing: { id: string; label: string }[];
  due: string | null;
  overdue: boolean;
}

const STATUSES = ["UNREPORTED", "PARTIALLY_REPORTED", "REPORTED"];
const SOURCES = ["DETECTED", "REPORTED"];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A group's id: a link to its view for a detected group, the reported group's id as data. */
function groupCell(groupId: string, detected: boolean): Child {
  return detected ? h("a", { href: `#/group/${encodeURIComponent(groupId)}`, "data-group": groupId }, raw(groupId)) : [raw(groupId), " ", h("span", { class: "small" }, tDyn("source", "REPORTED"))];
}

/**
 * The market-wide page of breaches: filters in the URL (kind, from, to, instrument, only,
 * status, source), 50 rows a page with a button for more, each row linking to its group; under
 * it the reporting findings (overdue, partly reported, stale), each linking to its group.
 */
export function breachesPage(params: URLSearchParams): { el: HTMLElement } {
  const kind = BREACH_KINDS.includes(params.get("kind") as BreachKind) ? params.get("kind")! : "";
  const from = DAY.test(params.get("from") ?? "") ? params.get("from")! : "";
  const to = DAY.test(params.get("to") ?? "") ? params.get("to")! : "";
  const instrument = (params.get("instrument") ?? "").trim();
  const only = params.get("only") === "true";
  const status = STATUSES.includes(params.get("status") ?? "") ? params.get("status")! : "";
  const source = SOURCES.includes(params.get("source") ?? "") ? params.get("source")! : "";

  const kindSel = h("select", { name: "kind", "data-testid": "breaches-kind" }, h("option", { value: "" }, t("groups.any")), BREACH_KINDS.map((k) => h("option", { value: k, selected: k === kind }, tDyn("breach", k))));
  const fromInput = h("input", { type: "date", name: "from", value: from, "data-testid": "breaches-from" });
  const toInput = h("input", { type: "date", name: "to", value: to, "data-testid": "breaches-to" });
  const instrumentInput = h("input", { type: "text", name: "instrument", value: instrument, size: 8, "data-testid": "breaches-instrument" });
  const onlyBox = h("input", { type: "checkbox", name: "only", checked: only, "data-testid": "breaches-only" });
  const statusSel = h("select", { name: "status", "data-testid": "breaches-status" }, h("option", { value: "" }, t("groups.any")), STATUSES.map((s) => h("option", { value: s, selected: s === status }, tDyn("status", s))));
  const sourceSel = h("select", { name: "source", "data-testid": "breaches-source" }, h("option", { value: "" }, t("groups.any")), SOURCES.map((s) => h("option", { value: s, selected: s === source }, tDyn("source", s))));
  const filters = h(
    "form",
    { class: "filters" },
    h("label", {}, t("breaches.kind"), " ", kindSel),
    h("label", {}, t("breaches.from"), " ", fromInput),
    h("label", {}, t("breaches.to"), " ", toInput),
    h("label", {}, t("breaches.instrument"), " ", instrumentInput),
    h("label", {}, onlyBox, " ", t("breach.onlyAsGroup")),
    h("label", {}, t("col.status"), " ", statusSel),
    h("label", {}, t("breaches.source"), " ", sourceSel),
    h("button", { type: "submit", "data-testid": "breaches-apply" }, t("groups.apply")),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (kindSel.value) next.set("kind", kindSel.value);
    if (fromInput.value) next.set("from", fromInput.value);
    if (toInput.value) next.set("to", toInput.value);
    if (instrumentInput.value.trim()) next.set("instrument", instrumentInput.value.trim());
    if (onlyBox.checked) next.set("only", "true");
    if (statusSel.value) next.set("status", statusSel.value);
    if (sourceSel.value) next.set("source", sourceSel.value);
    location.hash = `#/breaches?${next}`;
  });

  const filter: Record<string, string | boolean> = {};
  if (kind) filter.kind = kind;
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (instrument) filter.instrument = instrument;
  if (only) filter.onlyAsGroup = true;
  if (status) filter.status = status;
  if (source) filter.source = source;

  const total = h("p", { class: "small", "data-testid": "breaches-total" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true, "data-testid": "breaches-more" }, t("groups.more"));
  const error = h("p", { class: "error" });
  let after: string | null = null;
  const load = (): void => {
    more.disabled = true;
    gql<BreachPage>(
      `query Breaches($filter: BreachFilter, $after: String) {
        breaches(filter: $filter, first: 50, after: $after) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { ${BREACH_FIELDS} group { id size status } } }
        }
      }`,
      { filter, after },
    )
      .then(({ breaches: page }) => {
        total.textContent = t(page.totalCount === 1 ? "breaches.total1" : "breaches.total", { n: page.totalCount });
        total.dataset.total = String(page.totalCount);
        total.dataset.loaded = params.toString();
        for (const { node: b } of page.edges) {
          body.append(
            h(
              "tr",
              {
                "data-testid": "breach-list-row",
                "data-group": b.groupId,
                "data-kind": b.kind,
                "data-scope": b.scope,
                "data-date": b.date,
                "data-only": String(b.onlyAsGroup),
                "data-source": b.source,
                class: b.onlyAsGroup ? "only" : "",
              },
              h("td", {}, groupCell(b.groupId, b.group !== null)),
              h("td", {}, tDyn("breach", b.kind), " ", onlyBadge(b)),
              h("td", {}, raw(b.scope)),
              h("td", { class: "day" }, b.date),
              figureCells(b),
              h("td", {}, partsList(b)),
              h("td", {}, b.group ? h("span", { class: `status status-${b.group.status}` }, tDyn("status", b.group.status)) : "–"),
              h("td", {}, b.group ? h("a", { href: `#/group/${encodeURIComponent(b.groupId)}?focus=evidence`, "data-testid": "breach-evidence" }, t("breach.evidence")) : "–"),
            ),
          );
        }
        after = page.pageInfo.endCursor;
        more.hidden = !page.pageInfo.hasNextPage;
        more.disabled = false;
        body.dataset.rows = String(body.children.length);
      })
      .catch((e: Error) => (error.textContent = t("error.generic", { msg: e.message })));
  };
  more.addEventListener("click", load);
  load();

  const table = h(
    "table",
    { class: "groups", "data-testid": "breaches-table" },
    h(
      "thead",
      {},
      h("tr", {}, (["bcol.group", "bcol.kind", "bcol.scope", "bcol.date", "bcol.figure", "bcol.limit", "bcol.parts", "col.status", "breach.evidence"] as const).map((k) => h("th", {}, t(k)))),
    ),
    body,
  );

  const reports = h("div", { "data-testid": "reports" });
  gql<{ overdueReports: ReportingIssue[] }>(
    `query Reporting { overdueReports { kind groupId group { id size } reportedGroup accounts { id label } missing { id label } due overdue } }`,
  )
    .then(({ overdueReports: issues }) =>
      replace(
        reports,
        issues.length === 0
          ? h("p", { class: "small", "data-testid": "reports-none" }, t("reports.none"))
          : h(
              "table",
              { class: "groups", "data-testid": "reports-table" },
              h("thead", {}, h("tr", {}, (["rcol.kind", "bcol.group", "rcol.reported", "rcol.accounts", "rcol.missing", "rcol.due"] as const).map((k) => h("th", {}, t(k))))),
              h(
                "tbody",
                {},
                issues.map((r) =>
                  h(
                    "tr",
                    { "data-testid": "report-row", "data-kind": r.kind, "data-group": r.groupId },
                    h("td", {}, h("span", { class: `status report-${r.kind}` }, tDyn("reports.kind", r.kind))),
                    h("td", {}, groupCell(r.groupId, r.group !== null)),
                    h("td", {}, r.reportedGroup ? raw(r.reportedGroup) : "–"),
                    h("td", {}, r.accounts.map((a) => [subjectLink(a), " "])),
                    h("td", {}, r.missing.length ? r.missing.map((a) => [subjectLink(a), " "]) : "–"),
                    h("td", {}, r.due ?? "–", r.overdue ? [" ", h("span", { class: "only-group" }, t("reports.overdue"))] : null),
                  ),
                ),
              ),
            ),
      ),
    )
    .catch((e: Error) => replace(reports, h("p", { class: "error" }, t("error.generic", { msg: e.message }))));

  return {
    el: h("main", { class: "page" }, h("h2", {}, t("breaches.title")), filters, total, error, table, more, h("h3", {}, t("reports.title")), reports),
  };
}
