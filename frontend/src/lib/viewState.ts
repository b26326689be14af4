// The runs table's view state in the URL: filter, status, sort, selection, expanded parents,
// columns and scroll position. Shareable, and it survives reload and back/forward.
import type { SortKey } from "./runFilter";

export interface ViewState {
  filter: string;
  status: string;
  sort: SortKey;
  selected: string[];
  expanded: string[];
  /** Extra columns (``prop:<k>``, ``tag:<k>``, ``metric:<name>``, ``min:<name>``, ``max:<name>``,
   *  or the built-ins ``duration``, ``start``, ``tags``, ``properties``); null: the defaults. */
  columns: string[] | null;
  /** Scroll position of the table, in pixels. */
  top: number;
  /** Whether the experiment's charts are shown above the table. */
  charts: boolean;
  /** Runs grouped by ``property:<k>`` or ``tag:<k>`` above the table ("" for none). */
  group?: string;
}

export const DEFAULT_SORT: SortKey = { column: "number", desc: true };

// Items are joined by commas; a comma (or %) inside an item is escaped (URLSearchParams then
// encodes the whole value once more, and decodes it once when read).
const list = (value: string | null) => (value ? value.split(",").filter(Boolean).map(decodeURIComponent) : []);
const joined = (values: string[]) => values.map((v) => v.replace(/%/g, "%25").replace(/,/g, "%2C")).join(",");

export function readViewState(params: URLSearchParams): ViewState {
  const sort = params.get("sort");
  return {
    filter: params.get("q") ?? "",
    status: params.get("status") ?? "",
    sort: sort ? { column: sort.replace(/^-/, ""), desc: sort.startsWith("-") } : DEFAULT_SORT,
    selected: list(params.get("sel")),
    expanded: list(params.get("open")),
    columns: params.has("cols") ? list(params.get("cols")) : null,
    top: Math.max(0, Number(params.get("top")) || 0),
    charts: params.get("charts") === "1",
    group: params.get("group") ?? "",
  };
}

export function writeViewState(state: ViewState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.filter) params.set("q", state.filter);
  if (state.status) params.set("status", state.status);
  if (state.sort.column !== DEFAULT_SORT.column || state.sort.desc !== DEFAULT_SORT.desc) {
    params.set("sort", `${state.sort.desc ? "-" : ""}${state.sort.column}`);
  }
  if (state.selected.length) params.set("sel", joined(state.selected));
  if (state.expanded.length) params.set("open", joined(state.expanded));
  if (state.columns !== null) params.set("cols", joined(state.columns));
  if (state.top > 0) params.set("top", String(Math.round(state.top)));
  if (state.charts) params.set("charts", "1");
  if (state.group) params.set("group", state.group);
  return params;
}

/** Put the state in the address bar without a new history entry (no hashchange either). */
export function replaceViewState(path: string, state: ViewState): void {
  const search = writeViewState(state).toString();
  const hash = `${path}${search ? `?${search}` : ""}`;
  if (location.hash !== hash) history.replaceState(history.state, "", hash);
}
