//! The chart of a group's position in one contract against the limit, drawn by the page as one
//! SVG: per trading day a bar stacked by account (one colour per account, with a legend), the
//! limit in force as a step line, the days the group breached marked. Long and short positions
//! get a panel each when the series holds both sides.
//!
//! Every bar segment and limit step carries its figures (`data-lots`, `data-limit`) and each
//! panel its baseline and scale (`data-y0`, `data-scale`, lots to SVG units), so that what is
//! drawn can be checked against the API.

import { h, svg } from "./dom";
import { t } from "./i18n";

export interface PositionPoint {
  date: string;
  long: number;
  short: number;
  limit: number | null;
  parts: { account: { id: string; label: string }; long: number; short: number }[];
}

export type Side = "long" | "short";

/** The chart's geometry in SVG units (the SVG scales to the panel's width). */
const WIDTH = 360;
const LEFT = 46;
const RIGHT = 8;
const PANEL = 150;
const TOP = 18;
const AXIS = 18;

/** Twelve colours apart from one another; past them, hues a golden angle apart. */
const PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4d7c0f", "#7c2d12", "#475569", "#0d9488", "#a21caf"];

export function accountColour(index: number): string {
  return index < PALETTE.length ? PALETTE[index] : `hsl(${Math.round((index * 137.508) % 360)} 65% 45%)`;
}

/**
 * The accounts of `series`, most lots over the whole series first: the order of the stack (from
 * the baseline up) and of the legend.
 */
export function chartAccounts(series: PositionPoint[]): string[] {
  const total = new Map<string, number>();
  for (const p of series) for (const part of p.parts) total.set(part.account.id, (total.get(part.account.id) ?? 0) + part.long + part.short);
  return [...total].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
}

/**
 * The chart of `series` (oldest day first) in `instrument`; `breached` holds the days the group
 * breached the limit on each side; `members`, the group's accounts, fix each account's colour
 * so that it keeps it from one contract to the next. Returns the SVG and its legend in one element.
 */
export function positionChart(instrument: string, series: PositionPoint[], breached: Record<Side, Set<string>>, members: string[] = []): HTMLElement {
  const sides = (["long", "short"] as const).filter((side) => series.some((p) => p[side] > 0) || breached[side].size > 0);
  if (series.length === 0 || sides.length === 0) {
    return h("p", { class: "small", "data-testid": "position-chart-empty" }, t("chart.none"));
  }
  const accounts = chartAccounts(series);
  const palette = [...members, ...accounts.filter((id) => !members.includes(id))];
  const colour = new Map(accounts.map((id) => [id, accountColour(palette.indexOf(id))]));
  const plotW = WIDTH - LEFT - RIGHT;
  const band = plotW / series.length;
  const barW = Math.max(1, band * 0.7);
  const height = sides.length * (PANEL + TOP + AXIS);
  // Label every day when there is room, else every k-th day.
  const every = Math.max(1, Math.ceil(series.length / Math.floor(plotW / 34)));

  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: "100%",
    role: "img",
    "aria-label": t("chart.title", { instrument }),
    "data-testid": "position-svg",
    "data-instrument": instrument,
  });
  sides.forEach((side, k) => {
    const top = k * (PANEL + TOP + AXIS) + TOP;
    const y0 = top + PANEL;
    const max = Math.max(1, ...series.map((p) => Math.max(p[side], p.limit ?? 0))) * 1.1;
    const scale = PANEL / max;
    const panel = svg("g", { "data-testid": "position-panel", "data-side": side, "data-y0": y0, "data-scale": scale });
    root.append(panel);
    panel.append(
      svg("text", { x: 2, y: top - 6, class: "chart-title" }, t(side === "long" ? "chart.long" : "chart.short")),
      svg("line", { x1: LEFT, x2: WIDTH - RIGHT, y1: y0, y2: y0, class: "chart-axis" }),
      svg("text", { x: LEFT - 4, y: y0 + 3, class: "chart-tick" }, "0"),
    );
    series.forEach((p, i) => {
      const x = LEFT + i * band + (band - barW) / 2;
      const hit = breached[side].has(p.date);
      const day = svg("g", { "data-testid": "position-day", "data-date": p.date, "data-total": p[side], "data-breached": hit ? "true" : "false" });
      let stacked = 0;
      const parts = [...p.parts].filter((part) => part[side] > 0).sort((a, b) => accounts.indexOf(a.account.id) - accounts.indexOf(b.account.id));
      for (const part of parts) {
        const lots = part[side];
        day.append(
          svg(
            "rect",
            {
              x,
              y: y0 - (stacked + lots) * scale,
              width: barW,
              height: lots * scale,
              fill: colour.get(part.account.id) ?? "#94a3b8",
              "data-testid": "position-segment",
              "data-account": part.account.id,
              "data-lots": lots,
            },
            svg("title", {}, `${part.account.id} ${p.date}: ${t("chart.lots", { n: lots })}`),
          ),
        );
        stacked += lots;
      }
      if (hit) {
        // A red mark above the bar: the day the group was over the limit.
        const cx = x + barW / 2;
        const yTop = y0 - stacked * scale - 3;
        day.append(svg("path", { d: `M${cx - 4},${yTop - 6} L${cx + 4},${yTop - 6} L${cx},${yTop} Z`, class: "chart-breach", "data-testid": "breach-mark" }));
      }
      if (i % every === 0) {
        day.append(svg("text", { x: LEFT + i * band + band / 2, y: y0 + 12, class: `chart-day${hit ? " chart-day-breached" : ""}` }, p.date.slice(5)));
      }
      panel.append(day);
    });
    // The limit as a step: a level per day where one is in force, joined where it changes.
    let path = "";
    let last: number | null = null;
    series.forEach((p, i) => {
      if (p.limit === null) {
        last = null;
        return;
      }
      const y = y0 - p.limit * scale;
      const x1 = LEFT + i * band;
      path += last === null ? `M${x1},${y}` : `L${x1},${y}`;
      path += `L${x1 + band},${y}`;
      last = p.limit;
      panel.append(svg("line", { x1, x2: x1 + band, y1: y, y2: y, class: "chart-limit-step", "data-testid": "limit-step", "data-date": p.date, "data-limit": p.limit }));
    });
    if (path) panel.append(svg("path", { d: path, class: "chart-limit", "data-testid": "limit-line" }));
    const limits = [...new Set(series.map((p) => p.limit).filter((l): l is number => l !== null))];
    for (const l of limits.slice(0, 3)) panel.append(svg("text", { x: LEFT - 4, y: y0 - l * scale + 3, class: "chart-tick chart-tick-limit" }, String(l)));
    const peak = Math.max(...series.map((p) => p[side]));
    // The peak's tick, unless it would sit on the baseline's or a limit's.
    if (peak * scale >= 12 && !limits.some((l) => Math.abs(l - peak) * scale < 12)) {
      panel.append(svg("text", { x: LEFT - 4, y: y0 - peak * scale + 3, class: "chart-tick" }, String(peak)));
    }
  });

  const legend = h(
    "div",
    { class: "legend chart-legend", "data-testid": "chart-legend" },
    accounts.map((id) => h("span", { "data-account": id }, h("span", { class: "dot square", style: `background:${colour.get(id)}` }), h("span", { "data-raw": true }, id))),
    h("span", {}, h("span", { class: "line limit-key" }), t("chart.limit")),
    h("span", {}, h("span", { class: "breach-key" }, "▼"), t("chart.breached")),
  );
  return h("div", { class: "position-chart", "data-testid": "position-chart", "data-instrument": instrument }, root, legend);
}
