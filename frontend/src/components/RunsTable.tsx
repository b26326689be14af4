// The runs table: virtualised rows (only the visible ones are in the DOM), sortable headers.
//
// Rows have one height, measured from a drawn row (not assumed), so the spacers above and
// below the drawn rows always add up to the real height of the rows they stand for.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Run } from "../api";
import { runColor } from "../lib/colors";
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
  /** Properties shown as columns of their own (sortable: ``prop:<key>``). */
  propKeys?: string[];
  /** Tags shown as columns of their own (sortable: ``tag:<key>``). */
  tagKeys?: string[];
  /** Metrics shown by their smallest / largest value (``min:<name>``, ``max:<name>``). */
  minMetrics?: string[];
  maxMetrics?: string[];
  /** Columns (``prop:<k>``, ``tag:<k>``, ``metric:<n>``, ``min:<n>``, ``max:<n>``) pinned
   *  after the run's name: they stay in view when the table scrolls sideways. */
  pinned?: string[];
}

/** A property, tag or metric column: its id (``prop:lr`` …), group, header and cell. */
interface Extra {
  id: string;
  group: "Properties" | "Tags" | "Metrics";
  label: string;
  title: string;
  kind: "prop" | "tag" | "metric" | "min" | "max";
  key: string;
}

/** The property, tag and metric columns of ``columns``: pinned ones first (in pin order). */
export function extraColumns(columns: Columns): { pinned: Extra[]; rest: Extra[] } {
  const all: Extra[] = [
    ...(columns.propKeys ?? []).map((key): Extra => ({ id: `prop:${key}`, group: "Properties", label: key, title: `property ${key}`, kind: "prop", key })),
    ...(columns.tagKeys ?? []).map((key): Extra => ({ id: `tag:${key}`, group: "Tags", label: `tag ${key}`, title: `tag ${key}`, kind: "tag", key })),
    ...columns.metrics.map((key): Extra => ({ id: `metric:${key}`, group: "Metrics", label: key, title: `last value of ${key}`, kind: "metric", key })),
    ...(columns.minMetrics ?? []).map((key): Extra => ({ id: `min:${key}`, group: "Metrics", label: `${key} (min)`, title: `smallest value of ${key}`, kind: "min", key })),
    ...(columns.maxMetrics ?? []).map((key): Extra => ({ id: `max:${key}`, group: "Metrics", label: `${key} (max)`, title: `largest value of ${key}`, kind: "max", key })),
  ];
  const pins = columns.pinned ?? [];
  const pinned = pins.map((id) => all.find((extra) => extra.id === id)).filter((e): e is Extra => e !== undefined);
  return { pinned, rest: all.filter((extra) => !pins.includes(extra.id)) };
}

function extraCell(extra: Extra, run: Run, values: Record<string, unknown>, style?: Record<string, string>, pinned = false) {
  const cls = `${extra.kind === "prop" || extra.kind === "tag" ? "clip" : "num"}${pinned ? " pinned" : ""}`;
  const key = extra.id;
  switch (extra.kind) {
    case "prop": return <td key={key} class={cls} style={style} data-prop={extra.key}>{run.properties[extra.key] ?? ""}</td>;
    case "tag": return <td key={key} class={cls} style={style} data-tag={extra.key}>{extra.key in run.tags ? (run.tags[extra.key] ?? "✓") : ""}</td>;
    case "metric": return <td key={key} class={cls} style={style} data-metric={extra.key}>{formatValue(values[extra.key])}</td>;
    default: return <td key={key} class={cls} style={style} {...{ [`data-${extra.kind}`]: extra.key }}>{formatValue(values[key])}</td>;
  }
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
  /** Where to scroll to once the rows are there (pixels). */
  initialTop?: number;
  /** Called (debounced) with the scroll position after the user scrolls. */
  onScrolled?: (top: number) => void;
  /** Rows after ``rows`` that are not loaded yet (drawn as placeholders of one row height). */
  placeholders?: number;
  /** Called with the range of row indexes on screen (to load the rows it needs). */
  onRange?: (first: number, last: number) => void;
  /** Names the listing shown (filters and order): when it changes, the table scrolls to the top. */
  listingKey?: string;
  /** Pin or unpin a property, tag or metric column (no pin buttons without it). */
  onPin?: (column: string, pinned: boolean) => void;
}

