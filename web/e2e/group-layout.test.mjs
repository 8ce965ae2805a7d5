// The group view reads at a glance (issue 17): on groups of 2, 8, 40 and 200 accounts
// (group-fixtures.mjs), the bounding boxes of every label and node on the page show that no two
// labels overlap, that no label covers another node, that nothing is under the legend or
// outside the canvas, and that the controller is drawn above the accounts. Pairwise evidence is
// collapsed until asked for. The group list opens in priority order. Layout figures (time,
// bands, labels shown) go to target/test-artefacts/web/group-layout.json; the time is reported,
// with only a generous bound.

import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artefacts, graphSettled, launchBrowser, screenshot, signIn, startServer } from "./harness.mjs";
import { accountId, groupsDataset } from "./group-fixtures.mjs";

const SIZES = [2, 8, 40, 200];
/** Rounding of DOM boxes: two boxes overlap when they share more than this many pixels. */
const SLACK = 0.5;

const intersect = (a, b) => a.x1 < b.x2 - SLACK && b.x1 < a.x2 - SLACK && a.y1 < b.y2 - SLACK && b.y1 < a.y2 - SLACK;
const within = (a, outer) => a.x1 >= outer.x1 - SLACK && a.y1 >= outer.y1 - SLACK && a.x2 <= outer.x2 + SLACK && a.y2 <= outer.y2 + SLACK;
/** The share of the nodes inside the canvas whose label is shown. */
function labelledShare(d) {
  const shown = new Set(d.labels.map((l) => l.for));
  const inside = d.nodes.filter((n) => within(n.box, d.canvas));
  return inside.length ? inside.filter((n) => shown.has(`n:${n.id}`)).length / inside.length : 0;
}
const show = (b) => `[${Math.round(b.x1)},${Math.round(b.y1)} – ${Math.round(b.x2)},${Math.round(b.y2)}]`;

/**
 * What the page draws, in page coordinates: the canvas, the legend, every node (from sigma's
 * display data) and every label. Labels are the view's DOM labels where it writes its own; where
 * sigma draws them (the force layout), their boxes are rebuilt from sigma's label-drawing rules.
 */
async function drawing(page) {
  return page.evaluate(() => {
    const view = window.ctrlgraphView;
    const r = view.renderer;
    const rect = (el) => {
      const b = el.getBoundingClientRect();
      return { x1: b.left, y1: b.top, x2: b.right, y2: b.bottom };
    };
    const canvas = rect(document.querySelector('[data-testid="graph"]'));
    const legend = rect(document.querySelector('[data-testid="legend"]'));
    const report = typeof view.layoutReport === "function" ? view.layoutReport() : null;
    const nodes = [];
    view.graph.forEachNode((id, a) => {
      const d = r.getNodeDisplayData(id);
      if (!d || d.hidden) return;
      const p = r.framedGraphToViewport(d);
      const s = r.scaleSize(d.size);
      nodes.push({ id, kind: a.kind, box: { x1: canvas.x1 + p.x - s, y1: canvas.y1 + p.y - s, x2: canvas.x1 + p.x + s, y2: canvas.y1 + p.y + s } });
    });
    let labels;
    const layer = document.querySelector('[data-testid="graph-labels"]');
    if (layer) {
      labels = [...layer.querySelectorAll(".glabel")].map((el) => ({ for: el.dataset.for, text: el.textContent, box: rect(el) }));
    } else {
      const ctx = document.createElement("canvas").getContext("2d");
      const size = r.getSetting("labelSize");
      ctx.font = `${r.getSetting("labelWeight")} ${size}px ${r.getSetting("labelFont")}`;
      labels = [...r.getNodeDisplayedLabels()].map((id) => {
        const d = r.getNodeDisplayData(id);
        const p = r.framedGraphToViewport(d);
        const x = canvas.x1 + p.x + r.scaleSize(d.size) + 3;
        const y = canvas.y1 + p.y + size / 3;
        return { for: `n:${id}`, text: d.label, box: { x1: x, y1: y - size, x2: x + ctx.measureText(d.label).width, y2: y + size / 4 } };
      });
      // Edge labels follow their edge: the box is that of the turned text at the edge's middle.
      const esize = r.getSetting("edgeLabelSize");
      ctx.font = `${r.getSetting("edgeLabelWeight")} ${esize}px ${r.getSetting("edgeLabelFont")}`;
      for (const e of r.getEdgeDisplayedLabels()) {
        const d = r.getEdgeDisplayData(e);
        if (!d?.label) continue;
        const [s, t] = view.graph.extremities(e).map((n) => r.framedGraphToViewport(r.getNodeDisplayData(n)));
        const angle = Math.atan2(t.y - s.y, t.x - s.x);
        const w = ctx.measureText(d.label).width;
        const bw = Math.abs(w * Math.cos(angle)) + Math.abs(esize * Math.sin(angle));
        const bh = Math.abs(w * Math.sin(angle)) + Math.abs(esize * Math.cos(angle));
        const cx = canvas.x1 + (s.x + t.x) / 2;
        const cy = canvas.y1 + (s.y + t.y) / 2;
        labels.push({ for: `e:${e}`, text: d.label, box: { x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2 } });
      }
    }
    return { canvas, legend, nodes, labels, report };
  });
}

