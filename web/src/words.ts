//! The server's English words whose grammar the server fixes, in the page's language: graph edge
//! labels (`graph_edge` in gql-api's traversal.rs), identifier labels (`<kind> <value>`), risk
//! flags (one sentence per flag code) and control claims (`HolderClaim::english` in detectors).
//! Each is parsed by its known grammar and rebuilt from the catalogue; a text that does not
//! parse is shown as the server wrote it, so that a change of grammar shows instead of hiding.

import { lang, t, tDyn } from "./i18n";

/** A contract code (role, relation, kind, status) in words; the code itself when unknown. */
export function code(value: string): string {
  return tDyn("code", value);
}

/** A graph edge's English label from the API in the page's words, by the edge's kind (codes such
 * as `legal_rep` in words); in Chinese the page shows the API's own `labelZh`. */
export function edgeText(kind: string, label: string): string {
  let m: RegExpMatchArray | null;
  switch (kind) {
    case "HELD_BY":
    case "AT_MEMBER":
    case "OFFICER":
    case "RELATION":
    case "AUTHORISED":
    case "HAS_IDENTIFIER":
      return code(label);
    case "OWNS":
      // `60.00% equity`, `24.00-30.00% voting`.
      if ((m = label.match(/^(\S+%) (\w+)$/))) return t("edge.owns", { pct: m[1], kind: code(m[2]) });
      break;
    case "TRANSFERS":
      // `3 transfers, 1000 CNY`.
      if ((m = label.match(/^(\d+) transfers, (-?\d+) CNY$/))) return t("edge.transfers", { count: m[1], total: m[2] });
      break;
    case "TRADED_WITH":
      // `12 trades IF2403`.
      if ((m = label.match(/^(\d+) trades (\S+)$/))) return t("edge.trades", { trades: m[1], instrument: m[2] });
      break;
    case "EVIDENCE":
      // Criteria and a weight: `C1 C4 0.85`.
      return label;
  }
  return label.split(" ").map(code).join(" ");
}

/** An identifier's label from the API (`mac 3C:52:82:1A:2B:3C`): its kind in words and its value. */
export function identifierParts(label: string): { kind: string; value: string } {
  const space = label.indexOf(" ");
  if (space < 0) return { kind: "", value: label };
  return { kind: code(label.slice(0, space)), value: label.slice(space + 1) };
}

/** An identifier's label in the page's language. */
export function identifierText(label: string): string {
  const { kind, value } = identifierParts(label);
  return kind ? `${kind} ${value}` : value;
}

/** The English sentence of each risk flag code (gql-api `risk_flags`), its parts named as the catalogue names them. */
const RISK_GRAMMAR: Record<string, RegExp> = {
  UNREPORTED_GROUP: /^in suspected group (?<group>\S+) \((?<n>\d+) accounts, score (?<score>[\d.]+)\) that was not reported$/,
  MISSING_FROM_REPORT: /^in suspected group (?<group>\S+) but missing from reported group (?<reported>\S+)$/,
  HIGH_SCORE_GROUP: /^suspected group (?<group>\S+) scores (?<score>[\d.]+)$/,
  WASH_TRADES: /^(?<trades>\d+) trades \((?<lots>\d+) lots\) between accounts of group (?<group>\S+)$/,
  CONTROLLER_NOT_HOLDER: /^suspected controller (?<controller>\S+) is not the holder$/,
  OWN_GROUP_TRADING: /^(?<pct>\d+)% of its (?<n>\d+) trades are with accounts of its own group$/,
  SEVERAL_MEMBERS: /^the holder has accounts at (?<n>\d+) members$/,
};

/** A risk flag's description in the page's language. */
export function riskText(flagCode: string, description: string): string {
  if (lang() === "en") return description;
  const m = RISK_GRAMMAR[flagCode]?.exec(description);
  return m?.groups ? tDyn("risk", flagCode, m.groups) : description;
}

/** One hop of a control chain, `P01 -[equity 60.00%]-> E01`, as the Chinese reports write it. */
function hopsText(path: string): string | null {
  const hops = path.split(", ").map((hop) => hop.match(/^(\S+) -\[(.+?)\]-> (\S+)$/));
  if (hops.some((h) => !h)) return null;
  let out = hops[0]![1];
  for (const h of hops) {
    const [what, share] = h![2].split(" ");
    out += t("claim.hop", { what: share ? `${code(what)} ${share}` : code(what), to: h![3] });
  }
  return out;
}

/**
 * A control claim (how a controller controls one holder) in the page's language:
 * `E02 by majority control, 70.0% = 70.00% held by E01 (P01 -[equity 60.00%]-> E01, ...)`,
 * `E08 as general partner (...)`, `E10 as manager of the product (...)`.
 */
export function claimText(claim: string): string {
  if (lang() === "en") return claim;
  const paths = (text: string): string | null => {
    const parts = text.split("; ").map(hopsText);
    return parts.some((p) => p === null) ? null : parts.join(t("claim.pathsep"));
  };
  let m = claim.match(/^(\S+) by majority control, ([\d.]+)% = (.+?) \((.*)\)$/);
  if (m) {
    const stakes = m[3].split(" + ").map((part) => {
      const s = part.match(/^(?:(\S+%) )?held (?:directly|by (\S+))$/);
      if (!s) return null;
      const share = s[1] ?? "";
      return (s[2] ? t("claim.via", { source: s[2], share }) : t("claim.direct", { share })).trim();
    });
    const p = paths(m[4]);
    if (p !== null && !stakes.includes(null)) return t("claim.majority", { holder: m[1], sum: m[2], parts: stakes.join(" + "), paths: p });
    return claim;
  }
  m = claim.match(/^(\S+) as (general partner|manager of the product) \((.*)\)$/);
  if (m) {
    const p = paths(m[3]);
    if (p !== null) return t(m[2] === "general partner" ? "claim.partner" : "claim.manager", { holder: m[1], paths: p });
  }
  return claim;
}
