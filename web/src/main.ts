//! The investigation page: a hash router over the pages (search, groups, breaches, a group, a
//! subject), the header (navigation, language, signed-in user) and the session (token in
//! sessionStorage, role from `me`).

import "./style.css";
import { me, onUnauthenticated, setToken, token, type Viewer } from "./api";
import { h, replace } from "./dom";
import { lang, onLangChange, setLang, t, tDyn, tParts } from "./i18n";
import { breachesPage } from "./breaches";
import { groupPage, groupsPage, loginPage, searchPage, subjectPage, type Page } from "./pages";

const app = document.getElementById("app")!;
const header = h("header", { class: "top" });
const content = h("div", { class: "content" });
app.append(header, content);

setLang(lang()); // sets <html lang> before any listener is registered

let viewer: Viewer | null = null;
let page: Page | null = null;
let routeKey = "";

function renderHeader(): void {
  document.title = t("app.title");
  replace(
    header,
    h("a", { class: "brand", href: "#/search" }, "ctrlgraph"),
    viewer
      ? h(
          "nav",
          {},
          h("a", { href: "#/search", "data-testid": "nav-search" }, t("nav.search")),
          h("a", { href: "#/groups", "data-testid": "nav-groups" }, t("nav.groups")),
          h("a", { href: "#/breaches", "data-testid": "nav-breaches" }, t("nav.breaches")),
        )
      : null,
    h("span", { class: "spacer" }),
    viewer
      ? h("span", { class: "small", "data-testid": "whoami", "data-role": viewer.role }, tParts("login.as", { name: h("span", { "data-raw": true }, viewer.name), role: tDyn("role", viewer.role) }))
      : null,
    // The switch names the other language in that language.
    h("button", { type: "button", "data-testid": "lang", lang: lang() === "en" ? "zh-CN" : "en", onclick: () => setLang(lang() === "en" ? "zh" : "en") }, t("nav.lang")),
    viewer ? h("button", { type: "button", "data-testid": "logout", onclick: logout }, t("nav.logout")) : null,
  );
}

function logout(): void {
  setToken(null);
  viewer = null;
  location.hash = "#/login";
  route(true);
}

function show(next: Page): void {
  page?.destroy?.();
  page = next;
  replace(content, next.el);
}

/** Renders the page for the current hash; `force` rebuilds it even when the hash is unchanged. */
function route(force = false): void {
  const hash = location.hash.replace(/^#/, "") || "/search";
  if (!force && hash === routeKey) return;
  routeKey = hash;
  renderHeader();
  if (!viewer) {
    show(
      loginPage((v) => {
        viewer = v;
        if (location.hash === "#/login" || !location.hash) location.hash = "#/search";
        route(true);
      }),
    );
    return;
  }
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const [, section, rawId] = path.split("/");
  const id = rawId ? decodeURIComponent(rawId) : "";
  if (section === "groups") show(groupsPage(params));
  else if (section === "breaches") show(breachesPage(params));
  else if (section === "group" && id) show(groupPage(id, viewer, params));
  else if (section === "subject" && id) show(subjectPage(id, params));
  else show(searchPage(params.get("q") ?? ""));
}

onUnauthenticated(() => {
  setToken(null);
  viewer = null;
  route(true);
});

onLangChange(() => {
  renderHeader();
  if (page?.relabel) page.relabel();
  else route(true);
});

window.addEventListener("hashchange", () => route());

async function start(): Promise<void> {
  if (token()) {
    try {
      viewer = await me();
    } catch {
      setToken(null);
    }
  }
  route(true);
}

void start();