/**
 * Every way the drawing is not readable, as sentences (empty when it is). `zoomed`: the camera is
 * zoomed in, so nodes may lie outside the canvas; labels must still stay in it.
 */
function problems(d, { controller, allLabels, zoomed = false }) {
  const out = [];
  for (let i = 0; i < d.labels.length; i++) {
    for (let j = i + 1; j < d.labels.length; j++) {
      const [a, b] = [d.labels[i], d.labels[j]];
      if (intersect(a.box, b.box)) out.push(`label "${a.text}" ${show(a.box)} overlaps label "${b.text}" ${show(b.box)}`);
    }
  }
  for (const l of d.labels) {
    if (!within(l.box, d.canvas)) out.push(`label "${l.text}" ${show(l.box)} leaves the canvas ${show(d.canvas)}`);
    if (intersect(l.box, d.legend)) out.push(`label "${l.text}" ${show(l.box)} is under the legend ${show(d.legend)}`);
    for (const n of d.nodes) {
      if (l.for !== `n:${n.id}` && intersect(l.box, n.box)) out.push(`label "${l.text}" ${show(l.box)} covers node ${n.id} ${show(n.box)}`);
    }
  }
  if (zoomed) return out;
  for (const n of d.nodes) {
    if (!within(n.box, d.canvas)) out.push(`node ${n.id} ${show(n.box)} leaves the canvas ${show(d.canvas)}`);
    if (intersect(n.box, d.legend)) out.push(`node ${n.id} ${show(n.box)} is under the legend ${show(d.legend)}`);
  }
  const top = d.nodes.find((n) => n.id === controller);
  const accounts = d.nodes.filter((n) => n.kind === "ACCOUNT");
  if (!top) out.push(`the controller ${controller} is not drawn`);
  else {
    const below = accounts.filter((a) => a.box.y1 > top.box.y2).length;
    if (below < accounts.length) out.push(`only ${below} of ${accounts.length} accounts are below the controller ${controller}`);
  }
  if (allLabels) {
    const shown = new Set(d.labels.map((l) => l.for));
    const missing = d.nodes.filter((n) => !shown.has(`n:${n.id}`)).map((n) => n.id);
    if (missing.length) out.push(`no label shown for ${missing.join(", ")}`);
  }
  return out;
}

