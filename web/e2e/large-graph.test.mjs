// The investigation page with 2,000 nodes on screen: a member's neighbourhood (depth 2) on a
// generated dataset. Checks that everything the API returns is drawn, that the ForceAtlas2
// worker stops by itself, that edge labels are off at this size and that the page still answers
// clicks. Frame times during camera moves are measured and kept as an artefact (perf.json);
// they are figures for BENCHMARKS.md, not assertions.

import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artefacts, generate, graphSettled, launchBrowser, screenshot, signIn, startServer } from "./harness.mjs";

describe("a 2,000-node graph", () => {
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
});