const studioHref = (run: Run) => href.run(run.experiment_id, run.run_id);

const DEFAULT_ROW_HEIGHT = 36;
const OVERSCAN = 12;

export function RunsTable(props: Props) {
  const { rows, columns, sort, onSort, initialTop, onScrolled, placeholders = 0, onRange } = props;
  const count = rows.length + placeholders;
  const scroller = useRef<HTMLDivElement>(null);
  const body = useRef<HTMLTableSectionElement>(null);
  const [rowHeight, setRowHeight] = useState(DEFAULT_ROW_HEIGHT);
  const [view, setView] = useState({ top: 0, height: 640 });
  const scrolledRef = useRef(onScrolled);
  scrolledRef.current = onScrolled;
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => setView({ top: element.scrollTop, height: element.clientHeight });
    const scrolled = () => {
      update();
      clearTimeout(timer);
      timer = setTimeout(() => scrolledRef.current?.(element.scrollTop), 200);
    };
    update();
    element.addEventListener("scroll", scrolled, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => {
      clearTimeout(timer);
      element.removeEventListener("scroll", scrolled);
      observer.disconnect();
    };
  }, []);

  // The real height of a row (the same for every row: cells never wrap).
  useLayoutEffect(() => {
    const drawn = body.current?.querySelector("tr[data-run]");
    if (!drawn) return;
    const height = drawn.getBoundingClientRect().height;
    if (height > 0 && Math.abs(height - rowHeight) > 0.5) setRowHeight(height);
  });

  const restored = useRef(false);
  useLayoutEffect(() => {
    const element = scroller.current;
    if (restored.current || !element || !rows.length || element.scrollHeight < (initialTop ?? 0)) return;
    restored.current = true;
    if (initialTop) {
      element.scrollTop = initialTop;
      setView({ top: element.scrollTop, height: element.clientHeight });
    }
  }, [rows.length, placeholders]);

  const shownKey = useRef(props.listingKey);
  useEffect(() => {
    if (shownKey.current === props.listingKey) return;
    shownKey.current = props.listingKey;
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [props.listingKey]);

  const marked = useRef(false);
  useEffect(() => {
    if (marked.current || !rows.length) return;
    marked.current = true;
    requestAnimationFrame(() => performance.mark("runhistory:runs-table"));
  }, [rows.length]);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last_ = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  useEffect(() => {
    onRange?.(first, last_);
  }, [first, last_, onRange]);
  const extras = extraColumns(columns);
  const plain = 5 + Number(columns.duration) + Number(columns.start) + Number(columns.tags) + Number(columns.properties);
  const width = plain + extras.pinned.length + extras.rest.length;
  // Pinned columns (select, status, #, name, then the pinned extras) stick to the left.
  const [lefts, setLefts] = useState<number[]>([]);
  const headRow = useRef<HTMLTableRowElement>(null);
  useLayoutEffect(() => {
    const cells = [...(headRow.current?.querySelectorAll("th.pinned") ?? [])] as HTMLElement[];
    // Pinned cells are the first ones: each starts where the widths before it end (not at its
    // offsetLeft, which a sticky cell shifts while the table is scrolled sideways).
    const found: number[] = [];
    let edge = 0;
    for (const cell of cells) {
      found.push(Math.round(edge));
      edge += cell.getBoundingClientRect().width;
    }
    if (found.join() !== lefts.join()) setLefts(found);
    // What scrolls into view sideways must not end up under the pinned columns.
    if (scroller.current) scroller.current.style.scrollPaddingLeft = `${edge}px`;
  });
  const stick = (index: number) => (lefts[index] !== undefined ? { left: `${lefts[index]}px` } : undefined);
  // Header groups over the property, tag and metric columns.
  const groups: { label: string; span: number }[] = [{ label: "", span: 4 + extras.pinned.length + plain - 4 }];
  for (const extra of extras.rest) {
    const lastGroup = groups[groups.length - 1];
    if (groups.length > 1 && lastGroup.label === extra.group) lastGroup.span++;
    else groups.push({ label: extra.group, span: 1 });
  }

  // Keyboard: arrows, Page Up/Down, Home/End move the active row; Enter opens its run, Space
  // selects it, Right/Left open and close its children.
  const [active, setActive] = useState(-1);
  const head = () => scroller.current?.querySelector("thead")?.getBoundingClientRect().height ?? 0;
  const reveal = (index: number) => {
    const element = scroller.current;
    if (!element) return;
    const top = index * rowHeight;
    const room = element.clientHeight - head();
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + rowHeight > element.scrollTop + room) element.scrollTop = top + rowHeight - room;
  };
  const onKey = (event: KeyboardEvent) => {
    if (!count || (event.target as HTMLElement).tagName !== "TABLE") return;
    const screen = Math.max(1, Math.floor((view.height - head()) / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: active + 1, ArrowUp: active - 1, PageDown: active + screen, PageUp: active - screen,
      Home: 0, End: count - 1,
    };
    const row = rows[active];
    if (event.key in moves) {
      const next = Math.max(0, Math.min(count - 1, moves[event.key]));
      setActive(next);
      reveal(next);
    } else if (event.key === "Enter" && row) {
      const link = (props.runHref ?? studioHref)(row.run);
      if (link && props.linkTarget) window.open(link, props.linkTarget);
      else if (link) location.href = link;
    } else if (event.key === " " && row) {
      props.onSelect(row.run.run_id, !props.selected.has(row.run.run_id));
    } else if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && row && row.children > 0) {
      if (row.expanded !== (event.key === "ArrowRight")) props.onToggle(row.run.run_id);
    } else return;
    event.preventDefault();
  };

  const header = (column: string, label: string, title?: string, pin?: { index: number; on: boolean }) => (
    <th
      key={column} aria-sort={sort.column === column ? (sort.desc ? "descending" : "ascending") : "none"} title={title} data-column={column}
      class={pin?.on ? "pinned" : undefined} style={pin?.on ? stick(pin.index) : undefined}
    >
      <button class="sort" onClick={() => onSort({ column, desc: sort.column === column ? !sort.desc : true })}>
        {label} {sort.column === column ? (sort.desc ? "▼" : "▲") : ""}
      </button>
      {pin && props.onPin && column.includes(":") && (
        <button class="pin" aria-pressed={pin.on} aria-label={`${pin.on ? "unpin" : "pin"} ${label}`} title={pin.on ? "unpin" : "pin to the left"} onClick={() => props.onPin!(column, !pin.on)}>
          {pin.on ? "◆" : "◇"}
        </button>
      )}
    </th>
  );

  return (
    <>
      <div class="runs-scroll" ref={scroller} tabIndex={-1}>
        <table
          class="data runs" id="runs" role="grid" aria-label="runs" aria-rowcount={count} tabIndex={0} onKeyDown={onKey}
          aria-activedescendant={active >= 0 && active < count ? `runs-row-${active}` : undefined}
        >
          <thead class={groups.length > 1 ? "grouped" : undefined}>
            {groups.length > 1 && (
              <tr class="groups">
                {groups.map((group, i) => <th key={i} colSpan={group.span} scope="colgroup" data-group={group.label || undefined}>{group.label}</th>)}
              </tr>
            )}
            <tr class="columns" ref={headRow}>
              <th class="pinned" style={stick(0)}><span class="sr-only">select</span></th>
              {header("status", "Status", undefined, { index: 1, on: true })}
              {header("number", "#", undefined, { index: 2, on: true })}
              {header("name", "Name", undefined, { index: 3, on: true })}
              {extras.pinned.map((extra, i) => header(extra.id, extra.label, extra.title, { index: 4 + i, on: true }))}
              <th>Type</th>
              {columns.duration && header("duration", "Duration")}
              {columns.start && header("start", "Started")}
              {columns.tags && <th>Tags</th>}
              {columns.properties && <th>Properties</th>}
              {extras.rest.map((extra) => header(extra.id, extra.label, extra.title, { index: -1, on: false }))}
            </tr>
          </thead>
          <tbody ref={body}>
            {first > 0 && <tr class="spacer" style={{ height: `${first * rowHeight}px` }}><td colSpan={width} /></tr>}
            {rows.slice(first, last_).map((row, i) => (
              <RunRow key={row.run.run_id} row={row} index={first + i} active={first + i === active} extras={extras} stick={stick} {...props} />
            ))}
            {Array.from({ length: Math.max(0, last_ - Math.max(first, rows.length)) }, (_, i) => {
              const index = Math.max(first, rows.length) + i;
              return <tr key={`loading-${index}`} id={`runs-row-${index}`} class={`placeholder${index === active ? " active" : ""}`} data-index={index} style={{ height: `${rowHeight}px` }}><td colSpan={width} class="muted small">loading…</td></tr>;
            })}
            {last_ < count && <tr class="spacer" style={{ height: `${(count - last_) * rowHeight}px` }}><td colSpan={width} /></tr>}
          </tbody>
        </table>
        {!count && <p class="muted">No runs match.</p>}
      </div>
      <span class="sr-only" aria-live="polite">{count} runs</span>
    </>
  );
}

