// The page in Chinese shows no English (issue 17): with the language switched to Chinese, every
// page of the investigation page is visited on four fixtures (family-and-nominee: relations,
// transfers, trades, shared identifiers; ownership-chain: majority chains, a general partner,
// an asset manager; the group-layout groups of 2 and 8 accounts: a fund-flow hub; surveillance:
// the tapes, with limit breaches and reporting findings): sign-in, search results, the group
// list, the breach page (all breaches and filtered) with the reporting findings, every group
// with its side panel (the breach panel and its chart where the group breaches), evidence hubs,
// pairwise evidence and an explained path, and the subject pages of accounts, persons,
// entities, members and identifiers. On each, every text the page shows is collected:
// DOM text, the title, placeholder and aria-label attributes, the group view's label layer and,
// where sigma draws the labels on a canvas, the labels of the graph the page holds. Any word of
// three or more Latin letters that is not data and not on a short list of tokens Chinese pages
// write in Latin letters fails the test; so does a page switched to Chinese after it was drawn in
// English. What was found goes to target/test-artefacts/web/chinese-untranslated-<fixture>.json.
// The catalogue is checked too: every key has an English and a Chinese text, the Chinese with no
// English in it.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artefacts, graphSettled, launchBrowser, repoDir, screenshot, signIn, startServer, webDir } from "./harness.mjs";
import { groupsDataset } from "./group-fixtures.mjs";

/**
 * Latin words a Chinese page may show: the product's name, the names of the export formats on
 * the export buttons, "API" in "API 令牌", "MAC" in "MAC地址" (both usual in Chinese software),
 * and the key name "Shift" printed on the keyboard. Everything else is translated.
 */
const ALLOWED = new Set(["ctrlgraph", "PNG", "JSON", "API", "MAC", "Shift"]);

/**
 * The English words in `text`. A word is a run of Latin letters, digits and `_`; one with a
 * digit in it is an id, a code or a value (A01, P01, IF2412, C3, S4EWNX0R512347) and is data,
 * as is any word of fewer than three letters (IP, M01).
 */
export function englishWords(text) {
  const out = [];
  for (const [word] of text.matchAll(/[A-Za-z0-9_]+/g)) {
    if (!/[A-Za-z]{3,}/.test(word) || /\d/.test(word) || ALLOWED.has(word)) continue;
    out.push(word);
  }
  return out;
}

/**
 * Every text the page shows, with where it was found. Elements marked `data-raw` hold data
 * (names, ids, identifier values, notes) and elements with `lang="en"` are English on purpose
 * (the switch back to English): both are left out. Graph labels come from the page's graph:
 * edge labels and the view's own hub labels are the page's words; a node's label is its name or
 * id (data), except an identifier's, whose first word names its kind.
 */
async function shownTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const skip = (el) => !el || el.closest("[data-raw], [lang='en'], script, style, noscript, [hidden]");
    const where = (el) => {
      const testid = el.closest("[data-testid]")?.dataset.testid;
      return `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : ""}${testid ? ` in ${testid}` : ""}`;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.textContent.trim();
      if (!text || skip(el)) continue;
      if (el.tagName !== "OPTION" && el.getClientRects().length === 0) continue;
      out.push({ where: where(el), text });
    }
    for (const el of document.body.querySelectorAll("[title], [placeholder], [aria-label], [alt]")) {
      if (skip(el)) continue;
      for (const attr of ["title", "placeholder", "aria-label", "alt"]) {
        const text = el.getAttribute(attr);
        if (text) out.push({ where: `${where(el)} @${attr}`, text });
      }
    }
    out.push({ where: "document.title", text: document.title });
    const view = window.ctrlgraphView;
    if (view && document.querySelector('[data-testid="graph"]')) {
      view.graph.forEachEdge((_, a) => a.label && out.push({ where: `edge label ${a.kind}`, text: a.label }));
      view.graph.forEachNode((_, a) => {
        if (a.synthetic) out.push({ where: "hub label", text: a.label });
        else if (a.kind === "IDENTIFIER") out.push({ where: "identifier label", text: a.label.split(" ")[0] });
      });
    }
    return out;
  });
}

const GRAPH = "nodes { id kind } edges { source target kind }";

/** Switches the page to English and back to Chinese: what it redraws in place must be Chinese too. */
async function switchBack(page) {
  await page.getByTestId("lang").click();
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await page.getByTestId("lang").click();
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
}

