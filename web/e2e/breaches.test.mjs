// The consequences of a group on the page: its limit breaches as one trader on the group view
// (the table, and the chart of its position against the limit, stacked by account) and the
// market-wide breach page (filters by kind, only-as-a-group, product and dates; paging with the
// API's cursor; reporting findings). Three datasets: the hand-made surveillance fixture (A1+A2
// breach the IF2403 long limit only as a group, 700 + 600 > 1200, and cancel six times; A2 also
// holds 650 short lots; R1's breach is not only as a group); a generated dataset with the tapes
// (`ctrlgraph gen --tapes`), where breaches run to more than a page; and the fixture with a
// second contract added (IF2406, short lots over the limit, an instrument limit from
// 2024-03-05), for the contract picker and a limit that steps. Every figure the page shows is
// compared with what the API returns, queried here.

import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generate, graphSettled, launchBrowser, repoDir, screenshot, signIn, startServer } from "./harness.mjs";

const BREACH = "groupId source kind scope date figure limit limitScope onlyAsGroup parts { account { id } share alone }";
const SERIES = "date long short limit parts { account { id } long short }";
/** SVG coordinates are compared to this many units (they are written unrounded). */
const EPS = 1e-6;

/** Every breach the API lists under `filter`, page by page, in its order. */
async function allBreaches(server, filter = {}) {
  const out = [];
  let after = null;
  for (;;) {
    const { breaches } = await server.api(
      `query($filter: BreachFilter, $after: String) { breaches(filter: $filter, first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${BREACH} } } } }`,
      { filter, after },
    );
    out.push(...breaches.edges.map((e) => e.node));
    if (!breaches.pageInfo.hasNextPage) {
      assert.equal(out.length, breaches.totalCount, "the API's pages add up to its total");
      return out;
    }
    after = breaches.pageInfo.endCursor;
  }
}

const key = (b) => `${b.groupId}|${b.kind}|${b.scope}|${b.date}`;

/** What the group view's breach table shows, row by row. */
async function shownBreaches(page) {
  await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
  return page.getByTestId("breach-row").evaluateAll((rows) =>
    rows.map((tr) => ({
      kind: tr.dataset.kind,
      scope: tr.dataset.scope,
      date: tr.dataset.date,
      only: tr.dataset.only === "true",
      badge: tr.querySelector('[data-testid="only-as-group"]') !== null,
      figure: Number(tr.querySelector('[data-testid="breach-figure"]').firstChild.textContent),
      limit: Number(tr.querySelector('[data-testid="breach-limit"]').firstChild.textContent),
      parts: [...tr.nextElementSibling.querySelectorAll('[data-testid="breach-part"]')].map((li) => ({
        account: li.dataset.account,
        share: Number(li.dataset.share),
        alone: Number(li.dataset.alone),
        text: li.textContent,
      })),
    })),
  );
}

/** The chart as drawn: per panel (side) its baseline and scale, per day its segments and limit step. */
async function drawnChart(page) {
  await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
  return page.getByTestId("position-panel").evaluateAll((panels) =>
    panels.map((g) => ({
      side: g.dataset.side,
      y0: Number(g.dataset.y0),
      scale: Number(g.dataset.scale),
      days: [...g.querySelectorAll('[data-testid="position-day"]')].map((d) => ({
        date: d.dataset.date,
        breached: d.dataset.breached === "true",
        marks: d.querySelectorAll('[data-testid="breach-mark"]').length,
        segments: [...d.querySelectorAll('[data-testid="position-segment"]')].map((r) => ({
          account: r.dataset.account,
          lots: Number(r.dataset.lots),
          y: Number(r.getAttribute("y")),
          height: Number(r.getAttribute("height")),
          fill: r.getAttribute("fill"),
        })),
      })),
      steps: [...g.querySelectorAll('[data-testid="limit-step"]')].map((l) => ({ date: l.dataset.date, limit: Number(l.dataset.limit), y: Number(l.getAttribute("y1")) })),
      line: g.querySelector('[data-testid="limit-line"]')?.getAttribute("d") ?? null,
    })),
  );
}

