//! The side panel's parts: the profile of a selected subject, a group's score breakdown and
//! evidence, and the review form (shown only to analysts and admins).

import { gql, type Decision, type Role } from "./api";
import { h, pct, replace } from "./dom";
import { lang, t, tDyn, type Key } from "./i18n";
import { claimText, code, identifierParts, riskText } from "./words";

interface Ref {
  id: string;
  label: string;
  kind?: string;
}
interface GroupRef {
  id: string;
  score: number;
  size: number;
}
interface IdentifierRef extends Ref {
  identifierKind: string;
  value: string;
  holderCount: number;
}

export interface SubjectProfile extends Ref {
  kind: string;
  // Account
  accountType?: string | null;
  status?: string | null;
  member?: Ref | null;
  holder?: Ref | null;
  orderPlacers?: Ref[];
  riskFlags?: { code: string; description: string }[];
  // Person
  name?: string | null;
  idNumber?: string | null;
  relatives?: { relation: string; subject: Ref }[];
  officerRoles?: { entity: Ref; role: string }[];
  // Entity
  uscc?: string | null;
  entityKind?: string | null;
  shareholders?: { owner: Ref; shareMin: number; shareMax: number }[];
  holdings?: { entity: Ref; shareMin: number; shareMax: number }[];
  officers?: { person: Ref; role: string }[];
  // Member
  accountCount?: number;
  // Identifier
  identifierKind?: string;
  value?: string;
  holderCount?: number;
  holders?: Ref[];
  // shared
  accounts?: Ref[];
  identifiers?: IdentifierRef[];
  groups?: GroupRef[];
  // Person and Entity: how the subject takes part in each group
  involvement?: { group: GroupRef; roles: string[]; how: string[] }[];
}

const IDENT = "id label identifierKind value holderCount";
export const SUBJECT_QUERY = `query Subject($id: ID!) {
  subject(id: $id) {
    id kind label
    ... on Account {
      accountType status member { id label } holder { id kind label }
      identifiers { ${IDENT} } orderPlacers { id label } groups { id score size }
      riskFlags { code description }
    }
    ... on Person {
      name idNumber accounts { id label } relatives { relation subject { id kind label } }
      identifiers { ${IDENT} } holdings { entity { id label } shareMin shareMax }
      officerRoles { entity { id label } role } groups { id score size }
      involvement { group { id score size } roles how }
    }
    ... on Entity {
      name uscc entityKind accounts { id label } identifiers { ${IDENT} }
      shareholders { owner { id label } shareMin shareMax } holdings { entity { id label } shareMin shareMax }
      officers { person { id label } role } groups { id score size }
      involvement { group { id score size } roles how }
    }
    ... on Member { name uscc accountCount groups { id score size } }
    ... on Identifier { identifierKind value holderCount holders { id kind label } }
  }
}`;

export async function loadSubject(id: string): Promise<SubjectProfile | null> {
  const data = await gql<{ subject: SubjectProfile | null }>(SUBJECT_QUERY, { id });
  return data.subject;
}

/** Data shown as it is (a name, an id, a value): marked so that the language test leaves it out. */
export function raw(text: string): HTMLElement {
  return h("span", { "data-raw": true }, text);
}

/**
 * A subject's label: its name or id as data; an identifier's (`mac 3C:52:...`) its kind in the
 * page's language and its value as data.
 */
export function subjectName(ref: Ref): (Node | string)[] {
  const label = ref.label || ref.id;
  if (ref.kind === "IDENTIFIER") {
    const { kind, value } = identifierParts(label);
    if (kind) return [kind, " ", raw(value)];
  }
  return [raw(label)];
}

/** A link to a subject's page, its name as data. */
export function subjectLink(ref: Ref): HTMLElement {
  return h("a", { href: `#/subject/${encodeURIComponent(ref.id)}`, "data-subject": ref.id }, subjectName(ref));
}

function groupLink(group: GroupRef): HTMLElement {
  return h(
    "a",
    { href: `#/group/${encodeURIComponent(group.id)}`, "data-group": group.id },
    `${group.id} (${group.size}, ${group.score.toFixed(2)})`,
  );
}

function share(min: number, max: number): string {
  return min === max ? `${min}%` : `${min}–${max}%`;
}

