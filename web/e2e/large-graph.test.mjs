// The investigation page on a generated 3,000-account dataset: the group list with each of its
// filters against the API, and 2,000 nodes on screen (a member's neighbourhood, depth 2). Checks that everything the API returns is drawn, that the ForceAtlas2
// worker stops by itself, that edge labels are off at this size and that the page still answers
// clicks. Frame times during camera moves are measured and kept as an artefact (perf.json);
// they are figures for BENCHMARKS.md, not assertions.

import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artefacts, generate, graphSettled, launchBrowser, screenshot, signIn, startServer } from "./harness.mjs";

describe("a generated 3,000-account dataset", () => {
  let dataset;
  let server;
  let browser;
  let member;

  before(async () => {
    dataset = generate(3000, 5);
    // The member with the most accounts: its depth-2 neighbourhood holds well over 2,000 nodes.
    const counts = new Map();
    for (const line of readFileSync(join(dataset, "accounts.csv"), "utf8").trim().split("\n").slice(1)) {
      const m = line.split(",")[2];
      counts.set(m, (counts.get(m) ?? 0) + 1);
    }
    member = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    server = await startServer(dataset, "large");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataset) rmSync(dataset, { recursive: true, force: true });
  });

  it("draws, lays out and stays responsive", async () => {
    const { neighborhood } = await server.api(`query($id: ID!) { neighborhood(id: $id, depth: 2, limit: 2000) { nodes { id } edges { id } } }`, { id: member });
    assert.equal(neighborhood.nodes.length, 2000, "the API returns 2,000 nodes");

    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    const started = Date.now();
    await page.goto(`${server.url}/#/subject/${member}?depth=2&limit=2000`);
    const drawn = await graphSettled(page, `subject-${member}`, 60_000);
    const settledMs = Date.now() - started;
    assert.equal(drawn.nodes, neighborhood.nodes.length);
    assert.equal(drawn.edges, neighborhood.edges.length);
    assert.equal(await page.getByTestId("graph").getAttribute("data-layout"), "stopped", "the layout worker stopped by itself");
    assert.equal(await page.evaluate(() => window.ctrlgraphView.renderer.getSetting("renderEdgeLabels")), false, "no edge labels at this size");

    // The page answers a click on a node with its profile.
    const target = neighborhood.nodes.find((n) => n.id !== member).id;
    await page.evaluate(() => window.ctrlgraphView.renderer.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }));
    const at = await page.evaluate((id) => window.ctrlgraphView.nodePosition(id), target);
    await page.mouse.click(at.x, at.y);
    await page.locator('[data-testid="profile"][data-id]').first().waitFor();
    await screenshot(page, "10-large-graph");

    // Frame times while the camera zooms and pans (figures, not a pass/fail threshold).
    const frames = await page.evaluate(async () => {
      const camera = window.ctrlgraphView.renderer.getCamera();
      const stamps = [];
      let running = true;
      const tick = (t) => {
        stamps.push(t);
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      for (let i = 0; i < 6; i++) await camera.animate({ ratio: i % 2 ? 1 : 0.35, x: 0.4 + 0.05 * i, y: 0.5 }, { duration: 500 });
      running = false;
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
      return { frames: gaps.length, medianMs: gaps[gaps.length >> 1], p95Ms: gaps[Math.floor(gaps.length * 0.95)] };
    });
    assert.ok(frames.frames > 0, "the page renders frames while the camera moves");
    const figures = { nodes: drawn.nodes, edges: drawn.edges, loadAndLayoutMs: settledMs, ...frames };
    writeFileSync(join(artefacts, "perf.json"), JSON.stringify(figures, null, 2));
    console.log(`large graph: ${JSON.stringify(figures)}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("lists groups with the API's filters", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.admin);
    const api = async (filter) =>
      (await server.api(`query($f: GroupFilter) { controlGroups(filter: $f, first: 50) { totalCount edges { node { id } } } }`, { f: filter }))
        .controlGroups;
    // The list the page shows for these URL parameters, once it (not the one being left) is loaded.
    const listed = async (params) => {
      const total = page.locator(`[data-testid="groups-total"][data-loaded="${params}"]`);
      await total.waitFor();
      return {
        totalCount: Number(await total.getAttribute("data-total")),
        ids: await page.locator('[data-testid="group-row"]').evaluateAll((trs) => trs.map((tr) => tr.dataset.id)),
      };
    };
    const apply = async () => {
      await page.getByTestId("groups-apply").click();
    };

    await page.getByTestId("nav-groups").click();
    const all = await api({});
    assert.ok(all.totalCount > 10, `the generated dataset has groups to filter (${all.totalCount})`);
    assert.deepEqual(await listed(""), { totalCount: all.totalCount, ids: all.edges.map((e) => e.node.id) }, "rows in the API's order (triage priority)");
    // Triage priority: unreported groups before partly reported ones before the reported.
    const ranks = (await server.api(`{ controlGroups(first: 100) { edges { node { status } } } }`)).controlGroups.edges.map(
      (e) => ({ UNREPORTED: 0, PARTIALLY_REPORTED: 1 })[e.node.status] ?? 2,
    );
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), "unreported groups come first");
    await screenshot(page, "07-groups");

    await page.getByTestId("groups-unreported").check();
    await apply();
    const unreported = await api({ status: "UNREPORTED" });
    assert.ok(unreported.totalCount > 0 && unreported.totalCount < all.totalCount, "some groups, not all, are unreported");
    assert.deepEqual(await listed("order=PRIORITY&status=UNREPORTED"), { totalCount: unreported.totalCount, ids: unreported.edges.map((e) => e.node.id) });
    await page.getByTestId("groups-unreported").uncheck();

    await page.getByTestId("groups-criterion").selectOption("C1");
    await apply();
    const c1 = await api({ criterion: "C1" });
    assert.ok(c1.totalCount > 0 && c1.totalCount < all.totalCount, "some groups, not all, meet C1");
    assert.deepEqual(await listed("order=PRIORITY&criterion=C1"), { totalCount: c1.totalCount, ids: c1.edges.map((e) => e.node.id) });
    await page.getByTestId("groups-criterion").selectOption("");

    await page.getByTestId("groups-member").fill(member);
    await apply();
    const atMember = await api({ memberId: member });
    assert.ok(atMember.totalCount > 0, "the busiest member has groups");
    assert.deepEqual(await listed(`order=PRIORITY&member=${member}`), { totalCount: atMember.totalCount, ids: atMember.edges.map((e) => e.node.id) });
    await page.getByTestId("groups-member").fill("");

    // Review two groups through the API: the review filter and column follow.
    const [confirmed, dismissed] = [all.edges[1].node.id, all.edges[3].node.id];
    for (const [id, decision] of [[confirmed, "CONFIRMED"], [dismissed, "DISMISSED"]]) {
      await server.api(`mutation($id: ID!, $d: Decision!) { reviewGroup(id: $id, decision: $d, note: "list filter") { decision } }`, { id, d: decision });
    }
    await page.getByTestId("groups-reviewed").selectOption("true");
    await apply();
    assert.deepEqual(await listed("order=PRIORITY&reviewed=true"), { totalCount: 2, ids: [confirmed, dismissed] }, "the two reviewed groups, in priority order");
    const decision = (id) => page.locator(`[data-testid="group-row"][data-id="${id}"] [data-testid="group-review"]`).textContent();
    assert.equal(await decision(confirmed), "confirm");
    assert.equal(await decision(dismissed), "dismiss");
    await page.getByTestId("groups-reviewed").selectOption("false");
    await apply();
    const unreviewed = await listed("order=PRIORITY&reviewed=false");
    assert.equal(unreviewed.totalCount, all.totalCount - 2);
    assert.deepEqual(unreviewed.ids, (await api({ reviewed: false })).edges.map((e) => e.node.id));
    await screenshot(page, "07b-groups-unreviewed");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
