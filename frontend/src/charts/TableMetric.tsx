// A row/table metric: a line chart of two chosen numeric columns, and the table itself.
import { useMemo, useState } from "preact/hooks";
import { formatValue } from "../lib/format";
import { Chart } from "./Chart";
import type { Option } from "./echarts";

type Columns = Record<string, unknown[]>;

/** The get_metrics() shape of a row/table metric as columns of equal length. */
export function asColumns(value: unknown): Columns {
  if (!value || typeof value !== "object") return {};
  const entries = Object.entries(value as Record<string, unknown>);
  const several = entries.some(([, v]) => Array.isArray(v));
  return Object.fromEntries(entries.map(([k, v]) => [k, several && Array.isArray(v) ? v : [v]]));
}

export function numericColumns(columns: Columns): string[] {
  return Object.keys(columns).filter((name) => columns[name].some((v) => typeof v === "number"));
}

const PAGE = 100;

export function TableMetric({ name, value }: { name: string; value: unknown }) {
  const columns = useMemo(() => asColumns(value), [value]);
  const numeric = numericColumns(columns);
  const [xColumn, setX] = useState(numeric[0] ?? "");
  const [yColumn, setY] = useState(numeric[1] ?? numeric[0] ?? "");
  const [page, setPage] = useState(0);
  const names = Object.keys(columns);
  const rows = names.length ? columns[names[0]].length : 0;

  const option = useMemo<Option | null>(() => {
    if (!xColumn || !yColumn) return null;
    const xs = columns[xColumn];
    const ys = columns[yColumn];
    const points = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => typeof x === "number" && typeof y === "number");
    return {
      grid: { left: 56, right: 24, top: 36, bottom: 40 },
      legend: { data: [`${name}: ${yColumn}`], top: 4 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", name: xColumn, scale: true },
      yAxis: { type: "value", name: yColumn, scale: true },
      series: [{ name: `${name}: ${yColumn}`, type: "line", data: points, showSymbol: points.length < 60 }],
    };
  }, [columns, xColumn, yColumn, name]);

  const select = (label: string, current: string, set: (v: string) => void) => (
    <label class="small">
      {label}{" "}
      <select value={current} aria-label={`${label} column`} onChange={(e) => set(e.currentTarget.value)}>
        {numeric.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    </label>
  );

  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption>
        <span class="metric-name">{name}</span>
        {numeric.length >= 1 && (
          <span class="controls">
            {select("x", xColumn, setX)} {select("y", yColumn, setY)}
          </span>
        )}
      </figcaption>
      {option && <Chart option={option} label={name} />}
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr>{names.map((c) => <th key={c}>{c}</th>)}</tr>
          </thead>
          <tbody>
            {Array.from({ length: Math.min(PAGE, rows - page * PAGE) }, (_, k) => page * PAGE + k).map((i) => (
              <tr key={i}>{names.map((c) => <td key={c}>{formatValue(columns[c][i])}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows > PAGE && (
        <div class="pager small">
          <button disabled={page === 0} onClick={() => setPage(page - 1)}>previous</button>
          rows {page * PAGE + 1}–{Math.min(rows, (page + 1) * PAGE)} of {rows}
          <button disabled={(page + 1) * PAGE >= rows} onClick={() => setPage(page + 1)}>next</button>
        </div>
      )}
    </figure>
  );
}
