// The runs table of an experiment: live statuses, filters, sorting, chosen columns, compare.
// Its whole view (filter, sort, selection, open parents, columns, scroll) lives in the URL.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { api, type Run } from "../api";
import { Chips, ErrorNote, Loading } from "../components/common";
import { ExperimentCharts } from "./ExperimentCharts";
import { type Columns, type Row, RunsTable } from "../components/RunsTable";
import { useLoad, useStored } from "../lib/hooks";
import { type ServerFilter, serverFilter, serverSort, type SortKey } from "../lib/runFilter";
import { formatValue } from "../lib/format";
import { useRunPages } from "../lib/runsData";
import { readViewState, replaceViewState, type ViewState, writeViewState } from "../lib/viewState";
import { href } from "../router";

const DEFAULT_COLUMNS: Columns = { duration: true, start: true, tags: true, properties: false, metrics: [] };

/** Rows in display order: the loaded runs (already sorted by the server), each followed by
 *  its children when expanded and loaded. */
export function buildRows(runs: Run[], childCounts: Record<string, number>, children: Record<string, Run[]>, expanded: Set<string>): Row[] {
  const rows: Row[] = [];
  const visit = (run: Run, depth: number) => {
    const kids = children[run.run_id];
    const open = expanded.has(run.run_id);
    rows.push({ run, depth, children: childCounts[run.run_id] ?? kids?.length ?? 0, expanded: open });
    if (open && kids && depth < 20) for (const kid of kids) visit(kid, depth + 1);
  };
  for (const run of runs) visit(run, 0);
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
    ...(columns.minMetrics ?? []).map((key) => `min:${key}`),
    ...(columns.maxMetrics ?? []).map((key) => `max:${key}`),
    ...(columns.pinned ?? []).map((key) => `pin:${key}`),
  ];
}

export function columnsFromList(list: string[]): Columns {
  const after = (prefix: string) => list.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  return {
    duration: list.includes("duration"), start: list.includes("start"), tags: list.includes("tags"),
    properties: list.includes("properties"), metrics: after("metric:"), propKeys: after("prop:"), tagKeys: after("tag:"),
    minMetrics: after("min:"), maxMetrics: after("max:"), pinned: after("pin:"),
  };
}

const STATUSES = ["Running", "Completed", "Failed", "Canceled", "NotStarted", "Queued", "NotResponding"];

