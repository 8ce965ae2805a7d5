// Test harness for the investigation page: builds an analysed store from a fixture dataset with
// the real `ctrlgraph` binary, starts `ctrlgraph serve` on a free port with viewer, analyst and
// admin tokens, talks to its GraphQL API directly, and launches Debian's Chromium through
// playwright-core. Everything it cannot do fails loudly.

import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = resolve(webDir, "..");
export const artefacts = resolve(process.env.CTRLGRAPH_ARTEFACTS ?? join(repoDir, "target", "test-artefacts", "web"));
mkdirSync(artefacts, { recursive: true });

/** The ctrlgraph binary: $CTRLGRAPH_BIN, else the debug build in $CARGO_TARGET_DIR or target/. */
export function binary() {
  const bin = process.env.CTRLGRAPH_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repoDir, "target"), "debug", "ctrlgraph");
  if (!existsSync(bin)) throw new Error(`the ctrlgraph binary is missing at ${bin}: run scripts/web-e2e.sh (it builds it) or set CTRLGRAPH_BIN`);
  return bin;
}

export function chromiumPath() {
  const path = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path)) throw new Error(`Chromium is missing at ${path}: run scripts/ensure-browser.sh`);
  return path;
}

function run(args, what) {
  const out = spawnSync(binary(), args, { encoding: "utf8", env: { ...process.env, RUST_LOG: "warn" } });
  if (out.status !== 0) throw new Error(`${what} failed (exit ${out.status}):\n${out.stderr}`);
  return out.stdout;
}

/** A generated dataset (`ctrlgraph gen`, with `extra` options such as `--tapes`) in a temporary folder; returns its path. */
export function generate(accounts, seed, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), "ctrlgraph-web-gen-"));
  run(["gen", "--accounts", String(accounts), "--seed", String(seed), "--out", dir, ...extra], "gen");
  return dir;
}

async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/**
 * An analysed store made from `dataset` (a folder), served on a free port.
 * Returns { url, tokens: {viewer, analyst, admin}, api(query, variables, token), stop() }.
 */
export async function startServer(dataset, name) {
  const dir = mkdtempSync(join(tmpdir(), `ctrlgraph-web-${name}-`));
  const store = join(dir, "store");
  run(["--store", store, "ingest", dataset], `ingest ${dataset}`);
  run(["--store", store, "analyze"], "analyze");

  const tokens = {};
  let toml = "";
  for (const role of ["viewer", "analyst", "admin"]) {
    const token = randomBytes(18).toString("hex");
    tokens[role] = token;
    toml += `[[token]]\nname = "${role}-e2e"\nrole = "${role}"\nsha256 = "${createHash("sha256").update(token).digest("hex")}"\n\n`;
  }
  const tokensFile = join(dir, "tokens.toml");
  writeFileSync(tokensFile, toml);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(artefacts, `server-${name}.log`));
  const child = spawn(
    binary(),
    ["--store", store, "serve", "--listen", `127.0.0.1:${port}`, "--tokens", tokensFile, "--web-dir", join(webDir, "dist")],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "info" } },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on("exit", (code) => (exited = code));

  const api = async (query, variables = {}, token = tokens.analyst) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(`API error: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`ctrlgraph serve exited with ${exited}; see ${join(artefacts, `server-${name}.log`)}`);
    try {
      await api("{ me { role } }");
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`ctrlgraph serve did not answer on ${url} within 60 s: ${e.message}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }
  const index = await fetch(`${url}/`);
  if (!index.ok || !(await index.text()).includes('id="app"')) {
    throw new Error(`ctrlgraph serve does not serve the built page at ${url}/ (HTTP ${index.status})`);
  }

  const stop = async () => {
    if (exited === null) {
      child.kill("SIGTERM");
      await new Promise((ok) => child.once("exit", ok));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, tokens, api, stop };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A page signed in with `token` (through the sign-in form), its console errors collected. */
export async function signIn(browser, server, token, { lang = "en" } = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true, locale: lang });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.addInitScript((l) => localStorage.setItem("ctrlgraph.lang", l), lang);
  await page.goto(`${server.url}/`);
  await page.getByTestId("token").fill(token);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("whoami").waitFor();
  return { context, page, errors };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artefacts, `${name}.png`) });
}

/** Waits until the graph has loaded and its layout has stopped. */
export async function graphSettled(page, view, timeout = 30_000) {
  // Wait for the canvas of this view (the page being left may still be in the document
  // with a settled graph) and read its counts in the same check, so they cannot belong
  // to another canvas.
  const handle = await page.waitForFunction(
    (name) => {
      const el = document.querySelector(`[data-testid="graph"][data-view="${name}"]`);
      if (el?.dataset.loaded !== "true" || el.dataset.layout === "running" || el.dataset.busy) return null;
      return { nodes: Number(el.dataset.nodes), edges: Number(el.dataset.edges) };
    },
    view,
    { timeout },
  );
  return handle.jsonValue();
}