/**
 * Checks the drawn chart against the API's series and breaches in `instrument`: one segment per
 * account and day with lots on that side, stacked without gaps from the baseline, heights adding
 * up to the group's lots; the limit step of each day at its limit; the breached days marked, and
 * on them the bar above the limit and the group's lots the breach's figure.
 */
function checkChart(chart, series, breaches, instrument) {
  const sides = ["long", "short"].filter((side) => series.some((p) => p[side] > 0));
  assert.deepEqual(chart.map((p) => p.side), sides, "a panel per side the series holds");
  const colours = new Map();
  for (const panel of chart) {
    const side = panel.side;
    assert.ok(panel.scale > 0, "the panel has a scale");
    assert.deepEqual(panel.days.map((d) => d.date), series.map((p) => p.date), `${side}: a bar per day of the series`);
    assert.ok(panel.line, `${side}: the limit is drawn`);
    for (const [i, point] of series.entries()) {
      const day = panel.days[i];
      const expected = point.parts.filter((p) => p[side] > 0);
      assert.deepEqual(
        day.segments.map((s) => s.account).sort(),
        expected.map((p) => p.account.id).sort(),
        `${side} ${point.date}: one segment per account with lots`,
      );
      for (const s of day.segments) {
        assert.equal(s.lots, expected.find((p) => p.account.id === s.account)[side], `${side} ${point.date} ${s.account}: its lots`);
        assert.ok(Math.abs(s.height - s.lots * panel.scale) < EPS, `${side} ${point.date} ${s.account}: height ∝ lots`);
        if (colours.has(s.account)) assert.equal(s.fill, colours.get(s.account), `${s.account} keeps its colour`);
        colours.set(s.account, s.fill);
      }
      // Stacked from the baseline up, without gaps.
      let top = panel.y0;
      for (const s of day.segments) {
        assert.ok(Math.abs(s.y + s.height - top) < EPS, `${side} ${point.date} ${s.account}: stacked on the segment below`);
        top = s.y;
      }
      const sum = day.segments.reduce((n, s) => n + s.height, 0) / panel.scale;
      assert.ok(Math.abs(sum - point[side]) < 1e-6, `${side} ${point.date}: the segments add up to the group's ${point[side]} lots (drawn ${sum})`);
      const step = panel.steps.find((s) => s.date === point.date);
      if (point.limit === null) assert.equal(step, undefined, `${point.date}: no limit, no step`);
      else {
        assert.equal(step.limit, point.limit, `${point.date}: the step is that day's limit`);
        assert.ok(Math.abs(panel.y0 - step.y - point.limit * panel.scale) < EPS, `${side} ${point.date}: the limit step is at ${point.limit} lots`);
      }
      const breach = breaches.find((b) => b.scope === instrument && b.date === point.date && b.kind === `POSITION_${side.toUpperCase()}`);
      assert.equal(day.breached, Boolean(breach), `${side} ${point.date}: marked as breached iff the group breached`);
      assert.equal(day.marks, breach ? 1 : 0, `${side} ${point.date}: one breach mark iff breached`);
      if (breach) {
        assert.ok(Math.abs(sum - breach.figure) < 1e-6, `${side} ${point.date}: the bar is the breach's figure ${breach.figure}`);
        assert.ok(Math.abs(panel.y0 - step.y - breach.limit * panel.scale) < EPS, `${side} ${point.date}: the limit line is at the breach's limit ${breach.limit}`);
        assert.ok(top < step.y, `${side} ${point.date}: the bar rises above the limit line`);
      }
    }
  }
  const accounts = [...colours.keys()];
  assert.equal(new Set(colours.values()).size, accounts.length, "one colour per account");
  return accounts;
}

