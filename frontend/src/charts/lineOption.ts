// ECharts options for metric line charts: honest min/max envelopes, smoothing, log y.
import type { Series } from "../api";
import { smooth } from "../lib/smoothing";
import type { Option } from "./echarts";

export type XMode = "step" | "time" | "relative";

export interface Line {
  label: string;
  series: Series;
  /** Seconds subtracted from x in relative-time mode (the run's start). */
  origin?: number;
  /** The line's colour (a run's colour is the same in every chart: lib/colors). */
  color?: string;
}

export interface LineSettings {
  xMode: XMode;
  logY: boolean;
  smoothing: number;
}

type Point = [number, number | null];

/** The points to draw: each downsampled bucket contributes its min and its max, so spikes show. */
export function envelope(series: Series, origin = 0, scaleX = 1): Point[] {
  const points: Point[] = [];
  const { x, y, min, max } = series;
  for (let i = 0; i < x.length; i++) {
    const at = (x[i] - origin) * scaleX;
    const low = min?.[i];
    const high = max?.[i];
    if (series.downsampled && low !== null && high !== null && low !== undefined && high !== undefined && low !== high) {
      const first = i > 0 && (y[i - 1] ?? 0) > (y[i] ?? 0) ? high : low;
      points.push([at, first], [at, first === low ? high : low]);
    } else {
      points.push([at, y[i]]);
    }
  }
  return points;
}

function positiveOnly(points: Point[]): Point[] {
  return points.map(([x, y]) => [x, y !== null && y > 0 ? y : null]);
}

function xAxis(mode: XMode): Record<string, unknown> {
  if (mode === "time") return { type: "time", name: "time" };
  return { type: "value", name: mode === "step" ? "step" : "seconds", min: "dataMin", max: "dataMax", nameLocation: "end" };
}

/** Most lines a chart names in a legend. */
export const MAX_LEGEND = 20;

export function lineOption(lines: Line[], settings: LineSettings): Option {
  const scaleX = settings.xMode === "time" ? 1000 : 1;
  const series: Record<string, unknown>[] = [];
  for (const line of lines) {
    const origin = settings.xMode === "relative" ? (line.origin ?? line.series.x[0] ?? 0) : 0;
    let points = envelope(line.series, origin, scaleX);
    if (settings.logY) points = positiveOnly(points);
    const colored = line.color ? { color: line.color, itemStyle: { color: line.color } } : {};
    const common = { type: "line", showSymbol: points.length < 60, sampling: undefined, connectNulls: false, ...colored };
    const stroke = (style: Record<string, number>) => (line.color ? { ...style, color: line.color } : style);
    if (settings.smoothing > 0) {
      const smoothed = smooth(points.map((p) => p[1]), settings.smoothing);
      series.push({ ...common, name: line.label, data: points.map((p, i) => [p[0], smoothed[i]]), lineStyle: stroke({ width: 2 }) });
      series.push({ ...common, name: line.label, data: points, lineStyle: stroke({ width: 1, opacity: 0.25 }), silent: true, tooltip: { show: false } });
    } else {
      series.push({ ...common, name: line.label, data: points, lineStyle: stroke({ width: 1.5 }) });
    }
  }
  return {
    grid: { left: 56, right: 24, top: 36, bottom: 56 },
    // Many lines: no legend (each run's colour is its swatch in the table and the run list).
    legend: { show: lines.length <= MAX_LEGEND, type: "scroll", top: 4, data: lines.length <= MAX_LEGEND ? lines.map((line) => line.label) : [] },
    tooltip: { trigger: "axis", confine: true },
    xAxis: xAxis(settings.xMode),
    yAxis: { type: settings.logY ? "log" : "value", scale: true },
    dataZoom: [
      { type: "inside", xAxisIndex: 0, filterMode: "none" },
      { type: "slider", xAxisIndex: 0, height: 18, bottom: 8, filterMode: "none" },
    ],
    series,
  };
}