describe("group layout on groups of 2, 8, 40 and 200 accounts", () => {
  let dataset;
  let server;
  let browser;
  const groups = new Map();
  const figures = {};

  before(async () => {
    dataset = groupsDataset(SIZES);
    server = await startServer(dataset, "groups");
    browser = await launchBrowser();
    for (const size of SIZES) {
      const { account } = await server.api(`query($id: ID!) { account(id: $id) { groups { id size controller { id } } } }`, { id: accountId(size, 1) });
      const group = account.groups.find((g) => g.size === size);
      assert.ok(group, `the ${size} planted accounts form one group (${JSON.stringify(account.groups)})`);
      groups.set(size, group);
    }
  });

  after(async () => {
    writeFileSync(join(artefacts, "group-layout.json"), JSON.stringify(figures, null, 2));
    await browser?.close();
    await server?.stop();
    if (dataset) rmSync(dataset, { recursive: true, force: true });
  });

  for (const size of SIZES) {
    it(`draws the group of ${size} accounts with no overlapping or hidden label`, async () => {
      const group = groups.get(size);
      const { controlGroup } = await server.api(
        `query($id: ID!) { controlGroup(id: $id) { graph { nodes { id } edges { id kind } } evidence { a { id } } } }`,
        { id: group.id },
      );
      const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
      const started = Date.now();
      await page.goto(`${server.url}/#/group/${encodeURIComponent(group.id)}`);
      const drawn = await graphSettled(page, `group-${group.id}`, 60_000);
      const settledMs = Date.now() - started;
      assert.equal(drawn.nodes, controlGroup.graph.nodes.length, "every node the API returns is drawn");
      assert.equal(drawn.edges, controlGroup.graph.edges.length, "every edge the API returns is drawn");
      await page.waitForTimeout(200);
      await screenshot(page, `group-layout-${size}`);

      const d = await drawing(page);
      const found = problems(d, { controller: group.controller.id, allLabels: size <= 8 });
      figures[size] = {
        nodes: d.nodes.length,
        edges: drawn.edges,
        labelsShown: d.labels.length,
        labelCandidates: d.report?.labelsTotal ?? null,
        bands: d.report?.bands ?? null,
        layoutMs: d.report?.layoutMs ?? null,
        loadAndLayoutMs: settledMs,
        problems: found.length,
      };
      console.log(`group of ${size}: ${JSON.stringify(figures[size])}`);
      assert.deepEqual(found.slice(0, 12), [], `${found.length} problems in the drawing of the group of ${size}`);
      // The view measured its own layout; the bound is there to catch a hang, not to time it.
      assert.ok(d.report.layoutMs < 10_000, `the layered layout of ${size} accounts took ${d.report.layoutMs} ms`);

      // Pairwise evidence is collapsed into the structure and the hubs, and drawn on demand.
      const visibleEvidence = () =>
        page.evaluate(() => {
          const v = window.ctrlgraphView;
          return v.graph.filterEdges((e, a) => a.kind === "EVIDENCE" && !v.renderer.getEdgeDisplayData(e)?.hidden).length;
        });
      const pairs = controlGroup.graph.edges.filter((e) => e.kind === "EVIDENCE").length;
      assert.ok(pairs >= (size * (size - 1)) / 2, `the API links every pair (${pairs})`);
      assert.equal(await visibleEvidence(), 0, "pairwise evidence is collapsed at first");
      await page.getByTestId("pairwise").click();
      assert.equal(await visibleEvidence(), pairs, "the button draws every pairwise link");
      await page.getByTestId("pairwise").click();
      assert.equal(await visibleEvidence(), 0, "and collapses them again");
      if (size >= 8) {
        // The fund-flow cycle of accounts 4-6 is one hub joined to those three accounts.
        const hub = await page.evaluate(() => window.ctrlgraphView.graph.filterNodes((_, a) => a.kind === "EVIDENCE" && a.hubKind === "fund_flow"));
        assert.equal(hub.length, 1, "one fund-flow hub");
        const joined = await page.evaluate((id) => window.ctrlgraphView.graph.neighbors(id).sort(), hub[0]);
        assert.deepEqual(joined, [4, 5, 6].map((i) => accountId(size, i)));
      }

      // Zoom to fit keeps every label inside the canvas.
      await page.evaluate(() => window.ctrlgraphView.renderer.getCamera().setState({ x: 0.3, y: 0.3, ratio: 2, angle: 0 }));
      await page.getByTestId("fit").click();
      await page.waitForFunction(() => {
        const camera = window.ctrlgraphView.renderer.getCamera();
        return !camera.isAnimated() && Math.abs(camera.ratio - 1) < 1e-9 && camera.x === 0.5 && camera.y === 0.5;
      });
      await page.waitForTimeout(100);
      const fitted = problems(await drawing(page), { controller: group.controller.id, allLabels: size <= 8 });
      assert.deepEqual(fitted.slice(0, 12), [], `${fitted.length} problems after zoom to fit`);

      // Zoomed in, labels are placed again: more of them, still none over another or off the canvas.
      await page.evaluate(() => window.ctrlgraphView.renderer.getCamera().setState({ x: 0.5, y: 0.6, ratio: 0.4, angle: 0 }));
      await page.waitForTimeout(200);
      const zoomed = await drawing(page);
      const zoomProblems = problems(zoomed, { controller: group.controller.id, allLabels: false, zoomed: true });
      assert.deepEqual(zoomProblems.slice(0, 12), [], `${zoomProblems.length} problems zoomed in`);
      const [atFit, zoomedIn] = [labelledShare(d), labelledShare(zoomed)];
      Object.assign(figures[size], { labelledShareAtFit: atFit, labelledShareZoomedIn: zoomedIn });
      if (size <= 8) assert.equal(atFit, 1, "every node labelled at fit");
      if (size === 40) assert.ok(atFit >= 0.9, `nine in ten nodes of the group of 40 labelled at fit (${atFit})`);
      else assert.ok(zoomedIn > atFit || zoomedIn === 1, `zooming in labels more of the nodes on screen (${zoomedIn} > ${atFit}), or all`);
      await screenshot(page, `group-layout-${size}-zoomed`);

      if (size === 8) {
        // In Chinese the labels change width: the layout and the labels follow.
        await page.getByTestId("lang").click();
        await page.waitForFunction(() => document.querySelector(".glabel-edge")?.textContent.includes("股权"));
        await page.waitForTimeout(200);
        const zh = await drawing(page);
        const zhProblems = problems(zh, { controller: group.controller.id, allLabels: true });
        assert.deepEqual(zhProblems.slice(0, 12), [], `${zhProblems.length} problems in Chinese`);
        assert.ok(zh.labels.some((l) => l.text.startsWith("资金流转模式")), "the evidence hub is labelled in Chinese");
        await screenshot(page, `group-layout-${size}-zh`);
      }
      assert.deepEqual(errors, [], "no errors in the browser console");
      await context.close();
    });
  }

  it("lists groups in priority order by default, in score order on demand", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.getByTestId("nav-groups").click();
    const rows = async (params) => {
      await page.locator(`[data-testid="groups-total"][data-loaded="${params}"]`).waitFor();
      return page.locator('[data-testid="group-row"]').evaluateAll((trs) =>
        trs.map((tr) => ({ id: tr.dataset.id, size: Number(tr.querySelector("td.size").textContent.trim()), bar: tr.querySelector(".sizebar").getBoundingClientRect().width })),
      );
    };
    const listed = await rows("");
    assert.equal(await page.getByTestId("groups-order").inputValue(), "PRIORITY", "priority is the default order");
    const { controlGroups } = await server.api(`{ controlGroups(first: 50, orderBy: PRIORITY) { edges { node { id size score status criteria } } } }`);
    const api = controlGroups.edges.map((e) => e.node);
    assert.deepEqual(listed.map((r) => r.id), api.map((g) => g.id), "the rows in the API's priority order");
    // Unreported groups first, largest first; two-account groups at score 1.000 come after the group of 8.
    const rank = { UNREPORTED: 0, PARTIALLY_REPORTED: 1, REPORTED: 2 };
    for (let i = 1; i < api.length; i++) {
      const [a, b] = [api[i - 1], api[i]];
      const key = (g) => [rank[g.status] ?? 2, -g.size, -g.criteria.length, -g.score];
      const [ka, kb] = [key(a), key(b)];
      const cmp = ka.findIndex((x, k) => x !== kb[k]);
      assert.ok(cmp < 0 || ka[cmp] < kb[cmp], `${a.id} (${ka}) before ${b.id} (${kb})`);
    }
    assert.equal(listed[0].id, groups.get(8).id, "the unreported group of 8 opens the list");
    assert.equal(listed.at(-1).id, groups.get(200).id, "the reported group of 200 closes it");
    // Sizes are drawn: a longer bar for a larger group.
    const bar = (size) => listed.find((r) => r.id === groups.get(size).id).bar;
    assert.ok(bar(2) < bar(8) && bar(8) < bar(40) && bar(40) < bar(200), "size bars grow with the size");
    await screenshot(page, "group-list-priority");

    // Score order on demand.
    await page.getByTestId("groups-order").selectOption("SCORE_DESC");
    await page.getByTestId("groups-apply").click();
    const byScore = await rows("order=SCORE_DESC");
    const scores = (await server.api(`{ controlGroups(first: 50, orderBy: SCORE_DESC) { edges { node { id score } } } }`)).controlGroups.edges.map((e) => e.node);
    assert.deepEqual(byScore.map((r) => r.id), scores.map((g) => g.id));
    assert.deepEqual(scores.map((g) => g.score), [...scores.map((g) => g.score)].sort((a, b) => b - a), "highest score first");
    assert.notEqual(byScore[0].id, listed[0].id, "score order opens on another group than priority order");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