describe("breaches on the surveillance fixture", () => {
  let server;
  let browser;
  let groupId;
  let breaches;

  before(async () => {
    server = await startServer(join(repoDir, "fixtures", "datasets", "surveillance"), "breaches-fixture");
    browser = await launchBrowser();
    const { account } = await server.api(`{ account(id: "A1") { groups { id breaches { ${BREACH} } } } }`);
    assert.equal(account.groups.length, 1, "A1 is in one group");
    groupId = account.groups[0].id;
    breaches = account.groups[0].breaches;
    // The fixture's README: the long position of 1300 over 1200 and six cancellations over five, both only as a group.
    const long = breaches.find((b) => b.kind === "POSITION_LONG");
    assert.deepEqual([long.scope, long.date, long.figure, long.limit, long.onlyAsGroup], ["IF2403", "2024-03-04", 1300, 1200, true]);
    assert.ok(breaches.some((b) => b.kind === "CANCEL" && b.figure === 6), "the six cancellations");
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the group's breaches with the API's figures and a chart stacked by account against the limit", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.goto(`${server.url}/#/group/${encodeURIComponent(groupId)}`);
    await graphSettled(page, `group-${groupId}`);
    const shown = await shownBreaches(page);
    assert.deepEqual(
      shown.map((b) => [b.kind, b.scope, b.date, b.figure, b.limit, b.only]),
      breaches.map((b) => [b.kind, b.scope, b.date, b.figure, b.limit, b.onlyAsGroup]),
      "one row per breach, in the API's order, with its figure and limit",
    );
    for (const [i, b] of breaches.entries()) {
      assert.equal(shown[i].badge, b.onlyAsGroup, `${b.kind}: "only as a group" marked iff it is`);
      assert.deepEqual(
        shown[i].parts.map((p) => [p.account, p.share, p.alone]),
        b.parts.map((p) => [p.account.id, p.share, p.alone]),
        `${b.kind}: each account's share and its figure alone`,
      );
      for (const p of shown[i].parts) assert.match(p.text, new RegExp(`^${p.account} ${p.share} alone ${p.alone}$`));
    }
    const firstOthers = shown.findIndex((b) => !b.only);
    assert.ok(firstOthers === -1 || shown.slice(firstOthers).every((b) => !b.only), "only-as-a-group breaches come first");
    assert.match(await page.getByTestId("breach-row").first().textContent(), /long position over the limit.*only as a group/);

    // The chart: IF2403, both sides (A2's 650 short lots are not netted against the long side).
    assert.equal(await page.getByTestId("position-chart").getAttribute("data-instrument"), "IF2403");
    assert.equal(await page.getByTestId("chart-instrument").count(), 0, "one contract breached: no picker");
    const { controlGroup } = await server.api(`query($id: ID!) { controlGroup(id: $id) { positionSeries(instrument: "IF2403") { ${SERIES} } } }`, { id: groupId });
    const series = controlGroup.positionSeries;
    assert.ok(series.some((p) => p.short > 0) && series.some((p) => p.long > 0), "the series holds both sides");
    const chart = await drawnChart(page);
    const accounts = checkChart(chart, series, breaches, "IF2403");
    assert.deepEqual(accounts.sort(), ["A1", "A2"], "A1 and A2 are drawn (A1's hedging lots are not)");
    const breachDay = chart.find((p) => p.side === "long").days.find((d) => d.date === "2024-03-04");
    assert.deepEqual(breachDay.segments.map((s) => [s.account, s.lots]).sort(), [["A1", 700], ["A2", 600]], "700 + 600 on the breached day");
    const legend = await page.getByTestId("chart-legend").locator("[data-account]").evaluateAll((els) => els.map((e) => e.dataset.account));
    assert.deepEqual(legend.sort(), ["A1", "A2"], "the legend names every account");
    await screenshot(page, "breaches-01-panel");

    // From a breach to the group's evidence.
    const evidence = page.getByTestId("evidence");
    assert.equal(await evidence.evaluate((el) => el.classList.contains("focus")), false);
    await page.getByTestId("breach-evidence").first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid="evidence"]').classList.contains("focus"));
    const [box, side] = await Promise.all([evidence.boundingBox(), page.locator("aside.side").boundingBox()]);
    assert.ok(box.y >= side.y - 1 && box.y < side.y + side.height, "the evidence is scrolled into view");
    assert.ok((await evidence.locator("li").count()) > 0, "the evidence behind the group is listed");
    assert.match(page.url(), new RegExp(`#/group/${groupId}$`), "the view stays as it was");
    await screenshot(page, "breaches-02-evidence");

    // The same panel in Chinese, kept across the switch.
    await page.getByTestId("lang").click();
    await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
    assert.match(await page.getByTestId("breach-row").first().textContent(), /投机多头持仓超限.*仅合并后超限/);
    assert.deepEqual(checkChart(await drawnChart(page), series, breaches, "IF2403").sort(), ["A1", "A2"]);
    await page.getByTestId("lang").click();
    assert.deepEqual(errors, [], "no errors in the browser console");
    await context.close();
  });

  it("opens the group's evidence from the breach list", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.viewer);
    await page.goto(`${server.url}/#/breaches`);
    await page.locator(`[data-testid="breach-list-row"][data-group="${groupId}"] [data-testid="breach-evidence"]`).first().click();
    await graphSettled(page, `group-${groupId}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="evidence"]')?.classList.contains("focus"));
    const [box, side] = await Promise.all([page.getByTestId("evidence").boundingBox(), page.locator("aside.side").boundingBox()]);
    assert.ok(box.y >= side.y - 1 && box.y < side.y + side.height, "the evidence is scrolled into view");
    assert.equal(await page.getByTestId("breach-row").count(), breaches.length, "a viewer sees the breaches too");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("lists the breaches and the reporting findings, each linking to its group", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.getByTestId("nav-breaches").click();
    await page.locator('[data-testid="breaches-total"][data-loaded=""]').waitFor();
    const all = await allBreaches(server);
    const rows = await page.getByTestId("breach-list-row").evaluateAll((trs) => trs.map((tr) => `${tr.dataset.group}|${tr.dataset.kind}|${tr.dataset.scope}|${tr.dataset.date}`));
    assert.deepEqual(rows, all.map(key), "every breach, in the API's order");
    // The reported group R1 breaches too (A3 alone holds 1300): listed, with no group view to open.
    const r1 = page.locator('[data-testid="breach-list-row"][data-source="REPORTED"]');
    assert.equal(await r1.count(), all.filter((b) => b.source === "REPORTED").length);
    assert.ok((await r1.count()) > 0, "the reported group's breach is listed");
    assert.equal(await r1.first().locator("a[data-group]").count(), 0, "a reported group has no view to link to");

    const { overdueReports } = await server.api(`{ overdueReports { kind groupId group { id } accounts { id } missing { id } due overdue } }`);
    const reportRows = await page.getByTestId("report-row").evaluateAll((trs) => trs.map((tr) => [tr.dataset.kind, tr.dataset.group]));
    assert.deepEqual(reportRows, overdueReports.map((r) => [r.kind, r.groupId]), "one row per reporting finding");
    assert.ok(overdueReports.some((r) => r.kind === "OVERDUE" && r.groupId === groupId), "A1+A2 is overdue");
    assert.ok(overdueReports.some((r) => r.kind === "STALE"), "R1 is stale");
    await screenshot(page, "breaches-03-list");

    // Only as a group: R1's breach (A3 alone is over the limit) leaves the list.
    const only = await allBreaches(server, { onlyAsGroup: true });
    assert.ok(only.length > 0 && only.length < all.length, "the filter keeps some breaches and drops others");
    await page.getByTestId("breaches-only").check();
    await page.getByTestId("breaches-apply").click();
    await page.locator('[data-testid="breaches-total"][data-loaded="only=true"]').waitFor();
    const onlyRows = await page.getByTestId("breach-list-row").evaluateAll((trs) => trs.map((tr) => `${tr.dataset.group}|${tr.dataset.kind}|${tr.dataset.scope}|${tr.dataset.date}`));
    assert.deepEqual(onlyRows, only.map(key), "the breaches only as a group, as the API lists them");
    assert.equal(await page.locator('[data-testid="breach-list-row"][data-source="REPORTED"]').count(), 0, "R1's breach is gone");
    assert.equal(await page.getByTestId("breach-list-row").locator('[data-testid="only-as-group"]').count(), only.length, "each row marked only as a group");
    await page.locator(`[data-testid="report-row"][data-kind="OVERDUE"] a[data-group="${groupId}"]`).click();
    await graphSettled(page, `group-${groupId}`);
    await page.getByTestId("breach-panel").waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe("breaches on a generated dataset with tapes", () => {
  let dataset;
  let server;
  let browser;
  let all;

  before(async () => {
    // 8,000 accounts give some seventy-five breaches: two pages of fifty.
    dataset = generate(8000, 11, ["--tapes"]);
    server = await startServer(dataset, "breaches-gen");
    browser = await launchBrowser();
    all = await allBreaches(server);
    assert.ok(all.length > 50, `${all.length} breaches: more than one page`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataset) rmSync(dataset, { recursive: true, force: true });
  });

  it("pages through every breach exactly once", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.viewer);
    await page.goto(`${server.url}/#/breaches`);
    await page.locator('[data-testid="breaches-total"][data-loaded=""]').waitFor();
    assert.equal(Number(await page.getByTestId("breaches-total").getAttribute("data-total")), all.length);
    const rows = page.getByTestId("breach-list-row");
    let pages = 1;
    while (await page.getByTestId("breaches-more").isVisible()) {
      assert.ok(pages < Math.ceil(all.length / 50), `no more than ${Math.ceil(all.length / 50)} pages`);
      const before = await rows.count();
      await page.getByTestId("breaches-more").click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="breach-list-row"]').length > n, before);
      pages++;
    }
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => `${tr.dataset.group}|${tr.dataset.kind}|${tr.dataset.scope}|${tr.dataset.date}`));
    assert.equal(pages, Math.ceil(all.length / 50), "50 rows a page");
    assert.equal(new Set(shown).size, shown.length, "no breach twice");
    assert.deepEqual(shown, all.map(key), "every breach, once, in the API's order");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("filters by kind and by only-as-a-group as the API does, and opens a row's group", async () => {
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.goto(`${server.url}/#/breaches`);
    await page.locator('[data-testid="breaches-total"][data-loaded=""]').waitFor();

    const firstPage = async (loaded) => {
      await page.locator(`[data-testid="breaches-total"][data-loaded="${loaded}"]`).waitFor();
      return {
        total: Number(await page.getByTestId("breaches-total").getAttribute("data-total")),
        rows: await page.getByTestId("breach-list-row").evaluateAll((trs) => trs.map((tr) => ({ key: `${tr.dataset.group}|${tr.dataset.kind}|${tr.dataset.scope}|${tr.dataset.date}`, kind: tr.dataset.kind, only: tr.dataset.only }))),
      };
    };

    const longs = await allBreaches(server, { kind: "POSITION_LONG" });
    assert.ok(longs.length > 0 && longs.length < all.length, "the kind filter keeps some breaches and drops others");
    await page.getByTestId("breaches-kind").selectOption("POSITION_LONG");
    await page.getByTestId("breaches-apply").click();
    let shown = await firstPage("kind=POSITION_LONG");
    assert.equal(shown.total, longs.length, "the total of long-position breaches");
    assert.deepEqual(shown.rows.map((r) => r.key), longs.slice(0, 50).map(key), "the long-position breaches, as the API lists them");
    assert.ok(shown.rows.every((r) => r.kind === "POSITION_LONG"));

    const onlyLongs = await allBreaches(server, { kind: "POSITION_LONG", onlyAsGroup: true });
    // The generator plants breaches only as a group (the fixture's test drops some with this filter).
    assert.ok(onlyLongs.length > 0, "long-position breaches only as a group");
    await page.getByTestId("breaches-only").check();
    await page.getByTestId("breaches-apply").click();
    shown = await firstPage("kind=POSITION_LONG&only=true");
    assert.equal(shown.total, onlyLongs.length);
    assert.deepEqual(shown.rows.map((r) => r.key), onlyLongs.slice(0, 50).map(key));
    assert.ok(shown.rows.every((r) => r.only === "true"));

    const onlyAll = await allBreaches(server, { onlyAsGroup: true });
    await page.getByTestId("breaches-kind").selectOption("");
    await page.getByTestId("breaches-apply").click();
    shown = await firstPage("only=true");
    assert.equal(shown.total, onlyAll.length);
    assert.deepEqual(shown.rows.map((r) => r.key), onlyAll.slice(0, 50).map(key));
    await screenshot(page, "breaches-04-filtered");

    // A product and a date range: the rows the API lists for them.
    const days = [...new Set(all.map((x) => x.date))].sort();
    const product = all[0].scope.replace(/\d+$/, "");
    const ranged = await allBreaches(server, { instrument: product, from: days[1], to: days.at(-2), onlyAsGroup: true });
    assert.ok(ranged.length > 0 && ranged.length < onlyAll.length, `the product and dates keep ${ranged.length} of ${onlyAll.length}`);
    await page.getByTestId("breaches-instrument").fill(product);
    await page.getByTestId("breaches-from").fill(days[1]);
    await page.getByTestId("breaches-to").fill(days.at(-2));
    await page.getByTestId("breaches-apply").click();
    shown = await firstPage(new URLSearchParams({ from: days[1], to: days.at(-2), instrument: product, only: "true" }).toString());
    assert.equal(shown.total, ranged.length, `breaches in ${product} from ${days[1]} to ${days.at(-2)}`);
    assert.deepEqual(shown.rows.map((r) => r.key), ranged.slice(0, 50).map(key));
    await page.getByTestId("breaches-instrument").fill("");
    await page.getByTestId("breaches-from").fill("");
    await page.getByTestId("breaches-to").fill("");
    await page.getByTestId("breaches-apply").click();
    await firstPage("only=true");

    // Open the group of the first row: its view shows that breach.
    const b = onlyAll.find((x) => x.source === "DETECTED");
    assert.ok(b, "a detected group breaches only as a group");
    await page.locator(`[data-testid="breach-list-row"][data-group="${b.groupId}"] a[data-group="${b.groupId}"]`).first().click();
    await graphSettled(page, `group-${b.groupId}`);
    assert.match(page.url(), new RegExp(`#/group/${encodeURIComponent(b.groupId)}$`));
    const panelRows = await shownBreaches(page);
    const row = panelRows.find((r) => r.kind === b.kind && r.scope === b.scope && r.date === b.date);
    assert.ok(row, "the group's view lists the breach of the row clicked");
    assert.deepEqual([row.figure, row.limit, row.only], [b.figure, b.limit, true]);
    await screenshot(page, "breaches-05-group");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("charts a group's position against the limit it breached", async () => {
    const b = all.find((x) => x.source === "DETECTED" && x.kind.startsWith("POSITION_"));
    assert.ok(b, "some detected group breaches a position limit");
    const { controlGroup } = await server.api(
      `query($id: ID!, $i: String!) { controlGroup(id: $id) { breaches { ${BREACH} } positionSeries(instrument: $i) { ${SERIES} } } }`,
      { id: b.groupId, i: b.scope },
    );
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.goto(`${server.url}/#/group/${encodeURIComponent(b.groupId)}`);
    await graphSettled(page, `group-${b.groupId}`);
    await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
    const first = controlGroup.breaches.find((x) => x.kind.startsWith("POSITION_"));
    assert.equal(await page.getByTestId("position-chart").getAttribute("data-instrument"), first.scope, "the first position breach's contract");
    if (first.scope === b.scope) {
      const accounts = checkChart(await drawnChart(page), controlGroup.positionSeries, controlGroup.breaches, b.scope);
      assert.deepEqual(accounts.sort(), b.parts.map((p) => p.account.id).sort(), "the breach's accounts are drawn");
    }
    await screenshot(page, "breaches-06-chart");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows no breach panel on a group without breaches", async () => {
    const breaching = new Set(all.map((b) => b.groupId));
    const { controlGroups } = await server.api(`{ controlGroups(first: 200, orderBy: ID_ASC) { edges { node { id breaches { kind } } } } }`);
    const quiet = controlGroups.edges.map((e) => e.node).find((g) => g.breaches.length === 0);
    assert.ok(quiet, "some group has no breach");
    assert.ok(!breaching.has(quiet.id));
    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.goto(`${server.url}/#/group/${encodeURIComponent(quiet.id)}`);
    await graphSettled(page, `group-${quiet.id}`);
    await page.getByTestId("group-detail").waitFor();
    assert.equal(await page.getByTestId("breach-panel").count(), 0, "no breach panel");
    assert.equal(await page.getByTestId("position-chart").count(), 0, "no chart");
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe("breaches in two contracts", () => {
  let dataset;
  let server;
  let browser;

  before(async () => {
    // The fixture, and A1+A2 short in IF2406: 800 + 700 over IF's 1200 on 2024-03-04; from
    // 2024-03-05 the contract's own limit of 1000 applies, and 400 lots stay within.
    dataset = mkdtempSync(join(tmpdir(), "ctrlgraph-web-two-contracts-"));
    cpSync(join(repoDir, "fixtures", "datasets", "surveillance"), dataset, { recursive: true });
    appendFileSync(join(dataset, "positions.csv"), "2024-03-04,A1,IF2406,0,800,speculation\n2024-03-04,A2,IF2406,0,700,speculation\n2024-03-05,A1,IF2406,0,400,speculation\n");
    appendFileSync(join(dataset, "limits.csv"), "IF2406,position,1000,2024-03-05,\n");
    server = await startServer(dataset, "breaches-two");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataset) rmSync(dataset, { recursive: true, force: true });
  });

  it("picks the contract to chart, the first position breach's by default", async () => {
    const { account } = await server.api(`{ account(id: "A1") { groups { id breaches { ${BREACH} } } } }`);
    const { id: groupId, breaches } = account.groups[0];
    const instruments = [...new Set(breaches.filter((b) => b.kind.startsWith("POSITION_")).map((b) => b.scope))];
    assert.deepEqual(instruments.sort(), ["IF2403", "IF2406"], "position breaches in two contracts");
    const short = breaches.find((b) => b.kind === "POSITION_SHORT");
    assert.deepEqual([short.scope, short.date, short.figure, short.limit], ["IF2406", "2024-03-04", 1500, 1200]);
    const first = breaches.find((b) => b.kind.startsWith("POSITION_")).scope;

    const { context, page, errors } = await signIn(browser, server, server.tokens.analyst);
    await page.goto(`${server.url}/#/group/${encodeURIComponent(groupId)}`);
    await graphSettled(page, `group-${groupId}`);
    await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
    assert.equal(await page.getByTestId("position-chart").getAttribute("data-instrument"), first, "the first position breach's contract by default");
    const options = await page.getByTestId("chart-instrument").locator("option").evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(options.sort(), instruments.sort(), "the picker offers every contract breached");
    const fills = new Map();
    for (const instrument of [first, ...instruments.filter((i) => i !== first)]) {
      if (instrument !== first) {
        await page.getByTestId("chart-instrument").selectOption(instrument);
        await page.locator(`[data-testid="position-chart"][data-instrument="${instrument}"]`).waitFor();
        await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
      }
      const { controlGroup } = await server.api(`query($id: ID!, $i: String!) { controlGroup(id: $id) { positionSeries(instrument: $i) { ${SERIES} } } }`, { id: groupId, i: instrument });
      const chart = await drawnChart(page);
      checkChart(chart, controlGroup.positionSeries, breaches, instrument);
      for (const seg of chart.flatMap((p) => p.days.flatMap((d) => d.segments))) {
        assert.equal(fills.get(seg.account) ?? seg.fill, seg.fill, `${seg.account} keeps its colour from one contract to the next`);
        fills.set(seg.account, seg.fill);
      }
      if (instrument === "IF2406") {
        assert.deepEqual(chart.map((p) => p.side), ["short"], "short lots only: one panel");
        assert.deepEqual(chart[0].steps.map((s) => [s.date, s.limit]), [["2024-03-04", 1200], ["2024-03-05", 1000]], "the limit steps down to the contract's own");
      }
    }
    await screenshot(page, "breaches-07-two-contracts");
    // The contract picked stays across a language switch.
    await page.getByTestId("lang").click();
    await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
    assert.equal(await page.getByTestId("position-chart").getAttribute("data-instrument"), instruments.filter((i) => i !== first).at(-1));
    await page.getByTestId("lang").click();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
