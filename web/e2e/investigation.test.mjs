// End-to-end tests of the investigation page in headless Chromium against `ctrlgraph serve` on
// the family-and-nominee fixture (A01, A02 and A04 form one group; P01 is its controller).
// Screenshots go to target/test-artefacts/web/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { graphSettled, launchBrowser, repoDir, screenshot, signIn, startServer } from "./harness.mjs";

const GRAPH = "nodes { id } edges { id source target }";

describe("investigation page on family-and-nominee", () => {
  let server;
  let browser;
  let groupId;
  let apiGraph;

  before(async () => {
    server = await startServer(join(repoDir, "fixtures", "datasets", "family-and-nominee"), "family");
    browser = await launchBrowser();
    const { account } = await server.api(`{ account(id: "A01") { groups { id } } }`);
    assert.equal(account.groups.length, 1, "A01 is in exactly one group");
    groupId = account.groups[0].id;
    ({ controlGroup: { graph: apiGraph } } = await server.api(`query($id: ID!) { controlGroup(id: $id) { graph { ${GRAPH} } } }`, { id: groupId }));
    assert.ok(apiGraph.nodes.length >= 3, "the group's graph has at least its three accounts");
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("rejects a wrong token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByTestId("token").fill("not-a-token");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").filter({ hasText: /not accepted/ }).waitFor();
    await context.close();
  });

  it("searches an account, opens its group, draws what the API returns, expands, explains a path, reviews", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    assert.equal(await page.getByTestId("whoami").getAttribute("data-role"), "ANALYST");

    // Search for the account and open it.
    await page.getByTestId("search-input").fill("A01");
    await page.getByTestId("search-submit").click();
    const hit = page.locator('[data-testid="hit"][data-id="A01"]');
    await hit.waitFor();
    await screenshot(page, "01-search");
    await hit.locator("a").click();
    await graphSettled(page, "subject-A01");
    await page.locator(`[data-testid="profile"][data-id="A01"]`).waitFor();

    // Open its group from the profile.
    await page.locator(`[data-testid="profile"] a[data-group="${groupId}"]`).click();
    const drawn = await graphSettled(page, `group-${groupId}`);
    await page.getByTestId("group-detail").waitFor();
    assert.equal(drawn.nodes, apiGraph.nodes.length, "drawn nodes = controlGroup.graph.nodes");
    assert.equal(drawn.edges, apiGraph.edges.length, "drawn edges = controlGroup.graph.edges");
    const drawnIds = await page.evaluate(() => window.ctrlgraphView.graph.nodes().sort());
    assert.deepEqual(drawnIds, apiGraph.nodes.map((n) => n.id).sort());
    for (const id of ["A01", "A02", "A04"]) assert.ok(drawnIds.includes(id), `${id} is drawn`);
    assert.ok((await page.getByTestId("evidence").locator("li.ev-STRONG").count()) > 0, "strong evidence is listed");
    await screenshot(page, "02-group");

    // Expand a node that has neighbours outside the group: clicking it must draw them.
    let expandId = null;
    let expected = 0;
    for (const n of apiGraph.nodes) {
      const { neighborhood } = await server.api(`query($id: ID!) { neighborhood(id: $id, depth: 1, limit: 200) { ${GRAPH} } }`, { id: n.id });
      const union = new Set([...drawnIds, ...neighborhood.nodes.map((m) => m.id)]);
      if (union.size > drawnIds.length) {
        expandId = n.id;
        expected = union.size;
        break;
      }
    }
    assert.ok(expandId, "some node of the group has neighbours outside it");
    const at = await page.evaluate((id) => window.ctrlgraphView.nodePosition(id), expandId);
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="graph"]').dataset.nodes) > n, drawn.nodes);
    const grown = await graphSettled(page, `group-${groupId}`);
    assert.equal(grown.nodes, expected, `expanding ${expandId} draws its neighbours`);
    await page.locator(`[data-testid="profile"][data-id="${expandId}"]`).waitFor();
    await screenshot(page, "03-expanded");

    // Shift+click a second node: the explained path between them is highlighted.
    const target = expandId === "A04" ? "A01" : "A04";
    const at2 = await page.evaluate((id) => window.ctrlgraphView.nodePosition(id), target);
    await page.keyboard.down("Shift");
    await page.mouse.click(at2.x, at2.y);
    await page.keyboard.up("Shift");
    await page.waitForFunction(() => document.querySelector('[data-testid="graph"]').dataset.path !== undefined);
    const { connection } = await server.api(`query($a: ID!, $b: ID!) { connection(a: $a, b: $b) { edges { id } explanation } }`, { a: expandId, b: target });
    const pathAttr = await page.getByTestId("graph").getAttribute("data-path");
    assert.equal(pathAttr, connection ? String(connection.edges.length) : "none");
    if (connection) assert.equal(await page.getByTestId("path-explanation").locator("li").count(), connection.explanation.length);
    await screenshot(page, "04-path");

    // Exports: JSON with what is drawn, and a PNG.
    const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
    const exported = JSON.parse(await readFile(await json.path(), "utf8"));
    assert.equal(exported.nodes.length, Number(await page.getByTestId("graph").getAttribute("data-nodes")));
    const [png] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-png").click()]);
    const bytes = await readFile(await png.path());
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG file");
    assert.ok(bytes.length > 5000, "the PNG holds a drawing");

    // Review the group; the API shows the review.
    await page.getByTestId("decision-ESCALATED").check();
    await page.getByTestId("review-note").fill("nominee account A04 on A01's terminal");
    await page.getByTestId("review-submit").click();
    await page.locator('[data-testid="review-current"][data-decision="ESCALATED"]').waitFor();
    const { controlGroup } = await server.api(`query($id: ID!) { controlGroup(id: $id) { review { decision note reviewer } } }`, { id: groupId });
    assert.equal(controlGroup.review.decision, "ESCALATED");
    assert.equal(controlGroup.review.note, "nominee account A04 on A01's terminal");
    assert.equal(controlGroup.review.reviewer, "analyst-e2e");
    await screenshot(page, "05-reviewed");

    // Switch language: labels change, the graph stays as it was.
    const before = await page.getByTestId("graph").getAttribute("data-nodes");
    assert.equal(await page.getByTestId("nav-groups").textContent(), "Groups");
    await page.getByTestId("lang").click();
    assert.equal(await page.getByTestId("nav-groups").textContent(), "关联组");
    assert.match(await page.getByTestId("legend").textContent(), /账户.*自然人/);
    assert.match(await page.getByTestId("review").textContent(), /复核/);
    const { controlGroup: inChinese } = await server.api(`query($id: ID!) { controlGroup(id: $id) { evidence { signals { zh: description(lang: ZH) } } } }`, { id: groupId });
    const zhTexts = inChinese.evidence.flatMap((e) => e.signals.map((s) => s.zh));
    const shown = await page.getByTestId("signal").allTextContents();
    assert.equal(shown.length, zhTexts.length, "one line per signal");
    for (const zh of zhTexts) assert.ok(shown.some((line) => line.includes(zh)), `evidence shown in Chinese: ${zh}`);
    const { connection: zhPath } = await server.api(`query($a: ID!, $b: ID!) { connection(a: $a, b: $b) { zh: explanation(lang: ZH) } }`, { a: expandId, b: target });
    if (zhPath) assert.deepEqual(await page.getByTestId("path-explanation").locator("li").allTextContents(), zhPath.zh, "the path explained in Chinese");
    assert.equal(await page.getByTestId("graph").getAttribute("data-nodes"), before);
    assert.doesNotMatch(await page.getByTestId("controller-basis").textContent(), /[a-z]{3,}/, "the controller's basis in Chinese");
    await screenshot(page, "06-chinese");
    // Edge labels name roles, relations and kinds in Chinese too.
    const edgeLabels = await page.evaluate(() => window.ctrlgraphView.graph.mapEdges((_, a) => a.label));
    const codes = /\b(holder|member|legal_rep|spouse|sibling|equity|phone|address|ip|mac|disk_serial|order_placer|manages)\b/;
    assert.deepEqual(edgeLabels.filter((l) => codes.test(l ?? "")), [], "no contract code left untranslated");
    await page.getByTestId("lang").click();
    assert.equal(await page.getByTestId("nav-groups").textContent(), "Groups");

    assert.deepEqual(errors, [], "no errors in the browser console");
    await context.close();
  });

  it("masks identity numbers for a viewer and offers no review form", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.viewer);
    assert.equal(await page.getByTestId("whoami").getAttribute("data-role"), "VIEWER");
    await page.goto(`${server.url}/#/subject/P01`);
    await page.locator('[data-testid="profile"][data-id="P01"]').waitFor();
    assert.equal(await page.getByTestId("id-number").textContent(), "310101********0113");
    // The person's groups say how she takes part; the page is titled with her name.
    const involvement = page.locator('[data-testid="involvement"]').filter({ has: page.locator(`a[data-group="${groupId}"]`) });
    await involvement.waitFor();
    assert.match(await involvement.textContent(), /holds accounts/);
    await page.waitForFunction(() => document.querySelector("main h2")?.textContent?.startsWith("王建国 (P01) · "));
    await screenshot(page, "08-viewer-person");

    await page.goto(`${server.url}/#/group/${encodeURIComponent(groupId)}`);
    await page.getByTestId("review").waitFor();
    assert.equal(await page.getByTestId("review-form").count(), 0, "viewers cannot review");
    assert.deepEqual(errors, []);
    await context.close();

    // The analyst sees the number whole.
    const analyst = await signIn(browser, server, server.tokens.analyst);
    await analyst.page.goto(`${server.url}/#/subject/P01`);
    await analyst.page.locator('[data-testid="profile"][data-id="P01"]').waitFor();
    assert.equal(await analyst.page.getByTestId("id-number").textContent(), "310101196803120113");
    await analyst.context.close();
  });
});
