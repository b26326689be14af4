// The runs of the runs table, read from the server page by page (keyset tokens) as the table
// scrolls: filters and order are applied by the server, the loaded pages are kept, the next
// pages are fetched ahead of the rows on screen, and live runs are refreshed every 2 s.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, type ListingParams, type Run, type RunsPage } from "../api";
import { isLive } from "./format";
import { POLL_MS, useInterval } from "./hooks";
import type { LastValues, ServerFilter } from "./runFilter";

/** Rows of the first page (small: the first rows show fast), then of every further page. */
export const FIRST_PAGE = 100;
export const PAGE = 500;
/** The largest page: when the table jumps far ahead (a dragged scrollbar, a restored scroll
 *  position), it catches up in pages of up to this many runs. */
export const CATCH_UP_PAGE = 2000;
/** Rows fetched ahead of the last row on screen. */
const AHEAD = 200;

export interface RunPages {
  /** The runs loaded so far, in the listing's order (a prefix of it). */
  runs: Run[];
  /** How many runs the listing has (undefined until counted). */
  total: number | undefined;
  /** Whether every page is loaded. */
  done: boolean;
  childCounts: Record<string, number>;
  /** Children of the parents asked for with ``loadChildren``, newest first. */
  children: Record<string, Run[]>;
  last: LastValues;
  error: Error | undefined;
  /** Make sure runs up to ``index`` (in listing order) are loaded, fetching pages as needed. */
  ensure: (index: number) => void;
  loadChildren: (runId: string) => void;
}

interface State {
  runs: Run[];
  token: string | null;
  done: boolean;
  total: number | undefined;
  childCounts: Record<string, number>;
  children: Record<string, Run[]>;
  last: LastValues;
}

/** Metrics shown by their smallest (``min``) and largest (``max``) values. */
export interface Extremes {
  min: string[];
  max: string[];
}

/** ``{run: {name: v}}`` as ``{run: {"min:name": v}}``. */
function prefixed(values: LastValues, prefix: string): LastValues {
  return Object.fromEntries(Object.entries(values).map(([run, found]) => [
    run, Object.fromEntries(Object.entries(found).map(([name, v]) => [`${prefix}:${name}`, v])),
  ]));
}

function mergeValues(old: LastValues, values: LastValues): LastValues {
  const merged = { ...old };
  for (const [run, found] of Object.entries(values)) merged[run] = { ...(old[run] ?? {}), ...found };
  return merged;
}

const EMPTY: State = { runs: [], token: null, done: false, total: undefined, childCounts: {}, children: {}, last: {} };

/** The runs of ``experimentId`` that match ``filter`` in the order ``sort`` (server params);
 *  top-level runs only unless ``flat`` (then children too, as plain rows). */
