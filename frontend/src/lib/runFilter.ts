// Filtering and sorting of runs in the runs table.
//
// The filter box takes space-separated terms, all of which must hold:
//   status:Running   tag:key   tag:key=value   prop:key=value   prop:lr<0.1   tag:epochs>=10
//   loss<0.5   accuracy>=0.9
// and any other word is free text matched against name, number, id, tags and properties.
// Comparisons are numeric when both sides are numbers. A term that cannot be read (``loss<``,
// ``>0.5``, ``accuracy>high``, ``tag:``, ``status:Bogus``) is reported, not silently ignored.
import type { Run } from "../api";
import { durationSeconds } from "./format";

export type LastValues = Record<string, Record<string, unknown>>;

type Test = (run: Run, last: LastValues) => boolean;

export interface ParsedFilter {
  test: Test;
  /** One message per term that could not be read (those terms are left out of ``test``). */
  errors: string[];
}

const COMPARISON = /^([^<>=!]+)(<=|>=|!=|<|>|=)([^<>=!]*)$/;
const OPERATOR = /[<>=!]/;
const STATUSES = new Set([
  "notstarted", "starting", "provisioning", "preparing", "queued", "running", "finalizing",
  "cancelrequested", "completed", "failed", "canceled", "notresponding",
]);

/** A number for a text that reads as one ("0.1", "1e-3"), else null. */
export function asNumber(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (typeof value !== "string" || value.trim() === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function compare(value: unknown, op: string, target: string): boolean {
  const wanted = asNumber(target);
  const have = asNumber(value);
  if (wanted !== null && have !== null) {
    switch (op) {
      case "<": return have < wanted;
      case "<=": return have <= wanted;
      case ">": return have > wanted;
      case ">=": return have >= wanted;
      case "!=": return have !== wanted;
      default: return have === wanted;
    }
  }
  if (value === undefined) return false;
  const text = value === null ? "" : String(value);
  return op === "!=" ? text !== target : op === "=" ? text === target : false;
}

class FilterError extends Error {}

function comparison(word: string): [string, string, string] {
  const match = COMPARISON.exec(word);
  if (!match || !match[3]) throw new FilterError(`cannot read “${word}”: write name<number, name>=number or name=value`);
  const [, name, op, target] = match;
  if (op !== "=" && op !== "!=" && asNumber(target) === null) {
    throw new FilterError(`“${word}”: ${op} needs a number, not “${target}”`);
  }
  return [name, op, target];
}

function pairTest(prefix: string, spec: string, pick: (run: Run) => Record<string, string | null>): Test {
  if (!spec || /^[<>=!]/.test(spec)) throw new FilterError(`“${prefix}${spec}” needs a key: ${prefix}key or ${prefix}key=value`);
  if (!OPERATOR.test(spec)) return (run) => spec in pick(run);
  const [key, op, target] = comparison(spec);
  return (run) => {
    const values = pick(run);
    return key in values && compare(values[key], op, target);
  };
}

function term(word: string): Test {
  const lower = word.toLowerCase();
  if (lower.startsWith("status:")) {
    const wanted = lower.slice(7).split(",").filter(Boolean);
    const unknown = wanted.filter((s) => !STATUSES.has(s));
    if (!wanted.length || unknown.length) throw new FilterError(`“${word}”: no such status${unknown.length ? ` “${unknown.join(", ")}”` : ""}`);
    return (run) => wanted.includes(run.status.toLowerCase());
  }
  if (lower.startsWith("tag:")) return pairTest("tag:", word.slice(4), (run) => run.tags);
  if (lower.startsWith("prop:")) return pairTest("prop:", word.slice(5), (run) => run.properties);
  if (lower.startsWith("min:") || lower.startsWith("max:")) {
    const [name, op, target] = comparison(word.slice(4));
    if (asNumber(target) === null) throw new FilterError(`“${word}”: ${op} needs a number, not “${target}”`);
    const which = lower.slice(0, 4);
    return (run, last) => compare(last[run.run_id]?.[`${which}${name}`], op, target);
  }
  if (OPERATOR.test(word)) {
    const [name, op, target] = comparison(word);
    return (run, last) => compare(last[run.run_id]?.[name], op, target);
  }
  return (run) => searchText(run).includes(lower);
}

const texts = new WeakMap<Run, string>();

function searchText(run: Run): string {
  let text = texts.get(run);
  if (text === undefined) {
    text = [run.display_name ?? "", `#${run.number}`, String(run.number), run.run_id, run.status, run.run_type, JSON.stringify(run.tags), JSON.stringify(run.properties)]
      .join(" ")
      .toLowerCase();
    texts.set(run, text);
  }
  return text;
}

/** The predicate of the filter text (always true for an empty filter), and its errors. */
export function readFilter(text: string): ParsedFilter {
  const tests: Test[] = [];
  const errors: string[] = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    try {
      tests.push(term(word));
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      errors.push(error.message);
    }
  }
  return { test: (run, last) => tests.every((test) => test(run, last)), errors };
}

/** A predicate for the filter text (terms that cannot be read are left out). */
export function parseFilter(text: string): Test {
  return readFilter(text).test;
}

export type SortKey = { column: string; desc: boolean };

/** The value a column sorts by: built-in columns, ``metric:<name>``, ``tag:<k>``, ``prop:<k>``
 *  (numbers as numbers, so that 10 comes after 9). */
export function sortValue(run: Run, column: string, last: LastValues): number | string | null {
  switch (column) {
    case "number": return run.number;
    case "name": return (run.display_name ?? "").toLowerCase();
    case "status": return run.status;
    case "duration": return durationSeconds(run.start_time, run.end_time);
    case "start": return run.start_time ?? run.created_time;
  }
  if (column.startsWith("metric:")) {
    const value = last[run.run_id]?.[column.slice(7)];
    if (typeof value === "number") return Number.isNaN(value) ? null : value;
    return typeof value === "string" ? value : null;
  }
  if (column.startsWith("tag:") || column.startsWith("prop:")) {
    const values = column.startsWith("tag:") ? run.tags : run.properties;
    const value = values[column.slice(column.indexOf(":") + 1)];
    if (value === undefined || value === null) return null;
    return asNumber(value) ?? value;
  }
  return null;
}

export function sortRuns(runs: Run[], key: SortKey, last: LastValues): Run[] {
  const keyed = runs.map((run) => [sortValue(run, key.column, last), run] as const);
  keyed.sort(([a], [b]) => {
    if (a === b) return 0;
    if (a === null) return 1; // missing values last in both directions
    if (b === null) return -1;
    if (typeof a !== typeof b) return typeof a === "number" ? -1 : 1; // numbers before text
    const order = a < b ? -1 : 1;
    return key.desc ? -order : order;
  });
  return keyed.map(([, run]) => run);
}

/** The filters of a run listing, as ``GET /runs`` and ``GET /counts/runs`` take them. */
export interface ServerFilter {
  status?: string[];
  tag?: string[];
  property?: string[];
  where?: string[];
  q?: string;
}

const CANONICAL_STATUS = new Map([
  "NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing",
  "CancelRequested", "Completed", "Failed", "Canceled", "NotResponding",
].map((name) => [name.toLowerCase(), name]));

function pairTerm(kind: "tag" | "property", spec: string, into: Required<ServerFilter>): void {
  if (!OPERATOR.test(spec)) {
    into[kind].push(spec);
    return;
  }
  const [key, op, target] = comparison(spec);
  // ``key=text`` is an exact match (the server's index of keys); numbers compare as numbers.
  if (op === "=" && asNumber(target) === null) into[kind].push(`${key}=${target}`);
  else into.where.push(`${kind}:${key}${op}${target}`);
}

/** The filter text (and the status menu) as server filters, with the terms it cannot read —
 *  the same grammar and messages as :func:`readFilter`. */
export function serverFilter(text: string): { filter: ServerFilter; errors: string[] } {
  const into: Required<ServerFilter> = { status: [], tag: [], property: [], where: [], q: "" };
  const words: string[] = [];
  const errors: string[] = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    try {
      const lower = word.toLowerCase();
      term(word); // the same checks (and messages) as the filter in the browser
      if (lower.startsWith("status:")) {
        into.status.push(...lower.slice(7).split(",").filter(Boolean).map((s) => CANONICAL_STATUS.get(s) ?? s));
      } else if (lower.startsWith("tag:")) pairTerm("tag", word.slice(4), into);
      else if (lower.startsWith("prop:")) pairTerm("property", word.slice(5), into);
      else if (lower.startsWith("min:") || lower.startsWith("max:")) into.where.push(`${lower.slice(0, 4)}${word.slice(4)}`);
      else if (OPERATOR.test(word)) {
        const [name, op, target] = comparison(word);
        into.where.push(`metric:${name}${op}${target}`);
      } else words.push(word);
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      errors.push(error.message);
    }
  }
  const filter: ServerFilter = {};
  if (into.status.length) filter.status = into.status;
  if (into.tag.length) filter.tag = into.tag;
  if (into.property.length) filter.property = into.property;
  if (into.where.length) filter.where = into.where;
  if (words.length) filter.q = words.join(" ");
  return { filter, errors };
}

/** The ``sort`` parameter of a table sort (none: newest first, the listing's index order). */
export function serverSort(key: SortKey): string | undefined {
  const column = key.column === "number" ? "created"
    : key.column.startsWith("prop:") ? `property:${key.column.slice(5)}` : key.column;
  if (column === "created" && key.desc) return undefined;
  return `${key.desc ? "-" : ""}${column}`;
}
