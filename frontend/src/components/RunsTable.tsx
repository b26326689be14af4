// The runs table: virtualised rows (only the visible ones are in the DOM), sortable headers.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Run } from "../api";
import { durationSeconds, formatDuration, formatTime, formatValue } from "../lib/format";
import type { LastValues, SortKey } from "../lib/runFilter";
import { href } from "../router";
import { Chips, StatusBadge } from "./common";

export interface Row {
  run: Run;
  depth: number;
  children: number;
  expanded: boolean;
}

export interface Columns {
  duration: boolean;
  start: boolean;
  tags: boolean;
  properties: boolean;
  metrics: string[];
}

interface Props {
  rows: Row[];
  columns: Columns;
  last: LastValues;
  sort: SortKey;
  onSort: (key: SortKey) => void;
  selected: Set<string>;
  onSelect: (runId: string, on: boolean) => void;
  onToggle: (runId: string) => void;
  /** The link of a run's name (default: its page in the studio; none when undefined). */
  runHref?: (run: Run) => string | undefined;
  /** Where those links open (``_blank`` where leaving the page would lose it). */
  linkTarget?: string;
}

const studioHref = (run: Run) => href.run(run.experiment_id, run.run_id);

const ROW_HEIGHT = 36;
const OVERSCAN = 12;

export function RunsTable(props: Props) {
  const { rows, columns, sort, onSort } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 640 });
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const update = () => setView({ top: element.scrollTop, height: element.clientHeight });
    update();
    element.addEventListener("scroll", update, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => {
      element.removeEventListener("scroll", update);
      observer.disconnect();
    };
  }, []);

  const marked = useRef(false);
  useEffect(() => {
    if (marked.current || !rows.length) return;
    marked.current = true;
    requestAnimationFrame(() => performance.mark("runhistory:runs-table"));
  }, [rows.length]);

  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last_ = Math.min(rows.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  const width = 5 + Number(columns.duration) + Number(columns.start) + Number(columns.tags) + Number(columns.properties) + columns.metrics.length;

  const header = (column: string, label: string, title?: string) => (
    <th aria-sort={sort.column === column ? (sort.desc ? "descending" : "ascending") : "none"} title={title}>
      <button class="sort" onClick={() => onSort({ column, desc: sort.column === column ? !sort.desc : true })}>
        {label} {sort.column === column ? (sort.desc ? "▼" : "▲") : ""}
      </button>
    </th>
  );

  return (
    <div class="runs-scroll" ref={scroller} tabIndex={-1}>
      <table class="data runs" id="runs" aria-rowcount={rows.length}>
        <thead>
          <tr>
            <th><span class="sr-only">select</span></th>
            {header("status", "Status")}
            {header("number", "#")}
            {header("name", "Name")}
            <th>Type</th>
            {columns.duration && header("duration", "Duration")}
            {columns.start && header("start", "Started")}
            {columns.tags && <th>Tags</th>}
            {columns.properties && <th>Properties</th>}
            {columns.metrics.map((name) => header(`metric:${name}`, name, `last value of ${name}`))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && <tr class="spacer" style={{ height: `${first * ROW_HEIGHT}px` }}><td colSpan={width} /></tr>}
          {rows.slice(first, last_).map((row) => (
            <RunRow key={row.run.run_id} row={row} {...props} />
          ))}
          {last_ < rows.length && <tr class="spacer" style={{ height: `${(rows.length - last_) * ROW_HEIGHT}px` }}><td colSpan={width} /></tr>}
        </tbody>
      </table>
      {!rows.length && <p class="muted">No runs match.</p>}
      <span class="sr-only">{rows.length} runs</span>
    </div>
  );
}

function RunRow({ row, columns, last, selected, onSelect, onToggle, runHref = studioHref, linkTarget }: Props & { row: Row }) {
  const { run } = row;
  const link = runHref(run);
  const values = last[run.run_id] ?? {};
  return (
    <tr data-run={run.run_id} data-number={run.number} style={{ height: `${ROW_HEIGHT}px` }}>
      <td>
        <input type="checkbox" aria-label={`select run ${run.number}`} checked={selected.has(run.run_id)} onChange={(e) => onSelect(run.run_id, e.currentTarget.checked)} />
      </td>
      <td><StatusBadge status={run.status} /></td>
      <td class="num">{run.number}</td>
      <td class="name" style={{ paddingLeft: `${8 + row.depth * 18}px` }}>
        {row.children > 0 ? (
          <button class="toggle" aria-expanded={row.expanded} aria-label={`${row.expanded ? "collapse" : "expand"} ${row.children} child runs`} onClick={() => onToggle(run.run_id)}>
            {row.expanded ? "▾" : "▸"}
          </button>
        ) : <span class="toggle-space" />}
        {link ? <a href={link} target={linkTarget}>{run.display_name || run.run_id}</a> : <span>{run.display_name || run.run_id}</span>}
        {row.children > 0 && <span class="muted small"> ({row.children})</span>}
      </td>
      <td class="small muted">{run.run_type}</td>
      {columns.duration && <td>{formatDuration(durationSeconds(run.start_time, run.end_time))}</td>}
      {columns.start && <td>{formatTime(run.start_time ?? run.created_time)}</td>}
      {columns.tags && <td class="clip"><Chips values={run.tags} /></td>}
      {columns.properties && <td class="clip"><Chips values={run.properties} /></td>}
      {columns.metrics.map((name) => <td key={name} class="num" data-metric={name}>{formatValue(values[name])}</td>)}
    </tr>
  );
}
