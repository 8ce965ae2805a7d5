// Fixture datasets for the group-layout tests, written as CSV files that follow the input format
// (/work/shared/spec/input-format.md is the contract): for each size N, a control group of N
// accounts, each held by its own company, every company 60% owned by one person (the controller)
// and represented by a second person (legal_rep, a shared officer). The first three accounts of
// each group report one machine (a shared MAC); in groups of eight or more, accounts 4, 5 and 6 pass
// one sum round a cycle (a fund-flow pattern, drawn as an evidence hub). Six two-account groups (one person holding two
// accounts) stand for the many small groups of real data. Reported groups make the statuses
// differ: the largest group is reported in full, the second largest in part, the others not.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SURNAMES = "陈王李张刘杨黄赵吴周徐孙马朱胡郭何高林罗";
const GIVEN = ["志强", "建华", "秀英", "明", "丽娟", "海涛", "静", "国栋", "晓红", "伟"];
const CITIES = ["上海", "杭州", "深圳", "苏州", "宁波", "南京", "无锡", "厦门"];
const TRADES = ["鼎盛投资", "华泰贸易", "恒信商贸", "盛达实业", "汇丰科技", "远航物流", "金桥资本", "新元能源"];

const pad = (n, w = 3) => String(n).padStart(w, "0");

function csv(dir, name, header, rows) {
  writeFileSync(join(dir, name), [header.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n");
}

/** The id of account `i` (1-based) of the group of `size` accounts, and of its controller. */
export const accountId = (size, i) => `A${pad(size)}_${pad(i)}`;
export const controllerId = (size) => `P${pad(size)}C`;

/**
 * Writes the dataset into a new temporary folder and returns its path. `sizes` are the sizes of
 * the planted groups, largest reported, second largest partly reported.
 */
export function groupsDataset(sizes = [2, 8, 40, 200], smallGroups = 6) {
  const dir = mkdtempSync(join(tmpdir(), "ctrlgraph-web-groups-"));
  const persons = [];
  const entities = [];
  const accounts = [];
  const shareholdings = [];
  const officers = [];
  const identifiers = [];
  const reported = [];
  const transfers = [];
  const bySize = [...sizes].sort((a, b) => b - a);
  let name = 0;
  const personName = () => {
    const n = name++;
    return `${SURNAMES[n % SURNAMES.length]}${GIVEN[Math.floor(n / SURNAMES.length) % GIVEN.length]}${n >= SURNAMES.length * GIVEN.length ? n : ""}`;
  };
  for (const size of sizes) {
    const controller = controllerId(size);
    const rep = `P${pad(size)}R`;
    persons.push([controller, personName(), ""], [rep, personName(), ""]);
    for (let i = 1; i <= size; i++) {
      const entity = `E${pad(size)}_${pad(i)}`;
      const company = `${CITIES[i % CITIES.length]}${TRADES[(i + size) % TRADES.length]}${pad(i)}有限公司`;
      entities.push([entity, company, "", "company", "active"]);
      shareholdings.push([controller, entity, "60", "equity"]);
      officers.push([rep, entity, "legal_rep"]);
      const account = accountId(size, i);
      accounts.push([account, entity, i % 2 ? "M01" : "M02", "institution", "2020-01-06", "active"]);
      if (i <= 3) identifiers.push([account, "mac", `D4:5D:64:${pad(size % 100, 2)}:00:01`]);
      if (size >= 8 && i >= 4 && i <= 6) {
        const to = accountId(size, i === 6 ? 4 : i + 1);
        transfers.push([`F${pad(size)}_${i}`, `2024-12-02T${10 + i}:15:00+08:00`, account, to, "387250.00"]);
      }
      if (size === bySize[0] || (size === bySize[1] && i <= size / 2)) reported.push([`R${pad(size)}`, account, "2020-01-10"]);
    }
  }
  for (let g = 1; g <= smallGroups; g++) {
    const person = `PS${pad(g)}`;
    persons.push([person, personName(), ""]);
    for (const i of [1, 2]) accounts.push([`AS${pad(g)}_${i}`, person, "M01", "individual", "2020-01-06", "active"]);
  }
  csv(dir, "members.csv", ["member_id", "name", "uscc"], [["M01", "国泰君安期货有限公司", ""], ["M02", "永安期货股份有限公司", ""]]);
  csv(dir, "persons.csv", ["person_id", "name", "id_number"], persons);
  csv(dir, "entities.csv", ["entity_id", "name", "uscc", "kind", "status"], entities);
  csv(dir, "accounts.csv", ["account_id", "holder_id", "member_id", "account_type", "open_date", "status"], accounts);
  csv(dir, "shareholdings.csv", ["owner_id", "entity_id", "share_pct", "kind"], shareholdings);
  csv(dir, "officers.csv", ["person_id", "entity_id", "role"], officers);
  csv(dir, "identifiers.csv", ["subject_id", "kind", "value"], identifiers);
  csv(dir, "transfers.csv", ["transfer_id", "ts", "from_account", "to_account", "amount"], transfers);
  csv(dir, "reported_groups.csv", ["group_id", "account_id", "reported_at"], reported);
  return dir;
}
