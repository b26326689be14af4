// Parallel coordinates of runs: their properties (hyper-parameters), then final metric values.
import { useMemo } from "preact/hooks";
import type { Run } from "../api";
import { runLabel } from "../lib/format";
import { Chart } from "./Chart";
import type { Option } from "./echarts";

interface Props {
  runs: Run[];
  /** The last value of each metric of each run: ``{run_id: {name: value}}``. */
  last: Record<string, Record<string, unknown>>;
  /** Which properties are axes (default: all of them). */
  keepProperty?: (key: string) => boolean;
  /** Which metrics are axes (default: every numeric one). */
  metrics?: string[];
  /** Colour the lines by this metric (one line per run, a colour scale instead of a legend). */
  colorBy?: string;
}

interface Column {
  key: string;
  get: (run: Run) => unknown;
}

function columnsOf(runs: Run[], last: Props["last"], keep: (key: string) => boolean, metrics?: string[]): Column[] {
  const props = [...new Set(runs.flatMap((r) => Object.keys(r.properties)))].filter(keep).sort();
  const numeric = [...new Set(runs.flatMap((r) => Object.entries(last[r.run_id] ?? {}).filter(([, v]) => typeof v === "number").map(([k]) => k)))].sort();
  const chosen = metrics ? metrics.filter((m) => numeric.includes(m)) : numeric;
  return [
    ...props.map((p) => ({ key: p, get: (r: Run) => r.properties[p] ?? null })),
    ...chosen.map((m) => ({ key: m, get: (r: Run) => (last[r.run_id]?.[m] ?? null) as unknown })),
  ];
}

function axisOf(runs: Run[], column: Column, dim: number): Record<string, unknown> {
  const values = runs.map(column.get).filter((v) => v !== null);
  const numeric = values.every((v) => typeof v === "number" || (typeof v === "string" && v !== "" && Number.isFinite(Number(v))));
  return numeric ? { dim, name: column.key, type: "value", scale: true } : { dim, name: column.key, type: "category", data: [...new Set(values.map(String))] };
}

const keepAll = () => true;

export function Parallel({ runs, last, keepProperty = keepAll, metrics, colorBy }: Props) {
  const option = useMemo<Option>(() => {
    const columns = columnsOf(runs, last, keepProperty, metrics);
    const parallelAxis = columns.map((column, dim) => axisOf(runs, column, dim));
    const row = (run: Run) => columns.map((column, i) => {
      const v = column.get(run);
      return v === null ? null : parallelAxis[i].type === "value" ? Number(v) : String(v);
    });
    const base = { tooltip: {}, parallel: { left: 60, right: 80, top: 60, bottom: 30 }, parallelAxis };
    const colorDim = colorBy ? columns.findIndex((c) => c.key === colorBy) : -1;
    const values = runs.map((r) => (colorBy ? last[r.run_id]?.[colorBy] : null)).filter((v): v is number => typeof v === "number");
    if (colorDim >= 0 && values.length) {
      return {
        ...base,
        parallel: { ...base.parallel, top: 40, bottom: 56 },
        visualMap: { type: "continuous", dimension: colorDim, min: Math.min(...values), max: Math.max(...values), precision: 3, calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 140 },
        series: [{ name: colorBy, type: "parallel", lineStyle: { width: 2, opacity: 0.8 }, data: runs.map(row) }],
      };
    }
    return {
      ...base,
      legend: { type: "scroll", top: 0, data: runs.map(runLabel) },
      series: runs.map((run) => ({ name: runLabel(run), type: "parallel", lineStyle: { width: 2 }, data: [row(run)] })),
    };
  }, [runs, last, keepProperty, metrics, colorBy]);
  const dims = (option.parallelAxis as unknown[]).length;
  if (dims === 0) return <p class="muted">No properties or numeric metrics to compare.</p>;
  return <Chart option={option} label="parallel coordinates" height={340} />;
}
