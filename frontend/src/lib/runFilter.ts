// Filtering and sorting of runs in the runs table.
//
// The filter box takes space-separated terms, all of which must hold:
//   status:Running     tag:key   tag:key=value   prop:key=value   loss<0.5   accuracy>=0.9
// and any other word is free text matched against name, number, id, tags and properties.
import type { Run } from "../api";
import { durationSeconds } from "./format";

export type LastValues = Record<string, Record<string, unknown>>;

type Test = (run: Run, last: LastValues) => boolean;

const COMPARISON = /^([^<>=!:]+)(<=|>=|!=|<|>|=)(.+)$/;

function compare(value: unknown, op: string, target: string): boolean {
  const number = Number(target);
  if (typeof value === "number" && Number.isFinite(number)) {
    switch (op) {
      case "<": return value < number;
      case "<=": return value <= number;
      case ">": return value > number;
      case ">=": return value >= number;
      case "!=": return value !== number;
      default: return value === number;
    }
  }
  const text = value === null || value === undefined ? "" : String(value);
  return op === "!=" ? text !== target : op === "=" ? text === target : false;
}

function pairTest(spec: string, pick: (run: Run) => Record<string, string | null>): Test {
  const at = spec.indexOf("=");
  const key = at < 0 ? spec : spec.slice(0, at);
  const value = at < 0 ? undefined : spec.slice(at + 1);
  return (run) => {
    const values = pick(run);
    if (!(key in values)) return false;
    return value === undefined || values[key] === value;
  };
}

function term(word: string): Test {
  const lower = word.toLowerCase();
  if (lower.startsWith("status:")) {
    const wanted = lower.slice(7).split(",");
    return (run) => wanted.includes(run.status.toLowerCase());
  }
  if (lower.startsWith("tag:")) return pairTest(word.slice(4), (run) => run.tags);
  if (lower.startsWith("prop:")) return pairTest(word.slice(5), (run) => run.properties);
  const match = COMPARISON.exec(word);
  if (match) {
    const [, name, op, target] = match;
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

/** A predicate for the filter text (always true for an empty filter). */
export function parseFilter(text: string): Test {
  const tests = text.trim().split(/\s+/).filter(Boolean).map(term);
  return (run, last) => tests.every((test) => test(run, last));
}

export type SortKey = { column: string; desc: boolean };

/** The value a column sorts by: built-in columns, ``metric:<name>``, ``tag:<k>``, ``prop:<k>``. */
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
    return typeof value === "number" || typeof value === "string" ? value : null;
  }
  if (column.startsWith("tag:")) return run.tags[column.slice(4)] ?? null;
  if (column.startsWith("prop:")) return run.properties[column.slice(5)] ?? null;
  return null;
}

export function sortRuns(runs: Run[], key: SortKey, last: LastValues): Run[] {
  const keyed = runs.map((run) => [sortValue(run, key.column, last), run] as const);
  keyed.sort(([a], [b]) => {
    if (a === b) return 0;
    if (a === null) return 1; // missing values last in both directions
    if (b === null) return -1;
    const order = a < b ? -1 : 1;
    return key.desc ? -order : order;
  });
  return keyed.map(([, run]) => run);
}
