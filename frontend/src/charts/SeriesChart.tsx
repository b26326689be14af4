// A metric's line chart over one or more runs; zooming refetches the visible steps in full.
import { useMemo, useState } from "preact/hooks";
import type { Series } from "../api";
import type { ChartSeries } from "../lib/seriesFetch";
import { Chart, type ZoomRange } from "./Chart";
import { type Line, type LineSettings, lineOption } from "./lineOption";

/** Where a zoomed chart gets the points of [range.start, range.end] (steps) in full. */
export interface DetailRequest {
  runIds: string[];
  name: string;
  maxPoints: number;
  range: ZoomRange;
}
export type DetailFetcher = (request: DetailRequest) => Promise<Series[]>;

interface Props {
  name: string;
  lines: Line[];
  settings: LineSettings;
  maxPoints: number;
  /** Without it, zooming only magnifies the overview. */
  detail?: DetailFetcher;
}

/** Splice full-resolution points of [start, end] into the overview series. */
export function splice(overview: Series, detail: Series | undefined, range: ZoomRange): Series {
  if (!detail) return overview;
  const pick = (from: Series, keep: (x: number) => boolean) => {
    const index = from.x.flatMap((x, i) => (keep(x) ? [i] : []));
    return {
      x: index.map((i) => from.x[i]),
      y: index.map((i) => from.y[i]),
      min: index.map((i) => from.min?.[i] ?? from.y[i]),
      max: index.map((i) => from.max?.[i] ?? from.y[i]),
    };
  };
  const before = pick(overview, (x) => x < range.start);
  const inside = pick(detail, (x) => x >= range.start && x <= range.end);
  const after = pick(overview, (x) => x > range.end);
  const parts = [before, inside, after];
  return {
    ...overview,
    downsampled: overview.downsampled || detail.downsampled,
    x: parts.flatMap((p) => p.x),
    y: parts.flatMap((p) => p.y),
    min: parts.flatMap((p) => p.min),
    max: parts.flatMap((p) => p.max),
  };
}

export function SeriesChart({ name, lines, settings, maxPoints, detail: fetchDetail }: Props) {
  const [zoom, setZoom] = useState<ZoomRange | null>(null);
  const [detail, setDetail] = useState<Map<string, Series>>(new Map());
  const fallback = lines.some((line) => (line.series as ChartSeries).stepFallback);
  const shownSettings = fallback ? { ...settings, xMode: "step" as const } : settings;

  const onZoom = (range: ZoomRange | null) => {
    setZoom(range);
    if (!range || shownSettings.xMode !== "step" || !fetchDetail) {
      setDetail(new Map());
      return;
    }
    const runIds = lines.map((line) => line.series.run_id);
    fetchDetail({ runIds, name, maxPoints, range })
      .then((found) => setDetail(new Map(found.map((s) => [s.run_id, s]))))
      .catch(() => setDetail(new Map()));
  };

  const option = useMemo(() => {
    const shown = lines.map((line) => ({
      ...line,
      series: zoom && shownSettings.xMode === "step" ? splice(line.series, detail.get(line.series.run_id), zoom) : line.series,
    }));
    const built = lineOption(shown, shownSettings) as { dataZoom: Record<string, unknown>[] };
    if (zoom) built.dataZoom = built.dataZoom.map((d) => ({ ...d, startValue: zoom.start, endValue: zoom.end }));
    return built;
  }, [lines, settings, zoom, detail, fallback]);

  const total = lines.reduce((sum, line) => sum + line.series.count, 0);
  const sampled = lines.some((line) => line.series.downsampled) && !(zoom && detail.size && [...detail.values()].every((s) => !s.downsampled));
  return (
    <figure class="card chart-card" data-metric={name} data-colors={JSON.stringify(Object.fromEntries(lines.map((line) => [line.series.run_id, line.color ?? null])))}>
      <figcaption>
        <span class="metric-name">{name}</span>
        <span class="muted small">
          {total.toLocaleString()} points{sampled ? " · min/max per bucket" : ""}
          {zoom ? " · zoomed" : ""}
          {fallback ? " · x: step (too many points for a time axis)" : ""}
        </span>
      </figcaption>
      <Chart option={option} label={name} onZoom={onZoom} />
    </figure>
  );
}