/** The profile of one subject as a definition list, with links to related subjects and groups. */
export function renderProfile(p: SubjectProfile): HTMLElement {
  const rows: [Key, Node | string | null | undefined][] = [
    ["profile.name", p.name ? raw(p.name) : null],
    ["profile.idNumber", p.idNumber ? h("span", { "data-testid": "id-number", "data-raw": true }, p.idNumber) : null],
    ["profile.uscc", p.uscc ? raw(p.uscc) : null],
    ["profile.type", (p.accountType ?? p.entityKind ?? p.identifierKind) ? code((p.accountType ?? p.entityKind ?? p.identifierKind)!) : null],
    ["profile.value", p.value ? raw(p.value) : null],
    ["profile.status", p.status ? code(p.status) : null],
    ["profile.member", p.member ? subjectLink(p.member) : null],
    ["profile.holder", p.holder ? subjectLink(p.holder) : null],
    ["profile.accountCount", p.accountCount !== undefined ? String(p.accountCount) : null],
  ];
  const lists: [Key, Node[] | undefined][] = [
    [
      "profile.groups",
      p.involvement
        ? p.involvement.map((i) =>
            h("span", { "data-testid": "involvement" }, groupLink(i.group), ` ${i.roles.map((r) => tDyn("involve", r)).join(", ")}`),
          )
        : p.groups?.map(groupLink),
    ],
    ["profile.controls", p.involvement?.flatMap((i) => i.how.map((x) => h("span", { class: "small", "data-testid": "control-claim" }, claimText(x))))],
    ["profile.accounts", p.accounts?.map(subjectLink)],
    ["profile.holders", p.holders?.map(subjectLink)],
    ["profile.placers", p.orderPlacers?.map(subjectLink)],
    [
      "profile.identifiers",
      p.identifiers?.map((i) =>
        h("span", {}, h("a", { href: `#/subject/${encodeURIComponent(i.id)}`, "data-subject": i.id }, code(i.identifierKind), " ", raw(i.value)), ` ×${i.holderCount}`),
      ),
    ],
    ["profile.relatives", p.relatives?.map((r) => h("span", {}, subjectLink(r.subject), ` (${code(r.relation)})`))],
    ["profile.shareholders", p.shareholders?.map((s) => h("span", {}, subjectLink(s.owner), ` ${share(s.shareMin, s.shareMax)}`))],
    ["profile.holdings", p.holdings?.map((s) => h("span", {}, subjectLink(s.entity), ` ${share(s.shareMin, s.shareMax)}`))],
    ["profile.officers", p.officers?.map((o) => h("span", {}, subjectLink(o.person), ` (${code(o.role)})`))],
    ["profile.roles", p.officerRoles?.map((o) => h("span", {}, subjectLink(o.entity), ` (${code(o.role)})`))],
    ["profile.riskFlags", p.riskFlags?.map((f) => h("span", { "data-code": f.code }, riskText(f.code, f.description)))],
  ];
  return h(
    "div",
    { class: "profile", "data-testid": "profile", "data-id": p.id },
    h("h3", {}, h("span", { class: `kind kind-${p.kind}` }, tDyn("kind", p.kind)), " ", subjectName(p)),
    h("a", { href: `#/subject/${encodeURIComponent(p.id)}`, class: "small" }, t("profile.open")),
    h(
      "dl",
      {},
      rows.filter(([, v]) => v).map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]),
      lists
        .filter(([, v]) => v && v.length > 0)
        .map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, h("ul", { class: "refs" }, v!.map((n) => h("li", {}, n))))]),
    ),
  );
}

export interface Review {
  groupId: string;
  decision: Decision;
  note: string;
  reviewer: string;
  at: string;
}

export interface GroupDetail {
  id: string;
  size: number;
  score: number;
  controller: Ref | null;
  controllerBasis: string;
  contributions: { family: string; share: number }[];
  criteria: string[];
  status: string;
  reportedGroup: string | null;
  missingFromReport: Ref[];
  members: Ref[];
  evidence: {
    a: Ref;
    b: Ref;
    weight: number;
    strength: "STRONG" | "WEAK";
    /** `description` in English, `zh` the same evidence in Chinese. */
    signals: { kind: string; criterion: string | null; weight: number; description: string; zh: string }[];
  }[];
  review: Review | null;
  reviews: Review[];
}

const REVIEW_FIELDS = "groupId decision note reviewer at";

export const GROUP_DETAIL_FIELDS = `
  id size score controller { id kind label } controllerBasis
  contributions { family share } criteria status reportedGroup
  missingFromReport { id label } members { id label }
  evidence { a { id label } b { id label } weight strength signals { kind criterion weight description zh: description(lang: ZH) } }
  review { ${REVIEW_FIELDS} } reviews { ${REVIEW_FIELDS} }
`;

