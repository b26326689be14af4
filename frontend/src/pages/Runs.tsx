// The runs table of an experiment: live statuses, filters, sorting, chosen columns, compare.
// Its whole view (filter, sort, selection, open parents, columns, scroll) lives in the URL.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type Run } from "../api";
import { Chips, ErrorNote, Loading } from "../components/common";
import { ExperimentCharts } from "./ExperimentCharts";
import { type Columns, type Row, RunsTable } from "../components/RunsTable";
import { useLoad, useStored } from "../lib/hooks";
import { type LastValues, readFilter, type SortKey, sortRuns } from "../lib/runFilter";
import { useRuns } from "../lib/runsData";
import { readViewState, replaceViewState, type ViewState } from "../lib/viewState";
import { href } from "../router";

const DEFAULT_COLUMNS: Columns = { duration: true, start: true, tags: true, properties: false, metrics: [] };

/** Rows in display order: top-level runs sorted, each followed by its children when expanded. */
export function buildRows(runs: Run[], last: LastValues, sort: SortKey, expanded: Set<string>, flat: boolean): Row[] {
  const sorted = sortRuns(runs, sort, last);
  if (flat) return sorted.map((run) => ({ run, depth: 0, children: 0, expanded: false }));
  const ids = new Set(runs.map((run) => run.run_id));
  const children = new Map<string, Run[]>();
  const roots: Run[] = [];
  for (const run of sorted) {
    if (run.parent_run_id && ids.has(run.parent_run_id)) {
      const list = children.get(run.parent_run_id) ?? [];
      list.push(run);
      children.set(run.parent_run_id, list);
    } else roots.push(run);
  }
  const rows: Row[] = [];
  const visit = (run: Run, depth: number) => {
    const kids = children.get(run.run_id) ?? [];
    const open = expanded.has(run.run_id);
    rows.push({ run, depth, children: kids.length, expanded: open });
    if (open) for (const kid of kids) visit(kid, depth + 1);
  };
  for (const run of roots) visit(run, 0);
  return rows;
}

/** Columns as the URL lists them: ``duration``, ``start``, ``tags``, ``properties``,
 *  ``metric:<name>``, ``prop:<key>``, ``tag:<key>``. */
export function columnsToList(columns: Columns): string[] {
  return [
    ...(["duration", "start", "tags", "properties"] as const).filter((flag) => columns[flag]),
    ...columns.metrics.map((name) => `metric:${name}`),
    ...(columns.propKeys ?? []).map((key) => `prop:${key}`),
    ...(columns.tagKeys ?? []).map((key) => `tag:${key}`),
  ];
}

export function columnsFromList(list: string[]): Columns {
  const after = (prefix: string) => list.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  return {
    duration: list.includes("duration"), start: list.includes("start"), tags: list.includes("tags"),
    properties: list.includes("properties"), metrics: after("metric:"), propKeys: after("prop:"), tagKeys: after("tag:"),
  };
}

const STATUSES = ["Running", "Completed", "Failed", "Canceled", "NotStarted", "Queued", "NotResponding"];