export function RunsPage({ experimentId, params }: { experimentId: string; params: URLSearchParams }) {
  const experiment = useLoad(() => api.experiment(experimentId), [experimentId]);
  const [initial] = useState(() => readViewState(params));
  const [filter, setFilter] = useState(initial.filter);
  const [status, setStatus] = useState(initial.status);
  const [sort, setSort] = useState<SortKey>(initial.sort);
  const [expanded, setExpanded] = useState<Set<string>>(new Set(initial.expanded));
  const [selected, setSelected] = useState<Set<string>>(new Set(initial.selected));
  const [top, setTop] = useState(initial.top);
  const [charts, setCharts] = useState(initial.charts);
  const [group, setGroup] = useState(initial.group ?? "");
  const [stored, setStored] = useStored<Columns>(`runhistory.columns.${experimentId}`, DEFAULT_COLUMNS);
  const [urlColumns, setUrlColumns] = useState<Columns | null>(initial.columns ? columnsFromList(initial.columns) : null);
  const columns = urlColumns ?? { ...DEFAULT_COLUMNS, ...stored };
  const setColumns = (next: Columns) => {
    setStored(next);
    setUrlColumns(next);
  };

  const viewState: ViewState = {
    filter, status, sort, selected: [...selected], expanded: [...expanded],
    columns: urlColumns ? columnsToList(urlColumns) : null, top, charts, group,
  };
  useEffect(() => {
    replaceViewState(href.runs(experimentId), viewState);
  }, [experimentId, filter, status, sort, selected, expanded, urlColumns, top, charts, group]);
  /** Show a saved view (the state of its URL query). */
  const applyView = (query: string) => {
    const view = readViewState(new URLSearchParams(query));
    setFilter(view.filter);
    setStatus(view.status);
    setSort(view.sort);
    setExpanded(new Set(view.expanded));
    setSelected(new Set(view.selected));
    setCharts(view.charts);
    setGroup(view.group ?? "");
    setUrlColumns(view.columns ? columnsFromList(view.columns) : null);
  };
  // A view is saved without its scroll position and selection.
  const savedState = writeViewState({ ...viewState, top: 0, selected: [] }).toString();

  // The listing follows the filter box a moment after typing stops (not at every key).
  const [typed, setTyped] = useState(filter);
  useEffect(() => {
    const timer = setTimeout(() => setTyped(filter), 250);
    return () => clearTimeout(timer);
  }, [filter]);
  const filterText = `${typed} ${status ? `status:${status}` : ""}`.trim();
  const parsed = useMemo(() => serverFilter(filterText), [filterText]);
  const errors = useMemo(() => serverFilter(filter).errors, [filter]);
  const flat = Object.keys(parsed.filter).length > 0;
  const extremes = useMemo(() => ({ min: columns.minMetrics ?? [], max: columns.maxMetrics ?? [] }), [JSON.stringify([columns.minMetrics, columns.maxMetrics])]);
  const pages = useRunPages(experimentId, parsed.filter, serverSort(sort), flat, extremes);
  // Columns come from the experiment's summary (keys and names with counts), read again when
  // the number of runs changes.
  const summary = useLoad(() => api.experimentSummary(experimentId), [experimentId, pages.total]);
  const metricNames = useMemo(() => (summary.data?.metrics ?? []).map((m) => m.key), [summary.data]);
  const propertyKeys = useMemo(() => (summary.data?.properties ?? []).map((m) => m.key), [summary.data]);
  const tagKeys = useMemo(() => (summary.data?.tags ?? []).map((m) => m.key), [summary.data]);
  // By default, the first four metrics that have a last value (numbers, not images or tables).
  const valued = useMemo(() => {
    const names = new Set<string>();
    for (const values of Object.values(pages.last)) for (const name of Object.keys(values)) names.add(name);
    return names;
  }, [pages.last]);
  const shownMetrics = columns.metrics.length || !metricNames.length ? columns.metrics : metricNames.filter((m) => valued.has(m)).slice(0, 4);
  const shownColumns = { ...columns, metrics: shownMetrics.filter((m) => metricNames.includes(m)) };

  const error = pages.error;
  useEffect(() => {
    for (const id of expanded) if (!pages.children[id] && pages.childCounts[id]) pages.loadChildren(id);
  }, [expanded, pages.childCounts]);
  const rows = useMemo(
    () => buildRows(pages.runs, pages.childCounts, pages.children, flat ? new Set() : expanded),
    [pages.runs, pages.childCounts, pages.children, expanded, flat],
  );
  const placeholders = Math.max(0, (pages.total ?? pages.runs.length) - pages.runs.length);
  const ensure = pages.ensure;
  const onRange = useCallback((_first: number, last: number) => {
    // Row indexes count open children too: ask for enough top-level runs to cover them.
    ensure(last);
  }, [ensure]);
  const matched = pages.total;
  const everything = summary.data?.runs;

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
          type="search" class="wide" value={filter} aria-label="filter runs" aria-invalid={errors.length > 0}
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
        <label>group by{" "}
          <select aria-label="group by" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            <option value="">none</option>
            {propertyKeys.map((k) => <option key={`p${k}`} value={`property:${k}`}>{k}</option>)}
            {tagKeys.map((k) => <option key={`t${k}`} value={`tag:${k}`}>tag {k}</option>)}
          </select>
        </label>
        <SavedViews experimentId={experimentId} state={savedState} onApply={applyView} />
        <span class="muted small" id="run-count">{matched !== undefined && everything !== undefined ? `${flat ? matched : everything} of ${everything} runs` : ""}</span>
      </div>
      <div id="filter-errors">
        {errors.map((message) => <p key={message} class="error small filter-error" role="alert">{message} (this term is left out)</p>)}
      </div>
      {(error || experiment.error || summary.error) && <ErrorNote error={(error ?? experiment.error ?? summary.error)!} />}
      {group && (
        <RunGroups
          experimentId={experimentId} by={group} filter={parsed.filter} flat={flat} metric={shownColumns.metrics[0]}
          total={pages.total}
          onPick={(value) => setFilter(`${filter} ${group.startsWith("tag:") ? "tag:" : "prop:"}${group.slice(group.indexOf(":") + 1)}=${value}`.trim())}
        />
      )}
      {charts && pages.runs.length > 0 && <ExperimentCharts runs={rows.filter((row) => row.depth === 0).map((row) => row.run)} />}
      {pages.total === undefined && !pages.runs.length && !error ? <Loading what="runs" /> : (
        <RunsTable
          rows={rows} columns={shownColumns} last={pages.last} sort={sort} onSort={setSort}
          placeholders={placeholders} onRange={onRange} listingKey={JSON.stringify([parsed.filter, sort, flat])}
          onPin={(column, on) => setColumns({ ...columns, pinned: [...(columns.pinned ?? []).filter((c) => c !== column), ...(on ? [column] : [])] })}
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
        {group("metrics (smallest value)", metricNames, columns.minMetrics ?? [], (next) => onChange({ ...columns, minMetrics: next }), "min")}
        {group("metrics (largest value)", metricNames, columns.maxMetrics ?? [], (next) => onChange({ ...columns, maxMetrics: next }), "max")}
      </div>
    </details>
  );
}

/** Named views of the experiment's runs table, kept by the server: pick one to show it, save
 *  the current view under a name (replacing a view of that name), delete the one picked. */
function SavedViews({ experimentId, state, onApply }: { experimentId: string; state: string; onApply: (state: string) => void }) {
  const views = useLoad(() => api.views(experimentId), [experimentId]);
  const [picked, setPicked] = useState("");
  const [name, setName] = useState("");
  const [failure, setFailure] = useState<Error | undefined>(undefined);
  const pick = (chosen: string) => {
    setPicked(chosen);
    const view = views.data?.find((v) => v.name === chosen);
    if (view) onApply(view.state);
  };
  const save = () => {
    const wanted = name.trim() || picked;
    if (!wanted) return;
    api.saveView(experimentId, wanted, state).then(() => {
      setPicked(wanted);
      setName("");
      setFailure(undefined);
      views.reload();
    }, setFailure);
  };
  const remove = () => {
    if (!picked) return;
    api.deleteView(experimentId, picked).then(() => {
      setPicked("");
      views.reload();
    }, setFailure);
  };
  return (
    <span class="saved-views">
      <select aria-label="saved view" value={picked} onChange={(e) => pick(e.currentTarget.value)}>
        <option value="">views…</option>
        {(views.data ?? []).map((v) => <option key={v.name} value={v.name}>{v.name}</option>)}
      </select>
      <input type="text" aria-label="view name" placeholder="view name" value={name} size={10}
        onInput={(e) => setName(e.currentTarget.value)} onKeyDown={(e) => e.key === "Enter" && save()} />
      <button type="button" onClick={save} disabled={!name.trim() && !picked}>Save view</button>
      {picked && <button type="button" onClick={remove}>Delete view</button>}
      {(failure || views.error) && <span class="error small" role="alert">{(failure ?? views.error)!.message}</span>}
    </span>
  );
}

interface GroupsProps {
  experimentId: string;
  by: string;
  filter: ServerFilter;
  flat: boolean;
  metric: string | undefined;
  total: number | undefined;
  onPick: (value: string) => void;
}

/** The runs the table lists, grouped by a property or tag value by the server: one aggregated
 *  row per value (its number of runs and the mean of a metric); **show** filters the table to
 *  the group. */
function RunGroups({ experimentId, by, filter, flat, metric, total, onPick }: GroupsProps) {
  const groups = useLoad(
    () => api.runGroups(experimentId, { ...filter, by, metric, include_children: flat }),
    [experimentId, by, JSON.stringify(filter), flat, metric, total],
  );
  const key = by.slice(by.indexOf(":") + 1);
  return (
    <div class="card run-groups">
      {groups.error && <ErrorNote error={groups.error} />}
      <table class="data compact" id="run-groups">
        <thead><tr><th>{key}</th><th>runs</th>{metric && <th>mean {metric}</th>}<th /></tr></thead>
        <tbody>
          {(groups.data ?? []).map((found) => (
            <tr key={found.value ?? "\u0000"} data-group-value={found.value ?? ""}>
              <td>{found.value ?? <span class="muted">(none)</span>}</td>
              <td class="num">{found.runs}</td>
              {metric && <td class="num">{formatValue(found.mean)}</td>}
              <td>{found.value !== null && !/\s/.test(found.value) && (
                <button type="button" class="link" onClick={() => onPick(found.value!)}>show</button>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