function chineseSuite(dataset, path, { withBreaches = false } = {}) {
  describe(`the page in Chinese on ${dataset}`, () => {
    let server;
    let browser;
    /** English found: text → { where, words, page }. */
    const found = new Map();
    let visited = 0;
    /** Group views with a breach panel, and whether one was switched to English and back. */
    let breachPanels = 0;
    let switchedOnBreaches = false;

    const collect = async (page, what) => {
      visited++;
      for (const { where, text } of await shownTexts(page)) {
        const words = englishWords(text);
        if (words.length && !found.has(text)) found.set(text, { where, words, page: what });
      }
    };

    before(async () => {
      server = await startServer(path(), `zh-${dataset.replace(/\W+/g, "-")}`);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    it("shows every page in Chinese", async () => {
      const { controlGroups } = await server.api(`{ controlGroups(first: 100) { edges { node { id graph { ${GRAPH} } } } } }`);
      const groups = controlGroups.edges.map((e) => e.node);
      assert.ok(groups.length > 0, "the fixture has groups");
      // A review, so that the review section shows a decision and its history.
      await server.api(`mutation($id: ID!) { reviewGroup(id: $id, decision: ESCALATED, note: "nominee") { decision } }`, { id: groups[0].id });

      // Sign-in, in Chinese from the start.
      const login = await browser.newContext({ locale: "zh-CN" });
      const loginPage = await login.newPage();
      await loginPage.addInitScript(() => localStorage.setItem("ctrlgraph.lang", "zh"));
      await loginPage.goto(`${server.url}/`);
      await loginPage.getByTestId("login-submit").waitFor();
      await collect(loginPage, "sign-in");
      await login.close();

      const { context, page, errors } = await signIn(browser, server, server.tokens.analyst, { lang: "zh" });
      const go = async (hash) => {
        await page.goto(`${server.url}/#${hash}`);
      };

      // Search: an id, a name, an identifier and nothing.
      const { subject } = await server.api(`{ subject(id: "${groups[0].graph.nodes.find((n) => n.kind === "PERSON" || n.kind === "ENTITY")?.id ?? groups[0].graph.nodes[0].id}") { label } }`);
      const ident = groups.flatMap((g) => g.graph.nodes).find((n) => n.kind === "IDENTIFIER");
      for (const q of ["", groups[0].graph.nodes[0].id, subject.label, ident?.id, "zzzz-nothing"].filter((q) => q !== undefined)) {
        await go(`/search?q=${encodeURIComponent(q)}`);
        if (q) await page.getByTestId("search-results").locator("ul, p:not(.small)").first().waitFor();
        await collect(page, `search ${q}`);
      }

      // The group list, then every group: the panel, the hubs, the pairwise evidence, a path.
      await go("/groups");
      await page.locator('[data-testid="groups-total"][data-loaded]').waitFor();
      await page.getByTestId("group-row").first().waitFor();
      await collect(page, "groups");

      // The breach page: every breach and the reporting findings, then filtered by kind and
      // only-as-a-group.
      for (const query of ["", "kind=POSITION_LONG&only=true"]) {
        await go(`/breaches${query ? `?${query}` : ""}`);
        await page.locator(`[data-testid="breaches-total"][data-loaded="${query}"]`).waitFor();
        await page.getByTestId("reports").locator("table, p:not(.small), p[data-testid]").first().waitFor();
        await collect(page, `breaches ${query}`);
      }

      for (const g of groups) {
        await go(`/group/${encodeURIComponent(g.id)}`);
        await graphSettled(page, `group-${g.id}`);
        await page.getByTestId("group-detail").waitFor();
        await page.getByTestId("review").waitFor();
        // The breach panel and its chart, where the group breaches.
        if (await page.getByTestId("breach-panel").count()) {
          await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
          breachPanels++;
        }
        await collect(page, `group ${g.id}`);
        const hubs = await page.evaluate(() => window.ctrlgraphView.graph.filterNodes((_, a) => a.synthetic));
        for (const hub of hubs) {
          await page.evaluate((id) => window.ctrlgraphView.select(id, false), hub);
          await page.locator(`[data-testid="profile"][data-id="${hub}"]`).waitFor();
          await collect(page, `group ${g.id} hub ${hub}`);
        }
        const accounts = g.graph.nodes.filter((n) => n.kind === "ACCOUNT").map((n) => n.id);
        if (accounts.length >= 2) {
          await page.evaluate(([a, b]) => window.ctrlgraphView.explainPath(a, b), accounts);
          await page.getByTestId("path-panel").locator("h4").waitFor();
        }
        if (await page.getByTestId("pairwise").count()) await page.getByTestId("pairwise").click();
        await page.evaluate(() => window.ctrlgraphView.placeLabels());
        await collect(page, `group ${g.id} path, pairwise`);
        if (g === groups[0] || (breachPanels === 1 && !switchedOnBreaches)) {
          await switchBack(page);
          if (await page.getByTestId("breach-panel").count()) {
            await page.locator('[data-testid="breach-panel"][data-ready="true"]').waitFor();
            switchedOnBreaches = true;
          }
          await page.evaluate(() => window.ctrlgraphView.placeLabels());
          await collect(page, `group ${g.id} after English`);
        }
      }
      await screenshot(page, `chinese-${dataset}-group`);

      // Subject pages: up to four of each kind, every person and entity (their control claims).
      const nodes = new Map(groups.flatMap((g) => g.graph.nodes).map((n) => [n.id, n]));
      const perKind = new Map();
      const subjects = [...nodes.values()].filter((n) => {
        const k = (perKind.get(n.kind) ?? 0) + 1;
        perKind.set(n.kind, k);
        return k <= 4 || n.kind === "PERSON" || n.kind === "ENTITY";
      });
      for (const n of subjects) {
        await go(`/subject/${encodeURIComponent(n.id)}`);
        await graphSettled(page, `subject-${n.id}`);
        await page.locator(`[data-testid="profile"][data-id="${n.id}"]`).waitFor();
        await collect(page, `subject ${n.kind} ${n.id}`);
        if (n === subjects[0]) {
          await switchBack(page);
          await page.locator(`[data-testid="profile"][data-id="${n.id}"]`).waitFor();
          await collect(page, `subject ${n.kind} ${n.id} after English`);
        }
      }
      await screenshot(page, `chinese-${dataset}-subject`);
      assert.deepEqual(errors, [], "no errors in the browser console");
      await context.close();

      const report = [...found].map(([text, f]) => ({ text, ...f }));
      writeFileSync(join(artefacts, `chinese-untranslated-${dataset.replace(/\W+/g, "-")}.json`), JSON.stringify({ visited, found: report }, null, 2));
      assert.ok(visited > 10, `${visited} views visited`);
      if (withBreaches) assert.ok(breachPanels > 0 && switchedOnBreaches, "a group's breach panel was visited, and switched to English and back");
      assert.deepEqual(
        report.slice(0, 60).map((f) => `${f.words.join(" ")} ← ${JSON.stringify(f.text.slice(0, 120))} (${f.where}, ${f.page})`),
        [],
        `${report.length} texts with English on ${visited} views`,
      );
    });
  });
}

describe("the message catalogue", () => {
  it("has every key in English and in Chinese, the Chinese with no English in it", () => {
    const source = readFileSync(join(webDir, "src", "i18n.ts"), "utf8");
    const block = (name) => {
      const start = source.indexOf(`const ${name}`);
      assert.ok(start >= 0, `i18n.ts defines ${name}`);
      const body = source.slice(start, source.indexOf("\n};", start));
      return new Map([...body.matchAll(/^ {2}"([^"]+)": "((?:[^"\\]|\\.)*)",$/gm)].map((m) => [m[1], m[2]]));
    };
    const en = block("en");
    const zh = block("zh");
    assert.ok(en.size > 100, `${en.size} English texts read`);
    assert.deepEqual([...en.keys()].filter((k) => !zh.get(k)), [], "keys without a Chinese text");
    assert.deepEqual([...zh.keys()].filter((k) => !en.get(k)), [], "keys without an English text");
    // The switch to English names English in English; placeholders are filled with data.
    const english = [...zh]
      .filter(([k]) => k !== "nav.lang")
      .map(([k, text]) => [k, englishWords(text.replace(/\{\w+\}/g, ""))])
      .filter(([, words]) => words.length);
    assert.deepEqual(english, [], "Chinese texts with English words");
  });
});

chineseSuite("family-and-nominee", () => join(repoDir, "fixtures", "datasets", "family-and-nominee"));
chineseSuite("ownership-chain", () => join(repoDir, "fixtures", "datasets", "ownership-chain"));
chineseSuite("groups of 2 and 8", () => groupsDataset([2, 8], 1));
chineseSuite("surveillance", () => join(repoDir, "fixtures", "datasets", "surveillance"), { withBreaches: true });
