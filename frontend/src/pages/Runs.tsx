// The runs table of an experiment: live statuses, filters, sorting, chosen columns, compare.
import { useMemo, useState } from "preact/hooks";
import { api, type Run } from "../api";
import { Chips, ErrorNote, Loading } from "../components/common";
import { type Columns, type Row, RunsTable } from "../components/RunsTable";
import { useLoad, useStored } from "../lib/hooks";
import { type LastValues, parseFilter, type SortKey, sortRuns } from "../lib/runFilter";
import { useRuns } from "../lib/runsData";
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

const STATUSES = ["Running", "Completed", "Failed", "Canceled", "NotStarted", "Queued", "NotResponding"];

export function RunsPage({ experimentId }: { experimentId: string }) {
  const experiment = useLoad(() => api.experiment(experimentId), [experimentId]);
  const { runs, last, error } = useRuns(experimentId);
  const [filter, setFilter] = useState("");
  const [status, setStatus] = useState("");
  const [sort, setSort] = useState<SortKey>({ column: "number", desc: true });
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [columns, setColumns] = useStored<Columns>(`runhistory.columns.${experimentId}`, DEFAULT_COLUMNS);

  const metricNames = useMemo(() => {
    const names = new Set<string>();
    for (const values of Object.values(last)) for (const name of Object.keys(values)) names.add(name);
    return [...names].sort();
  }, [last]);
  const shownMetrics = columns.metrics.length || !metricNames.length ? columns.metrics : metricNames.slice(0, 4);
  const shownColumns = { ...columns, metrics: shownMetrics.filter((m) => metricNames.includes(m)) };

  const [rows, matched] = useMemo(() => {
    if (!runs) return [[], 0];
    const text = `${filter} ${status ? `status:${status}` : ""}`.trim();
    const test = parseFilter(text);
    const matching = text ? runs.filter((run) => test(run, last)) : runs;
    return [buildRows(matching, last, sort, expanded, text !== ""), matching.length];
  }, [runs, last, filter, status, sort, expanded]);

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
          type="search" class="wide" value={filter} aria-label="filter runs"
          placeholder="Filter: text, status:Running, tag:key=value, prop:key=value, accuracy>0.9"
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
        <label>status{" "}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} aria-label="status filter">
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <ColumnChooser columns={columns} shown={shownColumns.metrics} metricNames={metricNames} onChange={setColumns} />
        <a class={`button${selected.size < 1 ? " disabled" : ""}`} aria-disabled={selected.size < 1} href={selected.size ? href.compare(experimentId, [...selected]) : undefined} id="compare">
          Compare {selected.size ? `(${selected.size})` : ""}
        </a>
        <span class="muted small" id="run-count">{runs ? `${matched} of ${runs.length} runs` : ""}</span>
      </div>
      {(error || experiment.error) && <ErrorNote error={(error ?? experiment.error)!} />}
      {!runs && !error ? <Loading what="runs" /> : (
        <RunsTable
          rows={rows} columns={shownColumns} last={last} sort={sort} onSort={setSort}
          selected={selected} onSelect={(id, on) => setSelected(toggle(selected, id, on))}
          onToggle={(id) => setExpanded(toggle(expanded, id, !expanded.has(id)))}
        />
      )}
    </div>
  );
}

function ColumnChooser({ columns, shown, metricNames, onChange }: { columns: Columns; shown: string[]; metricNames: string[]; onChange: (c: Columns) => void }) {
  const flag = (key: "duration" | "start" | "tags" | "properties", label: string) => (
    <label key={key}><input type="checkbox" checked={columns[key]} onChange={(e) => onChange({ ...columns, [key]: e.currentTarget.checked })} /> {label}</label>
  );
  const metric = (name: string, on: boolean) => {
    const current = new Set(shown);
    if (on) current.add(name);
    else current.delete(name);
    onChange({ ...columns, metrics: metricNames.filter((m) => current.has(m)) });
  };
  return (
    <details class="chooser">
      <summary>Columns</summary>
      <div class="chooser-menu">
        {flag("duration", "duration")}
        {flag("start", "start time")}
        {flag("tags", "tags")}
        {flag("properties", "properties")}
        {metricNames.length > 0 && <strong class="small">metrics (last value)</strong>}
        {metricNames.map((name) => (
          <label key={name}><input type="checkbox" checked={shown.includes(name)} onChange={(e) => metric(name, e.currentTarget.checked)} /> {name}</label>
        ))}
      </div>
    </details>
  );
}