export function RunsPage({ experimentId, params }: { experimentId: string; params: URLSearchParams }) {
  const experiment = useLoad(() => api.experiment(experimentId), [experimentId]);
  const { runs, last, error } = useRuns(experimentId);
  const [initial] = useState(() => readViewState(params));
  const [filter, setFilter] = useState(initial.filter);
  const [status, setStatus] = useState(initial.status);
  const [sort, setSort] = useState<SortKey>(initial.sort);
  const [expanded, setExpanded] = useState<Set<string>>(new Set(initial.expanded));
  const [selected, setSelected] = useState<Set<string>>(new Set(initial.selected));
  const [top, setTop] = useState(initial.top);
  const [charts, setCharts] = useState(initial.charts);
  const [stored, setStored] = useStored<Columns>(`runhistory.columns.${experimentId}`, DEFAULT_COLUMNS);
  const [urlColumns, setUrlColumns] = useState<Columns | null>(initial.columns ? columnsFromList(initial.columns) : null);
  const columns = urlColumns ?? { ...DEFAULT_COLUMNS, ...stored };
  const setColumns = (next: Columns) => {
    setStored(next);
    setUrlColumns(next);
  };

  useEffect(() => {
    const state: ViewState = {
      filter, status, sort, selected: [...selected], expanded: [...expanded],
      columns: urlColumns ? columnsToList(urlColumns) : null, top, charts,
    };
    replaceViewState(href.runs(experimentId), state);
  }, [experimentId, filter, status, sort, selected, expanded, urlColumns, top, charts]);

  const metricNames = useMemo(() => {
    const names = new Set<string>();
    for (const values of Object.values(last)) for (const name of Object.keys(values)) names.add(name);
    return [...names].sort();
  }, [last]);
  const keysOf = (pick: (run: Run) => Record<string, unknown>) => {
    const keys = new Set<string>();
    for (const run of runs ?? []) for (const key of Object.keys(pick(run))) keys.add(key);
    return [...keys].sort();
  };
  const propertyKeys = useMemo(() => keysOf((run) => run.properties), [runs]);
  const tagKeys = useMemo(() => keysOf((run) => run.tags), [runs]);
  const shownMetrics = columns.metrics.length || !metricNames.length ? columns.metrics : metricNames.slice(0, 4);
  const shownColumns = { ...columns, metrics: shownMetrics.filter((m) => metricNames.includes(m)) };

  const filterText = `${filter} ${status ? `status:${status}` : ""}`.trim();
  const parsed = useMemo(() => readFilter(filterText), [filterText]);
  const [rows, matched] = useMemo(() => {
    if (!runs) return [[], 0];
    const matching = filterText ? runs.filter((run) => parsed.test(run, last)) : runs;
    return [buildRows(matching, last, sort, expanded, filterText !== ""), matching.length];
  }, [runs, last, parsed, sort, expanded]);

  const toggle = (set: Set<string>, id: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  };
  const name = experiment.data?.name ?? experimentId;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumb"><a href={href.experiments()}>Experiments</a> / <span>{name}</span></nav>
      <h1>{name} {experiment.data && <Chips values={experiment.data.tags} />}</h1>
      <div class="toolbar">
        <input
          type="search" class="wide" value={filter} aria-label="filter runs" aria-invalid={parsed.errors.length > 0}
          aria-describedby="filter-errors"
          placeholder="Filter: text, status:Running, tag:key=value, prop:lr<0.1, accuracy>0.9"
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
        <label>status{" "}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} aria-label="status filter">
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <ColumnChooser columns={columns} shown={shownColumns.metrics} metricNames={metricNames} propertyKeys={propertyKeys} tagKeys={tagKeys} onChange={setColumns} />
        <a class={`button${selected.size < 1 ? " disabled" : ""}`} aria-disabled={selected.size < 1} href={selected.size ? href.compare(experimentId, [...selected]) : undefined} id="compare">
          Compare {selected.size ? `(${selected.size})` : ""}
        </a>
        <label><input type="checkbox" checked={charts} onChange={(e) => setCharts(e.currentTarget.checked)} /> charts</label>
        <span class="muted small" id="run-count">{runs ? `${matched} of ${runs.length} runs` : ""}</span>
      </div>
      <div id="filter-errors">
        {parsed.errors.map((message) => <p key={message} class="error small filter-error" role="alert">{message} (this term is left out)</p>)}
      </div>
      {(error || experiment.error) && <ErrorNote error={(error ?? experiment.error)!} />}
      {charts && runs && <ExperimentCharts runs={rows.filter((row) => row.depth === 0).map((row) => row.run)} />}
      {!runs && !error ? <Loading what="runs" /> : (
        <RunsTable
          rows={rows} columns={shownColumns} last={last} sort={sort} onSort={setSort}
          selected={selected} onSelect={(id, on) => setSelected(toggle(selected, id, on))}
          onToggle={(id) => setExpanded(toggle(expanded, id, !expanded.has(id)))}
          initialTop={initial.top} onScrolled={setTop}
        />
      )}
    </div>
  );
}

interface ChooserProps {
  columns: Columns;
  shown: string[];
  metricNames: string[];
  propertyKeys: string[];
  tagKeys: string[];
  onChange: (c: Columns) => void;
}

function ColumnChooser({ columns, shown, metricNames, propertyKeys, tagKeys, onChange }: ChooserProps) {
  const [search, setSearch] = useState("");
  const matches = (text: string) => text.toLowerCase().includes(search.trim().toLowerCase());
  const flag = (key: "duration" | "start" | "tags" | "properties", label: string) => matches(label) && (
    <label key={key}><input type="checkbox" checked={columns[key]} onChange={(e) => onChange({ ...columns, [key]: e.currentTarget.checked })} /> {label}</label>
  );
  const pick = (all: string[], current: string[], name: string, on: boolean) => {
    const chosen = new Set(current);
    if (on) chosen.add(name);
    else chosen.delete(name);
    return all.filter((m) => chosen.has(m));
  };
  const group = (title: string, all: string[], current: string[], change: (next: string[]) => void, id: string) => {
    const found = all.filter(matches);
    if (!found.length) return null;
    return (
      <fieldset class="chooser-group" data-group={id}>
        <legend class="small">{title}</legend>
        {found.map((name) => (
          <label key={name}><input type="checkbox" checked={current.includes(name)} aria-label={`${id} ${name}`} onChange={(e) => change(pick(all, current, name, e.currentTarget.checked))} /> {name}</label>
        ))}
      </fieldset>
    );
  };
  return (
    <details class="chooser">
      <summary>Columns</summary>
      <div class="chooser-menu">
        <input type="search" value={search} placeholder="search columns" aria-label="search columns" onInput={(e) => setSearch(e.currentTarget.value)} />
        {flag("duration", "duration")}
        {flag("start", "start time")}
        {flag("tags", "tags")}
        {flag("properties", "properties")}
        {group("metrics (last value)", metricNames, shown, (metrics) => onChange({ ...columns, metrics }), "metric")}
        {group("properties", propertyKeys, columns.propKeys ?? [], (propKeys) => onChange({ ...columns, propKeys }), "property")}
        {group("tags", tagKeys, columns.tagKeys ?? [], (next) => onChange({ ...columns, tagKeys: next }), "tag")}
      </div>
    </details>
  );
}