/** Summary, score breakdown and evidence list of a group. */
export function renderGroupDetail(g: GroupDetail): HTMLElement {
  const total = g.contributions.reduce((sum, c) => sum + c.share, 0) || 1;
  return h(
    "div",
    { class: "group-detail", "data-testid": "group-detail" },
    h(
      "dl",
      {},
      h("dt", {}, t("group.score")),
      h("dd", { "data-testid": "group-score" }, g.score.toFixed(3)),
      h("dt", {}, t("col.status")),
      h("dd", {}, h("span", { class: `status status-${g.status}` }, tDyn("status", g.status))),
      g.reportedGroup ? [h("dt", {}, t("group.reported")), h("dd", {}, raw(g.reportedGroup))] : null,
      g.missingFromReport.length
        ? [h("dt", {}, t("group.missing")), h("dd", {}, g.missingFromReport.map((a) => [subjectLink(a), " "]))]
        : null,
      g.controller ? [h("dt", {}, t("group.controller")), h("dd", {}, subjectLink(g.controller))] : null,
      h("dt", {}, t("group.basis")),
      h("dd", { "data-testid": "controller-basis" }, tDyn("basis", g.controllerBasis)),
      h("dt", {}, t("col.criteria")),
      h("dd", {}, g.criteria.map((c) => h("span", { class: "badge" }, c))),
      h("dt", {}, t("col.members")),
      h("dd", {}, g.members.map((m) => [subjectLink(m), " "])),
    ),
    h("h4", {}, t("group.breakdown")),
    h(
      "div",
      { class: "breakdown", "data-testid": "breakdown" },
      g.contributions.map((c) =>
        h(
          "div",
          { class: "bar-row" },
          h("span", { class: "bar-label", "data-family": c.family }, tDyn("sig", c.family)),
          h("span", { class: "bar" }, h("span", { class: "bar-fill", style: `width:${(100 * c.share) / total}%` })),
          h("span", { class: "bar-value" }, pct(c.share)),
        ),
      ),
    ),
    h("h4", {}, t("group.evidence"), ` (${g.evidence.length})`),
    h(
      "ol",
      { class: "evidence", "data-testid": "evidence" },
      g.evidence.map((e) =>
        h(
          "li",
          { class: `ev ev-${e.strength}` },
          h("div", {}, subjectLink(e.a), " — ", subjectLink(e.b), " ", h("span", { class: `strength strength-${e.strength}` }, tDyn("strength", e.strength)), ` ${e.weight.toFixed(2)}`),
          h(
            "ul",
            {},
            e.signals.map((s) =>
              h("li", { "data-testid": "signal" }, s.criterion ? h("span", { class: "badge" }, s.criterion) : null, ` ${lang() === "zh" ? s.zh : s.description} (${s.weight.toFixed(2)})`),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The review section: the current decision and history for everyone, the form for analysts and admins. */
export function renderReview(g: GroupDetail, role: Role, onSaved: (review: Review) => void): HTMLElement {
  const root = h("div", { class: "review", "data-testid": "review" });
  const current = g.review
    ? h(
        "p",
        { "data-testid": "review-current", "data-decision": g.review.decision },
        h("strong", {}, tDyn("review", g.review.decision)),
        " — ",
        raw(g.review.reviewer),
        `, ${g.review.at}`,
        g.review.note ? h("br") : null,
        g.review.note ? raw(g.review.note) : null,
      )
    : h("p", { "data-testid": "review-current" }, t("review.none"));
  root.append(h("h4", {}, t("review.title")), current);
  if (role === "VIEWER") {
    root.append(h("p", { class: "small" }, t("review.readonly")));
  } else {
    const status = h("p", { class: "small", "data-testid": "review-status" });
    const note = h("textarea", { name: "note", rows: 2, "data-testid": "review-note" });
    const decisions: Decision[] = ["CONFIRMED", "DISMISSED", "ESCALATED"];
    const form = h(
      "form",
      { "data-testid": "review-form" },
      h(
        "fieldset",
        {},
        h("legend", {}, t("review.decision")),
        decisions.map((d, i) =>
          h("label", {}, h("input", { type: "radio", name: "decision", value: d, checked: i === 0, "data-testid": `decision-${d}` }), ` ${tDyn("review", d)} `),
        ),
      ),
      h("label", {}, t("review.note"), note),
      h("button", { type: "submit", "data-testid": "review-submit" }, t("review.submit")),
      status,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const decision = (new FormData(form).get("decision") as Decision | null) ?? "CONFIRMED";
      status.textContent = t("loading");
      gql<{ reviewGroup: Review }>(
        `mutation Review($id: ID!, $decision: Decision!, $note: String) {
          reviewGroup(id: $id, decision: $decision, note: $note) { ${REVIEW_FIELDS} }
        }`,
        { id: g.id, decision, note: note.value },
      )
        .then((data) => {
          status.textContent = t("review.saved");
          onSaved(data.reviewGroup);
        })
        .catch((e: Error & { code?: string }) => {
          status.textContent = e.code === "FORBIDDEN" ? t("error.forbidden") : t("error.generic", { msg: e.message });
        });
    });
    root.append(form);
  }
  if (g.reviews.length > 0) {
    root.append(
      h("h4", {}, t("review.history")),
      h("ul", { class: "small" }, g.reviews.map((r) => h("li", {}, `${r.at} `, raw(r.reviewer), `: ${tDyn("review", r.decision)} `, raw(r.note)))),
    );
  }
  return root;
}

/** Shows a loading line in `el`, then whatever `render` makes of the result, or the error. */
export async function fill<T>(el: HTMLElement, load: Promise<T>, render: (value: T) => Node | string): Promise<void> {
  replace(el, h("p", { class: "small" }, t("loading")));
  try {
    replace(el, render(await load));
  } catch (e) {
    replace(el, h("p", { class: "error" }, t("error.generic", { msg: (e as Error).message })));
  }
}