export function useRunPages(
  experimentId: string, filter: ServerFilter, sort: string | undefined, flat: boolean, extremes: Extremes,
): RunPages {
  const params: ListingParams = { experiment_id: experimentId, include_children: flat, ...filter, sort };
  const key = JSON.stringify(params);
  const [state, setState] = useState<State>(EMPTY);
  const [error, setError] = useState<Error | undefined>(undefined);
  const stateRef = useRef(state);
  stateRef.current = state;
  const generation = useRef(0);
  const loading = useRef(false);
  const wanted = useRef(0);

  const extremesRef = useRef(extremes);
  extremesRef.current = extremes;
  const lastOf = (runs: Run[], mine: number, withLast = true) => {
    if (!runs.length) return;
    const ids = runs.map((run) => run.run_id);
    const merge = (values: LastValues) => {
      if (mine === generation.current) setState((old) => ({ ...old, last: mergeValues(old.last, values) }));
    };
    if (withLast) api.last(ids).then(merge, setError);
    for (const value of ["min", "max"] as const) {
      const names = extremesRef.current[value];
      if (names.length) api.last(ids, names, value).then((found) => merge(prefixed(found, value)), setError);
    }
  };
  // Values of min/max columns just added, for the runs already loaded.
  const extremesKey = JSON.stringify(extremes);
  useEffect(() => {
    const runs = [...stateRef.current.runs, ...Object.values(stateRef.current.children).flat()];
    for (let i = 0; i < runs.length; i += CATCH_UP_PAGE) lastOf(runs.slice(i, i + CATCH_UP_PAGE), generation.current, false);
  }, [extremesKey]);

  const fetchMore = useCallback(() => {
    const current = stateRef.current;
    if (loading.current || current.done || current.runs.length > wanted.current) return;
    const first = current.runs.length === 0;
    if (!first && current.token === null) return;
    loading.current = true;
    const mine = generation.current;
    const request: ListingParams = {
      ...JSON.parse(key) as ListingParams, with_definition: false, with_child_counts: !flat,
      limit: first ? FIRST_PAGE : Math.min(CATCH_UP_PAGE, Math.max(PAGE, wanted.current - current.runs.length)),
      page_token: first ? undefined : current.token ?? undefined,
    };
    api.runsPage(request).then(
      (page: RunsPage) => {
        loading.current = false;
        if (mine !== generation.current) return;
        const next: State = {
          ...stateRef.current,
          runs: [...stateRef.current.runs, ...page.items],
          token: page.next_page_token,
          done: page.next_page_token === null,
          childCounts: { ...stateRef.current.childCounts, ...(page.child_counts ?? {}) },
        };
        stateRef.current = next;
        setState(next);
        lastOf(page.items, mine);
        fetchMore();
      },
      (reason: Error) => {
        loading.current = false;
        if (mine === generation.current) setError(reason);
      },
    );
  }, [key]);

  useEffect(() => {
    const mine = ++generation.current;
    loading.current = false;
    wanted.current = AHEAD;
    stateRef.current = EMPTY;
    setState(EMPTY);
    setError(undefined);
    api.countRuns(JSON.parse(key) as ListingParams).then(
      (total) => mine === generation.current && setState((old) => ({ ...old, total })),
      setError,
    );
    fetchMore();
  }, [key]);

  const ensure = useCallback((index: number) => {
    if (index + AHEAD <= wanted.current) return;
    wanted.current = index + AHEAD;
    fetchMore();
  }, [fetchMore]);

  const loadChildren = useCallback((runId: string) => {
    const mine = generation.current;
    childrenOf(key, runId).then((page) => {
      if (mine !== generation.current) return;
      setState((old) => ({
        ...old, children: { ...old.children, [runId]: page.items },
        childCounts: { ...old.childCounts, ...(page.child_counts ?? {}) },
      }));
      lastOf(page.items, mine);
    }, setError);
  }, [key]);

  const busy = useRef(false);
  useInterval(() => {
    if (busy.current || document.hidden || !stateRef.current.runs.length) return;
    busy.current = true;
    const mine = generation.current;
    refresh(key, flat, stateRef.current)
      .then((change) => {
        if (mine !== generation.current || !change) return;
        setState((old) => change(old));
        stateRef.current = change(stateRef.current);
        fetchMore();
      })
      .catch(setError)
      .finally(() => {
        busy.current = false;
      });
  }, POLL_MS);

  return { ...state, error, ensure, loadChildren };
}

/** The direct children of a run (up to 10,000), in the table's order, with their own counts. */
function childrenOf(key: string, runId: string): Promise<RunsPage> {
  const { experiment_id, sort } = JSON.parse(key) as ListingParams;
  return api.runsPage({
    experiment_id, sort, parent_run_id: String(runId), include_children: true,
    with_definition: false, with_child_counts: true, limit: 10000,
  });
}

/** What changed since ``state``: new runs at the top (the listing restarts from a fresh
 *  first page), and live runs' statuses and last values. */
async function refresh(key: string, flat: boolean, state: State): Promise<((old: State) => State) | null> {
  const params = JSON.parse(key) as ListingParams;
  const [page, total] = await Promise.all([
    api.runsPage({ ...params, with_definition: false, with_child_counts: !flat, limit: FIRST_PAGE }),
    api.countRuns(params),
  ]);
  const head = state.runs.slice(0, page.items.length).map((run) => run.run_id).join();
  if (total !== state.total || head !== page.items.map((run) => run.run_id).join()) {
    const values = await api.last(page.items.map((run) => run.run_id));
    return (old) => ({
      ...old, runs: page.items, token: page.next_page_token, done: page.next_page_token === null,
      total, childCounts: { ...old.childCounts, ...(page.child_counts ?? {}) }, last: mergeValues(old.last, values),
    });
  }
  const fresh = new Map(page.items.map((run) => [run.run_id, run]));
  const live = state.runs.filter((run) => isLive(run.status) && !fresh.has(run.run_id)).slice(0, 200);
  for (const run of live.length ? await api.runsById(live.map((r) => r.run_id)) : []) fresh.set(run.run_id, run);
  const openChildren = Object.entries(state.children).filter(([id, kids]) => kids.some((kid) => isLive(kid.status)) || isLive(fresh.get(id)?.status ?? ""));
  const children = Object.fromEntries(await Promise.all(openChildren.map(async ([id]) => [id, (await childrenOf(key, id)).items] as const)));
  const liveIds = [...state.runs, ...Object.values(state.children).flat()]
    .filter((run) => isLive(run.status) || (fresh.has(run.run_id) && fresh.get(run.run_id)!.status !== run.status))
    .map((run) => run.run_id);
  const values = liveIds.length ? await api.last(liveIds.slice(0, 2000)) : {};
  return (old) => ({
    ...old,
    runs: old.runs.map((run) => fresh.get(run.run_id) ?? run),
    children: { ...old.children, ...children },
    childCounts: { ...old.childCounts, ...(page.child_counts ?? {}) },
    last: mergeValues(old.last, values),
  });
}
