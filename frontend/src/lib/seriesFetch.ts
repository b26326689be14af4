// Fetching chart series for a step or a time x axis within the point budget.
//
// Step axes use the server's downsampled series. Time axes ask the server for ``x: "time"``
// series; a server whose schema does not offer them gets a per-metric fallback: metrics that
// fit in the budget are read in full from their history (which carries times), bigger ones
// are drawn against steps and say so.
import { api, type MetricInfo, type Series } from "../api";
import type { DetailRequest } from "../charts/SeriesChart";

export interface ChartSeries extends Series {
  /** The series is drawn against steps although a time axis was asked for. */
  stepFallback?: boolean;
}

export async function fetchSeries(
  runIds: string[],
  infos: MetricInfo[],
  maxPoints: number,
  time: boolean,
): Promise<ChartSeries[]> {
  const names = [...new Set(infos.map((info) => info.name))];
  if (!time) return api.series({ run_ids: runIds, names, max_points: maxPoints });
  if (await api.offersTimeSeries()) {
    return api.series({ run_ids: runIds, names, max_points: maxPoints, x: "time" });
  }
  const small = infos.filter((info) => info.count <= maxPoints && runIds.includes(info.run_id));
  const big = infos.filter((info) => info.count > maxPoints && runIds.includes(info.run_id));
  const full = await Promise.all(small.map((info) => historySeries(info)));
  const stepped = big.length
    ? await api.series({ run_ids: [...new Set(big.map((i) => i.run_id))], names: [...new Set(big.map((i) => i.name))], max_points: maxPoints })
    : [];
  const wanted = new Set(big.map((info) => `${info.run_id}\n${info.name}`));
  return [
    ...full,
    ...stepped.filter((s) => wanted.has(`${s.run_id}\n${s.name}`)).map((s) => ({ ...s, stepFallback: true })),
  ];
}

async function historySeries(info: MetricInfo): Promise<ChartSeries> {
  const history = await api.history(info.run_id, info.name);
  const x: number[] = [];
  const y: (number | null)[] = [];
  history.values.forEach((value, i) => {
    if (typeof value === "number") {
      x.push(history.times[i]);
      y.push(value);
    }
  });
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  return {
    run_id: info.run_id, name: info.name, kind: info.kind, count: info.count, downsampled: false,
    x: order.map((i) => x[i]), y: order.map((i) => y[i]), min: [], max: [],
  };
}

/** A zoomed chart's steps in full resolution (within the point budget), from the server. */
export function serverDetail({ runIds, name, maxPoints, range }: DetailRequest): Promise<Series[]> {
  return api.series({
    run_ids: runIds,
    names: [name],
    max_points: maxPoints,
    min_step: Math.floor(range.start),
    max_step: Math.ceil(range.end),
  });
}