interface RowProps {
  row: Row;
  index: number;
  active: boolean;
  extras: { pinned: Extra[]; rest: Extra[] };
  stick: (index: number) => Record<string, string> | undefined;
}

function RunRow({ row, index, active, extras, stick, columns, last, selected, onSelect, onToggle, runHref = studioHref, linkTarget }: Props & RowProps) {
  const { run } = row;
  const link = runHref(run);
  const values = last[run.run_id] ?? {};
  const color = runColor(run);
  return (
    <tr data-run={run.run_id} data-number={run.number} data-index={index} aria-rowindex={index + 2} id={`runs-row-${index}`} class={active ? "active" : undefined} aria-selected={active}>
      <td class="pinned" style={stick(0)}>
        <input type="checkbox" aria-label={`select run ${run.number}`} checked={selected.has(run.run_id)} onChange={(e) => onSelect(run.run_id, e.currentTarget.checked)} />
      </td>
      <td class="pinned" style={stick(1)}><StatusBadge status={run.status} /></td>
      <td class="num pinned" style={stick(2)}>{run.number}</td>
      <td class="name pinned" style={{ ...stick(3), paddingLeft: `${8 + row.depth * 18}px` }}>
        {row.children > 0 ? (
          <button class="toggle" aria-expanded={row.expanded} aria-label={`${row.expanded ? "collapse" : "expand"} ${row.children} child runs`} onClick={() => onToggle(run.run_id)}>
            {row.expanded ? "▾" : "▸"}
          </button>
        ) : <span class="toggle-space" />}
        <span class="swatch" style={{ background: color }} data-color={color} aria-hidden="true" />
        {link ? <a href={link} target={linkTarget}>{run.display_name || run.run_id}</a> : <span>{run.display_name || run.run_id}</span>}
        {row.children > 0 && <span class="muted small"> ({row.children})</span>}
      </td>
      {extras.pinned.map((extra, i) => extraCell(extra, run, values, stick(4 + i), true))}
      <td class="small muted">{run.run_type}</td>
      {columns.duration && <td>{formatDuration(durationSeconds(run.start_time, run.end_time))}</td>}
      {columns.start && <td>{formatTime(run.start_time ?? run.created_time)}</td>}
      {columns.tags && <td class="clip"><Chips values={run.tags} /></td>}
      {columns.properties && <td class="clip"><Chips values={run.properties} /></td>}
      {extras.rest.map((extra) => extraCell(extra, run, values))}
    </tr>
  );
}
